//! The push receipt sweep (PushReceiptSweepFunction in template.yaml): the
//! receipts Expo had not ready at send time, read now; dead tokens deleted.

use expenzez_notify::receipts;
use expenzez_notify::routes::push_from_env;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, the table and the push client, once per cold start.
    let table = expenzez_api::config::init().await?;
    let expo = push_from_env().await?;
    let (table, expo) = (&table, &expo);
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| async move {
        let report = receipts::sweep(table, expo).await?;
        Ok::<_, Error>(serde_json::to_value(report)?)
    }))
    .await
}
