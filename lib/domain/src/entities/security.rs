//! The app lock (APP-CONTRACT "App lock (PIN) and devices"): the devices a
//! user signed in on, each device's PIN, and the lock preferences. None of
//! these is in the seed; `keys.rs` says why each item exists.

use super::{DevicePlatform, Entity};
use crate::ids::{DeviceId, UserId};
use crate::keys::ItemKey;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// Attribute of a [`DevicePin`] holding its hash: never returned, exported or logged.
pub const PIN_HASH_ATTRIBUTE: &str = "pinHash";
/// Attribute of a [`Device`] holding the keyed hash of its fingerprint.
pub const FINGERPRINT_HASH_ATTRIBUTE: &str = "fingerprintHash";

/// A device the user signed in on. The app's fingerprint is kept only as a
/// keyed hash (HMAC under the deployment's secret): it can be recognised
/// again, not read back.
#[skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub device_name: String,
    pub platform: DevicePlatform,
    pub app_version: String,
    pub fingerprint_hash: String,
    /// `rememberMe` at the last sign-in on this device.
    pub is_trusted: bool,
    pub location: Option<String>,
    pub registered_at: Timestamp,
    pub last_seen: Timestamp,
    pub updated_at: Timestamp,
}

impl Entity for Device {
    const ENTITY_TYPE: &'static str = "DEVICE";
    fn item_key(&self) -> ItemKey {
        ItemKey::Device(self.user_id.clone(), self.device_id.clone())
    }
}

/// The app-lock PIN of one device: an argon2id hash in PHC form (algorithm,
/// version, parameters, salt, hash), so parameters can be raised later and
/// old hashes still verify. The counters change only through conditional
/// in-place updates (`ADD`), never by rewriting the item.
#[skip_serializing_none]
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicePin {
    pub user_id: UserId,
    pub device_id: DeviceId,
    pub pin_hash: String,
    /// Wrong attempts since the last success or lockout.
    #[serde(default)]
    pub failed_attempts: u32,
    /// Lockouts since the last success; too many require signing in again.
    #[serde(default)]
    pub lock_count: u32,
    /// While in the future, every attempt is refused without being checked.
    pub locked_until: Option<Timestamp>,
    /// When the last lockout began (a sign-in after it clears the lockouts).
    pub locked_at: Option<Timestamp>,
    pub last_validated_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for DevicePin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevicePin")
            .field("user_id", &self.user_id)
            .field("device_id", &self.device_id)
            .field("pin_hash", &"<redacted>")
            .field("failed_attempts", &self.failed_attempts)
            .field("lock_count", &self.lock_count)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

impl Entity for DevicePin {
    const ENTITY_TYPE: &'static str = "DEVICE_PIN";
    fn item_key(&self) -> ItemKey {
        ItemKey::DevicePin(self.user_id.clone(), self.device_id.clone())
    }
}

/// A user's app-lock preferences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityPreferences {
    pub user_id: UserId,
    pub app_lock_enabled: bool,
    pub biometric_enabled: bool,
    /// Minutes in the background before the app locks again.
    pub session_timeout: u32,
    /// Wrong PINs before a lockout.
    pub max_attempts: u32,
    pub updated_at: Timestamp,
}

impl SecurityPreferences {
    pub const DEFAULT_SESSION_TIMEOUT: u32 = 5;
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;

    /// What a user has before changing anything: the lock off.
    pub fn defaults(user: UserId, now: Timestamp) -> Self {
        Self {
            user_id: user,
            app_lock_enabled: false,
            biometric_enabled: false,
            session_timeout: Self::DEFAULT_SESSION_TIMEOUT,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            updated_at: now,
        }
    }
}

impl Entity for SecurityPreferences {
    const ENTITY_TYPE: &'static str = "SECURITY_PREFERENCES";
    fn item_key(&self) -> ItemKey {
        ItemKey::SecurityPreferences(self.user_id.clone())
    }
}
