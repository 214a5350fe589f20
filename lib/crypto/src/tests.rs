//! The cipher without any server (local key provider, fixed clock).

use super::*;
use async_trait::async_trait;
use expenzez_domain::{Clock, FixedClock, SystemClock, Timestamp};
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const CTX: FieldContext<'static> = FieldContext { pk: "USER#u-1", sk: "BANK#c-1", attribute: "accessToken" };

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(Timestamp::parse("2025-08-20T10:00:00Z").unwrap()))
}

fn counting_cipher(settings: CacheSettings, clock: Arc<dyn Clock>) -> (Arc<CountingProvider<LocalKeyProvider>>, FieldCipher) {
    let provider = Arc::new(CountingProvider::new(LocalKeyProvider::random()));
    let cipher = FieldCipher::new(provider.clone(), settings, clock);
    (provider, cipher)
}

fn cipher() -> FieldCipher {
    counting_cipher(CacheSettings::default(), Arc::new(SystemClock)).1
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(f)
}

fn edk(stored: &[u8]) -> Vec<u8> {
    Envelope::parse(stored).unwrap().encrypted_key.to_vec()
}

#[tokio::test]
async fn round_trip_with_a_fresh_nonce_each_time() {
    let c = cipher();
    let a = c.encrypt_str(CTX, "tok-123").await.unwrap();
    let b = c.encrypt_str(CTX, "tok-123").await.unwrap();
    assert_ne!(a, b, "a fresh nonce per value");
    assert_eq!(edk(&a), edk(&b), "one data key while it is fresh");
    assert_eq!(c.decrypt_string(CTX, &a).await.unwrap(), "tok-123");
    assert_eq!(c.decrypt_string(CTX, &b).await.unwrap(), "tok-123");
    assert_eq!(c.decrypt_string(CTX, &c.encrypt_str(CTX, "").await.unwrap()).await.unwrap(), "");
    let env = Envelope::parse(&a).unwrap();
    assert_eq!((env.version, env.nonce.len(), env.ciphertext.len()), (FORMAT_V1, 12, "tok-123".len() + 16));
    assert!(!a.windows(7).any(|w| w == b"tok-123"));
}

#[tokio::test]
async fn a_value_moved_to_another_item_user_or_attribute_fails() {
    let c = cipher();
    let stored = c.encrypt_str(CTX, "tok-123").await.unwrap();
    for other in [
        FieldContext { sk: "BANK#c-2", ..CTX },
        FieldContext { pk: "USER#u-2", ..CTX },
        FieldContext { attribute: "refreshToken", ..CTX },
        // Length prefixes: shifting a character between PK and SK is another context.
        FieldContext { pk: "USER#u-1B", sk: "ANK#c-1", ..CTX },
    ] {
        assert_eq!(c.decrypt(other, &stored).await.unwrap_err(), CryptoError::Integrity, "{other:?}");
    }
}

#[tokio::test]
async fn every_tampered_byte_is_refused_without_panic() {
    let c = cipher();
    let stored = c.encrypt_str(CTX, "tok-123").await.unwrap();
    for i in 0..stored.len() {
        let mut bad = stored.clone();
        bad[i] ^= 0x01;
        let err = c.decrypt(CTX, &bad).await.unwrap_err();
        assert!(err.is_integrity(), "byte {i}: {err}");
        assert!(!err.is_unavailable());
    }
    assert_eq!(c.decrypt(CTX, &[]).await.unwrap_err(), CryptoError::Malformed("empty"));
    assert_eq!(c.decrypt(CTX, &[9, 0, 1]).await.unwrap_err(), CryptoError::UnsupportedVersion(9));
    for len in 0..stored.len() {
        assert!(c.decrypt(CTX, &stored[..len]).await.unwrap_err().is_integrity(), "truncated to {len}");
    }
}

#[tokio::test]
async fn a_wrong_key_fails_integrity() {
    let writer = cipher();
    let stored = writer.encrypt_str(CTX, "tok-123").await.unwrap();
    let other_key = cipher();
    assert_eq!(other_key.decrypt(CTX, &stored).await.unwrap_err(), CryptoError::Integrity);
    // A data key from elsewhere spliced in: the provider opens it, AES-GCM does not.
    let mut spliced = other_key.encrypt_str(CTX, "x").await.unwrap();
    let own = Envelope::parse(&stored).unwrap();
    let theirs = Envelope::parse(&spliced).unwrap();
    spliced = [&spliced[..3 + theirs.encrypted_key.len()], own.nonce, own.ciphertext].concat();
    assert_eq!(other_key.decrypt(CTX, &spliced).await.unwrap_err(), CryptoError::Integrity);
}

#[tokio::test]
async fn a_data_key_is_replaced_after_max_uses() {
    let settings = CacheSettings { max_uses: 3, ..CacheSettings::default() };
    let (calls, c) = counting_cipher(settings, clock());
    let mut keys = Vec::new();
    for i in 0..7 {
        keys.push(edk(&c.encrypt_str(CTX, &format!("v{i}")).await.unwrap()));
    }
    assert_eq!(calls.calls().generate_data_key, 3);
    assert!(keys[0] == keys[2] && keys[2] != keys[3] && keys[3] == keys[5] && keys[5] != keys[6]);
    // Everything it wrote reads back without a Decrypt call.
    assert_eq!(calls.calls().decrypt_data_key, 0);
}

#[tokio::test]
async fn a_data_key_is_replaced_after_max_age() {
    let clock = clock();
    let (calls, c) = counting_cipher(CacheSettings::default(), clock.clone());
    let first = c.encrypt_str(CTX, "a").await.unwrap();
    clock.advance_seconds(299);
    let second = c.encrypt_str(CTX, "b").await.unwrap();
    assert_eq!((calls.calls().generate_data_key, edk(&first) == edk(&second)), (1, true));
    clock.advance_seconds(2);
    let third = c.encrypt_str(CTX, "c").await.unwrap();
    assert_eq!(calls.calls().generate_data_key, 2);
    assert_ne!(edk(&first), edk(&third));
    // The old key's cached copy expired too: reading `first` asks the provider once.
    assert_eq!(c.decrypt_string(CTX, &first).await.unwrap(), "a");
    assert_eq!(c.decrypt_string(CTX, &second).await.unwrap(), "b");
    assert_eq!(calls.calls().decrypt_data_key, 1);
}

#[tokio::test]
async fn decrypted_keys_are_cached_bounded_by_count_and_age() {
    let clock = clock();
    let provider = Arc::new(CountingProvider::new(LocalKeyProvider::random()));
    let one_use = CacheSettings { max_uses: 1, ..CacheSettings::default() };
    let writer = FieldCipher::new(provider.clone(), one_use, clock.clone());
    let mut values = Vec::new();
    for i in 0..3 {
        values.push(writer.encrypt_str(CTX, &format!("v{i}")).await.unwrap());
    }
    let settings = CacheSettings { decrypt_capacity: 2, decrypt_max_age: Duration::from_secs(60), ..CacheSettings::default() };
    let reader = FieldCipher::new(provider.clone(), settings, clock.clone());
    let decrypts = || provider.calls().decrypt_data_key;
    for v in &values {
        reader.decrypt(CTX, v).await.unwrap();
        clock.advance_seconds(1);
    }
    assert_eq!((decrypts(), reader.cached_keys()), (3, 2));
    reader.decrypt(CTX, &values[2]).await.unwrap();
    assert_eq!(decrypts(), 3, "newest is cached");
    reader.decrypt(CTX, &values[0]).await.unwrap();
    assert_eq!(decrypts(), 4, "oldest was evicted");
    clock.advance_seconds(61);
    reader.decrypt(CTX, &values[0]).await.unwrap();
    assert_eq!(decrypts(), 5, "expired by age");
    for _ in 0..1000 {
        reader.decrypt(CTX, &values[0]).await.unwrap();
    }
    assert_eq!(decrypts(), 5);
}

#[tokio::test]
async fn concurrent_first_writers_and_readers_make_one_call_each() {
    let (calls, c) = counting_cipher(CacheSettings::default(), clock());
    let c = Arc::new(c);
    let stored = futures::future::join_all((0..50).map(|i| {
        let c = c.clone();
        async move { c.encrypt_str(CTX, &format!("v{i}")).await.unwrap() }
    }))
    .await;
    assert_eq!(calls.calls().generate_data_key, 1);
    let reader = FieldCipher::new(calls.clone(), CacheSettings::default(), clock());
    let reader = &reader;
    futures::future::join_all(stored.iter().map(|s| async move { reader.decrypt(CTX, s).await.unwrap() })).await;
    assert_eq!(calls.calls().decrypt_data_key, 1);
}

/// A provider that is down.
#[derive(Debug)]
struct Down;

#[async_trait]
impl KeyProvider for Down {
    fn name(&self) -> &'static str {
        "down"
    }
    async fn generate_data_key(&self) -> Result<DataKey, CryptoError> {
        Err(CryptoError::Unavailable { provider: "down", op: "GenerateDataKey", detail: "connection failed".into() })
    }
    async fn decrypt_data_key(&self, _: &[u8]) -> Result<PlainKey, CryptoError> {
        Err(CryptoError::Unavailable { provider: "down", op: "Decrypt", detail: "connection failed".into() })
    }
}

#[tokio::test]
async fn an_unavailable_provider_is_reported_as_such() {
    let c = FieldCipher::new(Arc::new(Down), CacheSettings::default(), clock());
    assert!(c.encrypt_str(CTX, "x").await.unwrap_err().is_unavailable());
    let stored = cipher().encrypt_str(CTX, "x").await.unwrap();
    let err = c.decrypt(CTX, &stored).await.unwrap_err();
    assert!(err.is_unavailable() && !err.is_integrity());
}

#[tokio::test]
async fn nothing_secret_reaches_debug_or_messages() {
    let key = [7u8; 32];
    let p = LocalKeyProvider::new(&key).unwrap();
    let dk = p.generate_data_key().await.unwrap();
    let shown = format!("{p:?} {dk:?} {:?}", dk.plaintext);
    assert!(!shown.contains("7, 7") && !shown.contains(&format!("{:?}", dk.plaintext.expose())), "{shown}");
    let c = FieldCipher::new(Arc::new(p), CacheSettings::default(), clock());
    let stored = c.encrypt_str(CTX, "tok-secret").await.unwrap();
    let shown = format!("{c:?}");
    assert!(shown.contains("LocalKeyProvider") && !shown.contains("tok-secret"), "{shown}");
    let err = c.decrypt(FieldContext { attribute: "iban", ..CTX }, &stored).await.unwrap_err();
    assert!(!format!("{err} {err:?}").contains("tok-secret"));
    assert!(LocalKeyProvider::new(&key[..31]).is_err());
}

fn shared() -> &'static FieldCipher {
    static C: OnceLock<FieldCipher> = OnceLock::new();
    C.get_or_init(cipher)
}

fn context() -> impl Strategy<Value = (String, String, String)> {
    ("[A-Z]{1,8}#[a-z0-9-]{0,20}", "[A-Z]{1,8}#[ -~]{0,30}", "[a-zA-Z]{1,16}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_string_round_trips(value in any::<String>(), (pk, sk, attr) in context()) {
        let ctx = FieldContext::new(&pk, &sk, &attr);
        let stored = block_on(shared().encrypt_str(ctx, &value)).unwrap();
        prop_assert_eq!(block_on(shared().decrypt_string(ctx, &stored)).unwrap(), value);
    }

    #[test]
    fn any_other_context_fails(value in "[ -~]{0,64}", a in context(), b in context()) {
        prop_assume!(a != b);
        let stored = block_on(shared().encrypt_str(FieldContext::new(&a.0, &a.1, &a.2), &value)).unwrap();
        let err = block_on(shared().decrypt(FieldContext::new(&b.0, &b.1, &b.2), &stored)).unwrap_err();
        prop_assert_eq!(err, CryptoError::Integrity);
    }

    #[test]
    fn swapping_one_part_fails(value in "[ -~]{0,64}", (pk, sk, attr) in context(), which in 0..3usize, other in "[a-zA-Z#0-9]{1,12}") {
        let stored = block_on(shared().encrypt_str(FieldContext::new(&pk, &sk, &attr), &value)).unwrap();
        let mut parts = [pk.clone(), sk.clone(), attr.clone()];
        prop_assume!(parts[which] != other);
        parts[which] = other;
        let err = block_on(shared().decrypt(FieldContext::new(&parts[0], &parts[1], &parts[2]), &stored)).unwrap_err();
        prop_assert_eq!(err, CryptoError::Integrity);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let err = block_on(shared().decrypt(CTX, &bytes)).unwrap_err();
        prop_assert!(err.is_integrity());
    }
}
