//! The notification routes end to end: the local API (JWT checked against
//! moto's Cognito), DynamoDB Local, and for `POST /notifications/send` a
//! wiremock server serving Expo's push API. Every route with an id is tried
//! with another user's id (404, nothing changed).

use expenzez_domain::entities::*;
use expenzez_domain::ids::UserId;
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Query};
use expenzez_tests::{fixtures, send, ApiEnv, TestUser};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PHONE: &str = "ExponentPushToken[alice-phone-000000000001]";
const TABLET: &str = "ExpoPushToken[alice-tablet-00000000002]";

fn uid(u: &TestUser) -> UserId {
    UserId::new(u.sub.clone()).unwrap()
}

fn register_body(token: &str, platform: &str) -> Value {
    json!({ "token": token, "platform": platform, "deviceInfo": { "deviceName": "Alice's iPhone", "osVersion": "18.1", "appVersion": "1.2.0" } })
}

async fn tokens(env: &ApiEnv, u: &TestUser) -> Vec<Value> {
    let (s, _, b) = send(env.get(u, "/notifications/tokens")).await;
    assert_eq!(s, 200, "{b}");
    b["tokens"].as_array().unwrap().clone()
}

#[tokio::test]
async fn tokens_register_update_list_and_delete() {
    let env = ApiEnv::start().await;
    let (alice, bob) = (env.user("alice", false).await, env.user("bob", false).await);

    let (s, _, b) = send(env.post(&alice, "/notifications/tokens", &register_body(PHONE, "ios"))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["success"], true);
    let id = b["tokenId"].as_str().unwrap().to_string();

    // The same device again (now reporting android): the same token id, updated, not duplicated.
    let (s, _, b) = send(env.post(&alice, "/notifications/tokens", &register_body(PHONE, "Android"))).await;
    assert_eq!((s, b["tokenId"].as_str()), (200, Some(id.as_str())));
    let listed = tokens(&env, &alice).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["tokenId"], id.as_str());
    assert_eq!(listed[0]["platform"], "android");
    assert_eq!(listed[0]["deviceInfo"]["model"], "Alice's iPhone");
    assert!(listed[0].get("token").is_none(), "the push token itself is not listed");
    let stored = env.table.get::<NotificationToken>(&ItemKey::NotificationToken(uid(&alice), id.parse().unwrap())).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.value.token.as_str()), (2, PHONE));

    // A second device is a second token.
    let (s, _, b) = send(env.post(&alice, "/notifications/tokens", &register_body(TABLET, "ios"))).await;
    assert_eq!(s, 200);
    assert_ne!(b["tokenId"].as_str(), Some(id.as_str()));
    assert_eq!(tokens(&env, &alice).await.len(), 2);

    // Bad input: 422 with the field, nothing written.
    for (body, field) in [
        (register_body("not-a-push-token", "ios"), "token"),
        (register_body("ExponentPushToken[abc]", "blackberry"), "platform"),
        (json!({ "token": "ExponentPushToken[abc]", "platform": "ios", "extra": 1 }), "extra"),
    ] {
        let (s, _, b) = send(env.post(&alice, "/notifications/tokens", &body)).await;
        assert_eq!(s, 422, "{b}");
        assert!(b["error"]["details"].to_string().contains(field), "{b}");
    }
    assert_eq!(tokens(&env, &alice).await.len(), 2);
    assert!(tokens(&env, &bob).await.is_empty(), "bob sees none of alice's devices");

    // Bob cannot remove alice's device, by id or by token (his own partition has neither).
    for body in [json!({ "tokenId": id }), json!({ "token": PHONE })] {
        let (s, _, _) = send(env.delete(&bob, "/notifications/tokens").json(&body)).await;
        assert_eq!(s, 404);
    }
    assert_eq!(tokens(&env, &alice).await.len(), 2);

    // Alice removes hers: by id, then by token.
    let (s, _, b) = send(env.delete(&alice, "/notifications/tokens").json(&json!({ "tokenId": id, "token": PHONE }))).await;
    assert_eq!((s, &b["success"]), (200, &json!(true)));
    let (s, _, _) = send(env.delete(&alice, "/notifications/tokens").json(&json!({ "token": TABLET }))).await;
    assert_eq!(s, 200);
    assert!(tokens(&env, &alice).await.is_empty());
    let (s, _, _) = send(env.delete(&alice, "/notifications/tokens").json(&json!({ "tokenId": id }))).await;
    assert_eq!(s, 404);
    let (s, _, _) = send(env.delete(&alice, "/notifications/tokens").json(&json!({}))).await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn preferences_round_trip_over_the_seed_item() {
    let env = ApiEnv::start().await;
    let (alice, bob) = (env.user("alice", false).await, env.user("bob", false).await);

    let (s, _, b) = send(env.get(&alice, "/notifications/preferences")).await;
    assert_eq!(s, 200, "{b}");
    let p = &b["preferences"];
    assert_eq!((&p["pushEnabled"], &p["budgetAlerts"], &p["marketingAlerts"]), (&json!(true), &json!(true), &json!(false)));
    assert_eq!((&p["quietHoursEnabled"], &p["timezone"]), (&json!(false), &json!("Europe/London")));

    let change = json!({ "budgetAlerts": false, "quietHoursEnabled": true, "quietHoursStart": "21:30", "quietHoursEnd": "06:45", "timezone": "America/New_York" });
    let (s, _, b) = send(env.put(&alice, "/notifications/preferences", &change)).await;
    assert_eq!(s, 200, "{b}");
    let (_, _, got) = send(env.get(&alice, "/notifications/preferences")).await;
    assert_eq!(got, b);
    let p = &got["preferences"];
    assert_eq!((&p["budgetAlerts"], &p["transactionAlerts"]), (&json!(false), &json!(true)));
    assert_eq!(
        (&p["quietHoursStart"], &p["quietHoursEnd"], &p["timezone"]),
        (&json!("21:30"), &json!("06:45"), &json!("America/New_York"))
    );
    // Stored as the seed's rich item.
    let stored = env.table.get::<NotificationPreferences>(&ItemKey::NotificationPreferences(uid(&alice))).await.unwrap().unwrap().value;
    assert!(!stored.categories.budgets.enabled && stored.quiet_hours.enabled);
    assert_eq!(stored.quiet_hours.timezone, "America/New_York");

    // Bad input: 422 per field, nothing changed.
    for (body, field) in [
        (json!({ "quietHoursStart": "9pm" }), "quietHoursStart"),
        (json!({ "timezone": "Mars/Olympus" }), "timezone"),
        (json!({ "budgetAlerts": "no" }), "budgetAlerts"),
        (json!({ "smsEverything": true }), "smsEverything"),
    ] {
        let (s, _, b) = send(env.put(&alice, "/notifications/preferences", &body)).await;
        assert_eq!(s, 422, "{b}");
        assert!(b["error"]["details"].to_string().contains(field), "{b}");
    }
    let (_, _, again) = send(env.get(&alice, "/notifications/preferences")).await;
    assert_eq!(again, got);
    // Bob still has the defaults.
    let (_, _, b) = send(env.get(&bob, "/notifications/preferences")).await;
    assert_eq!(b["preferences"]["budgetAlerts"], true);
}

fn notification(u: &UserId, at: Timestamp, title: &str, ttl: i64) -> NotificationHistory {
    let mut n = fixtures::notification(u, "x", "2026-01-01T00:00:00Z", ttl);
    n.notification_id = NotificationHistory::id_for(at, &title.to_lowercase().replace(' ', "")).unwrap();
    n.sent_at = at;
    n.title = title.into();
    n.opened_at = None;
    n
}

async fn history(env: &ApiEnv, u: &TestUser, query: &str) -> (u16, Value) {
    let (s, _, b) = send(env.get(u, &format!("/notifications/history{query}"))).await;
    (s, b)
}

fn titles(b: &Value) -> Vec<String> {
    b["notifications"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn history_pages_newest_first_hides_expired_marks_read_and_clears() {
    let env = ApiEnv::start().await;
    let (alice, bob) = (env.user("alice", false).await, env.user("bob", false).await);
    let (a, now) = (uid(&alice), env.table.now());
    let days = |d: i64| now.plus_seconds(-d * 86_400);
    let live = [
        notification(&a, days(3), "Oldest", NotificationHistory::ttl_for(days(3))),
        notification(&a, days(2), "Middle", NotificationHistory::ttl_for(days(2))),
        notification(&a, days(1), "Newest", NotificationHistory::ttl_for(days(1))),
    ];
    // Newer than all of them by key, but its TTL has passed (DynamoDB deletes late).
    let expired = notification(&a, now.plus_seconds(-60), "Expired", now.epoch_seconds() - 1);
    for n in live.iter().chain([&expired]) {
        env.table.put(n, Condition::MustNotExist).await.unwrap();
    }

    let (s, b) = history(&env, &alice, "?limit=2").await;
    assert_eq!(s, 200, "{b}");
    // A filtered page may be short; follow nextKey until the end.
    let mut seen = titles(&b);
    let mut next = b["nextKey"].as_str().map(str::to_string);
    let first_key = next.clone().expect("more than one page");
    while let Some(k) = next {
        let (s, b) = history(&env, &alice, &format!("?limit=2&startKey={k}")).await;
        assert_eq!(s, 200, "{b}");
        seen.extend(titles(&b));
        next = b["nextKey"].as_str().map(str::to_string);
    }
    assert_eq!(seen, ["Newest", "Middle", "Oldest"]);
    let (_, b) = history(&env, &alice, "").await;
    let newest = &b["notifications"][0];
    assert_eq!(newest["id"], live[2].notification_id.as_str());
    assert_eq!((&newest["message"], &newest["read"], &newest["type"]), (&json!(live[2].body), &json!(false), &json!("budget")));
    assert_eq!(newest["createdAt"], live[2].sent_at.to_string());
    assert_eq!(newest["data"]["amount"], json!(-40.0));

    // Bob: nothing, and alice's cursor is not his.
    let (s, b) = history(&env, &bob, "").await;
    assert_eq!((s, b["notifications"].as_array().map(Vec::len)), (200, Some(0)));
    let (s, b) = history(&env, &bob, &format!("?startKey={first_key}")).await;
    assert_eq!(s, 400, "{b}");
    let (s, _) = history(&env, &alice, "?limit=0").await;
    assert_eq!(s, 422);

    // Mark read: bob gets 404 for alice's id; expired and impossible ids are 404.
    let read = |u: &TestUser, id: &str| env.put(u, &format!("/notifications/{id}/read"), &json!({ "notificationId": id }));
    let id = live[1].notification_id.as_str();
    assert_eq!(send(read(&bob, id)).await.0, 404);
    assert_eq!(send(read(&alice, expired.notification_id.as_str())).await.0, 404);
    assert_eq!(send(read(&alice, "not-an-id")).await.0, 404);
    let (_, b) = history(&env, &alice, "").await;
    assert!(b["notifications"].as_array().unwrap().iter().all(|n| n["read"] == false), "bob's attempt changed nothing");
    let (s, _, b) = send(read(&alice, id)).await;
    assert_eq!((s, &b["notification"]["read"]), (200, &json!(true)), "{b}");
    let (_, b) = history(&env, &alice, "").await;
    let reads: Vec<bool> = b["notifications"].as_array().unwrap().iter().map(|n| n["read"].as_bool().unwrap()).collect();
    assert_eq!(reads, [false, true, false]);
    let stored = env.table.get::<NotificationHistory>(&live[1].item_key()).await.unwrap().unwrap().value;
    assert_eq!(stored.delivery_status, DeliveryStatus::Opened);

    // Delete all: bob's deletes nothing of alice's; alice's empties her history.
    let (s, _, b) = send(env.delete(&bob, "/notifications")).await;
    assert_eq!((s, &b["deleted"]), (200, &json!(0)));
    assert_eq!(titles(&history(&env, &alice, "").await.1).len(), 3);
    let (s, _, b) = send(env.delete(&alice, "/notifications")).await;
    assert_eq!((s, &b["deleted"]), (200, &json!(3)));
    assert!(titles(&history(&env, &alice, "").await.1).is_empty());
    let q = Query::table(a.as_str(), keys::user_pk(&a)).begins_with(keys::prefix::NOTIFICATION);
    let left = env.table.query_all_items(&q).await.unwrap();
    assert!(left.is_empty(), "only the expired item could remain, and it is filtered: {left:?}");
}

#[tokio::test]
async fn a_test_push_goes_to_my_own_devices_only() {
    let expo = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/--/api/v2/push/send"))
        .and(body_string_contains("alice-phone"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [{ "status": "ok", "id": "receipt-1" }] })))
        .expect(1)
        .mount(&expo)
        .await;
    Mock::given(method("POST"))
        .and(path("/--/api/v2/push/getReceipts"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": { "receipt-1": { "status": "ok" } } })))
        .mount(&expo)
        .await;
    let env = ApiEnv::start_with_push(&expo.uri()).await;
    let (alice, bob) = (env.user("alice", false).await, env.user("bob", false).await);
    assert_eq!(send(env.post(&alice, "/notifications/tokens", &register_body(PHONE, "ios"))).await.0, 200);

    let body = json!({ "type": "insight", "title": "Test", "message": "Hello from Expenzez", "priority": "high" });
    let (s, _, b) = send(env.post(&alice, "/notifications/send", &body)).await;
    assert_eq!((s, &b["delivered"]), (200, &json!(1)), "{b}");
    let (_, h) = history(&env, &alice, "").await;
    assert_eq!(titles(&h), ["Test"]);
    assert_eq!(h["notifications"][0]["id"], b["notificationId"]);

    // Bob has no device: nothing is pushed (the mock expects alice's token once) and nothing recorded.
    let (s, _, b) = send(env.post(&bob, "/notifications/send", &body)).await;
    assert_eq!((s, &b["delivered"]), (200, &json!(0)), "{b}");
    assert!(titles(&history(&env, &bob, "").await.1).is_empty());
    let (s, _, _) = send(env.post(&alice, "/notifications/send", &json!({ "type": "insight", "title": "", "message": "x" }))).await;
    assert_eq!(s, 422);
    let sent = expo.received_requests().await.unwrap();
    let pushes: Vec<_> = sent.iter().filter(|r| r.url.path().ends_with("/push/send")).collect();
    assert_eq!(pushes.len(), 1);
    let msg: Value = serde_json::from_slice(&pushes[0].body).unwrap();
    assert_eq!((&msg[0]["to"], &msg[0]["priority"], &msg[0]["title"]), (&json!(PHONE), &json!("high"), &json!("Test")));
}
