//! Every change to a transaction moves the monthly summaries of the months it
//! touches in the same TransactWriteItems (SPEC §3), each write conditional on
//! the version read. A conflict (a sync or another edit got there first) means
//! read again and recompute, so nothing is ever overwritten or counted twice.

use crate::error::ApiError;
use crate::stores::LedgerStore;
use expenzez_domain::entities::{Entity, MonthlySummary, Transaction};
use expenzez_domain::ids::{TransactionId, UserId};
use expenzez_domain::time::YearMonth;
use expenzez_store::{Condition, TxAction, Versioned};
use std::collections::BTreeSet;

/// Attempts before a contended change gives up with 409.
const MAX_ATTEMPTS: u32 = 10;

/// Full-jitter backoff (up to 10 ms × 2^attempt, capped at 1 s), so writers
/// that lost the same race do not retry in lockstep.
pub fn backoff(attempt: u32) -> std::time::Duration {
    use rand::Rng;
    let cap = (10u64 << attempt.min(7)).min(1000);
    std::time::Duration::from_millis(rand::thread_rng().gen_range(1..=cap))
}

/// A summary that cannot absorb a change is inconsistent data, not bad input.
fn summary_error(e: expenzez_domain::entities::SummaryError) -> ApiError {
    tracing::error!(error = %e, "monthly summary cannot absorb a transaction change");
    ApiError::Internal
}

/// Applies `change` to the current state of one transaction (`None` if it
/// does not exist) and writes the result (`None` deletes it) together with
/// the summaries and any `extra` actions (e.g. an idempotency record).
///
/// `expected`: the version an `If-Match` named; a mismatch is 412 and a lost
/// race is not retried. Returns the stored transaction and its version.
pub async fn apply<S, F>(
    store: &S,
    user: &UserId,
    id: &TransactionId,
    expected: Option<u64>,
    extra: Vec<TxAction>,
    mut change: F,
) -> Result<Option<Versioned<Transaction>>, ApiError>
where
    S: LedgerStore,
    F: FnMut(Option<&Transaction>) -> Result<Option<Transaction>, ApiError>,
{
    let mut last = None;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let before = store.transaction(user, id, true).await?;
        if let (Some(want), Some(b)) = (expected, &before) {
            if want != b.version {
                return Err(ApiError::PreconditionFailed);
            }
        }
        let after = change(before.as_ref().map(|v| &v.value))?;
        if before.is_none() && after.is_none() {
            return Err(ApiError::NotFound);
        }
        if let Some(a) = &after {
            if a.user_id != *user || a.transaction_id != *id {
                return Err(ApiError::Internal);
            }
        }
        let now = store.now();
        let months: BTreeSet<YearMonth> =
            before.iter().map(|b| b.value.timestamp.month()).chain(after.iter().map(|a| a.timestamp.month())).collect();
        let mut actions = Vec::with_capacity(months.len() + 1 + extra.len());
        for month in months {
            let (mut summary, condition) = match store.summary(user, month, true).await? {
                Some(v) => (v.value, Condition::Version(v.version)),
                None => (MonthlySummary::empty(user.clone(), month, now), Condition::MustNotExist),
            };
            if let Some(b) = before.as_ref().filter(|b| b.value.timestamp.month() == month) {
                summary.remove(&b.value).map_err(summary_error)?;
            }
            if let Some(a) = after.as_ref().filter(|a| a.timestamp.month() == month) {
                summary.add(a).map_err(summary_error)?;
            }
            summary.updated_at = now;
            actions.push(TxAction::put(&summary, condition)?);
        }
        let (txn_action, version) = match (&before, &after) {
            (None, Some(a)) => (TxAction::put(a, Condition::MustNotExist)?, 1),
            (Some(b), Some(a)) => (TxAction::put(a, Condition::Version(b.version))?, b.version + 1),
            (Some(b), None) => (TxAction::delete(&b.value.item_key(), Condition::Version(b.version)), 0),
            (None, None) => unreachable!("handled above"),
        };
        actions.push(txn_action);
        actions.extend(extra.iter().cloned());
        match store.commit(actions).await {
            Ok(()) => return Ok(after.map(|value| Versioned { value, version })),
            Err(e) if e.is_conflict() => {
                if expected.is_some() {
                    return Err(ApiError::PreconditionFailed);
                }
                last = Some(e);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.map(ApiError::from).unwrap_or(ApiError::Internal))
}
