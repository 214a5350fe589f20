//! The app-lock and device routes (APP-CONTRACT "App lock (PIN) and
//! devices"). A PIN belongs to one of the caller's registered devices: a
//! device id that is not registered under the caller (another user's, or
//! none) answers 404 on every route that names one.

use crate::lockout::{self, attempt, Outcome};
use crate::pin::{Pin, PinHasher};
use crate::store::SecurityStore;
use expenzez_api::edge::Reply;
use expenzez_api::error::{ApiError, FieldError};
use expenzez_api::request::Ctx;
use expenzez_api::validate::check_optional_text;
use expenzez_domain::cursor::{self, CursorScope};
use expenzez_domain::entities::{Device, DevicePin, DevicePlatform, SecurityPreferences};
use expenzez_domain::ids::{DeviceId, UserId};
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Retry};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Write attempts of a read-modify-write before answering 409.
const RMW_ATTEMPTS: u32 = 5;

/// Scope of the fingerprint digest (the cursor secret, under its own scope).
const FINGERPRINT_SCOPE: &str = "device-fingerprint-v1";

/// The stored form of a device fingerprint: an HMAC under the deployment's
/// cursor secret, in its own scope, bound to the user.
pub fn fingerprint_hash(key: &expenzez_domain::cursor::CursorKey, user: &UserId, fingerprint: &str) -> String {
    cursor::digest(key, CursorScope { owner: user.as_str(), query: FINGERPRINT_SCOPE }, fingerprint.trim())
}

/// A device's first PIN item, holding `pin_hash`.
pub fn new_pin(user: &UserId, device: &DeviceId, pin_hash: String, now: Timestamp) -> DevicePin {
    DevicePin {
        user_id: user.clone(),
        device_id: device.clone(),
        pin_hash,
        failed_attempts: 0,
        lock_count: 0,
        locked_until: None,
        locked_at: None,
        last_validated_at: None,
        created_at: now,
        updated_at: now,
    }
}

async fn registered<S: SecurityStore>(store: &S, user: &UserId, device: &DeviceId) -> Result<Device, ApiError> {
    store.device(user, device).await?.map(|v| v.value).ok_or(ApiError::NotFound)
}

async fn preferences<S: SecurityStore>(store: &S, user: &UserId) -> Result<SecurityPreferences, ApiError> {
    Ok(store.preferences(user).await?.map(|v| v.value).unwrap_or_else(|| SecurityPreferences::defaults(user.clone(), store.now())))
}

/// Read-modify-write of the preferences (created with the defaults if absent).
async fn change_preferences<S: SecurityStore>(
    store: &S,
    user: &UserId,
    change: impl Fn(&mut SecurityPreferences),
) -> Result<SecurityPreferences, ApiError> {
    let mut tries = Retry::new(RMW_ATTEMPTS);
    while tries.next().await {
        let (mut prefs, condition) = match store.preferences(user).await? {
            Some(v) => (v.value, Condition::Version(v.version)),
            None => (SecurityPreferences::defaults(user.clone(), store.now()), Condition::MustNotExist),
        };
        change(&mut prefs);
        prefs.updated_at = store.now();
        match store.put_preferences(&prefs, condition).await {
            Ok(_) => return Ok(prefs),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict { code: "VERSION_CONFLICT", message: "The preferences were changed by another request; retry.".into() })
}

async fn hash_blocking(pin: &Pin) -> Result<String, ApiError> {
    let pin = pin.clone();
    tokio::task::spawn_blocking(move || PinHasher::default().hash(&pin)).await.map_err(|_| ApiError::Internal)
}

fn signed_in(ctx: &Ctx) -> Option<Timestamp> {
    lockout::signed_in_at(ctx.claim("auth_time").as_deref())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetupPin {
    pub pin: Pin,
    pub device_id: DeviceId,
    pub biometric_enabled: Option<bool>,
    /// Required when the device already has a PIN.
    pub current_pin: Option<Pin>,
}

/// `POST /security/setup-pin`: set this device's PIN, or change it (the
/// current one is then required and checked, counted like any attempt).
pub async fn setup_pin<S: SecurityStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let b: SetupPin = ctx.json()?;
    b.pin.check_not_obvious().map_err(|e| ApiError::validation("pin", &e.to_string()))?;
    registered(&store, &user, &b.device_id).await?;
    let now = store.now();
    let message = match store.pin(&user, &b.device_id).await? {
        None => {
            let pin = new_pin(&user, &b.device_id, hash_blocking(&b.pin).await?, now);
            store.create_pin(&pin).await.map_err(|e| {
                if e.is_conflict() {
                    ApiError::Conflict { code: "PIN_EXISTS", message: "A PIN was set meanwhile; send currentPin to change it.".into() }
                } else {
                    e.into()
                }
            })?;
            "PIN set"
        }
        Some(existing) => {
            let current = b.current_pin.as_ref().ok_or_else(|| ApiError::validation("currentPin", "is required to change the PIN"))?;
            if current.same_as(&b.pin) {
                return Err(ApiError::validation("pin", "must differ from the current PIN"));
            }
            let prefs = preferences(&store, &user).await?;
            match attempt(&store, &user, &b.device_id, existing, current, prefs.max_attempts, signed_in(&ctx)).await? {
                Outcome::Wrong { remaining } => {
                    return Err(ApiError::ForbiddenCode {
                        code: "INVALID_PIN",
                        message: format!("The current PIN is wrong; {remaining} attempt(s) left."),
                    })
                }
                Outcome::Correct { hash } => {
                    let new_hash = hash_blocking(&b.pin).await?;
                    let set = [
                        (expenzez_domain::entities::PIN_HASH_ATTRIBUTE, expenzez_store::sdk::types::AttributeValue::S(new_hash)),
                        ("updatedAt", expenzez_store::sdk::types::AttributeValue::S(now.to_string())),
                    ];
                    let c = (
                        "#ch = :ch".to_string(),
                        [("#ch".to_string(), expenzez_domain::entities::PIN_HASH_ATTRIBUTE.to_string())].into(),
                        [(":ch".to_string(), expenzez_store::sdk::types::AttributeValue::S(hash))].into(),
                    );
                    let changes = expenzez_store::InPlace { set: &set, add: &[], remove: &[] };
                    if store.update_pin(&user, &b.device_id, changes, c).await?.is_none() {
                        return Err(ApiError::Conflict {
                            code: "PIN_CHANGED",
                            message: "The PIN was changed meanwhile; try again.".into(),
                        });
                    }
                    "PIN changed"
                }
            }
        }
    };
    let biometric = b.biometric_enabled;
    change_preferences(&store, &user, |p| {
        p.app_lock_enabled = true;
        if let Some(v) = biometric {
            p.biometric_enabled = v;
        }
    })
    .await?;
    Reply::ok(&json!({ "success": true, "message": message }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidatePin {
    pub pin: Pin,
    pub device_id: DeviceId,
}

/// `POST /security/validate-pin`: `{success: true}` for the right PIN,
/// `{success: false, error: "INVALID_PIN", attemptsRemaining}` for a wrong
/// one, 429 (`Retry-After`, `requiresLogout`) while locked.
pub async fn validate_pin<S: SecurityStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let b: ValidatePin = ctx.json()?;
    registered(&store, &user, &b.device_id).await?;
    let pin = store.pin(&user, &b.device_id).await?.ok_or(ApiError::NotFound)?;
    let prefs = preferences(&store, &user).await?;
    match attempt(&store, &user, &b.device_id, pin, &b.pin, prefs.max_attempts, signed_in(&ctx)).await? {
        Outcome::Correct { .. } => Reply::ok(&json!({ "success": true, "message": "PIN verified" })),
        Outcome::Wrong { remaining } => Reply::ok(&json!({
            "success": false,
            "error": "INVALID_PIN",
            "message": format!("Incorrect PIN; {remaining} attempt(s) left."),
            "attemptsRemaining": remaining,
            "requiresLogout": false,
        })),
    }
}

/// `GET /security/status/{deviceId}` (every launch).
pub async fn status<S: SecurityStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let device = ctx.path("deviceId").and_then(|d| DeviceId::new(d).ok()).ok_or(ApiError::NotFound)?;
    registered(&store, &user, &device).await?;
    let (pin, prefs) = tokio::try_join!(async { Ok::<_, ApiError>(store.pin(&user, &device).await?) }, preferences(&store, &user))?;
    let (is_locked, requires_logout) = pin.as_ref().map(|p| lockout::lock_state(p, store.now())).unwrap_or_default();
    Reply::ok(&json!({
        "success": true,
        "status": {
            "hasDevicePIN": pin.is_some(),
            "needsPinSetup": prefs.app_lock_enabled && pin.is_none(),
            "isLocked": is_locked,
            "requiresLogout": requires_logout,
            "preferences": { "appLockEnabled": prefs.app_lock_enabled, "biometricEnabled": prefs.biometric_enabled },
        }
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PreferencesView {
    app_lock_enabled: bool,
    biometric_enabled: bool,
    session_timeout: u32,
    max_attempts: u32,
}

impl From<&SecurityPreferences> for PreferencesView {
    fn from(p: &SecurityPreferences) -> Self {
        Self {
            app_lock_enabled: p.app_lock_enabled,
            biometric_enabled: p.biometric_enabled,
            session_timeout: p.session_timeout,
            max_attempts: p.max_attempts,
        }
    }
}

/// `GET /security/preferences` (every launch).
pub async fn get_preferences<S: SecurityStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let prefs = preferences(&store, &user).await?;
    Reply::ok(&json!({ "success": true, "preferences": PreferencesView::from(&prefs) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferencesChange {
    pub app_lock_enabled: Option<bool>,
    pub biometric_enabled: Option<bool>,
    /// Minutes, 1 to 60.
    #[serde(default, deserialize_with = "expenzez_api::request::whole")]
    pub session_timeout: Option<u32>,
    /// 3 to 10.
    #[serde(default, deserialize_with = "expenzez_api::request::whole")]
    pub max_attempts: Option<u32>,
}

/// `PUT /security/preferences`.
pub async fn put_preferences<S: SecurityStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let b: PreferencesChange = ctx.json()?;
    let mut errors = Vec::new();
    if b.session_timeout.is_some_and(|t| !(1..=60).contains(&t)) {
        errors.push(FieldError::new("sessionTimeout", "must be 1 to 60 minutes"));
    }
    if b.max_attempts.is_some_and(|m| !(3..=10).contains(&m)) {
        errors.push(FieldError::new("maxAttempts", "must be 3 to 10"));
    }
    if b.app_lock_enabled.is_none() && b.biometric_enabled.is_none() && b.session_timeout.is_none() && b.max_attempts.is_none() {
        errors.push(FieldError::new("$", "nothing to change"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let prefs = change_preferences(&store, &user, |p| {
        if let Some(v) = b.app_lock_enabled {
            p.app_lock_enabled = v;
        }
        if let Some(v) = b.biometric_enabled {
            p.biometric_enabled = v;
        }
        if let Some(v) = b.session_timeout {
            p.session_timeout = v;
        }
        if let Some(v) = b.max_attempts {
            p.max_attempts = v;
        }
    })
    .await?;
    Reply::ok(&json!({ "success": true, "preferences": PreferencesView::from(&prefs) }))
}

/// `GET /security/user-pins`: which of my devices have a PIN (never a PIN or its hash).
pub async fn user_pins<S: SecurityStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let (rows, devices) = tokio::try_join!(store.pin_rows(&user), store.devices(&user))?;
    let now = store.now();
    let pins: Vec<_> = rows
        .iter()
        .map(|r| {
            let name = devices.iter().find(|d| d.device_id == r.device_id).map(|d| d.device_name.clone());
            json!({
                "deviceId": r.device_id,
                "deviceName": name,
                "createdAt": r.created_at,
                "updatedAt": r.updated_at,
                "lastValidatedAt": r.last_validated_at,
                "isLocked": r.lock_count >= lockout::MAX_LOCKS || r.locked_until.is_some_and(|u| u > now),
            })
        })
        .collect();
    Reply::ok(&json!({ "success": true, "pins": pins }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterDevice {
    pub device_id: DeviceId,
    pub device_fingerprint: String,
    pub device_name: Option<String>,
    pub platform: DevicePlatform,
    pub app_version: Option<String>,
    pub remember_me: Option<bool>,
    /// Sent by the app; the user is the token's, so it is neither used nor stored.
    pub user_email: Option<String>,
}

/// `POST /devices/register` (at sign-in): creates or refreshes the device.
pub async fn register_device<S: SecurityStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let b: RegisterDevice = ctx.json()?;
    let mut errors = Vec::new();
    let name = check_optional_text(&mut errors, "deviceName", b.device_name.as_deref(), 100);
    let version = check_optional_text(&mut errors, "appVersion", b.app_version.as_deref(), 32);
    if b.device_fingerprint.trim().is_empty() || b.device_fingerprint.len() > 1024 {
        errors.push(FieldError::new("deviceFingerprint", "must be 1 to 1024 characters"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let fingerprint_hash = fingerprint_hash(store.fingerprint_key(), &user, &b.device_fingerprint);
    let mut tries = Retry::new(RMW_ATTEMPTS);
    while tries.next().await {
        let now = store.now();
        let existing = store.device(&user, &b.device_id).await?;
        let (condition, registered_at, message) = match &existing {
            Some(v) => (Condition::Version(v.version), v.value.registered_at, "Device updated"),
            None => (Condition::MustNotExist, now, "Device registered"),
        };
        let old = existing.as_ref().map(|v| &v.value);
        let device = Device {
            user_id: user.clone(),
            device_id: b.device_id.clone(),
            device_name: name.clone().or_else(|| old.map(|d| d.device_name.clone())).unwrap_or_else(|| "Unknown device".into()),
            platform: b.platform,
            app_version: version.clone().or_else(|| old.map(|d| d.app_version.clone())).unwrap_or_default(),
            fingerprint_hash: fingerprint_hash.clone(),
            is_trusted: b.remember_me.unwrap_or(false),
            location: old.and_then(|d| d.location.clone()),
            registered_at,
            last_seen: now,
            updated_at: now,
        };
        match store.put_device(&device, condition).await {
            Ok(_) => return Reply::ok(&json!({ "success": true, "message": message, "deviceId": device.device_id })),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict { code: "VERSION_CONFLICT", message: "The device was changed by another request; retry.".into() })
}

/// `GET /devices/list`: my devices, most recently seen first. The current
/// one is the `deviceId` query parameter (or `X-Device-Id` header) when
/// given, else the most recently seen.
pub async fn list_devices<S: SecurityStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let mut devices = store.devices(&user).await?;
    devices.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then_with(|| a.device_id.cmp(&b.device_id)));
    let named = ctx.query("deviceId").or_else(|| ctx.header("x-device-id").map(str::to_string));
    let current = match named {
        Some(id) => devices.iter().position(|d| d.device_id.as_str() == id),
        None => (!devices.is_empty()).then_some(0),
    };
    let list: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "deviceId": d.device_id,
                "deviceName": d.device_name,
                "isTrusted": d.is_trusted,
                "lastSeen": d.last_seen,
                "location": d.location,
                "platform": d.platform,
                "appVersion": d.app_version,
                "registeredAt": d.registered_at,
                "isCurrent": Some(i) == current,
            })
        })
        .collect();
    Reply::ok(&json!({ "success": true, "devices": list }))
}
