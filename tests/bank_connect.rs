//! Connecting and disconnecting a bank end to end: the local API (JWT checked
//! against moto's Cognito), DynamoDB Local, the sync queue in moto's SQS
//! worked by the worker's own handler, and a wiremock server serving
//! TrueLayer's documented JSON (token exchange, Data API v1, providers,
//! credential deletion).

use expenzez_api::event::HttpEvent;
use expenzez_banking::connect::ConnectState;
use expenzez_banking::lambda::AnyProvider;
use expenzez_banking::schedule::due_connections;
use expenzez_domain::entities::{BankConnection, ConnectionStatus};
use expenzez_domain::ids::{ConnectionId, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::{SystemClock, Timestamp};
use expenzez_store::{Query, Table, TableConfig};
use expenzez_tests::banking::{client, json, tl_txn_at, truelayer, ACC};
use expenzez_tests::{all_bytes, cursor_key, scan_all, send, ApiEnv, TestUser};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCESS: &str = "tl-access-S3CRET-0001";
const REFRESH: &str = "tl-refresh-S3CRET-0002";
const CODE: &str = "auth-code-123";
const REDIRECT: &str = expenzez_local_api::LOCAL_REDIRECT_URI;

/// A fake TrueLayer holding one account (LLOYDS, number 12345678, sort code
/// 30-96-32, IBAN GB35LOYD30963212345678) with `n` settled transactions in
/// the last weeks, that exchanges [`CODE`] for [`ACCESS`]/[`REFRESH`] once.
async fn bank(n: usize, exchanges: u64) -> MockServer {
    let base = Timestamp::from_datetime(chrono::Utc::now());
    let settled: Vec<String> = (0..n).map(|i| tl_txn_at(base, i, 1 + i as i64, -(120 + i as i64 * 11), "normalised")).collect();
    let server = truelayer(&settled, &[], ACCESS).await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains(format!("code={CODE}")))
        .and(body_string_contains("redirect_uri=expenzez%3A%2F%2Fbanking%2Fcallback"))
        .respond_with(json(format!(
            r#"{{"access_token":"{ACCESS}","expires_in":3600,"token_type":"Bearer","refresh_token":"{REFRESH}","scope":"info accounts balance transactions offline_access"}}"#
        )))
        .expect(exchanges)
        .mount(&server)
        .await;
    server
}

async fn env_for(server: &MockServer) -> ApiEnv {
    ApiEnv::start_with_bank(AnyProvider::TrueLayer(client(server))).await
}

fn user_id(u: &TestUser) -> UserId {
    UserId::new(u.sub.clone()).unwrap()
}

/// `POST /banking/connect`, returning the state.
async fn connect(env: &ApiEnv, u: &TestUser) -> String {
    let (s, _, b) = send(env.post(u, "/banking/connect", &json!({}))).await;
    assert_eq!(s, 200, "{b}");
    b["state"].as_str().unwrap().to_string()
}

/// Waits until connection `id`'s first sync has finished (it records the
/// outcome last, after the accounts and transactions), then answers
/// `GET /banking/connected`.
async fn wait_for_first_sync(env: &ApiEnv, u: &TestUser, id: &str) -> Value {
    for _ in 0..60 {
        let c = connection(&env.table, &user_id(u), id).await.expect("the connection exists");
        if c.stats.sync_count + c.stats.error_count > 0 {
            let (s, _, b) = send(env.get(u, "/banking/connected")).await;
            assert_eq!(s, 200, "{b}");
            return b;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the first sync of {id} did not finish within 15 s");
}

async fn connection(table: &Table, user: &UserId, id: &str) -> Option<BankConnection> {
    table.get_consistent(&ItemKey::BankConnection(user.clone(), ConnectionId::new(id).unwrap())).await.unwrap().map(|v| v.value)
}

/// Sort keys in a user's partition starting with `prefix`.
async fn sks(table: &Table, user: &UserId, prefix: &str) -> Vec<String> {
    let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(prefix);
    table.query_all_items(&q).await.unwrap().into_iter().filter_map(|i| i.get(keys::SK).and_then(|v| v.as_s().ok()).cloned()).collect()
}

#[tokio::test]
async fn connect_then_callback_stores_an_encrypted_connection_and_the_queue_runs_its_first_sync() {
    let (_guard, logs) = expenzez_tests::capture_logs();
    let server = bank(7, 1).await;
    let env = env_for(&server).await;
    let (a, b) = (env.user("alice", false).await, env.user("bob", false).await);

    let (s, _, body) = send(env.post(&a, "/banking/connect", &json!({ "redirectUrl": REDIRECT, "providerId": "ob-lloyds" }))).await;
    assert_eq!(s, 200, "{body}");
    let state = body["state"].as_str().unwrap();
    let link = reqwest::Url::parse(body["link"].as_str().unwrap()).unwrap();
    assert_eq!(link.origin().ascii_serialization(), server.uri());
    let q: std::collections::BTreeMap<String, String> = link.query_pairs().into_owned().collect();
    assert_eq!(q["state"], state);
    assert_eq!(q["redirect_uri"], REDIRECT);
    assert_eq!(q["client_id"], "test-client");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["provider_id"], "ob-lloyds");
    assert!(q["scope"].contains("offline_access") && q["scope"].contains("transactions"));

    // The body's userId (bob) is ignored: the connection is alice's.
    let (s, _, body) = send(env.post(&a, "/banking/callback", &json!({ "code": CODE, "state": state, "userId": b.sub }))).await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(
        (body["success"].as_bool(), body["bankName"].as_str(), body["status"].as_str()),
        (Some(true), Some("LLOYDS"), Some("active"))
    );
    assert_eq!(body["firstSync"], "queued");
    let id = body["connectionId"].as_str().unwrap().to_string();
    assert!(sks(&env.table, &user_id(&b), keys::prefix::BANK).await.is_empty());

    let c = connection(&env.table, &user_id(&a), &id).await.expect("stored under the caller");
    assert_eq!((c.access_token.as_deref(), c.refresh_token.as_deref()), (Some(ACCESS), Some(REFRESH)));
    assert_eq!(c.consent.expires_at.unwrap().epoch_seconds() - c.consent.granted_at.epoch_seconds(), 90 * 86_400);
    assert_eq!(c.consent.permissions, ["info", "accounts", "balance", "transactions", "offline_access"]);
    assert_eq!(c.token_expiry.unwrap().epoch_seconds() - c.created_at.epoch_seconds(), 3600);
    assert_eq!(c.stats.total_accounts, 1);

    // The first sync came through the queue and the worker.
    let listed = wait_for_first_sync(&env, &a, &id).await;
    assert_eq!(listed["banks"].as_array().unwrap().len(), 1, "{listed}");
    let bank = &listed["banks"][0];
    assert_eq!((bank["accountNumber"].as_str(), bank["sortCode"].as_str()), (Some("****5678"), Some("**-**-32")));
    assert_eq!(bank["connectionId"], id.as_str());
    let (_, _, txns) = send(env.get(&a, "/transactions?limit=50")).await;
    assert_eq!(txns["transactions"].as_array().unwrap().len(), 7, "{txns}");
    let c = connection(&env.table, &user_id(&a), &id).await.unwrap();
    assert_eq!((c.status, c.stats.sync_count), (ConnectionStatus::Active, 1));

    // A repeated callback answers with the connection and exchanges nothing
    // (the mock allows one exchange; it is checked when the server drops).
    let (s, _, again) = send(env.post(&a, "/banking/callback", &json!({ "code": CODE, "state": state }))).await;
    assert_eq!((s, again["connectionId"].as_str()), (200, Some(id.as_str())), "{again}");
    assert_eq!(sks(&env.table, &user_id(&a), keys::prefix::BANK).await.len(), 1);

    // Nothing the provider served in confidence is stored in plaintext.
    let mut bytes = Vec::new();
    for item in scan_all(&env.table).await {
        item.values().for_each(|v| all_bytes(v, &mut bytes));
    }
    for secret in [ACCESS, REFRESH, CODE, "12345678", "30-96-32", "GB35LOYD30963212345678"] {
        let s = secret.as_bytes();
        assert!(!bytes.iter().any(|b| b.windows(s.len()).any(|w| w == s)), "{secret} is stored in plaintext");
    }
    // Nor in the logs of the whole flow (debug level, the worker's included).
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("bank connected") && logs.contains("bank sync done"), "the flow was logged");
    for secret in [ACCESS, REFRESH, CODE, state, "12345678", "30-96-32", "GB35LOYD30963212345678"] {
        assert!(!logs.contains(secret), "{secret} is in the logs");
    }
}

#[tokio::test]
async fn the_state_is_bound_to_its_user_expires_and_is_checked_before_any_exchange() {
    // No code is ever exchanged in this test.
    let server = bank(1, 0).await;
    let env = env_for(&server).await;
    let (a, b) = (env.user("alice", false).await, env.user("bob", false).await);
    let state = connect(&env, &a).await;

    let refused = |body: Value| body["error"]["code"].as_str().map(String::from);
    // Bob presents alice's state: refused, as a tampered or missing one is.
    let mut tampered = state.clone();
    tampered.replace_range(3..4, if &state[3..4] == "A" { "B" } else { "A" });
    for (who, body) in [
        (&b, json!({ "code": CODE, "state": state })),
        (&a, json!({ "code": CODE, "state": tampered })),
        // Without state: only for the caller's own pending request (Bob has none).
        (&b, json!({ "code": CODE })),
        (&a, json!({ "code": CODE, "state": "not-a-state" })),
    ] {
        let (s, _, r) = send(env.post(who, "/banking/callback", &body)).await;
        assert_eq!((s, refused(r.clone()).as_deref()), (400, Some("INVALID_STATE")), "{body} → {r}");
    }
    // An expired state (sealed with the deployment's key, for alice).
    let now = env.table.now().epoch_seconds();
    let old = ConnectState { nonce: "0123456789abcdef0123456789abcdef".into(), expires: now - 1, redirect_uri: REDIRECT.into() };
    let (s, _, r) = send(env.post(&a, "/banking/callback", &json!({ "code": CODE, "state": old.seal(&env.table, &user_id(&a)) }))).await;
    assert_eq!((s, refused(r).as_deref()), (400, Some("STATE_EXPIRED")));
    // The user cancelled at the bank.
    let (s, _, r) = send(env.post(&a, "/banking/callback", &json!({ "error": "access_denied", "state": state }))).await;
    assert_eq!((s, refused(r).as_deref()), (400, Some("BANK_AUTH_DENIED")));
    // No code: 422 naming the field. Unknown fields: 422.
    let (s, _, r) = send(env.post(&a, "/banking/callback", &json!({ "state": state }))).await;
    assert_eq!((s, r["error"]["details"][0]["field"].as_str()), (422, Some("code")), "{r}");
    let (s, _, _) = send(env.post(&a, "/banking/callback", &json!({ "code": CODE, "state": state, "admin": true }))).await;
    assert_eq!(s, 422);
    // A redirect URL that is not registered is refused at connect (open redirect).
    let (s, _, r) = send(env.post(&a, "/banking/connect", &json!({ "redirectUrl": "https://evil.example/cb" }))).await;
    assert_eq!((s, r["error"]["details"][0]["field"].as_str()), (422, Some("redirectUrl")), "{r}");

    // None of it stored anything.
    for u in [&a, &b] {
        assert!(sks(&env.table, &user_id(u), keys::prefix::BANK).await.is_empty());
    }
}

#[tokio::test]
async fn a_code_the_provider_refuses_is_400_and_stores_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(400).set_body_raw(r#"{"error":"invalid_grant"}"#, "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let env = env_for(&server).await;
    let a = env.user("alice", false).await;
    let state = connect(&env, &a).await;
    let (s, _, r) = send(env.post(&a, "/banking/callback", &json!({ "code": "used-code", "state": state }))).await;
    assert_eq!((s, r["error"]["code"].as_str()), (400, Some("INVALID_CODE")), "{r}");
    assert!(sks(&env.table, &user_id(&a), keys::prefix::BANK).await.is_empty());
}

/// `GET /banking/accounts` through the function's own dispatch over a table
/// handle that has no field key at all: the listing reads masked projections
/// only, so it cannot need a decryption (or a KMS call).
async fn accounts_without_a_key(env: &ApiEnv, u: &TestUser, method: &str) -> (u16, Value) {
    let table = Table::new(env.table.client().clone(), TableConfig::new(env.table.name(), cursor_key()), Arc::new(SystemClock));
    assert!(table.cipher().is_none());
    let b = expenzez_banking::Banking::new(table, AnyProvider::Demo(expenzez_banking::memory::MemoryProvider::default()));
    let ev = HttpEvent {
        method: method.into(),
        path: "/banking/accounts".into(),
        route_key: format!("{method} /banking/accounts"),
        claims: Some([("sub".to_string(), u.sub.clone())].into()),
        request_id: "accounts".into(),
        ..Default::default()
    };
    let r = expenzez_banking::routes::reads::dispatch("ListBankAccountsFunction", &b.table, ev.into_request().unwrap()).await.unwrap();
    let status = r.status().as_u16();
    let lambda_http::Body::Text(t) = r.body() else { panic!("no body") };
    (status, serde_json::from_str(t).unwrap())
}

#[tokio::test]
async fn accounts_are_listed_masked_without_a_key_and_removing_the_bank_deletes_tokens_and_revokes() {
    let server = bank(3, 1).await;
    Mock::given(method("DELETE"))
        .and(path("/api/delete"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{}", "application/json"))
        .expect(1)
        .mount(&server)
        .await;
    let env = env_for(&server).await;
    let (a, b) = (env.user("alice", false).await, env.user("bob", false).await);
    let state = connect(&env, &a).await;
    let (s, _, c) = send(env.post(&a, "/banking/callback", &json!({ "code": CODE, "state": state }))).await;
    assert_eq!(s, 201, "{c}");
    let conn_id = c["connectionId"].as_str().unwrap().to_string();
    wait_for_first_sync(&env, &a, &conn_id).await;

    for m in ["GET", "POST"] {
        let (s, body) = accounts_without_a_key(&env, &a, m).await;
        assert_eq!(s, 200, "{body}");
        let acc = &body["accounts"][0];
        assert_eq!(acc["id"], ACC);
        assert_eq!(acc["name"], "CLUB LLOYDS");
        assert_eq!(acc["institution"]["name"], "LLOYDS");
        assert_eq!(acc["institutionId"], conn_id.as_str());
        assert_eq!(acc["iban"], "GB35****5678");
        assert_eq!(acc["accountNumber"], "****5678");
        assert_eq!(
            (acc["balance"].as_f64(), acc["availableBalance"].as_f64(), acc["currency"].as_str()),
            (Some(1238.6), Some(1161.2), Some("GBP"))
        );
        assert_eq!((acc["type"].as_str(), acc["status"].as_str()), (Some("checking"), Some("active")));
    }
    // Through the local API too, and bob sees none of it.
    let (_, _, via_api) = send(env.get(&a, "/banking/accounts")).await;
    assert_eq!(via_api["accounts"].as_array().unwrap().len(), 1);
    let (_, _, bobs) = send(env.get(&b, "/banking/accounts")).await;
    assert_eq!(bobs["accounts"].as_array().unwrap().len(), 0);

    let far = Timestamp::from_datetime(chrono::Utc::now() + chrono::Duration::days(365));
    let due = |jobs: Vec<expenzez_banking::schedule::SyncJob>| jobs.iter().any(|j| j.connection_id.as_str() == conn_id);
    assert!(due(due_connections(&env.table, far, 1000).await.unwrap()), "a synced connection is scheduled");

    // Bob cannot remove alice's bank: 404, nothing changes.
    let (s, _, _) = send(env.delete(&b, &format!("/banking/remove/{ACC}"))).await;
    assert_eq!(s, 404);
    let (s, _, _) = send(env.delete(&b, &format!("/banking/remove/{conn_id}"))).await;
    assert_eq!(s, 404);
    assert!(connection(&env.table, &user_id(&a), &conn_id).await.is_some());

    let (s, _, r) = send(env.delete(&a, &format!("/banking/remove/{ACC}"))).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["connectionId"].as_str(), r["accountsRemoved"].as_u64(), r["providerRevoked"].as_bool()),
        (Some(conn_id.as_str()), Some(1), Some(true))
    );
    let me = user_id(&a);
    assert!(connection(&env.table, &me, &conn_id).await.is_none(), "the connection and its tokens are gone");
    assert!(sks(&env.table, &me, keys::prefix::ACCOUNT).await.is_empty());
    assert_eq!(sks(&env.table, &me, keys::prefix::TRANSACTION).await.len(), 3, "imported history is kept");
    assert!(!due(due_connections(&env.table, far, 1000).await.unwrap()), "no longer scheduled");
    let (_, _, listed) = send(env.get(&a, "/banking/connected")).await;
    assert_eq!(listed["banks"].as_array().unwrap().len(), 0);
    let (s, _, _) = send(env.delete(&a, &format!("/banking/remove/{ACC}"))).await;
    assert_eq!(s, 404, "removing twice");
    // No token survives anywhere in the table.
    let mut bytes = Vec::new();
    for item in scan_all(&env.table).await {
        item.values().for_each(|v| all_bytes(v, &mut bytes));
    }
    assert!(!bytes.iter().any(|b| b.windows(ACCESS.len()).any(|w| w == ACCESS.as_bytes())));
}

#[tokio::test]
async fn institutions_come_from_the_provider_once_and_then_from_the_shared_cache() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/providers"))
        .and(query_param("client_id", "test-client"))
        .respond_with(json(
            r#"[{"provider_id":"ob-monzo","display_name":"Monzo","logo_url":"https://tl.example/monzo.svg","scopes":["info","accounts","balance","transactions","cards","offline_access"],"country":"uk"},
                {"provider_id":"ob-barclays","display_name":"Barclays","logo_url":"https://tl.example/barclays.svg","scopes":["info","accounts","balance","transactions","offline_access"],"country":"uk"},
                {"provider_id":"ob-cards-only","display_name":"Amex","logo_url":null,"scopes":["info","cards","offline_access"],"country":"uk"},
                {"provider_id":"fr-bank","display_name":"Banque","logo_url":null,"scopes":["info","accounts","balance","transactions"],"country":"fr"}]"#
                .into(),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let env = env_for(&server).await;
    let (a, b) = (env.user("alice", false).await, env.user("bob", false).await);
    let (s, _, first) = send(env.get(&a, "/banking/institutions")).await;
    assert_eq!(s, 200, "{first}");
    assert_eq!(
        first,
        json!({ "institutions": [
            { "id": "ob-cards-only", "name": "Amex", "logo": expenzez_banking::provider::GENERIC_BANK_LOGO, "isSupported": false },
            { "id": "ob-barclays", "name": "Barclays", "logo": "https://tl.example/barclays.svg", "isSupported": true },
            { "id": "ob-monzo", "name": "Monzo", "logo": "https://tl.example/monzo.svg", "isSupported": true },
        ]})
    );
    assert!(first["institutions"].as_array().unwrap().iter().all(|i| i["logo"].is_string()), "every logo a string");
    // Another user: the same list, from the cache (the provider allows one call).
    let (s, _, second) = send(env.get(&b, "/banking/institutions")).await;
    assert_eq!((s, &second), (200, &first));
    let cached: Option<expenzez_store::Versioned<expenzez_domain::entities::ApiCache>> = env
        .table
        .get(&ItemKey::ApiCache {
            endpoint: expenzez_banking::handlers::INSTITUTIONS_CACHE.into(),
            owner: None,
            query_hash: expenzez_banking::handlers::institutions_cache_hash(expenzez_domain::entities::Provider::Truelayer),
        })
        .await
        .unwrap();
    let cached = cached.expect("one shared cache item").value;
    assert_eq!(cached.ttl - cached.cached_at.epoch_seconds(), 30 * 60);
}

#[tokio::test]
async fn institutions_while_the_provider_is_down_are_503_with_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("GET")).and(path("/api/providers")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    let env = env_for(&server).await;
    let a = env.user("alice", false).await;
    let (s, h, r) = send(env.get(&a, "/banking/institutions")).await;
    assert_eq!(s, 503, "{r}");
    assert!(h.get("retry-after").is_some());
    assert!(r.to_string().len() < 2000 && !r.to_string().contains(&server.uri()), "no internals: {r}");
}

#[tokio::test]
async fn a_connection_stored_while_the_accounts_call_failed_gets_its_bank_name_from_the_first_sync() {
    let server = bank(2, 1).await;
    // The accounts call fails for the callback's attempts (the client retries 5xx 3 times), then recovers.
    Mock::given(method("GET"))
        .and(path("/data/v1/accounts"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&server)
        .await;
    let env = env_for(&server).await;
    let a = env.user("alice", false).await;
    let state = connect(&env, &a).await;
    let (s, _, c) = send(env.post(&a, "/banking/callback", &json!({ "code": CODE, "state": state }))).await;
    assert_eq!((s, c["bankName"].as_str(), c["accounts"].as_u64()), (201, Some("Bank"), Some(0)), "{c}");
    let listed = wait_for_first_sync(&env, &a, c["connectionId"].as_str().unwrap()).await;
    assert_eq!(listed["banks"][0]["bankName"], "LLOYDS");
    let stored = connection(&env.table, &user_id(&a), c["connectionId"].as_str().unwrap()).await.unwrap();
    assert_eq!((stored.bank_name.as_str(), stored.stats.total_accounts), ("LLOYDS", 1));
}

/// The app's callback screen posts `{code, userId}` without `state`: accepted
/// only for the caller's own recent, unused connect request, once; then the
/// banking screen lists the bank's transactions (`GET /banking/transactions`).
#[tokio::test]
async fn the_apps_callback_without_state_connects_once_for_the_caller_and_lists_bank_transactions() {
    let server = bank(7, 1).await;
    let env = env_for(&server).await;
    let (a, b, c) = (env.user("alice", false).await, env.user("bob", false).await, env.user("cat", false).await);
    let refused = |r: &Value| r["error"]["code"].as_str().map(String::from);
    // Nothing started yet: refused before any exchange.
    let (s, _, r) = send(env.post(&a, "/banking/callback", &json!({ "code": CODE, "userId": a.sub }))).await;
    assert_eq!((s, refused(&r).as_deref()), (400, Some("INVALID_STATE")), "{r}");
    // A request older than 15 minutes does not count.
    let now = env.table.now();
    let old = expenzez_domain::entities::PendingConnect {
        user_id: user_id(&c),
        nonce: "00112233445566778899aabbccddeeff".into(),
        redirect_uri: REDIRECT.into(),
        created_at: now.plus_seconds(-16 * 60),
        expires_at: now.plus_seconds(-60),
        ttl: now.epoch_seconds() + 3600,
    };
    env.table.put(&old, expenzez_store::Condition::MustNotExist).await.unwrap();
    let (s, _, r) = send(env.post(&c, "/banking/callback", &json!({ "code": CODE, "userId": c.sub }))).await;
    assert_eq!((s, refused(&r).as_deref()), (400, Some("INVALID_STATE")), "{r}");

    connect(&env, &a).await;
    assert_eq!(sks(&env.table, &user_id(&a), keys::prefix::PENDING_CONNECT).await.len(), 1, "recorded server-side");
    // Alice's request is not Bob's, whatever userId says.
    let (s, _, r) = send(env.post(&b, "/banking/callback", &json!({ "code": CODE, "userId": a.sub }))).await;
    assert_eq!((s, refused(&r).as_deref()), (400, Some("INVALID_STATE")), "{r}");
    let (s, _, body) = send(env.post(&a, "/banking/callback", &json!({ "code": CODE, "userId": b.sub }))).await;
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["bankName"], "LLOYDS");
    let id = body["connectionId"].as_str().unwrap().to_string();
    // One-time: the request is used up.
    assert!(sks(&env.table, &user_id(&a), keys::prefix::PENDING_CONNECT).await.is_empty());
    let (s, _, r) = send(env.post(&a, "/banking/callback", &json!({ "code": CODE, "userId": a.sub }))).await;
    assert_eq!((s, refused(&r).as_deref()), (400, Some("INVALID_STATE")), "{r}");
    assert!(sks(&env.table, &user_id(&b), keys::prefix::BANK).await.is_empty());

    // The banking screen's list: the bank's transactions only, newest first, paged.
    wait_for_first_sync(&env, &a, &id).await;
    let manual = json!({"amount": -4.5, "description": "Cash", "category": "Other", "date": "2026-01-02"});
    assert_eq!(send(env.post(&a, "/transactions", &manual)).await.0, 201);
    let (s, _, first) = send(env.get(&a, "/banking/transactions?limit=3")).await;
    assert_eq!(s, 200, "{first}");
    let mut got: Vec<Value> = first["transactions"].as_array().unwrap().clone();
    assert_eq!(got.len(), 3);
    let bank_key = first["nextKey"].as_str().unwrap().to_string();
    let mut key = Some(bank_key.clone());
    while let Some(k) = key {
        let (s, _, b) = send(env.get(&a, &format!("/banking/transactions?startKey={k}&limit=3"))).await;
        assert_eq!(s, 200, "{b}");
        got.extend(b["transactions"].as_array().unwrap().iter().cloned());
        key = b["nextKey"].as_str().map(str::to_string);
    }
    assert_eq!(got.len(), 7, "the bank's seven, not the manual one");
    assert!(got.iter().all(|t| t["description"] != "Cash" && t["amount"].as_f64().unwrap() < 0.0 && t["currency"] == "GBP"));
    let dates: Vec<&str> = got.iter().map(|t| t["date"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first: {dates:?}");
    assert_eq!(send(env.get(&a, "/transactions?limit=50")).await.2["transactions"].as_array().unwrap().len(), 8);
    // A key of the bank list does not continue another list.
    let (s, _, _) = send(env.get(&a, &format!("/transactions?startKey={bank_key}"))).await;
    assert_eq!(s, 400);
    // Bob has no bank transactions.
    assert_eq!(send(env.get(&b, "/banking/transactions")).await.2["transactions"], json!([]));
}
