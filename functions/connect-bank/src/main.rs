//! ConnectBankFunction in template.yaml; its method, path and handler are in lib/banking/src/routes.rs.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // Tracing, typed config, the table and the provider client, once per cold start.
    let banking = expenzez_banking::Banking::from_env(true).await?;
    expenzez_banking::routes::provider::serve("ConnectBankFunction", &banking).await
}
