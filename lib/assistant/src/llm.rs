//! The language-model provider of `POST /ai/insight`: Amazon Bedrock's
//! Converse API (`aws-sdk-bedrockruntime`), off unless `BEDROCK_MODEL_ID` is
//! set. The model is given the grounded context (the server's own figures,
//! never the client's `financialContext`) and the recent chat; its answer is
//! used only when every figure in it is one of the context's (or the
//! question's). Any failure (an error, a timeout, an ungrounded figure) is
//! logged and the deterministic answer is served instead.

use crate::engine::{Answer, FinancialData, Question};
use crate::format;
use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, ConverseOutput, InferenceConfiguration, Message, SystemContentBlock};
use expenzez_domain::entities::{ChatMessage, ChatRole};
use std::collections::BTreeSet;
use std::time::Duration;

/// Messages of the recent chat given to the model.
pub const HISTORY_TURNS: u32 = 12;
/// Longest answer asked of the model.
pub const MAX_TOKENS: i32 = 400;
/// Months of totals in the context.
pub const CONTEXT_MONTHS: usize = 6;

/// `BEDROCK_MODEL_ID` (absent or blank: no model) and `BEDROCK_TIMEOUT_MS`
/// (default 8000: the app waits 30 s, the answer must leave time to fall back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedrockConfig {
    pub model_id: String,
    pub timeout: Duration,
}

impl BedrockConfig {
    pub fn from_env() -> Option<Self> {
        let model_id = std::env::var("BEDROCK_MODEL_ID").ok().map(|m| m.trim().to_string()).filter(|m| !m.is_empty())?;
        let ms = std::env::var("BEDROCK_TIMEOUT_MS").ok().and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(8_000);
        Some(Self { model_id, timeout: Duration::from_millis(ms.clamp(100, 25_000)) })
    }
}

/// A Bedrock client for one model, built once per cold start. The endpoint
/// comes from the SDK's configuration (locally `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`).
#[derive(Debug, Clone)]
pub struct Bedrock {
    client: aws_sdk_bedrockruntime::Client,
    model_id: String,
}

/// Why the model's answer is not used.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model call failed: {0}")]
    Call(String),
    #[error("the model call timed out")]
    Timeout,
    #[error("the model answered no text")]
    Empty,
    #[error("the answer states figures not in the context: {0}")]
    Ungrounded(String),
}

impl LlmError {
    pub fn kind(&self) -> &'static str {
        match self {
            LlmError::Call(_) => "call_failed",
            LlmError::Timeout => "timeout",
            LlmError::Empty => "empty",
            LlmError::Ungrounded(_) => "ungrounded_figures",
        }
    }
}

/// What the model answered, with its token counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmAnswer {
    pub text: String,
    pub input_tokens: u32,
    pub output_tokens: u32,
}

impl Bedrock {
    pub fn new(sdk: &aws_config::SdkConfig, config: &BedrockConfig) -> Self {
        use aws_sdk_bedrockruntime::config::{retry::RetryConfig, timeout::TimeoutConfig};
        let conf = aws_sdk_bedrockruntime::config::Builder::from(sdk)
            .timeout_config(TimeoutConfig::builder().operation_timeout(config.timeout).build())
            // One retry of a throttled or failed call, within the same deadline.
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .build();
        Self { client: aws_sdk_bedrockruntime::Client::from_conf(conf), model_id: config.model_id.clone() }
    }

    /// From the environment: `None` when no model is configured.
    pub async fn from_env() -> Option<Self> {
        let config = BedrockConfig::from_env()?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Some(Self::new(&sdk, &config))
    }

    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// One Converse call: `system` holds the context, `turns` the chat ending with the question.
    pub async fn converse(&self, system: &str, turns: Vec<(ChatRole, String)>) -> Result<LlmAnswer, LlmError> {
        let messages = turns
            .into_iter()
            .map(|(role, text)| {
                let role = if role == ChatRole::Assistant { ConversationRole::Assistant } else { ConversationRole::User };
                Message::builder().role(role).content(ContentBlock::Text(text)).build().map_err(|e| LlmError::Call(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .converse()
            .model_id(&self.model_id)
            .system(SystemContentBlock::Text(system.to_string()))
            .set_messages(Some(messages))
            .inference_config(InferenceConfiguration::builder().max_tokens(MAX_TOKENS).temperature(0.0).build())
            .send()
            .await
            .map_err(|e| {
                use aws_sdk_bedrockruntime::error::SdkError;
                match &e {
                    SdkError::TimeoutError(_) => LlmError::Timeout,
                    // Only the error's kind and code: never the request (it holds the user's data).
                    SdkError::ServiceError(s) => LlmError::Call(format!("service error {}", s.raw().status().as_u16())),
                    _ => LlmError::Call(format!("{}", aws_sdk_bedrockruntime::error::DisplayErrorContext(&e))),
                }
            })?;
        let text = match out.output() {
            Some(ConverseOutput::Message(m)) => m
                .content()
                .iter()
                .filter_map(|b| if let ContentBlock::Text(t) = b { Some(t.as_str()) } else { None })
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        };
        let text = text.trim().to_string();
        if text.is_empty() {
            return Err(LlmError::Empty);
        }
        let usage = out.usage();
        Ok(LlmAnswer {
            text,
            input_tokens: usage.map(|u| u.input_tokens().max(0) as u32).unwrap_or(0),
            output_tokens: usage.map(|u| u.output_tokens().max(0) as u32).unwrap_or(0),
        })
    }
}

/// The grounded context: today's date, the months' totals by category, the
/// budgets, and the deterministic engine's answer to the question. Every
/// figure the model may state is in here.
pub fn context(q: &Question, data: &FinancialData, computed: &Answer) -> String {
    let mut s = String::from(
        "You are the Expenzez assistant in a UK personal-finance app. Answer the user's question in plain words, \
         briefly, using only the figures below (pounds and pence exactly as written). Never state a figure that is \
         not below. If the figures below do not answer the question, say: I can't answer that from your data.\n\n",
    );
    s.push_str(&format!("Today: {}.\n", format::date(q.today)));
    let mut months: Vec<_> = data.summaries.iter().filter(|m| !m.totals.is_empty()).collect();
    months.sort_by_key(|m| std::cmp::Reverse(m.month));
    if !months.is_empty() {
        s.push_str("Monthly totals (GBP), newest first:\n");
    }
    for m in months.into_iter().take(CONTEXT_MONTHS) {
        s.push_str(&format!(
            "- {}: spent {} in {} payments, received {} in {} payments",
            m.month,
            format::money(m.totals.debit),
            m.totals.debit_count,
            format::money(m.totals.credit),
            m.totals.credit_count
        ));
        let mut cats: Vec<_> = m.by_category.iter().filter(|(_, t)| t.debit.minor() > 0).collect();
        cats.sort_by(|a, b| b.1.debit.cmp(&a.1.debit).then_with(|| a.0.cmp(b.0)));
        if !cats.is_empty() {
            let list: Vec<String> = cats.iter().map(|(c, t)| format!("{c} {}", format::money(t.debit))).collect();
            s.push_str(&format!("; spending by category: {}", list.join(", ")));
        }
        s.push_str(".\n");
    }
    for b in &data.budgets {
        s.push_str(&format!("Budget {}: {} a period, {} spent so far.\n", b.name, format::money(b.limit), format::money(b.spent)));
    }
    s.push_str(&format!("\nThe exact answer computed from the user's data: {}\n", computed.text));
    s
}

/// The chat for the model: the recent messages (oldest first) then the
/// question, as Converse wants them: starting with the user, roles
/// alternating (consecutive messages of one role joined).
pub fn turns(history: &[ChatMessage], question: &str) -> Vec<(ChatRole, String)> {
    let mut out: Vec<(ChatRole, String)> = Vec::new();
    let all = history
        .iter()
        .filter(|m| m.role != ChatRole::System)
        .map(|m| (m.role, m.content.clone()))
        .chain(std::iter::once((ChatRole::User, question.to_string())));
    for (role, text) in all {
        match out.last_mut() {
            Some((r, t)) if *r == role => {
                t.push_str("\n\n");
                t.push_str(&text);
            }
            None if role == ChatRole::Assistant => {}
            _ => out.push((role, text)),
        }
    }
    out
}

/// The numbers written in `text`, normalised (`£1,234.50` → `1234.5`), so
/// the same figure compares equal however it is written.
pub fn numbers(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut raw = String::new();
        while i < chars.len() {
            let c = chars[i];
            let next_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if c.is_ascii_digit() || ((c == ',' || c == '.') && next_digit) {
                raw.push(c);
                i += 1;
            } else {
                break;
            }
        }
        let mut n: String = raw.chars().filter(|c| *c != ',').collect();
        if n.contains('.') {
            n = n.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        let n = n.trim_start_matches('0');
        found.insert(if n.is_empty() || n.starts_with('.') { format!("0{n}") } else { n.to_string() });
    }
    found
}

/// The figures of `answer` that are neither in `context` nor in `question`.
pub fn ungrounded(answer: &str, context: &str, question: &str) -> Vec<String> {
    let known: BTreeSet<String> = numbers(context).into_iter().chain(numbers(question)).collect();
    numbers(answer).into_iter().filter(|n| !known.contains(n)).collect()
}

/// The model's answer when it is grounded, else why not.
pub fn checked(answer: LlmAnswer, context: &str, question: &str) -> Result<LlmAnswer, LlmError> {
    let bad = ungrounded(&answer.text, context, question);
    if bad.is_empty() {
        Ok(answer)
    } else {
        Err(LlmError::Ungrounded(bad.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalised() {
        let n = numbers("You spent £1,234.50 (12%) on 3 Dec 2026, and £7.00 then 0.5.");
        let v: Vec<&str> = n.iter().map(String::as_str).collect();
        assert_eq!(v, ["0.5", "12", "1234.5", "2026", "3", "7"]);
        assert_eq!(numbers("1,234"), numbers("1234"));
    }

    #[test]
    fn figures_not_in_the_context_are_found() {
        let context = "December 2026: spent £62.09 in 2 payments.";
        assert!(ungrounded("You spent £62.09 across 2 payments in December 2026.", context, "").is_empty());
        assert_eq!(ungrounded("You spent £62.10.", context, ""), ["62.1"]);
        assert!(ungrounded("Over the last 3 months you spent £62.09.", context, "my last 3 months?").is_empty());
    }

    #[test]
    fn turns_start_with_the_user_and_alternate() {
        use expenzez_domain::ids::UserId;
        use expenzez_domain::Timestamp;
        let at = Timestamp::parse("2026-12-03T10:00:00Z").unwrap();
        let u = UserId::new("u").unwrap();
        let m = |role, text: &str| crate::chat::new_message(&u, role, text.into(), at);
        let h = [m(ChatRole::Assistant, "Hi"), m(ChatRole::User, "a"), m(ChatRole::User, "b"), m(ChatRole::Assistant, "c")];
        let t = turns(&h, "q");
        assert_eq!(t, [(ChatRole::User, "a\n\nb".into()), (ChatRole::Assistant, "c".into()), (ChatRole::User, "q".into())]);
        assert_eq!(turns(&h[3..], "q"), [(ChatRole::User, "q".to_string())]);
    }
}
