//! The one SQS sender: a queue of JSON messages of one type ([`JsonQueue`]).
//! Every producer (the sync dispatcher and the bank callback on the sync
//! queue; budget alerts, bank sync, security events and the consent check on
//! the notification queue) sends through it, so batching (SQS's 10 per
//! call), refusals and the URL's environment variable are handled once.
//! Each message type names its queue's variable ([`QueueMessage`]).

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use expenzez_domain::entities::NotificationRequest;
use serde::Serialize;
use std::marker::PhantomData;

/// SQS's largest batch.
pub const BATCH: usize = 10;

/// A message type and its queue: the environment variable holding the
/// queue's URL (set by template.yaml) and a name for logs.
pub trait QueueMessage: Serialize {
    const URL_ENV: &'static str;
    const QUEUE: &'static str;
}

/// The notification queue (NotificationQueue in template.yaml).
impl QueueMessage for NotificationRequest {
    const URL_ENV: &'static str = "NOTIFICATION_QUEUE_URL";
    const QUEUE: &'static str = "notification queue";
}

/// Why a message was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("{queue} refused {refused} of {sent} messages")]
    Refused { queue: &'static str, refused: usize, sent: usize },
}

#[derive(Debug)]
pub struct JsonQueue<T> {
    client: aws_sdk_sqs::Client,
    url: String,
    _message: PhantomData<fn(&T)>,
}

impl<T> Clone for JsonQueue<T> {
    fn clone(&self) -> Self {
        Self { client: self.client.clone(), url: self.url.clone(), _message: PhantomData }
    }
}

impl<T: QueueMessage> JsonQueue<T> {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self { client, url: url.into(), _message: PhantomData }
    }

    /// The queue named by `T::URL_ENV` (endpoint and credentials from the
    /// environment: `AWS_ENDPOINT_URL_SQS` locally); `None` when it is not set.
    pub async fn from_env() -> Option<Self> {
        let url = std::env::var(T::URL_ENV).ok().filter(|u| !u.trim().is_empty())?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Some(Self::new(aws_sdk_sqs::Client::new(&sdk), url))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    /// Sends every message (batches of 10); returns how many were not accepted.
    pub async fn send(&self, messages: &[T]) -> usize {
        let mut refused = 0;
        for chunk in messages.chunks(BATCH) {
            let entries: Vec<SendMessageBatchRequestEntry> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    let body = serde_json::to_string(m).ok()?;
                    SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(body).build().ok()
                })
                .collect();
            refused += chunk.len() - entries.len();
            if entries.is_empty() {
                continue;
            }
            match self.client.send_message_batch().queue_url(&self.url).set_entries(Some(entries)).send().await {
                Ok(out) => refused += out.failed().len(),
                Err(e) => {
                    tracing::error!(queue = T::QUEUE, error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "queue unavailable");
                    refused += chunk.len();
                }
            }
        }
        refused
    }

    /// Sends every message; an error when any was not accepted.
    pub async fn send_all(&self, messages: &[T]) -> Result<(), QueueError> {
        match self.send(messages).await {
            0 => Ok(()),
            refused => Err(QueueError::Refused { queue: T::QUEUE, refused, sent: messages.len() }),
        }
    }

    /// Hides a received message for `seconds` (1 s to SQS's 12 hours): reported
    /// as a batch item failure, it comes back then.
    pub async fn defer(&self, receipt_handle: &str, seconds: i64) -> Result<(), String> {
        let secs = seconds.clamp(1, MAX_VISIBILITY_SECONDS) as i32;
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

/// SQS's longest visibility timeout: 12 hours.
pub const MAX_VISIBILITY_SECONDS: i64 = 12 * 3600;
