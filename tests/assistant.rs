//! The assistant end to end through the local API (JWT authorizer emulated)
//! against DynamoDB Local and the local Cognito: chat history with TTL,
//! answers grounded in the caller's own data, the daily limit, cross-user
//! isolation; and the sample events in `events/` through the dispatcher.

use expenzez_assistant::routes::Assistant;
use expenzez_domain::entities::{ChatMessage, ConfigDataType, MonthlySummary, Transaction};
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

/// Stores `txns` of `u` with their monthly summaries (as the ledger would).
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

/// Groceries and eating out of `u` earlier today.
fn todays(u: &TestUser, amounts: &[(&str, i64)]) -> Vec<Transaction> {
    let at = Timestamp::start_of_day(now().date()).plus_seconds(60);
    amounts
        .iter()
        .enumerate()
        .map(|(i, (cat, minor))| {
            fixtures::transaction(&user(&u.sub), &format!("t-{i}"), &at.plus_seconds(i as i64).to_string(), cat, *minor)
        })
        .collect()
}

fn history(b: &Value) -> Vec<(String, String)> {
    b["history"].as_array().unwrap().iter().map(|m| (m["role"].as_str().unwrap().into(), m["content"].as_str().unwrap().into())).collect()
}

#[tokio::test]
async fn chat_round_trip_hides_expired_and_deletes() {
    let env = ApiEnv::start().await;
    let (a, b) = (env.user("ann", false).await, env.user("bob", false).await);
    for (role, content) in [("user", "Hello"), ("assistant", "Hi! Ask me about your spending.")] {
        let (s, _, body) = send(env.post(&a, "/ai/chat-message", &json!({"role": role, "content": content}))).await;
        assert_eq!(s, 201, "{body}");
        assert_eq!(body["message"]["content"], content);
    }
    // A message from 31 days ago: expired (TTL passed), still stored as DynamoDB deletes late.
    let old = now().plus_seconds(-31 * 86_400);
    let mut expired = fixtures::chat(&user(&a.sub), "old-1", &old.to_string(), ChatMessage::ttl_for(old));
    expired.content = "an expired message".into();
    env.table.put(&expired, Condition::MustNotExist).await.unwrap();

    let (s, _, body) = send(env.get(&a, "/ai/chat-history")).await;
    assert_eq!(s, 200);
    assert_eq!(
        history(&body),
        vec![("user".into(), "Hello".into()), ("assistant".into(), "Hi! Ask me about your spending.".into())],
        "oldest first, the expired one absent"
    );

    // Bob sees none of it, and his delete touches none of it.
    let (_, _, body) = send(env.get(&b, "/ai/chat-history")).await;
    assert_eq!(body["history"], json!([]));
    let (s, _, body) = send(env.delete(&b, "/ai/chat-history")).await;
    assert_eq!((s, body["deletedCount"].as_u64()), (200, Some(0)));

    // Bad input: 4xx, nothing written.
    for (body, status) in [
        (json!({"role": "system", "content": "x"}), 422),
        (json!({"role": "user", "content": "   "}), 422),
        (json!({"role": "user", "content": "x".repeat(4001)}), 422),
        (json!({"role": "user", "content": "x", "extra": 1}), 422),
    ] {
        let (s, _, _) = send(env.post(&a, "/ai/chat-message", &body)).await;
        assert_eq!(s, status, "{body}");
    }
    let (s, _, _) =
        send(env.http.post(env.url("/ai/chat-message")).bearer_auth(&a.token).header("content-type", "application/json").body("{")).await;
    assert_eq!(s, 400);
    let chat_keys = |u: &TestUser| {
        let t = env.table.clone();
        let pk = keys::user_pk(&user(&u.sub));
        async move { t.keys_with_prefix(&pk, Some(keys::prefix::CHAT)).await.unwrap().len() }
    };
    assert_eq!(chat_keys(&a).await, 3, "two messages and the expired one");

    let (s, _, body) = send(env.delete(&a, "/ai/chat-history")).await;
    assert_eq!((s, body["success"].as_bool(), body["deletedCount"].as_u64()), (200, Some(true), Some(2)));
    assert_eq!(chat_keys(&a).await, 0, "the expired one is gone too");
    let (_, _, body) = send(env.get(&a, "/ai/chat-history")).await;
    assert_eq!(body["history"], json!([]));
}

#[tokio::test]
async fn insight_answers_from_the_callers_own_data() {
    let env = ApiEnv::start().await;
    let (a, b) = (env.user("ann", false).await, env.user("bob", false).await);
    seed(&env.table, &todays(&a, &[("groceries", -4_210), ("groceries", -1_999), ("eating_out", -1_250), ("income", 250_000)])).await;
    seed(&env.table, &todays(&b, &[("groceries", -100)])).await;

    // The client's numbers are ignored: the figure is the sum of Ann's stored groceries.
    let ask = json!({"message": "How much did I spend on groceries this month?", "financialContext": {"monthlySpending": 99999, "topCategories": ["groceries"]}});
    let (s, _, body) = send(env.post(&a, "/ai/insight", &ask)).await;
    assert_eq!(s, 200, "{body}");
    let answer = body["answer"].as_str().unwrap();
    assert!(answer.contains("£62.09") && answer.contains("2 payments"), "{answer}");
    assert!(!answer.contains("999"), "{answer}");
    assert_eq!(body["intent"], "spend");
    assert_eq!(body["remainingToday"], 9);

    let (s, _, body) = send(env.post(&a, "/ai/insight", &json!({"message": "What are my top spending categories this month?"}))).await;
    assert_eq!(s, 200);
    let answer = body["answer"].as_str().unwrap();
    assert!(answer.contains("1. groceries: £62.09") && answer.contains("2. eating out: £12.50") && answer.contains("£74.59"), "{answer}");

    let (_, _, body) = send(env.post(&a, "/ai/insight", &json!({"message": "What's the capital of France?"}))).await;
    assert!(body["answer"].as_str().unwrap().starts_with("I can't answer that from your data"));

    // Question and answer are in the history, in order.
    let (_, _, body) = send(env.get(&a, "/ai/chat-history")).await;
    let h = history(&body);
    assert_eq!(h.len(), 6);
    assert_eq!(h[0], ("user".into(), "How much did I spend on groceries this month?".into()));
    assert_eq!(h[1].0, "assistant");
    assert!(h[1].1.contains("£62.09"));

    // Bob's answer is about Bob's data only.
    let (_, _, body) = send(env.post(&b, "/ai/insight", &ask)).await;
    let answer = body["answer"].as_str().unwrap();
    assert!(answer.contains("£1.00") && answer.contains("1 payment") && !answer.contains("62.09"), "{answer}");
    let (_, _, body) = send(env.get(&b, "/ai/chat-history")).await;
    assert_eq!(history(&body).len(), 2);

    // Bad input: nothing counted, nothing stored.
    for bad in [json!({"message": ""}), json!({"question": "hi"}), json!({"message": 5})] {
        let (s, _, _) = send(env.post(&b, "/ai/insight", &bad)).await;
        assert_eq!(s, 422, "{bad}");
    }
    let (_, _, body) = send(env.get(&b, "/ai/chat-history")).await;
    assert_eq!(history(&body).len(), 2);
}

#[tokio::test]
async fn daily_limit_is_429_with_retry_after_and_survives_deleting_the_chat() {
    let env = ApiEnv::start().await;
    let (a, b) = (env.user("ann", false).await, env.user("bob", false).await);
    let mut limit = fixtures::system_config(expenzez_assistant::insight::LIMIT_SETTING);
    limit.value = json!(2);
    limit.data_type = ConfigDataType::Number;
    limit.validation = None;
    env.table.put(&limit, Condition::MustNotExist).await.unwrap();

    let ask = json!({"message": "How much did I spend this month?"});
    for left in [1, 0] {
        let (s, _, body) = send(env.post(&a, "/ai/insight", &ask)).await;
        assert_eq!((s, body["remainingToday"].as_u64()), (200, Some(left)), "{body}");
    }
    let (s, headers, body) = send(env.post(&a, "/ai/insight", &ask)).await;
    assert_eq!(s, 429, "{body}");
    assert!(body["message"].as_str().unwrap().contains("daily"), "{body}");
    assert_eq!(body["error"]["code"], "DAILY_LIMIT_REACHED");
    let retry: u32 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry));
    assert_eq!(body["error"]["retryAfter"].as_u64(), Some(retry as u64));

    // The refused question was not stored; deleting the chat does not reset the count.
    let (_, _, body) = send(env.get(&a, "/ai/chat-history")).await;
    assert_eq!(history(&body).len(), 4);
    send(env.delete(&a, "/ai/chat-history")).await;
    let (s, _, _) = send(env.post(&a, "/ai/insight", &ask)).await;
    assert_eq!(s, 429);

    // Another user's count is their own.
    let (s, _, _) = send(env.post(&b, "/ai/insight", &ask)).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn sample_events_run_through_the_dispatcher() {
    let table = fresh_table().await;
    let u = user(SUB);
    let txn = fixtures::transaction(&u, "txn-1", "2025-08-10T10:00:00Z", "eating_out", -850);
    seed(&table, std::slice::from_ref(&txn)).await;
    let app = Assistant { table: table.clone(), llm: None };
    let (s, b) = call(&app, "PostChatMessageFunction", &event("post-chat-message")).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = call(&app, "AiInsightFunction", &event("ai-insight")).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["answer"].as_str().unwrap().contains("£8.50"), "{b}");
    let (s, b) = call(&app, "GetChatHistoryFunction", &event("get-chat-history")).await;
    assert_eq!((s, b["history"].as_array().map(Vec::len)), (200, Some(3)), "{b}");
    let (s, b) = call(&app, "GetMonthlyReportFunction", &event("get-monthly-report")).await;
    assert_eq!((s, b["report"]["reportData"]["totalExpenses"].as_f64()), (200, Some(8.5)), "{b}");
    let (s, b) = call(&app, "DeleteChatHistoryFunction", &event("delete-chat-history")).await;
    assert_eq!((s, b["deletedCount"].as_u64()), (200, Some(3)), "{b}");

    // Without claims: 401 on every route.
    for (file, function) in [
        ("get-chat-history", "GetChatHistoryFunction"),
        ("post-chat-message", "PostChatMessageFunction"),
        ("delete-chat-history", "DeleteChatHistoryFunction"),
        ("ai-insight", "AiInsightFunction"),
        ("get-monthly-report", "GetMonthlyReportFunction"),
    ] {
        let mut ev = event(file);
        ev["requestContext"].as_object_mut().unwrap().remove("authorizer");
        let (s, _) = call(&app, function, &ev).await;
        assert_eq!(s, 401, "{file}");
    }
    assert!(table.get::<Transaction>(&ItemKey::Transaction(u, txn.transaction_id.clone())).await.unwrap().is_some());
}

#[tokio::test]
async fn monthly_report_is_cached_and_recomputed_when_its_month_changes() {
    let env = ApiEnv::start().await;
    let (a, b) = (env.user("ann", false).await, env.user("bob", false).await);
    let u = user(&a.sub);
    let t = |id: &str, at: &str, cat: &str, minor: i64| fixtures::transaction(&u, id, at, cat, minor);
    seed(
        &env.table,
        &[
            t("a1", "2025-08-03T10:00:00Z", "Groceries", -1_000),
            t("a2", "2025-08-01T09:00:00Z", "Income", 200_000),
            t("s1", "2025-09-03T10:00:00Z", "Groceries", -2_000),
            t("s2", "2025-09-04T10:00:00Z", "Food & Dining", -500),
            t("s3", "2025-09-01T09:00:00Z", "Income", 250_000),
        ],
    )
    .await;

    let (s, _, first) = send(env.get(&a, "/ai/monthly-report/2025-09")).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(first["hasReports"], true);
    let r = &first["report"];
    assert_eq!(r["reportMonth"], "2025-09");
    let d = &r["reportData"];
    assert_eq!((d["totalIncome"].as_f64(), d["totalExpenses"].as_f64(), d["netFlow"].as_f64()), (Some(2500.0), Some(25.0), Some(2475.0)));
    assert_eq!(d["transactionCount"], 3);
    assert_eq!(d["topCategories"][0], json!({"category": "Groceries", "amount": 20.0, "count": 1}));
    assert_eq!(d["topCategories"][1], json!({"category": "Food & Dining", "amount": 5.0, "count": 1}));
    assert_eq!(d["topMerchants"][0], json!({"merchant": "Tesco Express", "amount": 25.0, "count": 2}));
    // 10.00 → 25.00 spent (+150%), 2,000.00 → 2,500.00 received (+25%).
    assert_eq!(d["trends"], json!({"incomeChange": 25, "expenseChange": 150}));
    assert!(d["monthlyInsights"].as_array().unwrap().iter().any(|i| i.as_str().unwrap().contains("150% higher")), "{d}");

    // Unchanged month: served from the cache (the same report, same generatedAt).
    let (_, _, again) = send(env.get(&a, "/ai/monthly-report/2025-09")).await;
    assert_eq!(again, first);
    let (_, _, latest) = send(env.get(&a, "/ai/monthly-report/latest")).await;
    assert_eq!(latest, first, "latest is the newest past month with data");
    let key = ItemKey::AiAnalysis { user: u.clone(), analysis_type: "monthly_report".into(), timeframe: "monthly_2025-09".into() };
    let cached = env.table.get::<expenzez_domain::entities::AiAnalysisCache>(&key).await.unwrap().unwrap().value;
    assert_eq!(cached.based_on_data.summary_versions.get("2025-09"), Some(&1));
    assert!(cached.ttl > now().epoch_seconds());

    // A new transaction in September moves its summary's version: recomputed.
    let body = json!({"amount": -12.34, "description": "Lunch", "category": "eating_out", "type": "debit", "date": "2025-09-20",
        "merchant": "Pret A Manger", "currency": "GBP", "accountId": "manual", "bankName": "Cash", "accountType": "cash"});
    let (s, _, created) = send(env.post(&a, "/transactions", &body)).await;
    assert_eq!(s, 201, "{created}");
    let (_, _, changed) = send(env.get(&a, "/ai/monthly-report/2025-09")).await;
    let d = &changed["report"]["reportData"];
    assert_eq!((d["totalExpenses"].as_f64(), d["transactionCount"].as_u64()), (Some(37.34), Some(4)));
    assert_eq!(d["topCategories"][1], json!({"category": "Food & Dining", "amount": 17.34, "count": 2}));
    assert_ne!(changed["report"]["generatedAt"], first["report"]["generatedAt"]);

    // Bob has no reports, and never sees Ann's.
    for path in ["/ai/monthly-report/2025-09", "/ai/monthly-report/latest"] {
        let (s, _, body) = send(env.get(&b, path)).await;
        assert_eq!((s, &body), (200, &json!({"hasReports": false, "report": null})), "{path}");
    }
    for bad in ["2025-13", "nope", "2025-9"] {
        let (s, _, _) = send(env.get(&a, &format!("/ai/monthly-report/{bad}"))).await;
        assert_eq!(s, 422, "{bad}");
    }
}
