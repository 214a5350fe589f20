//! `POST /bills/preferences` (PostBillPreferencesFunction in template.yaml).

use expenzez_api::edge;
use expenzez_assistant::bills;
use lambda_http::{service_fn, Error, Request};
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config and the DynamoDB client, once per cold start.
    let table = expenzez_api::config::init().await?;
    let table = &table;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(edge::run("POST /bills/preferences", table, req, bills::post_preferences).await)
    }))
    .await
}
