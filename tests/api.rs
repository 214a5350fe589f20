//! End to end through the local API server: the template's routes, the JWT
//! authorizer against the local Cognito (moto), the handlers, DynamoDB Local.

use expenzez_domain::ids::UserId;
use expenzez_tests::{send, ApiEnv, TestUser};
use serde_json::{json, Value};
use std::collections::HashSet;

/// A problem+json error with the app's `error{...}` and `message`.
fn assert_problem(status: u16, headers: &reqwest::header::HeaderMap, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json", "{body}");
    assert_eq!(body["status"], want_status);
    assert!(body["type"].as_str().unwrap().starts_with("https://"), "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string() && body["message"].is_string(), "{body}");
    let e = &body["error"];
    assert_eq!(e["code"], want_code, "{body}");
    assert!(e["message"].is_string() && e["retryable"].is_boolean() && e["correlationId"].is_string(), "{body}");
    assert!(e.get("retryAfter").is_some() && e.get("details").is_some(), "{body}");
}

fn assert_transaction_shape(t: &Value) {
    for f in ["id", "type", "date", "category", "description", "merchant", "currency", "accountId"] {
        assert!(t[f].is_string(), "{f} in {t}");
    }
    for f in ["amount", "originalAmount"] {
        assert!(t[f].is_number(), "{f} in {t}");
    }
    for f in ["isPending", "excludeFromSpend"] {
        assert!(t[f].is_boolean(), "{f} in {t}");
    }
    assert!(t["tags"].is_array());
    assert!(t["bankName"].is_string() || t["bankName"].is_null());
    assert!(t["accountType"].is_string() || t["accountType"].is_null());
    assert!(["debit", "credit"].contains(&t["type"].as_str().unwrap()));
}

async fn create(env: &ApiEnv, u: &TestUser, amount: f64, date: &str, category: &str) -> Value {
    let (s, _, b) = send(env.post(
        u,
        "/transactions",
        &json!({"amount": amount, "description": format!("{category} on {date}"), "category": category, "date": date, "merchant": "Shop"}),
    ))
    .await;
    assert_eq!(s, 201, "{b}");
    b["transaction"].clone()
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401_before_any_handler() {
    let env = ApiEnv::start().await;
    let u = env.user("alice", false).await;
    let (s, _, b) = send(env.http.get(env.url("/profile"))).await;
    assert_eq!((s, b), (401, json!({"message": "Unauthorized"})));
    // Same token, one signature character changed.
    let mut bad = u.token.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == 'A' { 'B' } else { 'A' });
    let (s, _, _) = send(env.http.get(env.url("/profile")).bearer_auth(&bad)).await;
    assert_eq!(s, 401);
    // The id token is not an access token.
    let id_token = env.cognito.login(&env.pool, &u.email, expenzez_tests::PASSWORD).await.unwrap().id_token;
    assert_eq!(send(env.http.get(env.url("/profile")).bearer_auth(&id_token)).await.0, 401);
    // A token of another app client of another pool.
    let other = ApiEnv::start().await;
    let stranger = other.user("mallory", false).await;
    assert_eq!(send(env.get(&stranger, "/profile")).await.0, 401);
    // Unknown route: API Gateway's 404.
    assert_eq!(send(env.get(&u, "/nope")).await.0, 404);
}

#[tokio::test]
async fn profile_get_and_put() {
    let env = ApiEnv::start().await;
    let u = env.user("alice", false).await;
    let (s, h, b) = send(env.get(&u, "/profile")).await;
    assert_eq!(s, 200, "{b}");
    let p = &b["profile"];
    for f in [
        "firstName",
        "lastName",
        "email",
        "phone",
        "address",
        "city",
        "postcode",
        "country",
        "birthdate",
        "occupation",
        "company",
        "createdAt",
        "preferredCurrency",
    ] {
        assert!(p.get(f).is_some(), "{f} missing in {p}");
    }
    assert_eq!(p["email"], u.email.to_lowercase());
    assert_eq!(p["preferredCurrency"], "GBP");
    let etag = h["etag"].to_str().unwrap().to_string();

    let (s, h2, b) = send(env.put(&u, "/profile", &json!({"city": "Leeds", "preferredCurrency": "eur", "phone": "+44 7700 900123"}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["profile"]["city"].as_str(), b["profile"]["preferredCurrency"].as_str()), (Some("Leeds"), Some("EUR")));
    assert_ne!(h2["etag"], etag.as_str());
    let (_, _, b) = send(env.get(&u, "/profile")).await;
    assert_eq!(b["profile"]["city"], "Leeds");
    assert_eq!(b["profile"]["firstName"], "alice", "fields not sent are unchanged");
    // What GET returned can be sent back: `name` is the display name, `createdAt` is read-only.
    let created = b["profile"]["createdAt"].clone();
    let (s, _, b) = send(env.put(&u, "/profile", &json!({"name": "Alice A.", "createdAt": "2001-01-01T00:00:00Z"}))).await;
    assert_eq!((s, b["profile"]["name"].as_str()), (200, Some("Alice A.")), "{b}");
    assert_eq!(b["profile"]["createdAt"], created);

    // Field errors: 422 with details, nothing written.
    let (s, h, b) = send(env.put(&u, "/profile", &json!({"city": "Paris", "birthdate": "2999-01-01", "preferredCurrency": "euro"}))).await;
    assert_problem(s, &h, &b, 422, "VALIDATION_ERROR");
    let fields: HashSet<&str> = b["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, HashSet::from(["birthdate", "preferredCurrency"]));
    assert_eq!(send(env.get(&u, "/profile")).await.2["profile"]["city"], "Leeds");
    let (s, h, b) = send(env.put(&u, "/profile", &json!({"nickname": "x"}))).await;
    assert_problem(s, &h, &b, 422, "VALIDATION_ERROR");
    let (s, h, b) = send(env.put(&u, "/profile", &json!({"email": "not-an-email"}))).await;
    assert_problem(s, &h, &b, 422, "VALIDATION_ERROR");
    // Malformed JSON, wrong media type, oversized body.
    let (s, h, b) =
        send(env.http.put(env.url("/profile")).bearer_auth(&u.token).header("content-type", "application/json").body("{\"city\": ")).await;
    assert_problem(s, &h, &b, 400, "MALFORMED_JSON");
    let (s, h, b) = send(env.http.put(env.url("/profile")).bearer_auth(&u.token).header("content-type", "text/plain").body("city=x")).await;
    assert_problem(s, &h, &b, 415, "UNSUPPORTED_MEDIA_TYPE");
    let big = json!({"address": "x".repeat(70_000)});
    let (s, h, b) = send(env.put(&u, "/profile", &big)).await;
    assert_problem(s, &h, &b, 413, "PAYLOAD_TOO_LARGE");
    // A stale If-Match is 412.
    let (s, h, b) = send(env.put(&u, "/profile", &json!({"city": "York"})).header("if-match", etag)).await;
    assert_problem(s, &h, &b, 412, "PRECONDITION_FAILED");

    // A user without a profile yet: 404.
    let sub = env.cognito.create_user(&env.pool, "noprofile@example.com", expenzez_tests::PASSWORD, false).await.unwrap();
    let token = env.cognito.login(&env.pool, "noprofile@example.com", expenzez_tests::PASSWORD).await.unwrap().access_token;
    let ghost = TestUser { sub, email: "noprofile@example.com".into(), token };
    let (s, h, b) = send(env.get(&ghost, "/profile")).await;
    assert_problem(s, &h, &b, 404, "NOT_FOUND");
}

#[tokio::test]
async fn transaction_lifecycle_moves_the_summary() {
    let env = ApiEnv::start().await;
    let u = env.user("alice", false).await;
    let t = create(&env, &u, -12.34, "2025-08-20", "eating_out").await;
    assert_transaction_shape(&t);
    assert_eq!((t["amount"].as_f64(), t["originalAmount"].as_f64(), t["type"].as_str()), (Some(-12.34), Some(12.34), Some("debit")));
    let id = t["id"].as_str().unwrap().to_string();
    // A positive amount with type debit is money out.
    let t2 = send(env.post(
        &u,
        "/transactions",
        &json!({"amount": 20, "type": "debit", "description": "Books", "category": "shopping", "date": "2025-08-21"}),
    ))
    .await
    .2;
    assert_eq!(t2["transaction"]["amount"].as_f64(), Some(-20.0));
    create(&env, &u, 2500.0, "2025-08-01", "income").await;

    let month = |b: &Value| b["summary"].clone();
    let (_, _, s) = send(env.get(&u, "/transactions/summary?month=2025-08")).await;
    let s = month(&s);
    assert_eq!(s["transactionCount"], 3);
    assert_eq!(s["totalDebit"].as_f64(), Some(32.34));
    assert_eq!(s["totalCredit"].as_f64(), Some(2500.0));
    assert_eq!(s["balance"].as_f64(), Some(2467.66));
    assert_eq!(s["monthsWithData"], json!(["2025-08"]));
    assert_eq!(s["byCategory"]["Food & Dining"]["debit"].as_f64(), Some(12.34));
    assert_eq!(s["firstTransactionDate"], "2025-08-01T12:00:00.000Z");

    let (st, h, b) = send(env.get(&u, &format!("/transactions/{id}"))).await;
    assert_eq!(st, 200);
    assert_eq!(b["transaction"]["id"], id.as_str());
    assert!(h.contains_key("etag"));

    // Recategorise and move to September: both months move, in one transaction.
    let (st, _, b) =
        send(env.put(&u, &format!("/transactions/{id}"), &json!({"category": "groceries", "date": "2025-09-02", "amount": -15}))).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!((b["transaction"]["category"].as_str(), b["transaction"]["amount"].as_f64()), (Some("Groceries"), Some(-15.0)));
    let aug = month(&send(env.get(&u, "/transactions/summary?month=2025-08")).await.2);
    assert!(aug["byCategory"].get("eating_out").is_none(), "{aug}");
    assert_eq!(aug["monthTotals"]["debit"].as_f64(), Some(20.0));
    let sep = month(&send(env.get(&u, "/transactions/summary?month=2025-09")).await.2);
    assert_eq!(sep["byCategory"]["Groceries"]["debit"].as_f64(), Some(15.0));
    assert_eq!(sep["monthsWithData"], json!(["2025-08", "2025-09"]));

    // Invalid update: 422, nothing changes.
    let (st, h, b) = send(env.put(&u, &format!("/transactions/{id}"), &json!({"amount": 1.234}))).await;
    assert_problem(st, &h, &b, 422, "VALIDATION_ERROR");
    assert_eq!(b["error"]["details"][0]["field"], "amount");

    let (st, _, b) = send(env.delete(&u, &format!("/transactions/{id}"))).await;
    assert_eq!((st, b["success"].as_bool()), (200, Some(true)));
    let (st, h, b) = send(env.get(&u, &format!("/transactions/{id}"))).await;
    assert_problem(st, &h, &b, 404, "NOT_FOUND");
    let (st, h, b) = send(env.delete(&u, &format!("/transactions/{id}"))).await;
    assert_problem(st, &h, &b, 404, "NOT_FOUND");
    let sep = month(&send(env.get(&u, "/transactions/summary?month=2025-09")).await.2);
    assert_eq!(sep["monthTotals"]["count"], 0);
    assert_eq!(sep["monthsWithData"], json!(["2025-08"]));
}

#[tokio::test]
async fn transaction_validation_errors_are_422_with_fields() {
    let env = ApiEnv::start().await;
    let u = env.user("alice", false).await;
    let (s, h, b) =
        send(env.post(&u, "/transactions", &json!({"amount": 1.234, "description": "", "category": "a#b", "date": "yesterday"}))).await;
    assert_problem(s, &h, &b, 422, "VALIDATION_ERROR");
    // The amount fails while parsing: one field at a time for type errors.
    assert_eq!(b["error"]["details"][0]["field"], "amount");
    let (s, h, b) =
        send(env.post(&u, "/transactions", &json!({"amount": 1.5, "description": " ", "category": "a#b", "date": "yesterday"}))).await;
    assert_problem(s, &h, &b, 422, "VALIDATION_ERROR");
    let fields: HashSet<&str> = b["error"]["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, HashSet::from(["description", "category", "date"]));
    let (s, h, b) = send(env.post(&u, "/transactions", &json!({"amount": "12", "description": "x", "category": "c"}))).await;
    assert_problem(s, &h, &b, 422, "VALIDATION_ERROR");
    let (s, h, b) =
        send(env.post(&u, "/transactions", &json!({"amount": 1, "description": "x", "category": "c", "type": "transfer"}))).await;
    assert_problem(s, &h, &b, 422, "VALIDATION_ERROR");
    assert_eq!(b["error"]["details"][0]["field"], "type");
    let (s, _, b) = send(env.get(&u, "/transactions?limit=0&startDate=2025-13-01")).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["error"]["details"].as_array().unwrap().len(), 2);
    // Nothing was written.
    let (_, _, b) = send(env.get(&u, "/transactions")).await;
    assert_eq!(b["transactions"], json!([]));
    assert_eq!(b["summary"]["count"], 0);
}

#[tokio::test]
async fn idempotency_key_replays_the_first_response() {
    let env = ApiEnv::start().await;
    let u = env.user("alice", false).await;
    let body = json!({"amount": -5, "description": "Coffee", "category": "eating_out", "date": "2025-08-20"});
    let first = send(env.post(&u, "/transactions", &body).header("idempotency-key", "k-123")).await;
    let again = send(env.post(&u, "/transactions", &body).header("idempotency-key", "k-123")).await;
    assert_eq!(first.0, 201);
    assert_eq!((again.0, &again.2), (201, &first.2), "same response");
    let list = send(env.get(&u, "/transactions")).await.2;
    assert_eq!(list["transactions"].as_array().unwrap().len(), 1, "written once");
    let other = json!({"amount": -6, "description": "Tea", "category": "eating_out", "date": "2025-08-20"});
    let (s, h, b) = send(env.post(&u, "/transactions", &other).header("idempotency-key", "k-123")).await;
    assert_problem(s, &h, &b, 409, "IDEMPOTENCY_KEY_REUSED");
    // Keys are per user.
    let v = env.user("bob", false).await;
    assert_eq!(send(env.post(&v, "/transactions", &other).header("idempotency-key", "k-123")).await.0, 201);
}

#[tokio::test]
async fn users_never_see_each_others_transactions() {
    let env = ApiEnv::start().await;
    let a = env.user("alice", false).await;
    let b = env.user("bob", false).await;
    let mut ids = Vec::new();
    for d in 1..=6 {
        ids.push(create(&env, &a, -(d as f64), &format!("2025-08-{d:02}"), "groceries").await["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        for (st, h, body) in [
            send(env.get(&b, &format!("/transactions/{id}"))).await,
            send(env.put(&b, &format!("/transactions/{id}"), &json!({"description": "mine now"}))).await,
            send(env.delete(&b, &format!("/transactions/{id}"))).await,
        ] {
            assert_problem(st, &h, &body, 404, "NOT_FOUND");
        }
    }
    for path in ["/transactions", "/transactions?category=groceries", "/transactions?startDate=2025-01-01&endDate=2025-12-31"] {
        let body = send(env.get(&b, path)).await.2;
        assert_eq!(body["transactions"], json!([]), "{path}");
    }
    let s = send(env.get(&b, "/transactions/summary")).await.2;
    assert_eq!(s["summary"]["transactionCount"], 0);
    // A's nextKey is refused for B, and a tampered one for A.
    let page = send(env.get(&a, "/transactions?limit=2")).await.2;
    let key = page["nextKey"].as_str().unwrap().to_string();
    let (st, h, body) = send(env.get(&b, &format!("/transactions?limit=2&startKey={key}"))).await;
    assert_problem(st, &h, &body, 400, "INVALID_START_KEY");
    let tampered = format!("{}x", &key[..key.len() - 1]);
    let (st, h, body) = send(env.get(&a, &format!("/transactions?limit=2&startKey={tampered}"))).await;
    assert_problem(st, &h, &body, 400, "INVALID_START_KEY");
    // ...and for A on another query.
    let (st, _, _) = send(env.get(&a, &format!("/transactions?limit=2&type=debit&startKey={key}"))).await;
    assert_eq!(st, 400);
    // A's data is intact.
    assert_eq!(send(env.get(&a, "/transactions")).await.2["transactions"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn date_range_pages_are_exact_newest_first_without_gaps() {
    let env = ApiEnv::start().await;
    let u = env.user("alice", false).await;
    let cats = ["groceries", "transport", "Shopping", "food_and_drink"];
    let mut all = Vec::new();
    for i in 0..40u32 {
        let date = format!("2025-{:02}-{:02}", 6 + i / 14, 1 + (i % 14) * 2);
        let amount = if i % 5 == 0 { 100.0 + i as f64 } else { -(1.0 + i as f64) };
        let t = create(&env, &u, amount, &date, cats[i as usize % 4]).await;
        all.push(t);
    }
    let in_range = |t: &Value| {
        let d = &t["date"].as_str().unwrap()[..10];
        ("2025-06-10"..="2025-07-20").contains(&d)
    };
    let mut expected: Vec<&Value> = all.iter().filter(|t| in_range(t)).collect();
    expected.sort_by(|a, b| b["date"].as_str().cmp(&a["date"].as_str()).then(b["id"].as_str().cmp(&a["id"].as_str())));

    let mut got: Vec<Value> = Vec::new();
    let mut key: Option<String> = None;
    let mut sum = 0.0;
    loop {
        let mut path = "/transactions?startDate=2025-06-10&endDate=2025-07-20&limit=4".to_string();
        if let Some(k) = &key {
            path.push_str(&format!("&startKey={k}"));
        }
        let (s, _, b) = send(env.get(&u, &path)).await;
        assert_eq!(s, 200, "{b}");
        let page = b["transactions"].as_array().unwrap();
        assert!(page.len() <= 4);
        assert_eq!(b["summary"]["count"], page.len());
        sum += b["summary"]["totalAmount"].as_f64().unwrap();
        got.extend(page.iter().cloned());
        match b["nextKey"].as_str() {
            Some(k) => key = Some(k.to_string()),
            None => break,
        }
    }
    let got_ids: Vec<&str> = got.iter().map(|t| t["id"].as_str().unwrap()).collect();
    let want_ids: Vec<&str> = expected.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(got_ids, want_ids, "exactly the range, newest first, no duplicates or gaps");
    let want_sum: f64 = expected.iter().map(|t| t["amount"].as_f64().unwrap()).sum();
    assert!((sum - want_sum).abs() < 1e-6);

    // One category, exactly, under any of its names (`food` is `Food & Dining`, as `food_and_drink` was stored).
    let b = send(env.get(&u, "/transactions?category=food&limit=500")).await.2;
    let got: Vec<&str> = b["transactions"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    let mut want: Vec<&Value> = all.iter().filter(|t| t["category"] == "Food & Dining").collect();
    assert_eq!(want.len(), 10);
    want.sort_by(|a, b| b["date"].as_str().cmp(&a["date"].as_str()));
    assert_eq!(got, want.iter().map(|t| t["id"].as_str().unwrap()).collect::<Vec<_>>());
    // Category within a date range, and the type filter across pages.
    let b = send(env.get(&u, "/transactions?category=groceries&startDate=2025-06-10&endDate=2025-07-20")).await.2;
    assert!(b["transactions"].as_array().unwrap().iter().all(|t| t["category"] == "Groceries" && in_range(t)));
    let want_credit = all.iter().filter(|t| t["type"] == "credit").count();
    let mut credits = 0;
    let mut key: Option<String> = None;
    loop {
        let path = format!("/transactions?type=credit&limit=3{}", key.as_ref().map(|k| format!("&startKey={k}")).unwrap_or_default());
        let b = send(env.get(&u, &path)).await.2;
        let page = b["transactions"].as_array().unwrap();
        assert!(page.iter().all(|t| t["type"] == "credit" && t["amount"].as_f64().unwrap() > 0.0));
        credits += page.len();
        match b["nextKey"].as_str() {
            Some(k) => key = Some(k.to_string()),
            None => break,
        }
    }
    assert_eq!(credits, want_credit);
}

#[tokio::test]
async fn config_is_public_to_users_and_writable_by_admins_only() {
    let env = ApiEnv::start().await;
    let admin = env.user("root", true).await;
    let user = env.user("alice", false).await;
    let body = json!({"value": 10, "category": "feature_flags", "dataType": "number", "description": "Assistant questions per day",
                      "validation": {"type": "range", "rules": {"min": 1, "max": 100}, "errorMessage": "must be 1 to 100"}});
    let (s, h, b) = send(env.put(&user, "/admin/config/ai_daily_limit", &body)).await;
    assert_problem(s, &h, &b, 403, "FORBIDDEN");
    let (s, _, b) = send(env.put(&admin, "/admin/config/ai_daily_limit", &body)).await;
    assert_eq!(s, 201, "created: {b}");
    assert_eq!((b["setting"]["value"].as_i64(), b["setting"]["version"].as_str()), (Some(10), Some("1")));
    let (s, _, b) = send(env.put(&admin, "/admin/config/ai_daily_limit", &json!({"value": 25, "changeReason": "more"}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!((b["setting"]["previousValue"].as_i64(), b["setting"]["version"].as_str()), (Some(10), Some("2")));
    for bad in [json!({"value": 500}), json!({"value": "ten"}), json!({"value": null})] {
        let (s, h, b) = send(env.put(&admin, "/admin/config/ai_daily_limit", &bad)).await;
        assert_problem(s, &h, &b, 422, "VALIDATION_ERROR");
    }
    // A new setting needs its description and category.
    let (s, h, b) = send(env.put(&admin, "/admin/config/new_flag", &json!({"value": true}))).await;
    assert_problem(s, &h, &b, 422, "VALIDATION_ERROR");
    let secret = json!({"value": "x", "category": "security", "description": "internal"});
    assert_eq!(send(env.put(&admin, "/admin/config/internal_only", &secret)).await.0, 201);
    let (s, _, b) = send(env.get(&user, "/config")).await;
    assert_eq!(s, 200);
    assert_eq!(b["config"]["ai_daily_limit"], 25);
    assert!(b["config"].get("internal_only").is_none(), "security settings stay on the server");
}

/// Edits racing each other (as a bank sync and the user would): every one
/// lands on the latest version, none is lost, and the summary stays exact.
#[tokio::test]
async fn concurrent_edits_never_overwrite_each_other() {
    let env = ApiEnv::start().await;
    let u = env.user("alice", false).await;
    let t = create(&env, &u, -1.0, "2025-08-01", "groceries").await;
    let id = t["id"].as_str().unwrap().to_string();
    // Eight concurrent PUTs, each changing the amount to a different value.
    let puts = (0..8).map(|i| {
        let env = &env;
        let u = &u;
        let id = &id;
        async move { send(env.put(u, &format!("/transactions/{id}"), &json!({"amount": -(2.0 + i as f64)}))).await.0 }
    });
    let statuses = futures::future::join_all(puts).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let (_, h, b) = send(env.get(&u, &format!("/transactions/{id}"))).await;
    assert_eq!(h["etag"], "\"v9\"", "eight updates on top of the first write");
    let final_amount = b["transaction"]["amount"].as_f64().unwrap();
    let s = send(env.get(&u, "/transactions/summary?month=2025-08")).await.2;
    assert_eq!(s["summary"]["totalDebit"].as_f64(), Some(-final_amount));
    assert_eq!(s["summary"]["transactionCount"], 1);
}

/// The spending screen's load: the first page with dates and `limit`, the
/// next ones with only `startKey` and `limit`; and the screens that ask one
/// large `limit` and never page.
#[tokio::test]
async fn a_start_key_alone_continues_its_query_and_large_limits_fit_one_response() {
    let env = ApiEnv::start().await;
    let u = env.user("sal", false).await;
    let until = expenzez_domain::Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
    let demo = expenzez_devtool::generate_for(&u.sub, &u.email, 7, until).unwrap();
    demo.load(&env.table).await.unwrap();
    let range = "startDate=2025-11-01&endDate=2026-10-31";
    let in_range = |t: &Value| ("2025-11-01".."2026-11-01").contains(&&t["date"].as_str().unwrap()[..10]);

    let (s, _, first) = send(env.get(&u, &format!("/transactions?{range}&limit=50"))).await;
    assert_eq!(s, 200, "{first}");
    let mut got: Vec<Value> = first["transactions"].as_array().unwrap().clone();
    let mut key = first["nextKey"].as_str().map(str::to_string);
    let mut pages = 1;
    while let Some(k) = key {
        let (s, _, b) = send(env.get(&u, &format!("/transactions?startKey={k}&limit=50"))).await;
        assert_eq!(s, 200, "{b}");
        got.extend(b["transactions"].as_array().unwrap().iter().cloned());
        key = b["nextKey"].as_str().map(str::to_string);
        pages += 1;
    }
    assert!(pages > 5 && got.iter().all(in_range), "{pages} pages, all within the first page's dates");

    // One large page holds the same, newest first, without nextKey.
    let (s, _, all) = send(env.get(&u, &format!("/transactions?{range}&limit=18000"))).await;
    assert_eq!(s, 200);
    assert!(all["nextKey"].is_null(), "{}", all["nextKey"]);
    let ids = |v: &[Value]| v.iter().map(|t| t["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let all_txns = all["transactions"].as_array().unwrap();
    assert_eq!(ids(&got), ids(all_txns), "paging with startKey alone gives exactly the large page");
    assert_eq!(all["summary"]["count"], all_txns.len());
    let in_store = demo.transactions.iter().filter(|t| ("2025-11-01".."2026-11-01").contains(&&t.timestamp.to_string()[..10])).count();
    assert_eq!(all_txns.len(), in_store);
    assert!(in_store > 300, "{in_store}");

    // A key sent with other filters is still refused; with the same ones it continues.
    let k = first["nextKey"].as_str().unwrap();
    let (s, h, b) = send(env.get(&u, &format!("/transactions?startKey={k}&limit=50&startDate=2026-01-01&endDate=2026-10-31"))).await;
    assert_problem(s, &h, &b, 400, "INVALID_START_KEY");
    let (s, _, b) = send(env.get(&u, &format!("/transactions?{range}&startKey={k}&limit=50"))).await;
    assert_eq!((s, ids(b["transactions"].as_array().unwrap())), (200, ids(&got[50..100])));
    // Another user's key opens for nobody else.
    let v = env.user("val", false).await;
    let (s, h, b) = send(env.get(&v, &format!("/transactions?startKey={k}&limit=50"))).await;
    assert_problem(s, &h, &b, 400, "INVALID_START_KEY");
    // The type filter travels too.
    let credits = send(env.get(&u, "/transactions?type=credit&limit=3")).await.2;
    let k = credits["nextKey"].as_str().unwrap();
    let b = send(env.get(&u, &format!("/transactions?startKey={k}&limit=500"))).await.2;
    assert!(b["transactions"].as_array().unwrap().iter().all(|t| t["type"] == "credit"), "{b}");
}

/// A page ends where the byte budget ends, and its key continues right after
/// the last transaction sent (read page by page, nothing lost or repeated).
#[tokio::test]
async fn a_page_stops_at_the_byte_budget_and_continues_exactly() {
    use expenzez_api::handlers::transactions::{list_page, ListRequest};
    let env = ApiEnv::start().await;
    let u = env.user("bo", false).await;
    let until = expenzez_domain::Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
    let demo = expenzez_devtool::generate_for(&u.sub, &u.email, 3, until).unwrap();
    demo.load(&env.table).await.unwrap();
    let user = UserId::new(&u.sub).unwrap();
    let req = ListRequest { from: None, to: None, category: None, kind: None, limit: 18_000, start_key: None, bank_only: false };

    let metered = env.table.metered();
    let (everything, next) =
        list_page(&metered, &user, &req, None, expenzez_api::handlers::transactions::MAX_RESPONSE_BYTES).await.unwrap();
    assert!(next.is_none());
    assert_eq!(everything.len(), demo.transactions.len());
    let c = metered.consumed();
    let bytes: usize = everything
        .iter()
        .map(|t| serde_json::to_string(&expenzez_api::handlers::transactions::TransactionView::from(t)).unwrap().len())
        .sum();
    eprintln!(
        "limit 18000 on a demo year: {} transactions, {} bytes of views, {:.1} RCU in {} calls",
        everything.len(),
        bytes,
        c.read_units,
        c.calls
    );

    let mut got = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let (page, next) = list_page(&env.table, &user, &req, cursor, 20_000).await.unwrap();
        assert!(!page.is_empty() && page.len() < 100, "{} fit in 20,000 bytes", page.len());
        got.extend(page);
        pages += 1;
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let ids = |v: &[expenzez_domain::entities::Transaction]| v.iter().map(|t| t.transaction_id.to_string()).collect::<Vec<_>>();
    assert!(pages > 5);
    assert_eq!(ids(&got), ids(&everything), "the budget-cut pages join up exactly");
}
