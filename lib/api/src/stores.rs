//! The narrow store traits handlers are generic over (STYLE.md: a handler
//! depends only on what it uses). All are implemented by the DynamoDB
//! [`Table`]; tests run them against DynamoDB Local.

use expenzez_domain::cursor::CursorKey;
use expenzez_domain::entities::*;
use expenzez_domain::ids::{IdempotencyKey, SettingName, TransactionId, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::time::YearMonth;
use expenzez_domain::{Email, Timestamp};
use expenzez_store::{Capacity, Condition, Page, Query, SortKey, StoreError, Table, TxAction, Versioned};
use std::future::Future;

pub use crate::idempotency::IdempotencyStore;

type R<T> = Result<T, StoreError>;

/// A per-request view whose consumed capacity can be read for the log line.
pub trait Metered: Clone + Send + Sync + 'static {
    fn metered(&self) -> Self;
    fn consumed(&self) -> Capacity;
    fn now(&self) -> Timestamp;
}

pub trait ProfileStore: Metered {
    fn profile(&self, user: &UserId) -> impl Future<Output = R<Option<Versioned<UserProfile>>>> + Send;
    fn save_profile(&self, profile: &UserProfile, expected_version: u64) -> impl Future<Output = R<u64>> + Send;
    /// Who holds `email`: its claim item (strongly consistent), else GSI1.
    fn email_owner(&self, email: &Email) -> impl Future<Output = R<Option<UserId>>> + Send;
    /// Saves `updated` (whose email differs from `current`'s) together with
    /// the move of the email claim, all or nothing; a conflict if the new
    /// email is claimed or the profile moved on.
    fn move_email(&self, current: &Versioned<UserProfile>, updated: &UserProfile) -> impl Future<Output = R<u64>> + Send;
}

/// Transactions and the monthly summaries that move with them.
pub trait LedgerStore: IdempotencyStore {
    fn transaction(
        &self,
        user: &UserId,
        id: &TransactionId,
        consistent: bool,
    ) -> impl Future<Output = R<Option<Versioned<Transaction>>>> + Send;
    fn summary(
        &self,
        user: &UserId,
        month: YearMonth,
        consistent: bool,
    ) -> impl Future<Output = R<Option<Versioned<MonthlySummary>>>> + Send;
    /// All of `actions` or none.
    fn commit(&self, actions: Vec<TxAction>) -> impl Future<Output = R<()>> + Send;
}

pub trait TransactionListStore: Metered {
    /// One page of a transaction query (GSI2 or GSI3).
    fn transactions(&self, query: &Query) -> impl Future<Output = R<Page<Versioned<Transaction>>>> + Send;
    /// The key that signs pagination cursors (the list's `nextKey` wraps the store's).
    fn cursor_key(&self) -> &CursorKey;
}

/// Many of one user's transactions by id (the bulk tools).
pub trait TransactionBatchStore: LedgerStore + TransactionListStore {
    /// Those of `ids` that exist under `user` (another user's id is simply
    /// not in this user's partition), unexpired, in the order of `ids`.
    fn transactions_by_id(&self, user: &UserId, ids: &[TransactionId]) -> impl Future<Output = R<Vec<Versioned<Transaction>>>> + Send;
}

pub trait SummaryStore: Metered {
    fn summaries(&self, user: &UserId) -> impl Future<Output = R<Vec<MonthlySummary>>> + Send;
    /// Timestamp of the first (`newest = false`) or last transaction.
    fn edge_transaction_time(&self, user: &UserId, newest: bool) -> impl Future<Output = R<Option<Timestamp>>> + Send;
}

pub trait ConfigStore: Metered {
    fn settings(&self) -> impl Future<Output = R<Vec<SystemConfig>>> + Send;
    fn setting(&self, name: &SettingName) -> impl Future<Output = R<Option<Versioned<SystemConfig>>>> + Send;
    fn save_setting(&self, config: &SystemConfig, condition: Condition) -> impl Future<Output = R<u64>> + Send;
}

impl Metered for Table {
    fn metered(&self) -> Self {
        Table::metered(self)
    }
    fn consumed(&self) -> Capacity {
        Table::consumed(self)
    }
    fn now(&self) -> Timestamp {
        Table::now(self)
    }
}

impl ProfileStore for Table {
    async fn profile(&self, user: &UserId) -> R<Option<Versioned<UserProfile>>> {
        self.get(&ItemKey::Profile(user.clone())).await
    }
    async fn save_profile(&self, profile: &UserProfile, expected_version: u64) -> R<u64> {
        self.put(profile, Condition::Version(expected_version)).await
    }
    async fn email_owner(&self, email: &Email) -> R<Option<UserId>> {
        if let Some(c) = self.get_consistent::<EmailClaim>(&ItemKey::EmailClaim(email.clone())).await? {
            return Ok(Some(c.value.user_id));
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct ByEmail {
            user_id: UserId,
        }
        let k = keys::gsi1_email(email);
        let q = Query::index("system", keys::Index::Gsi1, k.pk).sort_key(SortKey::Equals(k.sk)).limit(1);
        Ok(self.query_as::<ByEmail>(&q).await?.items.into_iter().next().map(|b| b.user_id))
    }
    async fn move_email(&self, current: &Versioned<UserProfile>, updated: &UserProfile) -> R<u64> {
        let claim = EmailClaim { email: updated.email.clone(), user_id: updated.user_id.clone(), claimed_at: self.now() };
        let actions = vec![
            TxAction::put(&claim, Condition::MustNotExist)?,
            TxAction::put(updated, Condition::Version(current.version))?,
            TxAction::delete(&ItemKey::EmailClaim(current.value.email.clone()), Condition::None),
        ];
        self.transact(actions, None).await?;
        Ok(current.version + 1)
    }
}

impl LedgerStore for Table {
    async fn transaction(&self, user: &UserId, id: &TransactionId, consistent: bool) -> R<Option<Versioned<Transaction>>> {
        let key = ItemKey::Transaction(user.clone(), id.clone());
        if consistent {
            self.get_consistent(&key).await
        } else {
            self.get(&key).await
        }
    }
    async fn summary(&self, user: &UserId, month: YearMonth, consistent: bool) -> R<Option<Versioned<MonthlySummary>>> {
        let key = ItemKey::MonthlySummary(user.clone(), month);
        if consistent {
            self.get_consistent(&key).await
        } else {
            self.get(&key).await
        }
    }
    async fn commit(&self, actions: Vec<TxAction>) -> R<()> {
        self.transact(actions, None).await
    }
}

impl IdempotencyStore for Table {
    async fn idempotency_record(&self, user: &UserId, key: &IdempotencyKey) -> R<Option<IdempotencyRecord>> {
        Ok(self.get_consistent(&ItemKey::Idempotency(user.clone(), key.clone())).await?.map(|v| v.value))
    }
    async fn save_idempotency_record(&self, record: &IdempotencyRecord) -> R<()> {
        // Expired records count as absent (Condition::MustNotExist).
        self.put_live(&record.user_id, record, Condition::MustNotExist).await.map(|_| ())
    }
}

impl TransactionListStore for Table {
    async fn transactions(&self, query: &Query) -> R<Page<Versioned<Transaction>>> {
        self.query(query).await
    }
    fn cursor_key(&self) -> &CursorKey {
        Table::cursor_key(self)
    }
}

impl TransactionBatchStore for Table {
    async fn transactions_by_id(&self, user: &UserId, ids: &[TransactionId]) -> R<Vec<Versioned<Transaction>>> {
        let keys: Vec<ItemKey> = ids.iter().map(|id| ItemKey::Transaction(user.clone(), id.clone())).collect();
        self.batch_get(&keys).await
    }
}

impl SummaryStore for Table {
    async fn summaries(&self, user: &UserId) -> R<Vec<MonthlySummary>> {
        let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::SUMMARY);
        let items = self.query_all_items(&q).await?;
        items.into_iter().map(|i| Table::decode::<MonthlySummary>(i).map(|v| v.value)).collect()
    }
    async fn edge_transaction_time(&self, user: &UserId, newest: bool) -> R<Option<Timestamp>> {
        #[derive(serde::Deserialize)]
        struct Ts {
            timestamp: Timestamp,
        }
        let mut q = Query::index(user.as_str(), keys::Index::Gsi2, keys::user_pk(user)).limit(1).project_as::<Ts>();
        if newest {
            q = q.descending();
        }
        Ok(self.query_as::<Ts>(&q).await?.items.into_iter().next().map(|t| t.timestamp))
    }
}

impl ConfigStore for Table {
    async fn settings(&self) -> R<Vec<SystemConfig>> {
        let q = Query::table("system", keys::CONFIG_PK).begins_with(keys::prefix::SETTING);
        let items = self.query_all_items(&q).await?;
        items.into_iter().map(|i| Table::decode::<SystemConfig>(i).map(|v| v.value)).collect()
    }
    async fn setting(&self, name: &SettingName) -> R<Option<Versioned<SystemConfig>>> {
        self.get_consistent(&ItemKey::SystemConfig(name.clone())).await
    }
    async fn save_setting(&self, config: &SystemConfig, condition: Condition) -> R<u64> {
        self.put(config, condition).await
    }
}
