//! The one place where table keys are built (SPEC §3). Every `PK`, `SK` and
//! `GSI*` string in the code base comes from here, and every key parses back
//! into what built it ([`ItemKey::parse`]), which the property tests check.
//!
//! The items beyond the seed are keyed here too, each with its reason:
//! - `EMAIL#{email}` / `EMAIL`: a conditional put on it makes emails unique
//!   (a GSI cannot enforce uniqueness, and GSI reads are eventually consistent).
//! - `SUMMARY#{YYYY-MM}`: per-month totals moved in the same transaction as each
//!   transaction change, so monthly figures are one GetItem, not a scan of a month.
//! - `SYNC#{connectionId}#{timestamp}`: an audit trail of bank syncs (TTL 90 days).
//! - `IDEMPOTENCY#{key}`: the first response to a POST, so a retry writes nothing (TTL 24 h).
//! - `CONNECT#{timestamp}#{nonce}`: a bank connect request the user started, so the app's
//!   callback without `state` is accepted only for it, once (TTL: the state's 15 minutes).
//! - `IMPORTS#{YYYY-MM}`: how many imports a user made in a month, so the monthly
//!   import quota is one conditional write on one item, not a count over transactions.
//! - `STATEMENT#{statementId}`: a bank statement imported from a PDF (issuer, masked
//!   account, period, row count), so the statements screen lists them and a statement
//!   seen before is recognised by its id instead of imported twice. The id is a hash of
//!   the statement's identity (issuer, masked account, period), not of the file's bytes:
//!   the same statement downloaded twice differs in bytes but not in what it states.
//! - `PREFERENCES#ALERTS`: the app's alert settings (`/alerts/preferences`) and the
//!   budgets' default threshold and currency. They are per user, not per budget,
//!   and the seed has no item for them (NotificationPreferences is the notifier's
//!   delivery settings, owned by the notifications routes).
//! - `USAGE#AI#{YYYY-MM-DD}`: how many assistant answers a user had that day (TTL 2 days).
//!   The daily limit counts here, not in the chat: deleting one's chat history must not
//!   reset the limit, and a counter under optimistic locking cannot be overrun by racing requests.
//! - `NOTIFYREQ#{requestKey}`: the notifier's claim on one notification request
//!   (a conditional put), so a request SQS delivers twice notifies once (TTL 14 days).
//! - `RECEIPT#{receiptId}`: a push ticket whose receipt Expo had not ready when the push was
//!   sent, so it is read later and a `DeviceNotRegistered` token still deleted (TTL 1 day:
//!   Expo keeps receipts that long). Its sparse GSI1 partition `RECEIPT_DUE#{shard}` (sort key
//!   `{checkAfter}#{userId}#{deviceId}#{receiptId}`, everything the sweep needs, as GSI1
//!   projects few attributes) lists the pending receipts, so the sweep never scans.
//! - `BILL#{billId}`: a recurring bill the app detected on the phone and saved
//!   (`POST /bills/detected`), for payments the server's own detection cannot see
//!   (data only on the phone). One item per bill id, so saving it again replaces it
//!   and a bill is never listed twice; the server's detection is not stored here
//!   (it is recomputed from transactions, cached in APICache `CACHE#bills#{userId}`).
//! - `BILLPREF#{billId}`: the user's choices for one bill (ignored, renamed,
//!   recategorised, paid, paused, reminder on/off). The seed has no item for them,
//!   and they outlive a recomputation of the detected bills, so they are their own
//!   item, in the user's partition so erasure and export find them.
//! - `RATE#{scope}#{subject}` / `WINDOW#{start}`: requests counted per fixed window on the
//!   public routes that would otherwise let anyone probe accounts (TTL: end of the window).
//!
//! The app lock (APP-CONTRACT "App lock (PIN) and devices") adds three, all in
//! the user's partition so erasure and export find them with everything else:
//! - `DEVICE#{deviceId}`: a device the user signed in on (name, platform, last
//!   seen, a keyed hash of its fingerprint). The PIN routes answer 404 for a
//!   device id that is not registered here, so a device is only ever its owner's.
//! - `PIN#{deviceId}`: the app-lock PIN of one device, as an argon2id hash only,
//!   with its failed-attempt counter and lockout state. Its own item (not an
//!   attribute of the device) so the counter is one atomic UpdateItem with a
//!   condition, and listings of devices never read a hash.
//! - `PREFERENCES#SECURITY`: the app-lock preferences (lock on/off, biometrics,
//!   session timeout, attempts before a lockout), one per user like
//!   `PREFERENCES#NOTIFICATIONS`.
//!
//! The sparse GSI1 partition `BUDGET_DUE#{shard}` (sort key `{periodEnd}#{userId}#{budgetId}`)
//! lists the recurring budgets by the end of their current period, so the daily
//! rollover reads only the budgets that are due, never a scan.
//!
//! The sparse GSI1 partition `ACTIVE#{YYYY-MM}#{shard}` (sort key `{userId}`) is
//! carried by every monthly summary (`SUMMARY#{YYYY-MM}`): a user with a summary for a
//! month had transactions in it, so the monthly report job reads the users active in
//! last month from it, never a scan of all users. A summary is one item per user and
//! month, so the partition lists each active user once; erasure deletes the summary
//! and with it the user's entry.
//!
//! The sparse GSI1 partition `BILL_REMINDER#{shard}` (sort key `{userId}#{billId}`)
//! is carried by a bill preference while its reminder is on (not ignored, not paused
//! or cancelled), so the daily bill reminder job reads only the bills whose owners
//! asked for a reminder, never a scan. Turning the reminder off rewrites the
//! preference without it.
//!
//! The sparse GSI3 partition `CONSENT_DUE#{shard}` (sort key
//! `{consentExpiresAt}#{userId}#{connectionId}`) lists the syncable bank
//! connections whose consent expiry has not been announced yet, by that expiry.
//! The daily consent check reads `GSI3SK <= now + 7 days` from each shard instead
//! of scanning every user's connections. GSI3, not GSI1: a connection's GSI1 is
//! its sync-due key (one key per index per item), and GSI3's partitions are
//! otherwise `USER#{userId}`, so the two never meet. The key leaves the index when
//! the reminder is requested (`consentReminded` = that expiry) or the connection
//! stops syncing, and comes back for a renewed consent (a new expiry).

use crate::email::Email;
use crate::ids::*;
use crate::time::{Timestamp, YearMonth};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
pub const GSI3PK: &str = "GSI3PK";
pub const GSI3SK: &str = "GSI3SK";
/// Every key attribute an item can carry (the table's and the indexes').
pub const KEY_ATTRIBUTES: [&str; 8] = [PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK];
/// TTL attribute (epoch seconds). A DynamoDB reserved word: use `#ttl` in expressions.
pub const TTL: &str = "TTL";
pub const ENTITY_TYPE: &str = "entityType";
pub const SCHEMA_VERSION: &str = "schemaVersion";
/// Optimistic-locking counter. Not `version`: the seed already uses `version`
/// as a string on several entities (API version, algorithm version).
pub const ITEM_VERSION: &str = "itemVersion";

/// Number of shards of the bank-sync due index (`SYNC#{shard}`), queried in parallel.
pub const SYNC_SHARDS: u32 = 8;

/// Number of shards of the budget rollover due index (`BUDGET_DUE#{shard}`).
pub const BUDGET_SHARDS: u32 = 8;

/// Number of shards of the pending push receipt index (`RECEIPT_DUE#{shard}`).
pub const RECEIPT_SHARDS: u32 = 4;

/// Number of shards of the monthly active-user index (`ACTIVE#{YYYY-MM}#{shard}`).
pub const ACTIVE_SHARDS: u32 = 8;

/// Number of shards of the bill reminder index (`BILL_REMINDER#{shard}`).
pub const BILL_REMINDER_SHARDS: u32 = 4;

/// The table's secondary indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Index {
    /// Email lookup (`{email}` / `USER`), and the sparse bank-sync due index.
    Gsi1,
    /// Transactions by date: `USER#{userId}` / `{timestamp}#{transactionId}`.
    Gsi2,
    /// Transactions by category: `USER#{userId}` / `CATEGORY#{category}#{timestamp}`;
    /// and the sparse consent-expiry index (`CONSENT_DUE#{shard}`).
    Gsi3,
}

impl Index {
    pub fn name(self) -> &'static str {
        match self {
            Index::Gsi1 => "GSI1",
            Index::Gsi2 => "GSI2",
            Index::Gsi3 => "GSI3",
        }
    }
    pub fn attributes(self) -> (&'static str, &'static str) {
        match self {
            Index::Gsi1 => (GSI1PK, GSI1SK),
            Index::Gsi2 => (GSI2PK, GSI2SK),
            Index::Gsi3 => (GSI3PK, GSI3SK),
        }
    }
}

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

/// A key on one of the GSIs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IndexKey {
    pub index: Index,
    pub pk: String,
    pub sk: String,
}

/// A category as the app names it ("Groceries", "food_and_drink"): at most 64
/// characters, no `#` (it sits inside `CATEGORY#{category}#{timestamp}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Category(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("category must be 1 to 64 characters without '#'")]
pub struct CategoryError;

impl Category {
    pub fn new(s: &str) -> Result<Self, CategoryError> {
        let s = s.trim();
        let ok = !s.is_empty() && s.chars().count() <= 64 && !s.chars().any(|c| c == '#' || c.is_control());
        ok.then(|| Category(s.to_string())).ok_or(CategoryError)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Category {
    type Error = CategoryError;
    fn try_from(s: String) -> Result<Self, CategoryError> {
        Category::new(&s)
    }
}
impl From<Category> for String {
    fn from(c: Category) -> String {
        c.0
    }
}
impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Partition of everything a user owns (except caches).
pub fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

/// Partition of a user's AI analysis cache.
pub fn ai_cache_pk(user: &UserId) -> String {
    format!("CACHE#AI_ANALYSIS#{user}")
}

/// Partition of a user's cached API responses for one endpoint.
pub fn api_cache_pk(endpoint: &str, owner: Option<&UserId>) -> String {
    format!("CACHE#{endpoint}#{}", owner.map(UserId::as_str).unwrap_or(GLOBAL_OWNER))
}

/// Owner segment of a cache key that belongs to no user (e.g. the institution list).
pub const GLOBAL_OWNER: &str = "GLOBAL";

/// Every endpoint that keeps a per-user API cache (`CACHE#{endpoint}#{userId}`).
/// Erasure of a user's data queries each of these partitions, so a new
/// per-user cache endpoint must be listed here.
pub const USER_CACHE_ENDPOINTS: &[&str] = &["transactions", "summary", "insights", "monthly_report", "budgets", "accounts", "bills"];

/// Sort-key prefixes for `begins_with` queries inside a user's partition.
pub mod prefix {
    pub const BANK: &str = "BANK#";
    pub const ACCOUNT: &str = "ACCOUNT#";
    pub const TRANSACTION: &str = "TRANSACTION#";
    pub const SUMMARY: &str = "SUMMARY#";
    pub const CHAT: &str = "CHAT#";
    pub const TOKEN: &str = "TOKEN#";
    pub const NOTIFICATION: &str = "NOTIFICATION#";
    pub const BUDGET: &str = "BUDGET#";
    pub const ALERT: &str = "ALERT#";
    pub const SYNC_RUN: &str = "SYNC#";
    pub const IDEMPOTENCY: &str = "IDEMPOTENCY#";
    pub const PENDING_CONNECT: &str = "CONNECT#";
    pub const IMPORT_USAGE: &str = "IMPORTS#";
    pub const STATEMENT: &str = "STATEMENT#";
    pub const DEVICE: &str = "DEVICE#";
    pub const PIN: &str = "PIN#";
    pub const AI_USAGE: &str = "USAGE#AI#";
    pub const NOTIFY_REQUEST: &str = "NOTIFYREQ#";
    pub const PUSH_RECEIPT: &str = "RECEIPT#";
    pub const SETTING: &str = "SETTING#";
    pub const DATA: &str = "DATA#";
    pub const CATEGORY: &str = "CATEGORY#";
    pub const SAVED_BILL: &str = "BILL#";
    pub const BILL_PREFERENCE: &str = "BILLPREF#";
}

/// Sort key of a user's app-lock preferences.
pub const SECURITY_PREFERENCES_SK: &str = "PREFERENCES#SECURITY";

/// System configuration partition.
pub const CONFIG_PK: &str = "CONFIG#SYSTEM";

/// Every kind of item, with what identifies it. `key()` builds its primary
/// key; `parse()` is the inverse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKey {
    Profile(UserId),
    EmailClaim(Email),
    BankConnection(UserId, ConnectionId),
    BankAccount(UserId, AccountId),
    Transaction(UserId, TransactionId),
    MonthlySummary(UserId, YearMonth),
    ChatMessage(UserId, Timestamp, MessageId),
    AiAnalysis {
        user: UserId,
        analysis_type: String,
        timeframe: String,
    },
    NotificationToken(UserId, DeviceId),
    NotificationPreferences(UserId),
    Notification(UserId, Timestamp, NotificationId),
    Budget(UserId, BudgetId),
    BudgetAlert(UserId, AlertId),
    AlertPreferences(UserId),
    ApiCache {
        endpoint: String,
        owner: Option<UserId>,
        query_hash: String,
    },
    SystemConfig(SettingName),
    SyncRun(UserId, ConnectionId, Timestamp),
    Idempotency(UserId, IdempotencyKey),
    /// A pending bank connect request: its start and its state's nonce.
    PendingConnect(UserId, Timestamp, String),
    ImportUsage(UserId, YearMonth),
    Statement(UserId, StatementId),
    Device(UserId, DeviceId),
    DevicePin(UserId, DeviceId),
    SecurityPreferences(UserId),
    AiUsage(UserId, NaiveDate),
    NotificationDelivery(UserId, NotificationRequestKey),
    PushReceipt(UserId, PushReceiptId),
    SavedBill(UserId, BillId),
    BillPreference(UserId, BillId),
    /// One rate-limit window: `scope` names the route, `subject` the caller
    /// (a hash, never an address), `window` its start in epoch seconds.
    RateWindow {
        scope: String,
        subject: String,
        window: i64,
    },
}

impl ItemKey {
    pub fn key(&self) -> Key {
        use ItemKey::*;
        let (pk, sk) = match self {
            Profile(u) => (user_pk(u), "PROFILE".to_string()),
            EmailClaim(e) => (format!("EMAIL#{e}"), "EMAIL".to_string()),
            BankConnection(u, c) => (user_pk(u), format!("{}{c}", prefix::BANK)),
            BankAccount(u, a) => (user_pk(u), format!("{}{a}", prefix::ACCOUNT)),
            Transaction(u, t) => (user_pk(u), format!("{}{t}", prefix::TRANSACTION)),
            MonthlySummary(u, m) => (user_pk(u), format!("{}{m}", prefix::SUMMARY)),
            ChatMessage(u, ts, m) => (user_pk(u), format!("{}{ts}#{m}", prefix::CHAT)),
            AiAnalysis { user, analysis_type, timeframe } => (ai_cache_pk(user), format!("{}{analysis_type}#{timeframe}", prefix::DATA)),
            NotificationToken(u, d) => (user_pk(u), format!("{}{d}", prefix::TOKEN)),
            NotificationPreferences(u) => (user_pk(u), "PREFERENCES#NOTIFICATIONS".to_string()),
            Notification(u, ts, n) => (user_pk(u), format!("{}{ts}#{n}", prefix::NOTIFICATION)),
            Budget(u, b) => (user_pk(u), format!("{}{b}", prefix::BUDGET)),
            BudgetAlert(u, a) => (user_pk(u), format!("{}{a}", prefix::ALERT)),
            AlertPreferences(u) => (user_pk(u), "PREFERENCES#ALERTS".to_string()),
            ApiCache { endpoint, owner, query_hash } => (api_cache_pk(endpoint, owner.as_ref()), format!("{}{query_hash}", prefix::DATA)),
            SystemConfig(n) => (CONFIG_PK.to_string(), format!("{}{n}", prefix::SETTING)),
            SyncRun(u, c, ts) => (user_pk(u), format!("{}{c}#{ts}", prefix::SYNC_RUN)),
            Idempotency(u, k) => (user_pk(u), format!("{}{k}", prefix::IDEMPOTENCY)),
            PendingConnect(u, ts, n) => (user_pk(u), format!("{}{ts}#{n}", prefix::PENDING_CONNECT)),
            ImportUsage(u, m) => (user_pk(u), format!("{}{m}", prefix::IMPORT_USAGE)),
            Statement(u, s) => (user_pk(u), format!("{}{s}", prefix::STATEMENT)),
            Device(u, d) => (user_pk(u), format!("{}{d}", prefix::DEVICE)),
            DevicePin(u, d) => (user_pk(u), format!("{}{d}", prefix::PIN)),
            SecurityPreferences(u) => (user_pk(u), SECURITY_PREFERENCES_SK.to_string()),
            AiUsage(u, d) => (user_pk(u), format!("{}{}", prefix::AI_USAGE, d.format("%Y-%m-%d"))),
            NotificationDelivery(u, r) => (user_pk(u), format!("{}{r}", prefix::NOTIFY_REQUEST)),
            PushReceipt(u, r) => (user_pk(u), format!("{}{r}", prefix::PUSH_RECEIPT)),
            SavedBill(u, b) => (user_pk(u), format!("{}{b}", prefix::SAVED_BILL)),
            BillPreference(u, b) => (user_pk(u), format!("{}{b}", prefix::BILL_PREFERENCE)),
            RateWindow { scope, subject, window } => (format!("RATE#{scope}#{subject}"), format!("WINDOW#{window}")),
        };
        Key { pk, sk }
    }

    /// The inverse of [`ItemKey::key`]; `None` for a key we did not build.
    pub fn parse(key: &Key) -> Option<ItemKey> {
        let (pk, sk) = (key.pk.as_str(), key.sk.as_str());
        if let Some(user) = pk.strip_prefix("USER#") {
            let u = UserId::new(user).ok()?;
            return parse_user_sk(u, sk);
        }
        if let Some(e) = pk.strip_prefix("EMAIL#") {
            return (sk == "EMAIL").then(|| Email::parse(e).ok()).flatten().map(ItemKey::EmailClaim);
        }
        if let Some(user) = pk.strip_prefix("CACHE#AI_ANALYSIS#") {
            let (t, f) = sk.strip_prefix(prefix::DATA)?.split_once('#')?;
            check_id("analysisType", t).ok()?;
            check_id("timeframe", f).ok()?;
            return Some(ItemKey::AiAnalysis { user: UserId::new(user).ok()?, analysis_type: t.into(), timeframe: f.into() });
        }
        if let Some(rest) = pk.strip_prefix("CACHE#") {
            let (endpoint, owner) = rest.split_once('#')?;
            check_id("endpoint", endpoint).ok()?;
            let owner = if owner == GLOBAL_OWNER { None } else { Some(UserId::new(owner).ok()?) };
            let query_hash = sk.strip_prefix(prefix::DATA)?;
            check_id("queryHash", query_hash).ok()?;
            return Some(ItemKey::ApiCache { endpoint: endpoint.into(), owner, query_hash: query_hash.into() });
        }
        if let Some(rest) = pk.strip_prefix("RATE#") {
            let (scope, subject) = rest.split_once('#')?;
            check_id("scope", scope).ok()?;
            check_id("subject", subject).ok()?;
            let window: i64 = sk.strip_prefix("WINDOW#")?.parse().ok()?;
            (sk == format!("WINDOW#{window}")).then_some(())?;
            return Some(ItemKey::RateWindow { scope: scope.into(), subject: subject.into(), window });
        }
        if pk == CONFIG_PK {
            return SettingName::new(sk.strip_prefix(prefix::SETTING)?).ok().map(ItemKey::SystemConfig);
        }
        None
    }
}

fn parse_user_sk(u: UserId, sk: &str) -> Option<ItemKey> {
    use ItemKey::*;
    fn ts_and<T>(rest: &str, f: impl Fn(&str) -> Option<T>) -> Option<(Timestamp, T)> {
        // Fixed-width timestamps: 24 characters, then '#'.
        let (ts, id) = (rest.get(..24)?, rest.get(24..)?.strip_prefix('#')?);
        let t = Timestamp::parse(ts).ok()?;
        (t.to_string() == ts).then_some(())?;
        Some((t, f(id)?))
    }
    Some(match sk {
        "PROFILE" => Profile(u),
        "PREFERENCES#NOTIFICATIONS" => NotificationPreferences(u),
        SECURITY_PREFERENCES_SK => SecurityPreferences(u),
        _ if sk.starts_with(prefix::DEVICE) => Device(u, DeviceId::new(&sk[prefix::DEVICE.len()..]).ok()?),
        _ if sk.starts_with(prefix::PIN) => DevicePin(u, DeviceId::new(&sk[prefix::PIN.len()..]).ok()?),
        "PREFERENCES#ALERTS" => AlertPreferences(u),
        _ if sk.starts_with(prefix::BANK) => BankConnection(u, ConnectionId::new(&sk[prefix::BANK.len()..]).ok()?),
        _ if sk.starts_with(prefix::ACCOUNT) => BankAccount(u, AccountId::new(&sk[prefix::ACCOUNT.len()..]).ok()?),
        _ if sk.starts_with(prefix::TRANSACTION) => Transaction(u, TransactionId::new(&sk[prefix::TRANSACTION.len()..]).ok()?),
        _ if sk.starts_with(prefix::SUMMARY) => MonthlySummary(u, YearMonth::parse(&sk[prefix::SUMMARY.len()..])?),
        _ if sk.starts_with(prefix::CHAT) => {
            let (ts, m) = ts_and(&sk[prefix::CHAT.len()..], |s| MessageId::new(s).ok())?;
            ChatMessage(u, ts, m)
        }
        _ if sk.starts_with(prefix::TOKEN) => NotificationToken(u, DeviceId::new(&sk[prefix::TOKEN.len()..]).ok()?),
        _ if sk.starts_with(prefix::NOTIFICATION) => {
            let (ts, n) = ts_and(&sk[prefix::NOTIFICATION.len()..], |s| NotificationId::new(s).ok())?;
            Notification(u, ts, n)
        }
        _ if sk.starts_with(prefix::SAVED_BILL) => SavedBill(u, BillId::new(&sk[prefix::SAVED_BILL.len()..]).ok()?),
        _ if sk.starts_with(prefix::BILL_PREFERENCE) => BillPreference(u, BillId::new(&sk[prefix::BILL_PREFERENCE.len()..]).ok()?),
        _ if sk.starts_with(prefix::BUDGET) => Budget(u, BudgetId::new(&sk[prefix::BUDGET.len()..]).ok()?),
        _ if sk.starts_with(prefix::ALERT) => BudgetAlert(u, AlertId::new(&sk[prefix::ALERT.len()..]).ok()?),
        _ if sk.starts_with(prefix::PENDING_CONNECT) => {
            let (ts, n) = ts_and(&sk[prefix::PENDING_CONNECT.len()..], |s| check_id("nonce", s).ok().map(|_| s.to_string()))?;
            PendingConnect(u, ts, n)
        }
        _ if sk.starts_with(prefix::IMPORT_USAGE) => ImportUsage(u, YearMonth::parse(&sk[prefix::IMPORT_USAGE.len()..])?),
        _ if sk.starts_with(prefix::STATEMENT) => Statement(u, StatementId::new(&sk[prefix::STATEMENT.len()..]).ok()?),
        _ if sk.starts_with(prefix::AI_USAGE) => {
            let d = &sk[prefix::AI_USAGE.len()..];
            let date = NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
            (date.format("%Y-%m-%d").to_string() == d).then_some(())?;
            AiUsage(u, date)
        }
        _ if sk.starts_with(prefix::IDEMPOTENCY) => Idempotency(u, IdempotencyKey::new(&sk[prefix::IDEMPOTENCY.len()..]).ok()?),
        _ if sk.starts_with(prefix::NOTIFY_REQUEST) => {
            NotificationDelivery(u, NotificationRequestKey::new(&sk[prefix::NOTIFY_REQUEST.len()..]).ok()?)
        }
        _ if sk.starts_with(prefix::PUSH_RECEIPT) => PushReceipt(u, PushReceiptId::new(&sk[prefix::PUSH_RECEIPT.len()..]).ok()?),
        _ if sk.starts_with(prefix::SYNC_RUN) => {
            let rest = &sk[prefix::SYNC_RUN.len()..];
            // The connection id has no '#'; the timestamp follows the first one.
            let (c, ts) = rest.split_once('#')?;
            let t = Timestamp::parse(ts).ok()?;
            (t.to_string() == ts).then_some(())?;
            SyncRun(u, ConnectionId::new(c).ok()?, t)
        }
        _ => return None,
    })
}

/// GSI1 for a profile: the normalised email, then `USER`.
pub fn gsi1_email(email: &Email) -> IndexKey {
    IndexKey { index: Index::Gsi1, pk: email.as_str().to_string(), sk: "USER".into() }
}

/// Shard of the bank-sync due index for a connection (stable, spread evenly).
pub fn sync_shard(connection: &ConnectionId) -> u32 {
    fnv1a(connection.as_str()) % SYNC_SHARDS
}

/// Partition of one shard of the bank-sync due index.
pub fn sync_due_pk(shard: u32) -> String {
    format!("SYNC#{shard}")
}

/// GSI1 for a syncable connection (sparse: removed while not syncable).
/// Sorted by when it is due, so "due now" is `GSI1SK <= now`.
pub fn gsi1_sync_due(next_sync: Timestamp, user: &UserId, connection: &ConnectionId) -> IndexKey {
    IndexKey { index: Index::Gsi1, pk: sync_due_pk(sync_shard(connection)), sk: format!("{next_sync}#{user}#{connection}") }
}

/// Partition of one shard of the consent-expiry index.
pub fn consent_due_pk(shard: u32) -> String {
    format!("CONSENT_DUE#{shard}")
}

/// GSI3 for a syncable connection whose consent expiry was not announced yet
/// (sparse), sorted by that expiry: "expires within 7 days" is `GSI3SK <= now + 7 d`.
/// Sharded like the sync due index ([`SYNC_SHARDS`]).
pub fn gsi3_consent_due(expires_at: Timestamp, user: &UserId, connection: &ConnectionId) -> IndexKey {
    IndexKey { index: Index::Gsi3, pk: consent_due_pk(sync_shard(connection)), sk: format!("{expires_at}#{user}#{connection}") }
}

/// The expiry, user and connection a consent-due sort key names.
pub fn parse_consent_due_sk(sk: &str) -> Option<(Timestamp, UserId, ConnectionId)> {
    let (ts, rest) = (sk.get(..24)?, sk.get(24..)?.strip_prefix('#')?);
    let (u, c) = rest.split_once('#')?;
    Some((Timestamp::parse(ts).ok()?, UserId::new(u).ok()?, ConnectionId::new(c).ok()?))
}

/// Partition of one shard of the pending push receipt index.
pub fn receipt_due_pk(shard: u32) -> String {
    format!("RECEIPT_DUE#{shard}")
}

/// GSI1 for a push receipt not read yet (sparse: the item is deleted once
/// read), sorted by when to read it: "due now" is `GSI1SK <= now`.
pub fn gsi1_receipt_due(check_after: Timestamp, user: &UserId, device: &DeviceId, receipt: &PushReceiptId) -> IndexKey {
    let shard = fnv1a(receipt.as_str()) % RECEIPT_SHARDS;
    IndexKey { index: Index::Gsi1, pk: receipt_due_pk(shard), sk: format!("{check_after}#{user}#{device}#{receipt}") }
}

/// The user, device and receipt a receipt-due sort key names.
pub fn parse_receipt_due_sk(sk: &str) -> Option<(Timestamp, UserId, DeviceId, PushReceiptId)> {
    let (ts, rest) = (sk.get(..24)?, sk.get(24..)?.strip_prefix('#')?);
    let (u, rest) = rest.split_once('#')?;
    let (d, r) = rest.split_once('#')?;
    Some((Timestamp::parse(ts).ok()?, UserId::new(u).ok()?, DeviceId::new(d).ok()?, PushReceiptId::new(r).ok()?))
}

/// FNV-1a of a string (stable across processes and releases, unlike std's hasher).
fn fnv1a(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h = (h ^ b as u32).wrapping_mul(0x0100_0193);
    }
    h
}

/// Partition of one shard of the users active in `month` (their monthly summaries).
pub fn active_pk(month: YearMonth, shard: u32) -> String {
    format!("ACTIVE#{month}#{shard}")
}

/// GSI1 of a monthly summary: its user is active in its month.
pub fn gsi1_active(month: YearMonth, user: &UserId) -> IndexKey {
    let shard = fnv1a(user.as_str()) % ACTIVE_SHARDS;
    IndexKey { index: Index::Gsi1, pk: active_pk(month, shard), sk: user.to_string() }
}

/// Partition of one shard of the bill reminder index.
pub fn bill_reminder_pk(shard: u32) -> String {
    format!("BILL_REMINDER#{shard}")
}

/// GSI1 of a bill preference whose reminder is on (sparse).
pub fn gsi1_bill_reminder(user: &UserId, bill: &BillId) -> IndexKey {
    let shard = fnv1a(user.as_str()) % BILL_REMINDER_SHARDS;
    IndexKey { index: Index::Gsi1, pk: bill_reminder_pk(shard), sk: format!("{user}#{bill}") }
}

/// The user and bill a bill-reminder sort key names.
pub fn parse_bill_reminder_sk(sk: &str) -> Option<(UserId, BillId)> {
    let (u, b) = sk.split_once('#')?;
    Some((UserId::new(u).ok()?, BillId::new(b).ok()?))
}

/// Partition of one shard of the budget rollover due index.
pub fn budget_due_pk(shard: u32) -> String {
    format!("BUDGET_DUE#{shard}")
}

/// GSI1 for a recurring budget (sparse: only while it rolls over), sorted by
/// the end of its current period, so "due now" is `GSI1SK <= now`.
pub fn gsi1_budget_due(period_end: Timestamp, user: &UserId, budget: &BudgetId) -> IndexKey {
    let shard = fnv1a(&format!("{user}#{budget}")) % BUDGET_SHARDS;
    IndexKey { index: Index::Gsi1, pk: budget_due_pk(shard), sk: format!("{period_end}#{user}#{budget}") }
}

/// The user and budget a budget-due sort key names.
pub fn parse_budget_due_sk(sk: &str) -> Option<(Timestamp, UserId, BudgetId)> {
    let (ts, rest) = (sk.get(..24)?, sk.get(24..)?.strip_prefix('#')?);
    let (u, b) = rest.split_once('#')?;
    Some((Timestamp::parse(ts).ok()?, UserId::new(u).ok()?, BudgetId::new(b).ok()?))
}

/// GSI2 for a transaction: newest first is a descending query.
pub fn gsi2_transaction(user: &UserId, at: Timestamp, txn: &TransactionId) -> IndexKey {
    IndexKey { index: Index::Gsi2, pk: user_pk(user), sk: format!("{at}#{txn}") }
}

/// GSI2 sort-key bounds for transactions between two instants (inclusive).
pub fn gsi2_range(from: Timestamp, to: Timestamp) -> (String, String) {
    // '#' < '~': `{to}~` is above every `{to}#{id}`.
    (format!("{from}#"), format!("{to}~"))
}

/// GSI3 for a transaction under its effective category.
pub fn gsi3_transaction(user: &UserId, category: &Category, at: Timestamp) -> IndexKey {
    IndexKey { index: Index::Gsi3, pk: user_pk(user), sk: format!("{}{category}#{at}", prefix::CATEGORY) }
}

/// GSI3 sort-key prefix for one category (the trailing `#` keeps `food` from
/// matching `food_and_drink`).
pub fn gsi3_category_prefix(category: &Category) -> String {
    format!("{}{category}#", prefix::CATEGORY)
}

/// GSI3 sort-key bounds for one category's transactions between two instants
/// (inclusive; an open end is the category's first or last).
pub fn gsi3_category_range(category: &Category, from: Option<Timestamp>, to: Option<Timestamp>) -> (String, String) {
    let prefix = gsi3_category_prefix(category);
    // '~' sorts after every timestamp character.
    (
        format!("{prefix}{}", from.map(|f| f.to_string()).unwrap_or_default()),
        format!("{prefix}{}", to.map_or_else(|| "~".into(), |t| t.to_string())),
    )
}

/// Upper bound of a due index's sort keys (`{time}#...`) for "due at or
/// before `t`": '~' sorts after the '#' that follows the time.
pub fn due_at_or_before(t: Timestamp) -> String {
    format!("{t}~")
}

/// Upper bound of a due index's sort keys for "due strictly before `t`":
/// `{t}#...` sorts above `{t}#`.
pub fn due_before(t: Timestamp) -> String {
    format!("{t}#")
}

/// The due time, user and connection a sync-due sort key names.
pub fn parse_sync_due_sk(sk: &str) -> Option<(Timestamp, UserId, ConnectionId)> {
    // The same layout as the consent index: `{time}#{user}#{connection}`.
    parse_consent_due_sk(sk)
}

/// Sort-key bounds of a user's pending bank connections started at or after `since`.
pub fn pending_connect_since(since: Timestamp) -> (String, String) {
    (format!("{}{since}", prefix::PENDING_CONNECT), format!("{}~", prefix::PENDING_CONNECT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn range_bounds_hold_what_they_name() {
        let t = Timestamp::parse("2025-08-20T10:00:00.000Z").unwrap();
        let later = Timestamp::parse("2025-08-20T10:00:00.001Z").unwrap();
        let (u, c) = (UserId::new("u1").unwrap(), ConnectionId::new("c1").unwrap());
        let at = gsi1_sync_due(t, &u, &c).sk;
        assert!(at <= due_at_or_before(t) && at > due_before(t));
        assert!(gsi1_sync_due(later, &u, &c).sk > due_at_or_before(t));
        assert_eq!(parse_sync_due_sk(&at), Some((t, u, c)));
        let food = Category::new("food").unwrap();
        let (lo, hi) = gsi3_category_range(&food, Some(t), None);
        let sk = gsi3_transaction(&UserId::new("u1").unwrap(), &food, later).sk;
        assert!(lo <= sk && sk <= hi);
        let (lo, hi) = gsi3_category_range(&food, None, Some(t));
        assert!(!(lo <= sk && sk <= hi));
        let pending = ItemKey::PendingConnect(UserId::new("u1").unwrap(), later, "n".into()).key().sk;
        let (lo, hi) = pending_connect_since(t);
        assert!(lo <= pending && pending <= hi);
    }

    fn id() -> impl Strategy<Value = String> {
        "[A-Za-z0-9._:@!$%&*+=?^-]{1,40}"
    }
    fn ts() -> impl Strategy<Value = Timestamp> {
        (0i64..4_102_444_800_000).prop_map(|ms| Timestamp::from_millis(ms).unwrap())
    }
    fn user() -> impl Strategy<Value = UserId> + Clone {
        id().prop_map(|s| UserId::new(s).unwrap()).boxed()
    }
    fn item_key() -> impl Strategy<Value = ItemKey> {
        let u = user();
        prop_oneof![
            u.clone().prop_map(ItemKey::Profile),
            ("[a-z0-9.]{1,20}", "[a-z]{1,10}").prop_map(|(l, d)| ItemKey::EmailClaim(Email::parse(&format!("{l}@{d}.com")).unwrap())),
            (u.clone(), id()).prop_map(|(u, c)| ItemKey::BankConnection(u, ConnectionId::new(c).unwrap())),
            (u.clone(), id()).prop_map(|(u, a)| ItemKey::BankAccount(u, AccountId::new(a).unwrap())),
            (u.clone(), id()).prop_map(|(u, t)| ItemKey::Transaction(u, TransactionId::new(t).unwrap())),
            (u.clone(), 1970i32..2200, 1u32..=12).prop_map(|(u, year, month)| ItemKey::MonthlySummary(u, YearMonth { year, month })),
            (u.clone(), ts(), id()).prop_map(|(u, t, m)| ItemKey::ChatMessage(u, t, MessageId::new(m).unwrap())),
            (u.clone(), "[a-z_]{1,20}", "[a-z]{1,10}").prop_map(|(user, analysis_type, timeframe)| ItemKey::AiAnalysis {
                user,
                analysis_type,
                timeframe
            }),
            (u.clone(), id()).prop_map(|(u, d)| ItemKey::NotificationToken(u, DeviceId::new(d).unwrap())),
            u.clone().prop_map(ItemKey::NotificationPreferences),
            (u.clone(), ts(), id()).prop_map(|(u, t, n)| ItemKey::Notification(u, t, NotificationId::new(n).unwrap())),
            (u.clone(), id()).prop_map(|(u, b)| ItemKey::Budget(u, BudgetId::new(b).unwrap())),
            (u.clone(), id()).prop_map(|(u, a)| ItemKey::BudgetAlert(u, AlertId::new(a).unwrap())),
            u.clone().prop_map(ItemKey::AlertPreferences),
            ("[a-z_]{1,20}", proptest::option::of(u.clone()), "[a-f0-9]{1,64}")
                .prop_map(|(endpoint, owner, query_hash)| ItemKey::ApiCache { endpoint, owner, query_hash }),
            id().prop_map(|n| ItemKey::SystemConfig(SettingName::new(n).unwrap())),
            (u.clone(), id(), ts()).prop_map(|(u, c, t)| ItemKey::SyncRun(u, ConnectionId::new(c).unwrap(), t)),
            (u.clone(), ts(), "[a-f0-9]{32}").prop_map(|(u, t, n)| ItemKey::PendingConnect(u, t, n)),
            (u.clone(), id()).prop_map(|(u, k)| ItemKey::Idempotency(u, IdempotencyKey::new(k).unwrap())),
            (u.clone(), 1970i32..2200, 1u32..=12).prop_map(|(u, year, month)| ItemKey::ImportUsage(u, YearMonth { year, month })),
            (u.clone(), id()).prop_map(|(u, s)| ItemKey::Statement(u, StatementId::new(s).unwrap())),
            (u.clone(), id()).prop_map(|(u, d)| ItemKey::Device(u, DeviceId::new(d).unwrap())),
            (u.clone(), id()).prop_map(|(u, d)| ItemKey::DevicePin(u, DeviceId::new(d).unwrap())),
            u.clone().prop_map(ItemKey::SecurityPreferences),
            ("[a-z_-]{1,20}", "[a-f0-9]{1,64}", 0i64..4_102_444_800).prop_map(|(scope, subject, window)| ItemKey::RateWindow {
                scope,
                subject,
                window
            }),
            (u.clone(), 0i64..100_000)
                .prop_map(|(u, d)| ItemKey::AiUsage(u, NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new(d as u64))),
            (u.clone(), id()).prop_map(|(u, k)| ItemKey::NotificationDelivery(u, NotificationRequestKey::new(k).unwrap())),
            (u.clone(), id()).prop_map(|(u, r)| ItemKey::PushReceipt(u, PushReceiptId::new(r).unwrap())),
            (u.clone(), id()).prop_map(|(u, b)| ItemKey::SavedBill(u, BillId::new(b).unwrap())),
            (u, id()).prop_map(|(u, b)| ItemKey::BillPreference(u, BillId::new(b).unwrap())),
        ]
    }

    proptest! {
        #[test]
        fn every_key_parses_back(k in item_key()) {
            prop_assume!(!matches!(&k, ItemKey::ApiCache { owner: Some(o), .. } if o.as_str() == GLOBAL_OWNER));
            prop_assert_eq!(ItemKey::parse(&k.key()), Some(k));
        }

        #[test]
        fn budget_due_keys_parse_back(t in ts(), u in user(), b in id()) {
            let b = BudgetId::new(b).unwrap();
            let k = gsi1_budget_due(t, &u, &b);
            prop_assert!(k.pk.starts_with("BUDGET_DUE#"));
            prop_assert_eq!(parse_budget_due_sk(&k.sk), Some((t, u, b)));
        }

        #[test]
        fn consent_due_keys_parse_back(t in ts(), u in user(), c in id()) {
            let c = ConnectionId::new(c).unwrap();
            let k = gsi3_consent_due(t, &u, &c);
            prop_assert!(k.pk.starts_with("CONSENT_DUE#"));
            prop_assert_eq!(parse_consent_due_sk(&k.sk), Some((t, u, c)));
        }

        #[test]
        fn bill_reminder_keys_parse_back(u in user(), b in id()) {
            let b = BillId::new(b).unwrap();
            let k = gsi1_bill_reminder(&u, &b);
            prop_assert!(k.pk.starts_with("BILL_REMINDER#"));
            prop_assert_eq!(parse_bill_reminder_sk(&k.sk), Some((u, b)));
        }

        #[test]
        fn active_keys_name_their_user_once_per_month(u in user(), y in 1970i32..9999, m in 1u32..=12) {
            let month = YearMonth { year: y, month: m };
            let k = gsi1_active(month, &u);
            let prefix = format!("ACTIVE#{month}#");
            prop_assert!(k.pk.starts_with(&prefix));
            prop_assert_eq!(UserId::new(&k.sk).ok(), Some(u));
        }

        #[test]
        fn receipt_due_keys_parse_back(t in ts(), u in user(), d in id(), r in id()) {
            let (d, r) = (DeviceId::new(d).unwrap(), PushReceiptId::new(r).unwrap());
            let k = gsi1_receipt_due(t, &u, &d, &r);
            prop_assert!(k.pk.starts_with("RECEIPT_DUE#"));
            prop_assert_eq!(parse_receipt_due_sk(&k.sk), Some((t, u, d, r)));
        }

        #[test]
        fn gsi2_order_is_time_order(a in ts(), b in ts(), ta in id(), tb in id()) {
            let u = UserId::new("u").unwrap();
            let ka = gsi2_transaction(&u, a, &TransactionId::new(ta).unwrap()).sk;
            let kb = gsi2_transaction(&u, b, &TransactionId::new(tb).unwrap()).sk;
            if a < b { prop_assert!(ka < kb) }
            let (lo, hi) = gsi2_range(a, a);
            prop_assert!(lo <= ka && ka <= hi);
        }
    }

    #[test]
    fn literal_shapes() {
        let u = UserId::new("550e8400-e29b-41d4-a716-446655440000").unwrap();
        assert_eq!(ItemKey::Profile(u.clone()).key(), Key { pk: "USER#550e8400-e29b-41d4-a716-446655440000".into(), sk: "PROFILE".into() });
        let c = Category::new("food").unwrap();
        assert!(!gsi3_transaction(&u, &Category::new("food_and_drink").unwrap(), Timestamp::from_millis(0).unwrap())
            .sk
            .starts_with(&gsi3_category_prefix(&c)));
        assert!(sync_shard(&ConnectionId::new("c1").unwrap()) < SYNC_SHARDS);
    }
}
