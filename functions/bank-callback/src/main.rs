//! `POST /banking/callback` (BankCallbackFunction in template.yaml).

use expenzez_api::edge;
use expenzez_banking::connect::callback;
use expenzez_banking::http::Banking;
use lambda_http::{service_fn, Error, Request};
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config, the table and the provider client, once per cold start.
    let banking = Banking::from_env(true).await?;
    let banking = &banking;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(edge::run("POST /banking/callback", banking, req, callback).await)
    }))
    .await
}
