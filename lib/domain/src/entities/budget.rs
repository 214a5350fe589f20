use super::Entity;
use crate::ids::{AlertId, BudgetId, UserId};
use crate::keys::ItemKey;
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
}

impl Entity for UserBudget {
    const ENTITY_TYPE: &'static str = "BUDGET";
    fn item_key(&self) -> ItemKey {
        ItemKey::Budget(self.user_id.clone(), self.budget_id.clone())
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
