//! `GET /alerts/pending`, `POST /alerts/{id}/acknowledge|dismiss`,
//! `GET`/`PUT /alerts/preferences`: the BudgetAlert items the evaluator raised,
//! and the user's alert settings.

use super::{conflict, MAX_ATTEMPTS};
use crate::store::BudgetStore;
use expenzez_api::error::FieldError;
use expenzez_api::validate::check_clock_time;
use expenzez_api::{ApiError, Ctx, Reply};
use expenzez_domain::entities::{AlertPreferences, AlertType, BudgetAlert, Priority};
use expenzez_domain::ids::AlertId;
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Retry, Versioned};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    pub alert_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub priority: Priority,
    pub title: String,
    pub message: String,
    pub actionable: bool,
    pub metadata: serde_json::Value,
    pub status: &'static str,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

impl From<&BudgetAlert> for AlertView {
    fn from(a: &BudgetAlert) -> Self {
        let status = if !a.is_active {
            "dismissed"
        } else if a.acknowledged_at.is_some() {
            "acknowledged"
        } else {
            "active"
        };
        AlertView {
            alert_id: a.alert_id.to_string(),
            kind: match a.alert_type {
                AlertType::Threshold => "budget_threshold",
                AlertType::Exceeded => "budget_exceeded",
                AlertType::PeriodEnd => "budget_period_end",
                AlertType::Custom if a.transaction_id.is_some() => "large_transaction",
                AlertType::Custom => "custom",
            },
            priority: a.priority,
            title: a.template.title.clone(),
            message: a.template.message.clone(),
            actionable: a.is_active,
            metadata: serde_json::json!({
                "budgetId": a.budget_id,
                "threshold": a.threshold,
                "actionText": a.template.action_text,
                "deepLink": a.template.deep_link,
                "acknowledgedAt": a.acknowledged_at,
                "transactionId": a.transaction_id,
            }),
            status,
            created_at: a.created_at,
            expires_at: a.ttl.and_then(|t| Timestamp::from_millis(t.saturating_mul(1000))),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PendingBody {
    alerts: Vec<AlertView>,
    total_count: usize,
    unacknowledged_count: usize,
}

/// Alerts not dismissed (expired ones are absent), newest first.
pub async fn pending<S: BudgetStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let mut alerts: Vec<BudgetAlert> = store.alerts(user).await?.into_iter().map(|v| v.value).filter(|a| a.is_active).collect();
    alerts.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.threshold.cmp(&a.threshold)));
    let unacknowledged_count = alerts.iter().filter(|a| a.acknowledged_at.is_none()).count();
    Reply::ok(&PendingBody { total_count: alerts.len(), unacknowledged_count, alerts: alerts.iter().map(AlertView::from).collect() })
}

#[derive(Serialize)]
struct AlertBody {
    alert: AlertView,
}

/// A POST's `Idempotency-Key` must be well formed; acknowledging and
/// dismissing are idempotent by themselves (a repeat changes nothing).
fn check_idempotency_key(ctx: &Ctx) -> Result<(), ApiError> {
    ctx.idempotency_key().map(|_| ())
}

async fn change<S: BudgetStore>(store: S, ctx: Ctx, f: fn(&mut BudgetAlert, Timestamp) -> bool) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    check_idempotency_key(&ctx)?;
    let id = ctx.path("id").and_then(|i| AlertId::new(i).ok()).ok_or(ApiError::NotFound)?;
    let mut tries = Retry::new(MAX_ATTEMPTS);
    while tries.next().await {
        let Versioned { mut value, version } = store.alert(user, &id).await?.ok_or(ApiError::NotFound)?;
        let now = store.now();
        if !f(&mut value, now) {
            return Reply::ok(&AlertBody { alert: AlertView::from(&value) });
        }
        value.updated_at = now;
        match store.save_alert(&value, Condition::Version(version)).await {
            Ok(_) => return Reply::ok(&AlertBody { alert: AlertView::from(&value) }),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(conflict())
}

pub async fn acknowledge<S: BudgetStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    change(store, ctx, |a, now| {
        if a.acknowledged_at.is_some() {
            return false;
        }
        a.acknowledged_at = Some(now);
        true
    })
    .await
}

pub async fn dismiss<S: BudgetStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    change(store, ctx, |a, now| {
        if !a.is_active {
            return false;
        }
        a.is_active = false;
        a.acknowledged_at.get_or_insert(now);
        true
    })
    .await
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertPreferencesView {
    pub enable_budget_alerts: bool,
    pub enable_goal_alerts: bool,
    pub enable_subscription_alerts: bool,
    pub enable_spending_anomaly_alerts: bool,
    pub quiet_hours_start: Option<String>,
    pub quiet_hours_end: Option<String>,
    pub max_alerts_per_day: u32,
}

impl From<&AlertPreferences> for AlertPreferencesView {
    fn from(p: &AlertPreferences) -> Self {
        Self {
            enable_budget_alerts: p.enable_budget_alerts,
            enable_goal_alerts: p.enable_goal_alerts,
            enable_subscription_alerts: p.enable_subscription_alerts,
            enable_spending_anomaly_alerts: p.enable_spending_anomaly_alerts,
            quiet_hours_start: p.quiet_hours_start.clone(),
            quiet_hours_end: p.quiet_hours_end.clone(),
            max_alerts_per_day: p.max_alerts_per_day,
        }
    }
}

pub async fn get_preferences<S: BudgetStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let prefs =
        store.alert_preferences(user).await?.map(|v| v.value).unwrap_or_else(|| AlertPreferences::defaults(user.clone(), store.now()));
    Reply::ok(&AlertPreferencesView::from(&prefs))
}

/// Any subset of the preferences; `null` quiet hours clear them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertPreferencesUpdate {
    pub enable_budget_alerts: Option<bool>,
    pub enable_goal_alerts: Option<bool>,
    pub enable_subscription_alerts: Option<bool>,
    pub enable_spending_anomaly_alerts: Option<bool>,
    #[serde(default, with = "serde_with_null")]
    pub quiet_hours_start: Option<Option<String>>,
    #[serde(default, with = "serde_with_null")]
    pub quiet_hours_end: Option<Option<String>>,
    #[serde(default, deserialize_with = "expenzez_api::request::whole")]
    pub max_alerts_per_day: Option<u32>,
}

/// Absent is `None`, `null` is `Some(None)`.
mod serde_with_null {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

impl AlertPreferencesUpdate {
    fn apply(&self, p: &mut AlertPreferences) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        for (field, v) in [("quietHoursStart", &self.quiet_hours_start), ("quietHoursEnd", &self.quiet_hours_end)] {
            if let Some(Some(t)) = v {
                check_clock_time(&mut errors, field, t);
            }
        }
        if let Some(n) = self.max_alerts_per_day {
            if !(1..=100).contains(&n) {
                errors.push(FieldError::new("maxAlertsPerDay", "must be from 1 to 100"));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let set = |slot: &mut bool, v: Option<bool>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut p.enable_budget_alerts, self.enable_budget_alerts);
        set(&mut p.enable_goal_alerts, self.enable_goal_alerts);
        set(&mut p.enable_subscription_alerts, self.enable_subscription_alerts);
        set(&mut p.enable_spending_anomaly_alerts, self.enable_spending_anomaly_alerts);
        if let Some(v) = &self.quiet_hours_start {
            p.quiet_hours_start = v.clone();
        }
        if let Some(v) = &self.quiet_hours_end {
            p.quiet_hours_end = v.clone();
        }
        if let Some(n) = self.max_alerts_per_day {
            p.max_alerts_per_day = n;
        }
        Ok(())
    }
}

pub async fn put_preferences<S: BudgetStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let update: AlertPreferencesUpdate = ctx.json()?;
    let mut tries = Retry::new(MAX_ATTEMPTS);
    while tries.next().await {
        let now = store.now();
        let current = store.alert_preferences(&user).await?;
        let mut prefs = current.as_ref().map(|v| v.value.clone()).unwrap_or_else(|| AlertPreferences::defaults(user.clone(), now));
        update.apply(&mut prefs)?;
        prefs.updated_at = now;
        let cond = current.as_ref().map(|v| Condition::Version(v.version)).unwrap_or(Condition::MustNotExist);
        match store.save_alert_preferences(&prefs, cond).await {
            Ok(_) => return Reply::ok(&AlertPreferencesView::from(&prefs)),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(conflict())
}
