//! Test support: a fresh table (created from template.yaml) on the DynamoDB
//! Local that `make test` started, field ciphers (a local key, or the local
//! KMS endpoint), a raw scan, and sample entities.

pub mod banking;
pub mod fixtures;
pub mod samples;

use aws_sdk_dynamodb::types::AttributeValue;
use expenzez_crypto::{CacheSettings, CountingProvider, FieldCipher, KmsKeyProvider, LocalKeyProvider};
use expenzez_domain::cursor::CursorKey;
use expenzez_domain::{Clock, SystemClock};
use expenzez_store::schema::{template_path, TableDef};
use expenzez_store::{Item, Table, TableConfig};
use std::sync::Arc;

/// The SDK configured from the environment `make test` sets
/// (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_KMS`, dummy credentials).
pub async fn sdk_config() -> aws_config::SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok() && std::env::var("AWS_ENDPOINT_URL_KMS").is_ok(),
        "AWS_ENDPOINT_URL_DYNAMODB/KMS are not set: run the tests with `make test`, which starts DynamoDB Local and moto"
    );
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

pub fn cursor_key() -> CursorKey {
    CursorKey::new(b"test-cursor-key-0123456789abcdef-0123".to_vec()).unwrap()
}

/// A field cipher under a fixed local key (no KMS needed).
pub fn local_cipher(clock: Arc<dyn Clock>) -> Arc<FieldCipher> {
    let provider = LocalKeyProvider::new(b"expenzez-test-local-field-key-32").unwrap();
    Arc::new(FieldCipher::new(Arc::new(provider), CacheSettings::default(), clock))
}

/// A new KMS key on the local KMS endpoint (moto), and a client for it.
pub async fn kms_key() -> (aws_sdk_kms::Client, String) {
    let kms = aws_sdk_kms::Client::new(&sdk_config().await);
    let key = kms.create_key().description("expenzez test field key").send().await.unwrap();
    let id = key.key_metadata().unwrap().key_id().to_string();
    (kms, id)
}

/// A cipher over the real KMS provider, counting its calls.
pub fn kms_cipher(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    settings: CacheSettings,
    clock: Arc<dyn Clock>,
) -> (Arc<CountingProvider<KmsKeyProvider>>, Arc<FieldCipher>) {
    let provider = Arc::new(CountingProvider::new(KmsKeyProvider::new(kms.clone(), key_id)));
    let cipher = Arc::new(FieldCipher::new(provider.clone(), settings, clock));
    (provider, cipher)
}

/// A new, empty table with a unique name, created from template.yaml, with a
/// local-key field cipher.
pub async fn fresh_table() -> Table {
    fresh_table_with_clock(Arc::new(SystemClock)).await
}

pub async fn fresh_table_with_clock(clock: Arc<dyn Clock>) -> Table {
    fresh_table_without_cipher(clock.clone()).await.with_cipher(local_cipher(clock))
}

/// A new table whose handle has no field cipher.
pub async fn fresh_table_without_cipher(clock: Arc<dyn Clock>) -> Table {
    let config = sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let name = format!("test-{}", uuid::Uuid::new_v4());
    TableDef::from_template(&template_path()).unwrap().create(&client, &name).await.unwrap();
    Table::new(client, TableConfig::new(name, cursor_key()), clock)
}

/// Every item of the test's own table, as stored (a Scan: tests only).
pub async fn scan_all(t: &Table) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = t.client().scan().table_name(t.name()).set_exclusive_start_key(start).send().await.unwrap();
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return items,
        }
    }
}

/// Every byte string an attribute value holds, names of nested map entries
/// included, searched recursively.
pub fn all_bytes(v: &AttributeValue, out: &mut Vec<Vec<u8>>) {
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => out.push(s.as_bytes().to_vec()),
        AttributeValue::B(b) => out.push(b.as_ref().to_vec()),
        AttributeValue::Ss(l) | AttributeValue::Ns(l) => out.extend(l.iter().map(|s| s.as_bytes().to_vec())),
        AttributeValue::Bs(l) => out.extend(l.iter().map(|b| b.as_ref().to_vec())),
        AttributeValue::L(l) => l.iter().for_each(|v| all_bytes(v, out)),
        AttributeValue::M(m) => m.iter().for_each(|(k, v)| {
            out.push(k.as_bytes().to_vec());
            all_bytes(v, out)
        }),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => {}
        other => panic!("unexpected attribute value {other:?}"),
    }
}

/// Where (item key, attribute) a needle occurs anywhere in `items`.
pub fn find_anywhere(items: &[Item], needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    for item in items {
        let key = Table::key_of(item).map(|k| format!("{}|{}", k.pk, k.sk)).unwrap_or_default();
        for (name, value) in item {
            let mut bytes = vec![name.as_bytes().to_vec()];
            all_bytes(value, &mut bytes);
            if bytes.iter().any(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes())) {
                hits.push(format!("{key} {name}"));
            }
        }
    }
    hits
}

/// The local API server on a fresh table and a fresh local Cognito user pool.
pub struct ApiEnv {
    pub table: Table,
    pub pool: expenzez_local_api::cognito::Pool,
    pub cognito: expenzez_local_api::cognito::CognitoAdmin,
    pub server: expenzez_local_api::Running,
    pub http: reqwest::Client,
    /// The statement routes' state: a bucket only [`ApiEnv::start_with_statements`] creates.
    pub statements: expenzez_statements::Statements,
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
        let banking = expenzez_local_api::demo_banking(&table, 1);
        Self::start_with(table, banking).await
    }

    /// On a table whose clock is `clock` (lockouts, TTLs: time the test moves).
    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> ApiEnv {
        let table = fresh_table_with_clock(clock).await;
        let banking = expenzez_local_api::demo_banking(&table, 1);
        Self::start_with(table, banking).await
    }

    /// With banking against `provider` (e.g. TrueLayer at a wiremock URL) and
    /// the sync queue in the local SQS, worked as Lambda's event source would.
    pub async fn start_with_bank(provider: expenzez_banking::lambda::AnyProvider) -> ApiEnv {
        Self::start_with_bank_settings(provider, expenzez_banking::SyncSettings::default()).await
    }

    /// [`ApiEnv::start_with_bank`], the sync and the bank callback sending
    /// their notification requests to `notifications`.
    pub async fn start_with_bank_notifying(
        provider: expenzez_banking::lambda::AnyProvider,
        notifications: expenzez_banking::notices::NotificationQueue,
    ) -> ApiEnv {
        let settings = expenzez_banking::SyncSettings { notifications: Some(notifications), ..Default::default() };
        Self::start_with_bank_settings(provider, settings).await
    }

    async fn start_with_bank_settings(provider: expenzez_banking::lambda::AnyProvider, settings: expenzez_banking::SyncSettings) -> ApiEnv {
        let table = fresh_table().await;
        let mut banking = expenzez_local_api::banking(&table, provider);
        banking.settings = Arc::new(settings);
        let name = format!("test-sync-{}", uuid::Uuid::new_v4().simple());
        let queue = expenzez_local_api::sync_queue::create(&name).await.unwrap();
        // Runs for the rest of the test process.
        let _worker =
            expenzez_local_api::sync_queue::poll(queue.clone(), table.clone(), banking.provider.clone(), banking.settings.clone());
        banking.queue = Some(Arc::new(queue));
        Self::start_with(table, banking).await
    }

    /// With the table's stream polled and handed to the budget alert
    /// evaluator, as the template's event source mapping does; new alerts go
    /// to `queue`.
    pub async fn start_with_budget_stream(table: Table, queue: Option<expenzez_budgets::NotificationQueue>) -> ApiEnv {
        // Runs for the rest of the test process.
        let _poller = expenzez_local_api::budget_stream::poll(table.clone(), queue);
        let banking = expenzez_local_api::demo_banking(&table, 1);
        Self::start_with(table, banking).await
    }

    async fn start_with(table: Table, banking: expenzez_banking::Banking<expenzez_banking::lambda::AnyProvider>) -> ApiEnv {
        let notify = expenzez_notify::Notify::new(table.clone(), None);
        Self::start_full(table, banking, notify).await
    }

    /// With a statements bucket of its own in the local S3 (moto), set up as
    /// template.yaml's: uploads through presigned URLs, parsing, imports.
    pub async fn start_with_statements() -> ApiEnv {
        let table = fresh_table().await;
        let banking = expenzez_local_api::demo_banking(&table, 1);
        let notify = expenzez_notify::Notify::new(table.clone(), None);
        let bucket = format!("test-statements-{}", uuid::Uuid::new_v4().simple());
        let objects = expenzez_local_api::statement_bucket::create(&bucket).await.unwrap();
        Self::start_full_with(table, banking, notify, objects).await
    }

    /// With `POST /notifications/send` pushing to Expo's push service at `push_url` (a wiremock server).
    pub async fn start_with_push(push_url: &str) -> ApiEnv {
        let table = fresh_table().await;
        let banking = expenzez_local_api::demo_banking(&table, 1);
        let expo = expenzez_notify::expo::Expo::new(expenzez_notify::expo::ExpoConfig::new(push_url, None)).unwrap();
        let notify = expenzez_notify::Notify::new(table.clone(), Some(expo));
        Self::start_full(table, banking, notify).await
    }

    async fn start_full(
        table: Table,
        banking: expenzez_banking::Banking<expenzez_banking::lambda::AnyProvider>,
        notify: expenzez_notify::Notify,
    ) -> ApiEnv {
        let objects = expenzez_local_api::statement_bucket::handle("test-statements-not-created").await;
        Self::start_full_with(table, banking, notify, objects).await
    }

    async fn start_full_with(
        table: Table,
        banking: expenzez_banking::Banking<expenzez_banking::lambda::AnyProvider>,
        notify: expenzez_notify::Notify,
        objects: expenzez_statements::objects::Objects,
    ) -> ApiEnv {
        let statements = expenzez_statements::Statements { table: table.clone(), objects };
        let template = expenzez_local_api::template::load(&template_path()).unwrap();
        let cognito = expenzez_local_api::cognito::CognitoAdmin::from_env().unwrap();
        let pool = cognito.create_pool(&template, &format!("test-{}", uuid::Uuid::new_v4().simple())).await.unwrap();
        let api = expenzez_local_api::LocalApi {
            routes: expenzez_local_api::template::routes(&template),
            authorizer: expenzez_local_api::Authorizer::new(&pool.issuer, &pool.client_id, &pool.jwks_url),
            table: table.clone(),
            auth: expenzez_local_api::triggers::local_auth(&table, &pool.pool_id, &pool.client_id).await,
            banking,
            assistant: expenzez_assistant::Assistant { table: table.clone(), llm: None },
            notify,
            statements: statements.clone(),
        };
        let server = api.start(([127, 0, 0, 1], 0).into()).await.unwrap();
        ApiEnv { table, pool, cognito, server, http: reqwest::Client::new(), statements }
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
    let body =
        if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)) };
    (status, headers, body)
}

/// Every log line written while the returned guard lives (on this thread, so
/// also by tasks of a current-thread test runtime), as JSON at debug level.
pub fn capture_logs() -> (tracing::subscriber::DefaultGuard, Arc<std::sync::Mutex<Vec<u8>>>) {
    #[derive(Clone)]
    struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = Arc::new(std::sync::Mutex::new(Vec::new()));
    let w = Capture(logs.clone());
    let subscriber = tracing_subscriber::fmt().json().with_env_filter("debug").with_writer(move || w.clone()).finish();
    (tracing::subscriber::set_default(subscriber), logs)
}

/// Every transaction item of `user`, decoded (a raw query, not the API).
pub async fn stored_transactions(table: &Table, user: &expenzez_domain::ids::UserId) -> Vec<expenzez_domain::entities::Transaction> {
    let q = expenzez_store::Query::table(user.as_str(), expenzez_domain::keys::user_pk(user))
        .begins_with(expenzez_domain::keys::prefix::TRANSACTION);
    table
        .query_all_items(&q)
        .await
        .unwrap()
        .into_iter()
        .map(|i| Table::decode::<expenzez_domain::entities::Transaction>(i).unwrap().value)
        .collect()
}

/// Checks every monthly summary of `user` against the one recomputed from
/// `txns` (the summary invariant, SPEC §3): the first month that differs, as
/// a message, or `None`.
pub async fn summary_mismatch(
    table: &Table,
    user: &expenzez_domain::ids::UserId,
    txns: &[expenzez_domain::entities::Transaction],
) -> Option<String> {
    use expenzez_domain::entities::MonthlySummary;
    use expenzez_domain::keys;
    use std::collections::{BTreeMap, BTreeSet};
    let stored: BTreeMap<_, MonthlySummary> = table
        .query_all_items(&expenzez_store::Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::SUMMARY))
        .await
        .unwrap()
        .into_iter()
        .map(|i| Table::decode::<MonthlySummary>(i).unwrap().value)
        .map(|s| (s.month, s))
        .collect();
    let months: BTreeSet<_> = txns.iter().map(|t| t.timestamp.month()).chain(stored.keys().copied()).collect();
    months.into_iter().find_map(|m| {
        let want = MonthlySummary::recompute(user.clone(), m, table.now(), txns).unwrap();
        let got = stored.get(&m).cloned().unwrap_or_else(|| MonthlySummary::empty(user.clone(), m, table.now()));
        (!got.same_totals(&want)).then(|| format!("month {m}: stored {:?} != recomputed {:?}", got.totals, want.totals))
    })
}

/// The last code the local Cognito front "emailed" (logged, target
/// `local_cognito`) for `purpose` (`sign_up`, `reset_password`) to the user
/// `sub`, from logs captured with [`capture_logs`]; every such code, oldest
/// first, with [`logged_codes`].
pub fn logged_code(logs: &std::sync::Mutex<Vec<u8>>, purpose: &str, sub: &str) -> Option<String> {
    logged_codes(logs, purpose, sub).pop()
}

pub fn logged_codes(logs: &std::sync::Mutex<Vec<u8>>, purpose: &str, sub: &str) -> Vec<String> {
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "local_cognito" && v["fields"]["purpose"] == purpose && v["fields"]["sub"] == sub)
        .filter_map(|v| v["fields"]["code"].as_str().map(str::to_string))
        .collect()
}
