//! The provider port: what a sync needs from an open-banking provider, in our
//! own types. Amounts are exact [`Money`]; timestamps are UTC.

use expenzez_domain::entities::{AccountType, Provider};
use expenzez_domain::money::{Currency, Money};
use expenzez_domain::Timestamp;
use std::future::Future;
use std::time::Duration;

/// Tokens from a code exchange or a refresh.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    /// Some providers rotate it on refresh; `None` keeps the old one.
    pub refresh_token: Option<String>,
    pub expires_in: Duration,
}

impl std::fmt::Debug for Tokens {
    // Never print a token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("expires_in", &self.expires_in).finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct AccountNumber {
    pub number: Option<String>,
    pub sort_code: Option<String>,
    pub iban: Option<String>,
}

impl std::fmt::Debug for AccountNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountNumber(..)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderAccount {
    pub account_id: String,
    pub account_type: AccountType,
    pub display_name: String,
    pub currency: Currency,
    pub number: AccountNumber,
    pub bank_name: String,
    pub logo: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderBalance {
    pub currency: Currency,
    pub available: Money,
    pub current: Money,
    pub overdraft: Option<Money>,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderTransaction {
    /// Changes between requests and from pending to settled: never a key.
    pub transaction_id: String,
    pub normalised_provider_transaction_id: Option<String>,
    pub provider_transaction_id: Option<String>,
    pub timestamp: Timestamp,
    pub description: String,
    /// Negative is money out.
    pub amount: Money,
    pub currency: Currency,
    /// `DEBIT` / `CREDIT` as the provider says.
    pub transaction_type: String,
    pub transaction_category: String,
    pub transaction_classification: Vec<String>,
    pub merchant_name: Option<String>,
    pub running_balance: Option<Money>,
}

impl ProviderTransaction {
    /// The provider's stable id (SPEC §3): the normalised one, else the
    /// provider's own; `None` when neither is given.
    pub fn stable_id(&self) -> Option<&str> {
        self.normalised_provider_transaction_id.as_deref().or(self.provider_transaction_id.as_deref()).filter(|s| !s.trim().is_empty())
    }
}

/// The logo of a bank the provider has none for: a self-contained `data:`
/// URL (a grey rounded square with a bank's columns), so the app always
/// has an image to render and nothing is fetched from a third party.
pub const GENERIC_BANK_LOGO: &str = "data:image/svg+xml;utf8,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'%3E\
%3Crect width='64' height='64' rx='12' fill='%23d9dde3'/%3E%3Cpath d='M32 12 12 22v4h40v-4zM16 30h6v16h-6zm13 0h6v16h-6zm13 0h6v16h-6zM12 50h40v4H12z' \
fill='%23566171'/%3E%3C/svg%3E";

/// A bank the provider can connect to (`GET /banking/institutions`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Institution {
    /// The provider's id for it (TrueLayer's `provider_id`).
    pub id: String,
    pub name: String,
    /// Always a URL: the provider's logo, else [`GENERIC_BANK_LOGO`] (the app renders it).
    pub logo: String,
    /// Whether it offers everything a sync needs (accounts, balance, transactions).
    pub is_supported: bool,
}

/// Why a provider call failed, sorted by what the sync does about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The access token was refused: refresh it and try once more.
    #[error("provider refused the access token")]
    Unauthorized,
    /// The grant or consent is gone (`invalid_grant`, expired consent): only the
    /// user can fix it by reconnecting.
    #[error("provider needs the user to reconnect ({code})")]
    ReconnectRequired { code: String },
    /// Rate limited, provider down or timed out: try again later.
    #[error("provider temporarily unavailable ({code})")]
    Retryable { code: String, retry_after: Option<Duration> },
    /// A response we cannot use (bad shape, 4xx other than the above).
    #[error("provider response unusable ({code})")]
    Invalid { code: String },
}

impl ProviderError {
    pub fn code(&self) -> &str {
        match self {
            ProviderError::Unauthorized => "unauthorized",
            ProviderError::ReconnectRequired { code } | ProviderError::Retryable { code, .. } | ProviderError::Invalid { code } => code,
        }
    }
}

pub type ProviderResult<T> = Result<T, ProviderError>;

/// An open-banking provider (TrueLayer, or the deterministic demo).
pub trait BankProvider: Send + Sync {
    fn provider(&self) -> Provider;
    /// The authorisation URL the user opens to connect a bank; `institution`
    /// (an [`Institution::id`]) skips the provider's bank picker.
    fn auth_link(&self, state: &str, redirect_uri: &str, institution: Option<&str>) -> String;
    fn exchange_code(&self, code: &str, redirect_uri: &str) -> impl Future<Output = ProviderResult<Tokens>> + Send;
    fn refresh(&self, refresh_token: &str) -> impl Future<Output = ProviderResult<Tokens>> + Send;
    fn accounts(&self, access_token: &str) -> impl Future<Output = ProviderResult<Vec<ProviderAccount>>> + Send;
    fn balance(&self, access_token: &str, account_id: &str) -> impl Future<Output = ProviderResult<ProviderBalance>> + Send;
    /// Settled transactions with `from <= timestamp <= to`.
    fn transactions(
        &self,
        access_token: &str,
        account_id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Future<Output = ProviderResult<Vec<ProviderTransaction>>> + Send;
    fn pending_transactions(
        &self,
        access_token: &str,
        account_id: &str,
    ) -> impl Future<Output = ProviderResult<Vec<ProviderTransaction>>> + Send;
    /// What a connection's consent grants (stored with it).
    fn permissions(&self) -> Vec<String> {
        ["info", "accounts", "balance", "transactions", "offline_access"].map(String::from).to_vec()
    }
    /// The banks a user can pick from.
    fn institutions(&self) -> impl Future<Output = ProviderResult<Vec<Institution>>> + Send;
    /// Ends the provider's access for this grant (the user disconnected).
    fn revoke(&self, access_token: &str) -> impl Future<Output = ProviderResult<()>> + Send;
}
