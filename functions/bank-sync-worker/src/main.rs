//! Scheduled bank sync, second half (BankSyncWorkerFunction in template.yaml):
//! syncs the connection of each SQS message; answers partial batch failures.

// The sync future nests deeply (provider, ledger, store); the compiler needs room to lay it out.
#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::SqsEvent;
use expenzez_banking::lambda::{work, AnyProvider};
use expenzez_banking::SyncSettings;
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config, the table and the provider client, once per cold start.
    let table = expenzez_api::config::init().await?;
    let provider = AnyProvider::from_env(table.now())?;
    let settings = SyncSettings::from_env().await;
    let (table, provider, settings) = (&table, &provider, &settings);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(work(table, provider, settings, event.payload).await)
    }))
    .await
}
