//! `POST /notifications/send` (SendTestNotificationFunction in template.yaml):
//! a push to my own devices now, through Expo's push service.

use expenzez_api::edge;
use expenzez_notify::{handlers, Notify};
use lambda_http::{service_fn, Error, Request};
use std::convert::Infallible;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Tracing, the table and the push client (its access token read from SSM), once per cold start.
    let notify = Notify::from_env().await?;
    let notify = &notify;
    lambda_http::run(service_fn(move |req: Request| async move {
        Ok::<_, Infallible>(edge::run("POST /notifications/send", notify, req, handlers::send_test).await)
    }))
    .await
}
