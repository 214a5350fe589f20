//! Every change to a transaction moves the monthly summaries of the months it
//! touches in the same TransactWriteItems (SPEC §3), each write conditional on
//! the version read. A conflict (a sync or another edit got there first) means
//! read again and recompute, so nothing is ever overwritten or counted twice.

use crate::error::ApiError;
use crate::stores::LedgerStore;
use expenzez_domain::entities::{Entity, MonthlySummary, Transaction};
use expenzez_domain::ids::{TransactionId, UserId};
use expenzez_domain::time::YearMonth;
use expenzez_store::{Condition, Retry, TxAction, Versioned};
use std::collections::BTreeSet;

/// Attempts before a contended change gives up with 409 (`retryable`).
pub const MAX_ATTEMPTS: u32 = 10;

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
    let mut tries = Retry::new(MAX_ATTEMPTS);
    while tries.next().await {
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
        let mut actions = Vec::with_capacity(months.len() + 2 + extra.len());
        let mut stale = false;
        for month in months {
            let (mut summary, condition) = match store.summary(user, month, true).await? {
                Some(v) => (v.value, Condition::Version(v.version)),
                None => (MonthlySummary::empty(user.clone(), month, now), Condition::MustNotExist),
            };
            // The transaction and the summary are read one after the other: a
            // writer in between leaves a summary that does not hold `before`.
            // That is a lost race (the version checks would refuse the commit
            // anyway), so read both again.
            let moved = before
                .as_ref()
                .filter(|b| b.value.timestamp.month() == month)
                .map_or(Ok(()), |b| summary.remove(&b.value))
                .and_then(|()| after.as_ref().filter(|a| a.timestamp.month() == month).map_or(Ok(()), |a| summary.add(a)));
            if moved.is_err() {
                stale = true;
                break;
            }
            summary.updated_at = now;
            actions.push(TxAction::put(&summary, condition)?);
        }
        if stale {
            continue;
        }
        let (txn_action, version) = match (&before, &after) {
            (None, Some(a)) => (TxAction::put(a, Condition::MustNotExist)?, 1),
            (Some(b), Some(a)) => (TxAction::put(a, Condition::Version(b.version))?, b.version + 1),
            (Some(b), None) => (TxAction::delete(&b.value.item_key(), Condition::Version(b.version)), 0),
            (None, None) => unreachable!("handled above"),
        };
        actions.push(txn_action);
        actions.extend(extra.iter().cloned());
        actions.push(TxAction::account_live(user));
        match store.commit(actions).await {
            Ok(()) => return Ok(after.map(|value| Versioned { value, version })),
            Err(e) if e.is_conflict() && expected.is_some() => return Err(ApiError::PreconditionFailed),
            Err(e) if e.is_conflict() || e.is_throttled() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Contended)
}

/// One transaction's change in a batch: the state read (`before`, with the
/// version it was read at) and the state wanted (`after`; `None` deletes).
#[derive(Debug, Clone)]
pub struct Change {
    pub before: Option<Versioned<Transaction>>,
    pub after: Option<Transaction>,
}

impl Change {
    fn id(&self) -> Option<&TransactionId> {
        self.after.as_ref().map(|a| &a.transaction_id).or(self.before.as_ref().map(|b| &b.value.transaction_id))
    }
    fn months(&self) -> BTreeSet<YearMonth> {
        self.before.iter().map(|b| b.value.timestamp.month()).chain(self.after.iter().map(|a| a.timestamp.month())).collect()
    }
}

/// Why a batch stopped. Groups committed before the failure stay committed
/// (each is consistent on its own); the caller re-reads and re-plans.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Store(#[from] expenzez_store::StoreError),
    #[error(transparent)]
    Summary(#[from] expenzez_domain::entities::SummaryError),
    #[error("a change in the batch is not the user's or names one transaction twice")]
    Invalid,
}

impl BatchError {
    /// Somebody else wrote a transaction or summary since it was read.
    /// A summary that no longer holds what was read is the same lost race.
    pub fn is_conflict(&self) -> bool {
        matches!(self, BatchError::Store(e) if e.is_conflict()) || matches!(self, BatchError::Summary(_))
    }
}

/// What [`apply_batch`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub written: u32,
    pub removed: u32,
    /// TransactWriteItems calls made.
    pub groups: u32,
}

/// Applies many transaction changes for one user: they are grouped into
/// TransactWriteItems of at most [`expenzez_store::TRANSACT_MAX`] actions, each
/// holding its transactions and the summaries of the months they touch, so
/// every group is all-or-nothing and keeps the summaries exact. Every write is
/// conditional on the version read; a conflict stops the batch
/// ([`BatchError::is_conflict`]) and the caller re-reads and re-plans.
pub async fn apply_batch<S: LedgerStore>(store: &S, user: &UserId, changes: Vec<Change>) -> Result<BatchOutcome, BatchError> {
    let mut seen = BTreeSet::new();
    for c in &changes {
        let id = c.id().ok_or(BatchError::Invalid)?;
        let owner_ok = c.before.iter().all(|b| b.value.user_id == *user) && c.after.iter().all(|a| a.user_id == *user);
        let same_id = c.after.as_ref().zip(c.before.as_ref()).is_none_or(|(a, b)| a.transaction_id == b.value.transaction_id);
        if !owner_ok || !same_id || !seen.insert(id.clone()) {
            return Err(BatchError::Invalid);
        }
    }
    let mut outcome = BatchOutcome::default();
    for group in groups(changes) {
        commit_group(store, user, group, &mut outcome).await?;
    }
    Ok(outcome)
}

/// The groups [`apply_batch`] commits, in order: each fits one
/// TransactWriteItems (its transactions plus the summaries of the months they
/// touch, at most [`expenzez_store::TRANSACT_MAX`] actions), so a group given
/// alone to [`apply_batch`] is committed all-or-nothing in one call.
pub fn groups(mut changes: Vec<Change>) -> Vec<Vec<Change>> {
    // By month, so a group touches as few summaries as possible.
    changes.sort_by_key(|c| (c.months().into_iter().next(), c.id().cloned()));
    let mut out = Vec::new();
    let mut group: Vec<Change> = Vec::new();
    let mut months: BTreeSet<YearMonth> = BTreeSet::new();
    for c in changes {
        let m = c.months();
        let grown = months.union(&m).count();
        // One slot of each group is the account check.
        if !group.is_empty() && group.len() + 1 + grown + 1 > expenzez_store::TRANSACT_MAX {
            out.push(std::mem::take(&mut group));
            months.clear();
        }
        months.extend(m);
        group.push(c);
    }
    if !group.is_empty() {
        out.push(group);
    }
    out
}

async fn commit_group<S: LedgerStore>(store: &S, user: &UserId, group: Vec<Change>, outcome: &mut BatchOutcome) -> Result<(), BatchError> {
    let now = store.now();
    let months: BTreeSet<YearMonth> = group.iter().flat_map(Change::months).collect();
    let mut actions = Vec::with_capacity(group.len() + months.len());
    for month in months {
        let (mut summary, condition) = match store.summary(user, month, true).await? {
            Some(v) => (v.value, Condition::Version(v.version)),
            None => (MonthlySummary::empty(user.clone(), month, now), Condition::MustNotExist),
        };
        for c in &group {
            if let Some(b) = c.before.as_ref().filter(|b| b.value.timestamp.month() == month) {
                summary.remove(&b.value)?;
            }
            if let Some(a) = c.after.as_ref().filter(|a| a.timestamp.month() == month) {
                summary.add(a)?;
            }
        }
        summary.updated_at = now;
        actions.push(TxAction::put(&summary, condition)?);
    }
    let (mut written, mut removed) = (0, 0);
    for c in &group {
        actions.push(match (&c.before, &c.after) {
            (None, Some(a)) => TxAction::put(a, Condition::MustNotExist)?,
            (Some(b), Some(a)) => TxAction::put(a, Condition::Version(b.version))?,
            (Some(b), None) => TxAction::delete(&b.value.item_key(), Condition::Version(b.version)),
            (None, None) => continue,
        });
        if c.after.is_some() {
            written += 1;
        } else {
            removed += 1;
        }
    }
    actions.push(TxAction::account_live(user));
    store.commit(actions).await?;
    outcome.written += written;
    outcome.removed += removed;
    outcome.groups += 1;
    Ok(())
}

/// Rewrites every transaction of `user` stored under an older schema
/// version, each with the summaries of its month in one TransactWriteItems
/// (as any edit is). Reads already see old items upgraded
/// ([`Entity::upgrade`]); rewriting them moves what a read cannot: the
/// index keys (a category filter's GSI3 `CATEGORY#{category}#` finds the
/// canonical name only). Idempotent; returns how many were rewritten.
pub async fn upgrade_stored(table: &expenzez_store::Table, user: &UserId) -> Result<usize, ApiError> {
    use expenzez_domain::keys;
    let q = expenzez_store::Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::TRANSACTION);
    let mut old = Vec::new();
    for item in table.query_all_items(&q).await? {
        let schema = match item.get(keys::SCHEMA_VERSION) {
            Some(aws_sdk_dynamodb::types::AttributeValue::N(v)) => v.parse::<u32>().unwrap_or(0),
            _ => 0,
        };
        if schema < Transaction::SCHEMA_VERSION {
            old.push(expenzez_store::Table::decode::<Transaction>(item)?.value.transaction_id);
        }
    }
    for id in &old {
        // The read upgrades it; writing it back unchanged stores the new form.
        match apply(table, user, id, None, Vec::new(), |current| Ok(current.cloned())).await {
            // Deleted since it was listed: nothing left to upgrade.
            Ok(_) | Err(ApiError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(old.len())
}
