//! The transactions screen's tools end to end, through the local API server
//! and Cognito: similar → bulk-categorize, bulk-exclude, another user's ids.

use expenzez_tests::{send, ApiEnv, TestUser};
use serde_json::{json, Value};

async fn create(env: &ApiEnv, u: &TestUser, amount: &str, date: &str, category: &str, merchant: &str) -> String {
    let body: Value = serde_json::from_str(&format!(
        r#"{{"amount": {amount}, "description": "{merchant} {date}", "category": "{category}", "date": "{date}", "merchant": "{merchant}"}}"#
    ))
    .unwrap();
    let (s, _, b) = send(env.post(u, "/transactions", &body)).await;
    assert_eq!(s, 201, "{b}");
    b["transaction"]["id"].as_str().unwrap().to_string()
}

async fn month(env: &ApiEnv, u: &TestUser, m: &str) -> Value {
    let (s, _, b) = send(env.get(u, &format!("/transactions/summary?month={m}"))).await;
    assert_eq!(s, 200, "{b}");
    b["summary"].clone()
}

fn debit(summary: &Value, category: &str) -> Option<f64> {
    summary["byCategory"].get(category).map(|c| c["debit"].as_f64().unwrap())
}

#[tokio::test]
async fn similar_then_bulk_categorize_moves_two_months_exactly() {
    let env = ApiEnv::start().await;
    let u = env.user("alice", false).await;
    let other = env.user("bob", false).await;
    // Three Tesco purchases over August and September under three spellings, one elsewhere.
    let aug1 = create(&env, &u, "-12.34", "2025-08-03", "Shopping", "TESCO STORES 2345 LONDON GB").await;
    let aug2 = create(&env, &u, "-5.01", "2025-08-20", "Other", "Tesco Stores").await;
    let sep1 = create(&env, &u, "-40.00", "2025-09-14", "Shopping", "tesco stores 0042").await;
    let _pret = create(&env, &u, "-3.20", "2025-08-04", "Shopping", "Pret A Manger").await;
    let already = create(&env, &u, "-1.00", "2025-09-15", "Groceries", "TESCO STORES").await;
    let bobs = create(&env, &other, "-9.99", "2025-08-05", "Shopping", "Tesco Stores").await;

    // The literal route wins over /transactions/{id}.
    let (s, _, b) =
        send(env.get(&u, &format!("/transactions/similar?merchant=Tesco%20Stores&newCategory=groceries&excludeId={aug1}"))).await;
    assert_eq!(s, 200, "{b}");
    let mut ids: Vec<String> = b["transactions"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(b["count"], 2, "aug1 excluded, 'already' in Groceries (case-insensitive), Pret and Bob's not similar: {b}");
    assert_eq!(ids, vec![sep1.clone(), aug2.clone()], "newest first");
    for t in b["transactions"].as_array().unwrap() {
        for f in ["id", "merchant", "description", "date", "category"] {
            assert!(t[f].is_string(), "{f} in {t}");
        }
        assert!(t["amount"].is_number());
    }
    let (s, _, b) = send(env.get(&u, "/transactions/similar")).await;
    assert_eq!((s, b["error"]["details"][0]["field"].as_str()), (422, Some("merchant")), "{b}");

    // Bulk-categorize the two, plus aug1, a repeated id, a missing id and Bob's transaction.
    ids.extend([aug1.clone(), aug1.clone(), "no-such-id".to_string(), bobs.clone()]);
    let (s, _, b) = send(env.post(&u, "/transactions/bulk-categorize", &json!({"transactionIds": ids, "category": "Groceries"}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["updated"].as_u64(), b["failed"].as_u64(), b["unchanged"].as_u64()), (Some(3), Some(2), Some(0)), "{b}");
    let mut failed: Vec<&str> = b["failedIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    failed.sort();
    let mut want = vec!["no-such-id", bobs.as_str()];
    want.sort();
    assert_eq!(failed, want);

    // August: 12.34 + 5.01 moved from Shopping and Other into Groceries; Pret stays in Shopping.
    let aug = month(&env, &u, "2025-08").await;
    assert_eq!(debit(&aug, "Groceries"), Some(17.35), "{aug}");
    assert_eq!(debit(&aug, "Shopping"), Some(3.20), "{aug}");
    assert_eq!(debit(&aug, "Other"), None, "{aug}");
    assert_eq!(aug["monthTotals"]["debit"].as_f64(), Some(20.55), "{aug}");
    // September: 40.00 joined the 1.00 already there.
    let sep = month(&env, &u, "2025-09").await;
    assert_eq!(debit(&sep, "Groceries"), Some(41.0), "{sep}");
    assert_eq!(debit(&sep, "Shopping"), None, "{sep}");
    assert_eq!(sep["monthTotals"]["count"], 2, "{sep}");
    let (_, _, t) = send(env.get(&u, &format!("/transactions/{aug2}"))).await;
    assert_eq!(t["transaction"]["category"], "Groceries");

    // Bob's transaction and summary are untouched.
    let (_, _, t) = send(env.get(&other, &format!("/transactions/{bobs}"))).await;
    assert_eq!(t["transaction"]["category"], "Shopping");
    assert_eq!(debit(&month(&env, &other, "2025-08").await, "Shopping"), Some(9.99));

    // The same request again changes nothing.
    let (_, _, b) =
        send(env.post(&u, "/transactions/bulk-categorize", &json!({"transactionIds": [aug1, aug2], "category": "Groceries"}))).await;
    assert_eq!((b["updated"].as_u64(), b["unchanged"].as_u64()), (Some(0), Some(2)), "{b}");
    assert_eq!(debit(&month(&env, &u, "2025-08").await, "Groceries"), Some(17.35));

    // Bad input: 422, nothing written.
    for body in [
        json!({"transactionIds": [], "category": "Groceries"}),
        json!({"transactionIds": [already], "category": "a#b"}),
        json!({"transactionIds": [already]}),
        json!({"transactionIds": vec!["x"; 1001], "category": "Groceries"}),
    ] {
        let (s, _, b) = send(env.post(&u, "/transactions/bulk-categorize", &body)).await;
        assert_eq!(s, 422, "{b}");
    }
    assert_eq!(debit(&month(&env, &u, "2025-09").await, "Groceries"), Some(41.0));
}

#[tokio::test]
async fn bulk_exclude_by_ids_or_by_merchant() {
    let env = ApiEnv::start().await;
    let u = env.user("alice", false).await;
    let a = create(&env, &u, "-10.00", "2025-08-03", "Shopping", "AMAZON.CO.UK*MK1234").await;
    let b_ = create(&env, &u, "-20.00", "2025-09-03", "Shopping", "Amazon").await;
    let c = create(&env, &u, "-30.00", "2025-09-04", "Shopping", "Argos").await;
    let (s, _, b) = send(env.post(&u, "/transactions/bulk-exclude", &json!({"excludeFromSpend": true, "merchant": "amazon"}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["updated"].as_u64(), b["failed"].as_u64()), (Some(2), Some(0)), "{b}");
    for (id, want) in [(&a, true), (&b_, true), (&c, false)] {
        let (_, _, t) = send(env.get(&u, &format!("/transactions/{id}"))).await;
        assert_eq!(t["transaction"]["excludeFromSpend"], want, "{t}");
    }
    // Totals do not depend on excludeFromSpend: the summaries are unchanged.
    assert_eq!(month(&env, &u, "2025-09").await["monthTotals"]["debit"].as_f64(), Some(50.0));
    let (_, _, b) =
        send(env.post(&u, "/transactions/bulk-exclude", &json!({"transactionIds": [a, c], "excludeFromSpend": false, "merchant": "x"})))
            .await;
    assert_eq!((b["updated"].as_u64(), b["unchanged"].as_u64()), (Some(1), Some(1)), "{b}");
    let (s, _, _) = send(env.post(&u, "/transactions/bulk-exclude", &json!({"excludeFromSpend": true}))).await;
    assert_eq!(s, 422);
}
