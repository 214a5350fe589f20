//! The daily period rollover (BudgetRolloverFunction, EventBridge): every
//! recurring budget whose period ended is found through the sparse GSI1 due
//! index (`BUDGET_DUE#{shard}`, sorted by period end: only the due ones are
//! read), its closed periods (months or weeks) are kept as history entries
//! with what was budgeted and spent, what was left unspent is carried into the
//! next period where the budget says so (`rolloverUnspent`; an overspent
//! period carries nothing, and an unspent one carries its whole remainder,
//! so a carry can build up over periods the user does not spend), and it
//! moves to the period containing now, with that period's spending.
//! Each budget is written conditionally on the version read: a concurrent
//! preferences change wins, and the budget is due again on the next run.

use crate::model::record_spent;
use crate::period::Period;
use crate::spend::progress;
use crate::store::BudgetStore;
use expenzez_domain::entities::{BudgetHistoryEntry, UserBudget};
use expenzez_domain::keys::BUDGET_SHARDS;
use expenzez_domain::{Money, Timestamp};
use expenzez_store::{Condition, StoreError};

/// History entries a budget keeps (two years of months).
pub const MAX_HISTORY: usize = 24;

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloverReport {
    pub due: usize,
    pub rolled: usize,
    pub conflicts: usize,
}

/// Closes every period of `b` that ended before `now`; returns whether it changed.
pub async fn roll<S: BudgetStore>(store: &S, b: &mut UserBudget, now: Timestamp) -> Result<bool, StoreError> {
    let mut changed = false;
    let mut period = Period::containing(b.period.kind, b.period.start_date);
    while period.next_start() <= now {
        let spending = store.period_spending(&b.user_id, &period, true).await?;
        let spent = spending.spent_by(b).map_err(|e| StoreError::Invalid(e.to_string()))?;
        // The closed period's allowance: its limit plus what it received.
        let budgeted = b.allowance();
        let unspent = budgeted.checked_sub(spent).filter(|m| !m.is_negative()).unwrap_or(Money::ZERO);
        if !b.history.iter().any(|h| h.period == period.label()) {
            b.history.push(BudgetHistoryEntry {
                period: period.label(),
                budgeted,
                spent,
                variance: budgeted.checked_sub(spent).unwrap_or(Money::ZERO),
                achievement: progress(spent, budgeted).try_into().unwrap_or(0.0),
            });
        }
        b.carried_over = if b.rollover_unspent { unspent } else { Money::ZERO };
        period = period.next();
        changed = true;
    }
    if !changed {
        return Ok(false);
    }
    if b.history.len() > MAX_HISTORY {
        b.history.drain(..b.history.len() - MAX_HISTORY);
    }
    b.period.start_date = period.start();
    b.period.end_date = period.end();
    let spent = store.period_spending(&b.user_id, &period, true).await?.spent_by(b).map_err(|e| StoreError::Invalid(e.to_string()))?;
    record_spent(b, spent, now);
    b.alerts.last_alert_sent = None;
    b.updated_at = now;
    Ok(true)
}

/// One run of the job over every shard.
pub async fn run<S: BudgetStore>(store: &S) -> Result<RolloverReport, StoreError> {
    let now = store.now();
    let mut report = RolloverReport::default();
    for shard in 0..BUDGET_SHARDS {
        for (user, id) in store.due_budgets(shard, now).await? {
            report.due += 1;
            let Some(current) = store.budget(&user, &id).await? else { continue };
            let mut b = current.value;
            if !roll(store, &mut b, now).await? {
                continue;
            }
            match store.save_budget(&b, Condition::Version(current.version)).await {
                Ok(_) => report.rolled += 1,
                Err(e) if e.is_conflict() => report.conflicts += 1,
                Err(e) => return Err(e),
            }
        }
    }
    tracing::info!(target: "budget_rollover", due = report.due, rolled = report.rolled, conflicts = report.conflicts, "budget rollover");
    Ok(report)
}
