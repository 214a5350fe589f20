//! The sync of one connection against DynamoDB Local and a wiremock server
//! serving TrueLayer Data API v1 JSON (the documented shapes: `results`
//! wrapper, `transaction_id`, `normalised_provider_transaction_id`,
//! `provider_transaction_id`, `running_balance`, `meta`).

use expenzez_banking::{sync_connection, SyncError, SyncSettings};
use expenzez_domain::entities::{BankAccount, BankConnection, ConnectionStatus, SyncOutcome, SyncRun};
use expenzez_domain::ids::{ConnectionId, UserId};
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::{FixedClock, Money};
use expenzez_store::{Condition, Query, SortKey, Table};
use expenzez_tests::banking::{client, fresh_connection, items, now, tl_txn, truelayer, FailingStore, ACC};
use expenzez_tests::{fresh_table_with_clock, stored_transactions};
use std::sync::Arc;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn setup(conn: impl FnOnce(&mut BankConnection)) -> (Table, UserId, ConnectionId) {
    let table = fresh_table_with_clock(Arc::new(FixedClock::new(now()))).await;
    let user = UserId::new("sync-user").unwrap();
    expenzez_tests::fixtures::open_account(&table, &user).await;
    let mut c = fresh_connection(&user, "conn-1");
    conn(&mut c);
    table.put(&c, Condition::MustNotExist).await.unwrap();
    (table, user, c.connection_id)
}

/// A mix of every id kind, over three months.
fn sample() -> (Vec<String>, Vec<String>) {
    let mut settled: Vec<String> =
        (0..12).map(|n| tl_txn(n, (n as i64) * 6, if n % 4 == 3 { 250_000 } else { -(100 + n as i64 * 37) }, "normalised")).collect();
    settled.push(tl_txn(100, 3, -1_999, "provider"));
    settled.push(tl_txn(101, 4, -500, "none"));
    settled.push(tl_txn(102, 4, -500, "none")); // identical content, except its description
    let pending = vec![tl_txn(200, 0, -1_250, "none")];
    (settled, pending)
}

const DATA: &[&str] = &[keys::prefix::TRANSACTION, keys::prefix::SUMMARY, keys::prefix::ACCOUNT];
/// Restricted attributes are ciphertext under fresh data keys, so two tables
/// holding the same value differ there: compare them decrypted ([`accounts`]).
const SEALED: &[&str] = &["accountNumber", "sortCode", "iban"];

async fn accounts(table: &Table, user: &UserId) -> Vec<BankAccount> {
    let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::ACCOUNT);
    let mut out = Vec::new();
    for i in table.query_all_items(&q).await.unwrap() {
        out.push(table.decode_item::<BankAccount>(i).await.unwrap().value);
    }
    out
}

async fn connection(table: &Table, user: &UserId, c: &ConnectionId) -> (BankConnection, u64) {
    let v = table.get_consistent::<BankConnection>(&ItemKey::BankConnection(user.clone(), c.clone())).await.unwrap().unwrap();
    (v.value, v.version)
}

async fn runs(table: &Table, user: &UserId) -> Vec<SyncRun> {
    let q = Query::table(user.as_str(), keys::user_pk(user)).begins_with(keys::prefix::SYNC_RUN);
    table.query_all_items(&q).await.unwrap().into_iter().map(|i| Table::decode::<SyncRun>(i).unwrap().value).collect()
}

#[tokio::test]
async fn same_data_synced_three_times_equals_synced_once() {
    let (settled, pending) = sample();
    let server = truelayer(&settled, &pending, "old-access").await;
    let tl = client(&server);
    let settings = SyncSettings::default();

    let (once, user, conn) = setup(|_| {}).await;
    let first = sync_connection(&once, &tl, &settings, &user, &conn).await.unwrap();
    assert_eq!((first.accounts, first.transactions_written, first.transactions_removed), (1, 16, 0));

    let (thrice, _, _) = setup(|_| {}).await;
    for round in 0..3 {
        let r = sync_connection(&thrice, &tl, &settings, &user, &conn).await.unwrap();
        if round > 0 {
            assert_eq!(r.transactions_written + r.transactions_removed, 0, "a re-sync of the same data writes nothing");
        }
    }
    // The whole items (every attribute, versions included), not counts.
    let a = items(&once, &user, DATA, SEALED).await;
    let b = items(&thrice, &user, DATA, SEALED).await;
    assert_eq!(a, b);
    assert_eq!(accounts(&once, &user).await, accounts(&thrice, &user).await);
    assert_eq!(a.keys().filter(|k| k.starts_with(keys::prefix::TRANSACTION)).count(), 16);
    assert_eq!(a.keys().filter(|k| k.starts_with(keys::prefix::SUMMARY)).count(), 3, "June, July and August");

    let txns = stored_transactions(&thrice, &user).await;
    assert_eq!(txns.iter().filter(|t| t.is_pending).count(), 1);
    let first_txn = txns.iter().find(|t| t.description == "PAYMENT 1").unwrap();
    assert_eq!(first_txn.amount, Money::from_minor(-137));
    assert_eq!(first_txn.category.primary.as_str(), "Shopping");
    let (c, _) = connection(&thrice, &user, &conn).await;
    assert_eq!(c.stats.sync_count, 3);
    assert_eq!(c.status, ConnectionStatus::Active);
    assert_eq!(c.next_sync, Some(now().plus_seconds(4 * 3600)));
}

#[tokio::test]
async fn pending_is_replaced_by_settled_and_removed_ones_are_removed() {
    let (settled, pending) = sample();
    let server = truelayer(&settled, &pending, "old-access").await;
    let (table, user, conn) = setup(|_| {}).await;
    sync_connection(&table, &client(&server), &SyncSettings::default(), &user, &conn).await.unwrap();

    // Next fetch: the pending one settled (new id, normalised id now known),
    // PAYMENT 1 vanished and PAYMENT 0's amount changed (both inside the
    // re-fetched window: the last sync minus the 7-day overlap).
    let mut next = settled.clone();
    next.retain(|t| !t.contains("\"PAYMENT 1\""));
    next.iter_mut().filter(|t| t.contains("\"PAYMENT 0\"")).for_each(|t| *t = tl_txn(0, 0, -4_321, "normalised"));
    next.push(tl_txn(200, 0, -1_250, "normalised"));
    let server2 = truelayer(&next, &[], "old-access").await;
    let r = sync_connection(&table, &client(&server2), &SyncSettings::default(), &user, &conn).await.unwrap();
    assert_eq!((r.transactions_written, r.transactions_removed), (2, 2), "settled + changed written; pending + vanished removed");

    let txns = stored_transactions(&table, &user).await;
    assert_eq!(txns.len(), 15);
    assert!(txns.iter().all(|t| !t.is_pending));
    assert!(!txns.iter().any(|t| t.description == "PAYMENT 1"));
    assert_eq!(txns.iter().find(|t| t.description == "PAYMENT 0").unwrap().amount, Money::from_minor(-4_321));
    // And the summaries follow: a fresh sync of the same data elsewhere gives the same table.
    let (fresh, _, _) = setup(|_| {}).await;
    sync_connection(&fresh, &client(&server2), &SyncSettings::default(), &user, &conn).await.unwrap();
    let strip = &["itemVersion", "updatedAt", "createdAt"];
    let a = items(&table, &user, &[keys::prefix::SUMMARY], strip).await;
    let b = items(&fresh, &user, &[keys::prefix::SUMMARY], strip).await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn a_sync_stopped_between_groups_converges_on_rerun() {
    // 260 transactions over three months: several TransactWriteItems groups.
    let settled: Vec<String> = (0..260).map(|n| tl_txn(n, (n as i64 * 7) % 85, -(100 + n as i64), "normalised")).collect();
    let server = truelayer(&settled, &[], "old-access").await;
    let tl = client(&server);
    let settings = SyncSettings::default();

    let (whole, user, conn) = setup(|_| {}).await;
    sync_connection(&whole, &tl, &settings, &user, &conn).await.unwrap();

    for stop_after in [1, 2] {
        let (table, _, _) = setup(|_| {}).await;
        let failing = FailingStore::new(&table, stop_after);
        let err = sync_connection(&failing, &tl, &settings, &user, &conn).await.unwrap_err();
        assert!(matches!(err, SyncError::Retryable { .. }), "{err:?}");
        let partial = stored_transactions(&table, &user).await.len();
        assert!(partial > 0 && partial < 260, "stopped part-way: {partial}");
        let (c, _) = connection(&table, &user, &conn).await;
        assert_eq!(c.last_error.as_ref().map(|e| e.code.as_str()), Some("store"));
        assert_eq!(c.stats.last_successful_sync, None, "the watermark did not move");
        assert_eq!(c.status, ConnectionStatus::Error);

        sync_connection(&table, &tl, &settings, &user, &conn).await.unwrap();
        // Same items; versions may differ where the rerun grouped differently.
        let drop = [SEALED, &["itemVersion"]].concat();
        let a = items(&whole, &user, DATA, &drop).await;
        let b = items(&table, &user, DATA, &drop).await;
        assert_eq!(accounts(&whole, &user).await, accounts(&table, &user).await);
        assert_eq!(a.len(), 260 + 4 + 1, "transactions, May to August, the account");
        assert_eq!(a, b, "stopped after {stop_after} group(s)");
        let (c, _) = connection(&table, &user, &conn).await;
        assert_eq!(c.last_error, None);
        let outcomes: Vec<SyncOutcome> = runs(&table, &user).await.into_iter().map(|r| r.outcome).collect();
        assert_eq!(outcomes, vec![SyncOutcome::Succeeded], "same instant: the later run record replaces the earlier");
    }
}

#[tokio::test]
async fn a_token_near_expiry_is_refreshed_and_stored_under_a_version_condition() {
    let (settled, pending) = sample();
    // Data endpoints accept only the refreshed token.
    let server = truelayer(&settled, &pending, "new-access").await;
    let (table, user, conn) = setup(|c| c.token_expiry = Some(now().plus_seconds(60))).await;
    let (_, v0) = connection(&table, &user, &conn).await;
    sync_connection(&table, &client(&server), &SyncSettings::default(), &user, &conn).await.unwrap();

    let token_calls: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/connect/token")
        .map(|r| String::from_utf8(r.body).unwrap())
        .collect();
    assert_eq!(token_calls.len(), 1);
    assert!(token_calls[0].contains("refresh_token=old-refresh") && token_calls[0].contains("client_id=test-client"));
    let (c, v) = connection(&table, &user, &conn).await;
    assert_eq!(c.access_token.as_deref(), Some("new-access"));
    assert_eq!(c.refresh_token.as_deref(), Some("new-refresh"));
    assert_eq!(c.token_expiry, Some(now().plus_seconds(3600)));
    assert_eq!(v, v0 + 2, "one write for the tokens, one for the sync result");
    assert_eq!(stored_transactions(&table, &user).await.len(), 16);
}

#[tokio::test]
async fn a_rejected_access_token_is_refreshed_once_and_retried() {
    let (settled, pending) = sample();
    let server = truelayer(&settled, &pending, "new-access").await;
    // The stored token looks valid but the API refuses it.
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer old-access"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(r#"{"error":"invalid_token"}"#, "application/json"))
        .mount(&server)
        .await;
    let (table, user, conn) = setup(|_| {}).await;
    sync_connection(&table, &client(&server), &SyncSettings::default(), &user, &conn).await.unwrap();
    let (c, _) = connection(&table, &user, &conn).await;
    assert_eq!(c.access_token.as_deref(), Some("new-access"));
    assert_eq!(stored_transactions(&table, &user).await.len(), 16);
}

#[tokio::test]
async fn invalid_grant_makes_the_connection_reconnect_required_and_not_due() {
    let (settled, pending) = sample();
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_raw(r#"{"error":"invalid_grant","error_description":"refresh token expired"}"#, "application/json"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let _ = (settled, pending);
    let (table, user, conn) = setup(|c| c.token_expiry = Some(now().plus_seconds(10))).await;
    let shard = keys::sync_due_pk(keys::sync_shard(&conn));
    let due = Query::index("system", keys::Index::Gsi1, shard).sort_key(SortKey::LessOrEqual(format!("{}~", now().plus_seconds(86_400))));
    assert_eq!(table.query_all_items(&due).await.unwrap().len(), 1, "due before");

    let err = sync_connection(&table, &client(&server), &SyncSettings::default(), &user, &conn).await.unwrap_err();
    assert!(matches!(&err, SyncError::ReconnectRequired { code } if code == "invalid_grant"), "{err:?}");
    assert!(!err.is_retryable());
    let (c, _) = connection(&table, &user, &conn).await;
    assert_eq!(c.status, ConnectionStatus::ReconnectRequired);
    assert_eq!(c.next_sync, None);
    assert_eq!(c.last_error.as_ref().map(|e| e.code.as_str()), Some("invalid_grant"));
    assert_eq!(c.access_token.as_deref(), Some("old-access"), "tokens untouched");
    assert!(table.query_all_items(&due).await.unwrap().is_empty(), "out of the sparse due index");
    assert!(stored_transactions(&table, &user).await.is_empty());
    assert_eq!(runs(&table, &user).await.into_iter().map(|r| r.outcome).collect::<Vec<_>>(), vec![SyncOutcome::ReconnectRequired]);
    // And a later sync does not touch the provider.
    assert!(matches!(sync_connection(&table, &client(&server), &SyncSettings::default(), &user, &conn).await, Err(SyncError::NotSyncable)));
}

#[tokio::test]
async fn expired_consent_is_reconnect_required_without_calling_the_provider() {
    let server = MockServer::start().await;
    let (table, user, conn) = setup(|c| c.consent.expires_at = Some(now().plus_seconds(-1))).await;
    let err = sync_connection(&table, &client(&server), &SyncSettings::default(), &user, &conn).await.unwrap_err();
    assert!(matches!(&err, SyncError::ReconnectRequired { code } if code == "consent_expired"), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
    assert_eq!(connection(&table, &user, &conn).await.0.status, ConnectionStatus::ReconnectRequired);
}

#[tokio::test]
async fn rate_limits_are_retried_with_backoff_then_succeed() {
    let (settled, pending) = sample();
    let server = truelayer(&settled, &pending, "old-access").await;
    // The first two calls of the accounts endpoint are rate limited.
    Mock::given(method("GET"))
        .and(path("/data/v1/accounts"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0")
                .set_body_raw(r#"{"error":"too_many_requests"}"#, "application/json"),
        )
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    let (table, user, conn) = setup(|_| {}).await;
    let r = sync_connection(&table, &client(&server), &SyncSettings::default(), &user, &conn).await.unwrap();
    assert_eq!(r.transactions_written, 16);
    let account_calls = server.received_requests().await.unwrap().into_iter().filter(|r| r.url.path() == "/data/v1/accounts").count();
    assert_eq!(account_calls, 3, "two 429s, then the answer");
}

#[tokio::test]
async fn persistent_429_is_retryable_recorded_and_nothing_is_half_applied() {
    let (settled, pending) = sample();
    let server = truelayer(&settled, &pending, "old-access").await;
    // Accounts answer; the transactions endpoint stays rate limited.
    Mock::given(method("GET"))
        .and(path(format!("/data/v1/accounts/{ACC}/transactions")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "120")
                .set_body_raw(r#"{"error":"too_many_requests"}"#, "application/json"),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let (table, user, conn) = setup(|_| {}).await;
    let settings = SyncSettings::default();
    let err = sync_connection(&table, &client(&server), &settings, &user, &conn).await.unwrap_err();
    let SyncError::Retryable { code, next_sync } = &err else { panic!("{err:?}") };
    assert_eq!(code, "rate_limited");
    assert!(err.is_retryable());
    // Backoff: the first retry waits the larger of Retry-After and the base delay.
    assert_eq!(*next_sync, now().plus_seconds(300));
    let calls = server.received_requests().await.unwrap().into_iter().filter(|r| r.url.path().ends_with("/transactions")).count();
    assert_eq!(calls, 3, "bounded attempts inside the client");

    assert!(items(&table, &user, DATA, &[]).await.is_empty(), "no account, transaction or summary written");
    let (c, _) = connection(&table, &user, &conn).await;
    assert_eq!(c.status, ConnectionStatus::Error);
    assert_eq!(c.next_sync, Some(now().plus_seconds(300)));
    assert_eq!(c.last_error.as_ref().map(|e| (e.code.as_str(), e.retry_count)), Some(("rate_limited", 1)));
    assert_eq!((c.stats.sync_count, c.stats.error_count), (0, 1));

    // A second failure backs off further.
    let err = sync_connection(&table, &client(&server), &settings, &user, &conn).await.unwrap_err();
    assert!(matches!(err, SyncError::Retryable { next_sync, .. } if next_sync == now().plus_seconds(600)));
    assert_eq!(connection(&table, &user, &conn).await.0.last_error.unwrap().retry_count, 2);
}

#[tokio::test]
async fn the_due_index_finds_due_syncable_connections_and_a_sync_moves_them_on() {
    use expenzez_banking::memory::MemoryProvider;
    use expenzez_banking::schedule::{due_connections, run_jobs, SyncJob};
    let (table, user, due) = setup(|c| c.next_sync = Some(now().plus_seconds(-60))).await;
    let mut later = fresh_connection(&user, "conn-later");
    later.next_sync = Some(now().plus_seconds(3600));
    let mut broken = fresh_connection(&user, "conn-broken");
    broken.status = ConnectionStatus::ReconnectRequired;
    // Twenty other users, each with the (same) demo bank connected once: one
    // user's two grants of the same accounts would retire one another.
    let mut others: Vec<BankConnection> =
        (0..20).map(|n| fresh_connection(&UserId::new(format!("other-user-{n}")).unwrap(), &format!("c-{n}"))).collect();
    others.iter_mut().for_each(|c| c.next_sync = Some(now()));
    for c in &others {
        expenzez_tests::fixtures::open_account(&table, &c.user_id).await;
    }
    for c in [&later, &broken].into_iter().chain(others.iter()) {
        table.put(c, Condition::MustNotExist).await.unwrap();
    }

    let jobs = due_connections(&table, now(), 100).await.unwrap();
    let mut want: Vec<SyncJob> = std::iter::once(SyncJob { user_id: user.clone(), connection_id: due.clone() })
        .chain(others.iter().map(|c| SyncJob { user_id: c.user_id.clone(), connection_id: c.connection_id.clone() }))
        .collect();
    want.sort();
    assert_eq!(jobs, want, "due and syncable only, across every shard");

    let bank = MemoryProvider::demo(7, now(), 30);
    let batch: Vec<(String, SyncJob)> = jobs.into_iter().enumerate().map(|(i, j)| (format!("m-{i}"), j)).collect();
    assert!(run_jobs(&table, &bank, &SyncSettings::default(), batch).await.is_empty());
    assert!(due_connections(&table, now(), 100).await.unwrap().is_empty(), "synced: next due in four hours");
    let due_later = due_connections(&table, now().plus_seconds(4 * 3600), 100).await.unwrap();
    assert_eq!(due_later.len(), 1 + 20 + 1, "the synced ones and conn-later");
    assert!(!stored_transactions(&table, &user).await.is_empty());
}

#[tokio::test]
async fn the_worker_syncs_each_sqs_message_and_drops_malformed_ones() {
    use aws_lambda_events::event::sqs::SqsEvent;
    use expenzez_banking::lambda::work;
    use expenzez_banking::memory::MemoryProvider;
    let event: SqsEvent = serde_json::from_str(include_str!("../events/bank-sync-worker.json")).unwrap();
    let (table, user, _) = setup(|_| {}).await;
    let bank = MemoryProvider::demo(3, now(), 40);
    let response = work(&table, &bank, &SyncSettings::default(), event.clone()).await;
    assert!(response.batch_item_failures.is_empty());
    let synced = stored_transactions(&table, &user).await;
    assert!(synced.len() > 40, "{} transactions from the demo bank", synced.len());
    // Redelivery of the same message changes nothing.
    let before = items(&table, &user, DATA, &[]).await;
    assert!(work(&table, &bank, &SyncSettings::default(), event).await.batch_item_failures.is_empty());
    assert_eq!(items(&table, &user, DATA, &[]).await, before);
}

#[tokio::test]
async fn through_the_local_api_refresh_syncs_the_demo_bank_and_connected_lists_it() {
    use expenzez_tests::{send, ApiEnv};
    let env = ApiEnv::start().await;
    let u = env.user("banker", false).await;
    let user = UserId::new(u.sub.clone()).unwrap();
    env.table.put(&expenzez_banking::memory::demo_connection(&user, env.table.now()), Condition::MustNotExist).await.unwrap();

    let (s, _, b) = send(env.post(&u, "/banking/transactions/refresh", &serde_json::json!({}))).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["stats"]["totalTransactionsSynced"].as_u64().unwrap() > 100, "{b}");
    assert_eq!(b["stats"]["successfulAccounts"], 2);

    let (s, _, b) = send(env.get(&u, "/banking/connected")).await;
    assert_eq!(s, 200, "{b}");
    let banks = b["banks"].as_array().unwrap();
    assert_eq!(banks.len(), 2);
    assert!(banks.iter().all(|x| x["bankName"] == "Demo Bank" && x["status"] == "active" && x["isActive"] == true));
    assert!(banks.iter().all(|x| x["accountNumber"].as_str().unwrap().starts_with("****")), "masked: {b}");
    assert!(!b.to_string().contains("memory-access"), "no tokens in the answer");

    let (s, _, b) = send(env.get(&u, "/transactions?limit=5")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["transactions"].as_array().unwrap().len(), 5);

    // Rate-limited per connection: at once again is 429 with Retry-After.
    let (s, h, b) = send(env.post(&u, "/banking/transactions/refresh", &serde_json::json!({}))).await;
    assert_eq!(s, 429, "{b}");
    assert!(h.get("retry-after").is_some());
    // Unknown fields are refused before anything runs.
    let (s, _, _) = send(env.post(&u, "/banking/transactions/refresh", &serde_json::json!({"userId": "someone-else"}))).await;
    assert_eq!(s, 422);
    // Another user sees none of it.
    let other = env.user("stranger", false).await;
    let (s, _, b) = send(env.get(&other, "/banking/connected")).await;
    assert_eq!((s, b["banks"].as_array().unwrap().len()), (200, 0));
}

#[tokio::test]
async fn after_a_sync_the_raw_table_holds_no_plaintext_tokens_or_account_numbers() {
    use expenzez_tests::{all_bytes, scan_all};
    let (settled, pending) = sample();
    let server = truelayer(&settled, &pending, "new-access").await;
    // Near expiry: the sync refreshes and stores the provider's new tokens.
    let (table, user, conn) = setup(|c| c.token_expiry = Some(now().plus_seconds(60))).await;
    sync_connection(&table, &client(&server), &SyncSettings::default(), &user, &conn).await.unwrap();

    let mut bytes = Vec::new();
    for item in scan_all(&table).await {
        item.values().for_each(|v| all_bytes(v, &mut bytes));
    }
    for secret in ["new-access", "new-refresh", "old-access", "old-refresh", "12345678", "30-96-32", "GB35LOYD30963212345678"] {
        let s = secret.as_bytes();
        assert!(!bytes.iter().any(|b| b.windows(s.len()).any(|w| w == s)), "{secret} is stored in plaintext");
    }
    // Typed reads decrypt; the masks are plaintext for listing.
    let (c, _) = connection(&table, &user, &conn).await;
    assert_eq!((c.access_token.as_deref(), c.refresh_token.as_deref()), (Some("new-access"), Some("new-refresh")));
    let a = accounts(&table, &user).await.remove(0);
    assert_eq!((a.account_number.as_deref(), a.iban.as_deref()), (Some("12345678"), Some("GB35LOYD30963212345678")));
    assert_eq!(a.account_number_masked.as_deref(), Some("****5678"));
}

#[tokio::test]
async fn the_dispatcher_leases_and_sends_each_due_connection_once_and_a_refused_send_is_due_again_after_the_lease() {
    use expenzez_banking::lambda::{dispatch, LambdaError, DISPATCH_LEASE};
    use expenzez_banking::schedule::{due_connections, SyncJob};
    use expenzez_domain::Clock;
    let clock = Arc::new(FixedClock::new(now()));
    let table = fresh_table_with_clock(clock.clone()).await;
    let user = UserId::new("sync-user").unwrap();
    let mut later = fresh_connection(&user, "conn-later");
    later.next_sync = Some(now().plus_seconds(3600));
    let other = UserId::new("other-user").unwrap();
    let due: Vec<BankConnection> =
        std::iter::once(fresh_connection(&user, "conn-1")).chain((0..14).map(|n| fresh_connection(&other, &format!("c-{n}")))).collect();
    for c in due.iter().chain([&later]) {
        table.put(c, Condition::MustNotExist).await.unwrap();
    }
    let mut want: Vec<SyncJob> =
        due.iter().map(|c| SyncJob { user_id: c.user_id.clone(), connection_id: c.connection_id.clone() }).collect();
    want.sort();

    // The queue in moto's SQS; 15 due connections go out in two batches.
    let queue = expenzez_local_api::sync_queue::create(&format!("dispatch-{}", uuid::Uuid::new_v4().simple())).await.unwrap();
    // Receives until `n` messages arrived (and one more, empty, receive), deleting each.
    let receive = |n: usize| {
        let queue = queue.clone();
        async move {
            let mut got: Vec<SyncJob> = Vec::new();
            for _ in 0..20 {
                let r = queue
                    .client()
                    .receive_message()
                    .queue_url(queue.url())
                    .max_number_of_messages(10)
                    .wait_time_seconds(1)
                    .send()
                    .await
                    .unwrap();
                let messages = r.messages.unwrap_or_default();
                if messages.is_empty() && got.len() >= n {
                    break;
                }
                for m in messages {
                    got.push(serde_json::from_str(m.body().unwrap()).unwrap());
                    queue
                        .client()
                        .delete_message()
                        .queue_url(queue.url())
                        .receipt_handle(m.receipt_handle().unwrap())
                        .send()
                        .await
                        .unwrap();
                }
            }
            got.sort();
            got
        }
    };
    assert_eq!(dispatch(&table, &queue).await.unwrap(), 15);
    assert_eq!(receive(want.len()).await, want, "one message per due connection, nothing else");

    // The next tick, while those syncs are still queued: nothing is sent twice.
    clock.advance_seconds(15 * 60);
    assert_eq!(dispatch(&table, &queue).await.unwrap(), 0);
    assert!(receive(0).await.is_empty());
    // The lease wrote only nextSync and the index key: the tokens still open.
    let (c, _) = connection(&table, &user, &ConnectionId::new("conn-1").unwrap()).await;
    assert_eq!((c.access_token.as_deref(), c.refresh_token.as_deref()), (Some("old-access"), Some("old-refresh")));
    assert_eq!(c.next_sync, Some(now().plus_seconds(DISPATCH_LEASE.as_secs() as i64)));

    // Unsynced when the lease ends (the messages were lost): due again, and
    // the queue being gone fails the run visibly.
    clock.advance_seconds(DISPATCH_LEASE.as_secs() as i64 - 15 * 60);
    queue.client().delete_queue().queue_url(queue.url()).send().await.unwrap();
    assert!(matches!(dispatch(&table, &queue).await, Err(LambdaError::Queue(15))));
    clock.advance_seconds(DISPATCH_LEASE.as_secs() as i64);
    assert_eq!(due_connections(&table, clock.now(), 100).await.unwrap().len(), 16, "the 15 and conn-later");
}

#[tokio::test]
async fn connecting_the_same_bank_again_moves_its_accounts_and_retires_the_old_connection() {
    use expenzez_banking::memory::MemoryProvider;
    let (table, user, old) = setup(|_| {}).await;
    let bank = MemoryProvider::demo(5, now(), 30);
    let settings = SyncSettings::default();
    sync_connection(&table, &bank, &settings, &user, &old).await.unwrap();
    let ledger = [keys::prefix::TRANSACTION, keys::prefix::SUMMARY];
    let before = items(&table, &user, &ledger, &[]).await;

    // The bank drops the savings account from the new grant: the old
    // connection keeps it, so it stays.
    let savings = bank.edit(|a| {
        let k = a.keys().nth(1).unwrap().clone();
        a.remove(&k).unwrap()
    });
    table.put(&fresh_connection(&user, "conn-again"), Condition::MustNotExist).await.unwrap();
    let again = ConnectionId::new("conn-again").unwrap();
    sync_connection(&table, &bank, &settings, &user, &again).await.unwrap();
    let owners: Vec<(String, String)> = accounts(&table, &user)
        .await
        .into_iter()
        .map(|a| (a.account_id.as_str().to_string(), a.connection_id.as_str().to_string()))
        .collect();
    assert_eq!(owners, [("demo-acc-5-0".into(), "conn-again".into()), ("demo-acc-5-1".into(), "conn-1".into())]);
    assert!(table.get_consistent::<BankConnection>(&ItemKey::BankConnection(user.clone(), old.clone())).await.unwrap().is_some());

    // A third grant covering both: both older connections are retired, their tokens gone.
    bank.edit(|a| a.insert(savings.account.account_id.clone(), savings));
    table.put(&fresh_connection(&user, "conn-third"), Condition::MustNotExist).await.unwrap();
    let third = ConnectionId::new("conn-third").unwrap();
    sync_connection(&table, &bank, &settings, &user, &third).await.unwrap();
    for gone in [&old, &again] {
        assert!(table.get_consistent::<BankConnection>(&ItemKey::BankConnection(user.clone(), gone.clone())).await.unwrap().is_none());
    }
    assert!(accounts(&table, &user).await.iter().all(|a| a.connection_id == third));
    assert_eq!(bank.revoked(), ["old-access", "old-access"], "both superseded grants revoked");
    // The same transactions and summaries, item for item: a reconnect duplicates nothing.
    assert_eq!(items(&table, &user, &ledger, &[]).await, before);
}

#[tokio::test]
async fn the_sync_writes_nothing_for_a_deleted_account() {
    use expenzez_banking::memory::MemoryProvider;
    use expenzez_banking::schedule::{run_jobs, SyncJob};
    let (table, user, conn) = setup(|_| {}).await;
    // The account is deleted (its profile goes first) while a sync job waits in the queue.
    table.delete(&ItemKey::Profile(user.clone()), Condition::None).await.unwrap();
    let bank = MemoryProvider::demo(7, now(), 30);
    let err = sync_connection(&table, &bank, &SyncSettings::default(), &user, &conn).await.unwrap_err();
    assert!(matches!(&err, SyncError::Store(e) if e.is_account_closed()), "{err:?}");
    let job = SyncJob { user_id: user.clone(), connection_id: conn.clone() };
    assert!(run_jobs(&table, &bank, &SyncSettings::default(), vec![("m-1".into(), job)]).await.is_empty(), "dropped, not redelivered");
    assert!(stored_transactions(&table, &user).await.is_empty());
    assert!(accounts(&table, &user).await.is_empty());
    assert!(runs(&table, &user).await.is_empty());
    let q = Query::table(user.as_str(), keys::user_pk(&user)).begins_with(keys::prefix::SUMMARY);
    assert!(table.query_all_items(&q).await.unwrap().is_empty());
}
