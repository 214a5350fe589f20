//! Imports end to end through the local API server and Cognito: CSV rows,
//! duplicates, bad rows, the monthly quota.

use expenzez_domain::ids::UserId;
use expenzez_tests::{send, stored_transactions, ApiEnv, TestUser};
use serde_json::{json, Value};

fn rows() -> Value {
    json!({
        "transactions": [
            {"id": "r1", "date": "2025-08-01", "description": "TESCO STORES 2345", "amount": -23.45, "type": "debit"},
            {"id": "r2", "date": "02/08/2025", "description": "Salary ACME Ltd", "amount": "2,500.00", "type": "credit", "category": "Income"},
            {"id": "r3", "date": "2025-08-03", "description": "Coffee", "amount": -3.10, "originalAmount": 3.10},
            {"id": "r4", "date": "2025-08-03", "description": "Coffee", "amount": -3.10},
            {"id": "r5", "date": "2025-09-12", "description": "NETFLIX.COM", "amount": -10.99},
        ],
        "bank": {"name": "Monzo", "id": "monzo-main"}
    })
}

async fn month(env: &ApiEnv, u: &TestUser, m: &str) -> Value {
    send(env.get(u, &format!("/transactions/summary?month={m}"))).await.2["summary"].clone()
}

#[tokio::test]
async fn the_same_csv_twice_adds_nothing_the_second_time() {
    let env = ApiEnv::start().await;
    let u = env.user("alice", false).await;
    let (s, _, b) = send(env.post(&u, "/transactions/import-csv", &rows())).await;
    assert_eq!(s, 200, "{b}");
    let sum = &b["summary"];
    assert_eq!((sum["imported"].as_u64(), sum["failed"].as_u64(), sum["duplicatesSkipped"].as_u64()), (Some(5), Some(0), Some(0)), "{b}");
    // Tesco, the two coffees and Netflix by keyword; the salary had its own category.
    assert_eq!(sum["keywordCategorized"], 4, "{b}");
    assert_eq!(sum["aiCategorized"], 0);
    assert_eq!(b["errors"], json!([]));
    let first = stored_transactions(&env.table, &UserId::new(&u.sub).unwrap()).await;
    assert_eq!(first.len(), 5, "the two identical coffees are two transactions");
    let aug = month(&env, &u, "2025-08").await;
    assert_eq!((aug["monthTotals"]["debit"].as_f64(), aug["monthTotals"]["credit"].as_f64()), (Some(29.65), Some(2500.0)), "{aug}");
    assert_eq!(aug["byCategory"]["Groceries"]["debit"].as_f64(), Some(23.45), "{aug}");
    assert_eq!(aug["byCategory"]["Food & Dining"]["debit"].as_f64(), Some(6.2), "{aug}");
    assert_eq!(month(&env, &u, "2025-09").await["byCategory"]["Entertainment"]["debit"].as_f64(), Some(10.99));
    let user = UserId::new(&u.sub).unwrap();
    assert_eq!(expenzez_tests::summary_mismatch(&env.table, &user, &first).await, None);
    let (_, _, usage) = send(env.get(&u, "/transactions/import-usage")).await;
    assert_eq!(usage, json!({"tier": "free", "used": 1, "limit": 5, "remaining": 4, "premiumLimit": 100}));

    // Again: every row is a duplicate; nothing written, no quota used.
    let (s, _, b) = send(env.post(&u, "/transactions/import-csv", &rows())).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["summary"]["imported"].as_u64(), b["summary"]["duplicatesSkipped"].as_u64()), (Some(0), Some(5)), "{b}");
    assert_eq!(stored_transactions(&env.table, &UserId::new(&u.sub).unwrap()).await, first);
    assert_eq!(send(env.get(&u, "/transactions/import-usage")).await.2["used"], 1);
    assert_eq!(month(&env, &u, "2025-08").await["monthTotals"]["debit"].as_f64(), Some(29.65));

    // Another user importing the same file gets their own transactions.
    let bob = env.user("bob", false).await;
    let (_, _, b) = send(env.post(&bob, "/transactions/import-csv", &rows())).await;
    assert_eq!(b["summary"]["imported"], 5, "{b}");
}

#[tokio::test]
async fn a_csv_with_bad_rows_imports_the_good_ones_and_lists_the_bad() {
    let env = ApiEnv::start().await;
    let u = env.user("alice", false).await;
    let body = json!({"transactions": [
        {"id": "ok-1", "date": "2025-08-01", "description": "Boots", "amount": -4.50},
        {"id": "bad-date", "date": "2025-02-30", "description": "x", "amount": -1},
        {"id": "bad-amount", "date": "2025-08-01", "description": "x", "amount": 1.234},
        {"id": "zero", "date": "2025-08-01", "description": "x", "amount": 0},
        {"id": "bad-type", "date": "2025-08-01", "description": "x", "amount": 1, "type": "sideways"},
        {"id": "extra", "date": "2025-08-01", "description": "x", "amount": 1, "colour": "red"},
        "not an object",
        {"id": "ok-2", "date": "2025-08-02T09:30:00Z", "description": "Refund from Argos", "amount": 15, "category": "Shopping"},
    ]});
    let (s, _, b) = send(env.post(&u, "/transactions/import-csv", &body)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        (b["summary"]["imported"].as_u64(), b["summary"]["failed"].as_u64(), b["summary"]["total"].as_u64()),
        (Some(2), Some(6), Some(8)),
        "{b}"
    );
    let errors = b["errors"].as_array().unwrap();
    let rows: Vec<(u64, &str)> = errors.iter().map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap())).collect();
    assert_eq!(rows, vec![(2, "date"), (3, "amount"), (4, "amount"), (5, "type"), (6, "colour"), (7, "$")], "{b}");
    assert_eq!(errors[0]["id"], "bad-date");
    assert!(errors.iter().all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())), "{b}");
    let txns = stored_transactions(&env.table, &UserId::new(&u.sub).unwrap()).await;
    let mut got: Vec<(&str, i64)> = txns.iter().map(|t| (t.category.primary.as_str(), t.amount.minor())).collect();
    got.sort();
    assert_eq!(got, vec![("Health & Fitness", -450), ("Shopping", 1500)]);
    assert_eq!(expenzez_tests::summary_mismatch(&env.table, &UserId::new(&u.sub).unwrap(), &txns).await, None);

    // Whole-body problems are 4xx and write nothing.
    for (body, status) in [(json!({"transactions": []}), 422), (json!({"rows": []}), 422), (json!({"transactions": [{}], "bank": 3}), 422)]
    {
        assert_eq!(send(env.post(&u, "/transactions/import-csv", &body)).await.0, status, "{body}");
    }
    assert_eq!(stored_transactions(&env.table, &UserId::new(&u.sub).unwrap()).await.len(), 2);
}

#[tokio::test]
async fn over_the_monthly_quota_is_403_import_limit_reached() {
    let env = ApiEnv::start().await;
    let admin = env.user("admin", true).await;
    let u = env.user("alice", false).await;
    let (s, _, b) = send(env.put(
        &admin,
        "/admin/config/importMonthlyLimitFree",
        &json!({"value": 2, "category": "feature_flags", "dataType": "number", "description": "Imports a month, free tier"}),
    ))
    .await;
    assert!(s == 200 || s == 201, "{b}");
    let csv = |n: usize| json!({"transactions": [{"date": "2025-08-01", "description": format!("Row {n}"), "amount": -1}]});
    for n in 0..2 {
        let (s, _, b) = send(env.post(&u, "/transactions/import-csv", &csv(n))).await;
        assert_eq!((s, b["summary"]["imported"].as_u64()), (200, Some(1)), "{b}");
    }
    let (_, _, usage) = send(env.get(&u, "/transactions/import-usage")).await;
    assert_eq!((usage["used"].as_u64(), usage["limit"].as_u64(), usage["remaining"].as_u64()), (Some(2), Some(2), Some(0)), "{usage}");
    let (s, _, b) = send(env.post(&u, "/transactions/import-csv", &csv(9))).await;
    assert_eq!((s, b["error"]["code"].as_str()), (403, Some("IMPORT_LIMIT_REACHED")), "{b}");
    assert!(b["message"].as_str().unwrap().contains('2'), "{b}");
    assert_eq!(stored_transactions(&env.table, &UserId::new(&u.sub).unwrap()).await.len(), 2, "nothing written over the quota");
    // A re-import that adds nothing is not refused: it uses no quota.
    let (s, _, b) = send(env.post(&u, "/transactions/import-csv", &csv(0))).await;
    assert_eq!((s, b["summary"]["duplicatesSkipped"].as_u64()), (200, Some(1)), "{b}");
}
