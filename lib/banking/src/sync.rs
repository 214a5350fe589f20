//! The sync of one bank connection (issue 6 §4).
//!
//! 1. Refresh the access token when it is near expiry; store the new tokens
//!    with a version condition.
//! 2. Fetch everything first (accounts, balances, settled transactions from
//!    the watermark minus an overlap window, pending ones). A provider failure
//!    here writes nothing.
//! 3. Plan the changes against what is stored: transaction ids are
//!    deterministic from (provider, account, stable id), so a re-sync finds the
//!    same items; unchanged ones are not written; pending ones that are no
//!    longer pending and settled ones the provider no longer returns in the
//!    re-fetched window are removed.
//! 4. Apply them with the ledger's batch, so each TransactWriteItems moves
//!    the monthly summaries with its transactions. A stop between groups
//!    leaves consistent groups; the next run plans only what is left.
//! 5. Only then advance the watermark (`lastSync`, `nextSync`, `stats`) and
//!    record a sync run.

use crate::notices::{self, NotificationQueue};
use crate::provider::*;
use crate::store::SyncStore;
use expenzez_api::ledger::{apply_batch, BatchError, Change};
use expenzez_domain::category::AppCategory;
use expenzez_domain::entities::{
    AccountProvider, AccountStatus, Balance, BankAccount, BankConnection, ConnectionStatus, Merchant, SyncError as LastError, SyncOutcome,
    SyncRun, Transaction, TransactionCategory, TransactionSource, TransactionSummary, TransactionType,
};
use expenzez_domain::ids::{AccountId, ConnectionId, TransactionId, UserId};
use expenzez_domain::keys::Category;
use expenzez_domain::merchant;
use expenzez_domain::money::Money;
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Retry, StoreError, Versioned};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How a sync is paced.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// Re-fetch this far before the last successful sync: late-posted and
    /// changed transactions land inside it.
    pub overlap: Duration,
    /// History fetched by a first sync.
    pub initial_history: Duration,
    /// Stored pending transactions this old are still looked at (and removed
    /// when the bank no longer lists them as pending), even before the
    /// re-fetched window: card holds settle or lapse within days.
    pub pending_lookback: Duration,
    /// Next sync after a successful one.
    pub interval: Duration,
    /// Refresh the access token if it expires within this.
    pub refresh_margin: Duration,
    /// First retry delay after a retryable failure; doubled per consecutive failure.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Re-plans after losing a race with another writer.
    pub max_conflicts: u32,
    /// A transaction first stored by a sync after the connection's first one,
    /// this large or larger (either direction), is notified.
    pub large_transaction: Money,
    /// Where the sync's notifications go (new large transactions, a
    /// connection that needs reconnecting); `None`: none are sent.
    pub notifications: Option<NotificationQueue>,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            overlap: Duration::from_secs(7 * 86_400),
            initial_history: Duration::from_secs(90 * 86_400),
            pending_lookback: Duration::from_secs(30 * 86_400),
            interval: Duration::from_secs(4 * 3600),
            refresh_margin: Duration::from_secs(300),
            retry_base: Duration::from_secs(300),
            retry_max: Duration::from_secs(6 * 3600),
            max_conflicts: 4,
            large_transaction: Money::from_minor(25_000),
            notifications: None,
        }
    }
}

impl SyncSettings {
    /// The defaults, sending notifications to `NOTIFICATION_QUEUE_URL` when it is set.
    pub async fn from_env() -> Self {
        Self { notifications: NotificationQueue::from_env().await, ..Self::default() }
    }
}

/// What one sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub accounts: u32,
    pub transactions_written: u32,
    pub transactions_removed: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no such bank connection")]
    NotFound,
    #[error("connection is not syncable")]
    NotSyncable,
    /// Consent or grant gone: the connection is now `reconnect_required`.
    #[error("the user must reconnect the bank ({code})")]
    ReconnectRequired { code: String },
    /// Provider or table temporarily unavailable; rescheduled at `next_sync`.
    #[error("sync failed, will retry ({code})")]
    Retryable { code: String, next_sync: Timestamp },
    /// Unusable provider data; recorded, retried on the next schedule.
    #[error("sync failed ({code})")]
    Failed { code: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// An SQS worker returns these as batch-item failures (redelivery).
    pub fn is_retryable(&self) -> bool {
        matches!(self, SyncError::Retryable { .. }) || matches!(self, SyncError::Store(e) if e.is_retryable())
    }
}

/// A failure on the way, before it is recorded on the connection.
enum Failure {
    Provider(ProviderError),
    Store(StoreError),
    Summary(String),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Self {
        Failure::Provider(e)
    }
}
impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}
impl From<BatchError> for Failure {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::Store(s) => Failure::Store(s),
            other => Failure::Summary(other.to_string()),
        }
    }
}

fn dur(d: Duration) -> i64 {
    d.as_secs() as i64
}

/// Syncs one connection. Every outcome is recorded on the connection and as a
/// A failure as recorded on the connection: code, message, backoff, whether to reconnect.
type RecordedError = (String, String, Option<Duration>, bool);

/// [`SyncRun`]; the error says whether to retry.
pub async fn sync_connection<S: SyncStore, P: BankProvider>(
    store: &S,
    provider: &P,
    settings: &SyncSettings,
    user: &UserId,
    connection: &ConnectionId,
) -> Result<SyncReport, SyncError> {
    let started = store.now();
    let clock = std::time::Instant::now();
    // The bank's name and logo as the provider reports them now.
    let mut bank_seen: Option<(String, Option<String>)> = None;
    let conn = store.connection(user, connection).await?.ok_or(SyncError::NotFound)?;
    if !conn.value.is_syncable() {
        return Err(SyncError::NotSyncable);
    }
    let before = conn.value.clone();
    let mut large = Vec::new();
    let result = run(store, provider, settings, conn).await.map(|(report, bank, fresh)| {
        bank_seen = bank;
        large = fresh;
        report
    });
    let now = store.now();
    let report = result.as_ref().map(|r| *r).unwrap_or_default();
    let (outcome, error): (SyncOutcome, Option<RecordedError>) = match &result {
        Ok(_) => (SyncOutcome::Succeeded, None),
        Err(Failure::Provider(ProviderError::ReconnectRequired { code })) => {
            (SyncOutcome::ReconnectRequired, Some((code.clone(), "the bank needs to be reconnected".into(), None, false)))
        }
        Err(Failure::Provider(e @ ProviderError::Retryable { retry_after, .. })) => {
            (SyncOutcome::Failed, Some((e.code().into(), e.to_string(), *retry_after, true)))
        }
        Err(Failure::Provider(e)) => (SyncOutcome::Failed, Some((e.code().into(), e.to_string(), None, false))),
        Err(Failure::Store(e)) => (SyncOutcome::Failed, Some(("store".into(), e.to_string(), None, e.is_retryable() || e.is_conflict()))),
        Err(Failure::Summary(m)) => (SyncOutcome::Failed, Some(("summary".into(), m.clone(), None, false))),
    };
    if outcome == SyncOutcome::ReconnectRequired {
        // Before the connection is marked: a retry after a failed write sends the same request id.
        notices::send(settings.notifications.as_ref(), &[notices::reconnect_required(&before, now)], "bank reconnect").await;
    }
    let mut next_sync = None;
    let updated = update_connection(store, user, connection, |c| {
        c.updated_at = now;
        match &error {
            None => {
                c.status = ConnectionStatus::Active;
                c.last_sync = Some(now);
                c.next_sync = Some(now.plus_seconds(dur(settings.interval)));
                c.last_error = None;
                c.stats.total_accounts = report.accounts;
                if let Some((name, logo)) = &bank_seen {
                    c.bank_name = name.clone();
                    c.bank_logo = logo.clone();
                }
                c.stats.last_successful_sync = Some(started);
                c.stats.sync_count += 1;
            }
            Some((code, message, retry_after, _)) => {
                let retry_count = c.last_error.as_ref().map(|e| e.retry_count + 1).unwrap_or(1);
                c.last_error = Some(LastError { code: code.clone(), message: message.clone(), timestamp: now, retry_count });
                c.stats.error_count += 1;
                if outcome == SyncOutcome::ReconnectRequired {
                    // Out of the due index (sparse GSI1) until the user reconnects.
                    c.status = ConnectionStatus::ReconnectRequired;
                    c.next_sync = None;
                } else {
                    c.status = ConnectionStatus::Error;
                    let exp = settings.retry_base.saturating_mul(1 << (retry_count - 1).min(16));
                    let wait = exp.max(retry_after.unwrap_or_default()).min(settings.retry_max);
                    c.next_sync = Some(now.plus_seconds(dur(wait).max(1)));
                }
            }
        }
        next_sync = c.next_sync;
    })
    .await;
    let run = SyncRun {
        user_id: user.clone(),
        connection_id: connection.clone(),
        started_at: started,
        finished_at: now,
        outcome,
        accounts_synced: report.accounts,
        transactions_written: report.transactions_written,
        transactions_removed: report.transactions_removed,
        duration_ms: clock.elapsed().as_millis() as u64,
        error_code: error.as_ref().map(|e| e.0.clone()),
        ttl: SyncRun::ttl_for(started),
    };
    let recorded = store.record_run(&run).await;
    updated?;
    recorded?;
    let requests: Vec<_> = large.iter().map(|t| notices::large_transaction(t, now)).collect();
    notices::send(settings.notifications.as_ref(), &requests, "large transactions").await;
    match (result, error) {
        (Ok(r), _) => {
            tracing::info!(accounts = r.accounts, written = r.transactions_written, removed = r.transactions_removed, "bank sync done");
            Ok(r)
        }
        (Err(_), Some((code, _, _, retryable))) => {
            tracing::warn!(code = %code, retryable, "bank sync failed");
            Err(match outcome {
                SyncOutcome::ReconnectRequired => SyncError::ReconnectRequired { code },
                _ if retryable => SyncError::Retryable { code, next_sync: next_sync.unwrap_or(now) },
                _ => SyncError::Failed { code },
            })
        }
        (Err(_), None) => unreachable!("a failure always has an error"),
    }
}

/// Read-modify-write of the connection, retried on a version conflict.
async fn update_connection<S: SyncStore>(
    store: &S,
    user: &UserId,
    id: &ConnectionId,
    mut change: impl FnMut(&mut BankConnection),
) -> Result<Versioned<BankConnection>, StoreError> {
    let mut tries = Retry::new(8);
    while tries.next().await {
        let Versioned { mut value, version } = store.connection(user, id).await?.ok_or(StoreError::NotFound)?;
        change(&mut value);
        match store.save_connection(&value, version).await {
            Ok(version) => return Ok(Versioned { value, version }),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict { op: "PutItem" })
}

/// What the provider holds for one account.
struct Fetched {
    account: ProviderAccount,
    balance: ProviderBalance,
    settled: Vec<ProviderTransaction>,
    pending: Vec<ProviderTransaction>,
}

async fn fetch_all<P: BankProvider>(provider: &P, token: &str, from: Timestamp, to: Timestamp) -> ProviderResult<Vec<Fetched>> {
    let mut out = Vec::new();
    for account in provider.accounts(token).await? {
        let balance = provider.balance(token, &account.account_id).await?;
        let settled = provider.transactions(token, &account.account_id, from, to).await?;
        let pending = provider.pending_transactions(token, &account.account_id).await?;
        out.push(Fetched { account, balance, settled, pending });
    }
    Ok(out)
}

/// Refreshes and stores the tokens; returns the connection at its new version.
async fn refresh_tokens<S: SyncStore, P: BankProvider>(
    store: &S,
    provider: &P,
    conn: Versioned<BankConnection>,
) -> Result<Versioned<BankConnection>, Failure> {
    let refresh = conn.value.refresh_token.clone().ok_or(ProviderError::ReconnectRequired { code: "no_refresh_token".into() })?;
    let tokens = provider.refresh(&refresh).await?;
    let now = store.now();
    let mut c = conn.value;
    c.access_token = Some(tokens.access_token);
    if let Some(r) = tokens.refresh_token {
        c.refresh_token = Some(r);
    }
    c.token_expiry = Some(now.plus_seconds(dur(tokens.expires_in)));
    c.updated_at = now;
    // Conditional on the version read: a concurrent refresh wins, and this
    // sync retries later rather than overwrite newer tokens.
    let version = store.save_connection(&c, conn.version).await?;
    Ok(Versioned { value: c, version })
}

async fn run<S: SyncStore, P: BankProvider>(
    store: &S,
    provider: &P,
    settings: &SyncSettings,
    mut conn: Versioned<BankConnection>,
) -> Result<(SyncReport, Option<(String, Option<String>)>, Vec<Transaction>), Failure> {
    let now = store.now();
    if let Some(expires) = conn.value.consent.expires_at {
        if expires <= now {
            return Err(ProviderError::ReconnectRequired { code: "consent_expired".into() }.into());
        }
    }
    let near_expiry = conn.value.token_expiry.is_none_or(|t| t <= now.plus_seconds(dur(settings.refresh_margin)));
    if near_expiry || conn.value.access_token.is_none() {
        conn = refresh_tokens(store, provider, conn).await?;
    }
    let from = match conn.value.stats.last_successful_sync {
        Some(last) => last.plus_seconds(-dur(settings.overlap)),
        None => now.plus_seconds(-dur(settings.initial_history)),
    };
    let token = conn.value.access_token.clone().unwrap_or_default();
    let fetched = match fetch_all(provider, &token, from, now).await {
        Err(ProviderError::Unauthorized) => {
            // Revoked early or clock skew: one refresh, one more try.
            conn = refresh_tokens(store, provider, conn).await?;
            let token = conn.value.access_token.clone().unwrap_or_default();
            match fetch_all(provider, &token, from, now).await {
                Err(ProviderError::Unauthorized) => Err(ProviderError::ReconnectRequired { code: "unauthorized".into() }),
                other => other,
            }
        }
        other => other,
    }?;

    let user = conn.value.user_id.clone();
    let mut report = SyncReport { accounts: fetched.len() as u32, ..Default::default() };
    let mut moved_from = std::collections::BTreeSet::new();
    for f in &fetched {
        if let Some(previous) = save_account(store, &conn.value, f, now).await? {
            moved_from.insert(previous);
        }
    }
    // Plan against what is stored; a lost race re-plans from a fresh read.
    let mut tries = Retry::new(settings.max_conflicts);
    let large = loop {
        // Always starts one: a conflict is retried only while attempts remain.
        tries.next().await;
        let changes = plan(store, &conn.value, &fetched, from, now, settings).await?;
        // New to the table (not a first sync's history) and large: notified once written.
        let fresh: Vec<Transaction> = if conn.value.stats.last_successful_sync.is_some() {
            changes
                .iter()
                .filter(|c| c.before.is_none())
                .filter_map(|c| c.after.clone())
                .filter(|t| t.amount.abs() >= settings.large_transaction)
                .collect()
        } else {
            Vec::new()
        };
        match apply_batch(store, &user, changes).await {
            Ok(o) => {
                report.transactions_written += o.written;
                report.transactions_removed += o.removed;
                break fresh;
            }
            Err(e) if e.is_conflict() && tries.has_more() => {}
            Err(e) => return Err(e.into()),
        }
    };
    for old in moved_from {
        retire_superseded(store, provider, &user, &old).await;
    }
    let bank = fetched.first().map(|f| (f.account.bank_name.clone(), f.account.logo.clone()));
    Ok((report, bank, large))
}

/// The user connected the same bank again: every account of `old` now
/// belongs to the new connection, so `old` (its grant and tokens) is deleted
/// and its grant revoked at the provider, best effort. Otherwise both would
/// sync the same accounts, each taking them back from the other. An old
/// connection that still has accounts of its own is kept. Failures here are
/// logged and leave `old` for the next sync to retire.
async fn retire_superseded<S: SyncStore, P: BankProvider>(store: &S, provider: &P, user: &UserId, old: &ConnectionId) {
    let result = async {
        if !store.connection_accounts(user, old).await?.is_empty() {
            return Ok(false);
        }
        let Some(c) = store.connection(user, old).await? else { return Ok(false) };
        store.delete_connection(user, old).await?;
        if let Some(token) = c.value.access_token.as_deref() {
            if let Err(e) = provider.revoke(token).await {
                tracing::warn!(code = e.code(), "superseded grant not revoked at the provider");
            }
        }
        Ok::<_, StoreError>(true)
    }
    .await;
    match result {
        Ok(true) => tracing::info!(connection = %old.as_str(), "superseded bank connection retired"),
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, connection = %old.as_str(), "superseded bank connection not retired yet"),
    }
}

/// Our id for a provider account (ids are opaque; one that cannot be a key
/// segment is hashed).
pub fn account_id(provider_account_id: &str) -> AccountId {
    AccountId::new(provider_account_id).unwrap_or_else(|_| {
        let h = Sha256::digest(provider_account_id.as_bytes());
        AccountId::new(format!("h-{}", hex::encode(&h[..16]))).expect("hex is a valid id")
    })
}

/// Writes the account if it changed; returns the connection it belonged to
/// before, when that was another one (the bank was connected again).
async fn save_account<S: SyncStore>(
    store: &S,
    conn: &BankConnection,
    f: &Fetched,
    now: Timestamp,
) -> Result<Option<ConnectionId>, StoreError> {
    let id = account_id(&f.account.account_id);
    let before = store.account(&conn.user_id, &id).await?;
    let a = &f.account;
    let mut next = BankAccount {
        account_id: id,
        connection_id: conn.connection_id.clone(),
        user_id: conn.user_id.clone(),
        account_name: a.display_name.clone(),
        account_type: a.account_type,
        currency: a.currency.clone(),
        account_number: a.number.number.clone(),
        sort_code: a.number.sort_code.clone(),
        iban: a.number.iban.clone(),
        account_number_masked: None,
        sort_code_masked: None,
        iban_masked: None,
        balance: Balance {
            available: f.balance.available,
            current: f.balance.current,
            overdraft: f.balance.overdraft,
            currency: f.balance.currency.clone(),
            last_updated: f.balance.updated_at,
        },
        status: AccountStatus::Active,
        is_visible: true,
        provider: AccountProvider { bank_name: a.bank_name.clone(), display_name: a.bank_name.clone(), logo: a.logo.clone() },
        created_at: now,
        updated_at: now,
        last_sync_at: now,
        transaction_summary: TransactionSummary {
            total_transactions: f.settled.len() as u64,
            last_transaction_date: f.settled.iter().map(|t| t.timestamp).max(),
            average_monthly_spending: Money::ZERO,
        },
    };
    next.set_masks();
    let condition = match &before {
        Some(b) => {
            // The user's choices survive a sync; unchanged accounts are not rewritten.
            next.is_visible = b.value.is_visible;
            next.created_at = b.value.created_at;
            // The fetch covers only the re-fetched window: keep the account's
            // figures from the first sync, moving the last date forward only.
            next.transaction_summary.total_transactions = b.value.transaction_summary.total_transactions;
            next.transaction_summary.last_transaction_date =
                next.transaction_summary.last_transaction_date.max(b.value.transaction_summary.last_transaction_date);
            let mut same = next.clone();
            same.updated_at = b.value.updated_at;
            same.last_sync_at = b.value.last_sync_at;
            if same == b.value {
                return Ok(None);
            }
            Condition::Version(b.version)
        }
        None => Condition::MustNotExist,
    };
    let previous = before.map(|b| b.value.connection_id).filter(|c| *c != conn.connection_id);
    store.save_account(&next, condition).await?;
    Ok(previous)
}

/// The stable key of each fetched transaction: the provider's stable id, else
/// a content hash numbered among identical ones (these are replaced, not
/// merged, with the re-fetched window: SPEC §3).
fn keyed(txns: &[ProviderTransaction], pending: bool) -> Vec<(String, &ProviderTransaction)> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    txns.iter()
        .map(|t| {
            let key = match t.stable_id() {
                Some(s) => format!("id:{s}"),
                None => {
                    let content = format!("{}|{}|{}|{}", t.timestamp, t.amount.minor(), t.currency, t.description);
                    let n = seen.entry(content.clone()).or_default();
                    *n += 1;
                    let h = Sha256::digest(format!("{content}|{n}").as_bytes());
                    format!("{}:{}", if pending { "pending" } else { "content" }, hex::encode(&h[..16]))
                }
            };
            (key, t)
        })
        .collect()
}

/// The app's category of a fetched transaction (APP-CONTRACT "Categories"):
/// TrueLayer's classification mapped into the one taxonomy; where it says
/// nothing ("Uncategorized", a bare `PURCHASE`), the keyword rules on the
/// merchant and description; else `Other`.
pub fn provider_category(t: &ProviderTransaction) -> Category {
    let said = AppCategory::from_truelayer(&t.transaction_classification, &t.transaction_category);
    let known = said.filter(|c| *c != AppCategory::Other).or_else(|| {
        let text = format!("{} {}", t.merchant_name.as_deref().unwrap_or_default(), t.description);
        merchant::keyword_category(&text)
    });
    known.or(said).unwrap_or(AppCategory::Other).category()
}

/// The provider's own word for the category, as it sent it (kept beside the
/// mapped one): the classification's class, else `transaction_category`.
fn provider_word(t: &ProviderTransaction) -> String {
    let word = t.transaction_classification.first().unwrap_or(&t.transaction_category);
    word.trim().chars().take(64).collect()
}

fn transaction_type(t: &ProviderTransaction) -> TransactionType {
    match t.transaction_type.as_str() {
        "CREDIT" => TransactionType::Credit,
        "FEE" => TransactionType::Fee,
        "INTEREST" => TransactionType::Interest,
        "TRANSFER" => TransactionType::Transfer,
        _ if !t.amount.is_negative() => TransactionType::Credit,
        _ => TransactionType::Debit,
    }
}

/// The stored form of a fetched transaction; what the user set on the
/// stored one (category override, note, tags, hidden) is kept.
fn to_transaction(
    conn: &BankConnection,
    account: &ProviderAccount,
    id: TransactionId,
    stable: &str,
    t: &ProviderTransaction,
    pending: bool,
    before: Option<&Transaction>,
    now: Timestamp,
) -> Transaction {
    let cat = provider_category(t);
    let mut next = Transaction {
        category: TransactionCategory {
            secondary: t.transaction_classification.get(1).cloned(),
            provider_primary: Some(provider_word(t)),
            ..TransactionCategory::of(cat.clone())
        },
        merchant: t.merchant_name.clone().map(Merchant::named),
        transaction_type: transaction_type(t),
        transaction_code: Some(t.transaction_category.clone()),
        created_at: now,
        updated_at: now,
        running_balance: t.running_balance,
        is_pending: pending,
        bank_name: Some(account.bank_name.clone()),
        account_type: Some(format!("{:?}", account.account_type).to_ascii_lowercase()),
        source: Some(TransactionSource::Truelayer),
        provider_transaction_id: Some(stable.to_string()),
        ..Transaction::new(
            conn.user_id.clone(),
            account_id(&account.account_id),
            id,
            t.amount,
            t.currency.clone(),
            t.timestamp,
            t.description.clone(),
            cat.clone(),
        )
    };
    if let Some(b) = before {
        if b.category.user_modified {
            next.category.primary = b.category.primary.clone();
            next.category.secondary = b.category.secondary.clone();
            next.category.user_modified = true;
        }
        next.user_note = b.user_note.clone();
        next.tags = b.tags.clone();
        next.is_hidden = b.is_hidden;
        next.exclude_from_spend = b.exclude_from_spend;
        next.ai_insights = b.ai_insights.clone();
        next.created_at = b.created_at;
        next.updated_at = b.updated_at;
    }
    next
}

/// The changes that make the stored transactions of this connection's
/// accounts equal to what the provider returned for the window.
async fn plan<S: SyncStore>(
    store: &S,
    conn: &BankConnection,
    fetched: &[Fetched],
    from: Timestamp,
    now: Timestamp,
    settings: &SyncSettings,
) -> Result<Vec<Change>, StoreError> {
    let user = &conn.user_id;
    let provider = "truelayer";
    // Wanted: settled then pending, so a settled one wins a shared id.
    let mut wanted: BTreeMap<TransactionId, (usize, String, &ProviderTransaction, bool)> = BTreeMap::new();
    for (i, f) in fetched.iter().enumerate() {
        let acc = account_id(&f.account.account_id);
        for (pending, list) in [(true, &f.pending), (false, &f.settled)] {
            for (key, t) in keyed(list, pending) {
                let id = TransactionId::deterministic(provider, &acc, &key);
                wanted.insert(id, (i, key, t, pending));
            }
        }
    }
    let ids: Vec<TransactionId> = wanted.keys().cloned().collect();
    let mut stored: BTreeMap<TransactionId, Versioned<Transaction>> =
        store.transactions_by_id(user, &ids).await?.into_iter().map(|v| (v.value.transaction_id.clone(), v)).collect();
    let accounts: BTreeMap<AccountId, ()> = fetched.iter().map(|f| (account_id(&f.account.account_id), ())).collect();
    let window: Vec<Versioned<Transaction>> = store
        .transactions_since(user, from.min(now.plus_seconds(-dur(settings.pending_lookback))))
        .await?
        .into_iter()
        .filter(|t| t.value.source == Some(TransactionSource::Truelayer) && accounts.contains_key(&t.value.account_id))
        .collect();
    let mut changes = Vec::new();
    for (id, (i, key, t, pending)) in &wanted {
        let before = stored.remove(id);
        let mut after = to_transaction(conn, &fetched[*i].account, id.clone(), key, t, *pending, before.as_ref().map(|b| &b.value), now);
        if let Some(b) = &before {
            if after == b.value {
                continue;
            }
            after.updated_at = now;
        }
        changes.push(Change { before, after: Some(after) });
    }
    for t in window {
        if wanted.contains_key(&t.value.transaction_id) {
            continue;
        }
        // Not pending any more (settled under its own id, or dropped), or a
        // settled one inside the re-fetched window the provider no longer has.
        let gone = t.value.is_pending || (t.value.timestamp >= from && t.value.timestamp <= now);
        if gone {
            changes.push(Change { before: Some(t), after: None });
        }
    }
    Ok(changes)
}
