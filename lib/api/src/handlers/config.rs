//! `GET /config` (the app's settings) and admin-only `PUT /admin/config/{name}`.

use crate::edge::Reply;
use crate::error::{ApiError, FieldError};
use crate::request::Ctx;
use crate::stores::ConfigStore;
use expenzez_domain::entities::{ConfigCategory, ConfigDataType, ConfigValidation, Environment, SystemConfig};
use expenzez_domain::ids::SettingName;
use expenzez_domain::Timestamp;
use expenzez_store::Condition;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct ConfigBody {
    config: BTreeMap<String, Value>,
}

/// Active settings, except security ones (those never leave the server).
pub async fn get<S: ConfigStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    ctx.user()?;
    let config = store
        .settings()
        .await?
        .into_iter()
        .filter(|s| s.is_active && s.category != ConfigCategory::Security)
        .map(|s| (s.setting_name.to_string(), s.value))
        .collect();
    Reply::ok(&ConfigBody { config })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigChange {
    pub value: Value,
    pub change_reason: Option<String>,
    pub category: Option<ConfigCategory>,
    pub data_type: Option<ConfigDataType>,
    pub description: Option<String>,
    pub is_user_configurable: Option<bool>,
    pub requires_restart: Option<bool>,
    pub is_active: Option<bool>,
    pub validation: Option<ConfigValidation>,
}

fn type_of(v: &Value) -> ConfigDataType {
    match v {
        Value::String(_) => ConfigDataType::String,
        Value::Number(_) => ConfigDataType::Number,
        Value::Bool(_) => ConfigDataType::Boolean,
        Value::Array(_) => ConfigDataType::Array,
        _ => ConfigDataType::Object,
    }
}

/// Checks `value` against a setting's type and validation rules:
/// `range {min,max}`, `enum {values}`, `length {max}`, `object {required}`.
pub fn check_value(value: &Value, data_type: ConfigDataType, validation: Option<&ConfigValidation>) -> Result<(), FieldError> {
    if value.is_null() || type_of(value) != data_type {
        return Err(FieldError::new(
            "value",
            format!("must be of type {}", serde_json::to_value(data_type).unwrap_or_default().as_str().unwrap_or("?")),
        ));
    }
    if serde_json::to_string(value).map(|s| s.len()).unwrap_or(usize::MAX) > 16 * 1024 {
        return Err(FieldError::new("value", "must be at most 16 KB of JSON"));
    }
    let Some(v) = validation else { return Ok(()) };
    let fail = || FieldError::new("value", v.error_message.clone());
    let ok = match v.kind.as_str() {
        "range" => {
            let n = value.as_f64();
            let min = v.rules.get("min").and_then(Value::as_f64);
            let max = v.rules.get("max").and_then(Value::as_f64);
            n.is_some_and(|n| min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m))
        }
        "enum" => v.rules.get("values").and_then(Value::as_array).is_some_and(|vals| vals.contains(value)),
        "length" => {
            let len = value.as_str().map(|s| s.chars().count()).or_else(|| value.as_array().map(Vec::len));
            let max = v.rules.get("max").and_then(Value::as_u64).unwrap_or(u64::MAX) as usize;
            len.is_some_and(|l| l <= max)
        }
        "object" => v
            .rules
            .get("required")
            .and_then(Value::as_array)
            .is_none_or(|req| req.iter().filter_map(Value::as_str).all(|k| value.get(k).is_some())),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(fail())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingView<'a> {
    setting_name: &'a str,
    value: &'a Value,
    previous_value: &'a Option<Value>,
    version: &'a str,
    updated_at: Timestamp,
    updated_by: &'a str,
}

#[derive(Serialize)]
struct SettingBody<'a> {
    setting: SettingView<'a>,
}

pub async fn put<S: ConfigStore>(store: S, ctx: Ctx) -> Result<Reply, ApiError> {
    let admin = ctx.require_admin()?.clone();
    let name = ctx
        .path("name")
        .and_then(|n| SettingName::new(n).ok())
        .filter(|n| n.as_str().len() <= 64)
        .ok_or_else(|| ApiError::validation("name", "must be 1 to 64 printable characters without '#'"))?;
    let change: ConfigChange = ctx.json()?;
    if let Some(r) = &change.change_reason {
        if r.chars().count() > 500 {
            return Err(ApiError::validation("changeReason", "must be at most 500 characters"));
        }
    }
    let mut tries = expenzez_store::Retry::new(5);
    while tries.next().await {
        let now = store.now();
        let (config, condition) = match store.setting(&name).await? {
            Some(current) => {
                let mut c = current.value;
                let data_type = change.data_type.unwrap_or(c.data_type);
                let validation = change.validation.clone().or(c.validation.clone());
                check_value(&change.value, data_type, validation.as_ref()).map_err(|e| ApiError::Validation(vec![e]))?;
                c.previous_value = Some(std::mem::replace(&mut c.value, change.value.clone()));
                c.data_type = data_type;
                c.validation = validation;
                c.version = c.version.parse::<u64>().map(|v| (v + 1).to_string()).unwrap_or_else(|_| format!("{}.1", c.version));
                if let Some(cat) = change.category {
                    c.category = cat;
                }
                if let Some(d) = &change.description {
                    c.description = d.clone();
                }
                if let Some(x) = change.is_user_configurable {
                    c.is_user_configurable = x;
                }
                if let Some(x) = change.requires_restart {
                    c.requires_restart = x;
                }
                if let Some(x) = change.is_active {
                    c.is_active = x;
                }
                c.change_reason = change.change_reason.clone();
                c.updated_at = now;
                c.updated_by = admin.to_string();
                (c, Condition::Version(current.version))
            }
            None => {
                let mut errors = Vec::new();
                if change.category.is_none() {
                    errors.push(FieldError::new("category", "is required for a new setting"));
                }
                if change.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
                    errors.push(FieldError::new("description", "is required for a new setting"));
                }
                let data_type = change.data_type.unwrap_or_else(|| type_of(&change.value));
                if let Err(e) = check_value(&change.value, data_type, change.validation.as_ref()) {
                    errors.push(e);
                }
                if !errors.is_empty() {
                    return Err(ApiError::Validation(errors));
                }
                let c = SystemConfig {
                    setting_name: name.clone(),
                    category: change.category.unwrap_or(ConfigCategory::FeatureFlags),
                    value: change.value.clone(),
                    data_type,
                    description: change.description.clone().unwrap_or_default(),
                    default_value: change.value.clone(),
                    is_user_configurable: change.is_user_configurable.unwrap_or(false),
                    requires_restart: change.requires_restart.unwrap_or(false),
                    version: "1".into(),
                    updated_at: now,
                    updated_by: admin.to_string(),
                    validation: change.validation.clone(),
                    environment: Environment::Development,
                    is_active: change.is_active.unwrap_or(true),
                    previous_value: None,
                    change_reason: change.change_reason.clone(),
                    ttl: None,
                };
                (c, Condition::MustNotExist)
            }
        };
        let created = condition == Condition::MustNotExist;
        match store.save_setting(&config, condition).await {
            Ok(_) => {
                let status = if created { http::StatusCode::CREATED } else { http::StatusCode::OK };
                return Reply::with_status(
                    status,
                    &SettingBody {
                        setting: SettingView {
                            setting_name: config.setting_name.as_str(),
                            value: &config.value,
                            previous_value: &config.previous_value,
                            version: &config.version,
                            updated_at: config.updated_at,
                            updated_by: &config.updated_by,
                        },
                    },
                );
            }
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict { code: "VERSION_CONFLICT", message: "The setting is being changed elsewhere; retry.".into() })
}
