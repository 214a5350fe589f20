//! Budget alerts from the data, end to end: transactions posted through the
//! local API reach the evaluator through the table's real stream (DynamoDB
//! Local's Streams API, polled as Lambda's event source mapping would), and
//! each threshold of each budget alerts once per period, notified once on
//! the notification queue (moto SQS).

use expenzez_budgets::{rollover, stream, BudgetStore, MonthPeriod, NotificationQueue};
use expenzez_domain::entities::{NotificationRequest, NotificationType};
use expenzez_domain::ids::UserId;
use expenzez_domain::{FixedClock, Timestamp};
use expenzez_tests::{fresh_table, fresh_table_with_clock, sdk_config, send, ApiEnv, TestUser};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

async fn queue() -> (aws_sdk_sqs::Client, NotificationQueue) {
    let sqs = aws_sdk_sqs::Client::new(&sdk_config().await);
    let name = format!("test-notify-{}", uuid::Uuid::new_v4().simple());
    let url = sqs.create_queue().queue_name(name).send().await.unwrap().queue_url.unwrap();
    (sqs.clone(), NotificationQueue::new(sqs, url))
}

/// Every message on the queue (deleted as read).
async fn drain(sqs: &aws_sdk_sqs::Client, q: &NotificationQueue) -> Vec<NotificationRequest> {
    let mut out = Vec::new();
    loop {
        let r = sqs.receive_message().queue_url(q.url()).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        let msgs = r.messages.unwrap_or_default();
        if msgs.is_empty() {
            return out;
        }
        for m in msgs {
            out.push(serde_json::from_str(m.body().unwrap()).unwrap());
            sqs.delete_message().queue_url(q.url()).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
        }
    }
}

async fn spend(env: &ApiEnv, u: &TestUser, amount: &str, category: &str, at: &str) {
    let body: Value = serde_json::from_str(&format!(
        r#"{{"amount": {amount}, "description": "{category}", "category": "{category}", "date": "{at}", "merchant": "Shop"}}"#
    ))
    .unwrap();
    let (s, _, b) = send(env.post(u, "/transactions", &body)).await;
    assert_eq!(s, 201, "{b}");
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Waits (at most 30 s) until `n` alerts are pending; returns them.
async fn wait_for_alerts(env: &ApiEnv, u: &TestUser, n: u64) -> Value {
    for _ in 0..150 {
        let (_, _, b) = send(env.get(u, "/alerts/pending")).await;
        if b["totalCount"].as_u64().unwrap_or(0) >= n {
            assert_eq!(b["totalCount"], n, "more alerts than expected: {b}");
            return b;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{n} alerts never appeared");
}

fn of_budget<'a>(pending: &'a Value, budget: &str) -> Vec<&'a Value> {
    pending["alerts"].as_array().unwrap().iter().filter(|a| a["metadata"]["budgetId"] == budget).collect()
}

#[tokio::test]
async fn crossing_80_then_100_alerts_twice_and_redelivery_refunds_and_recrossing_alert_nothing() {
    let (sqs, q) = queue().await;
    let env = ApiEnv::start_with_budget_stream(fresh_table().await, Some(q.clone())).await;
    let u = env.user("spender", false).await;
    let (s, _, _) =
        send(env.put(&u, "/profile/budget-preferences", &json!({"categoryBudgets": {"Groceries": 100, "Transport": 10}}))).await;
    assert_eq!(s, 200);
    let groceries = expenzez_budgets::model::category_budget_id("Groceries").to_string();

    spend(&env, &u, "-50", "Groceries", &now()).await; // 50%
    spend(&env, &u, "-35", "Groceries", &now()).await; // 85%: the 80% alert
    let p = wait_for_alerts(&env, &u, 1).await;
    assert_eq!(p["alerts"][0]["type"], "budget_threshold");
    assert_eq!(p["alerts"][0]["metadata"]["threshold"], 80);
    spend(&env, &u, "-20", "Groceries", &now()).await; // 105%: the 100% alert
    let p = wait_for_alerts(&env, &u, 2).await;
    let g = of_budget(&p, &groceries);
    assert_eq!(g.len(), 2);
    assert_eq!(g[0]["type"], "budget_exceeded");
    assert_eq!(g[0]["priority"], "high");
    assert!(g[0]["message"].as_str().unwrap().contains("£105.00 of your £100.00"), "{}", g[0]);

    // A refund back under both thresholds, then crossing both again: same period, nothing new.
    spend(&env, &u, "30", "Groceries", &now()).await; // 75%
    spend(&env, &u, "-30", "Groceries", &now()).await; // 105% again
                                                       // A later change on another budget: once its alert is there, the stream has
                                                       // been read past the refund and the re-crossing.
    spend(&env, &u, "-9", "Transport", &now()).await;
    let p = wait_for_alerts(&env, &u, 3).await;
    assert_eq!(of_budget(&p, &groceries).len(), 2, "{p}");

    // The whole stream delivered again: nothing new, nothing failed, nothing sent.
    let records = expenzez_local_api::budget_stream::records_so_far(&env.table).await.unwrap();
    assert!(records.len() >= 6, "{} records", records.len());
    assert!(records.iter().all(|r| r["dynamodb"]["NewImage"]["entityType"]["S"] == "TRANSACTION"), "only transactions pass the filter");
    let event = serde_json::from_value(json!({ "Records": records })).unwrap();
    let response = stream::handle(&env.table, Some(&q), event).await;
    assert!(response.batch_item_failures.is_empty());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, _, p) = send(env.get(&u, "/alerts/pending")).await;
    assert_eq!(p["totalCount"], 3);

    // Each alert was handed on exactly once, as a NotificationRequest whose requestId is the alert id.
    let sent = drain(&sqs, &q).await;
    assert_eq!(sent.len(), 3, "{sent:?}");
    let ids: BTreeSet<String> = p["alerts"].as_array().unwrap().iter().map(|a| a["alertId"].as_str().unwrap().to_string()).collect();
    assert_eq!(sent.iter().map(|r| r.request_id.clone()).collect::<BTreeSet<_>>(), ids);
    assert!(sent.iter().all(|r| r.kind == NotificationType::Budget && r.user_id.as_str() == u.sub));
}

#[tokio::test]
async fn a_failed_hand_off_is_retried_and_sent_once() {
    let env = ApiEnv::start().await;
    let u = env.user("unlucky", false).await;
    send(env.put(&u, "/profile/budget-preferences", &json!({"monthlySpendingLimit": 10}))).await;
    spend(&env, &u, "-10", "Shopping", &now()).await; // 100%: two alerts
    let user = UserId::new(u.sub.clone()).unwrap();
    let period = expenzez_budgets::period::Period::from(MonthPeriod::containing(env.table.now()));
    // The queue is missing: the alerts are stored, the evaluation fails (the stream retries it).
    let (sqs, good) = queue().await;
    let missing = NotificationQueue::new(sqs.clone(), format!("{}-missing", good.url()));
    assert!(expenzez_budgets::evaluate(&env.table, Some(&missing), &user, &period).await.is_err());
    let stored = env.table.alerts(&user).await.unwrap();
    assert_eq!(stored.len(), 1, "stopped at the first failed hand-off");
    assert!(stored[0].value.last_triggered.is_none());
    // The retry sends the unsent one and raises the rest; a further retry raises and sends nothing.
    assert_eq!(expenzez_budgets::evaluate(&env.table, Some(&good), &user, &period).await.unwrap().len(), 1);
    assert!(expenzez_budgets::evaluate(&env.table, Some(&good), &user, &period).await.unwrap().is_empty());
    let sent = drain(&sqs, &good).await;
    let stored = env.table.alerts(&user).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|a| a.value.last_triggered.is_some()));
    assert_eq!(sent.len(), 2, "each alert sent once: {sent:?}");

    // A stream batch whose evaluation fails reports its records (sequence numbers) as failures.
    let records = expenzez_local_api::budget_stream::records_so_far(&env.table).await.unwrap();
    let broken = expenzez_store::Table::new(
        env.table.client().clone(),
        expenzez_store::TableConfig::new("no-such-table", expenzez_tests::cursor_key()),
        Arc::new(expenzez_domain::SystemClock),
    );
    let seqs: Vec<String> = records.iter().map(|r| r["dynamodb"]["SequenceNumber"].as_str().unwrap().to_string()).collect();
    let response = stream::handle(&broken, None, serde_json::from_value(json!({ "Records": records })).unwrap()).await;
    let failed: Vec<String> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone().unwrap()).collect();
    assert_eq!(failed, seqs);
}

#[tokio::test]
async fn a_new_period_alerts_again_after_the_rollover_which_keeps_history() {
    let clock = Arc::new(FixedClock::new(Timestamp::parse("2026-07-15T12:00:00Z").unwrap()));
    let env = ApiEnv::start_with_budget_stream(fresh_table_with_clock(clock.clone()).await, None).await;
    let u = env.user("monthly", false).await;
    send(env.put(&u, "/profile/budget-preferences", &json!({"categoryBudgets": {"Groceries": 100}}))).await;
    spend(&env, &u, "-85", "Groceries", "2026-07-10T12:00:00Z").await;
    wait_for_alerts(&env, &u, 1).await;
    // 23:30 UTC on 31 July is 00:30 BST on 1 August: August's, not July's.
    spend(&env, &u, "-50", "Groceries", "2026-07-31T23:30:00Z").await;
    let (_, _, list) = send(env.get(&u, "/budgets")).await;
    assert_eq!(list["budgets"][0]["currentSpent"].to_string(), "85.0");
    assert_eq!(list["budgets"][0]["endDate"], "2026-07-31T22:59:59.999Z");

    // Nothing is due before the period ends.
    assert_eq!(rollover::run(&env.table).await.unwrap().due, 0);
    clock.advance_seconds(Timestamp::parse("2026-08-01T00:30:00Z").unwrap().epoch_seconds() - clock_now(&env));
    let report = rollover::run(&env.table).await.unwrap();
    assert_eq!((report.due, report.rolled), (1, 1));
    assert_eq!(rollover::run(&env.table).await.unwrap().due, 0, "rolled budgets leave the due index until their new period ends");
    let user = UserId::new(u.sub.clone()).unwrap();
    let b = env.table.budgets(&user).await.unwrap().remove(0).value;
    assert_eq!(b.history.len(), 1);
    assert_eq!(b.history[0].period, "2026-07");
    assert_eq!(b.history[0].spent.minor(), 8_500);
    assert_eq!(b.history[0].budgeted.minor(), 10_000);
    assert_eq!(b.period.start_date.to_string(), "2026-07-31T23:00:00.000Z");
    assert_eq!(b.spent.minor(), 5_000, "the new period's spending so far");

    let (_, _, list) = send(env.get(&u, "/budgets")).await;
    assert_eq!(list["budgets"][0]["currentSpent"].to_string(), "50.0");
    assert_eq!(list["budgets"][0]["startDate"], "2026-07-31T23:00:00.000Z");
    spend(&env, &u, "-40", "Groceries", "2026-08-01T10:00:00Z").await; // 90% of August
    let p = wait_for_alerts(&env, &u, 2).await;
    let thresholds: Vec<u64> = p["alerts"].as_array().unwrap().iter().map(|a| a["metadata"]["threshold"].as_u64().unwrap()).collect();
    assert_eq!(thresholds, vec![80, 80], "July's and August's");
}

fn clock_now(env: &ApiEnv) -> i64 {
    env.table.now().epoch_seconds()
}

fn hours_ago(h: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::hours(h)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn of_type<'a>(pending: &'a Value, kind: &str) -> Vec<&'a Value> {
    pending["alerts"].as_array().unwrap().iter().filter(|a| a["type"] == kind).collect()
}

#[tokio::test]
async fn an_unusually_large_transaction_alerts_once_and_a_normal_one_not() {
    let (sqs, q) = queue().await;
    let env = ApiEnv::start_with_budget_stream(fresh_table().await, Some(q.clone())).await;
    let u = env.user("big-spender", false).await;
    // A history of six Shopping debits (median £30): unusual is from max(3 × £30, £100) = £100.
    for (i, amount) in ["-20", "-25", "-30", "-30", "-35", "-40"].iter().enumerate() {
        spend(&env, &u, amount, "Shopping", &hours_ago(48 - i as i64)).await;
    }
    spend(&env, &u, "-99.99", "Shopping", &hours_ago(5)).await; // under the threshold: nothing
    spend(&env, &u, "500", "Shopping", &hours_ago(4)).await; // a credit (a refund): nothing
    spend(&env, &u, "-450", "Shopping", &hours_ago(3)).await; // 15 × the median: the alert
    let p = wait_for_alerts(&env, &u, 1).await;
    let a = &p["alerts"][0];
    assert_eq!(a["type"], "large_transaction", "{p}");
    assert_eq!(a["priority"], "medium");
    assert!(a["message"].as_str().unwrap().contains("£450.00 to Shop"), "{a}");
    assert!(a["message"].as_str().unwrap().contains("about £30.00"), "{a}");
    let txn = a["metadata"]["transactionId"].as_str().unwrap().to_string();
    let (s, _, t) = send(env.get(&u, &format!("/transactions/{txn}"))).await;
    assert_eq!(s, 200);
    assert_eq!(t["transaction"]["amount"].to_string(), "-450.0", "{t}");

    // A transaction well over the history but from weeks ago (an imported
    // statement, a first bank sync) is not news; then a later large one is,
    // which shows the stream was read past the old one.
    spend(&env, &u, "-900", "Shopping", &hours_ago(24 * 30)).await;
    spend(&env, &u, "-600", "Shopping", &hours_ago(1)).await;
    let p = wait_for_alerts(&env, &u, 2).await;
    assert_eq!(of_type(&p, "large_transaction").len(), 2);

    // The whole stream again: nothing new, nothing sent again.
    let records = expenzez_local_api::budget_stream::records_so_far(&env.table).await.unwrap();
    let response = stream::handle(&env.table, Some(&q), serde_json::from_value(json!({ "Records": records })).unwrap()).await;
    assert!(response.batch_item_failures.is_empty());
    let (_, _, p) = send(env.get(&u, "/alerts/pending")).await;
    assert_eq!(p["totalCount"], 2, "{p}");
    let sent = drain(&sqs, &q).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent.iter().all(|r| r.kind == NotificationType::Transaction));
    assert!(sent.iter().any(|r| r.data.as_ref().and_then(|d| d.transaction_id.as_deref()) == Some(txn.as_str())));
}

#[tokio::test]
async fn alert_preferences_are_honoured_disabled_kinds_and_the_daily_limit() {
    let (sqs, q) = queue().await;
    let env = ApiEnv::start_with_budget_stream(fresh_table().await, Some(q.clone())).await;

    // Spending-anomaly alerts off: a large transaction raises nothing, budgets still alert.
    let quiet = env.user("no-anomalies", false).await;
    let (s, _, _) = send(env.put(&quiet, "/alerts/preferences", &json!({"enableSpendingAnomalyAlerts": false}))).await;
    assert_eq!(s, 200);
    send(env.put(&quiet, "/profile/budget-preferences", &json!({"categoryBudgets": {"Travel": 1000}}))).await;
    for (i, amount) in ["-20", "-25", "-30", "-30", "-35"].iter().enumerate() {
        spend(&env, &quiet, amount, "Shopping", &hours_ago(30 - i as i64)).await;
    }
    spend(&env, &quiet, "-800", "Shopping", &hours_ago(2)).await;
    spend(&env, &quiet, "-850", "Travel", &hours_ago(1)).await; // 85% of Travel
    let p = wait_for_alerts(&env, &quiet, 1).await;
    assert_eq!(p["alerts"][0]["type"], "budget_threshold", "{p}");

    // At most one alert a day: both thresholds are kept, only the first is sent.
    let capped = env.user("one-a-day", false).await;
    send(env.put(&capped, "/alerts/preferences", &json!({"maxAlertsPerDay": 1}))).await;
    send(env.put(&capped, "/profile/budget-preferences", &json!({"monthlySpendingLimit": 100}))).await;
    spend(&env, &capped, "-85", "Groceries", &now()).await;
    wait_for_alerts(&env, &capped, 1).await;
    spend(&env, &capped, "-20", "Groceries", &now()).await;
    let p = wait_for_alerts(&env, &capped, 2).await;
    let sent = drain(&sqs, &q).await;
    let capped_sent: Vec<_> = sent.iter().filter(|r| r.user_id.as_str() == capped.sub).collect();
    assert_eq!(capped_sent.len(), 1, "{sent:?}");
    assert_eq!(capped_sent[0].title, p["alerts"][1]["title"], "the first alert (80%) was sent: {p}");
    let user = UserId::new(capped.sub.clone()).unwrap();
    let stored = env.table.alerts(&user).await.unwrap();
    assert_eq!(stored.iter().filter(|a| a.value.delivery_methods.is_empty()).count(), 1, "the other is kept in the app only");
    assert!(stored.iter().all(|a| a.value.last_triggered.is_some()), "both handled: a retry sends nothing later");
    assert_eq!(sent.iter().filter(|r| r.user_id.as_str() == quiet.sub).count(), 1, "the budget alert only");
}

fn budget_view<'a>(list: &'a Value, category: &str) -> &'a Value {
    list["budgets"].as_array().unwrap().iter().find(|b| b["category"] == category).unwrap_or_else(|| panic!("no {category} in {list}"))
}

#[tokio::test]
async fn a_weekly_budget_runs_monday_to_sunday_local_alerts_in_its_week_and_rolls_over() {
    // Wednesday 15 July 2026 (BST): the week started at 00:00 BST on Monday 13 July.
    let clock = Arc::new(FixedClock::new(Timestamp::parse("2026-07-15T12:00:00Z").unwrap()));
    let env = ApiEnv::start_with_budget_stream(fresh_table_with_clock(clock.clone()).await, None).await;
    let u = env.user("weekly", false).await;
    let (s, _, b) = send(env.put(
        &u,
        "/profile/budget-preferences",
        &json!({"categoryBudgets": {"Groceries": 50}, "budgetOptions": {"Groceries": {"period": "weekly", "rolloverUnspent": true}}}),
    ))
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["budgetPreferences"]["budgetOptions"]["Groceries"], json!({"period": "weekly", "rolloverUnspent": true}));
    spend(&env, &u, "-10", "Groceries", "2026-07-12T22:30:00Z").await; // 23:30 BST on Sunday: last week
    spend(&env, &u, "-20", "Groceries", "2026-07-12T23:30:00Z").await; // 00:30 BST on Monday: this week
    spend(&env, &u, "-7", "Groceries", "2026-07-19T23:30:00Z").await; // 00:30 BST next Monday: next week
    let (_, _, list) = send(env.get(&u, "/budgets")).await;
    let g = budget_view(&list, "Groceries");
    assert_eq!(g["period"], "weekly");
    assert_eq!(g["currentSpent"].to_string(), "20.0", "{g}");
    assert_eq!(g["progress"].to_string(), "40");
    assert_eq!(g["startDate"], "2026-07-12T23:00:00.000Z");
    assert_eq!(g["endDate"], "2026-07-19T22:59:59.999Z");

    spend(&env, &u, "-22", "Groceries", "2026-07-15T10:00:00Z").await; // 42 of 50: the week's 80%
    let p = wait_for_alerts(&env, &u, 1).await;
    assert!(p["alerts"][0]["message"].as_str().unwrap().contains("£42.00 of your £50.00 Groceries budget this week"), "{p}");

    // Due at the end of the week, not before.
    assert_eq!(rollover::run(&env.table).await.unwrap().due, 0);
    clock.advance_seconds(Timestamp::parse("2026-07-20T00:00:00Z").unwrap().epoch_seconds() - clock_now(&env));
    let report = rollover::run(&env.table).await.unwrap();
    assert_eq!((report.due, report.rolled), (1, 1));
    let user = UserId::new(u.sub.clone()).unwrap();
    let b = env.table.budgets(&user).await.unwrap().remove(0).value;
    assert_eq!(b.history.len(), 1);
    assert_eq!((b.history[0].period.as_str(), b.history[0].budgeted.minor(), b.history[0].spent.minor()), ("2026-W29", 5_000, 4_200));
    assert_eq!(b.carried_over.minor(), 800, "the £8 unspent");
    assert_eq!(b.period.start_date.to_string(), "2026-07-19T23:00:00.000Z");
    assert_eq!(b.spent.minor(), 700);

    let (_, _, list) = send(env.get(&u, "/budgets")).await;
    let g = budget_view(&list, "Groceries");
    assert_eq!((g["amount"].to_string().as_str(), g["rolledOverAmount"].to_string().as_str()), ("58.0", "8.0"), "{g}");
    assert_eq!(g["currentSpent"].to_string(), "7.0");
    assert_eq!(g["startDate"], "2026-07-19T23:00:00.000Z");
    // 47 of this week's 58 (81%): the new week alerts again.
    spend(&env, &u, "-40", "Groceries", "2026-07-19T23:50:00Z").await;
    let p = wait_for_alerts(&env, &u, 2).await;
    assert!(p["alerts"][0]["message"].as_str().unwrap().contains("£47.00 of your £58.00"), "{p}");
}

#[tokio::test]
async fn unspent_money_rolls_over_where_the_budget_says_so() {
    let clock = Arc::new(FixedClock::new(Timestamp::parse("2026-07-15T12:00:00Z").unwrap()));
    let env = ApiEnv::start_with_budget_stream(fresh_table_with_clock(clock.clone()).await, None).await;
    let u = env.user("saver", false).await;
    let (s, _, b) = send(env.put(
        &u,
        "/profile/budget-preferences",
        &json!({
            "monthlySpendingLimit": 500,
            "categoryBudgets": {"Transport": 100, "Travel": 100, "Shopping": 100},
            "budgetOptions": {"Transport": {"rolloverUnspent": true}, "Travel": {"rolloverUnspent": true}, "all": {"rolloverUnspent": true}}
        }),
    ))
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["budgetPreferences"]["budgetOptions"]["Shopping"], json!({"period": "monthly", "rolloverUnspent": false}));
    // The main budget cannot be weekly; options must name a budget.
    let (s, _, e) = send(env.put(&u, "/profile/budget-preferences", &json!({"budgetOptions": {"all": {"period": "weekly"}}}))).await;
    assert_eq!(s, 422, "{e}");
    let (s, _, e) = send(env.put(&u, "/profile/budget-preferences", &json!({"budgetOptions": {"Pets": {"rolloverUnspent": true}}}))).await;
    assert_eq!(s, 422, "{e}");
    let (s, _, _) =
        send(env.put(&u, "/profile/budget-preferences", &json!({"budgetOptions": {"Travel": {"period": "fortnightly"}}}))).await;
    assert_eq!(s, 422);

    spend(&env, &u, "-30", "Transport", "2026-07-10T12:00:00Z").await;
    spend(&env, &u, "-120", "Travel", "2026-07-11T12:00:00Z").await; // overspent: carries nothing
    spend(&env, &u, "-40", "Shopping", "2026-07-12T12:00:00Z").await; // no rollover: carries nothing
    clock.advance_seconds(Timestamp::parse("2026-08-01T00:30:00Z").unwrap().epoch_seconds() - clock_now(&env));
    assert_eq!(rollover::run(&env.table).await.unwrap().rolled, 4);
    let (_, _, list) = send(env.get(&u, "/budgets")).await;
    let amounts = |list: &Value, c: &str| {
        let b = budget_view(list, c);
        (b["amount"].to_string(), b["rolledOverAmount"].to_string())
    };
    assert_eq!(amounts(&list, "Transportation"), ("170.0".into(), "70.0".into()), "{list}");
    assert_eq!(amounts(&list, "Travel"), ("100.0".into(), "0.0".into()));
    assert_eq!(amounts(&list, "Shopping"), ("100.0".into(), "0.0".into()));
    assert_eq!(amounts(&list, "all"), ("810.0".into(), "310.0".into()), "500 - 190 spent");
    assert_eq!(list["summary"]["totalBudget"].to_string(), "810.0");
    let user = UserId::new(u.sub.clone()).unwrap();
    let transport = env.table.budgets(&user).await.unwrap().into_iter().find(|b| b.value.category == "Transportation").unwrap().value;
    assert_eq!(transport.history[0].period, "2026-07");
    assert_eq!((transport.history[0].budgeted.minor(), transport.history[0].spent.minor()), (10_000, 3_000));

    // A month without spending carries its whole allowance on; then the setting is turned off.
    clock.advance_seconds(Timestamp::parse("2026-09-01T00:30:00Z").unwrap().epoch_seconds() - clock_now(&env));
    rollover::run(&env.table).await.unwrap();
    let (_, _, list) = send(env.get(&u, "/budgets")).await;
    assert_eq!(amounts(&list, "Transportation"), ("270.0".into(), "170.0".into()), "{list}");
    let (s, _, _) =
        send(env.put(&u, "/profile/budget-preferences", &json!({"budgetOptions": {"Transport": {"rolloverUnspent": false}}}))).await;
    assert_eq!(s, 200);
    let (_, _, list) = send(env.get(&u, "/budgets")).await;
    assert_eq!(amounts(&list, "Transportation"), ("100.0".into(), "0.0".into()));
}
