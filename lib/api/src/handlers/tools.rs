//! The transactions screen's tools: `GET /transactions/similar` (the same
//! merchant, compared in its normal form) and the bulk edits
//! `POST /transactions/bulk-categorize` and `POST /transactions/bulk-exclude`.
//!
//! A bulk edit is the single edit (`PUT /transactions/{id}`'s
//! [`TransactionUpdate`]) applied to each transaction, written through the
//! ledger: each group of at most 100 actions (transactions plus the summaries
//! of their months) is one all-or-nothing TransactWriteItems, conditional on
//! the versions read. A group that lost a race is read again and retried; what
//! still cannot be written is counted as failed, never as updated.

use crate::edge::Reply;
use crate::error::{ApiError, FieldError};
use crate::handlers::transactions::TransactionUpdate;
use crate::json::Amount;
use crate::ledger::{self, BatchError, Change};
use crate::request::Ctx;
use crate::stores::{LedgerStore, TransactionBatchStore, TransactionListStore};
use expenzez_domain::category;
use expenzez_domain::entities::Transaction;
use expenzez_domain::ids::{TransactionId, UserId};
use expenzez_domain::keys::{self, Index};
use expenzez_domain::merchant;
use expenzez_domain::Timestamp;
use expenzez_store::{Query, Retry, Versioned};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Most ids one bulk request may name (and most transactions `similar` lists).
pub const MAX_BULK: usize = 1000;

/// Most of a user's transactions `similar` reads, newest first.
const MAX_EXAMINED: usize = 20_000;

/// The merchant a transaction is compared by: its merchant's name, else its description.
fn merchant_of(t: &Transaction) -> &str {
    t.merchant.as_ref().map(|m| m.name.as_str()).filter(|n| !n.trim().is_empty()).unwrap_or(&t.description)
}

/// The user's transactions of `merchant` (normal forms equal), newest first,
/// at most [`MAX_BULK`]. Reads the user's GSI2 partition page by page.
async fn of_merchant<S: TransactionListStore>(store: &S, user: &UserId, merchant_name: &str) -> Result<Vec<Transaction>, ApiError> {
    let wanted = merchant::normalise(merchant_name);
    let base = Query::index(user.as_str(), Index::Gsi2, keys::user_pk(user)).descending().limit(Query::MAX_LIMIT);
    let (mut found, mut examined, mut cursor) = (Vec::new(), 0, None);
    loop {
        let page = store.transactions(&base.clone().after(cursor.take())).await?;
        examined += page.items.len();
        found.extend(page.items.into_iter().map(|v| v.value).filter(|t| merchant::normalise(merchant_of(t)) == wanted));
        cursor = page.next;
        if cursor.is_none() || examined >= MAX_EXAMINED || found.len() >= MAX_BULK {
            break;
        }
    }
    found.truncate(MAX_BULK);
    Ok(found)
}

fn text_param(ctx: &Ctx, errors: &mut Vec<FieldError>, name: &str, required: bool) -> Option<String> {
    let v = ctx.query(name).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    match &v {
        None if required => errors.push(FieldError::new(name, "is required")),
        Some(s) if s.chars().count() > 200 || s.chars().any(char::is_control) => {
            errors.push(FieldError::new(name, "must be at most 200 characters without control characters"))
        }
        _ => {}
    }
    v
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SimilarView {
    id: String,
    merchant: String,
    description: String,
    amount: Amount,
    date: Timestamp,
    category: String,
}

#[derive(Serialize)]
struct SimilarBody {
    count: usize,
    transactions: Vec<SimilarView>,
}

/// `GET /transactions/similar?merchant=&newCategory=&excludeId=`: the caller's
/// transactions of the same merchant that are not already in `newCategory`
/// (compared case-insensitively), without `excludeId`; newest first.
pub async fn similar<S: TransactionListStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let mut errors = Vec::new();
    let merchant_name = text_param(&ctx, &mut errors, "merchant", true);
    let new_category = text_param(&ctx, &mut errors, "newCategory", false);
    let exclude = text_param(&ctx, &mut errors, "excludeId", false);
    if let Some(m) = &merchant_name {
        if errors.is_empty() && merchant::normalise(m).is_empty() {
            errors.push(FieldError::new("merchant", "must name a merchant (letters, not only numbers)"));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let merchant_name = merchant_name.unwrap_or_default();
    let found = of_merchant(&store, user, &merchant_name).await?;
    let transactions: Vec<SimilarView> = found
        .iter()
        .filter(|t| exclude.as_deref() != Some(t.transaction_id.as_str()))
        // Compared as the app names them (`transport` is `Transportation`).
        .filter(|t| new_category.as_deref().is_none_or(|c| category::canonical(c) != category::canonical(t.category.primary.as_str())))
        .map(|t| SimilarView {
            id: t.transaction_id.to_string(),
            merchant: t.merchant.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
            description: t.description.clone(),
            amount: Amount(t.amount),
            date: t.timestamp,
            category: t.category.primary.to_string(),
        })
        .collect();
    Reply::ok(&SimilarBody { count: transactions.len(), transactions })
}

/// What a bulk edit did, id by id. `updated + unchanged + failed` is the
/// number of distinct ids asked for.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BulkOutcome {
    /// Written with the change.
    pub updated: usize,
    /// Not found (another user's id is not found), or not written after retries.
    pub failed: usize,
    /// Already as asked: nothing written.
    pub unchanged: usize,
    pub failed_ids: Vec<String>,
}

/// The change `patch` makes to `t`; `None` when it changes nothing.
fn planned(t: &Versioned<Transaction>, patch: &TransactionUpdate, now: Timestamp) -> Result<Option<Change>, ApiError> {
    let mut after = t.value.clone();
    patch.apply(&mut after, now)?;
    after.updated_at = t.value.updated_at;
    if after == t.value {
        return Ok(None);
    }
    after.updated_at = now;
    Ok(Some(Change { before: Some(t.clone()), after: Some(after) }))
}

/// What to do with one transaction, planned from its current state.
#[derive(Debug)]
pub enum Planned {
    Write(Box<Change>),
    /// Already as wanted: nothing to write.
    Unchanged,
    /// Cannot be done (e.g. it does not exist): counted as failed.
    Failed,
}

/// What [`commit_planned`] did.
#[derive(Debug, Default)]
pub struct Committed {
    pub written: usize,
    pub unchanged: usize,
    pub failed: Vec<TransactionId>,
}

fn change_id(c: &Change) -> Option<&TransactionId> {
    c.after.as_ref().map(|a| &a.transaction_id).or(c.before.as_ref().map(|b| &b.value.transaction_id))
}

/// Writes `changes` through the ledger, one group (one all-or-nothing
/// TransactWriteItems) at a time. A group that lost a race is read again
/// (strongly consistent) and re-planned with `replan` from the current state
/// of each of its transactions, up to [`ledger::MAX_ATTEMPTS`] times; what is
/// still contended is failed. A store error after some groups were committed
/// fails the rest (the committed ones stay, and are reported); before any, it
/// is the request's error.
pub async fn commit_planned<S, F>(store: &S, user: &UserId, changes: Vec<Change>, mut replan: F) -> Result<Committed, ApiError>
where
    S: LedgerStore,
    F: FnMut(&TransactionId, Option<Versioned<Transaction>>) -> Result<Planned, ApiError>,
{
    let mut out = Committed::default();
    let ids = |g: &[Change]| -> Vec<TransactionId> { g.iter().filter_map(change_id).cloned().collect() };
    let mut groups = ledger::groups(changes).into_iter();
    'groups: while let Some(mut group) = groups.next() {
        let mut tries = Retry::new(ledger::MAX_ATTEMPTS);
        while tries.next().await {
            let err = match ledger::apply_batch(store, user, group.clone()).await {
                Ok(o) => {
                    out.written += (o.written + o.removed) as usize;
                    continue 'groups;
                }
                Err(e) => e,
            };
            // A summary that cannot absorb the change was read after a racing
            // edit moved one of the group's transactions: stale, like a conflict.
            let stale = err.is_conflict() || matches!(err, BatchError::Summary(_));
            if !stale {
                match err {
                    BatchError::Store(e) if out.written == 0 => return Err(e.into()),
                    e => {
                        tracing::error!(error = %e, "batch write stopped");
                        out.failed.extend(ids(&group));
                        out.failed.extend(groups.flat_map(|g| ids(&g)));
                        return Ok(out);
                    }
                }
            }
            let mut next = Vec::new();
            for id in ids(&group) {
                match replan(&id, store.transaction(user, &id, true).await?)? {
                    Planned::Write(c) => next.push(*c),
                    Planned::Unchanged => out.unchanged += 1,
                    Planned::Failed => out.failed.push(id),
                }
            }
            if next.is_empty() {
                continue 'groups;
            }
            group = next;
        }
        tracing::warn!(count = group.len(), "batch write group still contended after retries");
        out.failed.extend(ids(&group));
    }
    Ok(out)
}

/// Applies `patch` to each of `ids` (deduplicated) through the ledger.
pub async fn bulk_apply<S: TransactionBatchStore>(
    store: &S,
    user: &UserId,
    ids: &[String],
    patch: &TransactionUpdate,
) -> Result<BulkOutcome, ApiError> {
    let mut out = BulkOutcome::default();
    let mut wanted: Vec<TransactionId> = Vec::new();
    let mut seen = BTreeSet::new();
    for raw in ids {
        if !seen.insert(raw.as_str()) {
            continue;
        }
        // An id that cannot exist is not found, like any other missing one.
        match TransactionId::new(raw) {
            Ok(id) => wanted.push(id),
            Err(_) => out.failed_ids.push(raw.clone()),
        }
    }
    let now = store.now();
    let found: BTreeMap<TransactionId, Versioned<Transaction>> =
        store.transactions_by_id(user, &wanted).await?.into_iter().map(|v| (v.value.transaction_id.clone(), v)).collect();
    let mut changes = Vec::new();
    for id in &wanted {
        match found.get(id) {
            None => out.failed_ids.push(id.to_string()),
            Some(t) => match planned(t, patch, now)? {
                None => out.unchanged += 1,
                Some(c) => changes.push(c),
            },
        }
    }
    let committed = commit_planned(store, user, changes, |_, current| match current {
        None => Ok(Planned::Failed),
        Some(t) => Ok(planned(&t, patch, store.now())?.map(|c| Planned::Write(Box::new(c))).unwrap_or(Planned::Unchanged)),
    })
    .await?;
    out.updated = committed.written;
    out.unchanged += committed.unchanged;
    out.failed_ids.extend(committed.failed.iter().map(TransactionId::to_string));
    out.failed = out.failed_ids.len();
    Ok(out)
}

/// `POST /transactions/bulk-categorize` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkCategorize {
    pub transaction_ids: Vec<String>,
    pub category: String,
}

fn check_ids(errors: &mut Vec<FieldError>, ids: &[String], required: bool) {
    if required && ids.is_empty() {
        errors.push(FieldError::new("transactionIds", "must name at least one transaction"));
    } else if ids.len() > MAX_BULK {
        errors.push(FieldError::new("transactionIds", format!("must name at most {MAX_BULK} transactions")));
    }
}

/// `POST /transactions/bulk-categorize`: each named transaction of the caller's
/// gets `category` (as the user's own category, like a single edit).
pub async fn bulk_categorize<S: TransactionBatchStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let body: BulkCategorize = ctx.json()?;
    let mut errors = Vec::new();
    check_ids(&mut errors, &body.transaction_ids, true);
    if let Err(e) = category::parse(&body.category) {
        errors.push(FieldError::new("category", e.to_string()));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let patch = TransactionUpdate { category: Some(body.category), ..Default::default() };
    Reply::ok(&bulk_apply(&store, &user, &body.transaction_ids, &patch).await?)
}

/// `POST /transactions/bulk-exclude` body. Without `transactionIds`, every
/// transaction of `merchant` (as `similar` finds them) is changed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkExclude {
    #[serde(default)]
    pub transaction_ids: Vec<String>,
    pub exclude_from_spend: bool,
    pub merchant: Option<String>,
}

/// `POST /transactions/bulk-exclude`: sets `excludeFromSpend` on each named
/// transaction of the caller's (or on all of `merchant`'s when none is named).
pub async fn bulk_exclude<S: TransactionBatchStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let body: BulkExclude = ctx.json()?;
    let mut errors = Vec::new();
    check_ids(&mut errors, &body.transaction_ids, false);
    let merchant_name = body.merchant.as_deref().map(str::trim).filter(|m| !m.is_empty());
    match merchant_name {
        Some(m) if m.chars().count() > 200 || m.chars().any(char::is_control) => {
            errors.push(FieldError::new("merchant", "must be at most 200 characters without control characters"))
        }
        Some(m) if body.transaction_ids.is_empty() && merchant::normalise(m).is_empty() => {
            errors.push(FieldError::new("merchant", "must name a merchant (letters, not only numbers)"))
        }
        None if body.transaction_ids.is_empty() => errors.push(FieldError::new("transactionIds", "name transactions, or a merchant")),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let ids = match (body.transaction_ids.is_empty(), merchant_name) {
        (true, Some(m)) => of_merchant(&store, &user, m).await?.into_iter().map(|t| t.transaction_id.to_string()).collect(),
        _ => body.transaction_ids,
    };
    let patch = TransactionUpdate { exclude_from_spend: Some(body.exclude_from_spend), ..Default::default() };
    Reply::ok(&bulk_apply(&store, &user, &ids, &patch).await?)
}
