//! Queues, locally: each queue is created in the local SQS (moto) and a
//! poller stands in for Lambda's SQS event source mapping ([`poll_with`]). It
//! receives up to the template's `BatchSize` messages, hands them to the
//! consumer's own handler as the SQS event Lambda would send, and deletes
//! the ones the handler did not report as failed (`ReportBatchItemFailures`).
//! Here: the bank-sync queue and its worker.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use expenzez_banking::lambda::{work, AnyProvider};
use expenzez_banking::queue::SyncQueue;
use expenzez_banking::SyncSettings;
use expenzez_store::Table;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Creates the queue `name` in the local SQS (`AWS_ENDPOINT_URL_SQS`); its URL.
pub async fn create_queue(name: &str) -> anyhow::Result<(aws_sdk_sqs::Client, String)> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let out = client.create_queue().queue_name(name).send().await?;
    let url = out.queue_url().ok_or_else(|| anyhow::anyhow!("the local SQS returned no queue URL"))?.to_string();
    Ok((client, url))
}

/// Creates the bank-sync queue `name` in the local SQS.
pub async fn create(name: &str) -> anyhow::Result<SyncQueue> {
    let (client, url) = create_queue(name).await?;
    Ok(SyncQueue::new(client, url))
}

/// Polls `queue` and runs the worker on each batch until the task is aborted.
pub fn poll(queue: SyncQueue, table: Table, provider: Arc<AnyProvider>, settings: Arc<SyncSettings>) -> JoinHandle<()> {
    poll_with(queue.client().clone(), queue.url().to_string(), 5, move |event| {
        let (table, provider, settings) = (table.clone(), provider.clone(), settings.clone());
        async move { work(&table, provider.as_ref(), &settings, event).await }
    })
}

/// The SQS event Lambda would build for `messages`.
pub fn event_of(messages: &[aws_sdk_sqs::types::Message]) -> serde_json::Result<SqsEvent> {
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "awsRegion": "eu-west-2",
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({ "Records": records }))
}

/// Lambda's SQS event source, locally: receives batches of up to `batch`
/// messages from `url`, runs `handler`, deletes what it did not report failed.
pub fn poll_with<F, Fut>(client: aws_sdk_sqs::Client, url: String, batch: i32, handler: F) -> JoinHandle<()>
where
    F: Fn(SqsEvent) -> Fut + Send + 'static,
    Fut: Future<Output = SqsBatchResponse> + Send,
{
    tokio::spawn(async move {
        loop {
            let received = client.receive_message().queue_url(&url).max_number_of_messages(batch).wait_time_seconds(1).send().await;
            let messages = match received {
                Ok(r) => r.messages.unwrap_or_default(),
                Err(e) => {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "local queue unavailable");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if messages.is_empty() {
                continue;
            }
            let event = match event_of(&messages) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "could not build the SQS event");
                    continue;
                }
            };
            let response = handler(event).await;
            let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
            for m in &messages {
                if failed.contains(&m.message_id().unwrap_or_default()) {
                    continue; // redelivered after the visibility timeout
                }
                if let Some(handle) = m.receipt_handle() {
                    let _ = client.delete_message().queue_url(&url).receipt_handle(handle).send().await;
                }
            }
        }
    })
}
