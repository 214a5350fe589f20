//! `POST /auth/check-user-status` (CheckUserStatusFunction in template.yaml).

use expenzez_api::edge;
use expenzez_auth::handlers;
use lambda_http::{service_fn, Error, Request};
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, typed config, the DynamoDB and Cognito clients, once per cold start.
    let auth = expenzez_auth::init().await?;
    let auth = &auth;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(edge::run("POST /auth/check-user-status", auth, req, handlers::check_user_status).await)
    }))
    .await
}
