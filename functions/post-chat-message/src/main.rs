//! PostChatMessageFunction in template.yaml; its method, path and handler are in lib/assistant/src/routes.rs.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Tracing, typed config and the DynamoDB client, once per cold start.
    let app = expenzez_assistant::routes::Assistant::new(expenzez_api::config::init().await?);
    expenzez_assistant::routes::serve("PostChatMessageFunction", &app).await
}
