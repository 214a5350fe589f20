//! Each function's handler on the sample events in `events/` (the same files
//! `cargo lambda invoke --data-file` takes), against DynamoDB Local.

use expenzez_api::routes::dispatch;
use expenzez_domain::cursor::CursorKey;
use expenzez_domain::entities::Entity;
use expenzez_domain::SystemClock;
use expenzez_store::{Condition, Table, TableConfig};
use expenzez_tests::fixtures::{profile, transaction, user};
use expenzez_tests::samples::{event, reply, request, SUB};
use expenzez_tests::{fresh_table, sdk_config};
use serde_json::Value;
use std::sync::Arc;

async fn call(table: &Table, function: &str, ev: &Value) -> (u16, Value) {
    reply(&dispatch(function, table, request(ev)).await.expect("a known function"))
}

/// A table holding the sample user's profile and transaction `txn-1`.
async fn seeded() -> Table {
    let t = fresh_table().await;
    let u = user(SUB);
    t.put(&profile(&u, "jane@example.com"), Condition::MustNotExist).await.unwrap();
    let txn = transaction(&u, "txn-1", "2025-08-10T10:00:00Z", "eating_out", -850);
    let mut summary = expenzez_domain::entities::MonthlySummary::empty(u.clone(), txn.timestamp.month(), txn.timestamp);
    summary.add(&txn).unwrap();
    t.put(&txn, Condition::MustNotExist).await.unwrap();
    t.put(&summary, Condition::MustNotExist).await.unwrap();
    t
}

#[tokio::test]
async fn every_sample_event_succeeds() {
    let cases = [
        ("get-profile", "GetProfileFunction", 200, "profile"),
        ("update-profile", "UpdateProfileFunction", 200, "profile"),
        ("list-transactions", "ListTransactionsFunction", 200, "transactions"),
        ("list-bank-transactions", "ListBankTransactionsFunction", 200, "transactions"),
        ("create-transaction", "CreateTransactionFunction", 201, "transaction"),
        ("get-transaction-summary", "GetTransactionSummaryFunction", 200, "summary"),
        ("get-transaction", "GetTransactionFunction", 200, "transaction"),
        ("update-transaction", "UpdateTransactionFunction", 200, "transaction"),
        ("delete-transaction", "DeleteTransactionFunction", 200, "success"),
        ("get-config", "GetConfigFunction", 200, "config"),
        ("get-similar-transactions", "GetSimilarTransactionsFunction", 200, "transactions"),
        ("bulk-categorize-transactions", "BulkCategorizeTransactionsFunction", 200, "updated"),
        ("bulk-exclude-transactions", "BulkExcludeTransactionsFunction", 200, "updated"),
        ("put-admin-config", "PutAdminConfigFunction", 201, "setting"),
        ("import-csv", "ImportCsvFunction", 200, "summary"),
        ("get-import-usage", "GetImportUsageFunction", 200, "remaining"),
    ];
    for (file, function, status, field) in cases {
        let table = seeded().await;
        let (s, body) = call(&table, function, &event(file)).await;
        assert_eq!(s, status, "{file}: {body}");
        assert!(body.get(field).is_some(), "{file}: {body}");
    }
}

#[tokio::test]
async fn sample_events_show_the_stored_effects() {
    let table = seeded().await;
    let (_, b) = call(&table, "ListTransactionsFunction", &event("list-transactions")).await;
    assert_eq!(b["transactions"][0]["id"], "txn-1");
    assert_eq!(b["transactions"][0]["amount"].as_f64(), Some(-8.5));
    assert_eq!(b["summary"]["debitTotal"].as_f64(), Some(8.5));

    let (_, b) = call(&table, "UpdateTransactionFunction", &event("update-transaction")).await;
    assert_eq!(b["transaction"]["category"], "Groceries");
    let (_, b) = call(&table, "GetTransactionSummaryFunction", &event("get-transaction-summary")).await;
    assert_eq!(b["summary"]["byCategory"]["Groceries"]["debit"].as_f64(), Some(8.5));
    assert!(b["summary"]["byCategory"].get("eating_out").is_none());

    let (s, _) = call(&table, "CreateTransactionFunction", &event("create-transaction")).await;
    assert_eq!(s, 201);
    let (_, b) = call(&table, "GetTransactionSummaryFunction", &event("get-transaction-summary")).await;
    assert_eq!(b["summary"]["transactionCount"], 2);
    assert_eq!(b["summary"]["totalDebit"].as_f64(), Some(20.84));
}

#[tokio::test]
async fn transaction_tools_sample_events() {
    let table = seeded().await;
    // "TESCO EXPRESS 1234" is the stored "Tesco Express"; txn-1 is not yet Groceries.
    let (_, b) = call(&table, "GetSimilarTransactionsFunction", &event("get-similar-transactions")).await;
    assert_eq!((b["count"].as_u64(), b["transactions"][0]["id"].as_str()), (Some(1), Some("txn-1")), "{b}");
    let (_, b) = call(&table, "BulkCategorizeTransactionsFunction", &event("bulk-categorize-transactions")).await;
    assert_eq!(b, serde_json::json!({"updated": 1, "failed": 1, "unchanged": 0, "failedIds": ["txn-missing"]}));
    let (_, b) = call(&table, "GetTransactionSummaryFunction", &event("get-transaction-summary")).await;
    assert_eq!(b["summary"]["byCategory"]["Groceries"]["debit"].as_f64(), Some(8.5), "{b}");
    // Now in Groceries: no longer similar-and-to-change; a second categorize changes nothing.
    let (_, b) = call(&table, "GetSimilarTransactionsFunction", &event("get-similar-transactions")).await;
    assert_eq!(b["count"], 0, "{b}");
    let (_, b) = call(&table, "BulkCategorizeTransactionsFunction", &event("bulk-categorize-transactions")).await;
    assert_eq!((b["updated"].as_u64(), b["unchanged"].as_u64()), (Some(0), Some(1)), "{b}");
    let (_, b) = call(&table, "BulkExcludeTransactionsFunction", &event("bulk-exclude-transactions")).await;
    assert_eq!(b["updated"], 1, "{b}");
    let (_, b) = call(&table, "GetTransactionFunction", &event("get-transaction")).await;
    assert_eq!(b["transaction"]["excludeFromSpend"], true, "{b}");
    // Another user's sub: txn-1 is not theirs, so it fails and stays as it is.
    let mut ev = event("bulk-categorize-transactions");
    ev["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = Value::from("99999999-0000-4000-8000-000000000000");
    let (_, b) = call(&table, "BulkCategorizeTransactionsFunction", &ev).await;
    assert_eq!((b["updated"].as_u64(), b["failed"].as_u64()), (Some(0), Some(2)), "{b}");
}

#[tokio::test]
async fn import_sample_events() {
    let table = seeded().await;
    let (_, b) = call(&table, "ImportCsvFunction", &event("import-csv")).await;
    assert_eq!((b["summary"]["imported"].as_u64(), b["summary"]["failed"].as_u64()), (Some(2), Some(1)), "{b}");
    assert_eq!(b["errors"][0]["id"], "r3", "{b}");
    let (_, b) = call(&table, "GetImportUsageFunction", &event("get-import-usage")).await;
    assert_eq!(b["used"], 1, "{b}");
    let (_, b) = call(&table, "ImportCsvFunction", &event("import-csv")).await;
    assert_eq!((b["summary"]["imported"].as_u64(), b["summary"]["duplicatesSkipped"].as_u64()), (Some(0), Some(2)), "{b}");
}

#[tokio::test]
async fn no_claims_is_401_and_another_users_id_is_404() {
    let table = seeded().await;
    let mut ev = event("get-transaction");
    ev["requestContext"].as_object_mut().unwrap().remove("authorizer");
    let (s, b) = call(&table, "GetTransactionFunction", &ev).await;
    assert_eq!((s, b["error"]["code"].as_str()), (401, Some("UNAUTHORIZED")));

    for (file, function) in [
        ("get-transaction", "GetTransactionFunction"),
        ("update-transaction", "UpdateTransactionFunction"),
        ("delete-transaction", "DeleteTransactionFunction"),
    ] {
        let mut ev = event(file);
        ev["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = Value::from("99999999-0000-4000-8000-000000000000");
        let (s, b) = call(&table, function, &ev).await;
        assert_eq!((s, b["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{file}");
    }
    // txn-1 survived all of that.
    assert!(table
        .get::<expenzez_domain::entities::Transaction>(
            &transaction(&user(SUB), "txn-1", "2025-08-10T10:00:00Z", "eating_out", -850).item_key()
        )
        .await
        .unwrap()
        .is_some());

    let mut ev = event("put-admin-config");
    ev["requestContext"]["authorizer"]["jwt"]["claims"].as_object_mut().unwrap().remove("cognito:groups");
    let (s, _) = call(&table, "PutAdminConfigFunction", &ev).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn dynamodb_down_is_503_with_retry_after() {
    let sdk = sdk_config().await;
    let conf = aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url("http://127.0.0.1:9").build();
    let table = Table::new(
        aws_sdk_dynamodb::Client::from_conf(conf),
        TableConfig::new("nowhere", CursorKey::new(vec![1u8; 32]).unwrap()),
        Arc::new(SystemClock),
    );
    let r = dispatch("CreateTransactionFunction", &table, request(&event("create-transaction"))).await.unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let lambda_http::Body::Text(t) = r.body() else { panic!("a JSON body") };
    let b: Value = serde_json::from_str(t).unwrap();
    assert_eq!((b["error"]["retryable"].as_bool(), b["error"]["retryAfter"].as_u64()), (Some(true), Some(2)));
    assert!(!t.contains("127.0.0.1"), "no internals in the body: {t}");
}
