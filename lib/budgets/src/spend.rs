//! What a budget has spent in a period, exactly, from the monthly SUMMARY
//! items: a London month is its UTC month's summary, plus the transactions of
//! the hour before the UTC month that are already in the local month, minus
//! those of its last hour that belong to the next local month (both empty in
//! winter). Spending is per category net of refunds (debits minus credits),
//! never below zero, so a refund lowers what a budget has spent and income in
//! another category never does. A week's figures are its transactions (one
//! bounded Query by date). Budgets are in the summaries' base currency (GBP):
//! transactions in another currency are never added to them.

use crate::period::Period;
use expenzez_domain::category::AppCategory;
use expenzez_domain::entities::{MonthlySummary, Totals, Transaction, UserBudget};
use expenzez_domain::Money;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The category of the main (overall) budget: it counts every category.
pub const ALL_CATEGORIES: &str = "all";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("spending totals are out of range")]
pub struct OutOfRange;

/// Debits and credits of one period by category (lower-cased: the app
/// compares category names case-insensitively).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeriodSpending {
    pub by_category: BTreeMap<String, Totals>,
}

fn add_totals(into: &mut Totals, t: &Totals, sign: i64) -> Result<(), OutOfRange> {
    let signed = |m: Money| m.minor().checked_mul(sign).map(Money::from_minor).ok_or(OutOfRange);
    into.debit = into.debit.checked_add(signed(t.debit)?).ok_or(OutOfRange)?;
    into.credit = into.credit.checked_add(signed(t.credit)?).ok_or(OutOfRange)?;
    into.debit_count = into.debit_count.checked_add_signed(t.debit_count as i64 * sign).ok_or(OutOfRange)?;
    into.credit_count = into.credit_count.checked_add_signed(t.credit_count as i64 * sign).ok_or(OutOfRange)?;
    Ok(())
}

/// Whether a transaction is in the budgets' (the summaries' base) currency.
fn in_base(t: &Transaction) -> bool {
    t.currency.as_str() == MonthlySummary::BASE_CURRENCY
}

fn totals_of(t: &Transaction) -> Totals {
    if t.amount.is_negative() {
        Totals { debit: t.amount.abs(), debit_count: 1, ..Totals::default() }
    } else {
        Totals { credit: t.amount, credit_count: 1, ..Totals::default() }
    }
}

/// How categories are compared: the app's name for a known one (so a
/// budget on `transport` counts `Transportation`), lower-cased; another
/// name lower-cased.
pub fn category_key(category: &str) -> String {
    AppCategory::from_name(category).map_or_else(|| category.to_lowercase(), |c| c.name().to_lowercase())
}

impl PeriodSpending {
    fn apply(&mut self, category: &str, t: &Totals, sign: i64) -> Result<(), OutOfRange> {
        add_totals(self.by_category.entry(category_key(category)).or_default(), t, sign)
    }

    /// The local month from its UTC month's summary and the two boundary windows.
    pub fn from_summary(summary: Option<&MonthlySummary>, entering: &[Transaction], leaving: &[Transaction]) -> Result<Self, OutOfRange> {
        let mut s = Self::default();
        for (cat, t) in summary.map(|s| &s.by_category).into_iter().flatten() {
            s.apply(cat, t, 1)?;
        }
        for t in entering.iter().filter(|t| in_base(t)) {
            s.apply(t.category.primary.as_str(), &totals_of(t), 1)?;
        }
        for t in leaving.iter().filter(|t| in_base(t)) {
            s.apply(t.category.primary.as_str(), &totals_of(t), -1)?;
        }
        Ok(s)
    }

    /// The figures of `period` from its transactions (a week's, read by date;
    /// and what the invariant is checked against).
    pub fn recompute<'a>(period: &Period, txns: impl IntoIterator<Item = &'a Transaction>) -> Result<Self, OutOfRange> {
        let mut s = Self::default();
        for t in txns.into_iter().filter(|t| period.contains(t.timestamp) && in_base(t)) {
            s.apply(t.category.primary.as_str(), &totals_of(t), 1)?;
        }
        Ok(s)
    }

    /// What a budget on `category` (plus `subcategories`) has spent.
    pub fn spent(&self, category: &str, subcategories: &[String]) -> Result<Money, OutOfRange> {
        let all = category.eq_ignore_ascii_case(ALL_CATEGORIES);
        let wanted: Vec<String> = std::iter::once(category).chain(subcategories.iter().map(String::as_str)).map(category_key).collect();
        let mut spent = Money::ZERO;
        // Net per category, never below zero: income in one category does not
        // offset spending in another.
        for (cat, t) in &self.by_category {
            if all || wanted.contains(cat) {
                let net = t.debit.checked_sub(t.credit).ok_or(OutOfRange)?;
                if !net.is_negative() {
                    spent = spent.checked_add(net).ok_or(OutOfRange)?;
                }
            }
        }
        Ok(spent)
    }

    pub fn spent_by(&self, b: &UserBudget) -> Result<Money, OutOfRange> {
        self.spent(&b.category, b.subcategories.as_deref().unwrap_or_default())
    }
}

/// Percentage of `limit` that `spent` is, to two decimal places (a ratio, not money).
pub fn progress(spent: Money, limit: Money) -> Decimal {
    if limit.minor() <= 0 {
        return Decimal::ZERO;
    }
    (Decimal::from(spent.minor()) * Decimal::from(100) / Decimal::from(limit.minor())).round_dp(2)
}

/// Whether `spent` has reached `threshold` percent of `limit` (exact integers).
pub fn reached(spent: Money, limit: Money, threshold: u32) -> bool {
    limit.minor() > 0 && spent.minor() as i128 * 100 >= limit.minor() as i128 * threshold as i128
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(debit: i64, credit: i64) -> Totals {
        Totals { debit: Money::from_minor(debit), credit: Money::from_minor(credit), debit_count: 1, credit_count: 1 }
    }

    #[test]
    fn net_per_category_never_below_zero() {
        let mut s = PeriodSpending::default();
        s.apply("Groceries", &totals(10_000, 2_500), 1).unwrap();
        s.apply("groceries", &totals(1_000, 0), 1).unwrap();
        s.apply("Salary", &totals(0, 300_000), 1).unwrap();
        s.apply("Transport", &totals(4_000, 0), 1).unwrap();
        assert_eq!(s.spent("GROCERIES", &[]).unwrap(), Money::from_minor(8_500));
        assert_eq!(s.spent("all", &[]).unwrap(), Money::from_minor(12_500));
        assert_eq!(s.spent("groceries", &["transport".into()]).unwrap(), Money::from_minor(12_500));
        assert_eq!(s.spent("Travel", &[]).unwrap(), Money::ZERO);
    }

    #[test]
    fn thresholds_are_exact() {
        let limit = Money::from_minor(30_000);
        assert!(!reached(Money::from_minor(23_999), limit, 80));
        assert!(reached(Money::from_minor(24_000), limit, 80));
        assert!(reached(Money::from_minor(30_000), limit, 100));
        assert_eq!(progress(Money::from_minor(10_000), limit).to_string(), "33.33");
        assert_eq!(progress(Money::from_minor(1), Money::ZERO), Decimal::ZERO);
    }
}
