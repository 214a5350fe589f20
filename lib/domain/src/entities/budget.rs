use super::Entity;
use crate::ids::{AlertId, BudgetId, TransactionId, UserId};
use crate::keys::{gsi1_budget_due, IndexKey, ItemKey};
use crate::money::{Currency, Money};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodType {
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
    Custom,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetPeriod {
    #[serde(rename = "type")]
    pub kind: PeriodType,
    pub start_date: Timestamp,
    pub end_date: Timestamp,
    pub is_recurring: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetStatus {
    Active,
    Paused,
    Exceeded,
    Completed,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetAlertSettings {
    pub enabled: bool,
    pub thresholds: Vec<u32>,
    pub last_alert_sent: Option<Timestamp>,
    pub alert_count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetHistoryEntry {
    pub period: String,
    pub budgeted: Money,
    pub spent: Money,
    pub variance: Money,
    pub achievement: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiBudgetRecommendation {
    pub suggested_amount: Money,
    pub confidence: f64,
    pub reasoning: String,
    pub last_updated: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetTrend {
    Improving,
    Stable,
    Worsening,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetPerformance {
    pub average_monthly_spending: Money,
    pub trend: BudgetTrend,
    pub achievement_rate: f64,
    pub best_month: Option<String>,
    pub worst_month: Option<String>,
}

/// Seed §User Budget.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserBudget {
    pub budget_id: BudgetId,
    pub user_id: UserId,
    pub name: String,
    pub category: String,
    pub subcategories: Option<Vec<String>>,
    pub limit: Money,
    pub currency: Currency,
    pub spent: Money,
    pub remaining: Money,
    /// Percentage used, 0-100+ (a ratio, not money).
    pub percentage: f64,
    pub period: BudgetPeriod,
    pub status: BudgetStatus,
    pub is_visible: bool,
    pub alerts: BudgetAlertSettings,
    pub history: Vec<BudgetHistoryEntry>,
    pub ai_recommendations: Option<AiBudgetRecommendation>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_calculated: Timestamp,
    pub performance: BudgetPerformance,
    /// Beyond the seed (which has no such setting): whether what is left
    /// unspent at the end of a period is added to the next period's allowance.
    #[serde(default)]
    pub rollover_unspent: bool,
    /// Beyond the seed: what the current period received from the one before
    /// (zero unless `rolloverUnspent`).
    #[serde(default)]
    pub carried_over: Money,
}

impl UserBudget {
    /// What the current period may spend: the limit plus what was carried over.
    pub fn allowance(&self) -> Money {
        self.limit.checked_add(self.carried_over).unwrap_or(self.limit)
    }

    /// Whether the daily rollover opens its next period (and so whether it is
    /// in the sparse due index).
    pub fn rolls_over(&self) -> bool {
        self.period.is_recurring && matches!(self.status, BudgetStatus::Active | BudgetStatus::Exceeded)
    }
}

impl Entity for UserBudget {
    const ENTITY_TYPE: &'static str = "BUDGET";
    fn item_key(&self) -> ItemKey {
        ItemKey::Budget(self.user_id.clone(), self.budget_id.clone())
    }
    fn index_keys(&self) -> Vec<IndexKey> {
        if self.rolls_over() {
            vec![gsi1_budget_due(self.period.end_date, &self.user_id, &self.budget_id)]
        } else {
            Vec::new()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertType {
    Threshold,
    Exceeded,
    PeriodEnd,
    Custom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMethod {
    Push,
    Email,
    Sms,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertConditions {
    pub time_of_day: Option<String>,
    pub days_of_week: Option<Vec<u8>>,
    pub minimum_amount: Option<Money>,
    pub consecutive_days: Option<u32>,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertTemplate {
    pub title: String,
    pub message: String,
    pub action_text: Option<String>,
    pub deep_link: Option<String>,
}

/// Seed §Budget Alert (optional TTL for inactive alerts).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetAlert {
    pub alert_id: AlertId,
    pub budget_id: BudgetId,
    pub user_id: UserId,
    pub alert_type: AlertType,
    pub threshold: u32,
    pub is_active: bool,
    pub last_triggered: Option<Timestamp>,
    pub trigger_count: u32,
    pub acknowledged_at: Option<Timestamp>,
    pub delivery_methods: Vec<DeliveryMethod>,
    pub priority: super::Priority,
    pub conditions: Option<AlertConditions>,
    pub template: AlertTemplate,
    /// Beyond the seed: the transaction an unusually-large-transaction alert
    /// is about (absent on budget alerts).
    pub transaction_id: Option<TransactionId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(rename = "TTL")]
    pub ttl: Option<i64>,
}

impl Entity for BudgetAlert {
    const ENTITY_TYPE: &'static str = "BUDGET_ALERT";
    fn item_key(&self) -> ItemKey {
        ItemKey::BudgetAlert(self.user_id.clone(), self.alert_id.clone())
    }
}

/// New item (keys.rs says why): the app's alert settings (`GET`/`PUT
/// /alerts/preferences`) and the budgets' default threshold and currency
/// (`/profile/budget-preferences`), which belong to the user, not to a budget.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertPreferences {
    pub user_id: UserId,
    pub enable_budget_alerts: bool,
    pub enable_goal_alerts: bool,
    pub enable_subscription_alerts: bool,
    pub enable_spending_anomaly_alerts: bool,
    /// `HH:MM`, the user's local time.
    pub quiet_hours_start: Option<String>,
    pub quiet_hours_end: Option<String>,
    pub max_alerts_per_day: u32,
    /// Percentage at which a budget warns (the app's `alertThreshold`).
    pub budget_alert_threshold: u32,
    pub budget_currency: Option<Currency>,
    pub updated_at: Timestamp,
}

impl AlertPreferences {
    pub const DEFAULT_THRESHOLD: u32 = 80;
    pub const DEFAULT_MAX_PER_DAY: u32 = 10;
    pub fn defaults(user_id: UserId, at: Timestamp) -> Self {
        Self {
            user_id,
            enable_budget_alerts: true,
            enable_goal_alerts: true,
            enable_subscription_alerts: true,
            enable_spending_anomaly_alerts: true,
            quiet_hours_start: Some("22:00".into()),
            quiet_hours_end: Some("08:00".into()),
            max_alerts_per_day: Self::DEFAULT_MAX_PER_DAY,
            budget_alert_threshold: Self::DEFAULT_THRESHOLD,
            budget_currency: None,
            updated_at: at,
        }
    }
}

impl Entity for AlertPreferences {
    const ENTITY_TYPE: &'static str = "ALERT_PREFERENCES";
    fn item_key(&self) -> ItemKey {
        ItemKey::AlertPreferences(self.user_id.clone())
    }
}
