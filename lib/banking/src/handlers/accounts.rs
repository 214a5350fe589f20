//! `GET|POST /banking/accounts` (my accounts, masked) and
//! `DELETE /banking/remove/{accountId}` (disconnecting a bank).

use super::rows::{rows, AccountRow};
use super::Banking;
use crate::provider::BankProvider;
use expenzez_api::edge::Reply;
use expenzez_api::error::ApiError;
use expenzez_api::json::Amount;
use expenzez_api::request::Ctx;
use expenzez_domain::entities::{AccountStatus, AccountType, BankConnection, ConnectionStatus};
use expenzez_domain::ids::{AccountId, ConnectionId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::money::Currency;
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Retry, Table, TxAction};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

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
        rows::<ConnectionStatusRow>(&table, &user, keys::prefix::BANK),
        rows::<AccountRow>(&table, &user, keys::prefix::ACCOUNT),
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
    let links = rows::<AccountLink>(&b.table, &user, keys::prefix::ACCOUNT).await?;
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
