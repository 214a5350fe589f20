//! ExportUserDataFunction in template.yaml; its method, path and handler are in lib/auth/src/routes.rs.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Tracing, typed config, the DynamoDB and Cognito clients, once per cold start.
    let auth = expenzez_auth::init().await?;
    expenzez_auth::routes::serve("ExportUserDataFunction", &auth).await
}
