//! `GET /banking/connected` and `POST /banking/transactions/refresh`: my
//! existing connections, listed and synced now.

use super::rows::{rows, AccountRow, ConnectionRow};
use super::Banking;
use crate::provider::BankProvider;
use crate::sync::{sync_connection, SyncError};
use expenzez_api::edge::Reply;
use expenzez_api::error::ApiError;
use expenzez_api::json::Amount;
use expenzez_api::request::Ctx;
use expenzez_domain::entities::ConnectionStatus;
use expenzez_domain::ids::{AccountId, ConnectionId};
use expenzez_domain::keys;
use expenzez_domain::money::Currency;
use expenzez_domain::Timestamp;
use expenzez_store::Table;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Shortest gap between two syncs of one connection asked for by the user.
pub const REFRESH_MIN_INTERVAL_SECS: i64 = 60;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectedBank {
    account_id: AccountId,
    connection_id: ConnectionId,
    bank_name: String,
    bank_logo: Option<String>,
    account_type: expenzez_domain::entities::AccountType,
    account_number: Option<String>,
    sort_code: Option<String>,
    balance: Amount,
    currency: Currency,
    connected_at: Timestamp,
    last_sync_at: Option<Timestamp>,
    is_active: bool,
    status: ConnectionStatus,
    is_expired: bool,
    error_message: Option<String>,
    last_error_at: Option<Timestamp>,
}

/// `GET /banking/connected`: one entry per account of my connections.
pub async fn connected(table: Table, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let (connections, accounts) = tokio::try_join!(
        rows::<ConnectionRow>(&table, &user, keys::prefix::BANK),
        rows::<AccountRow>(&table, &user, keys::prefix::ACCOUNT),
    )?;
    let by_id: BTreeMap<&ConnectionId, &ConnectionRow> = connections.iter().map(|c| (&c.connection_id, c)).collect();
    let banks: Vec<ConnectedBank> = accounts
        .iter()
        .filter_map(|a| {
            let c = by_id.get(&a.connection_id)?;
            Some(ConnectedBank {
                account_id: a.account_id.clone(),
                connection_id: c.connection_id.clone(),
                bank_name: c.bank_name.clone(),
                bank_logo: c.bank_logo.clone(),
                account_type: a.account_type,
                account_number: a.account_number_masked.clone(),
                sort_code: a.sort_code_masked.clone(),
                balance: Amount(a.balance.current),
                currency: a.currency.clone(),
                connected_at: c.created_at,
                last_sync_at: c.last_sync.or(Some(a.last_sync_at)),
                is_active: c.status == ConnectionStatus::Active,
                status: c.status,
                is_expired: matches!(c.status, ConnectionStatus::Expired | ConnectionStatus::ReconnectRequired),
                error_message: c.last_error.as_ref().map(|e| e.message.clone()),
                last_error_at: c.last_error.as_ref().map(|e| e.timestamp),
            })
        })
        .collect();
    #[derive(Serialize)]
    struct Body {
        banks: Vec<ConnectedBank>,
    }
    Reply::ok(&Body { banks })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshRequest {}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct RefreshStats {
    total_transactions_synced: u32,
    successful_accounts: u32,
    connections_synced: u32,
    connections_skipped: u32,
}

/// `POST /banking/transactions/refresh`: syncs my syncable connections now,
/// each at most once a minute (a connection synced more recently is skipped;
/// if all are, 429 with `Retry-After`).
pub async fn refresh<P: BankProvider + 'static>(b: Banking<P>, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let _: RefreshRequest = ctx.json()?;
    let now = b.table.now();
    let connections = rows::<ConnectionRow>(&b.table, &user, keys::prefix::BANK).await?;
    let syncable: Vec<&ConnectionRow> =
        connections.iter().filter(|c| matches!(c.status, ConnectionStatus::Active | ConnectionStatus::Error)).collect();
    let mut stats = RefreshStats::default();
    let mut wait = None;
    for c in syncable {
        let recent = c.last_sync.map(|t| now.epoch_seconds() - t.epoch_seconds()).filter(|d| *d < REFRESH_MIN_INTERVAL_SECS);
        // A failing connection keeps its backoff: the user cannot hammer the bank.
        let backing_off = (c.status == ConnectionStatus::Error).then_some(c.next_sync).flatten().filter(|n| *n > now);
        if let Some(d) = recent {
            wait = Some(wait.unwrap_or(i64::MAX).min(REFRESH_MIN_INTERVAL_SECS - d));
            stats.connections_skipped += 1;
            continue;
        }
        if let Some(n) = backing_off {
            wait = Some(wait.unwrap_or(i64::MAX).min(n.epoch_seconds() - now.epoch_seconds()));
            stats.connections_skipped += 1;
            continue;
        }
        match sync_connection(&b.table, b.provider.as_ref(), &b.settings, &user, &c.connection_id).await {
            Ok(r) => {
                stats.total_transactions_synced += r.transactions_written;
                stats.successful_accounts += r.accounts;
                stats.connections_synced += 1;
            }
            // Recorded on the connection; `GET /banking/connected` shows it.
            Err(SyncError::Store(e)) => return Err(e.into()),
            Err(_) => {}
        }
    }
    if stats.connections_synced == 0 {
        if let Some(w) = wait {
            return Err(ApiError::TooManyRequests { retry_after: w.clamp(1, 3600) as u32 });
        }
    }
    #[derive(Serialize)]
    struct Body {
        stats: RefreshStats,
    }
    Reply::ok(&Body { stats })
}
