//! Recurring bills end to end through the local API (JWT authorizer emulated)
//! against DynamoDB Local and the local Cognito: detection from the caller's
//! transactions, its APICache entry served and invalidated, the app's saved
//! bills merged without duplicates, preferences (ignore, rename, recategorise,
//! paid, pause, reminder), cross-user isolation on every route; and the
//! sample events in `events/` through the dispatcher.

use chrono::{Duration, Months, NaiveDate};
use expenzez_assistant::routes::Assistant;
use expenzez_domain::entities::{ApiCache, MonthlySummary, Transaction};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::{SystemClock, Timestamp};
use expenzez_store::{Condition, Table};
use expenzez_tests::fixtures::{self, user};
use expenzez_tests::samples::{call_assistant as call, event, SUB};
use expenzez_tests::{fresh_table, send, ApiEnv, TestUser};
use serde_json::{json, Value};

fn now() -> Timestamp {
    expenzez_domain::Clock::now(&SystemClock)
}

fn today() -> NaiveDate {
    now().date()
}

/// Stores `txns` with their monthly summaries (as the ledger would).
async fn seed(table: &Table, txns: &[Transaction]) {
    table.batch_put(txns).await.unwrap();
    let mut months: std::collections::BTreeMap<_, Vec<&Transaction>> = Default::default();
    for t in txns {
        months.entry((t.user_id.clone(), t.timestamp.month())).or_default().push(t);
    }
    for ((u, m), ts) in months {
        table.put(&MonthlySummary::recompute(u, m, now(), ts).unwrap(), Condition::None).await.unwrap();
    }
}

/// `count` monthly payments to `merchant` of `minor` pence, the last one `days_ago`.
fn monthly(u: &TestUser, merchant: &str, minor: i64, count: u32, days_ago: i64) -> Vec<Transaction> {
    let last = today() - Duration::days(days_ago);
    (0..count)
        .map(|k| {
            let day = last.checked_sub_months(Months::new(count - 1 - k)).unwrap();
            let at = Timestamp::start_of_day(day).plus_seconds(8 * 3600);
            let mut t = fixtures::transaction(
                &user(&u.sub),
                &format!("{}-{k}", merchant.replace(' ', "-")),
                &at.to_string(),
                "Entertainment",
                -minor,
            );
            t.merchant.as_mut().unwrap().name = merchant.into();
            t.description = format!("{merchant} subscription");
            t
        })
        .collect()
}

fn bills(b: &Value) -> Vec<(String, String)> {
    b["bills"].as_array().unwrap().iter().map(|x| (x["billId"].as_str().unwrap().into(), x["source"].as_str().unwrap().into())).collect()
}

fn cache_key(u: &TestUser) -> ItemKey {
    ItemKey::ApiCache { endpoint: "bills".into(), owner: Some(user(&u.sub)), query_hash: "detected-v1".into() }
}

async fn count_with_prefix(table: &Table, u: &TestUser, prefix: &str) -> usize {
    table.keys_with_prefix(&keys::user_pk(&user(&u.sub)), Some(prefix)).await.unwrap().len()
}

#[tokio::test]
async fn detected_bills_are_cached_then_recomputed_when_the_data_changes() {
    let env = ApiEnv::start().await;
    let (a, b) = (env.user("ann", false).await, env.user("bob", false).await);
    let mut txns = monthly(&a, "Netflix", 1_299, 6, 3);
    txns.extend(monthly(&a, "Landlord Rent", 125_000, 4, 10));
    // A shop paid at random amounts is not a bill.
    for (i, (days, minor)) in [(2, 4_210), (9, 1_105), (20, 7_730), (41, 2_950)].into_iter().enumerate() {
        let at = Timestamp::start_of_day(today() - Duration::days(days)).plus_seconds(3600);
        txns.push(fixtures::transaction(&user(&a.sub), &format!("shop-{i}"), &at.to_string(), "Groceries", -minor));
    }
    seed(&env.table, &txns).await;

    let (s, _, first) = send(env.get(&a, "/bills/detected")).await;
    assert_eq!(s, 200, "{first}");
    let list = first["bills"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{first}");
    let netflix = list.iter().find(|x| x["billId"] == "netflix").unwrap();
    let last = today() - Duration::days(3);
    assert_eq!(netflix["merchant"], "Netflix");
    assert_eq!((netflix["amount"].as_f64(), netflix["frequency"].as_str()), (Some(12.99), Some("monthly")));
    assert_eq!(netflix["lastDate"], last.to_string());
    assert_eq!(netflix["nextExpectedDate"], last.checked_add_months(Months::new(1)).unwrap().to_string());
    assert_eq!((netflix["status"].as_str(), netflix["source"].as_str()), (Some("active"), Some("transactions")));
    let rent = list.iter().find(|x| x["billId"] == "landlord-rent").unwrap();
    assert_eq!(rent["amount"].as_f64(), Some(1250.0));

    // The detection is in APICache for 30 minutes.
    let cached = env.table.get::<ApiCache>(&cache_key(&a)).await.unwrap().expect("cached").value;
    let ttl = cached.ttl - now().epoch_seconds();
    assert!((1_790..=1_800).contains(&ttl), "TTL {ttl}s");
    assert_eq!(cached.response_data.as_array().map(Vec::len), Some(2));

    // Served from the cache: a mark put into the cached entry shows.
    let mut marked = cached.clone();
    marked.response_data[0]["merchant"] = json!("Cached Marker");
    env.table.put(&marked, Condition::None).await.unwrap();
    let (_, _, again) = send(env.get(&a, "/bills/detected")).await;
    assert!(again.to_string().contains("Cached Marker"), "{again}");

    // A new transaction in the window moves its month's summary version: recomputed.
    let body =
        json!({"amount": -3.5, "description": "Coffee", "category": "Food & Dining", "date": today().to_string(), "merchant": "Pret"});
    let (s, _, created) = send(env.post(&a, "/transactions", &body)).await;
    assert_eq!(s, 201, "{created}");
    let (_, _, fresh) = send(env.get(&a, "/bills/detected")).await;
    assert!(!fresh.to_string().contains("Cached Marker"), "{fresh}");
    assert_eq!(bills(&fresh).len(), 2);

    // An expired entry is never served, whatever its signature.
    let mut stale = env.table.get::<ApiCache>(&cache_key(&a)).await.unwrap().unwrap().value;
    stale.response_data[0]["merchant"] = json!("Stale Marker");
    stale.expires_at = now().plus_seconds(-1);
    stale.ttl = stale.expires_at.epoch_seconds();
    env.table.put(&stale, Condition::None).await.unwrap();
    let (_, _, renewed) = send(env.get(&a, "/bills/detected")).await;
    assert!(!renewed.to_string().contains("Stale Marker"), "{renewed}");

    // Bob has no bills and never sees Ann's.
    let (s, _, body) = send(env.get(&b, "/bills/detected")).await;
    assert_eq!((s, body), (200, json!({"bills": []})));
}

#[tokio::test]
async fn saved_bills_merge_with_detected_ones_without_duplicates() {
    let env = ApiEnv::start().await;
    let (a, b) = (env.user("ann", false).await, env.user("bob", false).await);
    seed(&env.table, &monthly(&a, "Netflix", 1_299, 5, 4)).await;
    let recent = (today() - Duration::days(12)).to_string();
    let save = json!({"bills": [
        {"merchant": "NETFLIX", "category": "Entertainment", "amount": -12.99, "frequency": "monthly", "lastDate": recent},
        {"merchant": "Octopus Energy", "amount": -85.5, "frequency": "monthly", "lastDate": recent},
        {"merchant": "octopus energy", "amount": 86, "frequency": "monthly", "lastDate": (today() - Duration::days(40)).to_string()},
    ]});
    let (s, _, body) = send(env.post(&a, "/bills/detected", &save)).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["saved"], 2, "the two Octopus entries are one bill");
    let expected = vec![("netflix".to_string(), "both".to_string()), ("octopus-energy".to_string(), "app".to_string())];
    let mut got = bills(&body);
    got.sort();
    assert_eq!(got, expected);
    let octopus = body["bills"].as_array().unwrap().iter().find(|x| x["billId"] == "octopus-energy").unwrap();
    assert_eq!((octopus["amount"].as_f64(), octopus["category"].as_str()), (Some(85.5), Some("Bills & Utilities")), "the later payment");

    // Saving again never duplicates: still one item and one entry per bill.
    let (s, _, body) = send(env.post(&a, "/bills/detected", &save)).await;
    assert_eq!(s, 200);
    let mut got = bills(&body);
    got.sort();
    assert_eq!(got, expected);
    assert_eq!(count_with_prefix(&env.table, &a, keys::prefix::SAVED_BILL).await, 2);
    let (_, _, listed) = send(env.get(&a, "/bills/detected")).await;
    assert_eq!(listed["bills"].as_array().unwrap().len(), 2, "{listed}");

    // Bob's saved bill is his own.
    let (s, _, body) = send(env.post(&b, "/bills/detected", &json!({"bills": [save["bills"][1].clone()]}))).await;
    assert_eq!((s, bills(&body)), (200, vec![("octopus-energy".into(), "app".into())]));
    assert_eq!(count_with_prefix(&env.table, &a, keys::prefix::SAVED_BILL).await, 2);

    // Bad input: 422 with the field, nothing written.
    for bad in [
        json!({"bills": []}),
        json!({"bills": [{"merchant": "X", "amount": 0, "frequency": "monthly", "lastDate": recent}]}),
        json!({"bills": [{"merchant": "X", "amount": 1.234, "frequency": "monthly", "lastDate": recent}]}),
        json!({"bills": [{"merchant": "X", "amount": 5, "frequency": "daily", "lastDate": recent}]}),
        json!({"bills": [{"merchant": "X", "amount": 5, "frequency": "monthly", "lastDate": "2026-02-30"}]}),
        json!({"bills": [{"merchant": "X", "amount": 5, "frequency": "monthly", "lastDate": recent, "category": "Nonsense"}]}),
        json!({"bills": [{"merchant": "X", "amount": 5, "frequency": "monthly", "lastDate": recent, "extra": true}]}),
    ] {
        let (s, _, body) = send(env.post(&a, "/bills/detected", &bad)).await;
        assert_eq!(s, 422, "{bad}: {body}");
        assert!(body["error"]["details"].is_array(), "{body}");
    }
    assert_eq!(count_with_prefix(&env.table, &a, keys::prefix::SAVED_BILL).await, 2);
}

#[tokio::test]
async fn preferences_apply_to_the_callers_own_bills_only() {
    let env = ApiEnv::start().await;
    let (a, b) = (env.user("ann", false).await, env.user("bob", false).await);
    seed(&env.table, &monthly(&a, "Netflix", 1_299, 5, 4)).await;
    let recent = (today() - Duration::days(12)).to_string();
    let save = json!({"bills": [{"merchant": "Octopus Energy", "amount": 85.5, "frequency": "monthly", "lastDate": recent}]});
    assert_eq!(send(env.post(&a, "/bills/detected", &save)).await.0, 200);

    // Rename and recategorise (the app's create action).
    let (s, _, body) = send(env.put(
        &a,
        "/bills/preferences",
        &json!({"action": "create", "billId": "netflix", "customName": "Family plan", "category": "shopping", "isIgnored": false}),
    ))
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["preference"]["customName"], "Family plan");
    assert_eq!(body["preference"]["category"], "Shopping");
    // Reminder on, marked paid, paused.
    let (s, _, body) = send(env.put(&a, "/bills/preferences", &json!({"billId": "netflix", "enabled": true}))).await;
    assert_eq!((s, body["preference"]["reminderEnabled"].as_bool()), (200, Some(true)), "{body}");
    let (s, _, body) = send(env.put(&a, "/bills/preferences", &json!({"action": "paid", "billId": "netflix", "isPaid": true}))).await;
    assert_eq!(s, 200, "{body}");
    assert!(body["preference"]["paidAt"].is_string(), "{body}");
    let (s, _, body) = send(env.put(&a, "/bills/preferences/netflix", &json!({"status": "paused"}))).await;
    assert_eq!((s, body["preference"]["status"].as_str()), (200, Some("paused")), "{body}");

    let (_, _, listed) = send(env.get(&a, "/bills/detected")).await;
    let netflix = listed["bills"].as_array().unwrap().iter().find(|x| x["billId"] == "netflix").unwrap().clone();
    assert_eq!(
        (&netflix["customName"], &netflix["category"], &netflix["status"], &netflix["reminderEnabled"]),
        (&json!("Family plan"), &json!("Shopping"), &json!("paused"), &json!(true))
    );
    assert!(netflix["paidAt"].is_string());

    // Removing a bill (POST, isIgnored) leaves it out of the list.
    let (s, _, body) = send(env.post(
        &a,
        "/bills/preferences",
        &json!({"billId": "octopus-energy", "isIgnored": true, "exclusionReason": "Paid by my partner"}),
    ))
    .await;
    assert_eq!((s, body["message"].as_str()), (200, Some("Bill removed")), "{body}");
    let (_, _, listed) = send(env.get(&a, "/bills/detected")).await;
    assert_eq!(bills(&listed), vec![("netflix".to_string(), "transactions".to_string())]);
    let (s, _, prefs) = send(env.get(&a, "/bills/preferences")).await;
    assert_eq!((s, prefs["count"].as_u64()), (200, Some(2)), "{prefs}");
    let before = prefs.clone();

    // Another user's bill ids are 404 on every write route, and nothing is touched.
    for (method, path, body) in [
        ("PUT", "/bills/preferences/netflix", json!({"status": "cancelled"})),
        ("PUT", "/bills/preferences/octopus-energy", json!({"enabled": true})),
        ("PUT", "/bills/preferences", json!({"billId": "netflix", "enabled": false})),
        ("PUT", "/bills/preferences", json!({"action": "paid", "billId": "netflix", "isPaid": false})),
        ("PUT", "/bills/preferences", json!({"action": "create", "billId": "octopus-energy", "isIgnored": false})),
        ("POST", "/bills/preferences", json!({"billId": "netflix", "isIgnored": true})),
    ] {
        let req = if method == "PUT" { env.put(&b, path, &body) } else { env.post(&b, path, &body) };
        let (s, _, resp) = send(req).await;
        assert_eq!(s, 404, "{method} {path} {body}: {resp}");
    }
    assert_eq!(count_with_prefix(&env.table, &b, keys::prefix::BILL_PREFERENCE).await, 0);
    let (_, _, after) = send(env.get(&a, "/bills/preferences")).await;
    assert_eq!(after, before, "Ann's preferences untouched");
    let (_, _, body) = send(env.get(&b, "/bills/preferences")).await;
    assert_eq!(body, json!({"preferences": [], "count": 0}));
    // A bill of no one's, and an id that cannot exist: 404 too.
    for path in ["/bills/preferences/spotify", "/bills/preferences/a%23b"] {
        let (s, _, _) = send(env.put(&a, path, &json!({"status": "active"}))).await;
        assert_eq!(s, 404, "{path}");
    }

    // Bad bodies: 422, nothing changed.
    for (path, bad) in [
        ("/bills/preferences", json!({"action": "paid", "billId": "netflix"})),
        ("/bills/preferences", json!({"billId": "netflix"})),
        ("/bills/preferences", json!({"billId": "netflix", "enabled": "yes"})),
        ("/bills/preferences/netflix", json!({})),
        ("/bills/preferences/netflix", json!({"status": "gone"})),
        ("/bills/preferences/netflix", json!({"category": "Nonsense"})),
    ] {
        let (s, _, body) = send(env.put(&a, path, &bad)).await;
        assert_eq!(s, 422, "{path} {bad}: {body}");
    }
    let (_, _, after) = send(env.get(&a, "/bills/preferences")).await;
    assert_eq!(after, before);
}

#[tokio::test]
async fn bill_sample_events_run_through_the_dispatcher() {
    let table = fresh_table().await;
    let u = user(SUB);
    table.put(&fixtures::profile(&u, "jane@example.com"), Condition::MustNotExist).await.unwrap();
    let app = Assistant { table: table.clone(), llm: None };
    let cases = [
        ("save-detected-bills", "SaveDetectedBillsFunction", "saved"),
        ("get-detected-bills", "GetDetectedBillsFunction", "bills"),
        ("put-bill-preferences", "PutBillPreferencesFunction", "preference"),
        ("post-bill-preferences", "PostBillPreferencesFunction", "preference"),
        ("put-bill-preference", "PutBillPreferenceFunction", "preference"),
        ("get-bill-preferences", "GetBillPreferencesFunction", "preferences"),
    ];
    for (file, function, key) in cases {
        let (s, body) = call(&app, function, &event(file)).await;
        assert_eq!(s, 200, "{file}: {body}");
        assert!(body.get(key).is_some(), "{file}: {body}");
    }
    let (_, body) = call(&app, "GetBillPreferencesFunction", &event("get-bill-preferences")).await;
    let p = &body["preferences"][0];
    assert_eq!(
        (&p["billId"], &p["reminderEnabled"], &p["customName"], &p["category"]),
        (&json!("octopus-energy"), &json!(true), &json!("Gas and electricity"), &json!("Home"))
    );
    // Without claims: 401 on every route, nothing written.
    for (file, function, _) in cases {
        let mut ev = event(file);
        ev["requestContext"].as_object_mut().unwrap().remove("authorizer");
        let (s, _) = call(&app, function, &ev).await;
        assert_eq!(s, 401, "{file}");
    }
}

/// A deleted account's token writes nothing (the account check is in the same request).
#[tokio::test]
async fn a_deleted_account_saves_no_bill_or_preference() {
    let table = fresh_table().await;
    let app = Assistant { table: table.clone(), llm: None };
    let (s, body) = call(&app, "SaveDetectedBillsFunction", &event("save-detected-bills")).await;
    assert_eq!(s, 401, "no profile: {body}");
    assert_eq!(body["error"]["code"], "ACCOUNT_DELETED");
    assert!(table.keys_with_prefix(&keys::user_pk(&user(SUB)), None).await.unwrap().is_empty());
}
