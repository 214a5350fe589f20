//! "An unusually large transaction against the user's own history" (the
//! issue's third alert kind), raised from the table's stream like the budget
//! alerts and, like them, once: the alert id is deterministic per (user,
//! transaction) and written with a create-if-absent condition.
//!
//! The rule, in full. A transaction is unusually large when all of these hold:
//! - it is a debit (money out), not excluded from spending (a transfer), and
//!   dated within [`RECENT_DAYS`] of now (a sync importing months of history
//!   does not alert about old purchases);
//! - the user has a history: their latest debits in the same currency before
//!   it (itself excluded), at most [`HISTORY`] of them, taken from its own
//!   category when that category has at least [`MIN_HISTORY`] of them, else
//!   from every category; fewer than [`MIN_HISTORY`] there too means no
//!   history, so no alert (a new user's first purchases are not "unusual");
//! - its amount is at least [`MULTIPLE`] times the median of that history
//!   (the median, not the mean: one earlier big purchase does not hide the
//!   next) and at least [`FLOOR`] (tripling a £3 coffee is not news).
//!
//! The history is read with one bounded Query per index (GSI3 by category
//! and date, GSI2 by date when the category is too thin), at most
//! [`READ_LIMIT`] items each, newest first: never a scan of the user's
//! transactions. The user's `enableSpendingAnomalyAlerts` switches it off.

use crate::evaluate::{hand_on, EvalError, NotificationQueue};
use crate::model::{category_budget_id, format_money, main_budget_id, ALERT_RETENTION_DAYS, NAMESPACE};
use crate::store::BudgetStore;
use expenzez_domain::entities::*;
use expenzez_domain::ids::{AlertId, TransactionId, UserId};
use expenzez_domain::keys::Category;
use expenzez_domain::{Currency, Money, Timestamp};
use expenzez_store::Condition;
use serde::Deserialize;

/// How many times the typical (median) debit a transaction must be.
pub const MULTIPLE: i64 = 3;
/// The least amount that can be unusually large: £100, in pence.
pub const FLOOR: Money = Money::from_minor(10_000);
/// Debits of history the median is taken over (the latest ones).
pub const HISTORY: usize = 30;
/// Fewer debits than this are not a history.
pub const MIN_HISTORY: usize = 5;
/// Items one history Query reads at most (credits and other currencies are skipped).
pub const READ_LIMIT: u32 = 100;
/// A transaction older than this (by its date) raises nothing.
pub const RECENT_DAYS: i64 = 7;

/// What the rule needs of a transaction (read from the stream's new image).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub user_id: UserId,
    pub transaction_id: TransactionId,
    pub amount: Money,
    pub currency: Currency,
    pub timestamp: Timestamp,
    pub category: CandidateCategory,
    pub description: String,
    pub merchant: Option<CandidateMerchant>,
    #[serde(default)]
    pub exclude_from_spend: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CandidateCategory {
    pub primary: Category,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CandidateMerchant {
    pub name: String,
}

impl Candidate {
    /// Whether the rule looks at it at all (before any read).
    pub fn eligible(&self, now: Timestamp) -> bool {
        self.amount.is_negative()
            && !self.exclude_from_spend
            && self.timestamp <= now.plus_seconds(86_400)
            && now.plus_seconds(-RECENT_DAYS * 86_400) <= self.timestamp
    }
    fn payee(&self) -> &str {
        self.merchant.as_ref().map(|m| m.name.as_str()).filter(|n| !n.trim().is_empty()).unwrap_or(self.description.as_str())
    }
}

/// The history's debits (positive amounts): same currency, not itself, not excluded, latest [`HISTORY`].
pub fn history_of(c: &Candidate, txns: &[Transaction]) -> Vec<Money> {
    txns.iter()
        .filter(|t| t.transaction_id != c.transaction_id && t.amount.is_negative() && !t.exclude_from_spend && t.currency == c.currency)
        .take(HISTORY)
        .map(|t| t.amount.abs())
        .collect()
}

/// The upper median (an amount that occurs in the history, so exact).
pub fn median(history: &[Money]) -> Option<Money> {
    let mut v: Vec<i64> = history.iter().map(|m| m.minor()).collect();
    v.sort_unstable();
    v.get(v.len() / 2).copied().map(Money::from_minor)
}

/// The least amount that is unusually large against `history` (`None`: no history).
pub fn threshold(history: &[Money]) -> Option<Money> {
    if history.len() < MIN_HISTORY {
        return None;
    }
    let m = median(history)?;
    Some(Money::from_minor(m.minor().saturating_mul(MULTIPLE).max(FLOOR.minor())))
}

/// The alert of one transaction: one per (user, transaction), ever.
pub fn alert_id(user: &UserId, txn: &TransactionId) -> AlertId {
    let name = format!("alert:{user}:large-transaction:{txn}");
    AlertId::new(uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()).expect("a UUID is a valid id")
}

/// The alert a large transaction raises. `budget_id` is the budget its
/// category counts against (the category's own, else the main budget's id:
/// the user's overall spending).
pub fn large_transaction_alert(c: &Candidate, typical: Money, minimum: Money, budgets: &[UserBudget], now: Timestamp) -> BudgetAlert {
    let own = category_budget_id(c.category.primary.as_str());
    let budget_id = budgets.iter().find(|b| b.budget_id == own).map(|b| b.budget_id.clone()).unwrap_or_else(main_budget_id);
    let amount = c.amount.abs();
    BudgetAlert {
        alert_id: alert_id(&c.user_id, &c.transaction_id),
        budget_id,
        user_id: c.user_id.clone(),
        alert_type: AlertType::Custom,
        threshold: (MULTIPLE * 100) as u32,
        is_active: true,
        last_triggered: None,
        trigger_count: 1,
        acknowledged_at: None,
        delivery_methods: vec![DeliveryMethod::Push],
        priority: Priority::Medium,
        conditions: Some(AlertConditions { time_of_day: None, days_of_week: None, minimum_amount: Some(minimum), consecutive_days: None }),
        template: AlertTemplate {
            title: format!("Large payment: {}", format_money(amount, &c.currency)),
            message: format!(
                "{} to {} is well above your usual {} payment of about {}.",
                format_money(amount, &c.currency),
                c.payee(),
                c.category.primary.as_str(),
                format_money(typical, &c.currency)
            ),
            action_text: Some("View transaction".into()),
            deep_link: Some(format!("expenzez://transactions/{}", c.transaction_id)),
        },
        transaction_id: Some(c.transaction_id.clone()),
        created_at: now,
        updated_at: now,
        ttl: Some(ttl_after_days(now, ALERT_RETENTION_DAYS)),
    }
}

/// The notification request a large-transaction alert is handed on as.
pub fn notification_for(alert: &BudgetAlert, c: &Candidate) -> NotificationRequest {
    NotificationRequest {
        request_id: alert.alert_id.to_string(),
        user_id: alert.user_id.clone(),
        kind: NotificationType::Transaction,
        priority: NotificationPriority::Normal,
        title: alert.template.title.clone(),
        message: alert.template.message.clone(),
        data: Some(NotificationData {
            transaction_id: Some(c.transaction_id.to_string()),
            category: Some(c.category.primary.as_str().to_string()),
            amount: Some(c.amount.abs()),
            deep_link: alert.template.deep_link.clone(),
            image_url: None,
        }),
        created_at: alert.created_at,
    }
}

/// Applies the rule to one changed transaction; returns the alert id if this call raised it.
pub async fn check<S: BudgetStore>(store: &S, queue: Option<&NotificationQueue>, c: &Candidate) -> Result<Option<AlertId>, EvalError> {
    let now = store.now();
    if !c.eligible(now) {
        return Ok(None);
    }
    let user = &c.user_id;
    let prefs = store.alert_preferences(user).await?.map(|v| v.value).unwrap_or_else(|| AlertPreferences::defaults(user.clone(), now));
    if !prefs.enable_spending_anomaly_alerts {
        return Ok(None);
    }
    let id = alert_id(user, &c.transaction_id);
    if let Some(existing) = store.alert(user, &id).await? {
        // Raised before; hand it on if an earlier attempt stopped short of that.
        let mut stored = (existing.value, existing.version);
        if stored.0.last_triggered.is_none() {
            let request = notification_for(&stored.0, c);
            hand_on(store, queue, &mut stored, request).await?;
        }
        return Ok(None);
    }
    let mut history = history_of(c, &store.transactions_before(user, Some(&c.category.primary), c.timestamp, READ_LIMIT).await?);
    if history.len() < MIN_HISTORY {
        history = history_of(c, &store.transactions_before(user, None, c.timestamp, READ_LIMIT).await?);
    }
    let (Some(minimum), Some(typical)) = (threshold(&history), median(&history)) else { return Ok(None) };
    if c.amount.abs() < minimum {
        return Ok(None);
    }
    let budgets: Vec<UserBudget> = store.budgets(user).await?.into_iter().map(|v| v.value).collect();
    let alert = large_transaction_alert(c, typical, minimum, &budgets, now);
    let mut stored = match store.save_alert(&alert, Condition::MustNotExist).await {
        Ok(version) => {
            tracing::info!(target: "budget_alert", user = %user, transaction = %c.transaction_id, "large transaction alert raised");
            (alert, version)
        }
        // A concurrent delivery of the same change raised it: that one hands it on.
        Err(e) if e.is_conflict() => return Ok(None),
        Err(e) => return Err(EvalError::Store(e)),
    };
    let request = notification_for(&stored.0, c);
    hand_on(store, queue, &mut stored, request).await?;
    Ok(Some(stored.0.alert_id))
}

/// Reads a stream image as a candidate (`None` for anything else).
pub fn candidate(item: &serde_dynamo::Item) -> Option<Candidate> {
    if item.is_empty() {
        return None;
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Kind {
        entity_type: String,
    }
    let k: Kind = serde_dynamo::from_item(item.clone()).ok()?;
    if k.entity_type != "TRANSACTION" {
        return None;
    }
    serde_dynamo::from_item(item.clone()).map_err(|e| tracing::warn!(error = %e, "a transaction image the rule cannot read")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(minor: i64) -> Money {
        Money::from_minor(minor)
    }

    #[test]
    fn the_rule_needs_a_history_and_uses_its_median_and_the_floor() {
        // Four debits are not a history.
        assert_eq!(threshold(&[m(1_000), m(1_000), m(1_000), m(1_000)]), None);
        // Median £40: three times is £120.
        let h = [m(3_000), m(4_000), m(4_000), m(5_000), m(90_000)];
        assert_eq!(median(&h), Some(m(4_000)));
        assert_eq!(threshold(&h), Some(m(12_000)));
        // Small purchases: the £100 floor.
        assert_eq!(threshold(&[m(300), m(350), m(400), m(300), m(500)]), Some(FLOOR));
        // Upper median of an even count is one of the amounts.
        assert_eq!(median(&[m(1), m(2), m(3), m(4)]), Some(m(3)));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn ids_are_per_transaction() {
        let u = UserId::new("u1").unwrap();
        let t1 = TransactionId::new("t1").unwrap();
        assert_eq!(alert_id(&u, &t1), alert_id(&u, &t1));
        assert_ne!(alert_id(&u, &t1), alert_id(&u, &TransactionId::new("t2").unwrap()));
        assert_ne!(alert_id(&u, &t1), alert_id(&UserId::new("u2").unwrap(), &t1));
    }
}
