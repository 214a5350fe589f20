//! Property: for any sequence of transaction changes (created, edited,
//! moved across the local-month and local-week boundaries, deleted), every
//! budget's (monthly and weekly)
//! `currentSpent` from `GET /budgets` equals the figure recomputed from the
//! transactions themselves, and each threshold of each budget is alerted at
//! most once in the period (however often it is evaluated and however the
//! spending moves around it), and is alerted as soon as it has been reached.

use expenzez_budgets::evaluate::evaluate_periods;
use expenzez_budgets::period::Period;
use expenzez_budgets::spend::{reached, PeriodSpending};
use expenzez_budgets::{BudgetStore, MonthPeriod};
use expenzez_domain::entities::PeriodType;
use expenzez_domain::entities::Transaction;
use expenzez_domain::ids::UserId;
use expenzez_domain::{keys, FixedClock, Money, Timestamp};
use expenzez_store::{Query, Table};
use expenzez_tests::fresh_table_with_clock;
use expenzez_tests::samples::{json_request, reply};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const SUB: &str = "budget-prop-user";
const CATS: [&str; 4] = ["Groceries", "groceries", "Transport", "Income"];
/// Instants around July 2026 in London (BST): 23:30 UTC on 30 June is July,
/// 23:30 UTC on 31 July is August, 22:30 UTC on 30 June is June; the week of
/// the clock (Monday 13 July) starts at 23:00 UTC on Sunday 12 July and ends
/// at 23:00 UTC on Sunday 19 July.
const TIMES: [&str; 10] = [
    "2026-06-30T22:30:00Z",
    "2026-06-30T23:30:00Z",
    "2026-07-01T00:30:00Z",
    "2026-07-10T12:00:00Z",
    "2026-07-12T22:30:00Z",
    "2026-07-12T23:30:00Z",
    "2026-07-19T22:30:00Z",
    "2026-07-19T23:30:00Z",
    "2026-07-31T22:30:00Z",
    "2026-07-31T23:30:00Z",
];

#[derive(Debug, Clone)]
enum Op {
    Create { minor: i64, at: usize, cat: usize },
    Update { which: usize, minor: Option<i64>, at: Option<usize>, cat: Option<usize> },
    Delete { which: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let minor = prop_oneof![3 => -6_000i64..-1, 1 => 1i64..4_000];
    prop_oneof![
        3 => (minor.clone(), 0usize..TIMES.len(), 0usize..CATS.len()).prop_map(|(minor, at, cat)| Op::Create { minor, at, cat }),
        2 => (any::<usize>(), proptest::option::of(minor), proptest::option::of(0usize..TIMES.len()), proptest::option::of(0usize..CATS.len()))
            .prop_map(|(which, minor, at, cat)| Op::Update { which, minor, at, cat }),
        1 => any::<usize>().prop_map(|which| Op::Delete { which }),
    ]
}

fn amount(minor: i64) -> Value {
    serde_json::from_str(&Money::from_minor(minor).to_string()).unwrap()
}

async fn call(table: &Table, function: &str, method: &str, route: &str, path: &str, id: Option<&str>, body: Option<Value>) -> (u16, Value) {
    reply(&expenzez_api::routes::dispatch(function, table, json_request(SUB, method, route, path, id, body.as_ref())).await.unwrap())
}

async fn budgets_call(table: &Table, function: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    reply(&expenzez_budgets::routes::dispatch(function, table, json_request(SUB, method, path, path, None, body.as_ref())).await.unwrap())
}

async fn transactions(table: &Table, user: &UserId) -> Vec<Transaction> {
    table
        .query_all_items(&Query::table(SUB, keys::user_pk(user)).begins_with(keys::prefix::TRANSACTION))
        .await
        .unwrap()
        .into_iter()
        .map(|i| Table::decode::<Transaction>(i).unwrap().value)
        .collect()
}

async fn run(ops: Vec<Op>, redeliver: Vec<bool>) -> Result<(), TestCaseError> {
    let clock = Arc::new(FixedClock::new(Timestamp::parse("2026-07-15T12:00:00Z").unwrap()));
    let table = fresh_table_with_clock(clock).await;
    let user = UserId::new(SUB).unwrap();
    // A live account (writes check it in the same request).
    table.put(&expenzez_tests::fixtures::profile(&user, "prop@example.com"), expenzez_store::Condition::MustNotExist).await.unwrap();
    let july: Period = MonthPeriod::containing(table.now()).into();
    let week = Period::containing(PeriodType::Weekly, table.now());
    let (s, b) = budgets_call(
        &table,
        "PutBudgetPreferencesFunction",
        "PUT",
        "/profile/budget-preferences",
        Some(json!({
            "monthlySpendingLimit": 200,
            "categoryBudgets": {"Groceries": 100, "Transport": 50},
            "alertThreshold": 80,
            "budgetOptions": {"Transport": {"period": "weekly"}}
        })),
    )
    .await;
    prop_assert_eq!(s, 200, "{}", b);
    let budgets: Vec<_> = table.budgets(&user).await.unwrap().into_iter().map(|v| v.value).collect();
    prop_assert_eq!(budgets.iter().filter(|b| b.period.kind == PeriodType::Weekly).count(), 1, "Transport is weekly");
    // How often each alert id was raised, and the most each budget ever spent.
    let mut raised: BTreeMap<String, u32> = BTreeMap::new();
    let mut most: BTreeMap<String, Money> = BTreeMap::new();
    let mut ids: Vec<String> = Vec::new();
    for (i, op) in ops.into_iter().enumerate() {
        match op {
            Op::Create { minor, at, cat } => {
                let body = json!({"amount": amount(minor), "description": "p", "category": CATS[cat], "date": TIMES[at]});
                let (s, b) = call(&table, "CreateTransactionFunction", "POST", "/transactions", "/transactions", None, Some(body)).await;
                prop_assert_eq!(s, 201, "{}", b);
                ids.push(b["transaction"]["id"].as_str().unwrap().to_string());
            }
            Op::Update { which, minor, at, cat } if !ids.is_empty() => {
                let id = ids[which % ids.len()].clone();
                let mut body = serde_json::Map::new();
                if let Some(m) = minor {
                    body.insert("amount".into(), amount(m));
                }
                if let Some(a) = at {
                    body.insert("date".into(), TIMES[a].into());
                }
                if let Some(c) = cat {
                    body.insert("category".into(), CATS[c].into());
                }
                let path = format!("/transactions/{id}");
                let (s, b) =
                    call(&table, "UpdateTransactionFunction", "PUT", "/transactions/{id}", &path, Some(&id), Some(Value::Object(body)))
                        .await;
                prop_assert_eq!(s, 200, "{}", b);
            }
            Op::Delete { which } if !ids.is_empty() => {
                let id = ids.remove(which % ids.len());
                let path = format!("/transactions/{id}");
                let (s, b) = call(&table, "DeleteTransactionFunction", "DELETE", "/transactions/{id}", &path, Some(&id), None).await;
                prop_assert_eq!(s, 200, "{}", b);
            }
            _ => {}
        }
        // The evaluator runs after each change, sometimes twice (a redelivered batch).
        let times = if redeliver.get(i).copied().unwrap_or(false) { 2 } else { 1 };
        for _ in 0..times {
            for id in evaluate_periods(&table, None, &user, &[july, week]).await.unwrap() {
                *raised.entry(id.to_string()).or_default() += 1;
            }
        }
        // GET /budgets against the recomputation from the transactions.
        let txns = transactions(&table, &user).await;
        prop_assert_eq!(txns.len(), ids.len());
        let period_of = |b: &expenzez_domain::entities::UserBudget| if b.period.kind == PeriodType::Weekly { week } else { july };
        let (s, list) = budgets_call(&table, "ListBudgetsFunction", "GET", "/budgets", None).await;
        prop_assert_eq!(s, 200);
        for b in &budgets {
            let view = list["budgets"].as_array().unwrap().iter().find(|v| v["id"] == b.budget_id.to_string()).unwrap();
            let got = Money::parse(&view["currentSpent"].to_string()).unwrap();
            let expected = PeriodSpending::recompute(&period_of(b), &txns).unwrap().spent_by(b).unwrap();
            prop_assert_eq!(got, expected, "{} after op {}", b.name, i);
            let m = most.entry(b.budget_id.to_string()).or_insert(Money::ZERO);
            *m = (*m).max(expected);
        }
        // Each threshold reached so far has exactly its one alert; none other exists.
        let stored: BTreeSet<String> = table.alerts(&user).await.unwrap().into_iter().map(|a| a.value.alert_id.to_string()).collect();
        let mut expected_alerts = BTreeSet::new();
        for b in &budgets {
            for &t in &b.alerts.thresholds {
                if reached(most[&b.budget_id.to_string()], b.limit, t) {
                    expected_alerts.insert(expenzez_budgets::model::alert_id(&user, &b.budget_id, &period_of(b), t).to_string());
                }
            }
        }
        prop_assert_eq!(&stored, &expected_alerts, "after op {}", i);
    }
    prop_assert!(raised.values().all(|n| *n == 1), "an alert raised twice: {:?}", raised);
    prop_assert_eq!(
        raised.keys().cloned().collect::<BTreeSet<_>>(),
        table.alerts(&user).await.unwrap().into_iter().map(|a| a.value.alert_id.to_string()).collect::<BTreeSet<_>>()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]
    #[test]
    fn current_spent_is_the_recomputation_and_each_threshold_alerts_once(
        ops in proptest::collection::vec(op(), 1..20),
        redeliver in proptest::collection::vec(any::<bool>(), 20),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run(ops, redeliver))?;
    }
}
