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
    #[error("field encryption: {0}")]
    Cipher(String),
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
    /// the environment: `AWS_ENDPOINT_URL_DYNAMODB` locally). Functions that
    /// handle restricted fields set `FIELD_KEY_PROVIDER` (and its key) and get
    /// a field cipher; the others get none, and the store refuses to write a
    /// restricted field without one.
    pub async fn table(&self) -> Result<Table, ConfigError> {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        let clock = Arc::new(SystemClock);
        let table = Table::new(client, TableConfig::new(&self.table_name, self.cursor_key.clone()), clock.clone());
        if std::env::var("FIELD_KEY_PROVIDER").map(|v| v.trim().is_empty()).unwrap_or(true) {
            return Ok(table);
        }
        let cipher = expenzez_store::crypto::FieldCipher::from_env(&sdk, clock).map_err(|e| ConfigError::Cipher(e.to_string()))?;
        Ok(table.with_cipher(Arc::new(cipher)))
    }
}

/// What every HTTP function's `main` does before serving.
pub async fn init() -> Result<Table, ConfigError> {
    crate::edge::init_tracing();
    AppConfig::from_env()?.table().await
}
