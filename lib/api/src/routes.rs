//! Every HTTP function: its template resource, route and handler. The Lambda
//! binaries each run one; the local API server runs them all in-process.

use crate::edge;
use crate::handlers::{config, imports, profile, summary, tools, transactions};
use expenzez_store::Table;
use lambda_http::{Body, Request, Response};

/// (template resource, method, path). A test checks this against template.yaml and the OpenAPI document.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GetProfileFunction", "GET", "/profile"),
    ("UpdateProfileFunction", "PUT", "/profile"),
    ("ListTransactionsFunction", "GET", "/transactions"),
    ("CreateTransactionFunction", "POST", "/transactions"),
    ("GetTransactionSummaryFunction", "GET", "/transactions/summary"),
    ("GetSimilarTransactionsFunction", "GET", "/transactions/similar"),
    ("BulkCategorizeTransactionsFunction", "POST", "/transactions/bulk-categorize"),
    ("BulkExcludeTransactionsFunction", "POST", "/transactions/bulk-exclude"),
    ("ImportCsvFunction", "POST", "/transactions/import-csv"),
    ("GetImportUsageFunction", "GET", "/transactions/import-usage"),
    ("GetTransactionFunction", "GET", "/transactions/{id}"),
    ("UpdateTransactionFunction", "PUT", "/transactions/{id}"),
    ("DeleteTransactionFunction", "DELETE", "/transactions/{id}"),
    ("ListBankTransactionsFunction", "GET", "/banking/transactions"),
    ("GetConfigFunction", "GET", "/config"),
    ("PutAdminConfigFunction", "PUT", "/admin/config/{name}"),
];

/// Runs the handler of template resource `function`; `None` if there is none.
pub async fn dispatch(function: &str, table: &Table, req: Request) -> Option<Response<Body>> {
    Some(match function {
        "GetProfileFunction" => edge::run("GET /profile", table, req, profile::get).await,
        "UpdateProfileFunction" => edge::run("PUT /profile", table, req, profile::put).await,
        "ListTransactionsFunction" => edge::run("GET /transactions", table, req, transactions::list).await,
        "CreateTransactionFunction" => edge::run("POST /transactions", table, req, transactions::create).await,
        "GetTransactionSummaryFunction" => edge::run("GET /transactions/summary", table, req, summary::get).await,
        "GetSimilarTransactionsFunction" => edge::run("GET /transactions/similar", table, req, tools::similar).await,
        "BulkCategorizeTransactionsFunction" => edge::run("POST /transactions/bulk-categorize", table, req, tools::bulk_categorize).await,
        "BulkExcludeTransactionsFunction" => edge::run("POST /transactions/bulk-exclude", table, req, tools::bulk_exclude).await,
        "ImportCsvFunction" => edge::run("POST /transactions/import-csv", table, req, imports::import_csv).await,
        "GetImportUsageFunction" => edge::run("GET /transactions/import-usage", table, req, imports::get_usage).await,
        "GetTransactionFunction" => edge::run("GET /transactions/{id}", table, req, transactions::get).await,
        "UpdateTransactionFunction" => edge::run("PUT /transactions/{id}", table, req, transactions::update).await,
        "DeleteTransactionFunction" => edge::run("DELETE /transactions/{id}", table, req, transactions::delete).await,
        "ListBankTransactionsFunction" => edge::run("GET /banking/transactions", table, req, transactions::list_bank).await,
        "GetConfigFunction" => edge::run("GET /config", table, req, config::get).await,
        "PutAdminConfigFunction" => edge::run("PUT /admin/config/{name}", table, req, config::put).await,
        _ => return None,
    })
}
