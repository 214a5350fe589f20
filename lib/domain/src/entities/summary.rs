use super::{Entity, Transaction};
use crate::category;
use crate::ids::UserId;
use crate::keys::{gsi1_active, IndexKey, ItemKey};
use crate::money::Money;
use crate::time::{Timestamp, YearMonth};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Debit (money out, negative amounts) and credit (money in) totals and counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Sum of the absolute values of negative amounts.
    pub debit: Money,
    pub credit: Money,
    pub debit_count: u64,
    pub credit_count: u64,
}

impl Totals {
    fn add(&mut self, amount: Money, sign: i64) -> Option<()> {
        let delta = Money::from_minor(amount.abs().minor().checked_mul(sign)?);
        if amount.is_negative() {
            self.debit = self.debit.checked_add(delta)?;
            self.debit_count = self.debit_count.checked_add_signed(sign)?;
        } else {
            self.credit = self.credit.checked_add(delta)?;
            self.credit_count = self.credit_count.checked_add_signed(sign)?;
        }
        Some(())
    }
    pub fn is_empty(&self) -> bool {
        self.debit_count == 0 && self.credit_count == 0
    }
    /// Adds `other`'s figures to these (two categories folded into one).
    fn merge(&mut self, other: &Totals) -> Option<()> {
        self.debit = self.debit.checked_add(other.debit)?;
        self.credit = self.credit.checked_add(other.credit)?;
        self.debit_count = self.debit_count.checked_add(other.debit_count)?;
        self.credit_count = self.credit_count.checked_add(other.credit_count)?;
        Some(())
    }
    pub fn net(&self) -> Money {
        self.credit.checked_sub(self.debit).unwrap_or_default()
    }
}

/// New item: one user's exact totals for one calendar month (UTC), per
/// effective category. Moved in the same TransactWriteItems as every
/// transaction change, so it always equals the sum over the transactions.
///
/// Amounts in two currencies are never added (SPEC §5 "Money"): `totals` and
/// `byCategory` hold the transactions in [`MonthlySummary::BASE_CURRENCY`]
/// (GBP, what the app's single figures show), and `otherCurrencies` the same
/// figures for each other currency, kept apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonthlySummary {
    pub user_id: UserId,
    pub month: YearMonth,
    pub totals: Totals,
    pub by_category: BTreeMap<String, Totals>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other_currencies: BTreeMap<String, CurrencyTotals>,
    pub updated_at: Timestamp,
}

/// One non-base currency's figures in a [`MonthlySummary`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyTotals {
    pub totals: Totals,
    pub by_category: BTreeMap<String, Totals>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SummaryError {
    #[error("transaction is not in this summary's month")]
    WrongMonth,
    #[error("summary totals would overflow or go negative")]
    OutOfRange,
}

impl MonthlySummary {
    pub fn empty(user_id: UserId, month: YearMonth, at: Timestamp) -> Self {
        Self { user_id, month, totals: Totals::default(), by_category: BTreeMap::new(), other_currencies: BTreeMap::new(), updated_at: at }
    }

    /// The currency `totals` and `byCategory` are in.
    pub const BASE_CURRENCY: &'static str = "GBP";

    /// Counts a transaction in (`sign = 1`) or out (`sign = -1`), under its own currency.
    fn apply(&mut self, t: &Transaction, sign: i64) -> Result<(), SummaryError> {
        if t.timestamp.month() != self.month {
            return Err(SummaryError::WrongMonth);
        }
        let currency = t.currency.as_str();
        let (totals, by_category) = if currency == Self::BASE_CURRENCY {
            (&mut self.totals, &mut self.by_category)
        } else {
            let c = self.other_currencies.entry(currency.to_string()).or_default();
            (&mut c.totals, &mut c.by_category)
        };
        totals.add(t.amount, sign).ok_or(SummaryError::OutOfRange)?;
        let cat = by_category.entry(t.category.primary.as_str().to_string()).or_default();
        cat.add(t.amount, sign).ok_or(SummaryError::OutOfRange)?;
        if cat.is_empty() {
            by_category.remove(t.category.primary.as_str());
        }
        if self.other_currencies.get(currency).is_some_and(|c| c.totals.is_empty()) {
            self.other_currencies.remove(currency);
        }
        Ok(())
    }

    pub fn add(&mut self, t: &Transaction) -> Result<(), SummaryError> {
        self.apply(t, 1)
    }

    pub fn remove(&mut self, t: &Transaction) -> Result<(), SummaryError> {
        self.apply(t, -1)
    }

    /// The summary recomputed from scratch (what the invariant compares against).
    pub fn recompute<'a>(
        user_id: UserId,
        month: YearMonth,
        at: Timestamp,
        txns: impl IntoIterator<Item = &'a Transaction>,
    ) -> Result<Self, SummaryError> {
        let mut s = Self::empty(user_id, month, at);
        for t in txns.into_iter().filter(|t| t.timestamp.month() == month) {
            s.add(t)?;
        }
        Ok(s)
    }

    /// Same figures, ignoring `updatedAt`.
    pub fn same_totals(&self, other: &MonthlySummary) -> bool {
        self.totals == other.totals && self.by_category == other.by_category && self.other_currencies == other.other_currencies
    }
}

/// `byCategory` under the canonical names: aliased keys (`transport`,
/// `Transport`) merged into one (`Transportation`), exactly as the
/// transactions they count are upgraded, so the summary still equals them.
fn canonical_categories(by_category: &mut BTreeMap<String, Totals>) {
    let old = std::mem::take(by_category);
    for (name, totals) in old {
        let entry = by_category.entry(category::canonical(&name).name().to_string()).or_default();
        if entry.merge(&totals).is_none() {
            // Beyond i64 pence: keep the figures apart rather than wrong.
            by_category.insert(name, totals);
        }
    }
}

impl Entity for MonthlySummary {
    const ENTITY_TYPE: &'static str = "MONTHLY_SUMMARY";
    /// 2: `byCategory` keys are the app's names (see [`Transaction`]'s version 2).
    const SCHEMA_VERSION: u32 = 2;
    fn upgrade(&mut self, from: u32) {
        if from < 2 {
            canonical_categories(&mut self.by_category);
            for c in self.other_currencies.values_mut() {
                canonical_categories(&mut c.by_category);
            }
        }
    }
    fn item_key(&self) -> ItemKey {
        ItemKey::MonthlySummary(self.user_id.clone(), self.month)
    }
    /// Its user is active in its month (the monthly report job reads them).
    fn index_keys(&self) -> Vec<IndexKey> {
        vec![gsi1_active(self.month, &self.user_id)]
    }
}
