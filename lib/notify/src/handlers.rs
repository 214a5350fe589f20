//! The app's notification routes (APP-CONTRACT.md "Notifications"). The user
//! is always the token's `sub`; an id of another user's item answers 404
//! like a missing one (keys are built from the caller).

use crate::deliver::{self, Outgoing};
use crate::expo::is_push_token;
use crate::prefs::{self, FlatPreferences, PreferencesUpdate};
use crate::routes::Notify;
use expenzez_api::edge::Reply;
use expenzez_api::error::{ApiError, FieldError};
use expenzez_api::json::Amount;
use expenzez_api::request::Ctx;
use expenzez_api::validate::check_text;
use expenzez_domain::entities::*;
use expenzez_domain::ids::{DeviceId, NotificationId, UserId};
use expenzez_domain::keys::{self, ItemKey, Key};
use expenzez_domain::Timestamp;
use expenzez_store::{Condition, Query, Retry, Table, Versioned};
use serde::{Deserialize, Serialize};

/// Devices one user may register (a push fans out to each).
pub const MAX_DEVICES: usize = 20;
pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;
/// Attempts of a read-modify-write that lost a race before answering 409.
const WRITE_ATTEMPTS: u32 = 3;

/// Names devices by their push token (UUID v5): the app sends no device id,
/// and the same install re-registers the same token.
const DEVICE_NAMESPACE: uuid::Uuid = uuid::uuid!("9d3c1f4e-6a2b-4f8e-b1d7-2c5e8a9f0b31");

pub fn device_id(token: &str) -> DeviceId {
    DeviceId::new(uuid::Uuid::new_v5(&DEVICE_NAMESPACE, token.as_bytes()).to_string()).expect("a UUID is a valid id")
}

fn conflict() -> ApiError {
    ApiError::Conflict { code: "VERSION_CONFLICT", message: "Changed by another request at the same time; retry.".into() }
}

// ---- tokens ------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AppDeviceInfo {
    device_name: Option<String>,
    os_version: Option<String>,
    app_version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RegisterToken {
    token: String,
    platform: String,
    device_info: Option<AppDeviceInfo>,
}

/// `POST /notifications/tokens`: registers (or, for a token already
/// registered, updates) this device's Expo push token.
pub async fn register_token(table: Table, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let body: RegisterToken = ctx.json()?;
    let mut errors = Vec::new();
    if !is_push_token(body.token.trim()) {
        errors.push(FieldError::new("token", "must be an Expo push token, ExponentPushToken[...]"));
    }
    let platform = match body.platform.trim().to_ascii_lowercase().as_str() {
        "ios" => Some(DevicePlatform::Ios),
        "android" => Some(DevicePlatform::Android),
        "web" => Some(DevicePlatform::Web),
        _ => {
            errors.push(FieldError::new("platform", "must be ios, android or web"));
            None
        }
    };
    let info = body.device_info.as_ref().map(|i| {
        let mut f = |name: &str, v: &Option<String>| v.as_deref().map(|s| check_text(&mut errors, name, s, 100, false)).unwrap_or_default();
        DeviceInfo {
            model: f("deviceInfo.deviceName", &i.device_name),
            os_version: f("deviceInfo.osVersion", &i.os_version),
            app_version: f("deviceInfo.appVersion", &i.app_version),
            push_enabled: true,
        }
    });
    let (Some(platform), true) = (platform, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let token = body.token.trim().to_string();
    let device = device_id(&token);
    let key = ItemKey::NotificationToken(user.clone(), device.clone());
    let mut tries = Retry::new(WRITE_ATTEMPTS);
    while tries.next().await {
        let now = table.now();
        let (item, condition) = match table.get_consistent::<NotificationToken>(&key).await? {
            Some(Versioned { mut value, version }) => {
                value.platform = platform;
                value.device_info = info.clone().or(value.device_info);
                value.status = TokenStatus::Active;
                value.is_valid = true;
                value.invalidation_reason = None;
                value.updated_at = now;
                value.last_validated = now;
                (value, Condition::Version(version))
            }
            None => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Registered {
                    #[allow(dead_code)]
                    device_id: String,
                }
                let q = Query::table(user.as_str(), keys::user_pk(&user)).begins_with(keys::prefix::TOKEN).project_as::<Registered>();
                if table.query_all_as::<Registered>(&q).await?.len() >= MAX_DEVICES {
                    return Err(ApiError::Conflict {
                        code: "TOO_MANY_DEVICES",
                        message: format!("At most {MAX_DEVICES} devices can receive notifications; remove one first."),
                    });
                }
                let t = NotificationToken {
                    user_id: user.clone(),
                    device_id: device.clone(),
                    token: token.clone(),
                    platform,
                    status: TokenStatus::Active,
                    is_valid: true,
                    device_info: info.clone(),
                    last_used: now,
                    total_notifications_sent: 0,
                    successful_deliveries: 0,
                    failed_deliveries: 0,
                    registered_at: now,
                    updated_at: now,
                    last_validated: now,
                    validation_attempts: 0,
                    invalidation_reason: None,
                };
                (t, Condition::MustNotExist)
            }
        };
        match table.put(&item, condition).await {
            Ok(_) => {
                #[derive(Serialize)]
                #[serde(rename_all = "camelCase")]
                struct Body {
                    success: bool,
                    token_id: DeviceId,
                }
                return Reply::ok(&Body { success: true, token_id: device });
            }
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(conflict())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenView {
    token_id: DeviceId,
    platform: DevicePlatform,
    device_info: Option<DeviceInfo>,
    status: TokenStatus,
    registered_at: Timestamp,
    updated_at: Timestamp,
    last_used: Timestamp,
}

/// `GET /notifications/tokens`: my registered devices (not the push tokens themselves).
pub async fn list_tokens(table: Table, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let q = Query::table(user.as_str(), keys::user_pk(&user)).begins_with(keys::prefix::TOKEN);
    let tokens: Vec<NotificationToken> = table.query_all_as(&q).await?;
    let views: Vec<TokenView> = tokens
        .into_iter()
        .map(|t| TokenView {
            token_id: t.device_id,
            platform: t.platform,
            device_info: t.device_info,
            status: t.status,
            registered_at: t.registered_at,
            updated_at: t.updated_at,
            last_used: t.last_used,
        })
        .collect();
    #[derive(Serialize)]
    struct Body {
        tokens: Vec<TokenView>,
    }
    Reply::ok(&Body { tokens: views })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RemoveToken {
    token_id: Option<String>,
    token: Option<String>,
}

/// `DELETE /notifications/tokens` `{tokenId, token}` (either identifies the device).
pub async fn remove_token(table: Table, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let body: RemoveToken = ctx.json()?;
    let device = match (body.token_id.as_deref().map(str::trim).filter(|t| !t.is_empty()), body.token.as_deref().map(str::trim)) {
        (Some(id), _) => DeviceId::new(id).map_err(|_| ApiError::NotFound)?,
        (None, Some(t)) if !t.is_empty() => device_id(t),
        _ => return Err(ApiError::validation("tokenId", "tokenId or token is required")),
    };
    if !table.delete(&ItemKey::NotificationToken(user, device), Condition::None).await? {
        return Err(ApiError::NotFound);
    }
    Reply::ok(&serde_json::json!({ "success": true }))
}

// ---- preferences -------------------------------------------------------------

#[derive(Serialize)]
struct PreferencesBody {
    preferences: FlatPreferences,
}

/// `GET /notifications/preferences`: the flat view (defaults until saved).
pub async fn get_preferences(table: Table, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let p = match table.get::<NotificationPreferences>(&ItemKey::NotificationPreferences(user.clone())).await? {
        Some(v) => v.value,
        None => prefs::defaults(&user, table.now()),
    };
    Reply::ok(&PreferencesBody { preferences: FlatPreferences::from(&p) })
}

/// `PUT /notifications/preferences`: the flat object (or part of it) over the stored preferences.
pub async fn put_preferences(table: Table, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let update: PreferencesUpdate = ctx.json()?;
    let errors = update.validate();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let key = ItemKey::NotificationPreferences(user.clone());
    let mut tries = Retry::new(WRITE_ATTEMPTS);
    while tries.next().await {
        let now = table.now();
        let (mut p, condition) = match table.get_consistent::<NotificationPreferences>(&key).await? {
            Some(Versioned { value, version }) => (value, Condition::Version(version)),
            None => (prefs::defaults(&user, now), Condition::MustNotExist),
        };
        update.apply(&mut p, now);
        match table.put(&p, condition).await {
            Ok(_) => return Reply::ok(&PreferencesBody { preferences: FlatPreferences::from(&p) }),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(conflict())
}

// ---- history -----------------------------------------------------------------

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DataView {
    transaction_id: Option<String>,
    category: Option<String>,
    amount: Option<Amount>,
    deep_link: Option<String>,
    image_url: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    id: NotificationId,
    title: String,
    message: String,
    created_at: Timestamp,
    #[serde(rename = "type")]
    kind: NotificationType,
    priority: NotificationPriority,
    read: bool,
    data: Option<DataView>,
}

impl From<NotificationHistory> for NotificationView {
    fn from(n: NotificationHistory) -> Self {
        Self {
            id: n.notification_id,
            title: n.title,
            message: n.body,
            created_at: n.sent_at,
            kind: n.kind,
            priority: n.priority,
            read: n.opened_at.is_some(),
            data: n.data.map(|d| DataView {
                transaction_id: d.transaction_id,
                category: d.category,
                amount: d.amount.map(Amount),
                deep_link: d.deep_link,
                image_url: d.image_url,
            }),
        }
    }
}

/// `GET /notifications/history?limit&startKey`: newest first; expired ones are absent.
pub async fn list_history(table: Table, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let limit = match ctx.query("limit") {
        None => DEFAULT_PAGE,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if n >= 1 => n.min(MAX_PAGE),
            _ => return Err(ApiError::validation("limit", &format!("must be a whole number from 1 (pages hold at most {MAX_PAGE})"))),
        },
    };
    let q = Query::table(user.as_str(), keys::user_pk(&user))
        .begins_with(keys::prefix::NOTIFICATION)
        .descending()
        .limit(limit)
        .after(ctx.query("startKey").filter(|s| !s.is_empty()));
    let page = table.query::<NotificationHistory>(&q).await?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        notifications: Vec<NotificationView>,
        next_key: Option<String>,
    }
    Reply::ok(&Body { notifications: page.items.into_iter().map(|v| v.value.into()).collect(), next_key: page.next })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MarkRead {
    #[allow(dead_code)]
    notification_id: Option<String>,
}

fn user_notification_key(user: &UserId, ctx: &Ctx) -> Result<ItemKey, ApiError> {
    let id = ctx.path("id").and_then(|s| NotificationId::new(s).ok()).ok_or(ApiError::NotFound)?;
    NotificationHistory::key_of(user, &id).ok_or(ApiError::NotFound)
}

/// `PUT /notifications/{id}/read`: marks one of my notifications opened.
pub async fn mark_read(table: Table, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let key = user_notification_key(&user, &ctx)?;
    let _: MarkRead = ctx.json()?;
    let now = table.now();
    let updated = table
        .update::<NotificationHistory, _>(&key, |n| {
            if n.opened_at.is_none() {
                n.opened_at = Some(now);
                n.delivery_status = DeliveryStatus::Opened;
            }
            Ok(())
        })
        .await?;
    #[derive(Serialize)]
    struct Body {
        success: bool,
        notification: NotificationView,
    }
    Reply::ok(&Body { success: true, notification: updated.value.into() })
}

/// `DELETE /notifications`: deletes my whole notification history.
pub async fn clear_history(table: Table, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    #[derive(Deserialize)]
    struct Row {
        #[serde(rename = "PK")]
        pk: String,
        #[serde(rename = "SK")]
        sk: String,
    }
    let q = Query::table(user.as_str(), keys::user_pk(&user)).begins_with(keys::prefix::NOTIFICATION).project_as::<Row>();
    let rows: Vec<Row> = table.query_all_as(&q).await?;
    let keys: Vec<Key> = rows.into_iter().map(|r| Key { pk: r.pk, sk: r.sk }).collect();
    table.batch_delete(&keys).await?;
    Reply::ok(&serde_json::json!({ "success": true, "deleted": keys.len() }))
}

// ---- test push ---------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SendTest {
    #[serde(rename = "type")]
    kind: NotificationType,
    title: String,
    message: String,
    data: Option<NotificationData>,
    priority: Option<NotificationPriority>,
}

/// `POST /notifications/send`: a push to my own devices now (no quiet hours:
/// I asked for it), within the daily cap; written to my history if delivered.
/// A retry with the same `Idempotency-Key` gets the first answer and pushes nothing again.
pub async fn send_test(n: Notify, ctx: Ctx) -> Result<Reply, ApiError> {
    let table = n.table.clone();
    expenzez_api::idempotency::once(&table, ctx, |ctx| send_test_once(&n, ctx)).await
}

async fn send_test_once(n: &Notify, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let body: SendTest = ctx.json()?;
    let mut errors = Vec::new();
    let title = check_text(&mut errors, "title", &body.title, 100, true);
    let message = check_text(&mut errors, "message", &body.message, 500, true);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let Some(expo) = n.expo.as_deref() else {
        tracing::error!("POST /notifications/send without a push service configured");
        return Err(ApiError::Unavailable { retry_after: 60 });
    };
    let table = &n.table;
    let now = table.now();
    let p = match table.get::<NotificationPreferences>(&ItemKey::NotificationPreferences(user.clone())).await? {
        Some(v) => v.value,
        None => prefs::defaults(&user, now),
    };
    let (from, to) = prefs::local_day(prefs::zone(&p), now);
    if deliver::sent_between(table, &user, from, to).await? >= n.daily_cap {
        return Err(ApiError::TooManyRequests { retry_after: (to.epoch_seconds() - now.epoch_seconds()).clamp(1, 86_400) as u32 });
    }
    let tokens = deliver::active_tokens(table, &user).await?;
    let out =
        Outgoing { kind: body.kind, priority: body.priority.unwrap_or(NotificationPriority::Normal), title, message, data: body.data };
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        success: bool,
        notification_id: Option<NotificationId>,
        delivered: usize,
    }
    if tokens.is_empty() {
        return Reply::ok(&Body { success: true, notification_id: None, delivered: 0 });
    }
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let id = NotificationHistory::id_for(now, &suffix[..16]).map_err(|_| ApiError::Internal)?;
    let report = deliver::push(table, expo, &user, &id, &tokens, &out).await.map_err(|e| {
        tracing::warn!(error = %e, "test push failed");
        ApiError::Unavailable { retry_after: 5 }
    })?;
    if report.delivered.is_empty() {
        return Reply::ok(&Body { success: true, notification_id: None, delivered: 0 });
    }
    table.put(&deliver::history(&user, id.clone(), &out, &report, now), Condition::MustNotExist).await?;
    Reply::ok(&Body { success: true, notification_id: Some(id), delivered: report.delivered.len() })
}
