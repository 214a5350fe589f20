//! The bank-sync queue, locally: the queue is created in the local SQS (moto)
//! and a poller stands in for Lambda's SQS event source mapping. It receives
//! up to 5 messages (the template's `BatchSize`), hands them to the worker's
//! own handler as the SQS event Lambda would send, and deletes the ones the
//! worker did not report as failed (`ReportBatchItemFailures`).

use expenzez_banking::lambda::{work, AnyProvider};
use expenzez_banking::queue::SyncQueue;
use expenzez_banking::SyncSettings;
use expenzez_store::Table;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Creates the queue `name` in the local SQS (`AWS_ENDPOINT_URL_SQS`).
pub async fn create(name: &str) -> anyhow::Result<SyncQueue> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let out = client.create_queue().queue_name(name).send().await?;
    let url = out.queue_url().ok_or_else(|| anyhow::anyhow!("the local SQS returned no queue URL"))?;
    Ok(SyncQueue::new(client, url))
}

/// Polls `queue` and runs the worker on each batch until the task is aborted.
pub fn poll(queue: SyncQueue, table: Table, provider: Arc<AnyProvider>, settings: Arc<SyncSettings>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let received =
                queue.client().receive_message().queue_url(queue.url()).max_number_of_messages(5).wait_time_seconds(1).send().await;
            let messages = match received {
                Ok(r) => r.messages.unwrap_or_default(),
                Err(e) => {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "local sync queue unavailable");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if messages.is_empty() {
                continue;
            }
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
            let event = match serde_json::from_value(serde_json::json!({ "Records": records })) {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "could not build the SQS event");
                    continue;
                }
            };
            let response = work(&table, provider.as_ref(), &settings, event).await;
            let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
            for m in &messages {
                if failed.contains(&m.message_id().unwrap_or_default()) {
                    continue; // redelivered after the visibility timeout
                }
                if let Some(handle) = m.receipt_handle() {
                    let _ = queue.client().delete_message().queue_url(queue.url()).receipt_handle(handle).send().await;
                }
            }
        }
    })
}
