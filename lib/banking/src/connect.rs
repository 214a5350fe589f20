//! What connecting a bank seals and stores (the handlers, `POST
//! /banking/connect` and `POST /banking/callback`, are in
//! [`crate::handlers::connect`]): the connect settings, the OAuth `state`,
//! and the connection an authorisation makes.
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

use crate::provider::{BankProvider, Tokens};
use expenzez_api::error::ApiError;
use expenzez_domain::cursor::{self, CursorScope, Position};
use expenzez_domain::entities::{BankConnection, ConnectionStats, ConnectionStatus, ConnectionType, Consent, PendingConnect};
use expenzez_domain::ids::{ConnectionId, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Query, SortKey, Table};
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
