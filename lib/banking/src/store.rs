//! What the sync needs from the table, as a narrow trait (STYLE.md) over
//! [`LedgerStore`], implemented by the DynamoDB [`Table`]. Tests wrap it to
//! inject failures between commits.

use expenzez_api::stores::LedgerStore;
use expenzez_domain::entities::{BankAccount, BankConnection, SyncRun, Transaction};
use expenzez_domain::ids::{AccountId, ConnectionId, TransactionId, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Query, SortKey, StoreError, Table, Versioned};
use std::future::Future;

type R<T> = Result<T, StoreError>;

pub trait SyncStore: LedgerStore {
    /// Strongly consistent (before a read-modify-write).
    fn connection(&self, user: &UserId, id: &ConnectionId) -> impl Future<Output = R<Option<Versioned<BankConnection>>>> + Send;
    /// Writes `c` if it is still at `version`; returns the new version.
    fn save_connection(&self, c: &BankConnection, version: u64) -> impl Future<Output = R<u64>> + Send;
    fn account(&self, user: &UserId, id: &AccountId) -> impl Future<Output = R<Option<Versioned<BankAccount>>>> + Send;
    fn save_account(&self, a: &BankAccount, condition: Condition) -> impl Future<Output = R<u64>> + Send;
    /// A user's transactions with `timestamp >= from` (GSI2), every page.
    fn transactions_since(&self, user: &UserId, from: Timestamp) -> impl Future<Output = R<Vec<Versioned<Transaction>>>> + Send;
    /// The ones of `ids` that exist.
    fn transactions_by_id(&self, user: &UserId, ids: &[TransactionId]) -> impl Future<Output = R<Vec<Versioned<Transaction>>>> + Send;
    fn record_run(&self, run: &SyncRun) -> impl Future<Output = R<()>> + Send;
    /// The user's accounts that belong to connection `id`.
    fn connection_accounts(&self, user: &UserId, id: &ConnectionId) -> impl Future<Output = R<Vec<AccountId>>> + Send;
    /// Deletes a connection item (its encrypted tokens with it).
    fn delete_connection(&self, user: &UserId, id: &ConnectionId) -> impl Future<Output = R<()>> + Send;
}

impl SyncStore for Table {
    async fn connection(&self, user: &UserId, id: &ConnectionId) -> R<Option<Versioned<BankConnection>>> {
        self.get_consistent(&ItemKey::BankConnection(user.clone(), id.clone())).await
    }
    async fn save_connection(&self, c: &BankConnection, version: u64) -> R<u64> {
        self.put(c, Condition::Version(version)).await
    }
    async fn account(&self, user: &UserId, id: &AccountId) -> R<Option<Versioned<BankAccount>>> {
        self.get_consistent(&ItemKey::BankAccount(user.clone(), id.clone())).await
    }
    async fn save_account(&self, a: &BankAccount, condition: Condition) -> R<u64> {
        // Never for a deleted account, even mid-sync (SPEC §5 "Deleted accounts").
        self.put_live(&a.user_id, a, condition).await
    }
    async fn transactions_since(&self, user: &UserId, from: Timestamp) -> R<Vec<Versioned<Transaction>>> {
        let (lo, _) = keys::gsi2_range(from, from);
        let q = Query::index(user.as_str(), keys::Index::Gsi2, keys::user_pk(user)).sort_key(SortKey::GreaterOrEqual(lo));
        self.query_all_items(&q).await?.into_iter().map(Table::decode::<Transaction>).collect()
    }
    async fn transactions_by_id(&self, user: &UserId, ids: &[TransactionId]) -> R<Vec<Versioned<Transaction>>> {
        let keys: Vec<ItemKey> = ids.iter().map(|id| ItemKey::Transaction(user.clone(), id.clone())).collect();
        self.batch_get(&keys).await
    }
    async fn record_run(&self, run: &SyncRun) -> R<()> {
        // An audit record nobody edits: the last run at one instant wins.
        self.put_live(&run.user_id, run, Condition::None).await.map(|_| ())
    }
    async fn connection_accounts(&self, user: &UserId, id: &ConnectionId) -> R<Vec<AccountId>> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Link {
            account_id: AccountId,
            connection_id: ConnectionId,
        }
        let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::ACCOUNT).project_as::<Link>();
        let links = self.query_all_as::<Link>(&q.consistent()).await?;
        Ok(links.into_iter().filter(|l| l.connection_id == *id).map(|l| l.account_id).collect())
    }
    async fn delete_connection(&self, user: &UserId, id: &ConnectionId) -> R<()> {
        self.delete(&ItemKey::BankConnection(user.clone(), id.clone()), Condition::None).await.map(|_| ())
    }
}
