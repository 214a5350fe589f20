//! A fixed data set for the pure tests (engine, recurring detection).

use expenzez_domain::entities::*;
use expenzez_domain::ids::*;
use expenzez_domain::keys::Category;
use expenzez_domain::time::YearMonth;
use expenzez_domain::{Currency, Money, Timestamp};
use std::collections::BTreeMap;

pub fn user() -> UserId {
    UserId::new("u-test").unwrap()
}

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

pub fn txn(n: usize, at: Timestamp, category: &str, merchant: &str, minor: i64) -> Transaction {
    Transaction {
        merchant: Some(Merchant::named(merchant)),
        ..Transaction::new(
            user(),
            AccountId::new("acc-1").unwrap(),
            TransactionId::new(format!("t{n:05}")).unwrap(),
            Money::from_minor(minor),
            Currency::gbp(),
            at,
            merchant.to_uppercase(),
            Category::new(category).unwrap(),
        )
    }
}

/// "Today" of the fixed data set: Thursday 10 December 2026, noon.
pub fn today() -> Timestamp {
    ts("2026-12-10T12:00:00.000Z")
}

fn day(y: i32, m: u32, d: u32, hour: u32) -> Timestamp {
    ts(&format!("{y:04}-{m:02}-{d:02}T{hour:02}:00:00.000Z"))
}

/// A year of transactions to 10 Dec 2026: salary, rent, Netflix and Spotify
/// monthly, a gym membership cancelled after July, groceries at Tesco and
/// Aldi, lunches at Pret A Manger, a yearly insurance.
pub fn transactions() -> Vec<Transaction> {
    let mut v = Vec::new();
    let mut push = |at: Timestamp, c: &str, m: &str, minor: i64| {
        let n = v.len();
        v.push(txn(n, at, c, m, minor));
    };
    for month in 1..=12u32 {
        let y = 2026;
        push(day(y, month, 1, 9), "income", "Acme Ltd", 285_000);
        push(day(y, month, 2, 10), "housing", "Landlord", -125_000);
        // Netflix on the 5th, moved to Monday when the 5th is a weekend; price rise from June.
        let d = chrono::NaiveDate::from_ymd_opt(y, month, 5).unwrap();
        let shift = match chrono::Datelike::weekday(&d) {
            chrono::Weekday::Sat => 2,
            chrono::Weekday::Sun => 1,
            _ => 0,
        };
        push(day(y, month, 5 + shift, 8), "entertainment", "Netflix", if month < 6 { -1099 } else { -1299 });
        if month <= 11 {
            push(day(y, month, 12, 8), "entertainment", "Spotify", -1199);
        }
        if month <= 7 {
            push(day(y, month, 20, 7), "health", "PureGym", -2499);
        }
        for (i, d) in [3u32, 9, 16, 23].iter().enumerate() {
            if month == 12 && *d > 10 {
                continue;
            }
            let (m, amount) = if i % 2 == 0 { ("Tesco", -4_210 - (month as i64) * 37) } else { ("Aldi", -2_875 - (*d as i64) * 11) };
            push(day(y, month, *d, 18), "groceries", m, amount);
        }
        for d in [4u32, 8, 11, 18, 25] {
            if month == 12 && d > 10 {
                continue;
            }
            push(day(y, month, d, 12), "eating_out", "Pret A Manger", -(650 + (d as i64) * 5 + month as i64));
        }
    }
    push(day(2025, 12, 15, 10), "insurance", "Aviva Home", -18_900);
    push(day(2026, 12, 8, 10), "insurance", "Aviva Home", -19_450);
    v.sort_by_key(|t| t.timestamp);
    v
}

pub fn summaries(txns: &[Transaction]) -> Vec<MonthlySummary> {
    let mut months: BTreeMap<YearMonth, Vec<&Transaction>> = BTreeMap::new();
    for t in txns {
        months.entry(t.timestamp.month()).or_default().push(t);
    }
    months.into_iter().map(|(m, ts)| MonthlySummary::recompute(user(), m, today(), ts).unwrap()).collect()
}

pub fn budget(id: &str, name: &str, category: &str, limit: i64) -> UserBudget {
    UserBudget {
        budget_id: BudgetId::new(id).unwrap(),
        user_id: user(),
        name: name.into(),
        category: category.into(),
        subcategories: None,
        limit: Money::from_minor(limit),
        currency: Currency::gbp(),
        spent: Money::ZERO,
        remaining: Money::from_minor(limit),
        percentage: 0.0,
        period: BudgetPeriod { kind: PeriodType::Monthly, start_date: today(), end_date: today(), is_recurring: true },
        status: BudgetStatus::Active,
        is_visible: true,
        alerts: BudgetAlertSettings { enabled: true, thresholds: vec![80], last_alert_sent: None, alert_count: 0 },
        history: Vec::new(),
        ai_recommendations: None,
        created_at: today(),
        updated_at: today(),
        last_calculated: today(),
        performance: BudgetPerformance {
            average_monthly_spending: Money::ZERO,
            trend: BudgetTrend::Stable,
            achievement_rate: 1.0,
            best_month: None,
            worst_month: None,
        },
        rollover_unspent: false,
        carried_over: Money::ZERO,
    }
}
