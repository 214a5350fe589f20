//! One category taxonomy (issue 12, item 10), end to end through the local
//! API server with Cognito, shaped like the app's calls: manual entry and
//! edits store the app's names, a synced TrueLayer transaction lands under
//! them, the `category` filter is case-insensitive with aliases, and items
//! stored under the old names (schema version 1) are served canonical with
//! their month's summary still equal to the recomputation.

use expenzez_api::ledger;
use expenzez_banking::lambda::AnyProvider;
use expenzez_domain::entities::{Entity, MonthlySummary, Transaction};
use expenzez_domain::ids::UserId;
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::time::YearMonth;
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Query, Table};
use expenzez_tests::banking::{client, fresh_connection, tl_txn_at, truelayer};
use expenzez_tests::{fixtures, send, summary_mismatch, ApiEnv, TestUser};
use serde_json::{json, Value};

fn user_id(u: &TestUser) -> UserId {
    UserId::new(u.sub.clone()).unwrap()
}

async fn post(env: &ApiEnv, u: &TestUser, body: Value) -> Value {
    let (s, _, b) = send(env.post(u, "/transactions", &body)).await;
    assert_eq!(s, 201, "{b}");
    b["transaction"].clone()
}

async fn ids(env: &ApiEnv, u: &TestUser, query: &str) -> Vec<String> {
    let (s, _, b) = send(env.get(u, &format!("/transactions?{query}"))).await;
    assert_eq!(s, 200, "{query}: {b}");
    let mut ids: Vec<String> = b["transactions"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

/// Every transaction of `user`, typed (old items upgraded as any read does).
async fn stored(table: &Table, user: &UserId) -> Vec<Transaction> {
    let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::TRANSACTION);
    table.query_all_items(&q).await.unwrap().into_iter().map(|i| Table::decode::<Transaction>(i).unwrap().value).collect()
}

#[tokio::test]
async fn manual_entry_and_edits_store_the_apps_names_and_the_filter_takes_any_spelling() {
    let env = ApiEnv::start().await;
    let u = env.user("categories", false).await;
    // The app's add-transaction screen, with an alias and with another case.
    let bus = post(
        &env,
        &u,
        json!({"amount": -2.8, "description": "Bus", "category": "transport", "type": "debit", "date": "2026-03-02",
        "merchant": "TfL", "currency": "GBP"}),
    )
    .await;
    assert_eq!(bus["category"], "Transportation");
    let train = post(
        &env,
        &u,
        json!({"amount": 31.5, "description": "Train", "category": "TRANSPORTATION", "type": "debit", "date": "2026-03-03"}),
    )
    .await;
    assert_eq!(train["category"], "Transportation");
    let lunch = post(&env, &u, json!({"amount": -9.95, "description": "Lunch", "category": "eating_out", "date": "2026-03-03"})).await;
    assert_eq!(lunch["category"], "Food & Dining");
    let gym = post(&env, &u, json!({"amount": -25, "description": "Gym", "category": "Healthcare", "date": "2026-03-04"})).await;
    assert_eq!(gym["category"], "Health & Fitness");

    // A name of no category is a field error, and nothing is written.
    let (s, _, b) =
        send(env.post(&u, "/transactions", &json!({"amount": -1, "description": "x", "category": "Zzz", "date": "2026-03-04"}))).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["details"][0]["field"], "category");
    assert!(b["error"]["details"][0]["message"].as_str().unwrap().contains("Food & Dining"), "{b}");

    // The edit screen (PUT) with an alias: stored under the app's name.
    let id = gym["id"].as_str().unwrap();
    let (s, _, b) = send(env.put(&u, &format!("/transactions/{id}"), &json!({"category": "bills"}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["transaction"]["category"], "Bills & Utilities");

    // The filter: any case, any alias, the same transactions.
    let mut transport = vec![bus["id"].as_str().unwrap().to_string(), train["id"].as_str().unwrap().to_string()];
    transport.sort();
    for q in [
        "category=transport",
        "category=Transport",
        "category=Transportation",
        "category=TRANSPORTATION",
        "category=auto%20%26%20transport",
    ] {
        assert_eq!(ids(&env, &u, q).await, transport, "{q}");
    }
    assert_eq!(
        ids(&env, &u, "category=food%20%26%20dining&startDate=2026-03-01&endDate=2026-03-31").await,
        vec![lunch["id"].as_str().unwrap().to_string()]
    );
    let (s, _, b) = send(env.get(&u, "/transactions?category=Zzz")).await;
    assert_eq!((s, b["error"]["details"][0]["field"].as_str()), (422, Some("category")), "{b}");

    // The month's summary counts them under the same names, exactly.
    let (s, _, b) = send(env.get(&u, "/transactions/summary?month=2026-03")).await;
    assert_eq!(s, 200, "{b}");
    let by: Vec<&str> = b["summary"]["byCategory"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(by, ["Bills & Utilities", "Food & Dining", "Transportation"]);
    assert_eq!(b["summary"]["byCategory"]["Transportation"]["debit"].as_f64(), Some(34.3));
    assert_eq!(summary_mismatch(&env.table, &user_id(&u), &stored(&env.table, &user_id(&u)).await).await, None);
}

#[tokio::test]
async fn a_synced_truelayer_transaction_lands_under_the_apps_category() {
    let base = Timestamp::from_datetime(chrono::Utc::now());
    let classified = |n: usize, classes: &str, tl_category: &str, minor: i64| {
        tl_txn_at(base, n, 1 + n as i64, minor, "normalised")
            .replace(r#"["Shopping","General"]"#, classes)
            .replace(r#"["Income","General"]"#, classes)
            .replace(r#""transaction_category":"PURCHASE""#, &format!(r#""transaction_category":"{tl_category}""#))
    };
    let settled = vec![
        classified(0, r#"["Auto & Transport","Public transport"]"#, "PURCHASE", -280),
        classified(1, r#"["Food & Dining","Groceries"]"#, "PURCHASE", -4_212),
        classified(2, r#"["Food & Dining","Restaurants"]"#, "PURCHASE", -1_650),
        classified(3, r#"["Bills and Utilities","Mobile Phone"]"#, "DIRECT_DEBIT", -1_500),
        classified(4, "[]", "INTEREST", 37),
        // Nothing but a purchase: the keyword rules read the merchant ("Merchant 5" says nothing: Other).
        classified(5, "[]", "PURCHASE", -999),
        classified(6, r#"["Uncategorized"]"#, "PURCHASE", -1_000).replace("Merchant 6", "Pret A Manger"),
    ];
    let server = truelayer(&settled, &[], "tl-token").await;
    let env = ApiEnv::start_with_bank(AnyProvider::TrueLayer(client(&server))).await;
    let u = env.user("synced", false).await;
    let user = user_id(&u);
    let mut c = fresh_connection(&user, "conn-cat");
    c.access_token = Some("tl-token".into());
    c.token_expiry = Some(base.plus_seconds(3600));
    c.consent.expires_at = Some(base.plus_seconds(60 * 86_400));
    c.next_sync = Some(base);
    env.table.put(&c, Condition::MustNotExist).await.unwrap();

    let (s, _, b) = send(env.post(&u, "/banking/transactions/refresh", &json!({}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["stats"]["totalTransactionsSynced"], 7, "{b}");

    let (s, _, b) = send(env.get(&u, "/banking/transactions?limit=50")).await;
    assert_eq!(s, 200, "{b}");
    let by_description: std::collections::BTreeMap<String, String> = b["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["description"].as_str().unwrap().to_string(), t["category"].as_str().unwrap().to_string()))
        .collect();
    let want = [
        ("PAYMENT 0", "Transportation"),
        ("PAYMENT 1", "Groceries"),
        ("PAYMENT 2", "Food & Dining"),
        ("PAYMENT 3", "Bills & Utilities"),
        ("PAYMENT 4", "Income"),
        ("PAYMENT 5", "Other"),
        ("PAYMENT 6", "Food & Dining"),
    ];
    assert_eq!(by_description, want.iter().map(|(d, c)| (d.to_string(), c.to_string())).collect());
    // The provider's own word is kept beside the app's.
    let txns = stored(&env.table, &user).await;
    let t0 = txns.iter().find(|t| t.description == "PAYMENT 0").unwrap();
    assert_eq!(t0.category.provider_primary.as_deref(), Some("Auto & Transport"));
    // Filtered as the app filters, and summed under the same names.
    assert_eq!(ids(&env, &u, "category=transport").await, vec![t0.transaction_id.to_string()]);
    assert_eq!(summary_mismatch(&env.table, &user, &txns).await, None);
    let month = t0.timestamp.month();
    let (_, _, b) = send(env.get(&u, &format!("/transactions/summary?month={month}"))).await;
    for name in b["summary"]["byCategory"].as_object().unwrap().keys() {
        assert!(want.iter().any(|(_, c)| c == name), "{name} is not one of the app's names: {b}");
    }
}

/// `t` as a version-1 item: its category as the old writers stored it,
/// `schemaVersion` 1, and the GSI3 key of that old category.
async fn put_old_transaction(table: &Table, t: &Transaction) {
    let mut item = Table::encode(t, 1).unwrap();
    item.insert(keys::SCHEMA_VERSION.into(), aws_sdk_dynamodb::types::AttributeValue::N("1".into()));
    put_raw(table, item).await;
}

async fn put_raw(table: &Table, item: expenzez_store::Item) {
    table.client().put_item().table_name(table.name()).set_item(Some(item)).send().await.unwrap();
}

#[tokio::test]
async fn old_items_are_served_canonical_and_the_summary_stays_exact() {
    let env = ApiEnv::start().await;
    let u = env.user("legacy", false).await;
    let user = user_id(&u);
    // What the demo data, an old sync and old manual entries stored: three
    // spellings of one category, and one of another.
    let old = [
        fixtures::transaction(&user, "old-1", "2025-06-02T10:00:00.000Z", "transport", -920),
        fixtures::transaction(&user, "old-2", "2025-06-03T10:00:00.000Z", "Transport", -1_450),
        fixtures::transaction(&user, "old-3", "2025-06-04T10:00:00.000Z", "eating_out", -1_199),
        fixtures::transaction(&user, "old-4", "2025-06-05T10:00:00.000Z", "Eating out", -801),
        fixtures::transaction(&user, "old-5", "2025-06-06T10:00:00.000Z", "income", 285_000),
    ];
    for t in &old {
        put_old_transaction(&env.table, t).await;
    }
    // Their month's summary as the old code kept it: one key per spelling.
    let june = YearMonth { year: 2025, month: 6 };
    let mut summary = MonthlySummary::empty(user.clone(), june, env.table.now());
    for t in &old {
        summary.add(t).unwrap();
    }
    assert_eq!(summary.by_category.len(), 5);
    let mut item = Table::encode(&summary, 1).unwrap();
    item.insert(keys::SCHEMA_VERSION.into(), aws_sdk_dynamodb::types::AttributeValue::N("1".into()));
    put_raw(&env.table, item).await;

    // Served canonical, one by one and in the list.
    let (s, _, b) = send(env.get(&u, "/transactions/old-2")).await;
    assert_eq!((s, b["transaction"]["category"].as_str()), (200, Some("Transportation")), "{b}");
    let (_, _, b) = send(env.get(&u, "/transactions?startDate=2025-06-01&endDate=2025-06-30")).await;
    let cats: Vec<&str> = b["transactions"].as_array().unwrap().iter().map(|t| t["category"].as_str().unwrap()).collect();
    assert_eq!(cats, ["Income", "Food & Dining", "Food & Dining", "Transportation", "Transportation"]);
    // The month's summary under the same names, the aliased keys merged.
    let (_, _, b) = send(env.get(&u, "/transactions/summary?month=2025-06")).await;
    let by = &b["summary"]["byCategory"];
    assert_eq!(by.as_object().unwrap().len(), 3, "{b}");
    assert_eq!((by["Transportation"]["debit"].as_f64(), by["Transportation"]["count"].as_u64()), (Some(23.7), Some(2)), "{b}");
    assert_eq!(by["Food & Dining"]["debit"].as_f64(), Some(20.0), "{b}");
    // Stored summary (read as any reader reads it) = recomputed from the transactions.
    assert_eq!(summary_mismatch(&env.table, &user, &stored(&env.table, &user).await).await, None);

    // An edit of an old item moves the upgraded summary exactly.
    let (s, _, b) = send(env.put(&u, "/transactions/old-1", &json!({"amount": -10, "category": "Transport"}))).await;
    assert_eq!((s, b["transaction"]["category"].as_str()), (200, Some("Transportation")), "{b}");
    assert_eq!(summary_mismatch(&env.table, &user, &stored(&env.table, &user).await).await, None);
    let raw = env.table.get::<MonthlySummary>(&ItemKey::MonthlySummary(user.clone(), june)).await.unwrap().unwrap().value;
    assert_eq!(raw.by_category.keys().map(String::as_str).collect::<Vec<_>>(), ["Food & Dining", "Income", "Transportation"]);

    // The category index still holds the old spellings of the items not yet
    // rewritten; the upgrade rewrites them (with their summaries), after
    // which the filter finds every one of them under any spelling.
    assert_eq!(ids(&env, &u, "category=transport").await, vec!["old-1"]);
    assert_eq!(ledger::upgrade_stored(&env.table, &user).await.unwrap(), 4);
    assert_eq!(ledger::upgrade_stored(&env.table, &user).await.unwrap(), 0, "idempotent");
    assert_eq!(ids(&env, &u, "category=transport").await, vec!["old-1", "old-2"]);
    assert_eq!(ids(&env, &u, "category=Food%20%26%20Dining").await, vec!["old-3", "old-4"]);
    assert_eq!(ids(&env, &u, "category=salary").await, vec!["old-5"]);
    assert_eq!(summary_mismatch(&env.table, &user, &stored(&env.table, &user).await).await, None);
    let q = Query::table(user.as_str(), keys::user_pk(&user)).begins_with(keys::prefix::TRANSACTION);
    for item in env.table.query_all_items(&q).await.unwrap() {
        let v = item.get(keys::SCHEMA_VERSION).and_then(|v| v.as_n().ok()).cloned();
        assert_eq!(v.as_deref(), Some(Transaction::SCHEMA_VERSION.to_string().as_str()));
    }
}
