//! Envelope encryption of one attribute value.
//!
//! Format version 1 (all integers big-endian):
//!
//! ```text
//! version: u8 = 1 | key_len: u16 | encrypted data key: key_len bytes | nonce: 12 bytes | ciphertext + GCM tag (16 bytes)
//! ```
//!
//! The associated data is the version byte, then the item's `PK`, its `SK`
//! and the attribute name, each prefixed with its length (u32), so no two
//! (PK, SK, attribute) triples share an encoding and a value copied to
//! another item, user or attribute fails to authenticate.

use crate::error::CryptoError;
use crate::provider::{KeyProvider, PlainKey};
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use expenzez_domain::Clock;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use zeroize::{Zeroize, Zeroizing};

/// The only format this code writes.
pub const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Where a value lives: what its ciphertext is bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldContext<'a> {
    pub pk: &'a str,
    pub sk: &'a str,
    pub attribute: &'a str,
}

impl<'a> FieldContext<'a> {
    pub fn new(pk: &'a str, sk: &'a str, attribute: &'a str) -> Self {
        Self { pk, sk, attribute }
    }

    fn aad(&self, version: u8) -> Vec<u8> {
        let parts = [self.pk, self.sk, self.attribute];
        let mut aad = Vec::with_capacity(1 + parts.iter().map(|p| 4 + p.len()).sum::<usize>());
        aad.push(version);
        for p in parts {
            // Attribute values are at most 400 KB: a u32 length always fits.
            aad.extend_from_slice(&(p.len() as u32).to_be_bytes());
            aad.extend_from_slice(p.as_bytes());
        }
        aad
    }
}

/// How long and how often data keys are reused (SPEC §5: a warm function
/// makes no KMS call per request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSettings {
    /// A data key encrypts for at most this long after it was generated.
    pub max_age: Duration,
    /// A data key encrypts at most this many values.
    pub max_uses: u64,
    /// Decrypted data keys kept at most (the oldest goes first).
    pub decrypt_capacity: usize,
    /// A decrypted data key is kept at most this long.
    pub decrypt_max_age: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self { max_age: Duration::from_secs(300), max_uses: 10_000, decrypt_capacity: 1_000, decrypt_max_age: Duration::from_secs(300) }
    }
}

/// A version-1 ciphertext taken apart (borrowing the bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub version: u8,
    /// The provider's encrypted data key.
    pub encrypted_key: &'a [u8],
    pub nonce: &'a [u8],
    /// Ciphertext followed by the 16-byte tag.
    pub ciphertext: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Splits a stored value into its parts; never panics on bad input.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, CryptoError> {
        let (&version, rest) = bytes.split_first().ok_or(CryptoError::Malformed("empty"))?;
        if version != FORMAT_V1 {
            return Err(CryptoError::UnsupportedVersion(version));
        }
        let (len, rest) = rest.split_at_checked(2).ok_or(CryptoError::Malformed("truncated header"))?;
        let key_len = u16::from_be_bytes([len[0], len[1]]) as usize;
        if key_len == 0 {
            return Err(CryptoError::Malformed("no data key"));
        }
        let (encrypted_key, rest) = rest.split_at_checked(key_len).ok_or(CryptoError::Malformed("truncated data key"))?;
        let (nonce, ciphertext) = rest.split_at_checked(NONCE_LEN).ok_or(CryptoError::Malformed("truncated nonce"))?;
        if ciphertext.len() < TAG_LEN {
            return Err(CryptoError::Malformed("truncated ciphertext"));
        }
        Ok(Self { version, encrypted_key, nonce, ciphertext })
    }

    fn to_bytes(self) -> Result<Vec<u8>, CryptoError> {
        let key_len = u16::try_from(self.encrypted_key.len()).map_err(|_| CryptoError::Malformed("data key too long"))?;
        let mut out = Vec::with_capacity(3 + self.encrypted_key.len() + self.nonce.len() + self.ciphertext.len());
        out.push(self.version);
        out.extend_from_slice(&key_len.to_be_bytes());
        out.extend_from_slice(self.encrypted_key);
        out.extend_from_slice(self.nonce);
        out.extend_from_slice(self.ciphertext);
        Ok(out)
    }
}

/// The data key values are encrypted with now.
struct CurrentKey {
    aead: Arc<Aes256Gcm>,
    encrypted: Arc<[u8]>,
    created_ms: i64,
    uses: u64,
}

/// A decrypted data key.
struct CachedKey {
    aead: Arc<Aes256Gcm>,
    created_ms: i64,
}

/// Envelope encryption of single attribute values with AES-256-GCM, under
/// data keys from a [`KeyProvider`], reused within [`CacheSettings`].
/// Build one per process (at init) and share it.
pub struct FieldCipher {
    provider: Arc<dyn KeyProvider>,
    settings: CacheSettings,
    clock: Arc<dyn Clock>,
    /// Async lock: held across `GenerateDataKey`, so concurrent writers that
    /// find the key expired make one call, not one each.
    current: tokio::sync::Mutex<Option<CurrentKey>>,
    decrypted: Mutex<HashMap<Arc<[u8]>, CachedKey>>,
    /// Serialises cache misses, so concurrent readers of one new data key
    /// make one `Decrypt` call.
    miss: tokio::sync::Mutex<()>,
}

impl fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldCipher").field("provider", &self.provider).field("settings", &self.settings).finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn aead_of(key: &PlainKey) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.expose()))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl FieldCipher {
    pub fn new(provider: Arc<dyn KeyProvider>, settings: CacheSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            provider,
            settings,
            clock,
            current: tokio::sync::Mutex::new(None),
            decrypted: Mutex::new(HashMap::new()),
            miss: tokio::sync::Mutex::new(()),
        }
    }

    pub fn provider_name(&self) -> &'static str {
        self.provider.name()
    }

    pub fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    /// Encrypts one value for `ctx`; a fresh random nonce every time.
    pub async fn encrypt(&self, ctx: FieldContext<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (aead, encrypted_key) = self.encryption_key().await?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = ctx.aad(FORMAT_V1);
        let ciphertext =
            aead.encrypt(&nonce, Payload { msg: plaintext, aad: &aad }).map_err(|_| CryptoError::Malformed("value too long to encrypt"))?;
        Envelope { version: FORMAT_V1, encrypted_key: &encrypted_key, nonce: &nonce, ciphertext: &ciphertext }.to_bytes()
    }

    pub async fn encrypt_str(&self, ctx: FieldContext<'_>, plaintext: &str) -> Result<Vec<u8>, CryptoError> {
        self.encrypt(ctx, plaintext.as_bytes()).await
    }

    /// Decrypts a value stored for `ctx`; the plaintext is wiped when dropped.
    pub async fn decrypt(&self, ctx: FieldContext<'_>, stored: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let env = Envelope::parse(stored)?;
        let aead = self.decryption_key(env.encrypted_key).await?;
        let aad = ctx.aad(env.version);
        aead.decrypt(Nonce::from_slice(env.nonce), Payload { msg: env.ciphertext, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Integrity)
    }

    pub async fn decrypt_string(&self, ctx: FieldContext<'_>, stored: &[u8]) -> Result<String, CryptoError> {
        let mut plain = self.decrypt(ctx, stored).await?;
        String::from_utf8(std::mem::take(&mut *plain)).map_err(|e| {
            e.into_bytes().zeroize();
            CryptoError::Malformed("plaintext is not UTF-8")
        })
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().millis()
    }

    fn fresh(created_ms: i64, now_ms: i64, max_age: Duration) -> bool {
        // A clock that went backwards counts as expired.
        now_ms >= created_ms && now_ms - created_ms < millis(max_age)
    }

    /// The current data key, replaced when too old or used up.
    async fn encryption_key(&self) -> Result<(Arc<Aes256Gcm>, Arc<[u8]>), CryptoError> {
        let mut slot = self.current.lock().await;
        let now = self.now_ms();
        let usable =
            slot.as_ref().is_some_and(|k| k.uses < self.settings.max_uses && Self::fresh(k.created_ms, now, self.settings.max_age));
        if !usable {
            // The old key is dropped (and wiped) before asking for a new one:
            // if the provider fails, nothing expired stays usable.
            *slot = None;
            let data_key = self.provider.generate_data_key().await?;
            let aead = Arc::new(aead_of(&data_key.plaintext));
            let encrypted: Arc<[u8]> = data_key.encrypted.into();
            // What is written now can be read back without a Decrypt call.
            self.remember(encrypted.clone(), aead.clone(), now);
            *slot = Some(CurrentKey { aead, encrypted, created_ms: now, uses: 0 });
        }
        match slot.as_mut() {
            Some(k) => {
                k.uses += 1;
                Ok((k.aead.clone(), k.encrypted.clone()))
            }
            None => Err(CryptoError::Unavailable { provider: self.provider.name(), op: "GenerateDataKey", detail: "no data key".into() }),
        }
    }

    /// The data key of a stored value, from the cache or the provider.
    async fn decryption_key(&self, encrypted: &[u8]) -> Result<Arc<Aes256Gcm>, CryptoError> {
        if let Some(aead) = self.cached(encrypted) {
            return Ok(aead);
        }
        let _one_miss_at_a_time = self.miss.lock().await;
        if let Some(aead) = self.cached(encrypted) {
            return Ok(aead);
        }
        let key = self.provider.decrypt_data_key(encrypted).await?;
        let aead = Arc::new(aead_of(&key));
        self.remember(encrypted.into(), aead.clone(), self.now_ms());
        Ok(aead)
    }

    fn cached(&self, encrypted: &[u8]) -> Option<Arc<Aes256Gcm>> {
        let now = self.now_ms();
        let mut map = lock(&self.decrypted);
        match map.get(encrypted) {
            Some(k) if Self::fresh(k.created_ms, now, self.settings.decrypt_max_age) => Some(k.aead.clone()),
            Some(_) => {
                map.remove(encrypted);
                None
            }
            None => None,
        }
    }

    fn remember(&self, encrypted: Arc<[u8]>, aead: Arc<Aes256Gcm>, now: i64) {
        let capacity = self.settings.decrypt_capacity;
        if capacity == 0 {
            return;
        }
        let mut map = lock(&self.decrypted);
        let max_age = self.settings.decrypt_max_age;
        map.retain(|_, k| Self::fresh(k.created_ms, now, max_age));
        while map.len() >= capacity {
            let Some(oldest) = map.iter().min_by_key(|(_, k)| k.created_ms).map(|(e, _)| e.clone()) else { break };
            map.remove(&oldest);
        }
        map.insert(encrypted, CachedKey { aead, created_ms: now });
    }

    /// Decrypted data keys held now (for tests and metrics).
    pub fn cached_keys(&self) -> usize {
        lock(&self.decrypted).len()
    }
}
