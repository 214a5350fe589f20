//! The statement routes. Uploads go straight from the app to S3; parsing
//! reads only the caller's own upload; importing reuses the CSV import's path
//! ([`expenzez_api::handlers::imports`]: deterministic ids, duplicates
//! skipped, categories, exact summaries, the monthly quota) and records a
//! [`Statement`] item whose id is a hash of the statement's identity.

use crate::objects::{self, ObjectError};
use crate::parser::ParseError;
use crate::pdf::PdfError;
use crate::routes::Statements;
use crate::ReadError;
use chrono::{Datelike, NaiveDate};
use expenzez_api::edge::Reply;
use expenzez_api::error::{ApiError, FieldError};
use expenzez_api::handlers::imports::{self, choose_category, ImportSource, RowBuilder, RowError, MAX_IMPORT_BYTES, MAX_ROWS};
use expenzez_api::json::Amount;
use expenzez_api::request::Ctx;
use expenzez_domain::entities::{Statement, TransactionSource};
use expenzez_domain::ids::{StatementId, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::time::YearMonth;
use expenzez_domain::{mask, Timestamp};
use expenzez_store::{Condition, Query};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UploadRequest {
    /// The file's size, when the app says: the URL is then signed for exactly it.
    #[serde(default, deserialize_with = "expenzez_api::request::whole")]
    content_length: Option<u64>,
    filename: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UploadUrl {
    upload_url: String,
    key: String,
    method: &'static str,
    content_type: &'static str,
    max_bytes: u64,
    expires_in: u64,
}

fn unavailable(e: ObjectError) -> ApiError {
    tracing::warn!(error = %e, "statement bucket unavailable");
    ApiError::Unavailable { retry_after: 2 }
}

/// `POST /transactions/statement-upload-url`: `{uploadUrl, key}`.
pub async fn upload_url(s: Statements, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let body: UploadRequest = ctx.json()?;
    if let Some(n) = body.content_length {
        if n == 0 || n > objects::MAX_BYTES {
            return Err(ApiError::validation("contentLength", &format!("must be 1 to {} bytes", objects::MAX_BYTES)));
        }
    }
    let _ = body.filename;
    let key = objects::new_key(&user);
    let upload_url = s.objects.upload_url(&key, body.content_length).await.map_err(unavailable)?;
    Reply::ok(&UploadUrl {
        upload_url,
        key,
        method: "PUT",
        content_type: objects::CONTENT_TYPE,
        max_bytes: objects::MAX_BYTES,
        expires_in: objects::UPLOAD_URL_TTL.as_secs(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ParseRequest {
    s3_key: String,
    filename: Option<String>,
}

/// The statement as the app shows it for review and sends back to import.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementHead {
    pub issuer: String,
    pub account_identifier: String,
    pub period_start: String,
    pub period_end: String,
    pub filename: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ParsedHead {
    #[serde(flatten)]
    head: StatementHead,
    statement_id: String,
    transaction_count: usize,
    opening_balance: Option<Amount>,
    closing_balance: Option<Amount>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ParsedRowView {
    date: String,
    merchant: String,
    description: String,
    amount: Amount,
    #[serde(rename = "type")]
    kind: &'static str,
    category: String,
}

#[derive(Debug, Serialize)]
struct Parsed {
    statement: ParsedHead,
    transactions: Vec<ParsedRowView>,
}

fn unprocessable(code: &'static str, message: String) -> ApiError {
    ApiError::Unprocessable { code, message }
}

fn read_error(e: ReadError) -> ApiError {
    match e {
        ReadError::Pdf(PdfError::NotPdf) => unprocessable("NOT_A_PDF", "The uploaded file is not a PDF.".into()),
        ReadError::Pdf(PdfError::Encrypted) => {
            unprocessable("ENCRYPTED_PDF", "The PDF is password-protected; download the statement again without a password.".into())
        }
        ReadError::Pdf(PdfError::Unreadable) => unprocessable("UNREADABLE_PDF", "The PDF could not be read.".into()),
        ReadError::Parse(e @ (ParseError::Unrecognised | ParseError::UnknownLayout { .. })) => {
            unprocessable("UNRECOGNISED_STATEMENT", format!("{e}. Import it as a CSV file instead."))
        }
        ReadError::Parse(e) => unprocessable("STATEMENT_UNREADABLE", format!("{e}.")),
    }
}

/// A filename as the app sent it, at most 200 characters of text.
fn clean_filename(f: Option<&str>) -> Option<String> {
    let f: String = f?.chars().filter(|c| !c.is_control()).take(200).collect();
    let f = f.trim().to_string();
    (!f.is_empty()).then_some(f)
}

/// The statement's id: a hash of its identity (issuer, masked account,
/// period), so the same statement, uploaded again, has the same id.
pub fn statement_id(issuer: &str, account: &str, start: NaiveDate, end: NaiveDate) -> StatementId {
    let mut h = Sha256::new();
    for part in [issuer.trim().to_lowercase(), account.to_string(), start.to_string(), end.to_string()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    StatementId::new(hex::encode(&h.finalize()[..16])).expect("hex is a valid id")
}

/// `POST /transactions/parse-statement`: reads the caller's own upload.
pub async fn parse(s: Statements, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let body: ParseRequest = ctx.json()?;
    // Another user's key, or any other shape, is not read: 404 as a missing object.
    let key = objects::own_key(&user, body.s3_key.trim()).ok_or(ApiError::NotFound)?;
    let bytes = match s.objects.read(&key).await {
        Ok(b) => b,
        Err(ObjectError::NotFound) => {
            return Err(ApiError::NotFoundCode { code: "STATEMENT_NOT_FOUND", message: "No uploaded statement has this key.".into() })
        }
        Err(ObjectError::TooLarge) => return Err(ApiError::PayloadTooLarge),
        Err(e) => return Err(unavailable(e)),
    };
    let parsed =
        tokio::task::spawn_blocking(move || crate::parse_pdf(&bytes)).await.map_err(|_| ApiError::Internal)?.map_err(read_error)?;
    let head = StatementHead {
        issuer: parsed.bank.to_string(),
        account_identifier: parsed.account_identifier.clone(),
        period_start: parsed.period_start.to_string(),
        period_end: parsed.period_end.to_string(),
        filename: clean_filename(body.filename.as_deref()),
    };
    let transactions = parsed
        .rows
        .iter()
        .map(|r| {
            let (category, _) = choose_category(None, &r.description);
            ParsedRowView {
                date: r.date.to_string(),
                merchant: r.description.chars().take(100).collect(),
                description: r.description.clone(),
                amount: Amount(r.amount),
                kind: if r.amount.is_negative() { "debit" } else { "credit" },
                category: category.to_string(),
            }
        })
        .collect();
    Reply::ok(&Parsed {
        statement: ParsedHead {
            statement_id: statement_id(parsed.bank, &parsed.account_identifier, parsed.period_start, parsed.period_end).to_string(),
            transaction_count: parsed.rows.len(),
            opening_balance: parsed.opening_balance.map(Amount),
            closing_balance: parsed.closing_balance.map(Amount),
            head,
        },
        transactions,
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ImportRequest {
    transactions: Vec<Box<RawValue>>,
    statement: StatementHead,
}

/// The statements list's item.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementView {
    statement_id: String,
    bank_name: String,
    account_identifier: String,
    period_month: String,
    period_start: String,
    period_end: String,
    transaction_count: u32,
    imported_count: u32,
    filename: Option<String>,
    uploaded_at: Timestamp,
}

impl From<&Statement> for StatementView {
    fn from(s: &Statement) -> Self {
        Self {
            statement_id: s.statement_id.to_string(),
            bank_name: s.bank_name.clone(),
            account_identifier: s.account_identifier.clone(),
            period_month: s.period_month.to_string(),
            period_start: s.period_start.to_string(),
            period_end: s.period_end.to_string(),
            transaction_count: s.transaction_count,
            imported_count: s.imported_count,
            filename: s.filename.clone(),
            uploaded_at: s.uploaded_at,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ImportSummary {
    total: usize,
    imported: usize,
    duplicates_skipped: usize,
    failed: usize,
    keyword_categorized: usize,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Imported {
    summary: ImportSummary,
    statement: StatementView,
    already_imported: bool,
    errors: Vec<RowError>,
}

/// An account identifier as stored: already masked (`****5678`) is kept,
/// anything else is masked.
fn masked(account: &str) -> String {
    let a = account.trim();
    let stars = a.chars().take_while(|c| *c == '*').count();
    let tail = &a[stars..];
    if stars >= 2 && tail.len() <= 4 && tail.chars().all(|c| c.is_ascii_alphanumeric()) {
        format!("****{tail}")
    } else {
        mask::account_number(a)
    }
}

fn check_head(h: &StatementHead) -> Result<(String, String, NaiveDate, NaiveDate), ApiError> {
    let mut errors = Vec::new();
    let issuer: String = h.issuer.trim().chars().filter(|c| !c.is_control()).collect();
    if issuer.is_empty() || issuer.chars().count() > 100 {
        errors.push(FieldError::new("statement.issuer", "must be 1 to 100 characters"));
    }
    if h.account_identifier.trim().is_empty() || h.account_identifier.chars().count() > 64 {
        errors.push(FieldError::new("statement.accountIdentifier", "must be 1 to 64 characters"));
    }
    let date = |errors: &mut Vec<FieldError>, field: &str, v: &str| {
        let d = expenzez_domain::time::parse_date(v);
        if d.is_none() {
            errors.push(FieldError::new(field, "must be a date YYYY-MM-DD"));
        }
        d
    };
    let start = date(&mut errors, "statement.periodStart", &h.period_start);
    let end = date(&mut errors, "statement.periodEnd", &h.period_end);
    match (start, end) {
        (Some(s), Some(e)) if errors.is_empty() && s <= e && (e - s).num_days() <= 400 => Ok((issuer, masked(&h.account_identifier), s, e)),
        (Some(_), Some(_)) if errors.is_empty() => {
            Err(ApiError::validation("statement.periodEnd", "must be on or after periodStart, within 400 days"))
        }
        _ => Err(ApiError::Validation(errors)),
    }
}

/// `POST /transactions/import-statement`: the reviewed rows, landed like a CSV
/// file's, and the statement recorded (or recognised: `alreadyImported`).
pub async fn import(s: Statements, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let body: ImportRequest = ctx.json_within(MAX_IMPORT_BYTES)?;
    let (issuer, account, start, end) = check_head(&body.statement)?;
    if body.transactions.is_empty() || body.transactions.len() > MAX_ROWS {
        return Err(ApiError::validation("transactions", &format!("must hold 1 to {MAX_ROWS} rows")));
    }
    let id = statement_id(&issuer, &account, start, end);
    let table = &s.table;
    let existing = table.get_consistent::<Statement>(&ItemKey::Statement(user.clone(), id.clone())).await?;
    let source = ImportSource { name: Some(issuer.clone()), id: Some(format!("{issuer} {account}")) };
    let mut builder = RowBuilder::new(&user, "statement", TransactionSource::StatementImport, &source, table.now());
    let (rows, errors) = imports::build_rows(&mut builder, &body.transactions);
    let total = body.transactions.len();
    let bad_rows = errors.iter().map(|e| e.row).collect::<std::collections::BTreeSet<_>>().len();
    let landed = imports::land(table, &user, rows).await?;
    let summary = ImportSummary {
        total,
        imported: landed.imported,
        duplicates_skipped: landed.duplicates,
        failed: bad_rows + landed.failed,
        keyword_categorized: landed.keyword_categorized,
    };
    let (statement, already_imported) = match existing {
        Some(v) => (v.value, true),
        None => {
            let statement = Statement {
                statement_id: id,
                user_id: user.clone(),
                bank_name: issuer,
                account_identifier: account,
                period_start: start,
                period_end: end,
                period_month: YearMonth { year: end.year(), month: end.month() },
                transaction_count: (landed.imported + landed.duplicates) as u32,
                imported_count: landed.imported as u32,
                filename: clean_filename(body.statement.filename.as_deref()),
                uploaded_at: table.now(),
            };
            if landed.imported + landed.duplicates == 0 {
                // Nothing of it landed: not recorded, so a corrected import is not taken for a repeat.
                (statement, false)
            } else {
                match table.put_live(&user, &statement, Condition::MustNotExist).await {
                    Ok(_) => (statement, false),
                    // The same statement imported at the same moment: that one is recorded.
                    Err(e) if e.is_conflict() => (statement, true),
                    Err(e) => return Err(e.into()),
                }
            }
        }
    };
    Reply::ok(&Imported { summary, statement: StatementView::from(&statement), already_imported, errors })
}

/// `GET /transactions/statements`: newest period first.
pub async fn list(s: Statements, ctx: Ctx) -> Result<Reply, ApiError> {
    let user: UserId = ctx.user()?.clone();
    let q = Query::table(user.as_str(), keys::user_pk(&user)).begins_with(keys::prefix::STATEMENT);
    let mut statements: Vec<Statement> = s.table.query_all_as(&q).await?;
    statements.sort_by(|a, b| b.period_end.cmp(&a.period_end).then(b.uploaded_at.cmp(&a.uploaded_at)));
    let views: Vec<StatementView> = statements.iter().map(StatementView::from).collect();
    Reply::ok(&serde_json::json!({ "statements": views }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_masks() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let a = statement_id("Barclays", "****6819", d("2025-08-01"), d("2025-08-31"));
        assert_eq!(a, statement_id(" barclays", "****6819", d("2025-08-01"), d("2025-08-31")));
        assert_ne!(a, statement_id("Barclays", "****6818", d("2025-08-01"), d("2025-08-31")));
        assert_ne!(a, statement_id("Barclays", "****6819", d("2025-09-01"), d("2025-09-30")));
        assert_eq!(masked("****6819"), "****6819");
        assert_eq!(masked("31926819"), "****6819");
        assert_eq!(masked("20-32-06 31926819"), "****6819");
    }
}
