//! Support for the bank-sync tests: a connection due for its first sync, a
//! store wrapper that fails commits after N (a sync stopped between groups),
//! the user's items for table-to-table comparison, and a fake TrueLayer
//! (wiremock serving the Data API v1's documented JSON).

use expenzez_api::stores::{IdempotencyStore, LedgerStore, Metered};
use expenzez_banking::store::SyncStore;
use expenzez_domain::entities::*;
use expenzez_domain::ids::*;
use expenzez_domain::keys;
use expenzez_domain::time::YearMonth;
use expenzez_domain::Timestamp;
use expenzez_store::{Capacity, Condition, Query, StoreError, Table, TxAction, Versioned};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

pub const NOW: &str = "2025-08-20T10:00:00Z";

pub fn now() -> Timestamp {
    Timestamp::parse(NOW).unwrap()
}

/// A connection that has never synced, with a token valid for an hour.
pub fn fresh_connection(u: &UserId, id: &str) -> BankConnection {
    let mut c = crate::fixtures::connection(u, id);
    c.last_sync = None;
    c.next_sync = Some(now());
    c.last_error = None;
    c.access_token = Some("old-access".into());
    c.refresh_token = Some("old-refresh".into());
    c.token_expiry = Some(now().plus_seconds(3600));
    c.consent.expires_at = Some(now().plus_seconds(60 * 86_400));
    c.stats = ConnectionStats { total_accounts: 0, last_successful_sync: None, sync_count: 0, error_count: 0 };
    c
}

/// Every item of a user's partition whose sort key starts with one of
/// `prefixes`, keyed by SK, attributes rendered comparably, minus `drop`.
pub async fn items(table: &Table, user: &UserId, prefixes: &[&str], drop: &[&str]) -> BTreeMap<String, BTreeMap<String, String>> {
    let q = Query::table(user.as_str(), keys::user_pk(user));
    table
        .query_all_items(&q)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|item| {
            let sk = match item.get(keys::SK) {
                Some(expenzez_store::sdk::types::AttributeValue::S(s)) => s.clone(),
                _ => return None,
            };
            prefixes.iter().any(|p| sk.starts_with(p)).then(|| {
                let attrs = item.into_iter().filter(|(k, _)| !drop.contains(&k.as_str())).map(|(k, v)| (k, render(&v))).collect();
                (sk, attrs)
            })
        })
        .collect()
}

/// An attribute as text with map keys in order (a HashMap's Debug is not).
fn render(v: &expenzez_store::sdk::types::AttributeValue) -> String {
    use expenzez_store::sdk::types::AttributeValue as A;
    match v {
        A::M(m) => {
            let sorted: BTreeMap<&String, String> = m.iter().map(|(k, v)| (k, render(v))).collect();
            format!("M{sorted:?}")
        }
        A::L(l) => format!("L{:?}", l.iter().map(render).collect::<Vec<_>>()),
        other => format!("{other:?}"),
    }
}

/// The table, except that commits fail (throttled) once `commits_left` is spent.
#[derive(Clone)]
pub struct FailingStore {
    pub table: Table,
    pub commits_left: Arc<AtomicI64>,
}

impl FailingStore {
    pub fn new(table: &Table, commits: i64) -> Self {
        Self { table: table.clone(), commits_left: Arc::new(AtomicI64::new(commits)) }
    }
}

type R<T> = Result<T, StoreError>;

impl Metered for FailingStore {
    fn metered(&self) -> Self {
        self.clone()
    }
    fn consumed(&self) -> Capacity {
        self.table.consumed()
    }
    fn now(&self) -> Timestamp {
        self.table.now()
    }
}

impl IdempotencyStore for FailingStore {
    async fn idempotency_record(&self, user: &UserId, key: &IdempotencyKey) -> R<Option<IdempotencyRecord>> {
        self.table.idempotency_record(user, key).await
    }
    async fn save_idempotency_record(&self, record: &IdempotencyRecord) -> R<()> {
        self.table.save_idempotency_record(record).await
    }
}

impl LedgerStore for FailingStore {
    async fn transaction(&self, user: &UserId, id: &TransactionId, consistent: bool) -> R<Option<Versioned<Transaction>>> {
        self.table.transaction(user, id, consistent).await
    }
    async fn summary(&self, user: &UserId, month: YearMonth, consistent: bool) -> R<Option<Versioned<MonthlySummary>>> {
        self.table.summary(user, month, consistent).await
    }
    async fn commit(&self, actions: Vec<TxAction>) -> R<()> {
        if self.commits_left.fetch_sub(1, Ordering::SeqCst) <= 0 {
            return Err(StoreError::Throttled { op: "TransactWriteItems" });
        }
        self.table.commit(actions).await
    }
}

impl SyncStore for FailingStore {
    async fn connection(&self, user: &UserId, id: &ConnectionId) -> R<Option<Versioned<BankConnection>>> {
        self.table.connection(user, id).await
    }
    async fn save_connection(&self, c: &BankConnection, version: u64) -> R<u64> {
        self.table.save_connection(c, version).await
    }
    async fn account(&self, user: &UserId, id: &AccountId) -> R<Option<Versioned<BankAccount>>> {
        SyncStore::account(&self.table, user, id).await
    }
    async fn save_account(&self, a: &BankAccount, condition: Condition) -> R<u64> {
        self.table.save_account(a, condition).await
    }
    async fn transactions_since(&self, user: &UserId, from: Timestamp) -> R<Vec<Versioned<Transaction>>> {
        self.table.transactions_since(user, from).await
    }
    async fn transactions_by_id(&self, user: &UserId, ids: &[TransactionId]) -> R<Vec<Versioned<Transaction>>> {
        self.table.transactions_by_id(user, ids).await
    }
    async fn record_run(&self, run: &SyncRun) -> R<()> {
        self.table.record_run(run).await
    }
    async fn connection_accounts(&self, user: &UserId, id: &ConnectionId) -> R<Vec<AccountId>> {
        self.table.connection_accounts(user, id).await
    }
    async fn delete_connection(&self, user: &UserId, id: &ConnectionId) -> R<()> {
        self.table.delete_connection(user, id).await
    }
}

// ---- a fake TrueLayer -----------------------------------------------------------

use expenzez_banking::truelayer::{TrueLayer, TrueLayerConfig};
use expenzez_domain::Money;
use std::time::Duration;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const ACC: &str = "56c7b029e0f8ec5a2334fb0ffc2fface";

/// One TrueLayer transaction as JSON text (amounts written exactly, no f64).
pub fn tl_txn(n: usize, days_ago: i64, minor: i64, ids: &str) -> String {
    tl_txn_at(now(), n, days_ago, minor, ids)
}

/// [`tl_txn`] `days_ago` before `base`.
pub fn tl_txn_at(base: Timestamp, n: usize, days_ago: i64, minor: i64, ids: &str) -> String {
    let at = base.plus_seconds(-days_ago * 86_400 - (n as i64 % 50) * 60);
    let ts = at.datetime().format("%Y-%m-%dT%H:%M:%S+00:00");
    let (kind, cat) = if minor < 0 { ("DEBIT", "Shopping") } else { ("CREDIT", "Income") };
    let id_fields = match ids {
        "normalised" => format!(r#""normalised_provider_transaction_id":"txn-{n}","provider_transaction_id":"ptx-{n}","#),
        "provider" => format!(r#""provider_transaction_id":"ptx-{n}","#),
        _ => String::new(),
    };
    format!(
        r#"{{"timestamp":"{ts}","description":"PAYMENT {n}","transaction_type":"{kind}","transaction_category":"PURCHASE",
        "transaction_classification":["{cat}","General"],"merchant_name":"Merchant {n}","amount":{amount},"currency":"GBP",
        "transaction_id":"volatile-{n}-{days_ago}",{id_fields}"running_balance":{{"currency":"GBP","amount":1238.60}},
        "meta":{{"provider_category":"DEB","provider_transaction_category":"DEB"}}}}"#,
        amount = Money::from_minor(minor)
    )
}

pub fn results(items: &[String]) -> String {
    format!(r#"{{"results":[{}],"status":"Succeeded"}}"#, items.join(","))
}

pub fn json(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "application/json")
}

/// A fake TrueLayer with one account, `settled` and `pending` transactions,
/// accepting `token` as the access token.
pub async fn truelayer(settled: &[String], pending: &[String], token: &str) -> MockServer {
    let server = MockServer::start().await;
    let bearer = format!("Bearer {token}");
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(json(r#"{"access_token":"new-access","expires_in":3600,"token_type":"Bearer","refresh_token":"new-refresh","scope":"info accounts balance transactions offline_access"}"#.into()))
        .mount(&server)
        .await;
    let account = format!(
        r#"{{"update_timestamp":"2025-08-20T09:58:00.000Z","account_id":"{ACC}","account_type":"TRANSACTION","display_name":"CLUB LLOYDS",
        "currency":"GBP","account_number":{{"iban":"GB35LOYD30963212345678","swift_bic":"LOYDGB2L","number":"12345678","sort_code":"30-96-32"}},
        "provider":{{"display_name":"LLOYDS","provider_id":"lloyds","logo_uri":"https://truelayer-provider-assets.s3.amazonaws.com/global/logos/lloyds.svg"}}}}"#
    );
    Mock::given(method("GET"))
        .and(path("/data/v1/accounts"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(json(results(&[account])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/data/v1/accounts/{ACC}/balance")))
        .and(header("authorization", bearer.as_str()))
        .respond_with(json(results(&[
            r#"{"currency":"GBP","available":1161.2,"current":1238.6,"overdraft":1500,"update_timestamp":"2025-08-20T09:58:00.000Z"}"#
                .into(),
        ])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/data/v1/accounts/{ACC}/transactions")))
        .and(header("authorization", bearer.as_str()))
        .respond_with(json(results(settled)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/data/v1/accounts/{ACC}/transactions/pending")))
        .and(header("authorization", bearer.as_str()))
        .respond_with(json(results(pending)))
        .mount(&server)
        .await;
    server
}

pub fn client(server: &MockServer) -> TrueLayer {
    let mut c = TrueLayerConfig::new(server.uri(), server.uri(), "test-client", "test-secret");
    c.retry_base = Duration::from_millis(1);
    c.max_retry_wait = Duration::from_millis(5);
    TrueLayer::new(c).unwrap()
}
