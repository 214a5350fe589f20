//! Field encryption (SPEC §5) through the store, against DynamoDB Local and
//! the local KMS endpoint (moto) that `make test` starts.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use expenzez_crypto::{CacheSettings, CryptoError, Envelope, FieldCipher, KmsKeyProvider, LocalKeyProvider};
use expenzez_domain::entities::*;
use expenzez_domain::keys::{self, ItemKey};
use expenzez_domain::{mask, Clock, FixedClock, SystemClock, Timestamp};
use expenzez_store::{Condition, Item, Query, StoreError, Table, TxAction};
use expenzez_tests::fixtures::*;
use expenzez_tests::{find_anywhere, fresh_table_without_cipher, kms_cipher, kms_key, scan_all, sdk_config};
use std::sync::Arc;

fn fixed_clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(Timestamp::parse("2025-08-20T10:00:00Z").unwrap()))
}

/// A table whose handle encrypts with a fresh KMS key (counted).
async fn kms_table(clock: Arc<dyn Clock>) -> (Table, Arc<expenzez_crypto::CountingProvider<KmsKeyProvider>>) {
    let (kms, key_id) = kms_key().await;
    let (calls, cipher) = kms_cipher(&kms, &key_id, CacheSettings::default(), clock.clone());
    (fresh_table_without_cipher(clock).await.with_cipher(cipher), calls)
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Distinct, unmistakable restricted values for one connection.
fn connection_with_tokens(u: &expenzez_domain::ids::UserId, id: &str) -> BankConnection {
    BankConnection { access_token: Some(unique("at")), refresh_token: Some(unique("rt")), ..connection(u, id) }
}

fn digits(n: usize) -> String {
    // Leading 9s: no balance or count in the fixtures looks like these.
    let u = uuid::Uuid::new_v4().as_u128();
    format!("99{:0width$}", u % 10u128.pow(n as u32 - 2), width = n - 2)
}

fn account_with_numbers(u: &expenzez_domain::ids::UserId, id: &str) -> BankAccount {
    let number = digits(8);
    let sort = digits(6);
    let mut a = BankAccount {
        account_number: Some(number.clone()),
        sort_code: Some(format!("{}-{}-{}", &sort[..2], &sort[2..4], &sort[4..])),
        iban: Some(format!("GB{}TEST{}{}", &digits(4)[2..], sort, number)),
        ..account(u, id)
    };
    a.set_masks();
    a
}

fn restricted_values_of_connection(c: &BankConnection) -> Vec<String> {
    [&c.access_token, &c.refresh_token].into_iter().flatten().cloned().collect()
}

fn restricted_values_of_account(a: &BankAccount) -> Vec<String> {
    let mut v: Vec<String> = [&a.account_number, &a.sort_code, &a.iban].into_iter().flatten().cloned().collect();
    if let Some(s) = &a.sort_code {
        v.push(s.replace('-', ""));
    }
    v
}

async fn raw_item(t: &Table, key: &ItemKey) -> Item {
    let k = key.key();
    t.client()
        .get_item()
        .table_name(t.name())
        .key(keys::PK, AttributeValue::S(k.pk))
        .key(keys::SK, AttributeValue::S(k.sk))
        .send()
        .await
        .unwrap()
        .item
        .expect("item is there")
}

fn blob(item: &Item, attr: &str) -> Vec<u8> {
    item.get(attr).and_then(|v| v.as_b().ok()).unwrap_or_else(|| panic!("{attr} is not Binary: {:?}", item.get(attr))).as_ref().to_vec()
}

/// What an attacker with write access to the table (not to the key) can do:
/// put any bytes into any attribute.
async fn raw_set(t: &Table, key: &ItemKey, attr: &str, bytes: Vec<u8>) {
    let k = key.key();
    t.client()
        .update_item()
        .table_name(t.name())
        .key(keys::PK, AttributeValue::S(k.pk))
        .key(keys::SK, AttributeValue::S(k.sk))
        .update_expression("SET #a = :v")
        .expression_attribute_names("#a", attr)
        .expression_attribute_values(":v", AttributeValue::B(Blob::new(bytes)))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn kms_round_trip_through_the_store() {
    let (t, calls) = kms_table(Arc::new(SystemClock)).await;
    let u = user("u-kms");
    let c = connection_with_tokens(&u, "conn-1");
    let a = account_with_numbers(&u, "acc-1");
    t.put(&c, Condition::MustNotExist).await.unwrap();
    t.put(&a, Condition::MustNotExist).await.unwrap();
    assert_eq!(t.get::<BankConnection>(&c.item_key()).await.unwrap().unwrap().value, c);
    assert_eq!(t.get::<BankAccount>(&a.item_key()).await.unwrap().unwrap().value, a);

    let raw = raw_item(&t, &c.item_key()).await;
    let env_bytes = blob(&raw, "accessToken");
    let env = Envelope::parse(&env_bytes).unwrap();
    assert_eq!(env.version, 1);
    assert!(env.encrypted_key.len() > 32, "a KMS ciphertext blob");
    assert_ne!(blob(&raw, "accessToken"), blob(&raw, "refreshToken"));
    let raw = raw_item(&t, &a.item_key()).await;
    for attr in ["accountNumber", "sortCode", "iban"] {
        blob(&raw, attr);
    }
    assert_eq!(raw["accountNumberMasked"].as_s().unwrap(), a.account_number_masked.as_deref().unwrap());
    assert_eq!(calls.calls().generate_data_key, 1);
    assert_eq!(calls.calls().decrypt_data_key, 0, "what this instance wrote it reads from its cache");
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_item_user_or_field_fails() {
    let (t, _) = kms_table(Arc::new(SystemClock)).await;
    let (alice, bob) = (user("u-alice"), user("u-bob"));
    let a1 = connection_with_tokens(&alice, "conn-1");
    let a2 = connection_with_tokens(&alice, "conn-2");
    let b1 = connection_with_tokens(&bob, "conn-1"); // same connection id, another user
    let acc = account_with_numbers(&alice, "acc-1");
    for c in [&a1, &a2, &b1] {
        t.put(c, Condition::None).await.unwrap();
    }
    t.put(&acc, Condition::None).await.unwrap();
    let stolen = blob(&raw_item(&t, &a1.item_key()).await, "accessToken");

    // Another item of the same user.
    raw_set(&t, &a2.item_key(), "accessToken", stolen.clone()).await;
    let err = t.get::<BankConnection>(&a2.item_key()).await.unwrap_err();
    assert!(err.is_integrity() && !err.is_unavailable() && !err.is_retryable(), "{err}");
    assert!(matches!(err, StoreError::Crypto(CryptoError::Integrity)));

    // Another user's item with the same connection id.
    raw_set(&t, &b1.item_key(), "accessToken", stolen.clone()).await;
    assert!(t.get::<BankConnection>(&b1.item_key()).await.unwrap_err().is_integrity());

    // Another field of the same item.
    raw_set(&t, &a1.item_key(), "refreshToken", stolen.clone()).await;
    let err = t.get::<BankConnection>(&a1.item_key()).await.unwrap_err();
    assert!(err.is_integrity());
    let number = blob(&raw_item(&t, &acc.item_key()).await, "accountNumber");
    raw_set(&t, &acc.item_key(), "sortCode", number).await;
    assert!(t.get::<BankAccount>(&acc.item_key()).await.unwrap_err().is_integrity());

    // Every way of reading refuses, and no message carries a value.
    let q = Query::table(alice.as_str(), keys::user_pk(&alice)).begins_with(keys::prefix::BANK);
    let err = t.query::<BankConnection>(&q).await.unwrap_err();
    assert!(err.is_integrity());
    let err = t.batch_get::<BankConnection>(&[a2.item_key()]).await.unwrap_err();
    assert!(err.is_integrity());
    for e in [&err, &t.get::<BankConnection>(&a1.item_key()).await.unwrap_err()] {
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(a1.access_token.as_deref().unwrap()) && !shown.contains("rt-"), "{shown}");
    }

    // A tampered byte or a garbled value is an integrity error too, never a panic.
    let mut tampered = blob(&raw_item(&t, &b1.item_key()).await, "refreshToken");
    let last = tampered.len() - 1;
    tampered[last] ^= 0x80;
    raw_set(&t, &b1.item_key(), "refreshToken", tampered).await;
    raw_set(&t, &b1.item_key(), "accessToken", b"\x01\x00".to_vec()).await;
    assert!(t.get::<BankConnection>(&b1.item_key()).await.unwrap_err().is_integrity());

    // Listing with the masks only still works: nothing restricted is opened.
    let listed = t.query_redacted::<BankConnection>(&q).await.unwrap();
    assert_eq!(listed.items.len(), 2);
    assert!(listed.items.iter().all(|c| c.value.access_token.is_none() && c.value.refresh_token.is_none()));
}

#[tokio::test]
async fn a_wrong_key_fails() {
    let (t, _) = kms_table(Arc::new(SystemClock)).await;
    let u = user("u-wrongkey");
    let c = connection_with_tokens(&u, "conn-1");
    t.put(&c, Condition::None).await.unwrap();

    // Another KMS key. KMS answers IncorrectKeyException (an integrity error)
    // for a blob of another key when Decrypt names the key; moto answers
    // AccessDeniedException (refused). Either way: an error, never retried,
    // never a value.
    let (kms, other_key) = kms_key().await;
    let (_, other) = kms_cipher(&kms, &other_key, CacheSettings::default(), Arc::new(SystemClock));
    let err = t.with_cipher(other).get::<BankConnection>(&c.item_key()).await.unwrap_err();
    assert!(!err.is_unavailable() && !err.is_retryable(), "{err}");
    assert!(
        err.is_integrity() || matches!(&err, StoreError::Crypto(CryptoError::Refused { code, .. }) if code == "AccessDeniedException"),
        "{err:?}"
    );

    // A local key reading KMS-wrapped data keys, and another local key.
    let local = |p: LocalKeyProvider| Arc::new(FieldCipher::new(Arc::new(p), CacheSettings::default(), Arc::new(SystemClock)));
    let err = t.with_cipher(local(LocalKeyProvider::random())).get::<BankConnection>(&c.item_key()).await.unwrap_err();
    assert!(err.is_integrity(), "{err}");
    let writer = t.with_cipher(local(LocalKeyProvider::random()));
    let c2 = connection_with_tokens(&u, "conn-2");
    writer.put(&c2, Condition::None).await.unwrap();
    let err = t.with_cipher(local(LocalKeyProvider::random())).get::<BankConnection>(&c2.item_key()).await.unwrap_err();
    assert_eq!(err.to_string(), StoreError::Crypto(CryptoError::Integrity).to_string());
    // The right keys still read both.
    assert_eq!(t.get::<BankConnection>(&c.item_key()).await.unwrap().unwrap().value, c);
    assert_eq!(writer.get::<BankConnection>(&c2.item_key()).await.unwrap().unwrap().value, c2);
}

#[tokio::test]
async fn kms_unreachable_is_unavailable_and_writes_nothing() {
    let (good, _) = kms_table(Arc::new(SystemClock)).await;
    let u = user("u-down");
    let existing = connection_with_tokens(&u, "conn-0");
    good.put(&existing, Condition::None).await.unwrap();

    // A KMS endpoint on a port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let conf = aws_sdk_kms::config::Builder::from(&sdk_config().await)
        .endpoint_url(format!("http://127.0.0.1:{closed}"))
        .retry_config(aws_sdk_kms::config::retry::RetryConfig::standard().with_max_attempts(2))
        .build();
    let down = KmsKeyProvider::new(aws_sdk_kms::Client::from_conf(conf), "alias/expenzez-test");
    let cipher = Arc::new(FieldCipher::new(Arc::new(down), CacheSettings::default(), Arc::new(SystemClock)));
    let t = good.with_cipher(cipher);

    let c = connection_with_tokens(&u, "conn-1");
    let err = t.put(&c, Condition::MustNotExist).await.unwrap_err();
    assert!(err.is_unavailable() && err.is_retryable() && !err.is_integrity(), "{err}");
    assert_eq!(err.to_string(), "kms GenerateDataKey: key provider unavailable (connection failed)");
    assert!(t.tx_put(&account_with_numbers(&u, "acc-1"), Condition::MustNotExist).await.unwrap_err().is_unavailable());
    let accounts: Vec<BankAccount> = (0..30).map(|i| account_with_numbers(&u, &format!("acc-{i}"))).collect();
    assert!(t.batch_put(&accounts).await.unwrap_err().is_unavailable());
    // Reading needs Decrypt: unavailable too; so is a read-modify-write, which changes nothing.
    assert!(t.get::<BankConnection>(&existing.item_key()).await.unwrap_err().is_unavailable());
    let err = t
        .update::<BankConnection, _>(&existing.item_key(), |c| {
            c.access_token = Some("new".into());
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(err.is_unavailable());
    // Entities without restricted values do not need KMS at all.
    t.put(&transaction(&u, "t-1", "2025-08-01T00:00:00Z", "groceries", -100), Condition::None).await.unwrap();

    let items = scan_all(&t).await;
    let mut keys: Vec<String> = items.iter().map(|i| Table::key_of(i).unwrap().sk).collect();
    keys.sort();
    assert_eq!(keys, ["BANK#conn-0", "TRANSACTION#t-1"], "nothing restricted was written");
    assert_eq!(
        good.get::<BankConnection>(&existing.item_key()).await.unwrap().unwrap(),
        expenzez_store::Versioned { value: existing, version: 1 }
    );
}

#[tokio::test]
async fn a_raw_scan_holds_no_restricted_plaintext() {
    let (t, _) = kms_table(Arc::new(SystemClock)).await;
    let u = user("u-scan");
    let mut plaintexts = Vec::new();
    let mut accounts = Vec::new();

    // put
    let c1 = connection_with_tokens(&u, "conn-1");
    let a1 = account_with_numbers(&u, "acc-1");
    t.put(&c1, Condition::MustNotExist).await.unwrap();
    t.put(&a1, Condition::MustNotExist).await.unwrap();
    plaintexts.extend(restricted_values_of_connection(&c1));
    accounts.push(a1.clone());

    // update (read-modify-write): new tokens, as a token refresh does
    let refreshed = t
        .update::<BankConnection, _>(&c1.item_key(), |c| {
            c.access_token = Some(unique("at2"));
            c.refresh_token = Some(unique("rt2"));
            Ok(())
        })
        .await
        .unwrap();
    plaintexts.extend(restricted_values_of_connection(&refreshed.value));

    // batch_put
    let batch: Vec<BankAccount> = (0..30).map(|i| account_with_numbers(&u, &format!("acc-b{i}"))).collect();
    t.batch_put(&batch).await.unwrap();
    accounts.extend(batch.iter().cloned());

    // transact: a connection and its account with a plain transaction, all or nothing
    let c2 = connection_with_tokens(&u, "conn-2");
    let a2 = account_with_numbers(&u, "acc-2");
    let txn = transaction(&u, "t-1", "2025-08-01T00:00:00Z", "groceries", -100);
    t.transact(
        vec![
            t.tx_put(&c2, Condition::MustNotExist).await.unwrap(),
            t.tx_put(&a2, Condition::MustNotExist).await.unwrap(),
            TxAction::put(&txn, Condition::MustNotExist).unwrap(),
        ],
        None,
    )
    .await
    .unwrap();
    plaintexts.extend(restricted_values_of_connection(&c2));
    accounts.push(a2.clone());
    for a in &accounts {
        plaintexts.extend(restricted_values_of_account(a));
    }

    // Every read path gives the plaintext back.
    assert_eq!(t.get::<BankConnection>(&c1.item_key()).await.unwrap().unwrap().value, refreshed.value);
    assert_eq!(t.get_consistent::<BankConnection>(&c2.item_key()).await.unwrap().unwrap().value, c2);
    let q = Query::table(u.as_str(), keys::user_pk(&u)).begins_with(keys::prefix::ACCOUNT);
    let mut listed: Vec<BankAccount> = t.query::<BankAccount>(&q).await.unwrap().items.into_iter().map(|v| v.value).collect();
    listed.sort_by(|a, b| a.account_id.as_str().cmp(b.account_id.as_str()));
    let mut expected = accounts.clone();
    expected.sort_by(|a, b| a.account_id.as_str().cmp(b.account_id.as_str()));
    assert_eq!(listed, expected);
    let keys: Vec<ItemKey> = accounts.iter().map(Entity::item_key).collect();
    assert_eq!(t.batch_get::<BankAccount>(&keys).await.unwrap().into_iter().map(|v| v.value).collect::<Vec<_>>(), accounts);
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Numbers {
        account_number: String,
        iban_masked: String,
    }
    let projected = t.query_as::<Numbers>(&q.clone().project_as::<Numbers>()).await.unwrap().items;
    assert!(projected
        .iter()
        .any(|n| Some(&n.account_number) == a1.account_number.as_ref() && Some(&n.iban_masked) == a1.iban_masked.as_ref()));
    let raw_page = t.query_items(&q).await.unwrap();
    assert!(t.decode_item::<BankAccount>(raw_page.items[0].clone()).await.unwrap().value.account_number.is_some());

    // The raw table: no plaintext anywhere, restricted attributes are Binary,
    // masks are plaintext.
    let items = scan_all(&t).await;
    assert_eq!(items.len(), 2 + 2 + 30 + 1);
    for p in &plaintexts {
        let hits = find_anywhere(&items, p);
        assert!(hits.is_empty(), "a restricted value is stored in plaintext at {hits:?}");
    }
    for item in &items {
        let restricted: &[&str] = match item["entityType"].as_s().unwrap().as_str() {
            "BANK_CONNECTION" => BankConnection::RESTRICTED_FIELDS,
            "BANK_ACCOUNT" => BankAccount::RESTRICTED_FIELDS,
            _ => &[],
        };
        for attr in restricted {
            assert!(item[*attr].as_b().is_ok(), "{attr} is not a ciphertext");
        }
    }
    for a in &accounts {
        let raw = items.iter().find(|i| Table::key_of(i).unwrap() == a.item_key().key()).unwrap();
        assert_eq!(raw["accountNumberMasked"].as_s().unwrap(), &mask::account_number(a.account_number.as_deref().unwrap()));
        assert_eq!(raw["sortCodeMasked"].as_s().unwrap(), &mask::sort_code(a.sort_code.as_deref().unwrap()));
        assert_eq!(raw["ibanMasked"].as_s().unwrap(), &mask::iban(a.iban.as_deref().unwrap()));
    }
    // The search itself finds what is there.
    assert!(!find_anywhere(&items, a1.account_number_masked.as_deref().unwrap()).is_empty());
}

#[tokio::test]
async fn a_warm_cache_makes_a_handful_of_kms_calls() {
    let clock = fixed_clock();
    let (t, calls) = kms_table(clock.clone()).await;
    let u = user("u-warm");

    // 500 writes and 500 reads of connections (2 restricted fields each) ...
    let connections: Vec<BankConnection> = (0..500).map(|i| connection_with_tokens(&u, &format!("conn-{i:03}"))).collect();
    for c in &connections {
        t.put(c, Condition::None).await.unwrap();
    }
    for c in &connections {
        assert_eq!(&t.get::<BankConnection>(&c.item_key()).await.unwrap().unwrap().value, c);
    }
    // ... and 1,000 accounts (3 restricted fields each) batch-written and batch-read.
    let accounts: Vec<BankAccount> = (0..1000).map(|i| account_with_numbers(&u, &format!("acc-{i:04}"))).collect();
    t.batch_put(&accounts).await.unwrap();
    let keys: Vec<ItemKey> = accounts.iter().map(Entity::item_key).collect();
    assert_eq!(t.batch_get::<BankAccount>(&keys).await.unwrap().len(), 1000);
    let warm = calls.calls();
    assert_eq!((warm.generate_data_key, warm.decrypt_data_key), (1, 0), "warm instance, 4,000 encryptions and 4,000 decryptions: {warm:?}");

    // A cold instance (another Lambda) reading all of it: one Decrypt per data key.
    let cold_calls = Arc::new(expenzez_crypto::CountingProvider::new(calls.inner().clone()));
    let cold = t.with_cipher(Arc::new(FieldCipher::new(cold_calls.clone(), CacheSettings::default(), clock.clone())));
    for c in connections.iter().take(100) {
        cold.get::<BankConnection>(&c.item_key()).await.unwrap();
    }
    assert_eq!(cold.batch_get::<BankAccount>(&keys).await.unwrap().len(), 1000);
    assert_eq!((cold_calls.calls().generate_data_key, cold_calls.calls().decrypt_data_key), (0, 1), "cold instance reading 1,100 items");

    // Listing accounts for the app shows masks only: no KMS call at all.
    let listing = Arc::new(expenzez_crypto::CountingProvider::new(calls.inner().clone()));
    let lister = t.with_cipher(Arc::new(FieldCipher::new(listing.clone(), CacheSettings::default(), clock)));
    let q = Query::table(u.as_str(), keys::user_pk(&u)).begins_with(keys::prefix::ACCOUNT).limit(100);
    let page = lister.query_redacted::<BankAccount>(&q).await.unwrap();
    assert_eq!(page.items.len(), 100);
    assert!(page.items.iter().all(|a| a.value.account_number.is_none() && a.value.account_number_masked.is_some()));
    assert_eq!(listing.calls().total(), 0);
}

#[tokio::test]
async fn after_max_age_a_new_data_key_is_used() {
    let clock = fixed_clock();
    let (t, calls) = kms_table(clock.clone()).await;
    let u = user("u-age");
    let c1 = connection_with_tokens(&u, "conn-1");
    t.put(&c1, Condition::None).await.unwrap();
    let key_of = |item: &Item| Envelope::parse(&blob(item, "accessToken")).unwrap().encrypted_key.to_vec();
    let first = key_of(&raw_item(&t, &c1.item_key()).await);

    clock.advance_seconds(299);
    let c2 = connection_with_tokens(&u, "conn-2");
    t.put(&c2, Condition::None).await.unwrap();
    assert_eq!(key_of(&raw_item(&t, &c2.item_key()).await), first, "still fresh at 299 s");
    assert_eq!(calls.calls().generate_data_key, 1);

    clock.advance_seconds(2);
    let c3 = connection_with_tokens(&u, "conn-3");
    t.put(&c3, Condition::None).await.unwrap();
    assert_eq!(calls.calls().generate_data_key, 2, "a GenerateDataKey after 5 minutes");
    assert_ne!(key_of(&raw_item(&t, &c3.item_key()).await), first, "a new data key");

    // Old values still open: their data key is decrypted once (its cached copy aged out too).
    assert_eq!(t.get::<BankConnection>(&c1.item_key()).await.unwrap().unwrap().value, c1);
    assert_eq!(t.get::<BankConnection>(&c2.item_key()).await.unwrap().unwrap().value, c2);
    assert_eq!(t.get::<BankConnection>(&c3.item_key()).await.unwrap().unwrap().value, c3);
    assert_eq!(calls.calls().decrypt_data_key, 1);
}

#[tokio::test]
async fn the_cipher_is_built_from_the_environment() {
    let sdk = sdk_config().await;
    let (_, key_id) = kms_key().await;
    let vars = [("FIELD_KEY_PROVIDER", "kms".to_string()), ("FIELD_KMS_KEY_ID", key_id)];
    let config = expenzez_crypto::CipherConfig::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap();
    let cipher = Arc::new(config.build(&sdk, Arc::new(SystemClock)).unwrap());
    assert_eq!(cipher.provider_name(), "kms");
    let t = fresh_table_without_cipher(Arc::new(SystemClock)).await.with_cipher(cipher);
    let c = connection_with_tokens(&user("u-env"), "conn-1");
    t.put(&c, Condition::None).await.unwrap();
    assert_eq!(t.get::<BankConnection>(&c.item_key()).await.unwrap().unwrap().value, c);
}
