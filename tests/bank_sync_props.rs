//! Property: any sequence of syncs over a bank whose data changes between
//! them (added, changed, provider- and user-recategorised, pending→settled,
//! removed transactions) leaves every monthly summary equal to the sum
//! recomputed from the stored transactions, and the stored transactions
//! equal to the bank's.

use expenzez_api::error::ApiError;
use expenzez_banking::memory::{MemoryAccount, MemoryProvider};
use expenzez_banking::provider::{AccountNumber, ProviderAccount, ProviderBalance, ProviderTransaction};
use expenzez_banking::sync::account_id;
use expenzez_banking::{sync_connection, SyncSettings};
use expenzez_domain::entities::{AccountType, Transaction};
use expenzez_domain::ids::UserId;
use expenzez_domain::keys::{self, Category};
use expenzez_domain::money::{Currency, Money};
use expenzez_domain::FixedClock;
use expenzez_store::{Condition, Query, Table};
use expenzez_tests::banking::{fresh_connection, now};
use expenzez_tests::fresh_table_with_clock;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, Clone)]
enum Op {
    Add { acc: usize, days_ago: i64, minor: i64, cat: usize, pending: bool },
    Change { which: usize, minor: i64 },
    Recategorise { which: usize, cat: usize },
    UserRecategorise { which: usize, cat: usize },
    Settle { which: usize },
    Remove { which: usize },
    Sync { hours: i64 },
}

const CATS: [&str; 3] = ["Groceries", "Transport", "Income"];

fn op() -> impl Strategy<Value = Op> {
    let minor = prop_oneof![-50_000i64..-1, 1i64..50_000];
    prop_oneof![
        4 => (0usize..2, 0i64..6, minor.clone(), 0usize..3, any::<bool>())
            .prop_map(|(acc, days_ago, minor, cat, pending)| Op::Add { acc, days_ago, minor, cat, pending }),
        2 => (any::<usize>(), minor).prop_map(|(which, minor)| Op::Change { which, minor }),
        1 => (any::<usize>(), 0usize..3).prop_map(|(which, cat)| Op::Recategorise { which, cat }),
        1 => (any::<usize>(), 0usize..3).prop_map(|(which, cat)| Op::UserRecategorise { which, cat }),
        2 => any::<usize>().prop_map(|which| Op::Settle { which }),
        1 => any::<usize>().prop_map(|which| Op::Remove { which }),
        3 => (1i64..30).prop_map(|hours| Op::Sync { hours }),
    ]
}

fn bank() -> MemoryProvider {
    let accounts = (0..2)
        .map(|n| MemoryAccount {
            account: ProviderAccount {
                account_id: format!("acc-{n}"),
                account_type: AccountType::Checking,
                display_name: format!("Account {n}"),
                currency: Currency::gbp(),
                number: AccountNumber { number: Some("12345678".into()), sort_code: Some("30-96-32".into()), iban: None },
                bank_name: "Prop Bank".into(),
                logo: None,
            },
            balance: ProviderBalance {
                currency: Currency::gbp(),
                available: Money::ZERO,
                current: Money::ZERO,
                overdraft: None,
                updated_at: now(),
            },
            settled: Vec::new(),
            pending: Vec::new(),
        })
        .collect();
    MemoryProvider::new(accounts)
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let clock = Arc::new(FixedClock::new(now()));
    let table = fresh_table_with_clock(clock.clone()).await;
    let user = UserId::new("prop-bank-user").unwrap();
    expenzez_tests::fixtures::open_account(&table, &user).await;
    let conn = fresh_connection(&user, "conn-p");
    table.put(&conn, Condition::MustNotExist).await.unwrap();
    let bank = bank();
    // Longer than any sequence here runs the clock, so no pending one ages out.
    let settings = SyncSettings { pending_lookback: std::time::Duration::from_secs(60 * 86_400), ..SyncSettings::default() };
    let mut serial = 0;
    for op in ops {
        let t_now = table.now();
        match op {
            Op::Add { acc, days_ago, minor, cat, pending } => {
                serial += 1;
                // Days straddle a month end (the clock starts 20 Aug and moves on).
                let at = t_now.plus_seconds(-days_ago * 86_400 - serial);
                let t = ProviderTransaction {
                    transaction_id: format!("volatile-{serial}"),
                    // Pending ones often have no stable id yet.
                    normalised_provider_transaction_id: (!pending).then(|| format!("n-{serial}")),
                    provider_transaction_id: None,
                    timestamp: at,
                    description: format!("T{serial}"),
                    amount: Money::from_minor(minor),
                    currency: Currency::gbp(),
                    transaction_type: if minor < 0 { "DEBIT" } else { "CREDIT" }.into(),
                    transaction_category: "PURCHASE".into(),
                    transaction_classification: vec![CATS[cat].into()],
                    merchant_name: None,
                    running_balance: None,
                };
                bank.edit(|a| {
                    let a = a.get_mut(&format!("acc-{acc}")).unwrap();
                    if pending {
                        a.pending.push(t)
                    } else {
                        a.settled.push(t)
                    }
                });
            }
            Op::Change { which, minor } => bank.edit(|a| {
                let all: Vec<&mut ProviderTransaction> = a.values_mut().flat_map(|a| a.settled.iter_mut()).collect();
                let n = all.len();
                if let Some(t) = all.into_iter().nth(which % n.max(1)) {
                    t.amount = Money::from_minor(minor);
                }
            }),
            Op::Recategorise { which, cat } => bank.edit(|a| {
                let all: Vec<&mut ProviderTransaction> = a.values_mut().flat_map(|a| a.settled.iter_mut()).collect();
                let n = all.len();
                if let Some(t) = all.into_iter().nth(which % n.max(1)) {
                    t.transaction_classification = vec![CATS[cat].into()];
                }
            }),
            Op::UserRecategorise { which, cat } => {
                let stored = transactions(&table, &user).await;
                if !stored.is_empty() {
                    let id = stored[which % stored.len()].transaction_id.clone();
                    expenzez_api::ledger::apply(&table, &user, &id, None, vec![], |b| {
                        let mut t = b.cloned().ok_or(ApiError::NotFound)?;
                        t.category.primary = Category::new(CATS[cat]).unwrap();
                        t.category.user_modified = true;
                        Ok(Some(t))
                    })
                    .await
                    .unwrap();
                }
            }
            Op::Settle { which } => bank.edit(|a| {
                let accs: Vec<&mut MemoryAccount> = a.values_mut().filter(|a| !a.pending.is_empty()).collect();
                let n = accs.len();
                if let Some(a) = accs.into_iter().nth(which % n.max(1)) {
                    let mut t = a.pending.remove(which % a.pending.len());
                    // Settles under a new volatile id, with a stable id and a
                    // later time (never in the future).
                    t.transaction_id = format!("{}-settled", t.transaction_id);
                    t.normalised_provider_transaction_id = Some(format!("settled-{}", t.description));
                    t.timestamp = t.timestamp.plus_seconds(3600).min(t_now);
                    a.settled.push(t);
                }
            }),
            Op::Remove { which } => bank.edit(|a| {
                let accs: Vec<&mut MemoryAccount> = a.values_mut().filter(|a| !a.settled.is_empty()).collect();
                let n = accs.len();
                if let Some(a) = accs.into_iter().nth(which % n.max(1)) {
                    let i = which % a.settled.len();
                    a.settled.remove(i);
                }
            }),
            Op::Sync { hours } => {
                clock.advance_seconds(hours * 3600);
                sync_connection(&table, &bank, &settings, &user, &conn.connection_id).await.unwrap();
            }
        }
    }
    sync_connection(&table, &bank, &settings, &user, &conn.connection_id).await.unwrap();

    // Every summary equals the recomputed sum.
    let txns = transactions(&table, &user).await;
    prop_assert_eq!(expenzez_tests::summary_mismatch(&table, &user, &txns).await, None);
    // Everything the bank holds in the re-fetched window is stored, once, with
    // the bank's amount; nothing is stored that the bank no longer has.
    let from = table.now().plus_seconds(-(settings.overlap.as_secs() as i64));
    let mut want: BTreeMap<(String, i64, String), usize> = BTreeMap::new();
    bank.edit(|a| {
        for acc in a.values() {
            for t in acc.settled.iter().filter(|t| t.timestamp >= from).chain(acc.pending.iter()) {
                *want.entry((account_id(&acc.account.account_id).to_string(), t.amount.minor(), t.description.clone())).or_default() += 1;
            }
        }
    });
    let mut got: BTreeMap<(String, i64, String), usize> = BTreeMap::new();
    for t in txns.iter().filter(|t| t.timestamp >= from || t.is_pending) {
        *got.entry((t.account_id.to_string(), t.amount.minor(), t.description.clone())).or_default() += 1;
    }
    prop_assert_eq!(got, want);
    Ok(())
}

async fn transactions(table: &Table, user: &UserId) -> Vec<Transaction> {
    table
        .query_all_items(&Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::TRANSACTION))
        .await
        .unwrap()
        .into_iter()
        .map(|i| Table::decode::<Transaction>(i).unwrap().value)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn synced_summaries_always_equal_the_recomputed_totals(ops in proptest::collection::vec(op(), 1..30)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run(ops))?;
    }
}
