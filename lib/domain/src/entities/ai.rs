use super::{ttl_after_days, Entity};
use crate::ids::{MessageId, UserId};
use crate::keys::ItemKey;
use crate::money::Money;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    User,
    Assistant,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentType {
    Text,
    Structured,
    Chart,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StructuredKind {
    Chart,
    Table,
    Summary,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StructuredData {
    #[serde(rename = "type")]
    pub kind: StructuredKind,
    pub data: serde_json::Value,
    pub visualization: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinancialContext {
    pub total_balance: Money,
    pub monthly_spending: Money,
    pub top_categories: Vec<String>,
    pub recent_transactions: u32,
    pub budget_status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatContext {
    pub user_question: String,
    pub financial_context: FinancialContext,
    pub intent: String,
    pub confidence: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenCounts {
    pub input: u32,
    pub output: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingMetadata {
    pub model: String,
    pub processing_time: u64,
    pub tokens: TokenCounts,
    pub temperature: f64,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Feedback {
    pub helpful: bool,
    pub rating: Option<u8>,
    pub comment: Option<String>,
    pub feedback_time: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Sent,
    Delivered,
    Read,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageError {
    pub code: String,
    pub message: String,
    pub retry_count: u32,
}

/// Seed §Chat Message (TTL 30 days).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub message_id: MessageId,
    pub conversation_id: Option<String>,
    pub user_id: UserId,
    pub role: ChatRole,
    pub content: String,
    pub content_type: ContentType,
    pub structured_data: Option<StructuredData>,
    pub timestamp: Timestamp,
    #[serde(rename = "TTL")]
    pub ttl: i64,
    pub context: Option<ChatContext>,
    pub processing_metadata: Option<ProcessingMetadata>,
    pub feedback: Option<Feedback>,
    pub status: MessageStatus,
    pub error: Option<MessageError>,
}

impl ChatMessage {
    pub const RETENTION_DAYS: i64 = 30;
    pub fn ttl_for(at: Timestamp) -> i64 {
        ttl_after_days(at, Self::RETENTION_DAYS)
    }

    /// A delivered text message of `role`, stored at `at` (expires
    /// [`Self::RETENTION_DAYS`] later).
    pub fn text(message_id: MessageId, user_id: UserId, role: ChatRole, content: String, at: Timestamp) -> Self {
        ChatMessage {
            message_id,
            conversation_id: None,
            user_id,
            role,
            content,
            content_type: ContentType::Text,
            structured_data: None,
            timestamp: at,
            ttl: Self::ttl_for(at),
            context: None,
            processing_metadata: None,
            feedback: None,
            status: MessageStatus::Delivered,
            error: None,
        }
    }
}

impl Entity for ChatMessage {
    const ENTITY_TYPE: &'static str = "CHAT_MESSAGE";
    fn item_key(&self) -> ItemKey {
        ItemKey::ChatMessage(self.user_id.clone(), self.timestamp, self.message_id.clone())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalysisType {
    SpendingPatterns,
    BudgetRecommendations,
    Insights,
    Predictions,
    /// The app's monthly report (`GET /ai/monthly-report/{month}`).
    MonthlyReport,
}

impl AnalysisType {
    pub fn as_str(self) -> &'static str {
        match self {
            AnalysisType::SpendingPatterns => "spending_patterns",
            AnalysisType::BudgetRecommendations => "budget_recommendations",
            AnalysisType::Insights => "insights",
            AnalysisType::Predictions => "predictions",
            AnalysisType::MonthlyReport => "monthly_report",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeframe {
    Weekly,
    Monthly,
    Quarterly,
    Yearly,
}

impl Timeframe {
    pub fn as_str(self) -> &'static str {
        match self {
            Timeframe::Weekly => "weekly",
            Timeframe::Monthly => "monthly",
            Timeframe::Quarterly => "quarterly",
            Timeframe::Yearly => "yearly",
        }
    }
    /// How long an analysis over this timeframe stays fresh (the cache TTL).
    pub fn cache_seconds(self) -> i64 {
        match self {
            Timeframe::Weekly => 6 * 3600,
            Timeframe::Monthly => 24 * 3600,
            Timeframe::Quarterly => 3 * 24 * 3600,
            Timeframe::Yearly => 7 * 24 * 3600,
        }
    }
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Insight {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub description: String,
    pub confidence: f64,
    pub actionable: bool,
    pub category: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrendDirection {
    Up,
    Down,
    Stable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub metric: String,
    pub trend: TrendDirection,
    pub percentage: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    High,
    Medium,
    Low,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub expected_saving: Option<Money>,
}

/// `metrics` are non-monetary figures (counts, ratios); money in an analysis
/// goes in typed fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisData {
    pub summary: String,
    pub insights: Vec<Insight>,
    pub metrics: BTreeMap<String, f64>,
    pub trends: Vec<Trend>,
    pub recommendations: Vec<Recommendation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DateRange {
    pub from: Timestamp,
    pub to: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BasedOnData {
    pub transaction_count: u64,
    pub date_range: DateRange,
    pub accounts_included: Vec<String>,
    /// `itemVersion` of each monthly summary (`YYYY-MM`) the analysis was
    /// computed from: a summary at another version means the data changed.
    #[serde(default)]
    pub summary_versions: BTreeMap<String, u64>,
}

/// Seed §AI Analysis Cache (TTL per timeframe).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiAnalysisCache {
    pub user_id: UserId,
    pub analysis_type: AnalysisType,
    pub timeframe: Timeframe,
    pub analysis_data: AnalysisData,
    pub generated_at: Timestamp,
    pub expires_at: Timestamp,
    #[serde(rename = "TTL")]
    pub ttl: i64,
    pub based_on_data: BasedOnData,
    pub generation_time: u64,
    pub data_points: u64,
    /// Analysis algorithm version (the seed's string `version`).
    pub version: String,
    /// The calendar month (`YYYY-MM`) of a per-month analysis; part of its key.
    #[serde(default)]
    pub period: Option<String>,
    /// The computed result as the JSON text the app reads (a monthly report),
    /// kept as text so its amounts stay exactly as written (`12.30`).
    #[serde(default)]
    pub report: Option<String>,
}

impl Entity for AiAnalysisCache {
    const ENTITY_TYPE: &'static str = "AI_ANALYSIS_CACHE";
    fn item_key(&self) -> ItemKey {
        ItemKey::AiAnalysis {
            user: self.user_id.clone(),
            analysis_type: self.analysis_type.as_str().into(),
            timeframe: match &self.period {
                Some(p) => format!("{}_{p}", self.timeframe.as_str()),
                None => self.timeframe.as_str().into(),
            },
        }
    }
}

/// New item (keys.rs says why): how many assistant answers a user had on one
/// UTC day, for the daily limit. Expires two days later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiUsage {
    pub user_id: UserId,
    pub day: chrono::NaiveDate,
    pub count: u32,
    pub updated_at: Timestamp,
    #[serde(rename = "TTL")]
    pub ttl: i64,
}

impl AiUsage {
    pub fn new(user_id: UserId, now: Timestamp) -> Self {
        let day = now.date();
        let ttl = ttl_after_days(Timestamp::start_of_day(day), 2);
        Self { user_id, day, count: 0, updated_at: now, ttl }
    }
}

impl Entity for AiUsage {
    const ENTITY_TYPE: &'static str = "AI_USAGE";
    fn item_key(&self) -> ItemKey {
        ItemKey::AiUsage(self.user_id.clone(), self.day)
    }
}
