//! The notification queue (NotificationQueue in template.yaml, its URL in
//! `NOTIFICATION_QUEUE_URL`): producers (budget alerts, bank sync, security
//! events) send one [`NotificationRequest`] per notification; the notifier
//! consumes it (SQS event source) and holds a request back through quiet
//! hours by moving its visibility timeout ([`NotificationQueue::defer`]).

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use expenzez_domain::entities::NotificationRequest;

/// SQS's largest batch.
const BATCH: usize = 10;
/// SQS's longest visibility timeout: 12 hours.
pub const MAX_DEFER_SECONDS: i64 = 12 * 3600;

#[derive(Debug, Clone)]
pub struct NotificationQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl NotificationQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }

    /// `NOTIFICATION_QUEUE_URL` (endpoint and credentials from the
    /// environment: `AWS_ENDPOINT_URL_SQS` locally); `None` when not set.
    pub async fn from_env() -> Option<Self> {
        let url = std::env::var("NOTIFICATION_QUEUE_URL").ok().filter(|u| !u.trim().is_empty())?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Some(Self::new(aws_sdk_sqs::Client::new(&sdk), url))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    /// Sends every request (batches of 10); returns how many were not accepted.
    pub async fn send(&self, requests: &[NotificationRequest]) -> usize {
        let mut refused = 0;
        for chunk in requests.chunks(BATCH) {
            let entries: Vec<SendMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let body = serde_json::to_string(r).ok()?;
                    SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(body).build().ok()
                })
                .collect();
            refused += chunk.len() - entries.len();
            match self.client.send_message_batch().queue_url(&self.url).set_entries(Some(entries)).send().await {
                Ok(out) => refused += out.failed().len(),
                Err(e) => {
                    tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "notification queue unavailable");
                    refused += chunk.len();
                }
            }
        }
        refused
    }

    /// Hides a received message for `seconds` (at most 12 hours): reported
    /// as a batch item failure, it comes back then.
    pub async fn defer(&self, receipt_handle: &str, seconds: i64) -> Result<(), String> {
        let secs = seconds.clamp(1, MAX_DEFER_SECONDS) as i32;
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
    }
}
