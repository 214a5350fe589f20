//! BulkExcludeTransactionsFunction in template.yaml; its method, path and handler are in lib/api/src/routes.rs.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Tracing, typed config and the DynamoDB client, once per cold start.
    let table = expenzez_api::config::init().await?;
    expenzez_api::routes::serve("BulkExcludeTransactionsFunction", &table).await
}
