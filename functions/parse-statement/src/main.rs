//! `POST /transactions/parse-statement` (ParseStatementFunction in template.yaml).

use expenzez_api::edge;
use expenzez_statements::{handlers, Statements};
use lambda_http::{service_fn, Error, Request};
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, the table, the S3 client and the bucket's name, once per cold start.
    let statements = Statements::from_env().await?;
    let statements = &statements;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(edge::run("POST /transactions/parse-statement", statements, req, handlers::parse).await)
    }))
    .await
}
