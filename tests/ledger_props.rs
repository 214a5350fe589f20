//! Property: any sequence of POST/PUT/DELETE on transactions leaves every
//! monthly summary equal to the totals recomputed from the transactions.

use expenzez_api::routes::dispatch;
use expenzez_domain::entities::Transaction;
use expenzez_domain::keys;
use expenzez_store::{Query, Table};
use expenzez_tests::fresh_table;
use expenzez_tests::samples::{json_request, reply};
use proptest::prelude::*;
use serde_json::{json, Value};

const SUB: &str = "prop-user";

#[derive(Debug, Clone)]
enum Op {
    Create { minor: i64, day: u32, cat: usize },
    Update { which: usize, minor: Option<i64>, day: Option<u32>, cat: Option<usize> },
    Delete { which: usize },
}

const CATS: [&str; 3] = ["groceries", "transport", "income"];

fn op() -> impl Strategy<Value = Op> {
    let minor = prop_oneof![-50_000i64..-1, 1i64..50_000];
    // Days over three months, so updates move transactions between summaries.
    prop_oneof![
        3 => (minor.clone(), 0u32..90, 0usize..3).prop_map(|(minor, day, cat)| Op::Create { minor, day, cat }),
        2 => (any::<usize>(), proptest::option::of(minor), proptest::option::of(0u32..90), proptest::option::of(0usize..3))
            .prop_map(|(which, minor, day, cat)| Op::Update { which, minor, day, cat }),
        1 => any::<usize>().prop_map(|which| Op::Delete { which }),
    ]
}

fn date(day: u32) -> String {
    (chrono::NaiveDate::from_ymd_opt(2025, 7, 1).unwrap() + chrono::Days::new(day as u64)).to_string()
}

fn amount(minor: i64) -> Value {
    serde_json::from_str(&expenzez_domain::Money::from_minor(minor).to_string()).unwrap()
}

async fn call(table: &Table, function: &str, method: &str, path: &str, id: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let route = if id.is_some() { "/transactions/{id}" } else { "/transactions" };
    reply(&dispatch(function, table, json_request(SUB, method, route, path, id, body.as_ref())).await.unwrap())
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let table = fresh_table().await;
    expenzez_tests::fixtures::open_account(&table, &expenzez_domain::ids::UserId::new(SUB).unwrap()).await;
    let mut ids: Vec<String> = Vec::new();
    for op in ops {
        match op {
            Op::Create { minor, day, cat } => {
                let (s, b) = call(
                    &table,
                    "CreateTransactionFunction",
                    "POST",
                    "/transactions",
                    None,
                    Some(json!({"amount": amount(minor), "description": "p", "category": CATS[cat], "date": date(day)})),
                )
                .await;
                prop_assert_eq!(s, 201, "{}", b);
                ids.push(b["transaction"]["id"].as_str().unwrap().to_string());
            }
            Op::Update { which, minor, day, cat } if !ids.is_empty() => {
                let id = ids[which % ids.len()].clone();
                let mut body = serde_json::Map::new();
                if let Some(m) = minor {
                    body.insert("amount".into(), amount(m));
                }
                if let Some(d) = day {
                    body.insert("date".into(), date(d).into());
                }
                if let Some(c) = cat {
                    body.insert("category".into(), CATS[c].into());
                }
                let (s, b) =
                    call(&table, "UpdateTransactionFunction", "PUT", &format!("/transactions/{id}"), Some(&id), Some(Value::Object(body)))
                        .await;
                prop_assert_eq!(s, 200, "{}", b);
            }
            Op::Delete { which } if !ids.is_empty() => {
                let id = ids.remove(which % ids.len());
                let (s, b) = call(&table, "DeleteTransactionFunction", "DELETE", &format!("/transactions/{id}"), Some(&id), None).await;
                prop_assert_eq!(s, 200, "{}", b);
            }
            _ => {}
        }
    }
    // Recompute from the transactions themselves and compare with every stored summary.
    let user = expenzez_domain::ids::UserId::new(SUB).unwrap();
    let txns: Vec<Transaction> = table
        .query_all_items(&Query::table(SUB, keys::user_pk(&user)).begins_with(keys::prefix::TRANSACTION))
        .await
        .unwrap()
        .into_iter()
        .map(|i| Table::decode::<Transaction>(i).unwrap().value)
        .collect();
    prop_assert_eq!(txns.len(), ids.len());
    prop_assert_eq!(expenzez_tests::summary_mismatch(&table, &user, &txns).await, None);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn summaries_always_equal_the_recomputed_totals(ops in proptest::collection::vec(op(), 1..25)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run(ops))?;
    }
}
