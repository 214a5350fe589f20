//! Every banking route, named once: template resource, method, path, handler
//! (see `expenzez_api::routes!`). Two tables by what a function is built
//! with: [`reads`] only read the table (their functions hold no provider
//! configuration), [`provider`] talk to the bank as well.

/// Listings from the table alone (masked numbers, no KMS, no provider).
pub mod reads {
    use crate::handlers;
    use expenzez_store::Table;

    expenzez_api::routes! {
        state(table: &Table);
        GetBankingConnectedFunction: GET "/banking/connected" => handlers::connected(table),
        ListBankAccountsFunction: GET | POST "/banking/accounts" => handlers::accounts(table),
    }
}

/// The routes that reach the provider (connect, callback, refresh, institutions, remove).
pub mod provider {
    use crate::handlers::{self, Banking};
    use crate::provider::BankProvider;

    expenzez_api::routes! {
        state[P: BankProvider + 'static](b: &Banking<P>);
        RefreshBankTransactionsFunction: POST "/banking/transactions/refresh" => handlers::refresh(b),
        ConnectBankFunction: POST "/banking/connect" => handlers::connect(b),
        BankCallbackFunction: POST "/banking/callback" => handlers::callback(b),
        GetInstitutionsFunction: GET "/banking/institutions" => handlers::institutions(b),
        RemoveBankFunction: DELETE "/banking/remove/{accountId}" => handlers::remove(b),
    }
}

/// Every banking route: both tables.
pub fn all() -> impl Iterator<Item = &'static expenzez_api::registry::Route> {
    reads::ROUTES.iter().chain(provider::ROUTES)
}
