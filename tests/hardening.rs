//! The rules of issue 11, each tried as an adversarial client would, end to
//! end through the local API server (JWT authorizer, handlers, DynamoDB Local).

use expenzez_domain::entities::{IdempotencyRecord, MonthlySummary};
use expenzez_domain::ids::{IdempotencyKey, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::time::YearMonth;
use expenzez_store::sdk::types::AttributeValue;
use expenzez_store::{Condition, Table};
use expenzez_tests::{send, stored_transactions, summary_mismatch, ApiEnv, TestUser};
use serde_json::{json, Value};

fn txn_body(amount: f64, date: &str) -> Value {
    json!({"amount": amount, "description": "coffee", "category": "Food & Dining", "date": date, "merchant": "Cafe"})
}

async fn summary(table: &Table, user: &UserId, month: &str) -> Option<MonthlySummary> {
    let (y, m) = month.split_once('-').unwrap();
    let ym = YearMonth { year: y.parse().unwrap(), month: m.parse().unwrap() };
    table.get::<MonthlySummary>(&ItemKey::MonthlySummary(user.clone(), ym)).await.unwrap().map(|v| v.value)
}

fn uid(u: &TestUser) -> UserId {
    UserId::new(&u.sub).unwrap()
}

fn code(b: &Value) -> &str {
    b["error"]["code"].as_str().unwrap_or_default()
}

/// Rule 1: a create-if-absent write sees an expired item as absent.
#[tokio::test]
async fn expired_items_are_absent_for_writes_too() {
    let env = ApiEnv::start().await;
    let u = env.user("ttl", false).await;
    let now = env.table.now();
    // An Idempotency-Key whose record expired (for another body): reusable.
    let stale = IdempotencyRecord {
        user_id: uid(&u),
        key: IdempotencyKey::new("k-expired").unwrap(),
        request_hash: "another body".into(),
        status_code: 201,
        response_body: "{}".into(),
        created_at: now.plus_seconds(-2 * 86_400),
        ttl: now.epoch_seconds() - 60,
    };
    env.table.put(&stale, Condition::None).await.unwrap();
    // A month whose summary item carries a past TTL (and stale figures).
    let mut old = MonthlySummary::empty(uid(&u), YearMonth { year: 2026, month: 9 }, now);
    old.totals.debit = expenzez_domain::Money::from_minor(999_999);
    old.totals.debit_count = 7;
    env.table.put(&old, Condition::None).await.unwrap();
    env.table
        .client()
        .update_item()
        .table_name(env.table.name())
        .key(keys::PK, AttributeValue::S(keys::user_pk(&uid(&u))))
        .key(keys::SK, AttributeValue::S("SUMMARY#2026-09".into()))
        .update_expression("SET #ttl = :past")
        .expression_attribute_names("#ttl", keys::TTL)
        .expression_attribute_values(":past", AttributeValue::N((now.epoch_seconds() - 60).to_string()))
        .send()
        .await
        .unwrap();

    let (s, _, b) = send(env.post(&u, "/transactions", &txn_body(-4.5, "2026-09-10")).header("idempotency-key", "k-expired")).await;
    assert_eq!(s, 201, "an expired record is absent, the expired summary replaced: {b}");
    let s9 = summary(&env.table, &uid(&u), "2026-09").await.expect("a fresh summary");
    assert_eq!((s9.totals.debit.minor(), s9.totals.debit_count), (450, 1), "the expired figures are not carried on");
    assert!(summary_mismatch(&env.table, &uid(&u), &stored_transactions(&env.table, &uid(&u)).await).await.is_none());
    // The key now holds this request: a retry replays it.
    let (s2, _, b2) = send(env.post(&u, "/transactions", &txn_body(-4.5, "2026-09-10")).header("idempotency-key", "k-expired")).await;
    assert_eq!((s2, &b2), (201, &b));
    assert_eq!(stored_transactions(&env.table, &uid(&u)).await.len(), 1);
}

/// Rule 2: a token outliving its account writes nothing.
#[tokio::test]
async fn a_deleted_account_writes_nothing_with_its_old_token() {
    let env = ApiEnv::start().await;
    let u = env.user("ghost", false).await;
    let (s, _, t) = send(env.post(&u, "/transactions", &txn_body(-3.0, "2026-10-01"))).await;
    assert_eq!(s, 201, "{t}");
    let id = t["transaction"]["id"].as_str().unwrap().to_string();
    let (s, _, b) = send(env.delete(&u, "/auth/delete-account")).await;
    assert_eq!(s, 200, "{b}");

    // The access token is still valid for the authorizer; every write is refused inside DynamoDB.
    let (s, h, b) = send(env.post(&u, "/transactions", &txn_body(-3.0, "2026-10-02"))).await;
    assert_eq!((s, code(&b), b["error"]["retryable"].as_bool()), (401, "ACCOUNT_DELETED", Some(false)), "{b}");
    assert_eq!(h["content-type"], "application/problem+json");
    let (s, _, b) = send(env.post(&u, "/transactions", &txn_body(-3.0, "2026-10-02")).header("idempotency-key", "ghost-1")).await;
    assert_eq!(s, 401, "{b}");
    let (s, _, _) = send(env.put(&u, &format!("/transactions/{id}"), &json!({"amount": -1}))).await;
    assert!(s == 401 || s == 404, "{s}");
    let (s, _, b) = send(env.post(&u, "/banking/connect", &json!({})).header("idempotency-key", "ghost-2")).await;
    assert!(s == 401 || s >= 400, "{s} {b}");
    let raw = expenzez_tests::scan_all(&env.table).await;
    let mine: Vec<_> = raw
        .iter()
        .filter(|i| matches!(i.get(keys::PK), Some(AttributeValue::S(pk)) if pk.contains(&u.sub)))
        .map(|i| format!("{:?}", i.get(keys::SK)))
        .collect();
    assert!(mine.is_empty(), "nothing of the deleted user was written: {mine:?}");
}

/// Rule 5: parallel writers on one transaction and into one month never 500 and keep the summaries exact.
#[tokio::test]
async fn concurrent_writers_get_200_201_or_a_retryable_409_and_summaries_stay_exact() {
    let env = ApiEnv::start().await;
    let u = env.user("racer", false).await;
    let (_, _, t) = send(env.post(&u, "/transactions", &txn_body(-10.0, "2026-10-05"))).await;
    let id = t["transaction"]["id"].as_str().unwrap().to_string();

    let puts = (0..20).map(|i| {
        let (env, u, id) = (&env, &u, &id);
        async move {
            let day = if i % 2 == 0 { "2026-10-06" } else { "2026-11-06" };
            send(env.put(u, &format!("/transactions/{id}"), &json!({"amount": -(1.0 + i as f64), "date": day}))).await
        }
    });
    let posts = (0..20).map(|i| {
        let (env, u) = (&env, &u);
        async move { send(env.post(u, "/transactions", &txn_body(-(2.0 + i as f64 / 100.0), "2026-10-20"))).await }
    });
    let (put_results, post_results) = tokio::join!(futures::future::join_all(puts), futures::future::join_all(posts));
    let mut created = 0;
    for (s, h, b) in put_results.iter().chain(post_results.iter()) {
        assert!(*s < 500, "a server error under contention: {s} {b}");
        match s {
            200 => {}
            201 => created += 1,
            409 => {
                assert_eq!((code(b), b["error"]["retryable"].as_bool()), ("CONTENDED", Some(true)), "{b}");
                assert!(h.contains_key("retry-after"));
            }
            other => panic!("unexpected {other}: {b}"),
        }
    }
    let stored = stored_transactions(&env.table, &uid(&u)).await;
    assert_eq!(stored.len(), 1 + created, "every 201 is stored, nothing else");
    assert_eq!(summary_mismatch(&env.table, &uid(&u), &stored).await, None);
}

/// Rule 6: no input reaches DynamoDB as a 5xx.
#[tokio::test]
async fn input_edges_are_4xx_problems() {
    let env = ApiEnv::start().await;
    let u = env.user("edges", false).await;
    let long = "A".repeat(8_000);
    let cases: Vec<(String, u16)> = vec![
        ("/transactions?endDate=1969-12-31".into(), 422),
        ("/transactions?startDate=0001-01-01".into(), 422),
        ("/transactions?startDate=10000-01-01".into(), 422),
        ("/transactions?endDate=2026-02-30".into(), 422),
        ("/transactions?limit=99999999999999999999999".into(), 422),
        ("/transactions?limit=-1".into(), 422),
        ("/transactions?limit=0".into(), 422),
        ("/transactions?type=".into(), 422),
        ("/transactions?type=DEBIT%00".into(), 422),
        (format!("/transactions?startKey={long}"), 400),
        ("/transactions?startKey=%00%FF%FE".into(), 400),
        (format!("/transactions/{}", "x".repeat(3_000)), 404),
        ("/transactions/%E2%82%AC%00".into(), 404),
        ("/transactions/summary?month=1969-13".into(), 422),
    ];
    for (path, want) in cases {
        let (s, h, b) = send(env.get(&u, &path)).await;
        assert_eq!(s, want, "{} -> {b}", &path[..path.len().min(80)]);
        assert_eq!(h["content-type"], "application/problem+json", "{path}");
    }
    // An end before the start is an empty range, not an error (the OpenAPI
    // document cannot relate two parameters, so it calls the request valid).
    let body = json!({"amount": -5.0, "description": "in range", "category": "Food & Dining", "date": "2026-01-15"});
    assert_eq!(send(env.post(&u, "/transactions", &body)).await.0, 201);
    let (s, _, b) = send(env.get(&u, "/transactions?startDate=2026-01-31&endDate=2026-01-01")).await;
    assert_eq!((s, b["transactions"].as_array().map(Vec::len), b["nextKey"].is_null()), (200, Some(0), true), "{b}");
    let (s, _, b) = send(env.get(&u, "/transactions?startDate=2026-01-01&endDate=2026-01-31")).await;
    assert_eq!((s, b["transactions"].as_array().map(Vec::len)), (200, Some(1)), "{b}");
}

/// Rule 7: an Idempotency-Key outside the accepted form is 400, never ignored.
#[tokio::test]
async fn a_malformed_idempotency_key_is_400_and_writes_nothing() {
    let env = ApiEnv::start().await;
    let u = env.user("idem", false).await;
    let bad: Vec<reqwest::header::HeaderValue> = vec![
        reqwest::header::HeaderValue::from_bytes("ключ-1".as_bytes()).unwrap(),
        reqwest::header::HeaderValue::from_str(&"k".repeat(200)).unwrap(),
        reqwest::header::HeaderValue::from_static("has#hash"),
    ];
    for key in bad {
        for path in ["/transactions", "/banking/connect"] {
            let body = if path == "/transactions" { txn_body(-1.0, "2026-10-01") } else { json!({}) };
            let (s, _, b) = send(env.post(&u, path, &body).header("idempotency-key", key.clone())).await;
            assert_eq!((s, code(&b)), (400, "INVALID_IDEMPOTENCY_KEY"), "{path} {key:?}: {b}");
        }
    }
    assert!(stored_transactions(&env.table, &uid(&u)).await.is_empty());
}

/// Rule 7: POST /banking/connect honours the key (the same link twice).
#[tokio::test]
async fn a_retried_bank_connect_returns_the_first_link() {
    let env = ApiEnv::start().await;
    let u = env.user("linker", false).await;
    let (s1, _, a) = send(env.post(&u, "/banking/connect", &json!({})).header("idempotency-key", "connect-1")).await;
    let (s2, _, b) = send(env.post(&u, "/banking/connect", &json!({})).header("idempotency-key", "connect-1")).await;
    assert_eq!((s1, s2), (200, 200), "{a} {b}");
    assert_eq!(a["link"], b["link"]);
    let (_, _, c) = send(env.post(&u, "/banking/connect", &json!({}))).await;
    assert_ne!(a["state"], c["state"], "without a key every connect is new");
}

/// Rule 8: strong If-Match, UTF-8 only.
#[tokio::test]
async fn http_semantics_if_match_is_strong_and_bodies_are_utf8() {
    let env = ApiEnv::start().await;
    let u = env.user("http", false).await;
    let (_, h, t) = send(env.post(&u, "/transactions", &txn_body(-2.0, "2026-10-01"))).await;
    let id = t["transaction"]["id"].as_str().unwrap().to_string();
    let etag = h["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, "\"v1\"");
    let path = format!("/transactions/{id}");
    let (s, _, b) = send(env.put(&u, &path, &json!({"description": "weak"})).header("if-match", "W/\"v1\"")).await;
    assert_eq!((s, code(&b)), (412, "PRECONDITION_FAILED"), "a weak tag never matches: {b}");
    let (s, _, b) = send(env.put(&u, &path, &json!({"description": "strong"})).header("if-match", etag.as_str())).await;
    assert_eq!(s, 200, "{b}");

    let latin1 = env
        .http
        .post(env.url("/transactions"))
        .bearer_auth(&u.token)
        .header("content-type", "application/json; charset=iso-8859-1")
        .body(txn_body(-1.0, "2026-10-01").to_string());
    let (s, _, b) = send(latin1).await;
    assert_eq!((s, code(&b)), (415, "UNSUPPORTED_MEDIA_TYPE"), "{b}");
    let mut bytes = br#"{"amount": -1, "description": "caf"#.to_vec();
    bytes.extend([0xE9, b'"']); // Latin-1 'é': not UTF-8
    bytes.extend(br#", "category": "Other", "date": "2026-10-01"}"#);
    let raw = env.http.post(env.url("/transactions")).bearer_auth(&u.token).header("content-type", "application/json").body(bytes);
    let (s, _, b) = send(raw).await;
    assert_eq!((s, code(&b)), (400, "MALFORMED_JSON"), "{b}");
    assert_eq!(stored_transactions(&env.table, &uid(&u)).await.len(), 1, "nothing stored with replacement characters");
}

/// Rule 9: ISO 4217 codes only; currencies never added together.
#[tokio::test]
async fn currencies_are_known_codes_and_summaries_keep_them_apart() {
    let env = ApiEnv::start().await;
    let u = env.user("fx", false).await;
    let mut body = txn_body(-5.0, "2026-10-01");
    body["currency"] = json!("xyz");
    let (s, _, b) = send(env.post(&u, "/transactions", &body)).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["details"][0]["field"], "currency", "{b}");
    let (s, _, _) = send(env.post(&u, "/transactions", &txn_body(-5.0, "2026-10-01"))).await;
    assert_eq!(s, 201);
    body["currency"] = json!("eur");
    body["amount"] = json!(-7.25);
    let (s, _, b) = send(env.post(&u, "/transactions", &body)).await;
    assert_eq!((s, b["transaction"]["currency"].as_str()), (201, Some("EUR")), "{b}");
    let s10 = summary(&env.table, &uid(&u), "2026-10").await.unwrap();
    assert_eq!((s10.totals.debit.minor(), s10.totals.debit_count), (500, 1), "GBP totals hold GBP only");
    let eur = &s10.other_currencies["EUR"];
    assert_eq!((eur.totals.debit.minor(), eur.totals.debit_count), (725, 1));
    assert!(summary_mismatch(&env.table, &uid(&u), &stored_transactions(&env.table, &uid(&u)).await).await.is_none());
}

/// Rule 7 for every POST that creates something: the same Idempotency-Key
/// twice answers the same and stores once; a malformed key is the same 400
/// everywhere (`POST /transactions` and `/banking/connect` have their own tests).
#[tokio::test]
async fn every_creating_post_honours_the_idempotency_key() {
    let env = ApiEnv::start().await;
    let u = env.user("idem-all", false).await;
    let posts = [
        ("/ai/chat-message", json!({"role": "user", "content": "hello"})),
        ("/ai/insight", json!({"message": "How much did I spend this month?"})),
    ];
    for (path, body) in &posts {
        let key = format!("key-{}", path.replace('/', "-"));
        let first = send(env.post(&u, path, body).header("Idempotency-Key", &key)).await;
        let again = send(env.post(&u, path, body).header("Idempotency-Key", &key)).await;
        assert!(first.0 < 300, "{path}: {}", first.2);
        assert_eq!((first.0, &first.2), (again.0, &again.2), "{path}");
        let bad = send(env.post(&u, path, body).header("Idempotency-Key", "two words")).await;
        assert_eq!((bad.0, code(&bad.2)), (400, "INVALID_IDEMPOTENCY_KEY"), "{path}: {}", bad.2);
    }
    // One chat message and one question with its answer: nothing stored twice.
    let (s, _, h) = send(env.get(&u, "/ai/chat-history")).await;
    assert_eq!((s, h["history"].as_array().map(Vec::len)), (200, Some(3)), "{h}");
    for path in ["/alerts/no-such-alert/acknowledge", "/alerts/no-such-alert/dismiss"] {
        let bad = send(env.http.post(env.url(path)).bearer_auth(&u.token).header("Idempotency-Key", "two words")).await;
        assert_eq!((bad.0, code(&bad.2)), (400, "INVALID_IDEMPOTENCY_KEY"), "{path}: {}", bad.2);
    }
}
