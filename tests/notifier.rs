//! The notifier against the real parts: DynamoDB Local, the notification
//! queue in moto's SQS (messages received and handed over as Lambda's event
//! source would), and Expo's push API served by wiremock with its documented
//! JSON (ok and error tickets, receipts, 429, 5xx).

use aws_lambda_events::event::sqs::SqsBatchResponse;
use expenzez_domain::entities::*;
use expenzez_domain::ids::UserId;
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::{FixedClock, Timestamp};
use expenzez_notify::expo::{Expo, ExpoConfig};
use expenzez_notify::queue::NotificationQueue;
use expenzez_notify::{consume, Notifier, NotifierSettings};
use expenzez_store::{Condition, Query, Table};
use expenzez_tests::{fixtures, fresh_table_with_clock};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SEND: &str = "/--/api/v2/push/send";
const RECEIPTS: &str = "/--/api/v2/push/getReceipts";

struct Env {
    table: Table,
    clock: Arc<FixedClock>,
    expo: MockServer,
    notifier: Notifier,
    user: UserId,
}

async fn queue(name: &str, attributes: &[(&str, String)]) -> NotificationQueue {
    let (client, url) = expenzez_local_api::sync_queue::create_queue(name).await.unwrap();
    for (k, v) in attributes {
        client
            .set_queue_attributes()
            .queue_url(&url)
            .attributes(aws_sdk_sqs::types::QueueAttributeName::from(*k), v.clone())
            .send()
            .await
            .unwrap();
    }
    NotificationQueue::new(client, url)
}

/// A user with `devices` registered tokens, at `now`, with a fresh queue.
async fn env(now: &str, devices: &[&str], cap: usize, queue_attributes: &[(&str, String)]) -> Env {
    let clock = Arc::new(FixedClock::new(fixtures::ts(now)));
    let table = fresh_table_with_clock(clock.clone()).await;
    let user = fixtures::user(&format!("user-{}", uuid::Uuid::new_v4().simple()));
    for d in devices {
        let mut t = fixtures::token(&user, d);
        t.token = format!("ExponentPushToken[{d}]");
        table.put(&t, Condition::MustNotExist).await.unwrap();
    }
    let expo = MockServer::start().await;
    let mut config = ExpoConfig::new(expo.uri(), None);
    config.retry.base = Duration::from_millis(10);
    config.retry.max_wait = Duration::from_millis(50);
    let q = queue(&format!("notify-{}", uuid::Uuid::new_v4().simple()), queue_attributes).await;
    let notifier =
        Notifier { table: table.clone(), expo: Expo::new(config).unwrap(), queue: q, settings: NotifierSettings { daily_cap: cap } };
    Env { table, clock, expo, notifier, user }
}

fn request(user: &UserId, id: &str, kind: NotificationType, at: Timestamp) -> NotificationRequest {
    NotificationRequest {
        request_id: id.into(),
        user_id: user.clone(),
        kind,
        priority: NotificationPriority::High,
        title: "Groceries budget".into(),
        message: "You have used 80% of your Groceries budget".into(),
        data: Some(NotificationData {
            transaction_id: None,
            category: Some("Groceries".into()),
            amount: None,
            deep_link: None,
            image_url: None,
        }),
        created_at: at,
    }
}

impl Env {
    async fn enqueue(&self, r: &NotificationRequest) {
        assert_eq!(self.notifier.queue.send(std::slice::from_ref(r)).await, 0);
    }

    /// One receive of up to 10 messages, handed to the notifier as Lambda
    /// would; the ones not reported failed are deleted. `None`: nothing visible.
    async fn work(&self) -> Option<(usize, SqsBatchResponse)> {
        self.work_keeping().await.map(|(n, r, _)| (n, r))
    }

    /// [`Env::work`], also answering the receipt handles of the messages reported failed.
    async fn work_keeping(&self) -> Option<(usize, SqsBatchResponse, Vec<String>)> {
        let q = &self.notifier.queue;
        let out = q.client().receive_message().queue_url(q.url()).max_number_of_messages(10).send().await.unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return None;
        }
        let event = expenzez_local_api::sync_queue::event_of(&messages).unwrap();
        let response = consume(&self.notifier, event).await;
        let mut kept = Vec::new();
        for m in &messages {
            if response.batch_item_failures.iter().any(|f| Some(f.item_identifier.as_str()) == m.message_id()) {
                kept.push(m.receipt_handle().unwrap().to_string());
            } else {
                q.client().delete_message().queue_url(q.url()).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
            }
        }
        Some((messages.len(), response, kept))
    }

    async fn history(&self) -> Vec<NotificationHistory> {
        let q = Query::table(self.user.as_str(), keys::user_pk(&self.user)).begins_with(keys::prefix::NOTIFICATION);
        self.table.query_all_as(&q).await.unwrap()
    }

    async fn items_with(&self, prefix: &str) -> usize {
        let q = Query::table(self.user.as_str(), keys::user_pk(&self.user)).begins_with(prefix);
        self.table.query_all_items(&q).await.unwrap().len()
    }

    async fn devices(&self) -> Vec<String> {
        let q = Query::table(self.user.as_str(), keys::user_pk(&self.user)).begins_with(keys::prefix::TOKEN);
        self.table.query_all_as::<NotificationToken>(&q).await.unwrap().into_iter().map(|t| t.device_id.to_string()).collect()
    }

    async fn pushes(&self) -> Vec<Value> {
        let sent = self.expo.received_requests().await.unwrap();
        sent.iter().filter(|r| r.url.path() == SEND).map(|r| serde_json::from_slice(&r.body).unwrap()).collect()
    }

    async fn set_quiet_hours(&self, start: &str, end: &str, zone: &str) {
        let mut p = fixtures::notification_preferences(&self.user);
        p.quiet_hours = QuietHours { enabled: true, start_time: start.into(), end_time: end.into(), timezone: zone.into() };
        self.table.put(&p, Condition::None).await.unwrap();
    }
}

fn ok_tickets(n: usize) -> ResponseTemplate {
    let data: Vec<Value> = (0..n).map(|i| json!({ "status": "ok", "id": format!("ticket-{i}") })).collect();
    ResponseTemplate::new(200).set_body_json(json!({ "data": data }))
}

async fn receipts_ok(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(RECEIPTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": {} })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_request_is_pushed_recorded_and_a_duplicate_notifies_once() {
    let e = env("2026-12-01T12:00:00Z", &["phone"], 20, &[]).await;
    Mock::given(method("POST")).and(path(SEND)).respond_with(ok_tickets(1)).expect(1).mount(&e.expo).await;
    receipts_ok(&e.expo).await;
    let r = request(&e.user, "budget-alert-1", NotificationType::Budget, e.table.now());
    // SQS delivers it twice (two messages with the same request id).
    e.enqueue(&r).await;
    e.enqueue(&r).await;
    let mut handled = 0;
    while let Some((n, response)) = e.work().await {
        assert!(response.batch_item_failures.is_empty());
        handled += n;
    }
    assert_eq!(handled, 2);
    let pushes = e.pushes().await;
    assert_eq!(pushes.len(), 1);
    let m = &pushes[0][0];
    assert_eq!((&m["to"], &m["title"], &m["priority"]), (&json!("ExponentPushToken[phone]"), &json!("Groceries budget"), &json!("high")));
    assert_eq!((&m["data"]["type"], &m["data"]["category"]), (&json!("budget"), &json!("Groceries")));
    let h = e.history().await;
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].title.as_str(), h[0].kind, h[0].sent_at), ("Groceries budget", NotificationType::Budget, e.table.now()));
    assert_eq!(h[0].ttl, NotificationHistory::ttl_for(h[0].sent_at));
    assert_eq!(h[0].target_devices, ["phone"]);
    assert_eq!(m["data"]["notificationId"], h[0].notification_id.as_str());
    let d = e
        .table
        .get::<NotificationDelivery>(&ItemKey::NotificationDelivery(e.user.clone(), NotificationDelivery::request_key("budget-alert-1")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((d.value.state, d.value.notification_id.as_ref()), (DeliveryState::Delivered, Some(&h[0].notification_id)));
}

#[tokio::test]
async fn preferences_decide_and_quiet_hours_defer_until_they_end() {
    // 23:00 in London in winter (UTC+0): inside 22:00-07:00.
    let e = env("2026-12-01T23:00:00Z", &["phone"], 20, &[]).await;
    Mock::given(method("POST")).and(path(SEND)).respond_with(ok_tickets(1)).mount(&e.expo).await;
    receipts_ok(&e.expo).await;
    e.set_quiet_hours("22:00", "07:00", "Europe/London").await;
    // Marketing is off in these preferences: dropped, not deferred.
    e.enqueue(&request(&e.user, "promo-1", NotificationType::Marketing, e.table.now())).await;
    let (_, response) = e.work().await.unwrap();
    assert!(response.batch_item_failures.is_empty());

    e.enqueue(&request(&e.user, "budget-alert-2", NotificationType::Budget, e.table.now())).await;
    let (guard, logs) = expenzez_tests::capture_logs();
    let (_, response, held) = e.work_keeping().await.unwrap();
    drop(guard);
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("held for quiet hours") && logs.contains("2026-12-02T07:00:00.000Z"), "{logs}");
    assert_eq!(response.batch_item_failures.len(), 1, "held back, not dropped");
    assert!(e.pushes().await.is_empty());
    assert!(e.history().await.is_empty());
    // Hidden until quiet hours end (8 hours): nothing to receive now.
    assert!(e.work().await.is_none());

    // 07:01: quiet hours are over; the 8-hour visibility timeout SQS would wait out is fast-forwarded.
    e.clock.advance_seconds(8 * 3600 + 60);
    let q = &e.notifier.queue;
    q.client().change_message_visibility().queue_url(q.url()).receipt_handle(&held[0]).visibility_timeout(0).send().await.unwrap();
    let (_, response) = e.work().await.expect("the held message is back after quiet hours");
    assert!(response.batch_item_failures.is_empty());
    let h = e.history().await;
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].sent_at, fixtures::ts("2026-12-02T07:01:00Z"));
    assert_eq!(e.pushes().await.len(), 1);

    // Security alerts are not held back.
    e.clock.advance_seconds(16 * 3600); // 23:01 again
    e.enqueue(&request(&e.user, "new-bank-connected", NotificationType::Security, e.table.now())).await;
    let (_, response) = e.work().await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(e.history().await.len(), 2);
}

#[tokio::test]
async fn the_daily_cap_holds_per_user_per_day() {
    let e = env("2026-12-01T12:00:00Z", &["phone"], 2, &[]).await;
    Mock::given(method("POST")).and(path(SEND)).respond_with(ok_tickets(1)).expect(3).mount(&e.expo).await;
    receipts_ok(&e.expo).await;
    for i in 0..3 {
        e.enqueue(&request(&e.user, &format!("alert-{i}"), NotificationType::Budget, e.table.now())).await;
        e.clock.advance_seconds(60);
        let (_, response) = e.work().await.unwrap();
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(e.history().await.len(), 2, "the third one is over the cap");
    assert_eq!(e.pushes().await.len(), 2);
    // The next day, the cap starts again.
    e.clock.advance_seconds(86_400);
    e.enqueue(&request(&e.user, "alert-next-day", NotificationType::Budget, e.table.now())).await;
    e.work().await.unwrap();
    assert_eq!(e.history().await.len(), 3);
}

#[tokio::test]
async fn device_not_registered_in_a_ticket_or_a_receipt_removes_the_token() {
    let e = env("2026-12-01T12:00:00Z", &["a-ok", "b-gone", "c-gone-later"], 20, &[]).await;
    // Tickets in the order of the messages (the user's tokens, by device id).
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [
            { "status": "ok", "id": "receipt-a" },
            { "status": "error", "message": "\"ExponentPushToken[b-gone]\" is not a registered push notification recipient",
              "details": { "error": "DeviceNotRegistered" } },
            { "status": "ok", "id": "receipt-c" }
        ] })))
        .expect(1)
        .mount(&e.expo)
        .await;
    Mock::given(method("POST"))
        .and(path(RECEIPTS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": {
            "receipt-a": { "status": "ok" },
            "receipt-c": { "status": "error", "message": "The device cannot receive push notifications anymore",
                           "details": { "error": "DeviceNotRegistered" } }
        } })))
        .expect(1)
        .mount(&e.expo)
        .await;
    e.enqueue(&request(&e.user, "large-txn-1", NotificationType::Transaction, e.table.now())).await;
    let (_, response) = e.work().await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    let to: Vec<Value> = e.pushes().await[0].as_array().unwrap().iter().map(|m| m["to"].clone()).collect();
    assert_eq!(to, [json!("ExponentPushToken[a-ok]"), json!("ExponentPushToken[b-gone]"), json!("ExponentPushToken[c-gone-later]")]);
    assert_eq!(e.devices().await, ["a-ok"]);
    let h = e.history().await;
    assert_eq!(h[0].target_devices, ["a-ok"]);
    let failed: Vec<_> = h[0].delivery_attempts.iter().filter(|a| a.status == AttemptStatus::Failed).map(|a| a.device_id.clone()).collect();
    assert_eq!(failed, ["b-gone", "c-gone-later"]);

    // With every device gone, a request is not delivered and nothing is recorded.
    let e2 = env("2026-12-01T12:00:00Z", &["only-gone"], 20, &[]).await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": [
            { "status": "error", "message": "not registered", "details": { "error": "DeviceNotRegistered" } }
        ] })))
        .mount(&e2.expo)
        .await;
    e2.enqueue(&request(&e2.user, "x", NotificationType::Budget, e2.table.now())).await;
    assert!(e2.work().await.unwrap().1.batch_item_failures.is_empty());
    assert!(e2.devices().await.is_empty() && e2.history().await.is_empty());
    assert_eq!(e2.items_with(keys::prefix::NOTIFY_REQUEST).await, 0, "the claim is released");
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let e = env("2026-12-01T12:00:00Z", &["phone"], 20, &[]).await;
    // First a 429 with Retry-After, then a 503, then success: one delivery.
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(json!({ "errors": [{ "code": "TOO_MANY_REQUESTS", "message": "slow down" }] })),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&e.expo)
        .await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({ "errors": [{ "code": "INTERNAL_SERVER_ERROR", "message": "down" }] })),
        )
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&e.expo)
        .await;
    Mock::given(method("POST")).and(path(SEND)).respond_with(ok_tickets(1)).with_priority(3).mount(&e.expo).await;
    receipts_ok(&e.expo).await;
    e.enqueue(&request(&e.user, "alert-retry", NotificationType::Budget, e.table.now())).await;
    let (_, response) = e.work().await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(e.pushes().await.len(), 3, "two failed attempts, then the one that worked");
    assert_eq!(e.history().await.len(), 1);
}

#[tokio::test]
async fn a_push_service_that_keeps_failing_sends_the_message_to_the_dlq_with_nothing_written() {
    let dlq = queue(&format!("notify-dlq-{}", uuid::Uuid::new_v4().simple()), &[]).await;
    let dlq_arn = dlq
        .client()
        .get_queue_attributes()
        .queue_url(dlq.url())
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    let redrive = json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2 }).to_string();
    let e = env("2026-12-01T12:00:00Z", &["phone"], 20, &[("VisibilityTimeout", "1".into()), ("RedrivePolicy", redrive)]).await;
    Mock::given(method("POST"))
        .and(path(SEND))
        .respond_with(
            ResponseTemplate::new(500).set_body_json(json!({ "errors": [{ "code": "INTERNAL_SERVER_ERROR", "message": "down" }] })),
        )
        .mount(&e.expo)
        .await;
    let r = request(&e.user, "alert-doomed", NotificationType::Budget, e.table.now());
    e.enqueue(&r).await;

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut receives = 0;
    let parked = loop {
        assert!(std::time::Instant::now() < deadline, "the message never reached the DLQ");
        if let Some((_, response)) = e.work().await {
            receives += 1;
            assert_eq!(response.batch_item_failures.len(), 1, "a failed push is reported, not acknowledged");
        }
        let out = dlq.client().receive_message().queue_url(dlq.url()).send().await.unwrap();
        if let Some(m) = out.messages.unwrap_or_default().into_iter().next() {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(receives, 2);
    let body: NotificationRequest = serde_json::from_str(parked.body().unwrap()).unwrap();
    assert_eq!(body, r);
    assert_eq!(e.pushes().await.len(), 2 * 3, "each receive tried three times");
    // Nothing half-written: no history, no claim left, the token kept.
    assert!(e.history().await.is_empty());
    assert_eq!(e.items_with(keys::prefix::NOTIFY_REQUEST).await, 0);
    assert_eq!(e.devices().await, ["phone"]);
}

fn receipts_with(data: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "data": data }))
}

#[tokio::test]
async fn receipts_not_ready_at_send_time_are_swept_later_and_device_not_registered_deletes_the_token() {
    use expenzez_notify::receipts::{sweep, SweepReport};
    let e = env("2026-12-01T12:00:00Z", &["phone", "tablet"], 20, &[]).await;
    Mock::given(method("POST")).and(path(SEND)).respond_with(ok_tickets(2)).mount(&e.expo).await;
    // At send time Expo has no receipt ready.
    receipts_ok(&e.expo).await;
    e.enqueue(&request(&e.user, "receipts-later", NotificationType::Budget, e.table.now())).await;
    let (_, response) = e.work().await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(e.history().await.len(), 1);
    assert_eq!(e.items_with(keys::prefix::PUSH_RECEIPT).await, 2, "both receipts kept for later");
    // Not before Expo's receipts are due (15 minutes).
    assert_eq!(sweep(&e.table, &e.notifier.expo).await.unwrap(), SweepReport::default());

    // 20 minutes on: the phone's receipt says DeviceNotRegistered, the tablet's is still not ready.
    e.clock.advance_seconds(20 * 60);
    e.expo.reset().await;
    Mock::given(method("POST"))
        .and(path(RECEIPTS))
        .respond_with(receipts_with(json!({
            "ticket-0": { "status": "error", "message": "\"ExponentPushToken[phone]\" is not a registered push notification recipient", "details": { "error": "DeviceNotRegistered" } }
        })))
        .expect(1)
        .mount(&e.expo)
        .await;
    let r = sweep(&e.table, &e.notifier.expo).await.unwrap();
    assert_eq!(r, SweepReport { due: 2, read: 1, removed_tokens: 1, not_ready: 1 });
    assert_eq!(e.devices().await, ["tablet"]);
    assert_eq!(e.items_with(keys::prefix::PUSH_RECEIPT).await, 1);

    // Later the tablet's receipt is ok: read, its token kept; then nothing is left to read.
    e.expo.reset().await;
    Mock::given(method("POST"))
        .and(path(RECEIPTS))
        .respond_with(receipts_with(json!({ "ticket-1": { "status": "ok" } })))
        .mount(&e.expo)
        .await;
    let r = sweep(&e.table, &e.notifier.expo).await.unwrap();
    assert_eq!(r, SweepReport { due: 1, read: 1, removed_tokens: 0, not_ready: 0 });
    assert_eq!(e.devices().await, ["tablet"]);
    assert_eq!(e.items_with(keys::prefix::PUSH_RECEIPT).await, 0);
    assert_eq!(sweep(&e.table, &e.notifier.expo).await.unwrap(), SweepReport::default());
}

#[tokio::test]
async fn the_sweep_keeps_a_token_registered_again_after_the_push() {
    use expenzez_notify::receipts::{sweep, SweepReport};
    let e = env("2026-12-01T12:00:00Z", &["phone"], 20, &[]).await;
    Mock::given(method("POST")).and(path(SEND)).respond_with(ok_tickets(1)).mount(&e.expo).await;
    receipts_ok(&e.expo).await;
    e.enqueue(&request(&e.user, "re-registered", NotificationType::Budget, e.table.now())).await;
    e.work().await.unwrap();
    e.clock.advance_seconds(20 * 60);
    // The app registered the device again (a new token) after the push.
    let mut t = fixtures::token(&e.user, "phone");
    t.token = "ExponentPushToken[phone-new]".into();
    t.updated_at = e.table.now();
    e.table.put(&t, Condition::None).await.unwrap();
    e.expo.reset().await;
    Mock::given(method("POST"))
        .and(path(RECEIPTS))
        .respond_with(receipts_with(json!({ "ticket-0": { "status": "error", "details": { "error": "DeviceNotRegistered" } } })))
        .mount(&e.expo)
        .await;
    assert_eq!(sweep(&e.table, &e.notifier.expo).await.unwrap(), SweepReport { due: 1, read: 1, removed_tokens: 0, not_ready: 0 });
    assert_eq!(e.devices().await, ["phone"]);
}
