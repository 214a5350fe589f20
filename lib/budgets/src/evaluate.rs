//! The alert evaluator: after a user's transactions change, each budget
//! whose spending in the period has reached a threshold gets that
//! threshold's alert, once. The alert id is deterministic per (user, budget,
//! period, threshold) and written with a create-if-absent condition, so a
//! stream record delivered again, or spending that falls under a threshold
//! (a refund) and crosses it again, raises nothing new. A new alert is then
//! handed on to the notification queue (`requestId` = alert id), and
//! `lastTriggered` records the hand-off: a retry after a failed send sends
//! again, a retry after a successful one does not.

use crate::model::{notification_for, threshold_alert};
use crate::period::MonthPeriod;
use crate::spend::reached;
use crate::store::BudgetStore;
use expenzez_domain::entities::{AlertPreferences, BudgetAlert, BudgetStatus, NotificationRequest, PeriodType};
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

/// Raises the alerts `user`'s spending in `period` calls for. Returns the
/// ids of the alerts raised by this call (none when they already existed).
pub async fn evaluate<S: BudgetStore>(
    store: &S,
    queue: Option<&NotificationQueue>,
    user: &UserId,
    period: &MonthPeriod,
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
        .filter(|b| {
            b.alerts.enabled && b.period.kind == PeriodType::Monthly && matches!(b.status, BudgetStatus::Active | BudgetStatus::Exceeded)
        })
        .collect();
    if budgets.is_empty() {
        return Ok(Vec::new());
    }
    let spending = store.period_spending(user, period, true).await?;
    let mut raised = Vec::new();
    for b in &budgets {
        let spent = spending.spent_by(b).map_err(|e| StoreError::Invalid(e.to_string()))?;
        for &threshold in &b.alerts.thresholds {
            if !reached(spent, b.limit, threshold) {
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
                hand_on(store, queue, &mut stored, &b.category, spent).await?;
            }
        }
    }
    Ok(raised)
}

/// Sends the alert's notification (if there is a queue) and records it.
async fn hand_on<S: BudgetStore>(
    store: &S,
    queue: Option<&NotificationQueue>,
    (alert, version): &mut (BudgetAlert, u64),
    category: &str,
    spent: expenzez_domain::Money,
) -> Result<(), EvalError> {
    if let Some(q) = queue {
        q.send_all(&[notification_for(alert, category, spent)]).await.map_err(|e| EvalError::Queue(e.to_string()))?;
    }
    alert.last_triggered = Some(store.now());
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
