//! `POST /banking/transactions/refresh` (RefreshBankTransactionsFunction in template.yaml).

// The sync future nests deeply (provider, ledger, store); the compiler needs room to lay it out.
#![recursion_limit = "256"]

use expenzez_api::edge;
use expenzez_banking::http::{refresh, Banking};
use lambda_http::{service_fn, Error, Request};
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config, the table and the provider client, once per cold start.
    let banking = Banking::from_env(false).await?;
    let banking = &banking;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(edge::run("POST /banking/transactions/refresh", banking, req, refresh).await)
    }))
    .await
}
