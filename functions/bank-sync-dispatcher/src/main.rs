//! Scheduled bank sync, first half (BankSyncDispatcherFunction in template.yaml):
//! every due connection from the sparse GSI1 due index becomes one message on
//! the sync queue.

use expenzez_banking::lambda::{dispatch, LambdaError};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config, the DynamoDB and SQS clients, once per cold start.
    let table = expenzez_api::config::init().await?;
    let queue_url = std::env::var("SYNC_QUEUE_URL").map_err(|_| LambdaError::Config("SYNC_QUEUE_URL"))?;
    let sqs = aws_sdk_sqs::Client::new(&aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await);
    let (table, sqs, queue_url) = (&table, &sqs, queue_url.as_str());
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        let dispatched = dispatch(table, sqs, queue_url).await?;
        Ok::<_, Error>(serde_json::json!({ "dispatched": dispatched }))
    }))
    .await
}
