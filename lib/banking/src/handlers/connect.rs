//! `POST /banking/connect` (the provider's link, with a sealed `state`) and
//! `POST /banking/callback` (the code exchanged, the connection stored, its
//! first sync started). How `state` and the pending request bind a callback
//! to its caller: [`crate::connect`].

use super::{settings, Banking};
use crate::connect::{authorised, ConnectState};
use crate::provider::{BankProvider, ProviderError};
use crate::schedule::SyncJob;
use expenzez_api::edge::Reply;
use expenzez_api::error::ApiError;
use expenzez_api::request::Ctx;
use expenzez_domain::entities::{ConnectionStats, ConnectionStatus, PendingConnect};
use expenzez_domain::ids::{ConnectionId, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Query, SortKey, Table};
use serde::{Deserialize, Serialize};

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

/// A connection's public fields (no tokens: a projection, no decryption).
async fn connection_head(table: &Table, user: &UserId, id: &ConnectionId) -> Result<Option<ConnectionHead>, ApiError> {
    let sk = ItemKey::BankConnection(user.clone(), id.clone()).key().sk;
    let q = Query::table(user.as_str(), keys::user_pk(user)).sort_key(SortKey::Equals(sk)).project_as::<ConnectionHead>().consistent();
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
