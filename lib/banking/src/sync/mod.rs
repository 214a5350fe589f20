//! The sync of one bank connection (issue 6 §4).
//!
//! 1. Refresh the access token when it is near expiry; store the new tokens
//!    with a version condition.
//! 2. Fetch everything first (accounts, balances, settled transactions from
//!    the watermark minus an overlap window, pending ones). A provider failure
//!    here writes nothing.
//! 3. Plan the changes against what is stored ([`plan`]; the provider's
//!    data in our types: [`map`]): transaction ids are
//!    deterministic from (provider, account, stable id), so a re-sync finds the
//!    same items; unchanged ones are not written; pending ones that are no
//!    longer pending and settled ones the provider no longer returns in the
//!    re-fetched window are removed.
//! 4. Apply them with the ledger's batch, so each TransactWriteItems moves
//!    the monthly summaries with its transactions. A stop between groups
//!    leaves consistent groups; the next run plans only what is left.
//! 5. Only then advance the watermark (`lastSync`, `nextSync`, `stats`) and
//!    record a sync run.

mod map;
mod plan;

pub use map::{account_id, provider_category};

use crate::notices::{self, NotificationQueue};
use crate::provider::*;
use crate::store::SyncStore;
use expenzez_api::ledger::{apply_batch, BatchError, Change};
use expenzez_domain::entities::{BankConnection, ConnectionStatus, SyncError as LastError, SyncOutcome, SyncRun, Transaction};
use expenzez_domain::ids::{ConnectionId, TransactionId, UserId};
use expenzez_domain::money::Money;
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Retry, StoreError, Versioned};
use map::Fetched;
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

/// A failure as recorded on the connection: code, message, backoff, whether to reconnect.
type RecordedError = (String, String, Option<Duration>, bool);

/// Syncs one connection. Every outcome is recorded on the connection and as a
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
                    let wait = plan::retry_delay(settings, retry_count, *retry_after);
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
    let from = plan::fetch_from(&conn.value, settings, now);
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
        let changes = plan_changes(store, &conn.value, &fetched, from, now, settings).await?;
        // New to the table (not a first sync's history) and large: notified once written.
        let fresh = plan::large_new(&changes, conn.value.stats.last_successful_sync.is_none(), settings.large_transaction);
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

/// Writes the account if it changed; returns the connection it belonged to
/// before, when that was another one (the bank was connected again).
async fn save_account<S: SyncStore>(
    store: &S,
    conn: &BankConnection,
    f: &Fetched,
    now: Timestamp,
) -> Result<Option<ConnectionId>, StoreError> {
    let before = store.account(&conn.user_id, &account_id(&f.account.account_id)).await?;
    let fresh = map::bank_account(conn, f, now);
    let (next, condition) = match &before {
        Some(b) => match map::account_update(fresh, &b.value) {
            Some(next) => (next, Condition::Version(b.version)),
            None => return Ok(None),
        },
        None => (fresh, Condition::MustNotExist),
    };
    let previous = before.map(|b| b.value.connection_id).filter(|c| *c != conn.connection_id);
    store.save_account(&next, condition).await?;
    Ok(previous)
}

/// Reads what the plan compares with, then plans ([`plan::changes`]).
async fn plan_changes<S: SyncStore>(
    store: &S,
    conn: &BankConnection,
    fetched: &[Fetched],
    from: Timestamp,
    now: Timestamp,
    settings: &SyncSettings,
) -> Result<Vec<Change>, StoreError> {
    let user = &conn.user_id;
    let wanted = plan::wanted(fetched);
    let ids: Vec<TransactionId> = wanted.keys().cloned().collect();
    let stored = store.transactions_by_id(user, &ids).await?;
    let window = store.transactions_since(user, plan::stored_from(from, now, settings)).await?;
    Ok(plan::changes(conn, fetched, &wanted, stored, window, from, now))
}
