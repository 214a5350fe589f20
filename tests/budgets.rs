//! The budget and alert routes end to end through the local API (DynamoDB
//! Local, the local Cognito): the app's shapes, exact money, validation,
//! and another user's ids answering 404.

use expenzez_budgets::model::{category_budget_id, main_budget_id};
use expenzez_budgets::MonthPeriod;
use expenzez_domain::ids::UserId;
use expenzez_tests::{send, ApiEnv, TestUser};
use serde_json::{json, Value};

/// A JSON number as text (read back through f64 by the test's client:
/// `1500.00` on the wire reads "1500.0"; the wire text is exact).
fn num(v: &Value) -> String {
    v.to_string()
}

/// Now, as a timestamp inside the current budget month (posting "now" keeps
/// the test in the current period whatever the date).
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn spend(env: &ApiEnv, u: &TestUser, amount: &str, category: &str) {
    let body: Value = serde_json::from_str(&format!(
        r#"{{"amount": {amount}, "description": "{category}", "category": "{category}", "date": "{}", "merchant": "Shop"}}"#,
        now()
    ))
    .unwrap();
    let (s, _, b) = send(env.post(u, "/transactions", &body)).await;
    assert_eq!(s, 201, "{b}");
}

fn budget<'a>(list: &'a Value, category: &str) -> &'a Value {
    list["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["category"] == category)
        .unwrap_or_else(|| panic!("no {category} budget in {list}"))
}

#[tokio::test]
async fn preferences_are_budgets_and_budgets_show_exact_progress() {
    let env = ApiEnv::start().await;
    let u = env.user("budgeter", false).await;

    let (s, _, b) = send(env.get(&u, "/profile/budget-preferences")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b,
        json!({"budgetPreferences": {"monthlySpendingLimit": 0.0, "categoryBudgets": {}, "alertThreshold": 80, "currency": "GBP", "budgetOptions": {}}})
    );

    let put: Value = serde_json::from_str(
        r#"{"monthlySpendingLimit": 1500, "categoryBudgets": {"Groceries": 300.50, "Transport": 100}, "alertThreshold": 75, "currency": "GBP"}"#,
    )
    .unwrap();
    let (s, _, b) = send(env.put(&u, "/profile/budget-preferences", &put)).await;
    assert_eq!(s, 200, "{b}");
    let prefs = &b["budgetPreferences"];
    assert_eq!(num(&prefs["monthlySpendingLimit"]), "1500.0");
    assert_eq!(num(&prefs["categoryBudgets"]["Groceries"]), "300.5");
    assert_eq!(prefs["alertThreshold"], 75);
    let (_, _, again) = send(env.get(&u, "/profile/budget-preferences")).await;
    assert_eq!(again, b, "GET answers what PUT stored");

    // Stored as the seed's UserBudget items: a main budget and one per category.
    let user = UserId::new(u.sub.clone()).unwrap();
    let stored = expenzez_budgets::BudgetStore::budgets(&env.table, &user).await.unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|b| b.value.alerts.thresholds == vec![75, 100]));

    spend(&env, &u, "-120.25", "Groceries").await;
    spend(&env, &u, "-80", "groceries").await; // the app compares categories case-insensitively
    spend(&env, &u, "20", "Groceries").await; // a refund
    spend(&env, &u, "-45.10", "Transport").await;
    spend(&env, &u, "2500", "Income").await; // income never offsets spending

    let (s, _, list) = send(env.get(&u, "/budgets")).await;
    assert_eq!(s, 200, "{list}");
    let g = budget(&list, "Groceries");
    assert_eq!(num(&g["currentSpent"]), "180.25");
    assert_eq!(num(&g["amount"]), "300.5");
    assert_eq!(num(&g["progress"]), "59.98");
    assert_eq!(num(&g["remainingAmount"]), "120.25");
    assert_eq!(g["isOverBudget"], false);
    assert_eq!(g["period"], "monthly");
    assert_eq!(g["id"], category_budget_id("Groceries").to_string());
    let period = MonthPeriod::containing(expenzez_domain::Timestamp::parse(&now()).unwrap());
    assert_eq!(g["startDate"], period.start.to_string());
    let main = budget(&list, "all");
    assert_eq!(num(&main["currentSpent"]), "225.35");
    assert_eq!(list["budgets"][0]["id"], main_budget_id().to_string(), "the main budget first");
    assert_eq!(num(&list["summary"]["totalBudget"]), "1500.0");
    assert_eq!(num(&list["summary"]["totalSpent"]), "225.35");
    assert_eq!(num(&list["summary"]["remainingTotal"]), "1274.65");
    assert_eq!(list["summary"]["totalCount"], 3);
    assert_eq!(list["summary"]["overBudgetCount"], 0);

    // Transport is at 45.1% of 100: under the 75% warning; push it over 100%.
    spend(&env, &u, "-60", "Transport").await;
    let (_, _, warnings) = send(env.get(&u, "/budgets/alerts")).await;
    let w = warnings["alerts"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{warnings}");
    assert_eq!(w[0]["type"], "exceeded");
    assert_eq!(w[0]["severity"], "high");
    assert_eq!(num(&w[0]["currentSpent"]), "105.1");
    assert_eq!(num(&w[0]["progress"]), "105.1");

    // 0 removes the main budget; the category budgets stay.
    let (s, _, b) = send(env.put(&u, "/profile/budget-preferences", &json!({"monthlySpendingLimit": 0}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(num(&b["budgetPreferences"]["monthlySpendingLimit"]), "0.0");
    assert_eq!(b["budgetPreferences"]["categoryBudgets"].as_object().unwrap().len(), 2);
    let (_, _, list) = send(env.get(&u, "/budgets")).await;
    assert_eq!(list["budgets"].as_array().unwrap().len(), 2);
    // Without a main budget the overall figures are the category budgets' sum.
    assert_eq!(num(&list["summary"]["totalBudget"]), "400.5");
    assert_eq!(num(&list["summary"]["totalSpent"]), "285.35");
    assert_eq!(list["summary"]["overBudgetCount"], 1);

    // categoryBudgets is the whole set: Transport goes.
    let (s, _, b) = send(env.put(&u, "/profile/budget-preferences", &json!({"categoryBudgets": {"Groceries": 250}}))).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["budgetPreferences"]["categoryBudgets"], json!({"Groceries": 250.0}));
    assert_eq!(b["budgetPreferences"]["alertThreshold"], 75, "kept");

    let id = category_budget_id("groceries").to_string();
    let (s, _, b) = send(env.delete(&u, &format!("/budgets/{id}"))).await;
    assert_eq!((s, &b), (200, &json!({"success": true})));
    let (s, _, _) = send(env.delete(&u, &format!("/budgets/{id}"))).await;
    assert_eq!(s, 404, "gone");
    let (_, _, list) = send(env.get(&u, "/budgets")).await;
    assert_eq!(list["budgets"], json!([]));
    assert_eq!(list["summary"]["totalCount"], 0);
}

#[tokio::test]
async fn bad_input_is_422_and_writes_nothing() {
    let env = ApiEnv::start().await;
    let u = env.user("careless", false).await;
    for body in [
        r#"{"monthlySpendingLimit": -5}"#,
        r#"{"monthlySpendingLimit": 12.345}"#,
        r#"{"monthlySpendingLimit": "100"}"#,
        r#"{"monthlySpendingLimit": 100000000}"#,
        r#"{"alertThreshold": 0}"#,
        r#"{"alertThreshold": 101}"#,
        r#"{"alertThreshold": 80.5}"#,
        r#"{"currency": "pounds"}"#,
        r#"{"categoryBudgets": {"a#b": 10}}"#,
        r#"{"categoryBudgets": {"all": 10}}"#,
        r#"{"categoryBudgets": {"Food": 10, "food": 20}}"#,
        r#"{"monthlySpendingLimit": 100, "categoryBudgets": {"Food": -1}}"#,
        r#"{"budget": 100}"#,
    ] {
        let (s, h, b) = send(env.put(&u, "/profile/budget-preferences", &serde_json::from_str::<Value>(body).unwrap())).await;
        assert_eq!(s, 422, "{body} -> {b}");
        assert_eq!(h["content-type"], "application/problem+json");
        assert_eq!(b["error"]["code"], "VALIDATION_ERROR", "{body}");
    }
    let (s, _, b) = send(
        env.http.put(env.url("/profile/budget-preferences")).bearer_auth(&u.token).header("content-type", "application/json").body("{"),
    )
    .await;
    assert_eq!(s, 400, "{b}");
    let (_, _, prefs) = send(env.get(&u, "/profile/budget-preferences")).await;
    assert_eq!(num(&prefs["budgetPreferences"]["monthlySpendingLimit"]), "0.0", "nothing written");
    let user = UserId::new(u.sub.clone()).unwrap();
    assert!(expenzez_budgets::BudgetStore::budgets(&env.table, &user).await.unwrap().is_empty());

    for body in [r#"{"quietHoursStart": "25:00"}"#, r#"{"maxAlertsPerDay": 0}"#, r#"{"enableBudgetAlerts": "yes"}"#, r#"{"x": 1}"#] {
        let (s, _, b) = send(env.put(&u, "/alerts/preferences", &serde_json::from_str::<Value>(body).unwrap())).await;
        assert_eq!(s, 422, "{body} -> {b}");
    }
    let (s, _, b) = send(env.get(&u, "/alerts/preferences")).await;
    assert_eq!(s, 200);
    assert_eq!(b["enableBudgetAlerts"], true);
    assert_eq!(b["quietHoursStart"], "22:00");
    let (s, _, b) =
        send(env.put(&u, "/alerts/preferences", &json!({"enableGoalAlerts": false, "quietHoursStart": "23:30", "maxAlertsPerDay": 3})))
            .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["enableGoalAlerts"], false);
    assert_eq!(b["enableBudgetAlerts"], true);
    let (_, _, again) = send(env.get(&u, "/alerts/preferences")).await;
    assert_eq!(again, b);
    assert_eq!(again["quietHoursStart"], "23:30");
    assert_eq!(again["maxAlertsPerDay"], 3);
}

#[tokio::test]
async fn another_users_budgets_and_alerts_are_404() {
    let env = ApiEnv::start().await;
    let (a, b) = (env.user("alice", false).await, env.user("bob", false).await);
    let (s, _, _) = send(env.put(&a, "/profile/budget-preferences", &json!({"categoryBudgets": {"Groceries": 10}}))).await;
    assert_eq!(s, 200);
    spend(&env, &a, "-9", "Groceries").await;
    // Alice's alert, raised by the evaluator itself (no stream in this test).
    let alice = UserId::new(a.sub.clone()).unwrap();
    let period = expenzez_budgets::period::Period::from(MonthPeriod::containing(env.table.now()));
    let raised = expenzez_budgets::evaluate(&env.table, None, &alice, &period).await.unwrap();
    assert_eq!(raised.len(), 1, "90% of 10 crosses 80%");
    let alert = raised[0].to_string();
    let budget = category_budget_id("Groceries").to_string();

    // Bob cannot see, acknowledge, dismiss or delete any of it: 404 as if missing.
    for (path, post) in [
        (format!("/alerts/{alert}/acknowledge"), true),
        (format!("/alerts/{alert}/dismiss"), true),
        (format!("/budgets/{budget}"), false),
        ("/alerts/no-such-alert/acknowledge".into(), true),
        ("/budgets/no-such-budget".into(), false),
    ] {
        let req = if post { env.post(&b, &path, &json!({})) } else { env.delete(&b, &path) };
        let (s, _, body) = send(req).await;
        assert_eq!(s, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "NOT_FOUND");
    }
    let (_, _, pending) = send(env.get(&b, "/alerts/pending")).await;
    assert_eq!(pending, json!({"alerts": [], "totalCount": 0, "unacknowledgedCount": 0}));
    let (_, _, list) = send(env.get(&b, "/budgets")).await;
    assert_eq!(list["budgets"], json!([]));

    // Alice's are untouched, and hers to change.
    let (_, _, pending) = send(env.get(&a, "/alerts/pending")).await;
    assert_eq!(pending["totalCount"], 1, "{pending}");
    assert_eq!(pending["unacknowledgedCount"], 1);
    let p = &pending["alerts"][0];
    assert_eq!(p["alertId"], alert);
    assert_eq!(p["type"], "budget_threshold");
    assert_eq!(p["status"], "active");
    assert_eq!(p["metadata"]["budgetId"], budget);
    assert_eq!(p["metadata"]["threshold"], 80);
    assert!(p["message"].as_str().unwrap().contains("£9.00 of your £10.00"), "{p}");
    assert!(p["expiresAt"].as_str().unwrap() > period.next_start().to_string().as_str());

    let (s, _, acked) = send(env.post(&a, &format!("/alerts/{alert}/acknowledge"), &json!({}))).await;
    assert_eq!(s, 200, "{acked}");
    assert_eq!(acked["alert"]["status"], "acknowledged");
    let (s, _, _) = send(env.post(&a, &format!("/alerts/{alert}/acknowledge"), &json!({})).header("idempotency-key", "bad#key")).await;
    assert_eq!(s, 400, "a malformed Idempotency-Key is refused (INVALID_IDEMPOTENCY_KEY, as on every route)");
    let (_, _, pending) = send(env.get(&a, "/alerts/pending")).await;
    assert_eq!((pending["totalCount"].clone(), pending["unacknowledgedCount"].clone()), (json!(1), json!(0)));
    let (s, _, dismissed) = send(env.post(&a, &format!("/alerts/{alert}/dismiss"), &json!({}))).await;
    assert_eq!(s, 200);
    assert_eq!(dismissed["alert"]["status"], "dismissed");
    let (_, _, pending) = send(env.get(&a, "/alerts/pending")).await;
    assert_eq!(pending["totalCount"], 0);
    // Evaluating again raises nothing: the alert exists (dismissed) for this period.
    assert!(expenzez_budgets::evaluate(&env.table, None, &alice, &period).await.unwrap().is_empty());
    let (s, _, _) = send(env.delete(&a, &format!("/budgets/{budget}"))).await;
    assert_eq!(s, 200);
}

/// Each budget function's handler on its sample event in `events/` (the
/// files `cargo lambda invoke --data-file` takes), against DynamoDB Local.
#[tokio::test]
async fn every_budget_sample_event_succeeds() {
    use expenzez_store::Condition;
    let table = expenzez_tests::fresh_table().await;
    let sub = "11111111-2222-4333-8444-555555555555";
    let user = UserId::new(sub).unwrap();
    let event = |name: &str| -> Value {
        let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    async fn call(table: &expenzez_store::Table, function: &str, ev: &Value) -> (u16, Value) {
        let req = lambda_http::request::from_str(&ev.to_string()).unwrap();
        let r = expenzez_budgets::routes::dispatch(function, table, req).await.expect("a known function");
        let lambda_http::Body::Text(t) = r.body() else { panic!("no body") };
        (r.status().as_u16(), serde_json::from_str(t).unwrap())
    }
    let cases = [
        ("get-budget-preferences", "GetBudgetPreferencesFunction", "budgetPreferences"),
        ("put-budget-preferences", "PutBudgetPreferencesFunction", "budgetPreferences"),
        ("list-budgets", "ListBudgetsFunction", "budgets"),
        ("get-budget-alerts", "GetBudgetAlertsFunction", "alerts"),
        ("list-pending-alerts", "ListPendingAlertsFunction", "alerts"),
        ("acknowledge-alert", "AcknowledgeAlertFunction", "alert"),
        ("dismiss-alert", "DismissAlertFunction", "alert"),
        ("get-alert-preferences", "GetAlertPreferencesFunction", "enableBudgetAlerts"),
        ("put-alert-preferences", "PutAlertPreferencesFunction", "maxAlertsPerDay"),
        ("delete-budget", "DeleteBudgetFunction", "success"),
    ];
    for (name, function, key) in cases {
        if name == "acknowledge-alert" {
            // The sample's alert `alert-1`, as the evaluator would have raised it.
            let b = expenzez_budgets::BudgetStore::budgets(&table, &user).await.unwrap().remove(0).value;
            let mut a =
                expenzez_budgets::model::threshold_alert(&user, &b, &MonthPeriod::containing(table.now()).into(), 80, b.limit, table.now());
            a.alert_id = expenzez_domain::ids::AlertId::new("alert-1").unwrap();
            table.put(&a, Condition::MustNotExist).await.unwrap();
        }
        let (s, body) = call(&table, function, &event(name)).await;
        assert_eq!(s, 200, "{name}: {body}");
        assert!(body.get(key).is_some(), "{name}: {body}");
    }
    // The stream and schedule samples are the shapes the Lambda runtime hands the functions.
    let stream: aws_lambda_events::event::dynamodb::Event = serde_json::from_value(event("budget-alert-evaluator")).unwrap();
    assert_eq!(stream.records.len(), 1);
    let response = expenzez_budgets::stream::handle(&table, None, stream).await;
    assert!(response.batch_item_failures.is_empty());
    let schedule: aws_lambda_events::event::eventbridge::EventBridgeEvent = serde_json::from_value(event("budget-rollover")).unwrap();
    assert_eq!(schedule.source, "aws.events");
    assert_eq!(expenzez_budgets::rollover::run(&table).await.unwrap().due, 0);
}
