//! RefreshBankTransactionsFunction in template.yaml; its method, path and handler are in lib/banking/src/routes.rs.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    // The sync future nests deeply (provider, ledger, store); the compiler needs room to lay it out.
    let banking = expenzez_banking::Banking::from_env(false).await?;
    expenzez_banking::routes::provider::serve("RefreshBankTransactionsFunction", &banking).await
}
