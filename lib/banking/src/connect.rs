//! Connecting and disconnecting a bank (APP-CONTRACT.md "Banking"):
//! `POST /banking/connect`, `POST /banking/callback`, `GET|POST /banking/accounts`,
//! `GET /banking/institutions` and `DELETE /banking/remove/{accountId}`.
//!
//! The OAuth `state` is sealed with the table's cursor key (the same
//! HMAC-SHA256 mechanism as pagination keys, under its own scope) and bound to
//! the caller's `sub`, a random nonce, an expiry and the redirect URI. The
//! nonce names the connection, so a link connects at most one bank: a
//! repeated callback with the same `state` answers with the connection it made
//! and exchanges nothing.
//!
//! The app's callback screen posts `{code, userId}` without `state`. Connect
//! therefore also records the request server-side (a `PendingConnect` item,
//! gone by TTL with the state's expiry); a callback without `state` takes the
//! caller's newest pending request, consuming it (a conditional delete) before
//! any exchange, so each request connects at most once and only for its user.

use crate::http::{rows, Banking};
use crate::provider::{BankProvider, Institution, ProviderError, Tokens};
use crate::schedule::SyncJob;
use expenzez_api::edge::Reply;
use expenzez_api::error::ApiError;
use expenzez_api::json::Amount;
use expenzez_api::request::Ctx;
use expenzez_domain::cursor::{self, CursorScope, Position};
use expenzez_domain::entities::{
    AccountStatus, AccountType, ApiCache, Balance, BankConnection, ConnectionStats, ConnectionStatus, ConnectionType, Consent,
    PendingConnect, Provider,
};
use expenzez_domain::ids::{AccountId, ConnectionId, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::money::Currency;
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Query, Retry, SortKey, Table, TxAction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;

/// What connecting needs besides the provider.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    /// The redirect URIs registered with the provider; the first is the
    /// default. A `redirectUrl` from the app must be one of them (an open
    /// redirect would hand the authorisation code to someone else).
    pub redirect_uris: Vec<String>,
    /// How long a `state` (and so an auth link) stays valid.
    pub state_ttl: Duration,
    /// How long the user's consent lasts (UK open banking: 90 days).
    pub consent: Duration,
}

impl ConnectSettings {
    pub fn new(redirect_uris: Vec<String>) -> Self {
        Self { redirect_uris, state_ttl: Duration::from_secs(15 * 60), consent: Duration::from_secs(90 * 86_400) }
    }

    /// `BANK_REDIRECT_URIS` (comma-separated, at least one); `None` when unset.
    pub fn from_env() -> Option<Self> {
        let uris: Vec<String> =
            std::env::var("BANK_REDIRECT_URIS").ok()?.split(',').map(|u| u.trim().to_string()).filter(|u| !u.is_empty()).collect();
        (!uris.is_empty()).then(|| Self::new(uris))
    }
}

fn settings<P>(b: &Banking<P>) -> Result<&ConnectSettings, ApiError> {
    b.connect.as_deref().ok_or_else(|| {
        tracing::error!("BANK_REDIRECT_URIS is not configured");
        ApiError::Internal
    })
}

// ---- state ------------------------------------------------------------------

const STATE_SCOPE: &str = "banking-connect-state-v1";

/// What a `state` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectState {
    pub nonce: String,
    pub expires: i64,
    pub redirect_uri: String,
}

impl ConnectState {
    fn scope(user: &UserId) -> CursorScope<'_> {
        CursorScope { owner: user.as_str(), query: STATE_SCOPE }
    }

    pub fn seal(&self, table: &Table, user: &UserId) -> String {
        let pos = Position::from([
            ("n".to_string(), self.nonce.clone()),
            ("e".to_string(), self.expires.to_string()),
            ("r".to_string(), self.redirect_uri.clone()),
        ]);
        cursor::seal(table.cursor_key(), Self::scope(user), &pos)
    }

    /// Opens a `state` issued to `user` that has not expired at `now`.
    pub fn open(table: &Table, user: &UserId, token: &str, now: Timestamp) -> Result<Self, ApiError> {
        let invalid = || ApiError::BadRequest {
            code: "INVALID_STATE",
            message: "state is missing or was not issued to this user; start the connection again".into(),
        };
        let mut pos = cursor::open(table.cursor_key(), Self::scope(user), token).map_err(|_| invalid())?;
        let nonce = pos.remove("n").filter(|n| n.len() == 32 && n.bytes().all(|b| b.is_ascii_hexdigit())).ok_or_else(invalid)?;
        let expires = pos.remove("e").and_then(|e| e.parse::<i64>().ok()).ok_or_else(invalid)?;
        let redirect_uri = pos.remove("r").ok_or_else(invalid)?;
        if expires <= now.epoch_seconds() {
            return Err(ApiError::BadRequest {
                code: "STATE_EXPIRED",
                message: "the bank link has expired; start the connection again".into(),
            });
        }
        Ok(Self { nonce, expires, redirect_uri })
    }

    /// The caller's newest pending connect request, consumed: one that they
    /// started at most the state's lifetime ago and that no callback has
    /// used. 400 `INVALID_STATE` when there is none.
    pub async fn take_pending(table: &Table, user: &UserId, now: Timestamp) -> Result<Self, ApiError> {
        let none = || ApiError::BadRequest {
            code: "INVALID_STATE",
            message: "no bank connection was started from this account in the last 15 minutes; start the connection again".into(),
        };
        let q = Query::table(user.as_str(), keys::user_pk(user))
            .sort_key({
                let (lo, hi) = keys::pending_connect_since(now.plus_seconds(-PendingConnect::MAX_AGE_SECONDS));
                SortKey::Between(lo, hi)
            })
            .descending()
            .consistent()
            .limit(1);
        let pending = table.query::<PendingConnect>(&q).await?.items.into_iter().next().ok_or_else(none)?;
        let p = pending.value;
        if p.expires_at <= now {
            return Err(none());
        }
        // One-time: whoever deletes it first uses it.
        let key = ItemKey::PendingConnect(user.clone(), p.created_at, p.nonce.clone());
        match table.delete(&key, Condition::Version(pending.version)).await {
            Ok(true) => Ok(Self { nonce: p.nonce, expires: p.expires_at.epoch_seconds(), redirect_uri: p.redirect_uri }),
            Ok(false) => Err(none()),
            Err(e) if e.is_conflict() => Err(none()),
            Err(e) => Err(e.into()),
        }
    }

    /// The connection this link makes: one per link.
    pub fn connection_id(&self) -> ConnectionId {
        ConnectionId::new(format!("tl-{}", self.nonce)).expect("hex is a valid id")
    }
}

// ---- POST /banking/connect ------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConnectRequest {
    redirect_url: Option<String>,
    /// Ours: an institution id from `GET /banking/institutions` skips the bank picker.
    provider_id: Option<String>,
}

/// `POST /banking/connect`: the provider's authorisation link, with a `state`
/// bound to the caller.
pub async fn connect<P: BankProvider + 'static>(b: Banking<P>, ctx: Ctx) -> Result<Reply, ApiError> {
    // A retried connect answers the same link (and state) as the first.
    expenzez_api::idempotency::once(&b.table.clone(), ctx, |ctx| start_connect(b, ctx)).await
}

async fn start_connect<P: BankProvider + 'static>(b: Banking<P>, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let req: ConnectRequest = ctx.json()?;
    let s = settings(&b)?;
    let redirect_uri = match req.redirect_url.as_deref().map(str::trim) {
        None | Some("") => s.redirect_uris[0].clone(),
        Some(r) if s.redirect_uris.iter().any(|u| u == r) => r.to_string(),
        Some(_) => return Err(ApiError::validation("redirectUrl", "is not a registered redirect URL")),
    };
    if let Some(p) = &req.provider_id {
        let ok = (1..=64).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(ApiError::validation("providerId", "must be an institution id from GET /banking/institutions"));
        }
    }
    let now = b.table.now();
    let state = ConnectState {
        nonce: uuid::Uuid::new_v4().simple().to_string(),
        expires: now.epoch_seconds() + s.state_ttl.as_secs() as i64,
        redirect_uri,
    };
    let token = state.seal(&b.table, &user);
    // Server-side too, for the app's callback that posts no `state`.
    let pending = PendingConnect {
        user_id: user.clone(),
        nonce: state.nonce.clone(),
        redirect_uri: state.redirect_uri.clone(),
        created_at: now,
        expires_at: now.plus_seconds(state.expires - now.epoch_seconds()),
        ttl: state.expires,
    };
    b.table.put_live(&user, &pending, Condition::MustNotExist).await?;
    let link = b.provider.auth_link(&token, &state.redirect_uri, req.provider_id.as_deref());
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        link: String,
        state: String,
        redirect_url: String,
        expires_at: Timestamp,
    }
    Reply::ok(&Body {
        link,
        state: token,
        redirect_url: state.redirect_uri,
        expires_at: now.plus_seconds(state.expires - now.epoch_seconds()),
    })
}

// ---- POST /banking/callback -----------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CallbackRequest {
    code: Option<String>,
    state: Option<String>,
    /// Sent by the app; ignored: the user is the token's `sub`.
    #[serde(rename = "userId")]
    _user_id: Option<serde_json::Value>,
    /// The provider's redirect carries `error` instead of `code` when the
    /// user cancelled or the bank refused.
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionHead {
    connection_id: ConnectionId,
    bank_name: String,
    status: ConnectionStatus,
    consent: ConsentHead,
    stats: ConnectionStats,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsentHead {
    expires_at: Option<Timestamp>,
}

const HEAD_FIELDS: &[&str] = &["connectionId", "bankName", "status", "consent", "stats"];

/// A connection's public fields (no tokens: a projection, no decryption).
async fn connection_head(table: &Table, user: &UserId, id: &ConnectionId) -> Result<Option<ConnectionHead>, ApiError> {
    let sk = ItemKey::BankConnection(user.clone(), id.clone()).key().sk;
    let q = Query::table(user.as_str(), keys::user_pk(user)).sort_key(SortKey::Equals(sk)).project(HEAD_FIELDS).consistent();
    Ok(table.query_as::<ConnectionHead>(&q).await?.items.into_iter().next())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Connected {
    success: bool,
    connection_id: ConnectionId,
    bank_name: String,
    status: ConnectionStatus,
    accounts: u32,
    consent_expires_at: Option<Timestamp>,
    /// `queued`: the first sync is on the sync queue now; `scheduled`: it
    /// starts with the scheduler's next run (the connection is due now).
    first_sync: &'static str,
}

fn exchange_error(e: ProviderError) -> ApiError {
    match e {
        ProviderError::Retryable { .. } => ApiError::Unavailable { retry_after: 5 },
        // `invalid_grant` on a code: used, expired or made for another redirect.
        ProviderError::ReconnectRequired { .. } => ApiError::BadRequest {
            code: "INVALID_CODE",
            message: "the authorisation code is invalid or has expired; connect the bank again".into(),
        },
        e => {
            tracing::error!(code = e.code(), "code exchange refused");
            ApiError::Internal
        }
    }
}

/// `POST /banking/callback`: checks `state`, exchanges the code, stores the
/// connection (tokens encrypted by the store) and starts its first sync.
pub async fn callback<P: BankProvider + 'static>(b: Banking<P>, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let req: CallbackRequest = ctx.json()?;
    let s = settings(&b)?;
    if let Some(e) = &req.error {
        let e: String = e.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
        return Err(ApiError::BadRequest { code: "BANK_AUTH_DENIED", message: format!("the bank connection was not authorised ({e})") });
    }
    let code = match req.code.as_deref().map(str::trim) {
        Some(c) if !c.is_empty() && c.len() <= 4096 => c.to_string(),
        _ => return Err(ApiError::validation("code", "the authorisation code is required")),
    };
    let now = b.table.now();
    // `state` is checked when sent; without it (the app's callback screen),
    // the code is taken only for the caller's own pending connect request.
    let state = match req.state.or_else(|| ctx.query("state")).filter(|s| !s.is_empty()) {
        Some(token) => ConnectState::open(&b.table, &user, &token, now)?,
        None => ConnectState::take_pending(&b.table, &user, now).await?,
    };
    let id = state.connection_id();
    let made = |conn: &ConnectionHead| Connected {
        success: true,
        connection_id: conn.connection_id.clone(),
        bank_name: conn.bank_name.clone(),
        status: conn.status,
        accounts: conn.stats.total_accounts,
        consent_expires_at: conn.consent.expires_at,
        first_sync: "scheduled",
    };
    // A repeated callback (the app retried): the link already made its connection.
    if let Some(existing) = connection_head(&b.table, &user, &id).await? {
        return Reply::ok(&made(&existing));
    }
    let tokens = b.provider.exchange_code(&code, &state.redirect_uri).await.map_err(exchange_error)?;
    // The bank's name and logo; the connection is stored even if this fails
    // (the code is spent: the tokens must not be lost).
    let accounts = match b.provider.accounts(&tokens.access_token).await {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(code = e.code(), "accounts unavailable at connect; the first sync fetches them");
            Vec::new()
        }
    };
    let mut conn = authorised(&user, id.clone(), b.provider.as_ref(), tokens, s.consent, now);
    if let Some(a) = accounts.first() {
        conn.bank_name = a.bank_name.clone();
        conn.bank_logo = a.logo.clone();
    }
    conn.stats.total_accounts = accounts.len() as u32;
    match b.table.put_live(&user, &conn, Condition::MustNotExist).await {
        Ok(_) => {}
        // Two callbacks with one link raced; the other one stored it.
        Err(e) if e.is_conflict() => {
            let existing = connection_head(&b.table, &user, &id).await?.ok_or(ApiError::Internal)?;
            return Reply::ok(&made(&existing));
        }
        Err(e) => return Err(e.into()),
    }
    // A security event: the user hears of every new bank connection.
    crate::notices::send(b.settings.notifications.as_ref(), &[crate::notices::bank_connected(&conn, now)], "bank connected").await;
    let job = SyncJob { user_id: user.clone(), connection_id: id.clone() };
    let first_sync = match &b.queue {
        Some(q) if q.send(&[job]).await == 0 => "queued",
        _ => "scheduled",
    };
    tracing::info!(connection = %id.as_str(), accounts = accounts.len(), first_sync, "bank connected");
    Reply::created(&Connected {
        success: true,
        connection_id: id,
        bank_name: conn.bank_name,
        status: conn.status,
        accounts: conn.stats.total_accounts,
        consent_expires_at: conn.consent.expires_at,
        first_sync,
    })
}

/// A connection the user has just authorised at `provider`: active, with the
/// exchanged tokens and the provider's permissions, consent from `now` for
/// `consent`, and due now (in the due index, so the scheduler syncs it even
/// if the sync queue is unavailable). Named "Bank" until the provider names it.
pub fn authorised<P: BankProvider>(
    user: &UserId,
    id: ConnectionId,
    provider: &P,
    tokens: Tokens,
    consent: Duration,
    now: Timestamp,
) -> BankConnection {
    BankConnection {
        connection_id: id,
        user_id: user.clone(),
        bank_name: "Bank".into(),
        bank_logo: None,
        bic: None,
        connection_type: ConnectionType::OpenBanking,
        provider: provider.provider(),
        status: ConnectionStatus::Active,
        last_sync: None,
        next_sync: Some(now),
        access_token: Some(tokens.access_token),
        refresh_token: tokens.refresh_token,
        token_expiry: Some(now.plus_seconds(tokens.expires_in.as_secs() as i64)),
        last_error: None,
        created_at: now,
        updated_at: now,
        consent: Consent {
            granted_at: now,
            expires_at: Some(now.plus_seconds(consent.as_secs() as i64)),
            permissions: provider.permissions(),
            institution_consent: None,
        },
        stats: ConnectionStats { total_accounts: 0, last_successful_sync: None, sync_count: 0, error_count: 0 },
        consent_reminded: None,
    }
}

// ---- GET|POST /banking/accounts -------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountRow {
    account_id: AccountId,
    connection_id: ConnectionId,
    account_name: String,
    account_type: AccountType,
    currency: Currency,
    iban_masked: Option<String>,
    account_number_masked: Option<String>,
    sort_code_masked: Option<String>,
    balance: Balance,
    status: AccountStatus,
    is_visible: bool,
    provider: ProviderRow,
    created_at: Timestamp,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProviderRow {
    bank_name: String,
    logo: Option<String>,
}

const ACCOUNT_FIELDS: &[&str] = &[
    "accountId",
    "connectionId",
    "accountName",
    "accountType",
    "currency",
    "ibanMasked",
    "accountNumberMasked",
    "sortCodeMasked",
    "balance",
    "status",
    "isVisible",
    "provider",
    "createdAt",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionStatusRow {
    connection_id: ConnectionId,
    status: ConnectionStatus,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InstitutionView {
    name: String,
    /// The bank's logo, else the generic one: always a string.
    logo: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountView {
    id: AccountId,
    name: String,
    institution: InstitutionView,
    /// The connection the account came through.
    institution_id: ConnectionId,
    balance: Amount,
    available_balance: Amount,
    currency: Currency,
    #[serde(rename = "type")]
    kind: AccountType,
    status: AccountStatus,
    connection_status: ConnectionStatus,
    iban: Option<String>,
    account_number: Option<String>,
    sort_code: Option<String>,
    is_visible: bool,
    created_at: Timestamp,
}

/// `GET|POST /banking/accounts`: my accounts with masked numbers (projections
/// of the masked attributes only: no decryption, no KMS call).
pub async fn accounts(table: Table, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let (connections, rows) = tokio::try_join!(
        rows::<ConnectionStatusRow>(&table, &user, keys::prefix::BANK, &["connectionId", "status"]),
        rows::<AccountRow>(&table, &user, keys::prefix::ACCOUNT, ACCOUNT_FIELDS),
    )?;
    let status: BTreeMap<&ConnectionId, ConnectionStatus> = connections.iter().map(|c| (&c.connection_id, c.status)).collect();
    let accounts: Vec<AccountView> = rows
        .into_iter()
        // An account whose connection was removed is not mine to show.
        .filter_map(|a| {
            let connection_status = *status.get(&a.connection_id)?;
            Some(AccountView {
                id: a.account_id,
                name: a.account_name,
                institution: InstitutionView {
                    name: a.provider.bank_name,
                    logo: a.provider.logo.unwrap_or_else(|| crate::provider::GENERIC_BANK_LOGO.into()),
                },
                institution_id: a.connection_id,
                balance: Amount(a.balance.current),
                available_balance: Amount(a.balance.available),
                currency: a.currency,
                kind: a.account_type,
                status: a.status,
                connection_status,
                iban: a.iban_masked,
                account_number: a.account_number_masked,
                sort_code: a.sort_code_masked,
                is_visible: a.is_visible,
                created_at: a.created_at,
            })
        })
        .collect();
    #[derive(Serialize)]
    struct Body {
        accounts: Vec<AccountView>,
    }
    Reply::ok(&Body { accounts })
}

// ---- GET /banking/institutions --------------------------------------------------

/// Cache endpoint of the institution list (one entry for all users).
pub const INSTITUTIONS_CACHE: &str = "institutions";

/// The cache entry's `queryHash`: one list per provider (UK).
pub fn institutions_cache_hash(provider: Provider) -> String {
    // v2: every logo a string (a v1 list may hold nulls).
    hex::encode(&Sha256::digest(format!("{provider:?}|uk|v2").as_bytes())[..16])
}

/// `GET /banking/institutions`: the provider's banks, cached for everyone
/// (APICache, 30 minutes) so the provider is asked at most once per TTL.
pub async fn institutions<P: BankProvider + 'static>(b: Banking<P>, ctx: Ctx) -> Result<Reply, ApiError> {
    ctx.user()?;
    let query_hash = institutions_cache_hash(b.provider.provider());
    let key = ItemKey::ApiCache { endpoint: INSTITUTIONS_CACHE.into(), owner: None, query_hash: query_hash.clone() };
    let now = b.table.now();
    #[derive(Serialize, Deserialize)]
    struct Body {
        institutions: Vec<Institution>,
    }
    if let Some(hit) = b.table.get::<ApiCache>(&key).await? {
        if hit.value.expires_at > now {
            if let Ok(body) = serde_json::from_value::<Body>(hit.value.response_data) {
                return Reply::ok(&body);
            }
        }
    }
    let started = std::time::Instant::now();
    let mut list = b.provider.institutions().await.map_err(|e| match e {
        ProviderError::Retryable { .. } => ApiError::Unavailable { retry_after: 5 },
        e => {
            tracing::error!(code = e.code(), "institution list refused");
            ApiError::Internal
        }
    })?;
    list.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then_with(|| a.id.cmp(&b.id)));
    let body = Body { institutions: list };
    let data = serde_json::to_value(&body).map_err(|_| ApiError::Internal)?;
    let signature = hex::encode(Sha256::digest(data.to_string().as_bytes()));
    let took = started.elapsed().as_millis() as u64;
    let entry = ApiCache::fresh(INSTITUTIONS_CACHE, None, query_hash, data, signature, now, took);
    // A cache that cannot be written is a slower next request, not an error.
    if let Err(e) = b.table.put(&entry, Condition::None).await {
        tracing::warn!(error = %e, "institution list not cached");
    }
    Reply::ok(&body)
}

// ---- DELETE /banking/remove/{accountId} -----------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountLink {
    account_id: AccountId,
    connection_id: ConnectionId,
}

/// How long a disconnect waits for the provider to revoke the grant.
const REVOKE_TIMEOUT: Duration = Duration::from_secs(5);

/// `DELETE /banking/remove/{accountId}`: disconnects the bank the account
/// came through (the id may also be a connection id from
/// `GET /banking/connected`). The connection item, and with it the encrypted
/// tokens, and its account items are deleted in one transaction; the
/// transactions already imported stay in the user's history. Then the grant
/// is revoked at the provider (best effort: our copy of the tokens is gone
/// either way).
pub async fn remove<P: BankProvider + 'static>(b: Banking<P>, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let id = ctx.path("accountId").unwrap_or_default();
    let links = rows::<AccountLink>(&b.table, &user, keys::prefix::ACCOUNT, &["accountId", "connectionId"]).await?;
    let connection = match links.iter().find(|l| l.account_id.as_str() == id) {
        Some(l) => l.connection_id.clone(),
        None => ConnectionId::new(id).map_err(|_| ApiError::NotFound)?,
    };
    let key = ItemKey::BankConnection(user.clone(), connection.clone());
    let accounts: Vec<&AccountLink> = links.iter().filter(|l| l.connection_id == connection).collect();
    // Re-read on a lost race (a sync was updating the connection).
    let mut tries = Retry::new(4);
    let removed = loop {
        if !tries.next().await {
            return Err(ApiError::Conflict { code: "VERSION_CONFLICT", message: "The connection is being synced; retry.".into() });
        }
        let Some(conn) = b.table.get_consistent::<BankConnection>(&key).await? else {
            return Err(ApiError::NotFound);
        };
        let mut actions = vec![TxAction::Delete { key: key.key(), condition: Condition::Version(conn.version) }];
        for a in accounts.iter().take(expenzez_store::TRANSACT_MAX - 1) {
            actions
                .push(TxAction::Delete { key: ItemKey::BankAccount(user.clone(), a.account_id.clone()).key(), condition: Condition::None });
        }
        match b.table.transact(actions, None).await {
            Ok(()) => break conn.value,
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    };
    // More accounts than one transaction holds: the rest go after (the
    // listings hide accounts whose connection is gone).
    let rest: Vec<_> = accounts
        .iter()
        .skip(expenzez_store::TRANSACT_MAX - 1)
        .map(|a| ItemKey::BankAccount(user.clone(), a.account_id.clone()).key())
        .collect();
    if !rest.is_empty() {
        b.table.batch_delete(&rest).await?;
    }
    let revoked = match removed.access_token.as_deref() {
        Some(t) => match tokio::time::timeout(REVOKE_TIMEOUT, b.provider.revoke(t)).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(code = e.code(), "provider did not revoke the grant");
                false
            }
            Err(_) => {
                tracing::warn!("provider revocation timed out");
                false
            }
        },
        None => false,
    };
    tracing::info!(connection = %connection.as_str(), accounts = accounts.len(), revoked, "bank disconnected");
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        success: bool,
        connection_id: ConnectionId,
        accounts_removed: usize,
        provider_revoked: bool,
    }
    Reply::ok(&Body { success: true, connection_id: connection, accounts_removed: accounts.len(), provider_revoked: revoked })
}
