use super::{ttl_after_days, Entity};
use crate::ids::{DeviceId, NotificationId, NotificationRequestKey, PushReceiptId, UserId};
use crate::keys::{gsi1_receipt_due, IndexKey, ItemKey};
use crate::money::Money;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DevicePlatform {
    Ios,
    Android,
    Web,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStatus {
    Active,
    Inactive,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfo {
    pub model: String,
    pub os_version: String,
    pub app_version: String,
    pub push_enabled: bool,
}

/// Seed §Notification Token. The push token identifies a device to the push
/// service; it is not a credential for our API.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationToken {
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub token: String,
    pub platform: DevicePlatform,
    pub status: TokenStatus,
    pub is_valid: bool,
    pub device_info: Option<DeviceInfo>,
    pub last_used: Timestamp,
    pub total_notifications_sent: u64,
    pub successful_deliveries: u64,
    pub failed_deliveries: u64,
    pub registered_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_validated: Timestamp,
    pub validation_attempts: u32,
    pub invalidation_reason: Option<String>,
}

impl Entity for NotificationToken {
    const ENTITY_TYPE: &'static str = "NOTIFICATION_TOKEN";
    fn item_key(&self) -> ItemKey {
        ItemKey::NotificationToken(self.user_id.clone(), self.device_id.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuietHours {
    pub enabled: bool,
    pub start_time: String,
    pub end_time: String,
    pub timezone: String,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionNotifications {
    pub enabled: bool,
    pub threshold: Option<Money>,
    pub include_deposits: bool,
    pub include_withdrawals: bool,
    pub instant_notification: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetNotifications {
    pub enabled: bool,
    pub warning_threshold: u32,
    pub exceeded_alert: bool,
    pub weekly_digest: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityNotifications {
    pub enabled: bool,
    pub login_alerts: bool,
    pub device_changes: bool,
    pub suspicious_activity: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsightNotifications {
    pub enabled: bool,
    pub weekly_report: bool,
    pub monthly_report: bool,
    pub spending_tips: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarketingNotifications {
    pub enabled: bool,
    pub product_updates: bool,
    pub promotions: bool,
    pub surveys: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationCategories {
    pub transactions: TransactionNotifications,
    pub budgets: BudgetNotifications,
    pub security: SecurityNotifications,
    pub insights: InsightNotifications,
    pub marketing: MarketingNotifications,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channels {
    pub push: bool,
    pub email: bool,
    pub sms: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleConditionType {
    Amount,
    Category,
    Merchant,
    Frequency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleOperator {
    GreaterThan,
    LessThan,
    Equals,
    Contains,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleCondition {
    #[serde(rename = "type")]
    pub kind: RuleConditionType,
    pub operator: RuleOperator,
    pub value: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    Notify,
    DontNotify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationPriority {
    High,
    Normal,
    Low,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomRule {
    pub id: String,
    pub name: String,
    pub condition: RuleCondition,
    pub action: RuleAction,
    pub priority: NotificationPriority,
}

/// Seed §Notification Preferences.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPreferences {
    pub user_id: UserId,
    pub global_enabled: bool,
    pub quiet_hours: QuietHours,
    pub categories: NotificationCategories,
    pub channels: Channels,
    pub custom_rules: Option<Vec<CustomRule>>,
    pub updated_at: Timestamp,
    pub last_reviewed_at: Option<Timestamp>,
}

impl Entity for NotificationPreferences {
    const ENTITY_TYPE: &'static str = "NOTIFICATION_PREFERENCES";
    fn item_key(&self) -> ItemKey {
        ItemKey::NotificationPreferences(self.user_id.clone())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotificationType {
    Transaction,
    Budget,
    Security,
    Insight,
    Marketing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Delivered,
    Failed,
    Opened,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Push,
    Email,
    Sms,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationData {
    pub transaction_id: Option<String>,
    pub category: Option<String>,
    pub amount: Option<Money>,
    pub deep_link: Option<String>,
    pub image_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttemptStatus {
    Success,
    Failed,
}

#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    pub timestamp: Timestamp,
    pub channel: String,
    pub device_id: String,
    pub status: AttemptStatus,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserActionKind {
    Opened,
    Dismissed,
    ClickedAction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAction {
    pub action: UserActionKind,
    pub timestamp: Timestamp,
    pub device_id: String,
}

/// Seed §Notification History (TTL 90 days). The seed's `timestamp` in the
/// key is `sentAt`.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationHistory {
    pub notification_id: NotificationId,
    pub user_id: UserId,
    pub title: String,
    pub body: String,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub priority: NotificationPriority,
    pub delivery_status: DeliveryStatus,
    pub sent_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub opened_at: Option<Timestamp>,
    pub target_devices: Vec<String>,
    pub channels: Vec<Channel>,
    pub data: Option<NotificationData>,
    pub delivery_attempts: Vec<DeliveryAttempt>,
    pub user_actions: Option<Vec<UserAction>>,
    #[serde(rename = "TTL")]
    pub ttl: i64,
    pub batch_id: Option<String>,
    pub template_id: Option<String>,
    /// Notification system version (the seed's string `version`).
    pub version: String,
}

impl NotificationHistory {
    pub const RETENTION_DAYS: i64 = 90;
    pub fn ttl_for(sent_at: Timestamp) -> i64 {
        ttl_after_days(sent_at, Self::RETENTION_DAYS)
    }

    /// The id of a notification sent at `sent_at`: its send time in epoch
    /// milliseconds, then `suffix` (`1764759600000-3f2a...`). The time is the
    /// one in its key (`NOTIFICATION#{sentAt}#{id}`), so the app's
    /// `PUT /notifications/{id}/read` finds it with one GetItem.
    pub fn id_for(sent_at: Timestamp, suffix: &str) -> Result<NotificationId, crate::ids::IdError> {
        NotificationId::new(format!("{:013}-{suffix}", sent_at.millis()))
    }

    /// The key of `user`'s notification `id` (see [`NotificationHistory::id_for`]);
    /// `None` for an id no notification can have.
    pub fn key_of(user: &UserId, id: &NotificationId) -> Option<ItemKey> {
        let (ms, suffix) = id.as_str().split_once('-')?;
        if ms.len() != 13 || suffix.is_empty() || !ms.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(ItemKey::Notification(user.clone(), Timestamp::from_millis(ms.parse().ok()?)?, id.clone()))
    }
}

impl Entity for NotificationHistory {
    const ENTITY_TYPE: &'static str = "NOTIFICATION";
    fn item_key(&self) -> ItemKey {
        ItemKey::Notification(self.user_id.clone(), self.sent_at, self.notification_id.clone())
    }
}

/// A request to notify a user, as it travels on the notification queue (SQS,
/// JSON body) from its producers (budget alerts, bank sync, bills, security
/// events) to the notifier. Not stored: the notifier decides from the user's
/// preferences whether and when to deliver it, and writes a
/// [`NotificationHistory`] for what it delivered. `requestId` is deterministic
/// per event (e.g. the alert id), so a message delivered twice notifies once.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationRequest {
    pub request_id: String,
    pub user_id: UserId,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub priority: NotificationPriority,
    pub title: String,
    pub message: String,
    pub data: Option<NotificationData>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// A notifier is delivering it (or died doing so: the claim lapses after
    /// [`NotificationDelivery::CLAIM_SECONDS`]).
    Claimed,
    /// Pushed and written to the history.
    Delivered,
}

/// New item: the notifier's record of one [`NotificationRequest`], keyed by a
/// digest of its `requestId`. Claimed with a conditional put before the push
/// and marked delivered in the same transaction that writes the history, so
/// a request delivered twice by SQS notifies once; a failed push releases the
/// claim (nothing half-written). TTL 14 days: longer than SQS keeps a message.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationDelivery {
    pub user_id: UserId,
    pub request_key: NotificationRequestKey,
    pub state: DeliveryState,
    pub notification_id: Option<NotificationId>,
    pub claimed_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(rename = "TTL")]
    pub ttl: i64,
}

impl NotificationDelivery {
    pub const RETENTION_DAYS: i64 = 14;
    /// A claim older than this (well past the notifier's timeout) was
    /// abandoned by a notifier that died; the next delivery takes it over.
    pub const CLAIM_SECONDS: i64 = 300;

    /// The key of a producer's `requestId`: the first 128 bits of its
    /// SHA-256, hex (any string the producer chose fits a key).
    pub fn request_key(request_id: &str) -> NotificationRequestKey {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(request_id.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        NotificationRequestKey::new(hex).expect("hex is a valid id")
    }
}

impl Entity for NotificationDelivery {
    const ENTITY_TYPE: &'static str = "NOTIFICATION_DELIVERY";
    fn item_key(&self) -> ItemKey {
        ItemKey::NotificationDelivery(self.user_id.clone(), self.request_key.clone())
    }
}

/// New item: a push ticket whose receipt Expo did not have ready when the
/// push was sent. The receipt sweep reads it once `checkAfter` has passed
/// (sparse GSI1 `RECEIPT_DUE#{shard}`), deletes the device's token on
/// `DeviceNotRegistered`, and deletes this item; one never read expires with
/// Expo's copy (TTL 1 day).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PushReceipt {
    pub user_id: UserId,
    pub receipt_id: PushReceiptId,
    pub device_id: DeviceId,
    pub notification_id: NotificationId,
    pub sent_at: Timestamp,
    pub check_after: Timestamp,
    #[serde(rename = "TTL")]
    pub ttl: i64,
}

impl PushReceipt {
    /// Expo keeps a receipt for a day.
    pub const RETENTION_SECONDS: i64 = 86_400;
    /// Expo advises reading receipts some 15 minutes after sending.
    pub const DELAY_SECONDS: i64 = 15 * 60;

    pub fn new(user: &UserId, receipt: PushReceiptId, device: DeviceId, notification: NotificationId, sent_at: Timestamp) -> Self {
        Self {
            user_id: user.clone(),
            receipt_id: receipt,
            device_id: device,
            notification_id: notification,
            sent_at,
            check_after: sent_at.plus_seconds(Self::DELAY_SECONDS),
            ttl: sent_at.epoch_seconds() + Self::RETENTION_SECONDS,
        }
    }
}

impl Entity for PushReceipt {
    const ENTITY_TYPE: &'static str = "PUSH_RECEIPT";
    fn item_key(&self) -> ItemKey {
        ItemKey::PushReceipt(self.user_id.clone(), self.receipt_id.clone())
    }
    fn index_keys(&self) -> Vec<IndexKey> {
        vec![gsi1_receipt_due(self.check_after, &self.user_id, &self.device_id, &self.receipt_id)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_id_names_its_key() {
        let u = UserId::new("u1").unwrap();
        let at = Timestamp::parse("2026-11-20T10:00:00.123Z").unwrap();
        let id = NotificationHistory::id_for(at, "abc").unwrap();
        assert_eq!(NotificationHistory::key_of(&u, &id), Some(ItemKey::Notification(u.clone(), at, id)));
        for bad in ["abc", "123-abc", "17647596000001-x", "1764759600000-", "x764759600000-a"] {
            assert_eq!(NotificationHistory::key_of(&u, &NotificationId::new(bad).unwrap()), None, "{bad}");
        }
    }

    #[test]
    fn request_keys_are_stable_and_distinct() {
        assert_eq!(NotificationDelivery::request_key("alert-1"), NotificationDelivery::request_key("alert-1"));
        assert_ne!(NotificationDelivery::request_key("alert-1"), NotificationDelivery::request_key("alert-2"));
        assert_eq!(NotificationDelivery::request_key("x").as_str().len(), 32);
    }
}
