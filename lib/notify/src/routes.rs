//! Every notification route, named once: its template resource, method and
//! path, and the handler it runs (see `expenzez_api::routes!`); the state
//! they share ([`Notify`]); and the configuration of the push service, read
//! once at start.

use crate::expo::{Expo, ExpoConfig};
use crate::handlers;
use crate::notifier::{Notifier, NotifierSettings};
use crate::queue::NotificationQueue;
use expenzez_api::stores::Metered;
use expenzez_domain::Timestamp;
use expenzez_store::{Capacity, Table};
use std::sync::Arc;

expenzez_api::routes! {
    state(n: &Notify);
    RegisterNotificationTokenFunction: POST "/notifications/tokens" => handlers::register_token(&n.table),
    ListNotificationTokensFunction: GET "/notifications/tokens" => handlers::list_tokens(&n.table),
    DeleteNotificationTokenFunction: DELETE "/notifications/tokens" => handlers::remove_token(&n.table),
    GetNotificationPreferencesFunction: GET "/notifications/preferences" => handlers::get_preferences(&n.table),
    UpdateNotificationPreferencesFunction: PUT "/notifications/preferences" => handlers::put_preferences(&n.table),
    ListNotificationHistoryFunction: GET "/notifications/history" => handlers::list_history(&n.table),
    MarkNotificationReadFunction: PUT "/notifications/{id}/read" => handlers::mark_read(&n.table),
    DeleteNotificationsFunction: DELETE "/notifications" => handlers::clear_history(&n.table),
    SendTestNotificationFunction: POST "/notifications/send" => handlers::send_test(n),
}

/// What the notification handlers share, built once per instance.
#[derive(Clone)]
pub struct Notify {
    pub table: Table,
    /// The push service (`POST /notifications/send`); `None` where not configured.
    pub expo: Option<Arc<Expo>>,
    pub daily_cap: usize,
}

impl Notify {
    pub fn new(table: Table, expo: Option<Expo>) -> Self {
        Self { table, expo: expo.map(Arc::new), daily_cap: NotifierSettings::default().daily_cap }
    }

    /// For `SendTestNotificationFunction`'s `main`: tracing, the table, the push service.
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let table = expenzez_api::config::init().await?;
        let mut n = Notify::new(table, Some(push_from_env().await?));
        n.daily_cap = daily_cap_from_env()?;
        Ok(n)
    }
}

impl Metered for Notify {
    fn metered(&self) -> Self {
        Self { table: self.table.metered(), ..self.clone() }
    }
    fn consumed(&self) -> Capacity {
        self.table.consumed()
    }
    fn now(&self) -> Timestamp {
        self.table.now()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set or invalid")]
    Env(&'static str),
    #[error("the push access token parameter could not be read: {0}")]
    Parameter(String),
}

/// `NOTIFY_DAILY_CAP` (pushes per user per local day; default 20).
fn daily_cap_from_env() -> Result<usize, ConfigError> {
    match std::env::var("NOTIFY_DAILY_CAP") {
        Err(_) => Ok(NotifierSettings::default().daily_cap),
        Ok(v) => v.trim().parse::<usize>().ok().filter(|n| *n >= 1).ok_or(ConfigError::Env("NOTIFY_DAILY_CAP")),
    }
}

/// The push service: `PUSH_BASE_URL` (`https://exp.host`), and the access
/// token read once from the SSM SecureString parameter named by
/// `PUSH_ACCESS_TOKEN_PARAMETER` (empty or unset: no token).
pub async fn push_from_env() -> Result<Expo, ConfigError> {
    let base = std::env::var("PUSH_BASE_URL").ok().filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Env("PUSH_BASE_URL"))?;
    let token = match std::env::var("PUSH_ACCESS_TOKEN_PARAMETER").ok().filter(|v| !v.trim().is_empty()) {
        None => None,
        Some(name) => {
            let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let out = aws_sdk_ssm::Client::new(&sdk)
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| ConfigError::Parameter(aws_sdk_ssm::error::DisplayErrorContext(&e).to_string()))?;
            out.parameter.and_then(|p| p.value)
        }
    };
    Expo::new(ExpoConfig::new(base, token)).map_err(|_| ConfigError::Env("PUSH_BASE_URL"))
}

impl Notifier {
    /// For `NotifierFunction`'s `main`: tracing, the table, the push service,
    /// the queue it holds messages back on (`NOTIFICATION_QUEUE_URL`), the cap.
    pub async fn from_env() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let table = expenzez_api::config::init().await?;
        let expo = push_from_env().await?;
        let queue = NotificationQueue::from_env().await.ok_or(ConfigError::Env("NOTIFICATION_QUEUE_URL"))?;
        Ok(Notifier { table, expo, queue, settings: NotifierSettings { daily_cap: daily_cap_from_env()? } })
    }
}
