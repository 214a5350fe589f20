//! The narrow store the budget routes, the alert evaluator and the rollover
//! use; implemented by the DynamoDB [`Table`] (tests run it against DynamoDB Local).

use crate::period::Period;
use crate::spend::PeriodSpending;
use expenzez_api::stores::Metered;
use expenzez_domain::entities::{AlertPreferences, BudgetAlert, Entity, MonthlySummary, Transaction, UserBudget};
use expenzez_domain::ids::{AlertId, BudgetId, UserId};
use expenzez_domain::keys::{self, Category, ItemKey};
use expenzez_domain::time::YearMonth;
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Query, SortKey, StoreError, Table, TxAction, Versioned};
use std::future::Future;

type R<T> = Result<T, StoreError>;

pub trait BudgetStore: Metered {
    /// Every budget of `user` (one Query of the `BUDGET#` items).
    fn budgets(&self, user: &UserId) -> impl Future<Output = R<Vec<Versioned<UserBudget>>>> + Send;
    fn budget(&self, user: &UserId, id: &BudgetId) -> impl Future<Output = R<Option<Versioned<UserBudget>>>> + Send;
    fn delete_budget(&self, user: &UserId, id: &BudgetId, version: u64) -> impl Future<Output = R<bool>> + Send;
    /// All of `actions` or none.
    fn commit(&self, actions: Vec<TxAction>) -> impl Future<Output = R<()>> + Send;
    fn alert_preferences(&self, user: &UserId) -> impl Future<Output = R<Option<Versioned<AlertPreferences>>>> + Send;
    fn save_alert_preferences(&self, prefs: &AlertPreferences, condition: Condition) -> impl Future<Output = R<u64>> + Send;
    /// Debits and credits of one period by category: a local month from its
    /// SUMMARY item and the boundary hours, a local week from its
    /// transactions (one Query by date); never a scan of transactions.
    fn period_spending(&self, user: &UserId, period: &Period, consistent: bool) -> impl Future<Output = R<PeriodSpending>> + Send;
    /// Every unexpired alert of `user`.
    fn alerts(&self, user: &UserId) -> impl Future<Output = R<Vec<Versioned<BudgetAlert>>>> + Send;
    fn alert(&self, user: &UserId, id: &AlertId) -> impl Future<Output = R<Option<Versioned<BudgetAlert>>>> + Send;
    fn save_alert(&self, alert: &BudgetAlert, condition: Condition) -> impl Future<Output = R<u64>> + Send;
    /// The budgets of one shard of the sparse due index whose period ended before `now`.
    fn due_budgets(&self, shard: u32, now: Timestamp) -> impl Future<Output = R<Vec<(UserId, BudgetId)>>> + Send;
    fn save_budget(&self, budget: &UserBudget, condition: Condition) -> impl Future<Output = R<u64>> + Send;
    /// At most `limit` of `user`'s transactions at or before `at`, newest
    /// first: in `category` (GSI3), or in every category (GSI2). One page of
    /// one Query: the large-transaction rule's bounded history.
    fn transactions_before(
        &self,
        user: &UserId,
        category: Option<&Category>,
        at: Timestamp,
        limit: u32,
    ) -> impl Future<Output = R<Vec<Transaction>>> + Send;
}

async fn query_all<E: Entity>(table: &Table, q: &Query) -> R<Vec<Versioned<E>>> {
    let items = table.query_all_items(q).await?;
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        out.push(table.decode_item::<E>(i).await?);
    }
    Ok(out)
}

/// Transactions with `from <= timestamp < to` (GSI2; a window of at most a week).
async fn window(table: &Table, user: &UserId, from: Timestamp, to: Timestamp) -> R<Vec<Transaction>> {
    if from >= to {
        return Ok(Vec::new());
    }
    let last = Timestamp::from_millis(to.millis() - 1).ok_or_else(|| StoreError::Invalid("timestamp out of range".into()))?;
    let (lo, hi) = keys::gsi2_range(from, last);
    let q = Query::index(user.as_str(), keys::Index::Gsi2, keys::user_pk(user)).sort_key(SortKey::Between(lo, hi));
    // Typed reads: an old item comes back upgraded (its category canonical).
    Ok(query_all::<Transaction>(table, &q).await?.into_iter().map(|v| v.value).collect())
}

/// Midnight UTC on the 1st of a calendar month.
fn utc_month_start(m: YearMonth) -> Timestamp {
    Timestamp::start_of_day(chrono::NaiveDate::from_ymd_opt(m.year, m.month, 1).expect("valid month"))
}

impl BudgetStore for Table {
    async fn budgets(&self, user: &UserId) -> R<Vec<Versioned<UserBudget>>> {
        query_all(self, &Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::BUDGET)).await
    }
    async fn budget(&self, user: &UserId, id: &BudgetId) -> R<Option<Versioned<UserBudget>>> {
        self.get_consistent(&ItemKey::Budget(user.clone(), id.clone())).await
    }
    async fn delete_budget(&self, user: &UserId, id: &BudgetId, version: u64) -> R<bool> {
        self.delete(&ItemKey::Budget(user.clone(), id.clone()), Condition::Version(version)).await
    }
    async fn commit(&self, actions: Vec<TxAction>) -> R<()> {
        self.transact(actions, None).await
    }
    async fn alert_preferences(&self, user: &UserId) -> R<Option<Versioned<AlertPreferences>>> {
        self.get_consistent(&ItemKey::AlertPreferences(user.clone())).await
    }
    async fn save_alert_preferences(&self, prefs: &AlertPreferences, condition: Condition) -> R<u64> {
        self.put(prefs, condition).await
    }
    async fn period_spending(&self, user: &UserId, period: &Period, consistent: bool) -> R<PeriodSpending> {
        let period = match period {
            Period::Month(m) => m,
            Period::Week(w) => {
                let txns = window(self, user, w.start, w.next_start).await?;
                return PeriodSpending::recompute(&Period::Week(*w), &txns).map_err(|e| StoreError::Invalid(e.to_string()));
            }
        };
        // The local month's figures live in the SUMMARY of the UTC month of the same name.
        let key = ItemKey::MonthlySummary(user.clone(), period.month);
        let summary = async {
            if consistent {
                self.get_consistent::<MonthlySummary>(&key).await
            } else {
                self.get::<MonthlySummary>(&key).await
            }
        };
        let utc_start = utc_month_start(period.month);
        let utc_next = utc_month_start(period.next().month);
        let (summary, entering, leaving) =
            tokio::try_join!(summary, window(self, user, period.start, utc_start), window(self, user, period.next_start, utc_next))?;
        PeriodSpending::from_summary(summary.as_ref().map(|v| &v.value), &entering, &leaving)
            .map_err(|e| StoreError::Invalid(e.to_string()))
    }
    async fn alerts(&self, user: &UserId) -> R<Vec<Versioned<BudgetAlert>>> {
        query_all(self, &Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::ALERT)).await
    }
    async fn alert(&self, user: &UserId, id: &AlertId) -> R<Option<Versioned<BudgetAlert>>> {
        self.get_consistent(&ItemKey::BudgetAlert(user.clone(), id.clone())).await
    }
    async fn save_alert(&self, alert: &BudgetAlert, condition: Condition) -> R<u64> {
        self.put(alert, condition).await
    }
    async fn due_budgets(&self, shard: u32, now: Timestamp) -> R<Vec<(UserId, BudgetId)>> {
        #[derive(serde::Deserialize)]
        struct Due {
            #[serde(rename = "GSI1SK")]
            sk: String,
        }
        // `{periodEnd}#...` sorts below `{now}#` exactly when the period ended before now.
        let q = Query::index("system", keys::Index::Gsi1, keys::budget_due_pk(shard))
            .sort_key(SortKey::LessOrEqual(keys::due_before(now)))
            .project_as::<Due>();
        let rows = self.query_all_as::<Due>(&q).await?;
        Ok(rows.into_iter().filter_map(|d| keys::parse_budget_due_sk(&d.sk)).map(|(_, u, b)| (u, b)).collect())
    }
    async fn save_budget(&self, budget: &UserBudget, condition: Condition) -> R<u64> {
        self.put(budget, condition).await
    }
    async fn transactions_before(&self, user: &UserId, category: Option<&Category>, at: Timestamp, limit: u32) -> R<Vec<Transaction>> {
        let q = match category {
            // `CATEGORY#{category}#{timestamp}`: everything of the category up to `at`.
            Some(c) => {
                let prefix = keys::gsi3_category_prefix(c);
                Query::index(user.as_str(), keys::Index::Gsi3, keys::user_pk(user)).between(prefix.clone(), format!("{prefix}{at}"))
            }
            // `{timestamp}#{transactionId}`: `{at}~` is above every id at `at`.
            None => Query::index(user.as_str(), keys::Index::Gsi2, keys::user_pk(user))
                .sort_key(SortKey::LessOrEqual(keys::gsi2_range(at, at).1)),
        };
        Ok(self.query_as::<Transaction>(&q.descending().limit(limit)).await?.items)
    }
}
