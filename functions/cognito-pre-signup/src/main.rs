//! Cognito pre signup trigger (PreSignUpFunction in template.yaml).

use expenzez_auth::triggers;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config and the DynamoDB client, once per cold start.
    let table = expenzez_api::config::init().await?;
    let table = &table;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // Cognito gets the event back, or the error message (it refuses or retries).
        triggers::pre_signup(table, event.payload).await.map_err(Error::from)
    }))
    .await
}
