use super::Entity;
use crate::ids::{StatementId, UserId};
use crate::keys::ItemKey;
use crate::time::{Timestamp, YearMonth};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// New item: the imports (CSV files and statements that added transactions) a
/// user made in one calendar month (UTC). The monthly quota is enforced by a
/// write conditional on the version read, so two imports racing for the last
/// unit cannot both get it. Kept about a year (TTL), for the usage history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportUsage {
    pub user_id: UserId,
    pub month: YearMonth,
    pub used: u32,
    pub updated_at: Timestamp,
    #[serde(rename = "TTL")]
    pub ttl: i64,
}

impl ImportUsage {
    pub const TTL_DAYS: i64 = 400;
}

impl Entity for ImportUsage {
    const ENTITY_TYPE: &'static str = "IMPORT_USAGE";
    fn item_key(&self) -> ItemKey {
        ItemKey::ImportUsage(self.user_id.clone(), self.month)
    }
}

/// New item: a bank statement imported from a PDF. Its id is a hash of the
/// statement's identity (issuer, account, period), so the same statement
/// imported again is recognised (`alreadyImported`).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    pub statement_id: StatementId,
    pub user_id: UserId,
    /// The issuing bank ("Barclays").
    pub bank_name: String,
    /// The account as printed, masked (`****1234`).
    pub account_identifier: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// `YYYY-MM` of the period's end (the statements screen groups by it).
    pub period_month: YearMonth,
    pub transaction_count: u32,
    /// Rows written (the others were already stored).
    pub imported_count: u32,
    pub filename: Option<String>,
    pub uploaded_at: Timestamp,
}

impl Entity for Statement {
    const ENTITY_TYPE: &'static str = "STATEMENT";
    fn item_key(&self) -> ItemKey {
        ItemKey::Statement(self.user_id.clone(), self.statement_id.clone())
    }
}
