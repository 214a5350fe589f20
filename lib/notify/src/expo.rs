//! Expo's push service (https://docs.expo.dev/push-notifications/sending-notifications/):
//! `POST {base}/--/api/v2/push/send` with at most 100 messages, answered by one
//! ticket per message in order; `POST {base}/--/api/v2/push/getReceipts` with
//! at most 1000 ticket ids, answered by a receipt per id that is ready. 429
//! and 5xx (and network failures) are retried with [`expenzez_api::retry`].

use expenzez_api::retry::{retry, RetryPolicy};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

/// Expo's limits per request.
pub const SEND_BATCH: usize = 100;
pub const RECEIPT_BATCH: usize = 1000;

#[derive(Clone)]
pub struct ExpoConfig {
    /// `https://exp.host` (a local fake in tests and `make dev`).
    pub base_url: String,
    /// Expo's access token when the project requires one (enhanced push security).
    pub access_token: Option<String>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for ExpoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpoConfig").field("base_url", &self.base_url).field("has_access_token", &self.access_token.is_some()).finish()
    }
}

impl ExpoConfig {
    pub fn new(base_url: impl Into<String>, access_token: Option<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            access_token: access_token.filter(|t| !t.trim().is_empty()),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy { max_attempts: 3, base: Duration::from_millis(500), max_wait: Duration::from_secs(5) },
        }
    }
}

/// One push message (Expo's message format).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushMessage {
    pub to: String,
    pub title: String,
    pub body: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    /// `default`, `normal` or `high`.
    pub priority: &'static str,
    pub sound: &'static str,
}

/// Expo's `details.error` codes that matter here.
pub const DEVICE_NOT_REGISTERED: &str = "DeviceNotRegistered";
pub const MESSAGE_RATE_EXCEEDED: &str = "MessageRateExceeded";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
pub struct ErrorDetails {
    pub error: Option<String>,
}

/// A push ticket (one per message sent) or a push receipt.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Ticket {
    Ok {
        /// The receipt id (tickets only).
        id: Option<String>,
    },
    Error {
        message: Option<String>,
        #[serde(default)]
        details: Option<ErrorDetails>,
    },
}

impl Ticket {
    /// Expo's error code (`DeviceNotRegistered`, ...), if an error.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Ticket::Ok { .. } => None,
            Ticket::Error { details, .. } => Some(details.as_ref().and_then(|d| d.error.as_deref()).unwrap_or("Unknown")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// Rate limited, a server error or the network: worth another try later.
    #[error("push service unavailable ({code})")]
    Retryable { code: String, retry_after: Option<Duration> },
    /// Refused the request as a whole (our bug or configuration, e.g. a bad access token).
    #[error("push service refused the request ({code})")]
    Rejected { code: String },
}

impl PushError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, PushError::Retryable { .. })
    }
}

#[derive(Deserialize)]
struct SendResponse {
    data: Vec<Ticket>,
}

#[derive(Deserialize)]
struct ReceiptsResponse {
    data: HashMap<String, Ticket>,
}

#[derive(Deserialize, Default)]
struct RequestErrors {
    #[serde(default)]
    errors: Vec<RequestError>,
}

#[derive(Deserialize)]
struct RequestError {
    code: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Expo {
    http: reqwest::Client,
    config: std::sync::Arc<ExpoConfig>,
}

impl Expo {
    pub fn new(config: ExpoConfig) -> Result<Self, PushError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .use_rustls_tls()
            .build()
            .map_err(|_| PushError::Rejected { code: "client_build".into() })?;
        Ok(Self { http, config: std::sync::Arc::new(config) })
    }

    pub fn config(&self) -> &ExpoConfig {
        &self.config
    }

    async fn post<B: Serialize, T: serde::de::DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, PushError> {
        let url = format!("{}{path}", self.config.base_url);
        retry(
            &self.config.retry,
            || async {
                let mut req = self.http.post(&url).header("accept", "application/json").json(body);
                if let Some(t) = &self.config.access_token {
                    req = req.bearer_auth(t);
                }
                match req.send().await {
                    Ok(resp) if resp.status().is_success() => {
                        resp.json::<T>().await.map_err(|_| PushError::Rejected { code: "bad_response".into() })
                    }
                    Ok(resp) => Err(classify(resp).await),
                    Err(e) => {
                        Err(PushError::Retryable { code: if e.is_timeout() { "timeout" } else { "network" }.into(), retry_after: None })
                    }
                }
            },
            |e| match e {
                PushError::Retryable { retry_after, .. } => Some(*retry_after),
                PushError::Rejected { .. } => None,
            },
        )
        .await
    }

    /// Sends `messages` (batches of [`SEND_BATCH`]); one ticket per message, in order.
    pub async fn send(&self, messages: &[PushMessage]) -> Result<Vec<Ticket>, PushError> {
        let mut tickets = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(SEND_BATCH) {
            let r: SendResponse = self.post("/--/api/v2/push/send", &chunk).await?;
            if r.data.len() != chunk.len() {
                return Err(PushError::Rejected { code: "ticket_count".into() });
            }
            tickets.extend(r.data);
        }
        Ok(tickets)
    }

    /// The receipts of `ids` that are ready (batches of [`RECEIPT_BATCH`]).
    pub async fn receipts(&self, ids: &[String]) -> Result<HashMap<String, Ticket>, PushError> {
        let mut all = HashMap::new();
        for chunk in ids.chunks(RECEIPT_BATCH) {
            let r: ReceiptsResponse = self.post("/--/api/v2/push/getReceipts", &serde_json::json!({ "ids": chunk })).await?;
            all.extend(r.data);
        }
        Ok(all)
    }
}

async fn classify(resp: reqwest::Response) -> PushError {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body: RequestErrors = resp.json().await.unwrap_or_default();
    let code = body.errors.into_iter().find_map(|e| e.code).unwrap_or_else(|| format!("http_{status}"));
    match status {
        429 | 500..=599 => PushError::Retryable { code, retry_after },
        _ => PushError::Rejected { code },
    }
}

/// An Expo push token as the app registers it: `ExponentPushToken[...]` or `ExpoPushToken[...]`.
pub fn is_push_token(token: &str) -> bool {
    let inner = token.strip_prefix("ExponentPushToken[").or_else(|| token.strip_prefix("ExpoPushToken[")).and_then(|t| t.strip_suffix(']'));
    inner.is_some_and(|i| !i.is_empty() && i.len() <= 200 && i.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_and_receipts_parse_as_expo_documents_them() {
        let r: SendResponse = serde_json::from_str(
            r#"{"data":[{"status":"ok","id":"XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX"},
            {"status":"error","message":"\"ExponentPushToken[xxx]\" is not a registered push notification recipient","details":{"error":"DeviceNotRegistered"}}]}"#,
        )
        .unwrap();
        assert_eq!(r.data[0], Ticket::Ok { id: Some("XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX".into()) });
        assert_eq!(r.data[1].error_code(), Some(DEVICE_NOT_REGISTERED));
        let r: ReceiptsResponse = serde_json::from_str(
            r#"{"data":{"a":{"status":"ok"},"b":{"status":"error","message":"m","details":{"error":"MessageTooBig"}}}}"#,
        )
        .unwrap();
        assert_eq!(r.data["a"], Ticket::Ok { id: None });
        assert_eq!(r.data["b"].error_code(), Some("MessageTooBig"));
    }

    #[test]
    fn push_tokens() {
        assert!(is_push_token("ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"));
        assert!(is_push_token("ExpoPushToken[abc-DEF_1]"));
        for bad in ["", "ExponentPushToken[]", "abc", "ExponentPushToken[a b]", "ExponentPushToken[abc"] {
            assert!(!is_push_token(bad), "{bad}");
        }
    }
}
