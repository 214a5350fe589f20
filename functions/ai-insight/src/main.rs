//! AiInsightFunction in template.yaml; its method, path and handler are in lib/assistant/src/routes.rs.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Tracing, typed config and the DynamoDB client, once per cold start.
    let table = expenzez_api::config::init().await?;
    // Bedrock when BEDROCK_MODEL_ID is set; else the deterministic engine alone.
    let llm = expenzez_assistant::llm::Bedrock::from_env().await.map(std::sync::Arc::new);
    let app = expenzez_assistant::routes::Assistant { table, llm };
    expenzez_assistant::routes::serve("AiInsightFunction", &app).await
}
