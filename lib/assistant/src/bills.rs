//! `/bills/*`: the user's recurring payments and their choices per bill.
//!
//! - `GET /bills/detected`: the server's detection ([`crate::recurring`]) over
//!   the last [`WINDOW_DAYS`] of transactions, kept in APICache
//!   (`CACHE#bills#{userId}` / `DATA#detected-v1`, TTL 30 minutes) with the
//!   versions of the monthly summaries it was computed from: a transaction
//!   written, edited or deleted in the window moves a version and the list is
//!   recomputed, as it is each new day. Merged on every read with the bills the
//!   app saved and the user's preferences (cheap queries), so a preference
//!   change shows at once; ignored and stopped bills are left out.
//! - `POST /bills/detected`: bills the phone detected, saved one item per bill
//!   id (the slug of the merchant), so the same bill is never listed twice.
//! - `GET`/`PUT`/`POST /bills/preferences`, `PUT /bills/preferences/{billId}`:
//!   the user's choices. A bill id that is none of the caller's bills
//!   (detected, saved or with a preference) is 404, whoever else has it.

use crate::recurring::{self, Cadence, Recurring, RecurringStatus};
use crate::stores::{BillStore, FinanceStore, ReportStore};
use chrono::{Duration, NaiveDate};
use expenzez_api::error::FieldError;
use expenzez_api::idempotency::{self, IdempotencyStore};
use expenzez_api::json::{Amount, JsonMoney};
use expenzez_api::validate::check_text;
use expenzez_api::{ApiError, Ctx, Reply};
use expenzez_domain::category::AppCategory;
use expenzez_domain::entities::{ApiCache, BillFrequency, BillPreference, BillStatus, SavedBill};
use expenzez_domain::ids::{BillId, UserId};
use expenzez_domain::{Money, Timestamp};
use expenzez_store::{Condition, Retry};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// APICache endpoint of the detected bills (listed in `keys::USER_CACHE_ENDPOINTS`).
pub const CACHE_ENDPOINT: &str = "bills";
/// The cache entry's `queryHash`; bumped when the cached shape or detection changes.
pub const CACHE_QUERY: &str = "detected-v1";
/// How far back detection looks: a year and a month, so a yearly bill shows twice.
pub const WINDOW_DAYS: i64 = 400;
/// Most bills one `POST /bills/detected` saves (one transaction with the account check).
pub const MAX_SAVE: usize = 50;
/// Most saved bills a user keeps.
pub const MAX_SAVED: usize = 200;
/// Longest merchant name or custom name, and exclusion reason, in characters.
pub const MAX_NAME: usize = 100;
pub const MAX_REASON: usize = 200;
/// Largest bill amount (£1m), in pence.
pub const MAX_AMOUNT_MINOR: i64 = 100_000_000;

impl From<Cadence> for BillFrequency {
    fn from(c: Cadence) -> Self {
        match c {
            Cadence::Weekly => BillFrequency::Weekly,
            Cadence::Monthly => BillFrequency::Monthly,
            Cadence::Yearly => BillFrequency::Yearly,
        }
    }
}

fn cadence(f: BillFrequency) -> Cadence {
    match f {
        BillFrequency::Weekly => Cadence::Weekly,
        BillFrequency::Monthly => Cadence::Monthly,
        BillFrequency::Yearly => Cadence::Yearly,
    }
}

/// One bill the server detected, as cached (amounts in pence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Detected {
    pub bill_id: BillId,
    pub merchant: String,
    pub category: String,
    pub amount: Money,
    pub min_amount: Money,
    pub max_amount: Money,
    pub frequency: BillFrequency,
    pub payments: usize,
    pub last_date: NaiveDate,
    pub next_expected_date: NaiveDate,
    /// Its payments stopped (overdue well past the next date).
    pub stopped: bool,
}

impl Detected {
    fn from_recurring(r: &Recurring) -> Option<Self> {
        Some(Self {
            bill_id: BillId::new(&r.bill_id).ok()?,
            merchant: r.merchant.clone(),
            category: r.category.clone(),
            amount: r.amount,
            min_amount: r.min_amount,
            max_amount: r.max_amount,
            frequency: r.cadence.into(),
            payments: r.payments,
            last_date: r.last_date,
            next_expected_date: r.next_expected,
            stopped: r.status == RecurringStatus::Cancelled,
        })
    }
}

/// Where a listed bill comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Found in the user's transactions on the server.
    Transactions,
    /// Saved by the app (`POST /bills/detected`) only.
    App,
    /// Both: one bill, the server's figures.
    Both,
}

/// A bill as the app reads it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BillView {
    pub bill_id: BillId,
    pub merchant: String,
    pub custom_name: Option<String>,
    pub category: String,
    pub amount: Amount,
    pub min_amount: Amount,
    pub max_amount: Amount,
    pub frequency: BillFrequency,
    pub last_date: NaiveDate,
    pub next_expected_date: NaiveDate,
    pub status: BillStatus,
    pub source: Source,
    pub reminder_enabled: bool,
    pub paid_at: Option<Timestamp>,
}

/// The listed bills: the server's (not stopped) and the app's saved ones
/// (not stopped), one per bill id, the user's choices applied, ignored ones
/// left out; the next due first.
pub fn merge(detected: &[Detected], saved: &[SavedBill], prefs: &[BillPreference], today: NaiveDate) -> Vec<BillView> {
    let mut bills: BTreeMap<BillId, BillView> = BTreeMap::new();
    for d in detected.iter().filter(|d| !d.stopped) {
        bills.insert(
            d.bill_id.clone(),
            BillView {
                bill_id: d.bill_id.clone(),
                merchant: d.merchant.clone(),
                custom_name: None,
                category: d.category.clone(),
                amount: Amount(d.amount),
                min_amount: Amount(d.min_amount),
                max_amount: Amount(d.max_amount),
                frequency: d.frequency,
                last_date: d.last_date,
                next_expected_date: d.next_expected_date,
                status: BillStatus::Active,
                source: Source::Transactions,
                reminder_enabled: false,
                paid_at: None,
            },
        );
    }
    for s in saved {
        if let Some(b) = bills.get_mut(&s.bill_id) {
            b.source = Source::Both;
            continue;
        }
        let next = next_date(s);
        if recurring::is_stopped(cadence(s.frequency), next, today) {
            continue;
        }
        bills.insert(
            s.bill_id.clone(),
            BillView {
                bill_id: s.bill_id.clone(),
                merchant: s.merchant.clone(),
                custom_name: None,
                category: s.category.clone(),
                amount: Amount(s.amount),
                min_amount: Amount(s.amount),
                max_amount: Amount(s.amount),
                frequency: s.frequency,
                last_date: s.last_date,
                next_expected_date: next,
                status: BillStatus::Active,
                source: Source::App,
                reminder_enabled: false,
                paid_at: None,
            },
        );
    }
    for p in prefs {
        if p.is_ignored {
            bills.remove(&p.bill_id);
            continue;
        }
        if let Some(b) = bills.get_mut(&p.bill_id) {
            b.custom_name = p.custom_name.clone();
            if let Some(c) = &p.category {
                b.category = c.clone();
            }
            b.status = p.status.unwrap_or(BillStatus::Active);
            b.reminder_enabled = p.reminder_enabled;
            b.paid_at = p.paid_at;
        }
    }
    let mut list: Vec<BillView> = bills.into_values().collect();
    list.sort_by(|a, b| a.next_expected_date.cmp(&b.next_expected_date).then_with(|| a.bill_id.cmp(&b.bill_id)));
    list
}

/// A saved bill's next date: the app's, else one period after its last payment.
fn next_date(s: &SavedBill) -> NaiveDate {
    s.next_expected_date.unwrap_or_else(|| cadence(s.frequency).next(s.last_date))
}

/// What the cached detection was computed from: the day (a stopped bill is
/// judged against today) and the versions of the window's monthly summaries.
fn signature(today: NaiveDate, summaries: &[(String, u64)]) -> String {
    let mut s = format!("{CACHE_QUERY}|{today}");
    for (m, v) in summaries {
        s.push_str(&format!("|{m}:{v}"));
    }
    s
}

/// The server's detection for `user`: the cached one while its signature holds
/// and it has not expired, else computed from the window's transactions and cached.
pub async fn detected<S: BillStore + FinanceStore + ReportStore>(store: &S, user: &UserId) -> Result<Vec<Detected>, ApiError> {
    let now = store.now();
    let today = now.date();
    let from = Timestamp::start_of_day(today - Duration::days(WINDOW_DAYS));
    let first_month = from.month();
    let mut versions: Vec<(String, u64)> = store
        .versioned_summaries(user)
        .await?
        .into_iter()
        .filter(|v| v.value.month >= first_month)
        .map(|v| (v.value.month.to_string(), v.version))
        .collect();
    versions.sort();
    let signature = signature(today, &versions);
    if let Some(hit) = store.bill_cache(user).await? {
        if hit.expires_at > now && hit.data_signature == signature {
            if let Ok(list) = serde_json::from_value::<Vec<Detected>>(hit.response_data) {
                return Ok(list);
            }
        }
    }
    let started = std::time::Instant::now();
    let txns = store.transactions_between(user, from, now).await?;
    let list: Vec<Detected> = recurring::detect(&txns, today).iter().filter_map(Detected::from_recurring).collect();
    let data = serde_json::to_value(&list).map_err(|_| ApiError::Internal)?;
    let took = started.elapsed().as_millis() as u64;
    let entry = ApiCache::fresh(CACHE_ENDPOINT, Some(user.clone()), CACHE_QUERY.into(), data, signature, now, took);
    // A cache that cannot be written is a slower next request, not an error.
    if let Err(e) = store.save_bill_cache(&entry).await {
        tracing::warn!(error = %e, "detected bills not cached");
    }
    Ok(list)
}

#[derive(Serialize)]
struct BillsBody {
    bills: Vec<BillView>,
}

pub(crate) async fn listed<S: BillStore + FinanceStore + ReportStore>(store: &S, user: &UserId) -> Result<Vec<BillView>, ApiError> {
    let detected = detected(store, user).await?;
    let (saved, prefs) = tokio::try_join!(store.saved_bills(user), store.bill_preferences(user))?;
    let prefs: Vec<BillPreference> = prefs.into_iter().map(|v| v.value).collect();
    Ok(merge(&detected, &saved, &prefs, store.now().date()))
}

/// `GET /bills/detected`.
pub async fn get_detected<S: BillStore + FinanceStore + ReportStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    Reply::ok(&BillsBody { bills: listed(&store, user).await? })
}

/// One bill the app detected.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppBill {
    pub merchant: String,
    pub category: Option<String>,
    pub amount: JsonMoney,
    pub frequency: BillFrequency,
    pub last_date: String,
    pub next_expected_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SaveBills {
    pub bills: Vec<AppBill>,
}

/// A required name: [`check_text`], not blank.
fn check_name(errors: &mut Vec<FieldError>, field: &str, v: &str, max: usize) -> String {
    check_text(errors, field, v, max, true)
}

fn check_category(errors: &mut Vec<FieldError>, field: &str, v: &str) -> String {
    match AppCategory::from_name(v) {
        Some(c) => c.name().to_string(),
        None => {
            errors.push(FieldError::new(field, expenzez_domain::category::UnknownCategory.to_string()));
            String::new()
        }
    }
}

/// A `YYYY-MM-DD` between 2000-01-01 and a year from `today`.
fn check_date(errors: &mut Vec<FieldError>, field: &str, v: &str, today: NaiveDate) -> Option<NaiveDate> {
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok().filter(|d| d.format("%Y-%m-%d").to_string() == v);
    match d {
        Some(d) if d >= NaiveDate::from_ymd_opt(2000, 1, 1)? && d <= today + Duration::days(366) => Some(d),
        _ => {
            errors.push(FieldError::new(field, "must be a date (YYYY-MM-DD) between 2000-01-01 and a year from now"));
            None
        }
    }
}

impl SaveBills {
    fn check(self, user: &UserId, now: Timestamp) -> Result<Vec<SavedBill>, ApiError> {
        let mut errors = Vec::new();
        if self.bills.is_empty() || self.bills.len() > MAX_SAVE {
            return Err(ApiError::validation("bills", "must hold 1 to 50 bills"));
        }
        let today = now.date();
        let mut out: BTreeMap<BillId, SavedBill> = BTreeMap::new();
        for (i, b) in self.bills.into_iter().enumerate() {
            let f = |name: &str| format!("bills[{i}].{name}");
            let merchant = check_name(&mut errors, &f("merchant"), &b.merchant, MAX_NAME);
            let category = match &b.category {
                Some(c) => check_category(&mut errors, &f("category"), c),
                None => AppCategory::BillsAndUtilities.name().to_string(),
            };
            let amount = b.amount.0.abs();
            if amount.is_zero() || amount.minor() > MAX_AMOUNT_MINOR {
                errors.push(FieldError::new(f("amount"), "must not be 0, and at most 1000000 either way"));
            }
            let last = check_date(&mut errors, &f("lastDate"), &b.last_date, today);
            let next = b.next_expected_date.as_deref().and_then(|d| check_date(&mut errors, &f("nextExpectedDate"), d, today));
            let (Some(last), Ok(bill_id)) = (last, BillId::new(recurring::bill_id(&merchant))) else { continue };
            // A next date not after the last payment says nothing: one period on is used.
            let next = next.filter(|n| *n > last);
            let bill = SavedBill {
                user_id: user.clone(),
                bill_id: bill_id.clone(),
                merchant,
                category,
                amount,
                frequency: b.frequency,
                last_date: last,
                next_expected_date: next,
                saved_at: now,
            };
            // The same bill twice in one request: the later payment wins.
            match out.get(&bill_id) {
                Some(prev) if prev.last_date > bill.last_date => {}
                _ => {
                    out.insert(bill_id, bill);
                }
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(out.into_values().collect())
    }
}

#[derive(Serialize)]
struct SavedBody {
    saved: usize,
    bills: Vec<BillView>,
}

/// `POST /bills/detected`. A retry with the same `Idempotency-Key` gets the first answer.
pub async fn save_detected<S: BillStore + FinanceStore + ReportStore + IdempotencyStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    idempotency::once(&store, ctx, |ctx| save_once(&store, ctx)).await
}

async fn save_once<S: BillStore + FinanceStore + ReportStore>(store: &S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let body: SaveBills = ctx.json()?;
    let bills = body.check(user, store.now())?;
    let existing: BTreeSet<BillId> = store.saved_bills(user).await?.into_iter().map(|b| b.bill_id).collect();
    let new = bills.iter().filter(|b| !existing.contains(&b.bill_id)).count();
    if existing.len() + new > MAX_SAVED {
        return Err(ApiError::Conflict { code: "TOO_MANY_BILLS", message: format!("At most {MAX_SAVED} saved bills.") });
    }
    store.save_bills(user, &bills).await?;
    Reply::ok(&SavedBody { saved: bills.len(), bills: listed(store, user).await? })
}

// ---- preferences -----------------------------------------------------------------

/// A preference as the app reads it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreferenceView {
    bill_id: BillId,
    is_ignored: bool,
    custom_name: Option<String>,
    category: Option<String>,
    status: BillStatus,
    paid_at: Option<Timestamp>,
    exclusion_reason: Option<String>,
    reminder_enabled: bool,
    updated_at: Timestamp,
}

impl From<&BillPreference> for PreferenceView {
    fn from(p: &BillPreference) -> Self {
        Self {
            bill_id: p.bill_id.clone(),
            is_ignored: p.is_ignored,
            custom_name: p.custom_name.clone(),
            category: p.category.clone(),
            status: p.status.unwrap_or(BillStatus::Active),
            paid_at: p.paid_at,
            exclusion_reason: p.exclusion_reason.clone(),
            reminder_enabled: p.reminder_enabled,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Serialize)]
struct PreferencesBody {
    preferences: Vec<PreferenceView>,
    count: usize,
}

/// `GET /bills/preferences`.
pub async fn get_preferences<S: BillStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    let prefs = store.bill_preferences(user).await?;
    let preferences: Vec<PreferenceView> = prefs.iter().map(|v| PreferenceView::from(&v.value)).collect();
    Reply::ok(&PreferencesBody { count: preferences.len(), preferences })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Paid,
}

/// Every field a preference write may carry; which combinations are allowed
/// depends on the route and `action` ([`PreferenceInput::change`]).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferenceInput {
    pub action: Option<Action>,
    pub bill_id: Option<String>,
    pub category: Option<String>,
    pub status: Option<BillStatus>,
    pub is_ignored: Option<bool>,
    pub custom_name: Option<String>,
    pub exclusion_reason: Option<String>,
    pub is_paid: Option<bool>,
    pub enabled: Option<bool>,
}

/// A checked change to one preference.
#[derive(Debug, Clone, Default)]
pub struct Change {
    category: Option<String>,
    status: Option<BillStatus>,
    is_ignored: Option<bool>,
    /// `Some(None)`: clear the custom name (`""`).
    custom_name: Option<Option<String>>,
    exclusion_reason: Option<Option<String>>,
    is_paid: Option<bool>,
    enabled: Option<bool>,
}

impl Change {
    fn apply(&self, p: &mut BillPreference, now: Timestamp) {
        if let Some(c) = &self.category {
            p.category = Some(c.clone());
        }
        if let Some(s) = self.status {
            p.status = Some(s);
        }
        if let Some(i) = self.is_ignored {
            p.is_ignored = i;
        }
        if let Some(n) = &self.custom_name {
            p.custom_name = n.clone();
        }
        if let Some(r) = &self.exclusion_reason {
            p.exclusion_reason = r.clone();
        }
        if let Some(paid) = self.is_paid {
            p.paid_at = paid.then_some(now);
        }
        if let Some(e) = self.enabled {
            p.reminder_enabled = e;
        }
        p.updated_at = now;
    }

    fn message(&self) -> &'static str {
        match (self.is_paid, self.enabled) {
            (Some(true), _) => "Bill marked as paid",
            (Some(false), _) => "Bill marked as unpaid",
            (_, Some(true)) => "Bill reminder turned on",
            (_, Some(false)) => "Bill reminder turned off",
            _ if self.is_ignored == Some(true) => "Bill removed",
            _ => "Bill preference saved",
        }
    }
}

/// Which body a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `PUT /bills/preferences`: `{action: create, billId, ...}`, `{action: paid, billId, isPaid}` or `{billId, enabled}`.
    Put,
    /// `POST /bills/preferences`: `{billId, ...}` (`action: create` allowed).
    Post,
    /// `PUT /bills/preferences/{billId}`: at least one of the fields, no `billId` or `action`.
    One,
}

fn optional_text(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>, max: usize) -> Option<Option<String>> {
    let v = v.as_ref()?;
    let t = v.trim();
    if t.chars().count() > max {
        errors.push(FieldError::new(field, format!("must be at most {max} characters")));
    } else if t.chars().any(char::is_control) {
        errors.push(FieldError::new(field, "contains control characters"));
    }
    Some((!t.is_empty()).then(|| t.to_string()))
}

impl PreferenceInput {
    /// The bill id (from the body unless `One`) and the checked change.
    pub fn change(self, shape: Shape) -> Result<(Option<BillId>, Change), ApiError> {
        let mut errors = Vec::new();
        let editable = self.category.is_some()
            || self.status.is_some()
            || self.is_ignored.is_some()
            || self.custom_name.is_some()
            || self.exclusion_reason.is_some();
        let only = |errors: &mut Vec<FieldError>, allowed: bool, field: &str, why: &str| {
            if !allowed {
                errors.push(FieldError::new(field, why));
            }
        };
        match (shape, self.action) {
            (Shape::One, action) => {
                only(&mut errors, action.is_none(), "action", "is not accepted here");
                only(&mut errors, self.bill_id.is_none(), "billId", "is in the path");
                only(&mut errors, self.is_paid.is_none(), "isPaid", "is set with action paid on PUT /bills/preferences");
                if !editable && self.enabled.is_none() {
                    errors.push(FieldError::new("$", "must change at least one field"));
                }
            }
            (Shape::Put, Some(Action::Paid)) => {
                only(&mut errors, self.is_paid.is_some(), "isPaid", "is required with action paid");
                only(&mut errors, !editable && self.enabled.is_none(), "action", "paid takes only billId and isPaid");
            }
            (Shape::Put, None) => {
                only(&mut errors, self.enabled.is_some(), "enabled", "is required (or set action create or paid)");
                only(&mut errors, !editable && self.is_paid.is_none(), "action", "without action the body is {billId, enabled}");
            }
            (_, Some(Action::Create)) | (Shape::Post, None) => {
                only(&mut errors, self.is_paid.is_none(), "isPaid", "is set with action paid");
            }
            (Shape::Post, Some(Action::Paid)) => errors.push(FieldError::new("action", "must be create (or absent)")),
        }
        let bill_id = match (&self.bill_id, shape) {
            (_, Shape::One) => None,
            (None, _) => {
                errors.push(FieldError::new("billId", "is required"));
                None
            }
            (Some(b), _) => match BillId::new(b.trim()) {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(FieldError::new("billId", "must be 1 to 128 printable ASCII characters without '#' or spaces"));
                    None
                }
            },
        };
        let category = self.category.as_deref().map(|c| check_category(&mut errors, "category", c));
        let custom_name = optional_text(&mut errors, "customName", &self.custom_name, MAX_NAME);
        let exclusion_reason = optional_text(&mut errors, "exclusionReason", &self.exclusion_reason, MAX_REASON);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok((
            bill_id,
            Change {
                category,
                status: self.status,
                is_ignored: self.is_ignored,
                custom_name,
                exclusion_reason,
                is_paid: self.is_paid,
                enabled: self.enabled,
            },
        ))
    }
}

/// Whether `bill` is one of the caller's bills: detected for them (stopped
/// ones too) or saved by their app.
async fn is_known<S: BillStore + FinanceStore + ReportStore>(store: &S, user: &UserId, bill: &BillId) -> Result<bool, ApiError> {
    if store.saved_bill(user, bill).await?.is_some() {
        return Ok(true);
    }
    Ok(detected(store, user).await?.iter().any(|d| &d.bill_id == bill))
}

/// Applies `change` to the caller's preference for `bill` (created on first
/// change), conditional on the version read; 404 when `bill` is none of theirs.
async fn change_preference<S: BillStore + FinanceStore + ReportStore>(
    store: &S,
    user: &UserId,
    bill: BillId,
    change: &Change,
) -> Result<BillPreference, ApiError> {
    let mut checked = false;
    let mut tries = Retry::new(6);
    while tries.next().await {
        let now = store.now();
        let (mut pref, condition) = match store.bill_preference(user, &bill).await? {
            Some(v) => (v.value, Condition::Version(v.version)),
            None => {
                if !checked {
                    if !is_known(store, user, &bill).await? {
                        return Err(ApiError::NotFound);
                    }
                    checked = true;
                }
                (BillPreference::new(user.clone(), bill.clone(), now), Condition::MustNotExist)
            }
        };
        change.apply(&mut pref, now);
        match store.save_bill_preference(user, &pref, condition).await {
            Ok(_) => return Ok(pref),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Contended)
}

#[derive(Serialize)]
struct PreferenceBody {
    preference: PreferenceView,
    message: &'static str,
}

async fn write<S: BillStore + FinanceStore + ReportStore>(store: &S, ctx: Ctx, shape: Shape) -> Result<Reply, ApiError> {
    let user = ctx.user()?;
    // The path's id first: one that cannot exist is 404 like a missing one.
    let path_id = match shape {
        Shape::One => Some(ctx.path("billId").and_then(|b| BillId::new(b).ok()).ok_or(ApiError::NotFound)?),
        _ => None,
    };
    let input: PreferenceInput = ctx.json()?;
    let (body_id, change) = input.change(shape)?;
    let bill = path_id.or(body_id).ok_or(ApiError::Internal)?;
    let pref = change_preference(store, user, bill, &change).await?;
    Reply::ok(&PreferenceBody { preference: PreferenceView::from(&pref), message: change.message() })
}

/// `PUT /bills/preferences`.
pub async fn put_preferences<S: BillStore + FinanceStore + ReportStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    write(&store, ctx, Shape::Put).await
}

/// `POST /bills/preferences`. A retry with the same `Idempotency-Key` gets the first answer.
pub async fn post_preferences<S: BillStore + FinanceStore + ReportStore + IdempotencyStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    idempotency::once(&store, ctx, |ctx| write(&store, ctx, Shape::Post)).await
}

/// `PUT /bills/preferences/{billId}`.
pub async fn put_preference<S: BillStore + FinanceStore + ReportStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    write(&store, ctx, Shape::One).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }
    fn user() -> UserId {
        UserId::new("u-1").unwrap()
    }
    fn now() -> Timestamp {
        Timestamp::parse("2026-12-03T10:00:00Z").unwrap()
    }
    fn detected_bill(id: &str, next: &str, stopped: bool) -> Detected {
        Detected {
            bill_id: BillId::new(id).unwrap(),
            merchant: id.to_uppercase(),
            category: "Entertainment".into(),
            amount: Money::from_minor(1_299),
            min_amount: Money::from_minor(1_099),
            max_amount: Money::from_minor(1_299),
            frequency: BillFrequency::Monthly,
            payments: 6,
            last_date: d(next) - Duration::days(30),
            next_expected_date: d(next),
            stopped,
        }
    }
    fn saved(merchant: &str, last: &str) -> SavedBill {
        SavedBill {
            user_id: user(),
            bill_id: BillId::new(recurring::bill_id(merchant)).unwrap(),
            merchant: merchant.into(),
            category: "Bills & Utilities".into(),
            amount: Money::from_minor(4_500),
            frequency: BillFrequency::Monthly,
            last_date: d(last),
            next_expected_date: None,
            saved_at: now(),
        }
    }

    #[test]
    fn merge_keeps_one_bill_per_id_and_hides_ignored_and_stopped() {
        let today = now().date();
        let detected = [detected_bill("netflix", "2026-12-07", false), detected_bill("gym", "2026-08-20", true)];
        let saved = [saved("Netflix", "2026-11-05"), saved("Thames Water", "2026-11-20"), saved("Old Insurer", "2026-03-01")];
        let mut ignored = BillPreference::new(user(), BillId::new("thames-water").unwrap(), now());
        ignored.is_ignored = true;
        let view = merge(&detected, &saved, &[], today);
        let ids: Vec<(&str, Source)> = view.iter().map(|b| (b.bill_id.as_str(), b.source)).collect();
        assert_eq!(ids, [("netflix", Source::Both), ("thames-water", Source::App)]);
        // The server's figures win for a bill both found; the app's next date is one month on.
        assert_eq!((view[0].amount.0.minor(), view[1].next_expected_date), (1_299, d("2026-12-20")));
        let view = merge(&detected, &saved, &[ignored], today);
        assert_eq!(view.len(), 1);
    }

    #[test]
    fn preferences_apply_names_categories_and_status() {
        let mut p = BillPreference::new(user(), BillId::new("netflix").unwrap(), now());
        let (_, change) = serde_json::from_value::<PreferenceInput>(
            serde_json::json!({"category": "shopping", "status": "paused", "customName": " Family plan "}),
        )
        .unwrap()
        .change(Shape::One)
        .unwrap();
        change.apply(&mut p, now());
        let view = merge(&[detected_bill("netflix", "2026-12-07", false)], &[], &[p], now().date());
        assert_eq!(
            (view[0].category.as_str(), view[0].status, view[0].custom_name.as_deref()),
            ("Shopping", BillStatus::Paused, Some("Family plan"))
        );
    }

    #[test]
    fn bodies_are_checked_per_shape() {
        let input = |v: serde_json::Value| serde_json::from_value::<PreferenceInput>(v).unwrap();
        let ok = [
            (Shape::Put, serde_json::json!({"action": "create", "billId": "netflix", "isIgnored": true, "exclusionReason": "not a bill"})),
            (Shape::Put, serde_json::json!({"action": "paid", "billId": "netflix", "isPaid": true})),
            (Shape::Put, serde_json::json!({"billId": "netflix", "enabled": false})),
            (Shape::Post, serde_json::json!({"billId": "netflix", "isIgnored": true})),
            (Shape::One, serde_json::json!({"category": "Bills & Utilities"})),
            (Shape::One, serde_json::json!({"status": "cancelled"})),
        ];
        for (shape, v) in ok {
            assert!(input(v.clone()).change(shape).is_ok(), "{shape:?} {v}");
        }
        let bad = [
            (Shape::Put, serde_json::json!({"action": "paid", "billId": "netflix"})),
            (Shape::Put, serde_json::json!({"action": "paid", "billId": "netflix", "isPaid": true, "category": "Home"})),
            (Shape::Put, serde_json::json!({"billId": "netflix"})),
            (Shape::Put, serde_json::json!({"billId": "netflix", "enabled": true, "category": "Home"})),
            (Shape::Put, serde_json::json!({"action": "create", "isIgnored": true})),
            (Shape::Put, serde_json::json!({"action": "create", "billId": "a#b"})),
            (Shape::Post, serde_json::json!({"billId": "x", "category": "Nonsense"})),
            (Shape::One, serde_json::json!({})),
            (Shape::One, serde_json::json!({"billId": "netflix", "status": "active"})),
            (Shape::One, serde_json::json!({"customName": "x".repeat(101)})),
        ];
        for (shape, v) in bad {
            assert!(matches!(input(v.clone()).change(shape), Err(ApiError::Validation(_))), "{shape:?} {v}");
        }
    }

    #[test]
    fn saved_bills_are_checked_and_deduplicated() {
        let body: SaveBills = serde_json::from_value(serde_json::json!({"bills": [
            {"merchant": "Octopus Energy", "amount": -85.5, "frequency": "monthly", "lastDate": "2026-11-02"},
            {"merchant": "OCTOPUS  ENERGY", "amount": 90, "frequency": "monthly", "lastDate": "2026-11-30", "category": "bills"},
        ]}))
        .unwrap();
        let bills = body.check(&user(), now()).unwrap();
        assert_eq!(bills.len(), 1);
        assert_eq!((bills[0].bill_id.as_str(), bills[0].amount.minor(), bills[0].last_date), ("octopus-energy", 9_000, d("2026-11-30")));
        assert_eq!(bills[0].category, "Bills & Utilities");
        let bad: SaveBills = serde_json::from_value(serde_json::json!({"bills": [
            {"merchant": " ", "amount": 0, "frequency": "monthly", "lastDate": "2026-02-30", "category": "nope"},
        ]}))
        .unwrap();
        let Err(ApiError::Validation(errors)) = bad.check(&user(), now()) else { panic!("refused") };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["bills[0].merchant", "bills[0].category", "bills[0].amount", "bills[0].lastDate"]);
    }

    /// `make dev`'s demo user: the bills screen shows rent (renamed, reminded),
    /// the subscriptions and the council tax the app saved.
    #[test]
    fn demo_bills_look_real() {
        let until = Timestamp::parse("2026-12-03T10:00:00Z").unwrap();
        let demo = expenzez_devtool::generate(42, expenzez_devtool::demo_until(until));
        let detected: Vec<Detected> =
            recurring::detect(&demo.transactions, until.date()).iter().filter_map(Detected::from_recurring).collect();
        let view = merge(&detected, &demo.saved_bills, &demo.bill_preferences, until.date());
        let rows: Vec<(&str, Option<&str>, Source, bool)> =
            view.iter().map(|b| (b.bill_id.as_str(), b.custom_name.as_deref(), b.source, b.reminder_enabled)).collect();
        let mut sorted = rows.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [
                ("council-tax", None, Source::App, false),
                ("landlord-rent", Some("Rent (Flat 2)"), Source::Transactions, true),
                ("netflix", None, Source::Transactions, true),
                ("puregym", None, Source::Transactions, false),
                ("spotify", None, Source::Transactions, false),
            ]
        );
        assert!(view.windows(2).all(|w| w[0].next_expected_date <= w[1].next_expected_date), "next due first");
        assert!(view.iter().all(|b| b.next_expected_date >= until.date()), "{view:?}");
    }
}
