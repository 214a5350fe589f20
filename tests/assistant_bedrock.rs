//! `POST /ai/insight` through Amazon Bedrock's Converse API, served by a
//! local fake (wiremock) with the documented JSON, the SDK pointed at it by
//! `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`: the model gets the server's own
//! figures and the chat; a grounded answer is served; an answer with a figure
//! not in the context, a 5xx and a timeout each serve the deterministic answer
//! and log why.

use expenzez_assistant::llm::{Bedrock, BedrockConfig};
use expenzez_assistant::routes::{dispatch, Assistant};
use expenzez_domain::entities::{ChatMessage, MonthlySummary, Transaction};
use expenzez_domain::keys;
use expenzez_domain::{SystemClock, Timestamp};
use expenzez_store::{Condition, Table};
use expenzez_tests::fixtures::{self, user};
use expenzez_tests::{capture_logs, fresh_table};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SUB: &str = "11111111-2222-4333-8444-555555555555";
const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";

fn now() -> Timestamp {
    expenzez_domain::Clock::now(&SystemClock)
}

/// The caller's groceries earlier today: £42.10 and £19.99 (£62.09 in 2 payments).
async fn seeded() -> Table {
    let table = fresh_table().await;
    let u = user(SUB);
    let at = Timestamp::start_of_day(now().date()).plus_seconds(60);
    let txns: Vec<Transaction> = [("g-1", -4_210), ("g-2", -1_999)]
        .iter()
        .enumerate()
        .map(|(i, (id, minor))| fixtures::transaction(&u, id, &at.plus_seconds(i as i64).to_string(), "Groceries", *minor))
        .collect();
    table.batch_put(&txns).await.unwrap();
    let refs: Vec<&Transaction> = txns.iter().collect();
    table.put(&MonthlySummary::recompute(u.clone(), at.month(), now(), refs).unwrap(), Condition::None).await.unwrap();
    // An earlier exchange, so the model is given the chat.
    let before = now().plus_seconds(-600);
    let mut q = fixtures::chat(&u, "m-1", &before.to_string(), ChatMessage::ttl_for(before));
    q.role = expenzez_domain::entities::ChatRole::User;
    q.content = "Hi there".into();
    table.put(&q, Condition::MustNotExist).await.unwrap();
    table
}

async fn app(table: &Table, server: &MockServer, timeout: Duration) -> Assistant {
    // The SDK finds the fake as it would find Bedrock: from the environment.
    std::env::set_var("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", server.uri());
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
    let llm = Bedrock::new(&sdk, &BedrockConfig { model_id: MODEL.into(), timeout });
    Assistant { table: table.clone(), llm: Some(Arc::new(llm)) }
}

/// The Converse response as the API reference documents it.
fn converse(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 412, "outputTokens": 23, "totalTokens": 435},
        "metrics": {"latencyMs": 380}
    }))
}

async fn ask(app: &Assistant, question: &str) -> (u16, Value) {
    let path = format!("{}/../events/ai-insight.json", env!("CARGO_MANIFEST_DIR"));
    let mut ev: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    ev["body"] = json!(json!({"message": question, "financialContext": {"monthlySpending": 99999.99}}).to_string());
    let r = dispatch("AiInsightFunction", app, lambda_http::request::from_str(&ev.to_string()).unwrap()).await.unwrap();
    let lambda_http::Body::Text(t) = r.body() else { panic!("no body") };
    (r.status().as_u16(), serde_json::from_str(t).unwrap())
}

async fn stored_answer(table: &Table) -> ChatMessage {
    let q = expenzez_store::Query::table(SUB, keys::user_pk(&user(SUB))).begins_with(keys::prefix::CHAT);
    let mut all: Vec<ChatMessage> = table.query::<ChatMessage>(&q).await.unwrap().items.into_iter().map(|v| v.value).collect();
    all.sort_by_key(|m| m.timestamp);
    all.pop().unwrap()
}

fn logged(logs: &std::sync::Mutex<Vec<u8>>) -> String {
    String::from_utf8(logs.lock().unwrap().clone()).unwrap()
}

const QUESTION: &str = "How much did I spend on groceries this month?";

#[tokio::test]
async fn a_grounded_bedrock_answer_is_served_and_stored() {
    let server = MockServer::start().await;
    let reply = "You've spent £62.09 on groceries this month, over 2 payments.";
    Mock::given(method("POST")).and(path_regex(r"^/model/[^/]+/converse$")).respond_with(converse(reply)).expect(1).mount(&server).await;
    let table = seeded().await;
    let app = app(&table, &server, Duration::from_secs(5)).await;
    let (s, body) = ask(&app, QUESTION).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["answer"], reply);

    // What the model was given: the server's figures and the chat, never the client's numbers.
    let req = &server.received_requests().await.unwrap()[0];
    assert_eq!(req.url.path(), "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
    let sent: Value = serde_json::from_slice(&req.body).unwrap();
    let system = sent["system"][0]["text"].as_str().unwrap();
    assert!(system.contains("spent £62.09 in 2 payments") && system.contains("Groceries £62.09"), "{system}");
    assert!(!sent.to_string().contains("99999"), "{sent}");
    assert_eq!(
        sent["messages"],
        json!([{"role": "user", "content": [{"text": format!("Hi there\n\n{QUESTION}")}]}]),
        "the chat, as Converse wants it (consecutive user turns joined)"
    );
    assert_eq!(sent["inferenceConfig"]["temperature"], 0.0);

    let answer = stored_answer(&table).await;
    assert_eq!(answer.content, reply);
    let meta = answer.processing_metadata.unwrap();
    assert_eq!((meta.model.as_str(), meta.tokens.input, meta.tokens.output), (MODEL, 412, 23));
}

#[tokio::test]
async fn an_answer_with_an_invented_figure_is_replaced_by_the_deterministic_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/model/[^/]+/converse$"))
        .respond_with(converse("You've spent £75.00 on groceries, 20% more than last month."))
        .mount(&server)
        .await;
    let table = seeded().await;
    let app = app(&table, &server, Duration::from_secs(5)).await;
    let (logs_guard, logs) = capture_logs();
    let (s, body) = ask(&app, QUESTION).await;
    drop(logs_guard);
    assert_eq!(s, 200, "{body}");
    let answer = body["answer"].as_str().unwrap();
    assert!(answer.contains("£62.09") && !answer.contains("75.00"), "{answer}");
    let log = logged(&logs);
    assert!(log.contains("ungrounded_figures") && log.contains("75"), "{log}");
    assert_eq!(stored_answer(&table).await.processing_metadata.unwrap().model, expenzez_assistant::insight::ENGINE_MODEL);
}

#[tokio::test]
async fn bedrock_failing_serves_the_deterministic_answer_and_logs_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/model/[^/]+/converse$"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "Internal server error"})))
        .mount(&server)
        .await;
    let table = seeded().await;
    let app = app(&table, &server, Duration::from_secs(5)).await;
    let (logs_guard, logs) = capture_logs();
    let (s, body) = ask(&app, QUESTION).await;
    drop(logs_guard);
    assert_eq!(s, 200, "{body}");
    assert!(body["answer"].as_str().unwrap().contains("£62.09"), "{body}");
    let log = logged(&logs);
    assert!(log.contains("call_failed") && log.contains("bedrock"), "{log}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2, "one retry, then the fallback");
}

#[tokio::test]
async fn a_bedrock_timeout_serves_the_deterministic_answer_in_time() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/model/[^/]+/converse$"))
        .respond_with(converse("You've spent £62.09.").set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let table = seeded().await;
    let app = app(&table, &server, Duration::from_millis(500)).await;
    let (logs_guard, logs) = capture_logs();
    let started = std::time::Instant::now();
    let (s, body) = ask(&app, QUESTION).await;
    drop(logs_guard);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(s, 200, "{body}");
    assert!(body["answer"].as_str().unwrap().contains("£62.09"), "{body}");
    assert!(logged(&logs).contains("\"timeout\""), "{}", logged(&logs));
}
