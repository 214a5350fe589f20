//! What a sync writes, pure (no table, no provider): the window it
//! re-fetches, the transaction changes that make the stored ones equal to
//! what the provider returned, which of them are notified, and when a failed
//! sync is tried again. The ledger's batch moves the monthly summaries of
//! every month a change touches (its `before` and `after`).

use super::map::{account_id, keyed, to_transaction, Fetched};
use super::SyncSettings;
use crate::provider::ProviderTransaction;
use expenzez_api::ledger::Change;
use expenzez_domain::entities::{BankConnection, Transaction, TransactionSource};
use expenzez_domain::ids::{AccountId, TransactionId};
use expenzez_domain::money::Money;
use expenzez_domain::Timestamp;
use expenzez_store::Versioned;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

fn dur(d: Duration) -> i64 {
    d.as_secs() as i64
}

/// Where the re-fetch starts: the last successful sync minus the overlap,
/// or a first sync's history.
pub(crate) fn fetch_from(conn: &BankConnection, settings: &SyncSettings, now: Timestamp) -> Timestamp {
    match conn.stats.last_successful_sync {
        Some(last) => last.plus_seconds(-dur(settings.overlap)),
        None => now.plus_seconds(-dur(settings.initial_history)),
    }
}

/// The oldest stored transaction the plan looks at: the re-fetched window,
/// or further back for pending ones (card holds settle or lapse within days).
pub(crate) fn stored_from(from: Timestamp, now: Timestamp, settings: &SyncSettings) -> Timestamp {
    from.min(now.plus_seconds(-dur(settings.pending_lookback)))
}

/// One fetched transaction under its id: which account it came with, its
/// stable key, and whether it is pending.
pub(crate) struct Wanted<'a> {
    account: usize,
    key: String,
    txn: &'a ProviderTransaction,
    pending: bool,
}

/// Every fetched transaction by our id (deterministic from provider,
/// account and stable key, so a re-sync finds the same items). Pending ones
/// go in first, so a settled one wins an id they share.
pub(crate) fn wanted(fetched: &[Fetched]) -> BTreeMap<TransactionId, Wanted<'_>> {
    let provider = "truelayer";
    let mut wanted = BTreeMap::new();
    for (i, f) in fetched.iter().enumerate() {
        let acc = account_id(&f.account.account_id);
        for (pending, list) in [(true, &f.pending), (false, &f.settled)] {
            for (key, txn) in keyed(list, pending) {
                let id = TransactionId::deterministic(provider, &acc, &key);
                wanted.insert(id, Wanted { account: i, key, txn, pending });
            }
        }
    }
    wanted
}

/// The changes that make the stored transactions of this connection's
/// accounts equal to what the provider returned for the window `from..=now`:
/// `stored` holds the stored items with the wanted ids, `window` the user's
/// stored transactions since [`stored_from`]. Unchanged ones are not
/// written; pending ones no longer pending, and settled ones inside the
/// window the provider no longer returns, are removed.
pub(crate) fn changes(
    conn: &BankConnection,
    fetched: &[Fetched],
    wanted: &BTreeMap<TransactionId, Wanted<'_>>,
    stored: Vec<Versioned<Transaction>>,
    window: Vec<Versioned<Transaction>>,
    from: Timestamp,
    now: Timestamp,
) -> Vec<Change> {
    let mut stored: BTreeMap<TransactionId, Versioned<Transaction>> =
        stored.into_iter().map(|v| (v.value.transaction_id.clone(), v)).collect();
    let accounts: BTreeSet<AccountId> = fetched.iter().map(|f| account_id(&f.account.account_id)).collect();
    let mut changes = Vec::new();
    for (id, w) in wanted {
        let before = stored.remove(id);
        let account = &fetched[w.account].account;
        let mut after = to_transaction(conn, account, id.clone(), &w.key, w.txn, w.pending, before.as_ref().map(|b| &b.value), now);
        if let Some(b) = &before {
            if after == b.value {
                continue;
            }
            after.updated_at = now;
        }
        changes.push(Change { before, after: Some(after) });
    }
    let ours = |t: &Transaction| t.source == Some(TransactionSource::Truelayer) && accounts.contains(&t.account_id);
    for t in window.into_iter().filter(|t| ours(&t.value)) {
        if wanted.contains_key(&t.value.transaction_id) {
            continue;
        }
        // Not pending any more (settled under its own id, or dropped), or a
        // settled one inside the re-fetched window the provider no longer has.
        let gone = t.value.is_pending || (t.value.timestamp >= from && t.value.timestamp <= now);
        if gone {
            changes.push(Change { before: Some(t), after: None });
        }
    }
    changes
}

/// The transactions `changes` store for the first time that are `large` or
/// larger either way: notified once written. None on a connection's first
/// sync (its history is not news).
pub(crate) fn large_new(changes: &[Change], first_sync: bool, large: Money) -> Vec<Transaction> {
    if first_sync {
        return Vec::new();
    }
    changes.iter().filter(|c| c.before.is_none()).filter_map(|c| c.after.clone()).filter(|t| t.amount.abs() >= large).collect()
}

/// How long after its `retry_count`-th failure in a row (from 1) a
/// connection is synced again: the base doubled per failure, at least what
/// the provider asked for, at most the maximum.
pub(crate) fn retry_delay(settings: &SyncSettings, retry_count: u32, retry_after: Option<Duration>) -> Duration {
    let exp = settings.retry_base.saturating_mul(1 << (retry_count.max(1) - 1).min(16));
    exp.max(retry_after.unwrap_or_default()).min(settings.retry_max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ProviderBalance;
    use crate::sync::map::tests::{account, txn};
    use expenzez_domain::ids::UserId;
    use expenzez_domain::money::Currency;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn conn(last_sync: Option<&str>) -> BankConnection {
        let mut c =
            crate::memory::demo_connection(&UserId::new("11111111-2222-4333-8444-555555555555").unwrap(), at("2025-07-01T00:00:00Z"));
        c.stats.last_successful_sync = last_sync.map(at);
        c
    }

    fn fetched(settled: Vec<ProviderTransaction>, pending: Vec<ProviderTransaction>) -> Vec<Fetched> {
        let balance = ProviderBalance {
            currency: Currency::new("GBP").unwrap(),
            available: Money::ZERO,
            current: Money::ZERO,
            overdraft: None,
            updated_at: at("2025-08-10T00:00:00Z"),
        };
        vec![Fetched { account: account("acc-1"), balance, settled, pending }]
    }

    /// What a sync of `f` at `now` plans against `stored` (both the id
    /// lookup and the window).
    fn plan(c: &BankConnection, f: &[Fetched], stored: &[Transaction], from: &str, now: &str) -> Vec<Change> {
        let w = wanted(f);
        let versioned = |t: &Transaction| Versioned { value: t.clone(), version: 1 };
        let by_id = stored.iter().filter(|t| w.contains_key(&t.transaction_id)).map(versioned).collect();
        let window = stored.iter().map(versioned).collect();
        changes(c, f, &w, by_id, window, at(from), at(now))
    }

    fn written(changes: &[Change]) -> Vec<Transaction> {
        changes.iter().filter_map(|c| c.after.clone()).collect()
    }

    #[test]
    fn a_first_sync_writes_everything_and_notifies_nothing() {
        let c = conn(None);
        let f = fetched(
            vec![txn(Some("s-1"), "2025-08-01T10:00:00Z", -500, "COFFEE"), txn(Some("s-2"), "2025-08-02T10:00:00Z", -90_000, "RENT")],
            vec![],
        );
        let plan = plan(&c, &f, &[], "2025-05-01T00:00:00Z", "2025-08-10T00:00:00Z");
        assert_eq!(plan.len(), 2);
        assert!(plan.iter().all(|c| c.before.is_none() && c.after.is_some()));
        assert!(large_new(&plan, true, Money::from_minor(25_000)).is_empty());
        // On a later sync the same plan notifies the large one only.
        let large = large_new(&plan, false, Money::from_minor(25_000));
        assert_eq!(large.iter().map(|t| t.amount.minor()).collect::<Vec<_>>(), vec![-90_000]);
    }

    #[test]
    fn a_resync_of_the_same_data_writes_nothing() {
        let c = conn(Some("2025-08-09T00:00:00Z"));
        let f = fetched(
            vec![txn(Some("s-1"), "2025-08-05T10:00:00Z", -500, "COFFEE"), txn(None, "2025-08-06T10:00:00Z", -700, "LUNCH")],
            vec![],
        );
        let first = written(&plan(&c, &f, &[], "2025-08-02T00:00:00Z", "2025-08-09T00:00:00Z"));
        assert_eq!(first.len(), 2);
        assert!(plan(&c, &f, &first, "2025-08-02T00:00:00Z", "2025-08-10T00:00:00Z").is_empty());
    }

    #[test]
    fn what_the_provider_no_longer_returns_is_removed_inside_the_window_only() {
        let c = conn(Some("2025-08-09T00:00:00Z"));
        let old = fetched(
            vec![txn(Some("early"), "2025-07-01T10:00:00Z", -100, "EARLY"), txn(Some("late"), "2025-08-05T10:00:00Z", -200, "LATE")],
            vec![txn(Some("hold"), "2025-08-08T10:00:00Z", -300, "HOLD")],
        );
        let mut stored = written(&plan(&c, &old, &[], "2025-05-01T00:00:00Z", "2025-08-09T00:00:00Z"));
        // Not the sync's own: a manual one in the window stays.
        let mut manual = stored[0].clone();
        manual.transaction_id = TransactionId::new("manual-1").unwrap();
        manual.source = None;
        stored.push(manual);
        // Now the provider returns nothing: the hold lapsed, `late` is gone
        // from the re-fetched window, `early` is before it.
        let plan = plan(&c, &fetched(vec![], vec![]), &stored, "2025-08-02T00:00:00Z", "2025-08-10T00:00:00Z");
        let mut removed: Vec<&str> =
            plan.iter().filter(|c| c.after.is_none()).map(|c| c.before.as_ref().unwrap().value.description.as_str()).collect();
        removed.sort();
        assert_eq!(removed, vec!["HOLD", "LATE"]);
        assert_eq!(plan.len(), 2);
    }

    #[test]
    fn a_settled_transaction_wins_the_id_it_shares_with_a_pending_one() {
        let f = fetched(
            vec![txn(Some("s-1"), "2025-08-05T10:00:00Z", -500, "COFFEE")],
            vec![txn(Some("s-1"), "2025-08-05T09:00:00Z", -500, "COFFEE")],
        );
        let w = wanted(&f);
        assert_eq!(w.len(), 1);
        assert!(!w.values().next().unwrap().pending);
    }

    #[test]
    fn the_window_and_the_backoff() {
        let s = SyncSettings::default();
        let now = at("2025-08-10T00:00:00Z");
        assert_eq!(fetch_from(&conn(None), &s, now), at("2025-05-12T00:00:00Z"));
        assert_eq!(fetch_from(&conn(Some("2025-08-09T00:00:00Z")), &s, now), at("2025-08-02T00:00:00Z"));
        // Pending ones are looked at 30 days back even after a recent sync.
        assert_eq!(stored_from(at("2025-08-02T00:00:00Z"), now, &s), at("2025-07-11T00:00:00Z"));
        assert_eq!(retry_delay(&s, 1, None), Duration::from_secs(300));
        assert_eq!(retry_delay(&s, 3, None), Duration::from_secs(1200));
        assert_eq!(retry_delay(&s, 1, Some(Duration::from_secs(900))), Duration::from_secs(900));
        assert_eq!(retry_delay(&s, 40, None), s.retry_max);
    }
}
