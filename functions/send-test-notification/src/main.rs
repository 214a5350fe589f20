//! SendTestNotificationFunction in template.yaml; its method, path and handler are in lib/notify/src/routes.rs.
//! A push to my own devices now, through Expo's push service.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Tracing, the table and the push client (its access token read from SSM), once per cold start.
    let notify = expenzez_notify::Notify::from_env().await?;
    expenzez_notify::routes::serve("SendTestNotificationFunction", &notify).await
}
