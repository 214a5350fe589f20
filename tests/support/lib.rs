//! Test support: a fresh table (created from template.yaml) on the DynamoDB
//! Local that `make test` started, and sample entities.

pub mod banking;
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

/// The local API server on a fresh table and a fresh local Cognito user pool.
pub struct ApiEnv {
    pub table: Table,
    pub pool: expenzez_local_api::cognito::Pool,
    pub cognito: expenzez_local_api::cognito::CognitoAdmin,
    pub server: expenzez_local_api::Running,
    pub http: reqwest::Client,
}

/// A signed-in user of an [`ApiEnv`].
#[derive(Debug, Clone)]
pub struct TestUser {
    pub sub: String,
    pub email: String,
    pub token: String,
}

pub const PASSWORD: &str = "Test-Passw0rd-1";

impl ApiEnv {
    pub async fn start() -> ApiEnv {
        let table = fresh_table().await;
        let template = expenzez_local_api::template::load(&template_path()).unwrap();
        let cognito = expenzez_local_api::cognito::CognitoAdmin::from_env().unwrap();
        let pool = cognito.create_pool(&template, &format!("test-{}", uuid::Uuid::new_v4().simple())).await.unwrap();
        let api = expenzez_local_api::LocalApi {
            routes: expenzez_local_api::template::routes(&template),
            authorizer: expenzez_local_api::Authorizer::new(&pool.issuer, &pool.client_id, &pool.jwks_url),
            table: table.clone(),
            auth: expenzez_local_api::triggers::local_auth(&table, &pool.pool_id, &pool.client_id).await,
            banking: expenzez_local_api::demo_banking(&table, 1),
        };
        let server = api.start(([127, 0, 0, 1], 0).into()).await.unwrap();
        ApiEnv { table, pool, cognito, server, http: reqwest::Client::new() }
    }

    /// A confirmed Cognito user with a stored profile, signed in.
    pub async fn user(&self, name: &str, admin: bool) -> TestUser {
        let email = format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple());
        let sub = self.cognito.create_user(&self.pool, &email, PASSWORD, admin).await.unwrap();
        let mut profile = fixtures::profile(&fixtures::user(&sub), &email);
        profile.first_name = Some(name.into());
        self.table.put(&profile, expenzez_store::Condition::MustNotExist).await.unwrap();
        let token = self.cognito.login(&self.pool, &email, PASSWORD).await.unwrap().access_token;
        TestUser { sub, email, token }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    pub fn get(&self, u: &TestUser, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(&u.token)
    }
    pub fn post(&self, u: &TestUser, path: &str, body: &serde_json::Value) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(&u.token).json(body)
    }
    pub fn put(&self, u: &TestUser, path: &str, body: &serde_json::Value) -> reqwest::RequestBuilder {
        self.http.put(self.url(path)).bearer_auth(&u.token).json(body)
    }
    pub fn delete(&self, u: &TestUser, path: &str) -> reqwest::RequestBuilder {
        self.http.delete(self.url(path)).bearer_auth(&u.token)
    }
}

/// Sends, returns status, headers and JSON body.
pub async fn send(req: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let body = if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)) };
    (status, headers, body)
}
