//! The rows the listings read (masked numbers, no tokens: nothing to
//! decrypt), one type per item kind; each query projects on its row's fields.

use expenzez_api::error::ApiError;
use expenzez_domain::entities::{AccountStatus, AccountType, Balance, ConnectionStatus, SyncError as LastError};
use expenzez_domain::ids::{AccountId, ConnectionId, UserId};
use expenzez_domain::keys;
use expenzez_domain::money::Currency;
use expenzez_domain::Timestamp;
use expenzez_store::{Query, Table};
use serde::Deserialize;

/// A connection as the listings and the refresh read it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ConnectionRow {
    pub connection_id: ConnectionId,
    pub bank_name: String,
    pub bank_logo: Option<String>,
    pub status: ConnectionStatus,
    pub last_sync: Option<Timestamp>,
    pub next_sync: Option<Timestamp>,
    pub last_error: Option<LastError>,
    pub created_at: Timestamp,
}

/// An account as the listings show it (`GET /banking/connected`, `GET|POST
/// /banking/accounts`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AccountRow {
    pub account_id: AccountId,
    pub connection_id: ConnectionId,
    pub account_name: String,
    pub account_type: AccountType,
    pub currency: Currency,
    pub iban_masked: Option<String>,
    pub account_number_masked: Option<String>,
    pub sort_code_masked: Option<String>,
    pub balance: Balance,
    pub status: AccountStatus,
    pub is_visible: bool,
    pub provider: ProviderRow,
    pub created_at: Timestamp,
    pub last_sync_at: Timestamp,
}

/// The bank an account belongs to, as the account stores it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ProviderRow {
    pub bank_name: String,
    pub logo: Option<String>,
}

/// The items of `user` under `prefix`, projected on (and read as) the row `T`.
pub(super) async fn rows<T: serde::de::DeserializeOwned>(table: &Table, user: &UserId, prefix: &str) -> Result<Vec<T>, ApiError> {
    let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(prefix).project_as::<T>();
    Ok(table.query_all_as(&q).await?)
}
