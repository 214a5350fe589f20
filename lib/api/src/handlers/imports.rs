//! Imports: `POST /transactions/import-csv` (rows the phone parsed from a CSV
//! file) and `GET /transactions/import-usage` (the monthly quota).
//!
//! Each row is validated on its own: a bad row becomes an entry of `errors[]`
//! and the good ones land. A row's id is deterministic from its content and
//! its source (bank, date, amount, description, and its occurrence among
//! identical rows of the file), so importing the same file twice adds nothing.
//! Rows land through the ledger like any other transaction change (summaries
//! exact), skipping those already stored. An import that adds at least one
//! transaction uses one unit of the user's monthly quota (SystemConfig
//! `importMonthlyLimitFree` / `importMonthlyLimitPremium`), taken before
//! anything is written by a write conditional on the usage item's version.

use crate::edge::Reply;
use crate::error::{ApiError, FieldError};
use crate::handlers::tools::{commit_planned, Planned};
use crate::handlers::transactions::{signed, AppType};
use crate::ledger::{self, Change};
use crate::request::Ctx;
use crate::stores::{ConfigStore, TransactionBatchStore};
use crate::validate::{check_date, check_optional_text, check_text};
use expenzez_domain::category::AppCategory;
use expenzez_domain::entities::*;
use expenzez_domain::ids::{AccountId, SettingName, TransactionId, UserId};
use expenzez_domain::keys::Category;
use expenzez_domain::{merchant, Currency, Money, Timestamp};
use expenzez_store::{Condition, Retry, StoreError, Versioned};
use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

/// Largest import body (a year of a busy account's rows).
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;
/// Most rows one import may hold.
pub const MAX_ROWS: usize = 5000;

/// Monthly imports when SystemConfig sets no limit.
pub const DEFAULT_FREE_LIMIT: u32 = 5;
pub const DEFAULT_PREMIUM_LIMIT: u32 = 100;
pub const FREE_LIMIT_SETTING: &str = "importMonthlyLimitFree";
pub const PREMIUM_LIMIT_SETTING: &str = "importMonthlyLimitPremium";

/// The usage counter and the quota's settings.
pub trait ImportStore: TransactionBatchStore + ConfigStore {
    fn import_usage(
        &self,
        user: &UserId,
        month: expenzez_domain::time::YearMonth,
    ) -> impl Future<Output = Result<Option<Versioned<ImportUsage>>, StoreError>> + Send;
    fn save_import_usage(&self, usage: &ImportUsage, condition: Condition) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

impl ImportStore for expenzez_store::Table {
    async fn import_usage(
        &self,
        user: &UserId,
        month: expenzez_domain::time::YearMonth,
    ) -> Result<Option<Versioned<ImportUsage>>, StoreError> {
        self.get_consistent(&expenzez_domain::keys::ItemKey::ImportUsage(user.clone(), month)).await
    }
    async fn save_import_usage(&self, usage: &ImportUsage, condition: Condition) -> Result<u64, StoreError> {
        self.put(usage, condition).await
    }
}

/// The caller's quota this month.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub tier: &'static str,
    pub used: u32,
    pub limit: u32,
    pub remaining: u32,
    pub premium_limit: u32,
}

async fn limit_setting<S: ConfigStore>(store: &S, name: &str, default: u32) -> Result<u32, ApiError> {
    let name = SettingName::new(name).map_err(|_| ApiError::Internal)?;
    Ok(store
        .setting(&name)
        .await?
        .filter(|s| s.value.is_active)
        .and_then(|s| s.value.value.as_u64())
        .map(|n| n.min(u32::MAX as u64) as u32)
        .unwrap_or(default))
}

async fn usage<S: ImportStore>(store: &S, user: &UserId) -> Result<(Usage, Option<Versioned<ImportUsage>>), ApiError> {
    let free = limit_setting(store, FREE_LIMIT_SETTING, DEFAULT_FREE_LIMIT).await?;
    let premium = limit_setting(store, PREMIUM_LIMIT_SETTING, DEFAULT_PREMIUM_LIMIT).await?;
    let current = store.import_usage(user, store.now().month()).await?;
    let used = current.as_ref().map(|u| u.value.used).unwrap_or(0);
    // Subscriptions do not exist yet: every user is on the free tier.
    let limit = free;
    Ok((Usage { tier: "free", used, limit, remaining: limit.saturating_sub(used), premium_limit: premium }, current))
}

/// `GET /transactions/import-usage`.
pub async fn get_usage<S: ImportStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    Reply::ok(&usage(&store, user).await?.0)
}

fn limit_reached(u: &Usage) -> ApiError {
    ApiError::ForbiddenCode {
        code: "IMPORT_LIMIT_REACHED",
        message: format!("You have used all {} imports of this month; the limit resets on the 1st.", u.limit),
    }
}

/// Takes one unit of this month's quota, or 403 `IMPORT_LIMIT_REACHED`.
async fn reserve<S: ImportStore>(store: &S, user: &UserId) -> Result<(), ApiError> {
    let mut tries = Retry::new(ledger::MAX_ATTEMPTS);
    while tries.next().await {
        let (u, current) = usage(store, user).await?;
        if u.remaining == 0 {
            return Err(limit_reached(&u));
        }
        let now = store.now();
        let (next, condition) = match current {
            Some(c) => (ImportUsage { used: c.value.used + 1, updated_at: now, ..c.value }, Condition::Version(c.version)),
            None => (
                ImportUsage {
                    user_id: user.clone(),
                    month: now.month(),
                    used: 1,
                    updated_at: now,
                    ttl: ttl_after_days(now, ImportUsage::TTL_DAYS),
                },
                Condition::MustNotExist,
            ),
        };
        match store.save_import_usage(&next, condition).await {
            Ok(_) => return Ok(()),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict { code: "VERSION_CONFLICT", message: "Too many imports at once; retry.".into() })
}

/// How a row's category was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CategorySource {
    /// The row's own.
    Row,
    /// The keyword rules ([`merchant::keyword_category`]).
    Keyword,
    /// Nothing matched: `Other`.
    Fallback,
}

/// A row ready to land.
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub transaction: Transaction,
    pub category_source: CategorySource,
}

/// What landing rows did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Landed {
    pub imported: usize,
    pub duplicates: usize,
    pub failed: usize,
    pub keyword_categorized: usize,
}

/// Writes the rows not stored yet through the ledger, after taking one unit
/// of the monthly quota (only when at least one row is new).
pub async fn land<S: ImportStore>(store: &S, user: &UserId, rows: Vec<ImportRow>) -> Result<Landed, ApiError> {
    let mut out = Landed::default();
    let ids: Vec<TransactionId> = rows.iter().map(|r| r.transaction.transaction_id.clone()).collect();
    let stored: BTreeSet<TransactionId> = store.transactions_by_id(user, &ids).await?.into_iter().map(|v| v.value.transaction_id).collect();
    let mut seen = BTreeSet::new();
    let mut fresh = BTreeMap::new();
    for r in rows {
        let id = r.transaction.transaction_id.clone();
        if stored.contains(&id) || !seen.insert(id.clone()) {
            out.duplicates += 1;
        } else {
            fresh.insert(id, r);
        }
    }
    if fresh.is_empty() {
        return Ok(out);
    }
    reserve(store, user).await?;
    let changes = fresh.values().map(|r| Change { before: None, after: Some(r.transaction.clone()) }).collect();
    let committed = commit_planned(store, user, changes, |id, current| match current {
        // Stored meanwhile (the same file imported twice at once): a duplicate.
        Some(_) => Ok(Planned::Unchanged),
        None => Ok(fresh
            .get(id)
            .map(|r| Planned::Write(Box::new(Change { before: None, after: Some(r.transaction.clone()) })))
            .unwrap_or(Planned::Failed)),
    })
    .await?;
    let failed: BTreeSet<&TransactionId> = committed.failed.iter().collect();
    out.imported = committed.written;
    out.duplicates += committed.unchanged;
    out.failed = committed.failed.len();
    out.keyword_categorized = fresh.iter().filter(|(id, r)| !failed.contains(id) && r.category_source == CategorySource::Keyword).count();
    Ok(out)
}

/// An amount in a row: a JSON number, or a string such as `"-1,234.50"` or
/// `"£12.00"`, with at most two decimals; read from its text, never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowMoney(pub Money);

impl<'de> Deserialize<'de> for RowMoney {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let text = raw.get();
        let cleaned = if text.starts_with('"') {
            let s: String = serde_json::from_str(text).map_err(D::Error::custom)?;
            s.trim().replace([',', '£', ' '], "")
        } else {
            text.to_string()
        };
        if !cleaned.starts_with(|c: char| c == '-' || c == '+' || c.is_ascii_digit()) {
            return Err(D::Error::custom("must be a number"));
        }
        Money::parse(cleaned.trim_start_matches('+'))
            .map(RowMoney)
            .map_err(|e| D::Error::custom(format!("must be an amount with at most 2 decimal places ({e})")))
    }
}

/// One row of `POST /transactions/import-csv`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CsvRow {
    /// The phone's own row id, echoed in `errors[]`.
    pub id: Option<serde_json::Value>,
    pub date: String,
    pub description: String,
    pub amount: RowMoney,
    pub original_amount: Option<RowMoney>,
    pub category: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub merchant: Option<String>,
    pub currency: Option<String>,
    pub reference: Option<String>,
}

/// Where the rows come from: `bank{name, id}`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportSource {
    pub name: Option<String>,
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CsvImport {
    pub transactions: Vec<Box<RawValue>>,
    pub bank: Option<ImportSource>,
}

/// One bad row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RowError {
    /// 1-based position in `transactions`.
    pub row: usize,
    pub id: Option<serde_json::Value>,
    pub field: String,
    pub message: String,
}

/// A category the app knows for `text` (the row's category, description or
/// merchant): the app's name for the row's own when it names one (aliases
/// included: a bank's `Eating out` is `Food & Dining`), else the keyword
/// rules, else `Other`. The row's own word is kept as `providerPrimary`.
pub fn choose_category(row_category: Option<&str>, text: &str) -> (Category, CategorySource) {
    // "Uncategorized", "Other" or a name of no category say nothing: the words may.
    if let Some(c) = row_category.and_then(AppCategory::from_name).filter(|c| *c != AppCategory::Other) {
        return (c.category(), CategorySource::Row);
    }
    match merchant::keyword_category(text) {
        Some(c) => (c.category(), CategorySource::Keyword),
        None => (AppCategory::Other.category(), CategorySource::Fallback),
    }
}

/// A `DD/MM/YYYY` (UK CSV) date as `YYYY-MM-DD`; anything else unchanged.
fn iso_date(s: &str) -> String {
    let parts: Vec<&str> = s.trim().split('/').collect();
    match parts.as_slice() {
        [d, m, y] if d.len() <= 2 && m.len() <= 2 && y.len() == 4 => format!("{y}-{m:0>2}-{d:0>2}"),
        _ => s.trim().to_string(),
    }
}

/// The deterministic id of an imported row: the same row of the same source
/// (its `occurrence` among identical rows of the file) always gives the same id.
pub fn row_id(source: &str, account: &AccountId, at: Timestamp, amount: Money, description: &str, occurrence: usize) -> TransactionId {
    let mut h = Sha256::new();
    for part in [at.to_string(), amount.minor().to_string(), description.trim().to_lowercase(), occurrence.to_string()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    TransactionId::deterministic(source, account, &digest)
}

/// Turns valid rows into transactions and bad ones into errors. `source`
/// names the import kind (`csv`, `statement`) in the ids.
pub struct RowBuilder<'a> {
    pub user: &'a UserId,
    pub source: &'static str,
    pub kind: TransactionSource,
    pub account: AccountId,
    pub bank_name: Option<String>,
    pub now: Timestamp,
    occurrences: BTreeMap<(Timestamp, Money, String), usize>,
}

/// The fields of one valid row, before it becomes a transaction.
pub struct RowFields<'a> {
    pub date: &'a str,
    pub description: &'a str,
    pub amount: Money,
    pub original_amount: Option<Money>,
    pub kind: Option<&'a str>,
    pub category: Option<&'a str>,
    pub merchant: Option<&'a str>,
    pub currency: Option<&'a str>,
    pub reference: Option<&'a str>,
}

impl<'a> RowBuilder<'a> {
    pub fn new(user: &'a UserId, source: &'static str, kind: TransactionSource, bank: &ImportSource, now: Timestamp) -> Self {
        let account = bank
            .id
            .as_deref()
            .or(bank.name.as_deref())
            .map(|s| s.trim().to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect::<String>())
            .filter(|s| !s.trim_matches('-').is_empty())
            .and_then(|s| AccountId::new(format!("{source}-{}", s.chars().take(60).collect::<String>())).ok())
            .unwrap_or_else(|| AccountId::new(source).expect("valid"));
        let bank_name = bank.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(|n| n.chars().take(100).collect());
        Self { user, source, kind, account, bank_name, now, occurrences: BTreeMap::new() }
    }

    /// The transaction of one row, or its field errors.
    pub fn build(&mut self, f: RowFields<'_>) -> Result<ImportRow, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = match f.kind.map(|k| k.trim().to_lowercase()) {
            None => None,
            Some(k) if k.is_empty() => None,
            Some(k) if k == "debit" => Some(AppType::Debit),
            Some(k) if k == "credit" => Some(AppType::Credit),
            Some(_) => {
                errors.push(FieldError::new("type", "must be debit or credit"));
                None
            }
        };
        let amount = signed(f.amount, kind);
        if amount.is_zero() {
            errors.push(FieldError::new("amount", "must not be zero"));
        }
        if f.original_amount.is_some_and(|o| o.abs() != amount.abs()) {
            errors.push(FieldError::new("originalAmount", "must equal the absolute amount"));
        }
        let description = check_text(&mut errors, "description", f.description, 200, true);
        let timestamp = check_date(&mut errors, "date", &iso_date(f.date), self.now);
        let merchant_name = check_optional_text(&mut errors, "merchant", f.merchant, 100);
        let reference = check_optional_text(&mut errors, "reference", f.reference, 100);
        let currency = match f.currency.map(str::trim).filter(|c| !c.is_empty()) {
            None => Some(Currency::gbp()),
            Some(c) => Currency::new(c).map_err(|_| errors.push(FieldError::new("currency", "must be a three-letter ISO 4217 code"))).ok(),
        };
        let (Some(timestamp), Some(currency), true) = (timestamp, currency, errors.is_empty()) else {
            return Err(errors);
        };
        let merchant_name = merchant_name.unwrap_or_else(|| description.chars().take(100).collect());
        let (category, category_source) = choose_category(f.category, &format!("{merchant_name} {description}"));
        let occurrence = self.occurrences.entry((timestamp, amount, description.to_lowercase())).or_insert(0);
        let id = row_id(self.source, &self.account, timestamp, amount, &description, *occurrence);
        *occurrence += 1;
        let confidence = match category_source {
            CategorySource::Row => 1.0,
            CategorySource::Keyword => 0.7,
            CategorySource::Fallback => 0.0,
        };
        Ok(ImportRow {
            category_source,
            transaction: Transaction {
                category: TransactionCategory {
                    confidence,
                    provider_primary: f.category.map(|c| c.trim().chars().take(64).collect()).filter(|c: &String| !c.is_empty()),
                    ..TransactionCategory::of(category.clone())
                },
                reference,
                merchant: Some(Merchant::named(merchant_name)),
                created_at: self.now,
                updated_at: self.now,
                bank_name: self.bank_name.clone(),
                source: Some(self.kind),
                provider_transaction_id: Some(id.to_string()),
                ..Transaction::new(self.user.clone(), self.account.clone(), id.clone(), amount, currency, timestamp, description, category)
            },
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CsvSummary {
    total: usize,
    imported: usize,
    duplicates_skipped: usize,
    failed: usize,
    auto_categorized: usize,
    keyword_categorized: usize,
    ai_categorized: usize,
}

#[derive(Debug, Serialize)]
struct CsvBody {
    summary: CsvSummary,
    errors: Vec<RowError>,
}

/// `POST /transactions/import-csv`.
pub async fn import_csv<S: ImportStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let body: CsvImport = ctx.json_within(MAX_IMPORT_BYTES)?;
    if body.transactions.is_empty() || body.transactions.len() > MAX_ROWS {
        return Err(ApiError::validation("transactions", &format!("must hold 1 to {MAX_ROWS} rows")));
    }
    let bank = body.bank.unwrap_or_default();
    let mut builder = RowBuilder::new(&user, "csv", TransactionSource::CsvImport, &bank, store.now());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in body.transactions.iter().enumerate() {
        let row_error = |field: String, message: String, id: Option<serde_json::Value>| RowError { row: i + 1, id, field, message };
        let de = &mut serde_json::Deserializer::from_str(raw.get());
        let row: CsvRow = match serde_path_to_error::deserialize(de) {
            Ok(r) => r,
            Err(e) => {
                let id = serde_json::from_str::<serde_json::Value>(raw.get()).ok().and_then(|v| v.get("id").cloned());
                let field = e.path().to_string();
                let message = e.inner().to_string();
                let message = message.rfind(" at line ").map(|i| message[..i].to_string()).unwrap_or(message);
                errors.push(row_error(if field == "." { "$".into() } else { field }, message, id));
                continue;
            }
        };
        let fields = RowFields {
            date: &row.date,
            description: &row.description,
            amount: row.amount.0,
            original_amount: row.original_amount.map(|o| o.0),
            kind: row.kind.as_deref(),
            category: row.category.as_deref(),
            merchant: row.merchant.as_deref(),
            currency: row.currency.as_deref(),
            reference: row.reference.as_deref(),
        };
        match builder.build(fields) {
            Ok(r) => rows.push(r),
            Err(fe) => errors.extend(fe.into_iter().map(|e| row_error(e.field, e.message, row.id.clone()))),
        }
    }
    let total = body.transactions.len();
    let bad_rows = errors.iter().map(|e| e.row).collect::<BTreeSet<_>>().len();
    let landed = land(&store, &user, rows).await?;
    Reply::ok(&CsvBody {
        summary: CsvSummary {
            total,
            imported: landed.imported,
            duplicates_skipped: landed.duplicates,
            failed: bad_rows + landed.failed,
            auto_categorized: landed.keyword_categorized,
            keyword_categorized: landed.keyword_categorized,
            ai_categorized: 0,
        },
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builder(user: &UserId) -> RowBuilder<'_> {
        let bank = ImportSource { name: Some("Monzo".into()), id: Some("monzo-main".into()) };
        RowBuilder::new(user, "csv", TransactionSource::CsvImport, &bank, Timestamp::parse("2025-09-01T00:00:00Z").unwrap())
    }

    fn fields<'a>(date: &'a str, description: &'a str, minor: i64) -> RowFields<'a> {
        RowFields {
            date,
            description,
            amount: Money::from_minor(minor),
            original_amount: None,
            kind: None,
            category: None,
            merchant: None,
            currency: None,
            reference: None,
        }
    }

    #[test]
    fn ids_are_deterministic_and_identical_rows_stay_apart() {
        let u = UserId::new("u1").unwrap();
        let a = builder(&u).build(fields("2025-08-01", "TESCO STORES 123", -1250)).unwrap();
        let b = builder(&u).build(fields("01/08/2025", "tesco stores 123", -1250)).unwrap();
        assert_eq!(a.transaction.transaction_id, b.transaction.transaction_id, "same row, same source: same id");
        assert_eq!(a.category_source, CategorySource::Keyword);
        assert_eq!(a.transaction.category.primary.as_str(), "Groceries");
        let mut one = builder(&u);
        let x = one.build(fields("2025-08-01", "Coffee", -300)).unwrap();
        let y = one.build(fields("2025-08-01", "Coffee", -300)).unwrap();
        assert_ne!(x.transaction.transaction_id, y.transaction.transaction_id, "two coffees on one day are two rows");
        let other_bank = RowBuilder::new(
            &u,
            "csv",
            TransactionSource::CsvImport,
            &ImportSource::default(),
            Timestamp::parse("2025-09-01T00:00:00Z").unwrap(),
        )
        .build(fields("2025-08-01", "Coffee", -300))
        .unwrap();
        assert_ne!(x.transaction.transaction_id, other_bank.transaction.transaction_id, "the source is part of the id");
    }

    #[test]
    fn row_checks() {
        let u = UserId::new("u1").unwrap();
        let mut b = builder(&u);
        let e = b.build(RowFields { kind: Some("sideways"), ..fields("2025-13-01", "", 0) }).unwrap_err();
        let got: BTreeSet<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(got, BTreeSet::from(["type", "amount", "description", "date"]));
        let r = b.build(RowFields { kind: Some("Debit"), category: Some("Travel"), ..fields("2025-08-02", "Hotel", 9900) }).unwrap();
        assert_eq!((r.transaction.amount.minor(), r.category_source), (-9900, CategorySource::Row));
        let r = b.build(RowFields { category: Some("uncategorized"), ..fields("2025-08-02", "Zzz", 100) }).unwrap();
        assert_eq!((r.transaction.category.primary.as_str(), r.category_source), ("Other", CategorySource::Fallback));
    }

    #[test]
    fn row_money_reads_text() {
        #[derive(Deserialize)]
        struct In {
            a: RowMoney,
        }
        let v = |s: &str| serde_json::from_str::<In>(s).map(|i| i.a.0.minor());
        assert_eq!(v(r#"{"a": -12.34}"#).unwrap(), -1234);
        assert_eq!(v(r#"{"a": "£1,234.50"}"#).unwrap(), 123_450);
        assert_eq!(v(r#"{"a": "+5"}"#).unwrap(), 500);
        assert!(v(r#"{"a": "abc"}"#).is_err());
        assert!(v(r#"{"a": 1.234}"#).is_err());
        assert!(v(r#"{"a": true}"#).is_err());
    }
}
