//! RegisterNotificationTokenFunction in template.yaml; its method, path and handler are in lib/notify/src/routes.rs.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Tracing, typed config and the DynamoDB client, once per cold start.
    let notify = expenzez_notify::Notify::new(expenzez_api::config::init().await?, None);
    expenzez_notify::routes::serve("RegisterNotificationTokenFunction", &notify).await
}
