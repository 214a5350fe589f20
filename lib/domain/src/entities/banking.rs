use super::{ttl_after_days, Entity};
use crate::category;
use crate::ids::{AccountId, ConnectionId, TransactionId, UserId};
use crate::keys::{gsi1_sync_due, gsi2_transaction, gsi3_consent_due, gsi3_transaction, Category, IndexKey, ItemKey};
use crate::mask;
use crate::money::{Currency, Money};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionType {
    Oauth,
    OpenBanking,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Truelayer,
    Plaid,
    Yapily,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Active,
    Expired,
    Error,
    ReconnectRequired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncError {
    pub code: String,
    pub message: String,
    pub timestamp: Timestamp,
    pub retry_count: u32,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consent {
    pub granted_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub permissions: Vec<String>,
    pub institution_consent: Option<String>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionStats {
    pub total_accounts: u32,
    /// The seed has it required; a connection that never synced has none yet.
    pub last_successful_sync: Option<Timestamp>,
    pub sync_count: u64,
    pub error_count: u64,
}

/// Seed §Bank Connection. `accessToken`/`refreshToken` are restricted: plain
/// strings in memory only, encrypted by the store before they reach DynamoDB
/// ([`Entity::RESTRICTED_FIELDS`]) and hidden from `{:?}`.
#[skip_serializing_none]
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BankConnection {
    pub connection_id: ConnectionId,
    pub user_id: UserId,
    pub bank_name: String,
    pub bank_logo: Option<String>,
    pub bic: Option<String>,
    pub connection_type: ConnectionType,
    pub provider: Provider,
    pub status: ConnectionStatus,
    /// The seed has it required; absent until the first sync.
    pub last_sync: Option<Timestamp>,
    pub next_sync: Option<Timestamp>,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub token_expiry: Option<Timestamp>,
    pub last_error: Option<SyncError>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub consent: Consent,
    pub stats: ConnectionStats,
    /// Not in the seed: the consent expiry whose reminder was requested (the
    /// daily consent check), so each expiry is announced once and the
    /// connection leaves the consent-expiry index (sparse GSI3) until a new one.
    #[serde(default)]
    pub consent_reminded: Option<Timestamp>,
}

impl BankConnection {
    /// Syncable connections are in the due index; others are not (sparse GSI1).
    pub fn is_syncable(&self) -> bool {
        self.status == ConnectionStatus::Active || self.status == ConnectionStatus::Error
    }
}

impl Entity for BankConnection {
    const ENTITY_TYPE: &'static str = "BANK_CONNECTION";
    const RESTRICTED_FIELDS: &'static [&'static str] = &["accessToken", "refreshToken"];
    fn item_key(&self) -> ItemKey {
        ItemKey::BankConnection(self.user_id.clone(), self.connection_id.clone())
    }
    fn index_keys(&self) -> Vec<IndexKey> {
        let mut keys = Vec::new();
        if let Some(at) = self.next_sync.filter(|_| self.is_syncable()) {
            keys.push(gsi1_sync_due(at, &self.user_id, &self.connection_id));
        }
        if let Some(expires) = self.consent.expires_at.filter(|e| self.is_syncable() && self.consent_reminded != Some(*e)) {
            keys.push(gsi3_consent_due(expires, &self.user_id, &self.connection_id));
        }
        keys
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    Checking,
    Savings,
    Credit,
    Investment,
    Loan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Closed,
    Suspended,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    pub available: Money,
    pub current: Money,
    pub overdraft: Option<Money>,
    pub currency: Currency,
    pub last_updated: Timestamp,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountProvider {
    pub bank_name: String,
    pub display_name: String,
    pub logo: Option<String>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionSummary {
    pub total_transactions: u64,
    pub last_transaction_date: Option<Timestamp>,
    pub average_monthly_spending: Money,
}

/// Seed §Bank Account. `accountNumber`, `sortCode`, `iban` are restricted
/// (encrypted by the store, hidden from `{:?}`); the `*Masked` companions are
/// stored in plaintext so the app can list accounts without decryption
/// ([`BankAccount::set_masks`] computes them).
#[skip_serializing_none]
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BankAccount {
    pub account_id: AccountId,
    pub connection_id: ConnectionId,
    pub user_id: UserId,
    pub account_name: String,
    pub account_type: AccountType,
    pub currency: Currency,
    pub account_number: Option<String>,
    pub sort_code: Option<String>,
    pub iban: Option<String>,
    pub account_number_masked: Option<String>,
    pub sort_code_masked: Option<String>,
    pub iban_masked: Option<String>,
    pub balance: Balance,
    pub status: AccountStatus,
    pub is_visible: bool,
    pub provider: AccountProvider,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_sync_at: Timestamp,
    pub transaction_summary: TransactionSummary,
}

impl BankAccount {
    /// Sets each masked companion from its restricted value, where that value
    /// is known (a value read without decryption leaves its mask as it is).
    pub fn set_masks(&mut self) {
        if let Some(n) = &self.account_number {
            self.account_number_masked = Some(mask::account_number(n));
        }
        if let Some(c) = &self.sort_code {
            self.sort_code_masked = Some(mask::sort_code(c));
        }
        if let Some(i) = &self.iban {
            self.iban_masked = Some(mask::iban(i));
        }
    }
}

impl Entity for BankAccount {
    const ENTITY_TYPE: &'static str = "BANK_ACCOUNT";
    const RESTRICTED_FIELDS: &'static [&'static str] = &["accountNumber", "sortCode", "iban"];
    fn item_key(&self) -> ItemKey {
        ItemKey::BankAccount(self.user_id.clone(), self.account_id.clone())
    }
}

/// `primary` is the effective category (a user's override wins, SPEC §3);
/// `providerPrimary` keeps the provider's so a re-sync can tell them apart.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionCategory {
    pub primary: Category,
    pub secondary: Option<String>,
    pub confidence: f64,
    pub user_modified: bool,
    pub provider_primary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coordinates {
    pub lat: f64,
    pub lng: f64,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantLocation {
    pub city: String,
    pub country: String,
    pub coordinates: Option<Coordinates>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Merchant {
    pub name: String,
    pub category: Option<String>,
    pub logo: Option<String>,
    pub location: Option<MerchantLocation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionType {
    Debit,
    Credit,
    Transfer,
    Fee,
    Interest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Weekly,
    Monthly,
    Yearly,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiInsights {
    pub is_recurring: bool,
    pub frequency: Option<Frequency>,
    pub next_expected: Option<Timestamp>,
    pub budget_impact: Money,
    pub anomaly_score: Option<f64>,
}

/// Where a transaction came from: typed in by the user, a bank sync, or an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionSource {
    Manual,
    Truelayer,
    /// A row of a CSV file the app parsed (`POST /transactions/import-csv`).
    CsvImport,
    /// A row of a PDF bank statement (`POST /transactions/import-statement`).
    StatementImport,
}

/// Seed §Transaction Record, plus what the app shows (`isPending`,
/// `excludeFromSpend`, `bankName`, `accountType`) and what sync needs.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    pub transaction_id: TransactionId,
    pub account_id: AccountId,
    pub user_id: UserId,
    pub amount: Money,
    pub currency: Currency,
    pub description: String,
    pub reference: Option<String>,
    pub timestamp: Timestamp,
    pub processing_date: Option<Timestamp>,
    pub value_date: Option<Timestamp>,
    pub category: TransactionCategory,
    pub merchant: Option<Merchant>,
    pub transaction_type: TransactionType,
    pub transaction_code: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub user_note: Option<String>,
    pub tags: Option<Vec<String>>,
    pub is_hidden: bool,
    pub ai_insights: Option<AiInsights>,
    pub running_balance: Option<Money>,
    #[serde(default)]
    pub is_pending: bool,
    #[serde(default)]
    pub exclude_from_spend: bool,
    pub bank_name: Option<String>,
    pub account_type: Option<String>,
    pub source: Option<TransactionSource>,
    /// The provider's stable id the deterministic `transactionId` was made from.
    pub provider_transaction_id: Option<String>,
}

impl Transaction {
    /// What every writer of a transaction decides (whose, which account,
    /// its id, amount and time, its description and category); the rest
    /// empty: no merchant, note, tags or insights, not pending, not hidden,
    /// written at `timestamp`, debit or credit by the amount's sign. Writers
    /// set the rest with struct update syntax (`..Transaction::new(...)`).
    pub fn new(
        user_id: UserId,
        account_id: AccountId,
        transaction_id: TransactionId,
        amount: Money,
        currency: Currency,
        timestamp: Timestamp,
        description: String,
        category: Category,
    ) -> Self {
        Transaction {
            transaction_id,
            account_id,
            user_id,
            amount,
            currency,
            description,
            reference: None,
            timestamp,
            processing_date: None,
            value_date: None,
            category: TransactionCategory::of(category),
            merchant: None,
            transaction_type: if amount.is_negative() { TransactionType::Debit } else { TransactionType::Credit },
            transaction_code: None,
            created_at: timestamp,
            updated_at: timestamp,
            user_note: None,
            tags: None,
            is_hidden: false,
            ai_insights: None,
            running_balance: None,
            is_pending: false,
            exclude_from_spend: false,
            bank_name: None,
            account_type: None,
            source: None,
            provider_transaction_id: None,
        }
    }
}

impl TransactionCategory {
    /// `primary` alone: no secondary or provider word, confidence 1, not the user's choice.
    pub fn of(primary: Category) -> Self {
        TransactionCategory { primary, secondary: None, confidence: 1.0, user_modified: false, provider_primary: None }
    }
}

impl Merchant {
    /// A merchant known by its name only.
    pub fn named(name: impl Into<String>) -> Self {
        Merchant { name: name.into(), category: None, logo: None, location: None }
    }
}

impl Entity for Transaction {
    const ENTITY_TYPE: &'static str = "TRANSACTION";
    /// 2: `category.primary` is one of the app's names ([`crate::category`]);
    /// version 1 stored whatever the writer used (`transport`, `Eating out`).
    const SCHEMA_VERSION: u32 = 2;
    fn upgrade(&mut self, from: u32) {
        if from < 2 {
            self.category.primary = category::upgrade(&self.category.primary);
        }
    }
    fn item_key(&self) -> ItemKey {
        ItemKey::Transaction(self.user_id.clone(), self.transaction_id.clone())
    }
    fn index_keys(&self) -> Vec<IndexKey> {
        vec![
            gsi2_transaction(&self.user_id, self.timestamp, &self.transaction_id),
            gsi3_transaction(&self.user_id, &self.category.primary, self.timestamp),
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncOutcome {
    Succeeded,
    Failed,
    ReconnectRequired,
}

/// New item: audit of one bank sync (TTL 90 days).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRun {
    pub user_id: UserId,
    pub connection_id: ConnectionId,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub outcome: SyncOutcome,
    pub accounts_synced: u32,
    pub transactions_written: u32,
    pub transactions_removed: u32,
    pub duration_ms: u64,
    pub error_code: Option<String>,
    #[serde(rename = "TTL")]
    pub ttl: i64,
}

impl SyncRun {
    pub const RETENTION_DAYS: i64 = 90;
    pub fn ttl_for(started_at: Timestamp) -> i64 {
        ttl_after_days(started_at, Self::RETENTION_DAYS)
    }
}

impl Entity for SyncRun {
    const ENTITY_TYPE: &'static str = "SYNC_RUN";
    fn item_key(&self) -> ItemKey {
        ItemKey::SyncRun(self.user_id.clone(), self.connection_id.clone(), self.started_at)
    }
}

/// `Some("<redacted>")` for a restricted value that is present.
fn redacted(v: &Option<String>) -> Option<&'static str> {
    v.as_ref().map(|_| "<redacted>")
}

impl fmt::Debug for BankConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BankConnection")
            .field("connection_id", &self.connection_id)
            .field("user_id", &self.user_id)
            .field("bank_name", &self.bank_name)
            .field("bank_logo", &self.bank_logo)
            .field("bic", &self.bic)
            .field("connection_type", &self.connection_type)
            .field("provider", &self.provider)
            .field("status", &self.status)
            .field("last_sync", &self.last_sync)
            .field("next_sync", &self.next_sync)
            .field("access_token", &redacted(&self.access_token))
            .field("refresh_token", &redacted(&self.refresh_token))
            .field("token_expiry", &self.token_expiry)
            .field("last_error", &self.last_error)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("consent", &self.consent)
            .field("stats", &self.stats)
            .field("consent_reminded", &self.consent_reminded)
            .finish()
    }
}

impl fmt::Debug for BankAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BankAccount")
            .field("account_id", &self.account_id)
            .field("connection_id", &self.connection_id)
            .field("user_id", &self.user_id)
            .field("account_name", &self.account_name)
            .field("account_type", &self.account_type)
            .field("currency", &self.currency)
            .field("account_number", &redacted(&self.account_number))
            .field("sort_code", &redacted(&self.sort_code))
            .field("iban", &redacted(&self.iban))
            .field("account_number_masked", &self.account_number_masked)
            .field("sort_code_masked", &self.sort_code_masked)
            .field("iban_masked", &self.iban_masked)
            .field("balance", &self.balance)
            .field("status", &self.status)
            .field("is_visible", &self.is_visible)
            .field("provider", &self.provider)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("last_sync_at", &self.last_sync_at)
            .field("transaction_summary", &self.transaction_summary)
            .finish()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::money::Money;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    pub(crate) fn connection() -> BankConnection {
        let at = ts("2025-08-20T10:00:00Z");
        BankConnection {
            connection_id: ConnectionId::new("c-1").unwrap(),
            user_id: UserId::new("u-1").unwrap(),
            bank_name: "Barclays".into(),
            bank_logo: None,
            bic: None,
            connection_type: ConnectionType::OpenBanking,
            provider: Provider::Truelayer,
            status: ConnectionStatus::Active,
            last_sync: None,
            next_sync: None,
            access_token: Some("secret-access-token".into()),
            refresh_token: Some("secret-refresh-token".into()),
            token_expiry: None,
            last_error: None,
            created_at: at,
            updated_at: at,
            consent: Consent { granted_at: at, expires_at: None, permissions: vec![], institution_consent: None },
            stats: ConnectionStats { total_accounts: 0, last_successful_sync: None, sync_count: 0, error_count: 0 },
            consent_reminded: None,
        }
    }

    pub(crate) fn account() -> BankAccount {
        let at = ts("2025-08-20T10:00:00Z");
        BankAccount {
            account_id: AccountId::new("a-1").unwrap(),
            connection_id: ConnectionId::new("c-1").unwrap(),
            user_id: UserId::new("u-1").unwrap(),
            account_name: "Current".into(),
            account_type: AccountType::Checking,
            currency: Currency::gbp(),
            account_number: Some("31926819".into()),
            sort_code: Some("60-16-13".into()),
            iban: Some("GB29NWBK60161331926819".into()),
            account_number_masked: None,
            sort_code_masked: None,
            iban_masked: None,
            balance: Balance { available: Money::ZERO, current: Money::ZERO, overdraft: None, currency: Currency::gbp(), last_updated: at },
            status: AccountStatus::Active,
            is_visible: true,
            provider: AccountProvider { bank_name: "NatWest".into(), display_name: "NatWest".into(), logo: None },
            created_at: at,
            updated_at: at,
            last_sync_at: at,
            transaction_summary: TransactionSummary {
                total_transactions: 0,
                last_transaction_date: None,
                average_monthly_spending: Money::ZERO,
            },
        }
    }

    #[test]
    fn debug_hides_restricted_values() {
        let c = format!("{:?}", connection());
        assert!(!c.contains("secret-") && c.contains("<redacted>") && c.contains("Barclays"), "{c}");
        let a = format!("{:?}", account());
        assert!(!a.contains("31926819") && !a.contains("60-16-13") && !a.contains("NWBK"), "{a}");
    }

    #[test]
    fn masks_are_computed_from_the_plain_values() {
        let mut a = account();
        a.set_masks();
        assert_eq!(a.account_number_masked.as_deref(), Some("****6819"));
        assert_eq!(a.sort_code_masked.as_deref(), Some("**-**-13"));
        assert_eq!(a.iban_masked.as_deref(), Some("GB29****6819"));
        // Read without decryption: the stored masks stay.
        a.account_number = None;
        a.set_masks();
        assert_eq!(a.account_number_masked.as_deref(), Some("****6819"));
    }
}

/// New item: a bank connect request the user started (`POST /banking/connect`),
/// matched by a callback that carries no `state`; deleted when used, and by
/// TTL when its 15 minutes are over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingConnect {
    pub user_id: UserId,
    /// The nonce of the `state` issued with it (it names the connection made).
    pub nonce: String,
    pub redirect_uri: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    #[serde(rename = "TTL")]
    pub ttl: i64,
}

impl PendingConnect {
    /// The longest a request waits for its callback (the state's lifetime).
    pub const MAX_AGE_SECONDS: i64 = 15 * 60;
}

impl Entity for PendingConnect {
    const ENTITY_TYPE: &'static str = "PENDING_CONNECT";
    fn item_key(&self) -> ItemKey {
        ItemKey::PendingConnect(self.user_id.clone(), self.created_at, self.nonce.clone())
    }
}
