//! The sync queue: one message per connection to sync ([`SyncJob`]). The
//! dispatcher fills it from the due index; the bank callback puts a new
//! connection on it so its first sync starts at once instead of at the next
//! 15-minute tick. The worker Lambda consumes it (SQS event source).

use crate::schedule::SyncJob;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

/// SQS's largest batch.
const BATCH: usize = 10;

#[derive(Debug, Clone)]
pub struct SyncQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SyncQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into() }
    }

    /// `SYNC_QUEUE_URL` (endpoint and credentials from the environment:
    /// `AWS_ENDPOINT_URL_SQS` locally); `None` when it is not set.
    pub async fn from_env() -> Option<Self> {
        let url = std::env::var("SYNC_QUEUE_URL").ok().filter(|u| !u.trim().is_empty())?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Some(Self::new(aws_sdk_sqs::Client::new(&sdk), url))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    /// Sends every job (batches of 10); returns how many were not accepted.
    /// A job that was not sent is not lost: its connection stays due in the
    /// due index and goes out on the dispatcher's next tick.
    pub async fn send(&self, jobs: &[SyncJob]) -> usize {
        let mut refused = 0;
        for chunk in jobs.chunks(BATCH) {
            let entries: Vec<SendMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, j)| {
                    let body = serde_json::to_string(j).ok()?;
                    SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(body).build().ok()
                })
                .collect();
            refused += chunk.len() - entries.len();
            match self.client.send_message_batch().queue_url(&self.url).set_entries(Some(entries)).send().await {
                Ok(out) => refused += out.failed().len(),
                Err(e) => {
                    tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "sync queue unavailable");
                    refused += chunk.len();
                }
            }
        }
        refused
    }
}
