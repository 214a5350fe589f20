use crate::error::CryptoError;
use async_trait::async_trait;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use zeroize::Zeroizing;

/// AES-256: 32-byte data keys.
pub const DATA_KEY_LEN: usize = 32;

/// A plaintext data key. Wiped on drop; `{:?}` shows nothing of it.
pub struct PlainKey(Zeroizing<[u8; DATA_KEY_LEN]>);

impl PlainKey {
    /// Copies a 32-byte key (the caller wipes its own copy).
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let mut key = Zeroizing::new([0u8; DATA_KEY_LEN]);
        if bytes.len() != DATA_KEY_LEN {
            return Err(CryptoError::Malformed("a data key is not 32 bytes"));
        }
        key.copy_from_slice(bytes);
        Ok(Self(key))
    }

    pub(crate) fn from_array(key: Zeroizing<[u8; DATA_KEY_LEN]>) -> Self {
        Self(key)
    }

    pub fn expose(&self) -> &[u8; DATA_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for PlainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainKey(<redacted>)")
    }
}

/// A fresh data key: the plaintext to encrypt with (kept in memory only) and
/// the provider's encrypted copy (stored beside every value it encrypts).
pub struct DataKey {
    pub plaintext: PlainKey,
    pub encrypted: Vec<u8>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey").field("plaintext", &self.plaintext).field("encrypted_len", &self.encrypted.len()).finish()
    }
}

/// Where data keys come from: KMS in AWS (and against the local KMS
/// endpoint), or a local wrapping key for offline development.
#[async_trait]
pub trait KeyProvider: Send + Sync + fmt::Debug {
    /// Short name for errors and logs (`kms`, `local`).
    fn name(&self) -> &'static str;
    /// A new AES-256 data key and its encrypted form.
    async fn generate_data_key(&self) -> Result<DataKey, CryptoError>;
    /// The plaintext of a data key this provider encrypted.
    async fn decrypt_data_key(&self, encrypted: &[u8]) -> Result<PlainKey, CryptoError>;
}

/// How many calls a [`CountingProvider`] has passed on (failed ones included).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProviderCalls {
    pub generate_data_key: u64,
    pub decrypt_data_key: u64,
}

impl ProviderCalls {
    pub fn total(&self) -> u64 {
        self.generate_data_key + self.decrypt_data_key
    }
}

/// Counts the calls made to the provider it wraps: shows that a warm cache
/// makes no KMS call per request (and can feed a metric).
#[derive(Debug)]
pub struct CountingProvider<P> {
    inner: P,
    generate: AtomicU64,
    decrypt: AtomicU64,
}

impl<P: KeyProvider> CountingProvider<P> {
    pub fn new(inner: P) -> Self {
        Self { inner, generate: AtomicU64::new(0), decrypt: AtomicU64::new(0) }
    }
    pub fn calls(&self) -> ProviderCalls {
        ProviderCalls { generate_data_key: self.generate.load(Ordering::SeqCst), decrypt_data_key: self.decrypt.load(Ordering::SeqCst) }
    }
    pub fn inner(&self) -> &P {
        &self.inner
    }
}

#[async_trait]
impl<P: KeyProvider> KeyProvider for CountingProvider<P> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    async fn generate_data_key(&self) -> Result<DataKey, CryptoError> {
        self.generate.fetch_add(1, Ordering::SeqCst);
        self.inner.generate_data_key().await
    }
    async fn decrypt_data_key(&self, encrypted: &[u8]) -> Result<PlainKey, CryptoError> {
        self.decrypt.fetch_add(1, Ordering::SeqCst);
        self.inner.decrypt_data_key(encrypted).await
    }
}
