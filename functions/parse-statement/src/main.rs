//! ParseStatementFunction in template.yaml; its method, path and handler are in lib/statements/src/routes.rs.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Tracing, the table, the S3 client and the bucket's name, once per cold start.
    let statements = expenzez_statements::Statements::from_env().await?;
    expenzez_statements::routes::serve("ParseStatementFunction", &statements).await
}
