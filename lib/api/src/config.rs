//! Typed configuration from the environment, read once at start: a missing
//! or bad setting stops the function at init, not on a request.

use expenzez_domain::cursor::CursorKey;
use expenzez_domain::SystemClock;
use expenzez_store::{Table, TableConfig};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {0} is invalid: {1}")]
    Invalid(&'static str, &'static str),
}

#[derive(Debug, Clone)]
pub struct AppConfig {
    pub table_name: String,
    pub cursor_key: CursorKey,
}

impl AppConfig {
    /// `TABLE_NAME`; `CURSOR_SECRET` (at least 32 bytes) signs pagination keys.
    pub fn from_env() -> Result<Self, ConfigError> {
        let table_name = std::env::var("TABLE_NAME").map_err(|_| ConfigError::Missing("TABLE_NAME"))?;
        let secret = std::env::var("CURSOR_SECRET").map_err(|_| ConfigError::Missing("CURSOR_SECRET"))?;
        let cursor_key = CursorKey::new(secret.into_bytes()).ok_or(ConfigError::Invalid("CURSOR_SECRET", "must be at least 32 bytes"))?;
        Ok(Self { table_name, cursor_key })
    }

    /// The table, with SDK clients built once (endpoint and credentials from
    /// the environment: `AWS_ENDPOINT_URL_DYNAMODB` locally).
    pub async fn table(&self) -> Table {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        Table::new(client, TableConfig::new(&self.table_name, self.cursor_key.clone()), Arc::new(SystemClock))
    }
}

/// What every HTTP function's `main` does before serving.
pub async fn init() -> Result<Table, ConfigError> {
    crate::edge::init_tracing();
    Ok(AppConfig::from_env()?.table().await)
}
