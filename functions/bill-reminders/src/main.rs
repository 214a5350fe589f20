//! Daily bill reminders (BillRemindersFunction in template.yaml): one
//! notification request per bill due within 3 days whose reminder is on,
//! read from the sparse bill-reminder index; the notifier delivers each once.

use expenzez_domain::entities::NotificationRequest;
use expenzez_store::JsonQueue;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config, the DynamoDB client and the queue, once per cold start.
    let table = expenzez_api::config::init().await?;
    let queue = JsonQueue::<NotificationRequest>::from_env().await.ok_or("NOTIFICATION_QUEUE_URL is not set")?;
    let (table, queue) = (&table, &queue);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        let run = expenzez_assistant::jobs::bill_reminders(table, queue).await?;
        Ok::<_, Error>(serde_json::to_value(run)?)
    }))
    .await
}
