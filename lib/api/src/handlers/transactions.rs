//! `GET /transactions` (GSI2 by date, GSI3 by category), `POST /transactions`,
//! `GET|PUT|DELETE /transactions/{id}`, in the app's shapes.

use crate::edge::{if_match, Reply};
use crate::error::{ApiError, FieldError};
use crate::idempotency::Idempotency;
use crate::json::{Amount, JsonMoney};
use crate::ledger;
use crate::request::Ctx;
use crate::stores::{LedgerStore, TransactionListStore};
use crate::validate::{check_date, check_optional_text, check_text};
use expenzez_domain::category;
use expenzez_domain::cursor::{self, CursorScope, Position};
use expenzez_domain::entities::*;
use expenzez_domain::ids::{AccountId, TransactionId, UserId};
use expenzez_domain::keys::{self, gsi2_range, gsi3_category_prefix, gsi3_category_range, Category, Index};
use expenzez_domain::{time, Currency, Money, Timestamp};
use expenzez_store::Query;
use serde::{Deserialize, Serialize};

/// Largest `limit` of `GET /transactions`: the app asks for up to 18,000 and
/// several screens never follow `nextKey`, so one response carries as many
/// as fit in [`MAX_RESPONSE_BYTES`], read page by page inside the function.
pub const MAX_PAGE: u32 = 20_000;
pub const DEFAULT_PAGE: u32 = 100;
/// What one response's transactions may take: Lambda's 6 MB response payload
/// (6,291,456 bytes) holds the body as an escaped JSON string inside the
/// proxy envelope; the rest is headroom for the summary, headers and envelope.
pub const MAX_RESPONSE_BYTES: usize = 6_000_000;

/// A transaction as the app sees it (APP-CONTRACT "Transactions").
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    pub id: String,
    pub amount: Amount,
    pub original_amount: Amount,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub date: Timestamp,
    pub category: String,
    pub description: String,
    pub merchant: String,
    pub currency: String,
    pub account_id: String,
    pub bank_name: Option<String>,
    pub account_type: Option<String>,
    pub is_pending: bool,
    pub tags: Vec<String>,
    pub exclude_from_spend: bool,
}

/// The app's `type`: by the sign of the amount.
pub fn app_type(amount: Money) -> &'static str {
    if amount.is_negative() {
        "debit"
    } else {
        "credit"
    }
}

impl From<&Transaction> for TransactionView {
    fn from(t: &Transaction) -> Self {
        Self {
            id: t.transaction_id.to_string(),
            amount: Amount(t.amount),
            original_amount: Amount(t.amount.abs()),
            kind: app_type(t.amount),
            date: t.timestamp,
            category: t.category.primary.to_string(),
            description: t.description.clone(),
            merchant: t.merchant.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
            currency: t.currency.to_string(),
            account_id: t.account_id.to_string(),
            bank_name: t.bank_name.clone(),
            account_type: t.account_type.clone(),
            is_pending: t.is_pending,
            tags: t.tags.clone().unwrap_or_default(),
            exclude_from_spend: t.exclude_from_spend,
        }
    }
}

#[derive(Serialize)]
struct One<'a> {
    transaction: &'a TransactionView,
}

fn id_param(ctx: &Ctx) -> Result<TransactionId, ApiError> {
    // An id that cannot exist is simply not found (never a hint about others' data).
    ctx.path("id").and_then(|s| TransactionId::new(s).ok()).ok_or(ApiError::NotFound)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppType {
    Debit,
    Credit,
}

fn check_tags(errors: &mut Vec<FieldError>, tags: &Option<Vec<String>>) -> Option<Vec<String>> {
    let tags = tags.as_ref()?;
    if tags.len() > 20 || tags.iter().any(|t| t.trim().is_empty() || t.chars().count() > 30) {
        errors.push(FieldError::new("tags", "at most 20 tags of 1 to 30 characters"));
    }
    Some(tags.iter().map(|t| t.trim().to_string()).collect())
}

/// The signed amount: `type` wins over the sign when both are given (the app
/// may send a positive amount with `type: debit`).
pub(crate) fn signed(amount: Money, kind: Option<AppType>) -> Money {
    match kind {
        Some(AppType::Debit) => -amount.abs(),
        Some(AppType::Credit) => amount.abs(),
        None => amount,
    }
}

/// `POST /transactions` body (manual entry).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTransaction {
    pub amount: JsonMoney,
    pub original_amount: Option<JsonMoney>,
    pub description: String,
    pub category: String,
    #[serde(rename = "type")]
    pub kind: Option<AppType>,
    pub date: Option<String>,
    pub merchant: Option<String>,
    pub currency: Option<String>,
    pub account_id: Option<String>,
    pub bank_name: Option<String>,
    pub account_type: Option<String>,
    pub tags: Option<Vec<String>>,
    pub is_pending: Option<bool>,
    pub exclude_from_spend: Option<bool>,
}

impl NewTransaction {
    pub fn into_transaction(self, user: &UserId, id: TransactionId, now: Timestamp) -> Result<Transaction, ApiError> {
        let mut errors = Vec::new();
        let amount = signed(self.amount.0, self.kind);
        if amount.is_zero() {
            errors.push(FieldError::new("amount", "must not be zero"));
        }
        let description = check_text(&mut errors, "description", &self.description, 200, true);
        let category = category::parse(&self.category).map_err(|e| errors.push(FieldError::new("category", e.to_string()))).ok();
        let timestamp = match &self.date {
            Some(d) => check_date(&mut errors, "date", d, now),
            None => Some(now),
        };
        let merchant = check_optional_text(&mut errors, "merchant", self.merchant.as_deref(), 100);
        let currency = match self.currency.as_deref() {
            None => Some(Currency::gbp()),
            Some(c) => Currency::new(c).map_err(|_| errors.push(FieldError::new("currency", "must be a three-letter ISO 4217 code"))).ok(),
        };
        let account_id = match self.account_id.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            None => AccountId::new("manual").ok(),
            Some(a) => AccountId::new(a).map_err(|e| errors.push(FieldError::new("accountId", e.to_string()))).ok(),
        };
        let bank_name = self.bank_name.as_deref().map(|b| check_text(&mut errors, "bankName", b, 100, false));
        let account_type = self.account_type.as_deref().map(|b| check_text(&mut errors, "accountType", b, 50, false));
        let tags = check_tags(&mut errors, &self.tags);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let (Some(category), Some(timestamp), Some(currency), Some(account_id)) = (category, timestamp, currency, account_id) else {
            return Err(ApiError::Internal);
        };
        let mut t = Transaction {
            merchant: merchant.map(Merchant::named),
            created_at: now,
            updated_at: now,
            tags,
            is_pending: self.is_pending.unwrap_or(false),
            exclude_from_spend: self.exclude_from_spend.unwrap_or(false),
            bank_name,
            account_type,
            source: Some(TransactionSource::Manual),
            ..Transaction::new(user.clone(), account_id, id, amount, currency, timestamp, description, category)
        };
        t.category.user_modified = true;
        Ok(t)
    }
}

pub async fn create<S: LedgerStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let idem = Idempotency::of(&ctx)?;
    if let Some(reply) = idem.replay(&store, &user).await? {
        return Ok(reply);
    }
    let body: NewTransaction = ctx.json()?;
    let now = store.now();
    let txn = body.into_transaction(&user, TransactionId::random(), now)?;
    let reply = Reply::created(&One { transaction: &TransactionView::from(&txn) })?.etag(1);
    // The record commits with the transaction: both or neither.
    let extra = idem.record_action(&user, &reply, now)?;
    let id = txn.transaction_id.clone();
    // Every attempt writes the same new transaction (a lost race is retried with it).
    match ledger::apply(&store, &user, &id, None, extra, |_| Ok(Some(txn.clone()))).await {
        Ok(_) => Ok(reply),
        // A concurrent retry with the same key won: answer what it answered.
        Err(e) => idem.replay(&store, &user).await?.ok_or(e),
    }
}

pub async fn get<S: LedgerStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let id = id_param(&ctx)?;
    let found = store.transaction(user, &id, false).await?.ok_or(ApiError::NotFound)?;
    Ok(Reply::ok(&One { transaction: &TransactionView::from(&found.value) })?.etag(found.version))
}

/// `PUT /transactions/{id}` body: any of these.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransactionUpdate {
    pub merchant: Option<String>,
    pub description: Option<String>,
    pub amount: Option<JsonMoney>,
    pub original_amount: Option<JsonMoney>,
    pub category: Option<String>,
    pub date: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<AppType>,
    pub exclude_from_spend: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub is_pending: Option<bool>,
}

impl TransactionUpdate {
    pub fn apply(&self, t: &mut Transaction, now: Timestamp) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        let amount = match (self.amount, self.kind) {
            (Some(a), kind) => signed(a.0, kind),
            (None, kind) => signed(t.amount, kind),
        };
        if amount.is_zero() {
            errors.push(FieldError::new("amount", "must not be zero"));
        }
        let description = self.description.as_deref().map(|d| check_text(&mut errors, "description", d, 200, true));
        let merchant = self.merchant.as_deref().map(|m| check_text(&mut errors, "merchant", m, 100, false));
        let category = self
            .category
            .as_deref()
            .and_then(|c| category::parse(c).map_err(|e| errors.push(FieldError::new("category", e.to_string()))).ok());
        let date = self.date.as_deref().and_then(|d| check_date(&mut errors, "date", d, now));
        let tags = check_tags(&mut errors, &self.tags);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        t.amount = amount;
        t.transaction_type = if amount.is_negative() { TransactionType::Debit } else { TransactionType::Credit };
        if let Some(d) = description {
            t.description = d;
        }
        if let Some(m) = merchant {
            t.merchant = if m.is_empty() { None } else { Some(Merchant { name: m, category: None, logo: None, location: None }) };
        }
        if let Some(c) = category {
            if c != t.category.primary {
                // The user's category wins over the provider's from now on.
                t.category.primary = c;
                t.category.user_modified = true;
                t.category.confidence = 1.0;
            }
        }
        if let Some(d) = date {
            t.timestamp = d;
        }
        if let Some(x) = self.exclude_from_spend {
            t.exclude_from_spend = x;
        }
        if let Some(p) = self.is_pending {
            t.is_pending = p;
        }
        if tags.is_some() {
            t.tags = tags;
        }
        t.updated_at = now;
        Ok(())
    }
}

pub async fn update<S: LedgerStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let id = id_param(&ctx)?;
    let patch: TransactionUpdate = ctx.json()?;
    let expected = match if_match(&ctx) {
        Some(Some(v)) => Some(v),
        Some(None) => return Err(ApiError::PreconditionFailed),
        None => None,
    };
    let now = store.now();
    let written = ledger::apply(&store, &user, &id, expected, Vec::new(), |current| {
        let mut t = current.cloned().ok_or(ApiError::NotFound)?;
        patch.apply(&mut t, now)?;
        Ok(Some(t))
    })
    .await?
    .ok_or(ApiError::Internal)?;
    Ok(Reply::ok(&One { transaction: &TransactionView::from(&written.value) })?.etag(written.version))
}

#[derive(Serialize)]
struct Deleted<'a> {
    success: bool,
    id: &'a str,
}

pub async fn delete<S: LedgerStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let id = id_param(&ctx)?;
    let expected = match if_match(&ctx) {
        Some(Some(v)) => Some(v),
        Some(None) => return Err(ApiError::PreconditionFailed),
        None => None,
    };
    ledger::apply(&store, &user, &id, expected, Vec::new(), |current| match current {
        Some(_) => Ok(None),
        None => Err(ApiError::NotFound),
    })
    .await?;
    Reply::ok(&Deleted { success: true, id: id.as_str() })
}

/// What `GET /transactions` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub category: Option<Category>,
    pub kind: Option<AppType>,
    pub limit: u32,
    pub start_key: Option<String>,
    /// Only transactions that came from a connected bank (`GET /banking/transactions`).
    pub bank_only: bool,
}

/// What `nextKey` is bound to: the caller, and this route (the filters and
/// the store's own cursor travel inside it, authenticated).
const LIST_CURSOR_QUERY: &str = "GET /transactions";

fn bad_start_key(message: &str) -> ApiError {
    ApiError::BadRequest { code: "INVALID_START_KEY", message: message.into() }
}

impl ListRequest {
    pub fn parse(ctx: &Ctx) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let date = |errors: &mut Vec<FieldError>, name: &str| {
            // Keys hold fixed-width UTC timestamps from 1970 to 9999 (SPEC §3).
            ctx.query(name).and_then(|s| match time::parse_date(&s) {
                Some(d) if (1970..=9999).contains(&chrono::Datelike::year(&d)) => Some(d),
                _ => {
                    errors.push(FieldError::new(name, "must be a date, YYYY-MM-DD (or MM/DD/YYYY), from 1970-01-01 to 9999-12-31"));
                    None
                }
            })
        };
        let from = date(&mut errors, "startDate").map(Timestamp::start_of_day);
        let to = date(&mut errors, "endDate").map(Timestamp::end_of_day);
        let category = ctx
            .query("category")
            .filter(|c| !c.trim().is_empty() && c != "all")
            // Case-insensitive, through the aliases: `transport` finds `Transportation`.
            .and_then(|c| category::parse(&c).map_err(|e| errors.push(FieldError::new("category", e.to_string()))).ok());
        let kind = ctx.query("type").filter(|t| t != "all").and_then(|t| match t.as_str() {
            "debit" => Some(AppType::Debit),
            "credit" => Some(AppType::Credit),
            _ => {
                errors.push(FieldError::new("type", "must be debit or credit"));
                None
            }
        });
        let limit = match ctx.query("limit") {
            None => DEFAULT_PAGE,
            Some(l) => match l.parse::<u32>() {
                // The app asks for up to thousands; each page is capped, `nextKey` gives the rest.
                Ok(n) if n >= 1 => n.min(MAX_PAGE),
                _ => {
                    errors.push(FieldError::new("limit", format!("must be a whole number from 1 (pages hold at most {MAX_PAGE})")));
                    DEFAULT_PAGE
                }
            },
        };
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(Self { from, to, category, kind, limit, start_key: ctx.query("startKey").filter(|s| !s.is_empty()), bank_only: false })
    }

    fn has_filters(&self) -> bool {
        self.from.is_some() || self.to.is_some() || self.category.is_some() || self.kind.is_some()
    }

    /// The filters as they travel inside a `nextKey`.
    fn filter_position(&self) -> Position {
        let mut p = Position::new();
        if let Some(f) = self.from {
            p.insert("from".into(), f.to_string());
        }
        if let Some(t) = self.to {
            p.insert("to".into(), t.to_string());
        }
        if let Some(c) = &self.category {
            p.insert("category".into(), c.to_string());
        }
        match self.kind {
            Some(AppType::Debit) => p.insert("type".into(), "debit".into()),
            Some(AppType::Credit) => p.insert("type".into(), "credit".into()),
            None => None,
        };
        p
    }

    /// The app's `nextKey`: the store's cursor and this request's filters,
    /// sealed for `user`.
    pub fn next_key(&self, key: &cursor::CursorKey, user: &UserId, store_cursor: &str) -> String {
        let mut p = self.filter_position();
        p.insert("key".into(), store_cursor.to_string());
        if self.bank_only {
            p.insert("source".into(), "bank".into());
        }
        cursor::seal(key, CursorScope { owner: user.as_str(), query: LIST_CURSOR_QUERY }, &p)
    }

    /// Opens `startKey` (if any): a key alone continues the query it was
    /// issued for (its filters are taken from it); a key sent with filters
    /// must have been issued for exactly those (else 400). Returns the
    /// store's cursor to continue from.
    pub fn continue_from(&mut self, key: &cursor::CursorKey, user: &UserId) -> Result<Option<String>, ApiError> {
        let Some(token) = &self.start_key else { return Ok(None) };
        let invalid = || bad_start_key("startKey is not valid for this request");
        let mut p = cursor::open(key, CursorScope { owner: user.as_str(), query: LIST_CURSOR_QUERY }, token).map_err(|_| invalid())?;
        let store_cursor = p.remove("key").ok_or_else(invalid)?;
        // A key of the bank list continues only the bank list, and the other way round.
        if p.remove("source").is_some() != self.bank_only {
            return Err(invalid());
        }
        if self.has_filters() {
            if self.filter_position() != p {
                return Err(bad_start_key("startKey belongs to a query with other filters; send it alone or with the same filters"));
            }
        } else {
            let ts = |k: &str| p.get(k).map(|v| Timestamp::parse(v).map_err(|_| invalid())).transpose();
            self.from = ts("from")?;
            self.to = ts("to")?;
            self.category = p.get("category").map(|c| Category::new(c).map_err(|_| invalid())).transpose()?;
            self.kind = match p.get("type").map(String::as_str) {
                None => None,
                Some("debit") => Some(AppType::Debit),
                Some("credit") => Some(AppType::Credit),
                Some(_) => return Err(invalid()),
            };
        }
        Ok(Some(store_cursor))
    }

    /// The GSI3 query for a category, else the GSI2 query; newest first.
    pub fn query(&self, user: &UserId) -> Query {
        // The type filter is part of what a cursor is bound to.
        let mut owner = match self.kind {
            None => user.to_string(),
            Some(AppType::Debit) => format!("{user}|debit"),
            Some(AppType::Credit) => format!("{user}|credit"),
        };
        if self.bank_only {
            owner.push_str("|bank");
        }
        let pk = keys::user_pk(user);
        let q = match &self.category {
            Some(c) => {
                let q = Query::index(owner, Index::Gsi3, pk);
                match (self.from, self.to) {
                    (None, None) => q.begins_with(gsi3_category_prefix(c)),
                    (f, t) => {
                        let (lo, hi) = gsi3_category_range(c, f, t);
                        q.between(lo, hi)
                    }
                }
            }
            None => {
                let q = Query::index(owner, Index::Gsi2, pk);
                match (self.from, self.to) {
                    (None, None) => q,
                    (f, t) => {
                        let (lo, hi) = gsi2_range(
                            f.unwrap_or_else(|| Timestamp::from_millis(0).expect("epoch")),
                            t.unwrap_or_else(|| Timestamp::parse("9999-12-31T23:59:59.999Z").expect("literal")),
                        );
                        q.between(lo, hi)
                    }
                }
            }
        };
        q.descending()
    }

    fn matches(&self, t: &Transaction) -> bool {
        let kind = match self.kind {
            None => true,
            Some(AppType::Debit) => t.amount.is_negative(),
            Some(AppType::Credit) => !t.amount.is_negative(),
        };
        kind && (!self.bank_only || matches!(t.source, Some(TransactionSource::Truelayer)))
    }
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageSummary {
    pub total_amount: Amount,
    pub credit_total: Amount,
    pub debit_total: Amount,
    pub count: usize,
}

impl PageSummary {
    pub fn of<'a>(txns: impl IntoIterator<Item = &'a Transaction>) -> Result<Self, ApiError> {
        let mut s = PageSummary::default();
        let overflow = || ApiError::Internal;
        for t in txns {
            s.count += 1;
            s.total_amount = Amount(s.total_amount.0.checked_add(t.amount).ok_or_else(overflow)?);
            if t.amount.is_negative() {
                s.debit_total = Amount(s.debit_total.0.checked_add(t.amount.abs()).ok_or_else(overflow)?);
            } else {
                s.credit_total = Amount(s.credit_total.0.checked_add(t.amount).ok_or_else(overflow)?);
            }
        }
        Ok(s)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody {
    transactions: Vec<TransactionView>,
    next_key: Option<String>,
    summary: PageSummary,
}

/// Rounds of DynamoDB pages (at most 1,000 items each) one request may read.
const MAX_ROUNDS: usize = 40;

/// The bytes a view adds to the response as the proxy envelope carries it
/// (quotes and backslashes are escaped once more), with its comma.
fn wire_size(v: &TransactionView) -> Result<usize, ApiError> {
    let json = serde_json::to_string(v).map_err(|_| ApiError::Internal)?;
    Ok(json.len() + json.bytes().filter(|b| *b == b'"' || *b == b'\\').count() + 1)
}

/// Where a query stands just after `t`: the key attributes DynamoDB's
/// `LastEvaluatedKey` would hold there (the table key and the index's).
fn position_after(q: &Query, t: &Transaction) -> Position {
    use expenzez_domain::entities::Entity;
    let key = t.item_key().key();
    let mut p = Position::from([(keys::PK.to_string(), key.pk), (keys::SK.to_string(), key.sk)]);
    if let Some(i) = t.index_keys().into_iter().find(|i| Some(i.index) == q.index) {
        let (pk, sk) = i.index.attributes();
        p.insert(pk.into(), i.pk);
        p.insert(sk.into(), i.sk);
    }
    p
}

/// One page of the list: up to `req.limit` transactions, as many as fit in
/// `budget` bytes, read page by page; and the store's cursor after the last
/// one examined when more remain.
pub async fn list_page<S: TransactionListStore>(
    store: &S,
    user: &UserId,
    req: &ListRequest,
    start: Option<String>,
    budget: usize,
) -> Result<(Vec<Transaction>, Option<String>), ApiError> {
    let base = req.query(user);
    let mut found: Vec<Transaction> = Vec::new();
    let mut used = 0;
    let mut cursor = start;
    // Each round asks DynamoDB for exactly the items still missing, so the
    // cursor it returns sits right after the last item examined: filtered-out
    // items are skipped, none is ever lost between pages. When the byte
    // budget ends a page early, the cursor is made at the last item taken.
    for _ in 0..MAX_ROUNDS {
        let remaining = req.limit - found.len() as u32;
        let q = base.clone().limit(remaining).after(cursor.clone());
        let page = store.transactions(&q).await?;
        let mut previous: Option<Transaction> = None;
        for t in page.items {
            if req.matches(&t.value) {
                let size = wire_size(&TransactionView::from(&t.value))?;
                if used + size > budget {
                    if let Some(p) = &previous {
                        let scope_query = q.fingerprint();
                        cursor = Some(cursor::seal(
                            store.cursor_key(),
                            CursorScope { owner: &q.owner, query: &scope_query },
                            &position_after(&q, p),
                        ));
                    }
                    return Ok((found, cursor));
                }
                used += size;
                found.push(t.value.clone());
            }
            previous = Some(t.value);
        }
        cursor = page.next;
        if cursor.is_none() || found.len() as u32 >= req.limit {
            break;
        }
    }
    Ok((found, cursor))
}

pub async fn list<S: TransactionListStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let req = ListRequest::parse(&ctx)?;
    list_as(store, ctx, req).await
}

/// `GET /banking/transactions`: the bank-sourced transactions, newest first,
/// paged like `GET /transactions` (the same shape, `limit` and `startKey`).
pub async fn list_bank<S: TransactionListStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let req = ListRequest { bank_only: true, ..ListRequest::parse(&ctx)? };
    list_as(store, ctx, req).await
}

async fn list_as<S: TransactionListStore>(store: S, ctx: Ctx, mut req: ListRequest) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let start = req.continue_from(store.cursor_key(), user)?;
    // An `endDate` before `startDate` is a valid, empty range (the document
    // cannot relate two parameters, and nothing is in it): no query at all.
    let empty = matches!((req.from, req.to), (Some(f), Some(t)) if f > t);
    let (found, next) = if empty { (Vec::new(), None) } else { list_page(&store, user, &req, start, MAX_RESPONSE_BYTES).await? };
    let summary = PageSummary::of(&found)?;
    let next_key = next.map(|c| req.next_key(store.cursor_key(), user, &c));
    Reply::ok(&ListBody { transactions: found.iter().map(TransactionView::from).collect(), next_key, summary })
}
