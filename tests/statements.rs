//! PDF statements end to end through the local API server, Cognito and
//! moto's S3: a statement written in a bank's layout is uploaded through the
//! presigned URL (a plain HTTP PUT, as the app does), parsed, imported,
//! listed, and imported again as `alreadyImported`; another user's key and
//! unrecognised files are refused.

use chrono::NaiveDate;
use expenzez_domain::ids::UserId;
use expenzez_statements::sample::{self, left, row, Bank, Row, Sample};
use expenzez_tests::{send, stored_transactions, ApiEnv, TestUser};
use serde_json::{json, Value};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn rows() -> Vec<Row> {
    vec![
        row(d(2025, 8, 1), "CARD PAYMENT TO TESCO STORES 3297", -4_523),
        row(d(2025, 8, 1), "DIRECT DEBIT TO BRITISH GAS", -6_200),
        row(d(2025, 8, 4), "SALARY ACME LTD", 245_000),
        row(d(2025, 8, 9), "CARD PAYMENT TO PRET A MANGER", -675),
        row(d(2025, 8, 9), "CARD PAYMENT TO PRET A MANGER", -675),
        row(d(2025, 8, 30), "CARD PAYMENT TO NETFLIX.COM", -1_099),
    ]
}

fn statement_pdf() -> Vec<u8> {
    sample::statement(&Sample {
        bank: Bank::Barclays,
        account_number: "31926819".into(),
        sort_code: "20-32-06".into(),
        start: d(2025, 8, 1),
        end: d(2025, 8, 31),
        opening: 100_000,
        rows: rows(),
        rows_per_page: 4,
    })
}

/// Asks for an upload URL and PUTs `bytes` to it as the app does; the key.
async fn upload(env: &ApiEnv, u: &TestUser, bytes: Vec<u8>) -> String {
    let (s, _, b) = send(env.post(u, "/transactions/statement-upload-url", &json!({}))).await;
    assert_eq!(s, 200, "{b}");
    let key = b["key"].as_str().unwrap().to_string();
    assert!(key.starts_with(&format!("statements/{}/", u.sub)) && key.ends_with(".pdf"), "{key}");
    let url = b["uploadUrl"].as_str().unwrap();
    assert!(url.contains("X-Amz-Signature=") && url.contains("X-Amz-Expires=600"), "{url}");
    let put = env.http.put(url).header("content-type", "application/pdf").body(bytes).send().await.unwrap();
    assert!(put.status().is_success(), "PUT to the presigned URL: {}", put.status());
    key
}

#[tokio::test]
async fn a_statement_uploaded_parsed_imported_listed_and_imported_again() {
    let env = ApiEnv::start_with_statements().await;
    let u = env.user("ann", false).await;
    let bob = env.user("bob", false).await;
    let key = upload(&env, &u, statement_pdf()).await;

    // In the bucket through the real S3 API, as uploaded.
    let objects = &env.statements.objects;
    let head = objects.s3.head_object().bucket(&objects.bucket).key(&key).send().await.unwrap();
    assert_eq!(head.content_length(), Some(statement_pdf().len() as i64));

    // Another user's key is refused without reading it.
    let (s, _, b) = send(env.post(&bob, "/transactions/parse-statement", &json!({"s3Key": key, "filename": "ann.pdf"}))).await;
    assert_eq!(s, 404, "{b}");

    let (s, _, parsed) = send(env.post(&u, "/transactions/parse-statement", &json!({"s3Key": key, "filename": "August.pdf"}))).await;
    assert_eq!(s, 200, "{parsed}");
    let st = &parsed["statement"];
    assert_eq!((st["issuer"].as_str(), st["accountIdentifier"].as_str()), (Some("Barclays"), Some("****6819")), "{st}");
    assert_eq!(
        (st["periodStart"].as_str(), st["periodEnd"].as_str(), st["filename"].as_str()),
        (Some("2025-08-01"), Some("2025-08-31"), Some("August.pdf"))
    );
    let txs = parsed["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 6, "{parsed}");
    assert_eq!(
        txs[0],
        json!({"date": "2025-08-01", "merchant": "CARD PAYMENT TO TESCO STORES 3297", "description": "CARD PAYMENT TO TESCO STORES 3297", "amount": -45.23, "type": "debit", "category": "Groceries"})
    );
    assert_eq!((txs[2]["amount"].as_f64(), txs[2]["type"].as_str()), (Some(2450.0), Some("credit")));
    // Parsing writes nothing.
    assert!(stored_transactions(&env.table, &UserId::new(&u.sub).unwrap()).await.is_empty());

    let body = json!({"transactions": parsed["transactions"], "statement": parsed["statement"]});
    let (s, _, b) = send(env.post(&u, "/transactions/import-statement", &body)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["summary"],
        json!({"total": 6, "imported": 6, "duplicatesSkipped": 0, "failed": 0, "keywordCategorized": b["summary"]["keywordCategorized"]}),
        "{b}"
    );
    assert_eq!(b["alreadyImported"], false);
    assert_eq!(b["statement"]["bankName"], "Barclays");
    let first = stored_transactions(&env.table, &UserId::new(&u.sub).unwrap()).await;
    assert_eq!(first.len(), 6, "the two identical Pret rows are two transactions");
    let user = UserId::new(&u.sub).unwrap();
    assert_eq!(expenzez_tests::summary_mismatch(&env.table, &user, &first).await, None, "summaries equal the recomputation");
    let (_, _, aug) = send(env.get(&u, "/transactions/summary?month=2025-08")).await;
    let totals = &aug["summary"]["monthTotals"];
    assert_eq!((totals["debit"].as_f64(), totals["credit"].as_f64()), (Some(131.72), Some(2450.0)), "{aug}");

    let (s, _, list) = send(env.get(&u, "/transactions/statements")).await;
    assert_eq!(s, 200, "{list}");
    let l = &list["statements"];
    assert_eq!(l.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(
        (l[0]["bankName"].as_str(), l[0]["accountIdentifier"].as_str(), l[0]["periodMonth"].as_str(), l[0]["transactionCount"].as_u64()),
        (Some("Barclays"), Some("****6819"), Some("2025-08"), Some(6))
    );
    assert_eq!(
        (l[0]["periodStart"].as_str(), l[0]["periodEnd"].as_str(), l[0]["filename"].as_str()),
        (Some("2025-08-01"), Some("2025-08-31"), Some("August.pdf"))
    );
    assert!(l[0]["statementId"].is_string() && l[0]["uploadedAt"].is_string());

    // The same statement again (uploaded and parsed afresh): recognised, nothing added.
    let key2 = upload(&env, &u, statement_pdf()).await;
    assert_ne!(key, key2);
    let (_, _, again) = send(env.post(&u, "/transactions/parse-statement", &json!({"s3Key": key2}))).await;
    let body = json!({"transactions": again["transactions"], "statement": again["statement"]});
    let (s, _, b) = send(env.post(&u, "/transactions/import-statement", &body)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["alreadyImported"], true, "{b}");
    assert_eq!((b["summary"]["imported"].as_u64(), b["summary"]["duplicatesSkipped"].as_u64()), (Some(0), Some(6)), "{b}");
    assert_eq!(stored_transactions(&env.table, &UserId::new(&u.sub).unwrap()).await.len(), 6);
    assert_eq!(send(env.get(&u, "/transactions/statements")).await.2["statements"].as_array().map(Vec::len), Some(1));
    // One import of the quota used: the repeat added nothing.
    assert_eq!(send(env.get(&u, "/transactions/import-usage")).await.2["used"], 1);

    // Bob sees none of it.
    assert_eq!(send(env.get(&bob, "/transactions/statements")).await.2, json!({"statements": []}));
}

#[tokio::test]
async fn unrecognised_files_are_422_and_unknown_keys_404() {
    let env = ApiEnv::start_with_statements().await;
    let u = env.user("cat", false).await;
    let letter = sample::pdf(&[vec![left(40.0, 800.0, "Dear customer,"), left(40.0, 780.0, "Date  Description  Amount  12.00")]]);
    let key = upload(&env, &u, letter).await;
    let (s, _, b) = send(env.post(&u, "/transactions/parse-statement", &json!({"s3Key": key}))).await;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("UNRECOGNISED_STATEMENT")), "{b}");
    assert!(b["message"].as_str().unwrap().contains("not a statement layout we recognise"), "{b}");

    let key = upload(&env, &u, b"Date,Description,Amount\n2025-08-01,Tesco,-1.00\n".to_vec()).await;
    let (s, _, b) = send(env.post(&u, "/transactions/parse-statement", &json!({"s3Key": key}))).await;
    assert_eq!((s, b["error"]["code"].as_str()), (422, Some("NOT_A_PDF")), "{b}");

    // A key of the caller's shape that was never uploaded, and keys of other shapes.
    let never = format!("statements/{}/{}.pdf", u.sub, uuid::Uuid::new_v4());
    let (s, _, b) = send(env.post(&u, "/transactions/parse-statement", &json!({"s3Key": never}))).await;
    assert_eq!((s, b["error"]["code"].as_str()), (404, Some("STATEMENT_NOT_FOUND")), "{b}");
    for bad in
        [format!("statements/{}/../x.pdf", u.sub), "statements/".to_string(), format!("other/{}/{}.pdf", u.sub, uuid::Uuid::new_v4())]
    {
        let (s, _, b) = send(env.post(&u, "/transactions/parse-statement", &json!({"s3Key": bad}))).await;
        assert_eq!(s, 404, "{bad}: {b}");
    }
    let (s, _, b) = send(env.post(&u, "/transactions/parse-statement", &json!({}))).await;
    assert_eq!(s, 422, "{b}");

    // An import with a bad statement head writes nothing.
    let body = json!({"transactions": [{"date": "2025-08-01", "description": "X", "amount": -1.0}],
        "statement": {"issuer": "Barclays", "accountIdentifier": "****6819", "periodStart": "2025-08-31", "periodEnd": "2025-08-01"}});
    let (s, _, b) = send(env.post(&u, "/transactions/import-statement", &body)).await;
    assert_eq!(s, 422, "{b}");
    assert!(stored_transactions(&env.table, &UserId::new(&u.sub).unwrap()).await.is_empty());
    assert_eq!(send(env.get(&u, "/transactions/statements")).await.2, json!({"statements": []}));
}

#[tokio::test]
async fn the_bucket_is_encrypted_private_and_expires_uploads() {
    let env = ApiEnv::start_with_statements().await;
    let o = &env.statements.objects;
    let lifecycle = o.s3.get_bucket_lifecycle_configuration().bucket(&o.bucket).send().await.unwrap();
    let rule = &lifecycle.rules()[0];
    assert_eq!(rule.expiration().and_then(|e| e.days()), Some(expenzez_statements::objects::EXPIRE_AFTER_DAYS));
    let enc = o.s3.get_bucket_encryption().bucket(&o.bucket).send().await.unwrap();
    let by_default = enc.server_side_encryption_configuration().unwrap().rules()[0].apply_server_side_encryption_by_default().unwrap();
    assert_eq!(by_default.sse_algorithm().as_str(), "aws:kms");
    let block = o.s3.get_public_access_block().bucket(&o.bucket).send().await.unwrap();
    let b = block.public_access_block_configuration().unwrap();
    assert_eq!((b.block_public_acls(), b.restrict_public_buckets()), (Some(true), Some(true)));
}

/// The sample events in `events/` (what `cargo lambda invoke --data-file` takes) through each function's handler.
#[tokio::test]
async fn the_sample_events_run() {
    let env = ApiEnv::start_with_statements().await;
    let sub = "11111111-2222-4333-8444-555555555555";
    let u = expenzez_tests::fixtures::user(sub);
    env.table.put(&expenzez_tests::fixtures::profile(&u, "jane@example.com"), expenzez_store::Condition::MustNotExist).await.unwrap();
    let cases = [
        ("statement-upload-url", "StatementUploadUrlFunction", 200, "uploadUrl"),
        // The sample's key was never uploaded.
        ("parse-statement", "ParseStatementFunction", 404, "error"),
        ("import-statement", "ImportStatementFunction", 200, "summary"),
        ("list-statements", "ListStatementsFunction", 200, "statements"),
    ];
    for (file, function, status, field) in cases {
        let path = format!("{}/../events/{file}.json", env!("CARGO_MANIFEST_DIR"));
        let ev = std::fs::read_to_string(path).unwrap();
        let req = lambda_http::request::from_str(&ev).unwrap();
        let r = expenzez_statements::routes::dispatch(function, &env.statements, req).await.expect("a statement function");
        let s = r.status().as_u16();
        let body: Value = match r.body() {
            lambda_http::Body::Text(t) => serde_json::from_str(t).unwrap(),
            _ => Value::Null,
        };
        assert_eq!(s, status, "{file}: {body}");
        assert!(!body[field].is_null(), "{file}: {body}");
    }
    let list = send(env.get(&env.user("x", false).await, "/transactions/statements")).await.2;
    assert_eq!(list, json!({"statements": []}), "another user sees none");
}
