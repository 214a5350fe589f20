//! Budgets and alerts as the app sees them: deterministic ids, a new
//! budget for a period, its live status, and the alert a crossed threshold raises.

use crate::period::Period;
use crate::spend::{progress, reached, ALL_CATEGORIES};
use expenzez_domain::entities::*;
use expenzez_domain::ids::{AlertId, BudgetId, UserId};
use expenzez_domain::{Currency, Money, Timestamp};
use rust_decimal::Decimal;

/// Namespace of the budgets' and alerts' name-based (v5) UUIDs.
pub(crate) const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6b0f_7c1e_2d4a_4e8b_9a51_3c7d_e2f4_a615);

/// How long an alert outlives the end of its period (the seed's optional TTL).
pub const ALERT_RETENTION_DAYS: i64 = 90;

/// The main budget's id: one per user, so two concurrent writers cannot create two.
pub fn main_budget_id() -> BudgetId {
    BudgetId::new(uuid::Uuid::new_v5(&NAMESPACE, b"budget:main").to_string()).expect("a UUID is a valid id")
}

/// A category budget's id: one per category (compared case-insensitively).
pub fn category_budget_id(category: &str) -> BudgetId {
    let name = format!("budget:category:{}", crate::spend::category_key(category));
    BudgetId::new(uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()).expect("a UUID is a valid id")
}

/// The alert of one threshold of one budget in one period: the same id
/// however often the stream delivers the change, or the spending moves
/// around the threshold, so a conditional put raises it once.
pub fn alert_id(user: &UserId, budget: &BudgetId, period: &Period, threshold: u32) -> AlertId {
    let name = format!("alert:{user}:{budget}:{}:{threshold}", period.label());
    AlertId::new(uuid::Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()).expect("a UUID is a valid id")
}

pub fn is_main(b: &UserBudget) -> bool {
    b.category.eq_ignore_ascii_case(ALL_CATEGORIES)
}

/// The thresholds a budget alerts at: the user's warning percentage and 100.
pub fn thresholds(warning: u32) -> Vec<u32> {
    let mut t = vec![warning.min(100), 100];
    t.dedup();
    t
}

/// The seed's status for what a budget has spent (against its allowance).
pub fn status_for(spent: Money, limit: Money) -> BudgetStatus {
    if reached(spent, limit, 100) && spent != Money::ZERO {
        BudgetStatus::Exceeded
    } else {
        BudgetStatus::Active
    }
}

pub struct NewBudget<'a> {
    pub user: &'a UserId,
    pub id: BudgetId,
    pub name: String,
    pub category: String,
    pub limit: Money,
    pub currency: Currency,
    pub thresholds: Vec<u32>,
    /// Monthly or weekly.
    pub kind: PeriodType,
    pub rollover_unspent: bool,
}

/// A recurring budget for the period of its kind containing `now`.
pub fn new_budget(n: NewBudget<'_>, now: Timestamp) -> UserBudget {
    let period = Period::containing(n.kind, now);
    UserBudget {
        budget_id: n.id,
        user_id: n.user.clone(),
        name: n.name,
        category: n.category,
        subcategories: None,
        limit: n.limit,
        currency: n.currency,
        spent: Money::ZERO,
        remaining: n.limit,
        percentage: 0.0,
        period: BudgetPeriod { kind: period.kind(), start_date: period.start(), end_date: period.end(), is_recurring: true },
        status: BudgetStatus::Active,
        is_visible: true,
        alerts: BudgetAlertSettings { enabled: true, thresholds: n.thresholds, last_alert_sent: None, alert_count: 0 },
        history: Vec::new(),
        ai_recommendations: None,
        created_at: now,
        updated_at: now,
        last_calculated: now,
        performance: BudgetPerformance {
            average_monthly_spending: Money::ZERO,
            trend: BudgetTrend::Stable,
            achievement_rate: 1.0,
            best_month: None,
            worst_month: None,
        },
        rollover_unspent: n.rollover_unspent,
        carried_over: Money::ZERO,
    }
}

/// Records `spent` on the stored figures (the seed's snapshot fields).
pub fn record_spent(b: &mut UserBudget, spent: Money, now: Timestamp) {
    let allowance = b.allowance();
    b.spent = spent;
    b.remaining = allowance.checked_sub(spent).unwrap_or(Money::ZERO);
    // The seed's `percentage` is a stored ratio (f64 by the seed); money stays exact.
    b.percentage = progress(spent, allowance).try_into().unwrap_or(0.0);
    b.status = status_for(spent, allowance);
    b.last_calculated = now;
}

/// "£12.30", or "EUR 12.30" for another currency.
pub fn format_money(m: Money, currency: &Currency) -> String {
    let d = m.to_decimal().round_dp(2);
    let text = format!("{:.2}", d);
    if currency.as_str() == "GBP" {
        format!("£{text}")
    } else {
        format!("{} {text}", currency.as_str())
    }
}

/// What `b` may spend in `period`: its allowance (limit plus what was
/// carried over) in the period it is in, its limit in any other (a late
/// change to a closed period, or a period the daily rollover has not opened yet).
pub fn allowance_in(b: &UserBudget, period: &Period) -> Money {
    if Period::containing(b.period.kind, b.period.start_date) == *period {
        b.allowance()
    } else {
        b.limit
    }
}

/// The alert a budget's spending crossing `threshold` (of its allowance) raises.
pub fn threshold_alert(user: &UserId, b: &UserBudget, period: &Period, threshold: u32, spent: Money, now: Timestamp) -> BudgetAlert {
    let exceeded = threshold >= 100;
    let allowance = allowance_in(b, period);
    let (title, message) = if exceeded {
        (
            format!("{} budget exceeded", b.name),
            format!(
                "You have spent {} of your {} {} budget this {} ({}%).",
                format_money(spent, &b.currency),
                format_money(allowance, &b.currency),
                b.name,
                period.noun(),
                progress(spent, allowance).round_dp(0)
            ),
        )
    } else {
        (
            format!("{}% of your {} budget used", threshold, b.name),
            format!(
                "You have spent {} of your {} {} budget this {}.",
                format_money(spent, &b.currency),
                format_money(allowance, &b.currency),
                b.name,
                period.noun()
            ),
        )
    };
    BudgetAlert {
        alert_id: alert_id(user, &b.budget_id, period, threshold),
        budget_id: b.budget_id.clone(),
        user_id: user.clone(),
        alert_type: if exceeded { AlertType::Exceeded } else { AlertType::Threshold },
        threshold,
        is_active: true,
        last_triggered: None,
        trigger_count: 1,
        acknowledged_at: None,
        delivery_methods: vec![DeliveryMethod::Push],
        priority: if exceeded { Priority::High } else { Priority::Medium },
        conditions: None,
        template: AlertTemplate {
            title,
            message,
            action_text: Some("View budget".into()),
            deep_link: Some(format!("expenzez://budgets/{}", b.budget_id)),
        },
        transaction_id: None,
        created_at: now,
        updated_at: now,
        ttl: Some(ttl_after_days(period.next_start(), ALERT_RETENTION_DAYS)),
    }
}

/// The notification request a new alert is handed on as (`requestId` = alert id).
pub fn notification_for(alert: &BudgetAlert, category: &str, spent: Money) -> NotificationRequest {
    NotificationRequest {
        request_id: alert.alert_id.to_string(),
        user_id: alert.user_id.clone(),
        kind: NotificationType::Budget,
        priority: if alert.priority == Priority::High { NotificationPriority::High } else { NotificationPriority::Normal },
        title: alert.template.title.clone(),
        message: alert.template.message.clone(),
        data: Some(NotificationData {
            transaction_id: None,
            category: Some(category.to_string()),
            amount: Some(spent),
            deep_link: alert.template.deep_link.clone(),
            image_url: None,
        }),
        created_at: alert.created_at,
    }
}

/// Progress as a percentage, for views.
pub fn percent(spent: Money, limit: Money) -> Decimal {
    progress(spent, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_distinct() {
        let u = UserId::new("u1").unwrap();
        assert_eq!(category_budget_id("Groceries"), category_budget_id("groceries"));
        assert_ne!(category_budget_id("Groceries"), main_budget_id());
        let p = Period::containing(PeriodType::Monthly, Timestamp::parse("2026-07-10T10:00:00Z").unwrap());
        let b = main_budget_id();
        assert_eq!(alert_id(&u, &b, &p, 80), alert_id(&u, &b, &p, 80));
        assert_ne!(alert_id(&u, &b, &p, 80), alert_id(&u, &b, &p, 100));
        assert_ne!(alert_id(&u, &b, &p, 80), alert_id(&u, &b, &p.next(), 80));
        assert_ne!(alert_id(&u, &b, &p, 80), alert_id(&UserId::new("u2").unwrap(), &b, &p, 80));
        let w = Period::containing(PeriodType::Weekly, Timestamp::parse("2026-07-10T10:00:00Z").unwrap());
        assert_ne!(alert_id(&u, &b, &p, 80), alert_id(&u, &b, &w, 80));
        assert_ne!(alert_id(&u, &b, &w, 80), alert_id(&u, &b, &w.next(), 80));
        assert_eq!(thresholds(80), vec![80, 100]);
        assert_eq!(thresholds(100), vec![100]);
        assert_eq!(format_money(Money::from_minor(123_405), &Currency::gbp()), "£1234.05");
    }
}
