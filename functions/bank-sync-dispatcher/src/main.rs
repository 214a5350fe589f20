//! Scheduled bank sync, first half (BankSyncDispatcherFunction in template.yaml):
//! every due connection from the sparse GSI1 due index becomes one message on
//! the sync queue.

use expenzez_banking::lambda::{dispatch, LambdaError};
use expenzez_banking::queue::SyncQueue;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config, the DynamoDB and SQS clients, once per cold start.
    let table = expenzez_api::config::init().await?;
    let queue = SyncQueue::from_env().await.ok_or(LambdaError::Config("SYNC_QUEUE_URL"))?;
    let (table, queue) = (&table, &queue);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        let dispatched = dispatch(table, queue).await?;
        Ok::<_, Error>(serde_json::json!({ "dispatched": dispatched }))
    }))
    .await
}
