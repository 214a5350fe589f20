//! Daily bank consent check (BankConsentCheckFunction in template.yaml):
//! connections whose consent ends within 7 days, from the sparse consent
//! index, each notified once per expiry.

use expenzez_banking::{consent, notices::NotificationQueue};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config, the DynamoDB client and the queue, once per cold start.
    let table = expenzez_api::config::init().await?;
    let queue = NotificationQueue::from_env().await.ok_or("NOTIFICATION_QUEUE_URL is not set")?;
    let (table, queue) = (&table, &queue);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        let report = consent::run(table, queue).await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
