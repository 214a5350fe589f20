use super::Entity;
use crate::ids::{IdempotencyKey, SettingName, UserId};
use crate::keys::ItemKey;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;
use std::collections::BTreeMap;

/// Seed §API Response Cache (TTL 30 minutes by default). `userId` absent:
/// a cache shared by all users (e.g. the institution list).
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiCache {
    pub endpoint: String,
    pub user_id: Option<UserId>,
    pub query_hash: String,
    pub response_data: serde_json::Value,
    pub status_code: u16,
    pub headers: Option<BTreeMap<String, String>>,
    pub cached_at: Timestamp,
    pub expires_at: Timestamp,
    #[serde(rename = "TTL")]
    pub ttl: i64,
    /// API version (the seed's string `version`).
    pub version: String,
    pub hit_count: u64,
    pub last_accessed: Timestamp,
    pub data_signature: String,
    pub refresh_required_at: Option<Timestamp>,
    pub original_response_time: u64,
    pub cache_generation_time: u64,
    pub compression_ratio: Option<f64>,
}

impl ApiCache {
    pub const DEFAULT_TTL_SECONDS: i64 = 30 * 60;

    /// A 200 response cached at `now` for [`Self::DEFAULT_TTL_SECONDS`]
    /// (`user_id` `None`: shared by all users), computed in `took_ms`.
    pub fn fresh(
        endpoint: &str,
        user_id: Option<UserId>,
        query_hash: String,
        response_data: serde_json::Value,
        data_signature: String,
        now: Timestamp,
        took_ms: u64,
    ) -> Self {
        let expires_at = now.plus_seconds(Self::DEFAULT_TTL_SECONDS);
        ApiCache {
            endpoint: endpoint.into(),
            user_id,
            query_hash,
            response_data,
            status_code: 200,
            headers: None,
            cached_at: now,
            expires_at,
            ttl: expires_at.epoch_seconds(),
            version: "1".into(),
            hit_count: 0,
            last_accessed: now,
            data_signature,
            refresh_required_at: None,
            original_response_time: took_ms,
            cache_generation_time: 0,
            compression_ratio: None,
        }
    }
}

impl Entity for ApiCache {
    const ENTITY_TYPE: &'static str = "API_CACHE";
    fn item_key(&self) -> ItemKey {
        ItemKey::ApiCache { endpoint: self.endpoint.clone(), owner: self.user_id.clone(), query_hash: self.query_hash.clone() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigCategory {
    Api,
    Ui,
    Security,
    Performance,
    FeatureFlags,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigDataType {
    String,
    Number,
    Boolean,
    Object,
    Array,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigValidation {
    #[serde(rename = "type")]
    pub kind: String,
    pub rules: serde_json::Value,
    pub error_message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Staging,
    Production,
}

/// Seed §System Configuration.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemConfig {
    pub setting_name: SettingName,
    pub category: ConfigCategory,
    pub value: serde_json::Value,
    pub data_type: ConfigDataType,
    pub description: String,
    pub default_value: serde_json::Value,
    pub is_user_configurable: bool,
    pub requires_restart: bool,
    /// Configuration version (the seed's string `version`).
    pub version: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
    pub validation: Option<ConfigValidation>,
    pub environment: Environment,
    pub is_active: bool,
    pub previous_value: Option<serde_json::Value>,
    pub change_reason: Option<String>,
    #[serde(rename = "TTL")]
    pub ttl: Option<i64>,
}

impl Entity for SystemConfig {
    const ENTITY_TYPE: &'static str = "SYSTEM_CONFIG";
    fn item_key(&self) -> ItemKey {
        ItemKey::SystemConfig(self.setting_name.clone())
    }
}

/// New item: the first response to a POST with an `Idempotency-Key`, so a
/// retry returns it and writes nothing new (TTL 24 hours). `requestHash`
/// tells a retry from a different request reusing the key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    pub user_id: UserId,
    pub key: IdempotencyKey,
    pub request_hash: String,
    pub status_code: u16,
    pub response_body: String,
    pub created_at: Timestamp,
    #[serde(rename = "TTL")]
    pub ttl: i64,
}

impl IdempotencyRecord {
    pub const TTL_SECONDS: i64 = 24 * 3600;
}

impl Entity for IdempotencyRecord {
    const ENTITY_TYPE: &'static str = "IDEMPOTENCY";
    fn item_key(&self) -> ItemKey {
        ItemKey::Idempotency(self.user_id.clone(), self.key.clone())
    }
}

/// New item: how many requests one caller made to one rate-limited route in
/// one fixed window (`TTL`: the window's end, so old windows disappear).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateWindow {
    pub scope: String,
    pub subject: String,
    pub window_start: i64,
    pub count: u32,
    #[serde(rename = "TTL")]
    pub ttl: i64,
}

impl Entity for RateWindow {
    const ENTITY_TYPE: &'static str = "RATE_WINDOW";
    fn item_key(&self) -> ItemKey {
        ItemKey::RateWindow { scope: self.scope.clone(), subject: self.subject.clone(), window: self.window_start }
    }
}
