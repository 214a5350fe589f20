//! `POST /banking/connect` (ConnectBankFunction in template.yaml).

use expenzez_api::edge;
use expenzez_banking::connect::connect;
use expenzez_banking::http::Banking;
use lambda_http::{service_fn, Error, Request};
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config, the table and the provider client, once per cold start.
    let banking = Banking::from_env(true).await?;
    let banking = &banking;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(edge::run("POST /banking/connect", banking, req, connect).await)
    }))
    .await
}
