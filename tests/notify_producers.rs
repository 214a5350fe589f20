//! The notification producers end to end (issue 14): the bank sync (new
//! large transactions, a connection that must be reconnected), the bank
//! callback (a new bank connected) and the daily consent check, each against
//! DynamoDB Local and the notification queue in moto's SQS; what they
//! enqueue is then handed to the notifier, whose push goes to Expo's API
//! served by wiremock. Each request is enqueued once and delivered once.

use aws_sdk_sqs::types::Message;
use expenzez_banking::consent::{self, ConsentReport};
use expenzez_banking::lambda::AnyProvider;
use expenzez_banking::notices::NotificationQueue;
use expenzez_banking::{sync_connection, SyncError, SyncSettings};
use expenzez_domain::entities::*;
use expenzez_domain::ids::TransactionId;
use expenzez_domain::ids::{ConnectionId, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::{FixedClock, Money, Timestamp};
use expenzez_notify::expo::{Expo, ExpoConfig};
use expenzez_notify::{consume, Notifier, NotifierSettings};
use expenzez_store::{Condition, Query, Table};
use expenzez_tests::banking::{client, fresh_connection, json as tl_json, now, tl_txn, tl_txn_at, truelayer};
use expenzez_tests::{fixtures, fresh_table_with_clock, send, ApiEnv};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SEND: &str = "/--/api/v2/push/send";
const RECEIPTS: &str = "/--/api/v2/push/getReceipts";

async fn notification_queue() -> NotificationQueue {
    let name = format!("notify-producers-{}", uuid::Uuid::new_v4().simple());
    let (client, url) = expenzez_local_api::sync_queue::create_queue(&name).await.unwrap();
    NotificationQueue::new(client, url)
}

/// Every visible message (received, so hidden until delivered or timed out).
async fn drain(q: &NotificationQueue) -> Vec<Message> {
    let mut all = Vec::new();
    loop {
        let out = q.client().receive_message().queue_url(q.url()).max_number_of_messages(10).send().await.unwrap();
        let got = out.messages.unwrap_or_default();
        if got.is_empty() {
            return all;
        }
        all.extend(got);
    }
}

fn requests(messages: &[Message]) -> Vec<NotificationRequest> {
    messages.iter().map(|m| serde_json::from_str(m.body().unwrap()).unwrap()).collect()
}

/// Expo's push API (ok tickets, receipts) and a notifier on `queue` over `table`.
async fn notifier(table: &Table, queue: &NotificationQueue) -> (MockServer, Notifier) {
    let expo = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [{ "status": "ok", "id": "ticket-0" }] })))
        .mount(&expo)
        .await;
    Mock::given(method("POST"))
        .and(path(RECEIPTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": {} })))
        .mount(&expo)
        .await;
    let n = Notifier {
        table: table.clone(),
        expo: Expo::new(ExpoConfig::new(expo.uri(), None)).unwrap(),
        queue: queue.clone(),
        settings: NotifierSettings::default(),
    };
    (expo, n)
}

/// Hands `messages` to the notifier as Lambda's event source would (twice:
/// a duplicated delivery) and deletes them; answers the pushes Expo received.
async fn deliver(n: &Notifier, expo: &MockServer, messages: &[Message]) -> Vec<Value> {
    let event = expenzez_local_api::sync_queue::event_of(messages).unwrap();
    for _ in 0..2 {
        let response = consume(n, event.clone()).await;
        assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    }
    for m in messages {
        n.queue.client().delete_message().queue_url(n.queue.url()).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
    }
    let sent = expo.received_requests().await.unwrap();
    sent.iter().filter(|r| r.url.path() == SEND).map(|r| serde_json::from_slice(&r.body).unwrap()).collect()
}

async fn history(table: &Table, user: &UserId) -> Vec<NotificationHistory> {
    let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::NOTIFICATION);
    table.query_all_as(&q).await.unwrap()
}

async fn device(table: &Table, user: &UserId) {
    let mut t = fixtures::token(user, "phone");
    t.token = "ExponentPushToken[phone]".into();
    table.put(&t, Condition::MustNotExist).await.unwrap();
}

async fn connection(table: &Table, user: &UserId, c: &ConnectionId) -> (BankConnection, u64) {
    let v = table.get_consistent::<BankConnection>(&ItemKey::BankConnection(user.clone(), c.clone())).await.unwrap().unwrap();
    (v.value, v.version)
}

async fn stored_connection(table: &Table, c: BankConnection) -> ConnectionId {
    table.put(&c, Condition::MustNotExist).await.unwrap();
    c.connection_id
}

#[tokio::test]
async fn a_new_large_transaction_is_requested_once_and_pushed_once_and_a_first_syncs_history_is_not() {
    let table = fresh_table_with_clock(Arc::new(FixedClock::new(now()))).await;
    let user = UserId::new("large-user").unwrap();
    fixtures::open_account(&table, &user).await;
    device(&table, &user).await;
    let conn = stored_connection(&table, fresh_connection(&user, "conn-1")).await;
    let q = notification_queue().await;
    let settings = SyncSettings { notifications: Some(q.clone()), ..SyncSettings::default() };

    // The first sync imports history, a £400 payment included: no notification.
    let old = tl_txn(1, 3, -40_000, "normalised");
    let first = truelayer(&[old.clone(), tl_txn(2, 2, -1_200, "normalised")], &[], "old-access").await;
    sync_connection(&table, &client(&first), &settings, &user, &conn).await.unwrap();
    assert!(drain(&q).await.is_empty(), "a first sync's history is not news");

    // The next sync finds a new £300 payment and a new £12.50 one: one request, for the large one.
    let large = tl_txn(3, 0, -30_000, "normalised");
    let small = tl_txn(4, 0, -1_250, "normalised");
    let next = truelayer(&[old.clone(), tl_txn(2, 2, -1_200, "normalised"), large.clone(), small.clone()], &[], "old-access").await;
    let r = sync_connection(&table, &client(&next), &settings, &user, &conn).await.unwrap();
    assert_eq!(r.transactions_written, 2);
    let messages = drain(&q).await;
    let reqs = requests(&messages);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let req = &reqs[0];
    let data = req.data.as_ref().unwrap();
    assert_eq!((req.kind, req.user_id.as_str()), (NotificationType::Transaction, "large-user"));
    assert_eq!(data.amount, Some(Money::from_minor(-30_000)));
    assert!(req.message.starts_with("£300.00 paid to "), "{}", req.message);
    let txn_id = data.transaction_id.clone().unwrap();
    assert_eq!(req.request_id, format!("large-transaction:large-user:{txn_id}"));
    assert!(table.get::<Transaction>(&ItemKey::Transaction(user.clone(), TransactionId::new(&txn_id).unwrap())).await.unwrap().is_some());

    // The same data again: nothing new, nothing sent.
    sync_connection(&table, &client(&next), &settings, &user, &conn).await.unwrap();
    assert!(drain(&q).await.is_empty(), "a re-sync requests nothing");

    // Delivered (twice, as SQS may): one push, one history item.
    let (expo, n) = notifier(&table, &q).await;
    let pushes = deliver(&n, &expo, &messages).await;
    assert_eq!(pushes.len(), 1);
    assert_eq!((&pushes[0][0]["title"], &pushes[0][0]["to"]), (&json!("Large payment"), &json!("ExponentPushToken[phone]")));
    let h = history(&table, &user).await;
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].kind, NotificationType::Transaction);
}

#[tokio::test]
async fn a_connection_whose_refresh_is_refused_is_requested_once_and_pushed_once() {
    let table = fresh_table_with_clock(Arc::new(FixedClock::new(now()))).await;
    let user = UserId::new("reconnect-user").unwrap();
    fixtures::open_account(&table, &user).await;
    device(&table, &user).await;
    let mut c = fresh_connection(&user, "conn-1");
    c.token_expiry = Some(now().plus_seconds(10));
    c.bank_name = "Lloyds".into();
    let conn = stored_connection(&table, c).await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(r#"{"error":"invalid_grant"}"#, "application/json"))
        .mount(&server)
        .await;
    let q = notification_queue().await;
    let settings = SyncSettings { notifications: Some(q.clone()), ..SyncSettings::default() };

    let err = sync_connection(&table, &client(&server), &settings, &user, &conn).await.unwrap_err();
    assert!(matches!(err, SyncError::ReconnectRequired { .. }), "{err:?}");
    let messages = drain(&q).await;
    let reqs = requests(&messages);
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].title, "Reconnect Lloyds");
    let created = connection(&table, &user, &conn).await.0.created_at;
    assert_eq!(reqs[0].request_id, format!("bank-reconnect:reconnect-user:conn-1:{created}"));
    // The connection is out of the schedule: a later sync does nothing and sends nothing.
    assert!(matches!(sync_connection(&table, &client(&server), &settings, &user, &conn).await, Err(SyncError::NotSyncable)));
    assert!(drain(&q).await.is_empty());

    let (expo, n) = notifier(&table, &q).await;
    assert_eq!(deliver(&n, &expo, &messages).await.len(), 1);
    assert_eq!(history(&table, &user).await.len(), 1);
}

#[tokio::test]
async fn a_new_bank_connected_through_the_callback_is_a_security_notification_once() {
    const CODE: &str = "auth-code-notify";
    let base = Timestamp::from_datetime(chrono::Utc::now());
    let server = truelayer(&[tl_txn_at(base, 1, 1, -500, "normalised")], &[], "tl-access").await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .respond_with(tl_json(
            r#"{"access_token":"tl-access","expires_in":3600,"token_type":"Bearer","refresh_token":"tl-refresh","scope":"info accounts balance transactions offline_access"}"#.into(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let q = notification_queue().await;
    let env = ApiEnv::start_with_bank_notifying(AnyProvider::TrueLayer(client(&server)), q.clone()).await;
    let a = env.user("connector", false).await;
    let user = UserId::new(a.sub.clone()).unwrap();
    device(&env.table, &user).await;
    let (s, _, b) = send(env.post(&a, "/banking/connect", &json!({}))).await;
    assert_eq!(s, 200, "{b}");
    let state = b["state"].as_str().unwrap().to_string();
    let (s, _, c) = send(env.post(&a, "/banking/callback", &json!({ "code": CODE, "state": state }))).await;
    assert_eq!(s, 201, "{c}");
    // A repeated callback (the app retried) connects nothing new and sends nothing.
    let (s, _, _) = send(env.post(&a, "/banking/callback", &json!({ "code": CODE, "state": state }))).await;
    assert_eq!(s, 200);
    let id = ConnectionId::new(c["connectionId"].as_str().unwrap()).unwrap();
    // Wait for the first sync (it notifies nothing: history is not news).
    for _ in 0..60 {
        if connection(&env.table, &user, &id).await.0.stats.sync_count > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(connection(&env.table, &user, &id).await.0.stats.sync_count, 1);
    let messages = drain(&q).await;
    let reqs = requests(&messages);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!((reqs[0].kind, reqs[0].title.as_str()), (NotificationType::Security, "New bank connected"));
    assert_eq!(reqs[0].request_id, format!("bank-connected:{}:{}", a.sub, id.as_str()));

    let (expo, n) = notifier(&env.table, &q).await;
    let pushes = deliver(&n, &expo, &messages).await;
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0][0]["data"]["type"], json!("security"));
    assert_eq!(history(&env.table, &user).await.len(), 1);
}

async fn consent_index(table: &Table, c: &BankConnection) -> usize {
    let shard = keys::consent_due_pk(keys::sync_shard(&c.connection_id));
    let q = Query::index("system", keys::Index::Gsi3, shard);
    table
        .query_all_items(&q)
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.get("connectionId").and_then(|v| v.as_s().ok()) == Some(&c.connection_id.to_string()))
        .count()
}

#[tokio::test]
async fn the_consent_check_requests_a_due_connection_once_and_leaves_the_others() {
    let clock = Arc::new(FixedClock::new(now()));
    let table = fresh_table_with_clock(clock.clone()).await;
    let user = UserId::new(format!("consent-{}", uuid::Uuid::new_v4().simple())).unwrap();
    fixtures::open_account(&table, &user).await;
    device(&table, &user).await;
    let mut due = fresh_connection(&user, "due");
    due.bank_name = "Lloyds".into();
    due.consent.expires_at = Some(now().plus_seconds(5 * 86_400));
    let mut later = fresh_connection(&user, "later");
    later.consent.expires_at = Some(now().plus_seconds(30 * 86_400));
    let mut broken = fresh_connection(&user, "broken");
    broken.status = ConnectionStatus::ReconnectRequired;
    broken.consent.expires_at = Some(now().plus_seconds(3 * 86_400));
    for c in [&due, &later, &broken] {
        table.put(c, Condition::MustNotExist).await.unwrap();
    }
    assert_eq!((consent_index(&table, &due).await, consent_index(&table, &later).await, consent_index(&table, &broken).await), (1, 1, 0));
    let (_, later_version) = connection(&table, &user, &later.connection_id).await;
    let q = notification_queue().await;

    let report = consent::run(&table, &q).await.unwrap();
    assert_eq!(report, ConsentReport { due: 1, requested: 1, refused: 0, skipped: 0 });
    let messages = drain(&q).await;
    let reqs = requests(&messages);
    let ours: Vec<_> = reqs.iter().filter(|r| r.user_id == user).collect();
    assert_eq!((ours.len(), reqs.len()), (1, 1), "{reqs:?}");
    let expires = due.consent.expires_at.unwrap();
    assert_eq!(ours[0].request_id, format!("consent-expiry:{user}:due:{expires}"));
    assert_eq!(ours[0].title, "Lloyds access expires soon");
    let (marked, _) = connection(&table, &user, &due.connection_id).await;
    assert_eq!(marked.consent_reminded, Some(expires));
    assert_eq!(marked.access_token.as_deref(), Some("old-access"), "tokens untouched by the in-place mark");
    assert_eq!(consent_index(&table, &due).await, 0, "out of the index for this expiry");
    let (untouched, version) = connection(&table, &user, &later.connection_id).await;
    assert_eq!((untouched.consent_reminded, version), (None, later_version), "a connection not due is untouched");
    assert_eq!(consent_index(&table, &later).await, 1);

    // A rerun (the same day, or a retried invocation) requests nothing for it.
    assert_eq!(consent::run(&table, &q).await.unwrap(), ConsentReport::default());
    assert!(drain(&q).await.is_empty(), "a rerun notifies nothing");

    let ours: Vec<Message> = messages.into_iter().filter(|m| m.body().unwrap().contains(user.as_str())).collect();
    let (expo, n) = notifier(&table, &q).await;
    assert_eq!(deliver(&n, &expo, &ours).await.len(), 1);
    assert_eq!(history(&table, &user).await.len(), 1);

    // A sync keeps the mark (the connection stays out of the index); a renewed consent comes back.
    let (mut c, v) = connection(&table, &user, &due.connection_id).await;
    c.consent.expires_at = Some(now().plus_seconds(90 * 86_400));
    table.put(&c, Condition::Version(v)).await.unwrap();
    assert_eq!(consent_index(&table, &due).await, 1, "a new expiry is listed again");
}

#[tokio::test]
async fn an_email_change_is_a_security_notification_once_and_other_edits_send_nothing() {
    let q = notification_queue().await;
    // As template.yaml sets it for UpdateProfileFunction (this test's process only: nextest).
    std::env::set_var("NOTIFICATION_QUEUE_URL", q.url());
    let env = ApiEnv::start().await;
    let a = env.user("mover", false).await;
    let user = UserId::new(a.sub.clone()).unwrap();
    device(&env.table, &user).await;
    let (s, _, b) = send(env.put(&a, "/profile", &json!({ "city": "Leeds" }))).await;
    assert_eq!(s, 200, "{b}");
    assert!(drain(&q).await.is_empty(), "no email change, no notification");
    let new_email = format!("moved-{}@example.com", uuid::Uuid::new_v4().simple());
    let (s, _, b) = send(env.put(&a, "/profile", &json!({ "email": new_email }))).await;
    assert_eq!(s, 200, "{b}");
    // The same body again changes nothing and sends nothing.
    let (s, _, _) = send(env.put(&a, "/profile", &json!({ "email": new_email }))).await;
    assert_eq!(s, 200);
    let messages = drain(&q).await;
    let reqs = requests(&messages);
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!((reqs[0].kind, reqs[0].title.as_str(), &reqs[0].user_id), (NotificationType::Security, "Your email was changed", &user));
    assert!(!reqs[0].message.contains(&new_email), "the push names no address");
    let (expo, n) = notifier(&env.table, &q).await;
    assert_eq!(deliver(&n, &expo, &messages).await.len(), 1);
    assert_eq!(history(&env.table, &user).await.len(), 1);
}
