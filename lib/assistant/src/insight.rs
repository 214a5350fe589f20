//! `POST /ai/insight`: an answer to the user's question computed from their
//! own stored data; the question and the answer are stored as chat messages.
//! A per-user daily limit (SystemConfig `aiDailyQuestionLimit`, 10 by
//! default) answers 429 with `Retry-After` and a message saying "daily".

use crate::chat::{check_content, new_message};
use crate::engine;
use crate::llm::{self, Bedrock, LlmAnswer, LlmError};
use crate::stores::{ChatStore, FinanceStore, UsageStore};
use expenzez_api::idempotency::{self, IdempotencyStore};
use expenzez_api::{ApiError, Ctx, Reply};
use expenzez_domain::entities::{AiUsage, ChatRole, ProcessingMetadata, TokenCounts};
use expenzez_domain::ids::{SettingName, UserId};
use expenzez_domain::Timestamp;
use expenzez_store::Condition;
use serde::{Deserialize, Serialize};
use std::time::Instant;

pub const DEFAULT_DAILY_LIMIT: u32 = 10;
pub const LIMIT_SETTING: &str = "aiDailyQuestionLimit";
/// The deterministic engine's name in `processingMetadata.model`.
pub const ENGINE_MODEL: &str = "expenzez-rules-v1";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InsightRequest {
    pub message: String,
    /// What the app computed on the phone: at most a hint, never used for figures.
    #[allow(dead_code)]
    pub financial_context: Option<serde_json::Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InsightBody {
    answer: String,
    intent: &'static str,
    remaining_today: u32,
}

/// The daily limit: the active setting when it is a whole number, else the default.
pub async fn daily_limit<S: UsageStore>(store: &S) -> Result<u32, ApiError> {
    let name = SettingName::new(LIMIT_SETTING).map_err(|_| ApiError::Internal)?;
    Ok(store
        .setting(&name)
        .await?
        .filter(|s| s.is_active)
        .and_then(|s| s.value.as_u64())
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(DEFAULT_DAILY_LIMIT))
}

/// Seconds from `now` to the next UTC midnight (when the daily count starts again).
pub fn seconds_to_midnight(now: Timestamp) -> u32 {
    let next = Timestamp::start_of_day(now.date()).plus_seconds(86_400);
    (next.epoch_seconds() - now.epoch_seconds()).clamp(1, 86_400) as u32
}

/// Counts one answer against today's limit; 429 when it is used up.
/// Returns how many remain after this one.
pub async fn take_one<S: UsageStore>(store: &S, user: &UserId, limit: u32) -> Result<u32, ApiError> {
    let mut tries = expenzez_store::Retry::new(8);
    while tries.next().await {
        let now = store.now();
        let (mut usage, condition) = match store.usage(user, now.date()).await? {
            Some(v) => (v.value, Condition::Version(v.version)),
            None => (AiUsage::new(user.clone(), now), Condition::MustNotExist),
        };
        if usage.count >= limit {
            return Err(ApiError::Limited {
                code: "DAILY_LIMIT_REACHED",
                message: format!("You've reached your daily limit of {limit} assistant questions. It resets at midnight UTC."),
                retry_after: seconds_to_midnight(now),
            });
        }
        usage.count += 1;
        usage.updated_at = now;
        match store.save_usage(&usage, condition).await {
            Ok(_) => return Ok(limit - usage.count),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict { code: "VERSION_CONFLICT", message: "Too many questions at once; retry.".into() })
}

/// `POST /ai/insight`. A retry with the same `Idempotency-Key` gets the first
/// answer: it is neither counted against the daily limit nor stored twice.
pub async fn insight<S: ChatStore + FinanceStore + UsageStore + IdempotencyStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    insight_with(store, ctx, None).await
}

/// [`insight_with`] the state's language model, if any (the route's handler).
pub async fn insight_on(app: crate::routes::Assistant, ctx: Ctx) -> Result<Reply, ApiError> {
    let model = app.llm.clone();
    insight_with(app.table, ctx, model.as_deref()).await
}

/// [`insight`] with a language model (Bedrock) when one is configured: its
/// answer is served when it is grounded, else the deterministic one.
pub async fn insight_with<S: ChatStore + FinanceStore + UsageStore + IdempotencyStore>(
    store: S,
    ctx: Ctx,
    model: Option<&Bedrock>,
) -> Result<Reply, ApiError> {
    idempotency::once(&store, ctx, |ctx| answer_once(&store, ctx, model)).await
}

/// The model's answer to `message`, given the grounded context and the recent chat, checked.
async fn ask_model<S: ChatStore>(
    store: &S,
    user: &UserId,
    model: &Bedrock,
    question: &engine::Question,
    data: &engine::FinancialData,
    computed: &engine::Answer,
    message: &str,
) -> Result<Result<LlmAnswer, LlmError>, ApiError> {
    let mut history = store.recent_chat(user, llm::HISTORY_TURNS).await?;
    history.reverse();
    let context = llm::context(question, data, computed);
    let turns = llm::turns(&history, message);
    Ok(match model.converse(&context, turns).await {
        Ok(a) => llm::checked(a, &context, message),
        Err(e) => Err(e),
    })
}

async fn answer_once<S: ChatStore + FinanceStore + UsageStore>(store: &S, ctx: Ctx, model: Option<&Bedrock>) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let body: InsightRequest = ctx.json()?;
    let message = check_content("message", &body.message)?;
    let limit = daily_limit(store).await?;
    let remaining = take_one(store, user, limit).await?;
    let started = Instant::now();
    let asked_at = store.now();
    let question = engine::understand(&message, asked_at.date());
    let data = crate::context::load(store, user, &question, model.is_some()).await?;
    let answer = engine::answer(&question, &data);
    let (text, by, tokens) = match model {
        None => (answer.text.clone(), ENGINE_MODEL.to_string(), TokenCounts { input: 0, output: 0 }),
        Some(m) => match ask_model(store, user, m, &question, &data, &answer, &message).await? {
            Ok(a) => (a.text, m.model_id().to_string(), TokenCounts { input: a.input_tokens, output: a.output_tokens }),
            Err(e) => {
                // The reason only: never the question, the context or the answer (the user's data).
                tracing::warn!(kind = e.kind(), model = m.model_id(), error = %e, "bedrock answer not used: the deterministic answer is served");
                (answer.text.clone(), ENGINE_MODEL.to_string(), TokenCounts { input: 0, output: 0 })
            }
        },
    };
    let elapsed = started.elapsed().as_millis() as u64;
    let asked = new_message(user, ChatRole::User, message, asked_at);
    // One millisecond later, so the answer always sorts after its question.
    let mut answered =
        new_message(user, ChatRole::Assistant, text.clone(), Timestamp::from_millis(asked_at.millis() + 1).unwrap_or(asked_at));
    answered.processing_metadata = Some(ProcessingMetadata { model: by.clone(), processing_time: elapsed, tokens, temperature: 0.0 });
    store.add_chat(vec![asked, answered]).await?;
    tracing::info!(intent = answer.intent, model = %by, "assistant answered");
    Reply::ok(&InsightBody { answer: text, intent: answer.intent, remaining_today: remaining })
}
