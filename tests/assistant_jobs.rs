//! The assistant's scheduled jobs end to end (lib/assistant/src/jobs.rs), on a
//! table with a fixed clock in DynamoDB Local, the data written through the
//! local API as the app writes it: the monthly report job reads only the users
//! active last month (the summaries' sparse GSI1 index), caches their reports,
//! recomputes only a changed month; the daily bill reminder job reads only the
//! bills whose reminder is on (a sparse index the preference carries while it
//! is on) and requests one notification per due bill on the notification
//! queue in moto's SQS, under an id a rerun repeats.

use aws_sdk_sqs::types::Message;
use expenzez_assistant::jobs::{self, BillRemindersRun, MonthlyReportsRun};
use expenzez_domain::entities::{AiAnalysisCache, AnalysisType, NotificationRequest, NotificationType, Timeframe};
use expenzez_domain::keys::ItemKey;
use expenzez_domain::time::YearMonth;
use expenzez_domain::{FixedClock, Timestamp};
use expenzez_store::{JsonQueue, Table};
use expenzez_tests::fixtures::user;
use expenzez_tests::{send, ApiEnv, TestUser};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

fn at(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// A spending of `minor` pence at `merchant` on `date`, through `POST /transactions`; its id.
async fn spend(env: &ApiEnv, u: &TestUser, merchant: &str, minor: i64, date: &str) -> String {
    let body = json!({"amount": -(minor as f64) / 100.0, "description": format!("{merchant} payment"), "merchant": merchant, "category": "Entertainment", "date": date});
    let (s, _, b) = send(env.post(u, "/transactions", &body)).await;
    assert_eq!(s, 201, "{b}");
    b["transaction"]["id"].as_str().or(b["id"].as_str()).unwrap_or_else(|| panic!("no id in {b}")).to_string()
}

async fn cached_report(table: &Table, u: &TestUser, month: &str) -> Option<(AiAnalysisCache, u64)> {
    let key = ItemKey::AiAnalysis {
        user: user(&u.sub),
        analysis_type: AnalysisType::MonthlyReport.as_str().into(),
        timeframe: format!("{}_{month}", Timeframe::Monthly.as_str()),
    };
    table.get::<AiAnalysisCache>(&key).await.unwrap().map(|v| (v.value, v.version))
}

fn month(s: &str) -> YearMonth {
    YearMonth::parse(s).unwrap()
}

#[tokio::test]
async fn the_monthly_job_caches_last_months_reports_for_its_active_users_only() {
    let clock = Arc::new(FixedClock::new(at("2026-11-20T12:00:00.000Z")));
    let env = ApiEnv::start_with_clock(clock.clone()).await;
    let (ann, bob, cat, dan) =
        (env.user("ann", false).await, env.user("bob", false).await, env.user("cat", false).await, env.user("dan", false).await);
    // Ann and Cat spent in November; Bob only in October; Dan's one November spending was deleted.
    spend(&env, &ann, "Tesco", 4_250, "2026-11-03").await;
    spend(&env, &ann, "Netflix", 1_099, "2026-11-05").await;
    spend(&env, &ann, "Tesco", 1_000, "2026-10-03").await;
    let cats = spend(&env, &cat, "Boots", 799, "2026-11-12").await;
    spend(&env, &bob, "Shell", 6_000, "2026-10-21").await;
    let dans = spend(&env, &dan, "Argos", 2_500, "2026-11-01").await;
    let (s, _, b) = send(env.delete(&dan, &format!("/transactions/{dans}"))).await;
    assert!(s == 200 || s == 204, "{s} {b}");

    let active: BTreeSet<String> = jobs::active_users(&env.table, month("2026-11")).await.unwrap().iter().map(|u| u.to_string()).collect();
    assert_eq!(active, [&ann.sub, &cat.sub, &dan.sub].into_iter().cloned().collect(), "November's users, Bob not among them");
    let october: BTreeSet<String> = jobs::active_users(&env.table, month("2026-10")).await.unwrap().iter().map(|u| u.to_string()).collect();
    assert_eq!(october, [&ann.sub, &bob.sub].into_iter().cloned().collect());

    // The 1st of December, 03:00: November's reports.
    clock.advance_seconds(at("2026-12-01T03:00:00.000Z").epoch_seconds() - at("2026-11-20T12:00:00.000Z").epoch_seconds());
    let run = jobs::monthly_reports(&env.table).await.unwrap();
    assert_eq!(run, MonthlyReportsRun { month: "2026-11".into(), active: 3, computed: 2, cached: 0, no_data: 1, failed: 0 });
    let (ann_report, ann_version) = cached_report(&env.table, &ann, "2026-11").await.expect("Ann's November report cached");
    assert!(cached_report(&env.table, &bob, "2026-11").await.is_none(), "Bob had no November");
    assert!(cached_report(&env.table, &dan, "2026-11").await.is_none(), "Dan's November is empty");
    assert!(cached_report(&env.table, &cat, "2026-11").await.is_some());
    let report: Value = serde_json::from_str(ann_report.report.as_deref().unwrap()).unwrap();
    assert_eq!(report["reportData"]["totalExpenses"], json!(53.49));
    assert_eq!(report["reportData"]["transactionCount"], json!(2));
    assert_eq!(ann_report.ttl, at("2026-12-01T03:00:00.000Z").epoch_seconds() + 35 * 86_400);

    // The app's request later that day is served the job's report: nothing recomputed.
    clock.advance_seconds(6 * 3600);
    let (s, _, body) = send(env.get(&ann, "/ai/monthly-report/latest")).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["report"]["generatedAt"], json!("2026-12-01T03:00:00.000Z"));
    assert_eq!(body["report"]["reportData"], report["reportData"]);

    // A rerun writes nothing; after an edit in Cat's November only hers is recomputed.
    let run = jobs::monthly_reports(&env.table).await.unwrap();
    assert_eq!((run.computed, run.cached, run.no_data), (0, 2, 1));
    assert_eq!(cached_report(&env.table, &ann, "2026-11").await.unwrap().1, ann_version, "Ann's report untouched");
    let (s, _, b) = send(env.put(&cat, &format!("/transactions/{cats}"), &json!({"amount": -12.5}))).await;
    assert_eq!(s, 200, "{b}");
    let run = jobs::monthly_reports(&env.table).await.unwrap();
    assert_eq!((run.computed, run.cached), (1, 1));
    let (cat_report, _) = cached_report(&env.table, &cat, "2026-11").await.unwrap();
    let report: Value = serde_json::from_str(cat_report.report.as_deref().unwrap()).unwrap();
    assert_eq!(report["reportData"]["totalExpenses"], json!(12.5));
    assert_eq!(report["generatedAt"], json!("2026-12-01T09:00:00.000Z"));
}

async fn notification_queue() -> JsonQueue<NotificationRequest> {
    let name = format!("bill-reminders-{}", uuid::Uuid::new_v4().simple());
    let (client, url) = expenzez_local_api::sync_queue::create_queue(&name).await.unwrap();
    JsonQueue::new(client, url)
}

/// Every request on the queue (received and deleted).
async fn drain(q: &JsonQueue<NotificationRequest>) -> Vec<NotificationRequest> {
    let mut all = Vec::new();
    loop {
        let out = q.client().receive_message().queue_url(q.url()).max_number_of_messages(10).send().await.unwrap();
        let got: Vec<Message> = out.messages.unwrap_or_default();
        if got.is_empty() {
            return all;
        }
        for m in got {
            all.push(serde_json::from_str(m.body().unwrap()).unwrap());
            q.client().delete_message().queue_url(q.url()).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
        }
    }
}

/// Six monthly payments to `merchant` on the 7th, June to November.
async fn monthly_bill(env: &ApiEnv, u: &TestUser, merchant: &str, minor: i64) {
    for m in 6..=11 {
        spend(env, u, merchant, minor, &format!("2026-{m:02}-07")).await;
    }
}

async fn reminder(env: &ApiEnv, u: &TestUser, bill: &str, on: bool) {
    let (s, _, b) = send(env.put(u, "/bills/preferences", &json!({"billId": bill, "enabled": on}))).await;
    assert_eq!(s, 200, "{b}");
}

async fn indexed_reminders(table: &Table) -> BTreeSet<(String, String)> {
    jobs::reminder_bills(table)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|(u, bills)| bills.into_iter().map(move |b| (u.to_string(), b.to_string())))
        .collect()
}

#[tokio::test]
async fn the_daily_job_reminds_of_due_bills_whose_reminder_is_on_once_per_due_date() {
    let clock = Arc::new(FixedClock::new(at("2026-12-04T08:00:00.000Z")));
    let env = ApiEnv::start_with_clock(clock.clone()).await;
    let (ann, bob) = (env.user("ann", false).await, env.user("bob", false).await);
    // Ann: Netflix due on the 7th (3 days ahead), Spotify on the 20th, Gym on the 7th with the reminder off.
    monthly_bill(&env, &ann, "Netflix", 1_099).await;
    for m in 6..=11 {
        spend(&env, &ann, "Spotify", 1_199, &format!("2026-{m:02}-20")).await;
    }
    monthly_bill(&env, &ann, "PureGym", 2_499).await;
    // Bob pays Netflix too, reminder off; his Disney reminder is on but the bill is paused.
    monthly_bill(&env, &bob, "Netflix", 1_099).await;
    monthly_bill(&env, &bob, "Disney Plus", 799).await;
    let (_, _, listed) = send(env.get(&ann, "/bills/detected")).await;
    let ids: BTreeSet<&str> = listed["bills"].as_array().unwrap().iter().map(|b| b["billId"].as_str().unwrap()).collect();
    assert!(ids.contains("netflix") && ids.contains("spotify") && ids.contains("puregym"), "{listed}");

    assert!(indexed_reminders(&env.table).await.is_empty(), "no reminder is on yet");
    reminder(&env, &ann, "netflix", true).await;
    reminder(&env, &ann, "spotify", true).await;
    reminder(&env, &bob, "disney-plus", true).await;
    let (s, _, b) = send(env.put(&bob, "/bills/preferences/disney-plus", &json!({"status": "paused"}))).await;
    assert_eq!(s, 200, "{b}");
    let indexed = indexed_reminders(&env.table).await;
    assert_eq!(
        indexed,
        [(ann.sub.clone(), "netflix".to_string()), (ann.sub.clone(), "spotify".to_string())].into_iter().collect(),
        "only reminders that are on, for bills not paused"
    );

    let q = notification_queue().await;
    let run = jobs::bill_reminders(&env.table, &q).await.unwrap();
    assert_eq!(run, BillRemindersRun { listed: 2, users: 1, due: 1, requested: 1, refused: 0, failed: 0 });
    let sent = drain(&q).await;
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    assert_eq!(r.request_id, format!("bill-reminder:{}:netflix:2026-12-07", ann.sub));
    assert_eq!((r.user_id.as_str(), r.kind), (ann.sub.as_str(), NotificationType::Budget));
    assert_eq!(r.title, "Netflix is due on Monday 7 Dec");
    assert_eq!(r.message, "£10.99 to Netflix is due on Monday 7 Dec.");

    // The next day's run asks again under the same id (the notifier delivers it once).
    clock.advance_seconds(86_400);
    jobs::bill_reminders(&env.table, &q).await.unwrap();
    let again = drain(&q).await;
    assert_eq!(again.iter().map(|r| r.request_id.clone()).collect::<Vec<_>>(), vec![r.request_id.clone()]);

    // Marked paid: no more reminders for this due date; turned off: out of the index.
    let (s, _, b) = send(env.put(&ann, "/bills/preferences", &json!({"action": "paid", "billId": "netflix", "isPaid": true}))).await;
    assert_eq!(s, 200, "{b}");
    let run = jobs::bill_reminders(&env.table, &q).await.unwrap();
    assert_eq!((run.due, drain(&q).await.len()), (0, 0));
    reminder(&env, &ann, "netflix", false).await;
    assert_eq!(indexed_reminders(&env.table).await, [(ann.sub.clone(), "spotify".to_string())].into_iter().collect::<BTreeSet<_>>());

    // Spotify's due date comes: reminded on the 17th, not before.
    clock.advance_seconds(86_400 * 10); // the 15th
    assert_eq!(jobs::bill_reminders(&env.table, &q).await.unwrap().due, 0);
    clock.advance_seconds(86_400 * 2); // the 17th
    let run = jobs::bill_reminders(&env.table, &q).await.unwrap();
    assert_eq!(run.requested, 1);
    let sent = drain(&q).await;
    assert_eq!(sent[0].request_id, format!("bill-reminder:{}:spotify:2026-12-20", ann.sub));
    assert_eq!(sent[0].title, "Spotify is due on Sunday 20 Dec");

    // Erasing Ann's data takes her reminders out of the index.
    let (s, _, b) = send(env.delete(&ann, "/user/data").json(&json!({"confirm": "DELETE_ALL_DATA"}))).await;
    assert_eq!(s, 200, "{b}");
    assert!(indexed_reminders(&env.table).await.is_empty());
}
