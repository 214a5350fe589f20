//! The alert evaluator: after a user's transactions change, each budget
//! whose spending in the period has reached a threshold gets that
//! threshold's alert, once. The alert id is deterministic per (user, budget,
//! period, threshold) and written with a create-if-absent condition, so a
//! stream record delivered again, or spending that falls under a threshold
//! (a refund) and crosses it again, raises nothing new. A new alert is then
//! handed on to the notification queue (`requestId` = alert id), and
//! `lastTriggered` records the hand-off: a retry after a failed send sends
//! again, a retry after a successful one does not.

use crate::model::{allowance_in, notification_for, threshold_alert};
use crate::period::{DayPeriod, Period};
use crate::spend::reached;
use crate::store::BudgetStore;
use expenzez_domain::entities::{AlertPreferences, BudgetAlert, BudgetStatus, NotificationRequest, UserBudget};
use expenzez_domain::ids::{AlertId, UserId};
use expenzez_store::{Condition, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("notification queue: {0}")]
    Queue(String),
}

/// Where new alerts are handed on for delivery: the notification queue,
/// through the one sender.
pub type NotificationQueue = expenzez_store::JsonQueue<NotificationRequest>;

/// Raises the alerts `user`'s spending in `period` calls for (for the
/// budgets of that period's kind). Returns the ids of the alerts raised by
/// this call (none when they already existed).
pub async fn evaluate<S: BudgetStore>(
    store: &S,
    queue: Option<&NotificationQueue>,
    user: &UserId,
    period: &Period,
) -> Result<Vec<AlertId>, EvalError> {
    evaluate_periods(store, queue, user, std::slice::from_ref(period)).await
}

/// [`evaluate`] for several periods (a month and a week) with one read of
/// the user's preferences and budgets; a period no budget runs in reads nothing more.
pub async fn evaluate_periods<S: BudgetStore>(
    store: &S,
    queue: Option<&NotificationQueue>,
    user: &UserId,
    periods: &[Period],
) -> Result<Vec<AlertId>, EvalError> {
    let prefs =
        store.alert_preferences(user).await?.map(|v| v.value).unwrap_or_else(|| AlertPreferences::defaults(user.clone(), store.now()));
    if !prefs.enable_budget_alerts {
        return Ok(Vec::new());
    }
    let budgets: Vec<_> = store
        .budgets(user)
        .await?
        .into_iter()
        .map(|v| v.value)
        .filter(|b| b.alerts.enabled && matches!(b.status, BudgetStatus::Active | BudgetStatus::Exceeded))
        .collect();
    let mut raised = Vec::new();
    for period in periods {
        let of_kind: Vec<&UserBudget> = budgets.iter().filter(|b| Period::kind_of(b.period.kind) == period.kind()).collect();
        if of_kind.is_empty() {
            continue;
        }
        let spending = store.period_spending(user, period, true).await?;
        for b in of_kind {
            let spent = spending.spent_by(b).map_err(|e| StoreError::Invalid(e.to_string()))?;
            let allowance = allowance_in(b, period);
            for &threshold in &b.alerts.thresholds {
                if !reached(spent, allowance, threshold) {
                    continue;
                }
                let now = store.now();
                let alert = threshold_alert(user, b, period, threshold, spent, now);
                let mut stored = match store.save_alert(&alert, Condition::MustNotExist).await {
                    Ok(version) => {
                        raised.push(alert.alert_id.clone());
                        tracing::info!(target: "budget_alert", user = %user, budget = %b.budget_id, threshold, period = %period.label(), "alert raised");
                        (alert, version)
                    }
                    Err(e) if e.is_conflict() => match store.alert(user, &alert.alert_id).await? {
                        Some(v) => (v.value, v.version),
                        None => continue,
                    },
                    Err(e) => return Err(e.into()),
                };
                if stored.0.last_triggered.is_none() {
                    let request = notification_for(&stored.0, &b.category, spent);
                    hand_on(store, queue, &mut stored, request).await?;
                }
            }
        }
    }
    Ok(raised)
}

/// Sends the alert's notification (if there is a queue) and records it,
/// unless the user's `maxAlertsPerDay` alerts have already been handed on
/// today (their local day): then the alert stays in the app only (no
/// delivery methods) and is recorded as handled, so a retry does not send it later.
pub(crate) async fn hand_on<S: BudgetStore>(
    store: &S,
    queue: Option<&NotificationQueue>,
    (alert, version): &mut (BudgetAlert, u64),
    request: NotificationRequest,
) -> Result<(), EvalError> {
    let user = alert.user_id.clone();
    let now = store.now();
    let max = store.alert_preferences(&user).await?.map(|p| p.value.max_alerts_per_day).unwrap_or(AlertPreferences::DEFAULT_MAX_PER_DAY);
    let today = DayPeriod::containing(now);
    let sent_today = store
        .alerts(&user)
        .await?
        .iter()
        .filter(|a| a.value.alert_id != alert.alert_id && !a.value.delivery_methods.is_empty())
        .filter(|a| a.value.last_triggered.is_some_and(|t| today.contains(t)))
        .count();
    if sent_today >= max as usize {
        tracing::info!(target: "budget_alert", user = %user, max, "daily alert limit reached: kept in the app only");
        alert.delivery_methods.clear();
    } else if let Some(q) = queue {
        q.send_all(&[request]).await.map_err(|e| EvalError::Queue(e.to_string()))?;
    }
    alert.last_triggered = Some(now);
    match store.save_alert(alert, Condition::Version(*version)).await {
        Ok(v) => {
            *version = v;
            Ok(())
        }
        // Someone else (a concurrent delivery, the user acknowledging) wrote it:
        // the notification was sent with the alert's id, which the notifier dedupes.
        Err(e) if e.is_conflict() => Ok(()),
        Err(e) => Err(e.into()),
    }
}
