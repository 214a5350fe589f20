//! Every HTTP function of the data API, named once: its template resource,
//! method, path and handler. The table gives `ROUTES` (tests/routes.rs checks
//! it against template.yaml and the OpenAPI document), `dispatch` (the local
//! API server runs the functions in-process) and `serve` (each function's
//! `main.rs`). See [`crate::routes!`].

use crate::handlers::{config, imports, profile, summary, tools, transactions};
use expenzez_store::Table;

crate::routes! {
    state(table: &Table);
    GetProfileFunction: GET "/profile" => profile::get(table),
    UpdateProfileFunction: PUT "/profile" => profile::put(table),
    ListTransactionsFunction: GET "/transactions" => transactions::list(table),
    CreateTransactionFunction: POST "/transactions" => transactions::create(table),
    GetTransactionSummaryFunction: GET "/transactions/summary" => summary::get(table),
    GetSimilarTransactionsFunction: GET "/transactions/similar" => tools::similar(table),
    BulkCategorizeTransactionsFunction: POST "/transactions/bulk-categorize" => tools::bulk_categorize(table),
    BulkExcludeTransactionsFunction: POST "/transactions/bulk-exclude" => tools::bulk_exclude(table),
    ImportCsvFunction: POST "/transactions/import-csv" => imports::import_csv(table),
    GetImportUsageFunction: GET "/transactions/import-usage" => imports::get_usage(table),
    GetTransactionFunction: GET "/transactions/{id}" => transactions::get(table),
    UpdateTransactionFunction: PUT "/transactions/{id}" => transactions::update(table),
    DeleteTransactionFunction: DELETE "/transactions/{id}" => transactions::delete(table),
    ListBankTransactionsFunction: GET "/banking/transactions" => transactions::list_bank(table),
    GetConfigFunction: GET "/config" => config::get(table),
    PutAdminConfigFunction: PUT "/admin/config/{name}" => config::put(table),
}
