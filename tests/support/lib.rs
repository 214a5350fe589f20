//! Test support: a fresh table (created from template.yaml) on the DynamoDB
//! Local that `make test` started, and sample entities.

pub mod fixtures;

use expenzez_domain::cursor::CursorKey;
use expenzez_domain::{Clock, SystemClock};
use expenzez_store::schema::{template_path, TableDef};
use expenzez_store::{Table, TableConfig};
use std::sync::Arc;

/// The SDK configured from the environment `make test` sets
/// (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_KMS`, dummy credentials).
pub async fn sdk_config() -> aws_config::SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok(),
        "AWS_ENDPOINT_URL_DYNAMODB is not set: run the tests with `make test`, which starts DynamoDB Local"
    );
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

pub fn cursor_key() -> CursorKey {
    CursorKey::new(b"test-cursor-key-0123456789abcdef-0123".to_vec()).unwrap()
}

/// A new, empty table with a unique name, created from template.yaml.
pub async fn fresh_table() -> Table {
    fresh_table_with_clock(Arc::new(SystemClock)).await
}

pub async fn fresh_table_with_clock(clock: Arc<dyn Clock>) -> Table {
    let config = sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let name = format!("test-{}", uuid::Uuid::new_v4());
    TableDef::from_template(&template_path()).unwrap().create(&client, &name).await.unwrap();
    Table::new(client, TableConfig::new(name, cursor_key()), clock)
}
