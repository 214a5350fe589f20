//! The narrow store traits the assistant's handlers are generic over, each
//! implemented by the DynamoDB [`Table`] (tests run them against DynamoDB Local).

use expenzez_api::stores::Metered;
use expenzez_domain::entities::*;
use expenzez_domain::ids::{BillId, SettingName, UserId};
use expenzez_domain::keys::{self, ItemKey, Key};
use expenzez_domain::time::YearMonth;
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Query, StoreError, Table, TxAction, Versioned};
use std::future::Future;

type R<T> = Result<T, StoreError>;

/// Most transactions one answer reads (a window of a few months is far below it).
pub const MAX_TRANSACTIONS: usize = 10_000;

pub trait ChatStore: Metered {
    /// The newest `limit` unexpired messages, newest first.
    fn recent_chat(&self, user: &UserId, limit: u32) -> impl Future<Output = R<Vec<ChatMessage>>> + Send;
    /// Stores all of `messages` or none.
    fn add_chat(&self, messages: Vec<ChatMessage>) -> impl Future<Output = R<()>> + Send;
    /// Keys of every chat message of the user, expired ones included.
    fn chat_keys(&self, user: &UserId) -> impl Future<Output = R<Vec<Key>>> + Send;
    fn delete_keys(&self, keys: Vec<Key>) -> impl Future<Output = R<()>> + Send;
}

/// Read-only view of the user's own financial data, which answers are built from.
pub trait FinanceStore: Metered {
    fn summaries(&self, user: &UserId) -> impl Future<Output = R<Vec<MonthlySummary>>> + Send;
    /// Transactions with `from <= timestamp <= to` (GSI2), oldest first, at most [`MAX_TRANSACTIONS`].
    fn transactions_between(&self, user: &UserId, from: Timestamp, to: Timestamp) -> impl Future<Output = R<Vec<Transaction>>> + Send;
    fn budgets(&self, user: &UserId) -> impl Future<Output = R<Vec<UserBudget>>> + Send;
}

/// Monthly summaries with their versions, and the cached monthly reports.
pub trait ReportStore: Metered {
    fn versioned_summaries(&self, user: &UserId) -> impl Future<Output = R<Vec<Versioned<MonthlySummary>>>> + Send;
    fn cached_report(&self, user: &UserId, month: YearMonth) -> impl Future<Output = R<Option<AiAnalysisCache>>> + Send;
    fn save_report(&self, report: &AiAnalysisCache) -> impl Future<Output = R<u64>> + Send;
}

/// The detected bills' cache, the bills the app saved and the user's choices per bill.
pub trait BillStore: Metered {
    fn bill_cache(&self, user: &UserId) -> impl Future<Output = R<Option<ApiCache>>> + Send;
    fn save_bill_cache(&self, entry: &ApiCache) -> impl Future<Output = R<u64>> + Send;
    fn saved_bills(&self, user: &UserId) -> impl Future<Output = R<Vec<SavedBill>>> + Send;
    fn saved_bill(&self, user: &UserId, bill: &BillId) -> impl Future<Output = R<Option<SavedBill>>> + Send;
    /// Stores all of `bills` (at most 99) or none, refused for a deleted account.
    fn save_bills(&self, user: &UserId, bills: &[SavedBill]) -> impl Future<Output = R<()>> + Send;
    fn bill_preferences(&self, user: &UserId) -> impl Future<Output = R<Vec<Versioned<BillPreference>>>> + Send;
    fn bill_preference(&self, user: &UserId, bill: &BillId) -> impl Future<Output = R<Option<Versioned<BillPreference>>>> + Send;
    /// Writes `pref` under `condition`, refused for a deleted account.
    fn save_bill_preference(&self, user: &UserId, pref: &BillPreference, condition: Condition) -> impl Future<Output = R<u64>> + Send;
}

/// The daily limit: its setting and the per-day counter.
pub trait UsageStore: Metered {
    fn setting(&self, name: &SettingName) -> impl Future<Output = R<Option<SystemConfig>>> + Send;
    fn usage(&self, user: &UserId, day: chrono::NaiveDate) -> impl Future<Output = R<Option<Versioned<AiUsage>>>> + Send;
    fn save_usage(&self, usage: &AiUsage, condition: Condition) -> impl Future<Output = R<u64>> + Send;
}

impl ChatStore for Table {
    async fn recent_chat(&self, user: &UserId, limit: u32) -> R<Vec<ChatMessage>> {
        let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::CHAT).descending().limit(limit);
        Ok(self.query::<ChatMessage>(&q).await?.items.into_iter().map(|v| v.value).collect())
    }
    async fn add_chat(&self, messages: Vec<ChatMessage>) -> R<()> {
        let actions = messages.iter().map(|m| TxAction::put(m, Condition::MustNotExist)).collect::<R<Vec<_>>>()?;
        self.transact(actions, None).await
    }
    async fn chat_keys(&self, user: &UserId) -> R<Vec<Key>> {
        self.keys_with_prefix(&keys::user_pk(user), Some(keys::prefix::CHAT)).await
    }
    async fn delete_keys(&self, keys: Vec<Key>) -> R<()> {
        self.batch_delete(&keys).await
    }
}

impl FinanceStore for Table {
    async fn summaries(&self, user: &UserId) -> R<Vec<MonthlySummary>> {
        expenzez_api::stores::SummaryStore::summaries(self, user).await
    }
    async fn transactions_between(&self, user: &UserId, from: Timestamp, to: Timestamp) -> R<Vec<Transaction>> {
        let (lo, hi) = keys::gsi2_range(from, to);
        let mut q = Query::index(user.as_str(), keys::Index::Gsi2, keys::user_pk(user)).between(lo, hi);
        let mut all = Vec::new();
        loop {
            let page = self.query::<Transaction>(&q).await?;
            all.extend(page.items.into_iter().map(|v| v.value));
            match page.next {
                Some(c) if all.len() < MAX_TRANSACTIONS => q.cursor = Some(c),
                _ => {
                    all.truncate(MAX_TRANSACTIONS);
                    return Ok(all);
                }
            }
        }
    }
    async fn budgets(&self, user: &UserId) -> R<Vec<UserBudget>> {
        let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::BUDGET);
        let items = self.query_all_items(&q).await?;
        items.into_iter().map(|i| Table::decode::<UserBudget>(i).map(|v| v.value)).collect()
    }
}

impl UsageStore for Table {
    async fn setting(&self, name: &SettingName) -> R<Option<SystemConfig>> {
        Ok(self.get::<SystemConfig>(&ItemKey::SystemConfig(name.clone())).await?.map(|v| v.value))
    }
    async fn usage(&self, user: &UserId, day: chrono::NaiveDate) -> R<Option<Versioned<AiUsage>>> {
        self.get_consistent(&ItemKey::AiUsage(user.clone(), day)).await
    }
    async fn save_usage(&self, usage: &AiUsage, condition: Condition) -> R<u64> {
        self.put(usage, condition).await
    }
}

impl ReportStore for Table {
    async fn versioned_summaries(&self, user: &UserId) -> R<Vec<Versioned<MonthlySummary>>> {
        let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::SUMMARY);
        self.query_all_items(&q).await?.into_iter().map(Table::decode::<MonthlySummary>).collect()
    }
    async fn cached_report(&self, user: &UserId, month: YearMonth) -> R<Option<AiAnalysisCache>> {
        let key = ItemKey::AiAnalysis {
            user: user.clone(),
            analysis_type: AnalysisType::MonthlyReport.as_str().into(),
            timeframe: format!("{}_{month}", Timeframe::Monthly.as_str()),
        };
        Ok(self.get::<AiAnalysisCache>(&key).await?.map(|v| v.value))
    }
    async fn save_report(&self, report: &AiAnalysisCache) -> R<u64> {
        self.put(report, Condition::None).await
    }
}

impl BillStore for Table {
    async fn bill_cache(&self, user: &UserId) -> R<Option<ApiCache>> {
        let key = ItemKey::ApiCache {
            endpoint: crate::bills::CACHE_ENDPOINT.into(),
            owner: Some(user.clone()),
            query_hash: crate::bills::CACHE_QUERY.into(),
        };
        Ok(self.get::<ApiCache>(&key).await?.map(|v| v.value))
    }
    async fn save_bill_cache(&self, entry: &ApiCache) -> R<u64> {
        self.put(entry, Condition::None).await
    }
    async fn saved_bills(&self, user: &UserId) -> R<Vec<SavedBill>> {
        let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::SAVED_BILL);
        self.query_all_items(&q).await?.into_iter().map(|i| Table::decode::<SavedBill>(i).map(|v| v.value)).collect()
    }
    async fn saved_bill(&self, user: &UserId, bill: &BillId) -> R<Option<SavedBill>> {
        Ok(self.get::<SavedBill>(&ItemKey::SavedBill(user.clone(), bill.clone())).await?.map(|v| v.value))
    }
    async fn save_bills(&self, user: &UserId, bills: &[SavedBill]) -> R<()> {
        let mut actions = bills.iter().map(|b| TxAction::put(b, Condition::None)).collect::<R<Vec<_>>>()?;
        actions.push(TxAction::account_live(user));
        self.transact(actions, None).await
    }
    async fn bill_preferences(&self, user: &UserId) -> R<Vec<Versioned<BillPreference>>> {
        let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::BILL_PREFERENCE);
        self.query_all_items(&q).await?.into_iter().map(Table::decode::<BillPreference>).collect()
    }
    async fn bill_preference(&self, user: &UserId, bill: &BillId) -> R<Option<Versioned<BillPreference>>> {
        self.get_consistent(&ItemKey::BillPreference(user.clone(), bill.clone())).await
    }
    async fn save_bill_preference(&self, user: &UserId, pref: &BillPreference, condition: Condition) -> R<u64> {
        self.put_live(user, pref, condition).await
    }
}
