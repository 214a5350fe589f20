use crate::error::CryptoError;
use crate::provider::{DataKey, KeyProvider, PlainKey, DATA_KEY_LEN};
use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use async_trait::async_trait;
use base64::Engine;
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// First byte of a locally wrapped data key, so a KMS blob handed to this
/// provider is told apart from a wrong key.
const LOCAL_WRAP_TAG: u8 = b'L';
/// Binds wrapped keys to this use of the local key.
const WRAP_AAD: &[u8] = b"expenzez/field-encryption/local-wrap/v1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const WRAPPED_LEN: usize = 1 + NONCE_LEN + DATA_KEY_LEN + TAG_LEN;

/// Data keys wrapped with AES-256-GCM under a raw 32-byte key from the
/// configuration. For offline development only: the key lives in the
/// environment, and nothing audits or rotates it.
pub struct LocalKeyProvider {
    wrapping: Aes256Gcm,
}

impl LocalKeyProvider {
    /// From the raw 32-byte wrapping key.
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != DATA_KEY_LEN {
            return Err(CryptoError::Config("the local field key must be 32 bytes".into()));
        }
        Ok(Self { wrapping: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)) })
    }

    /// From standard base64 of 32 bytes (`FIELD_LOCAL_KEY`).
    pub fn from_base64(encoded: &str) -> Result<Self, CryptoError> {
        let key = Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| CryptoError::Config("the local field key is not valid base64".into()))?,
        );
        Self::new(&key)
    }

    /// A random wrapping key (tests, benchmarks, a developer's first setup).
    pub fn random() -> Self {
        let mut key = Zeroizing::new([0u8; DATA_KEY_LEN]);
        OsRng.fill_bytes(key.as_mut());
        Self { wrapping: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.as_ref())) }
    }
}

impl fmt::Debug for LocalKeyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalKeyProvider { .. }")
    }
}

#[async_trait]
impl KeyProvider for LocalKeyProvider {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn generate_data_key(&self) -> Result<DataKey, CryptoError> {
        let mut key = Zeroizing::new([0u8; DATA_KEY_LEN]);
        OsRng.fill_bytes(key.as_mut());
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self.wrapping.encrypt(&nonce, Payload { msg: key.as_ref(), aad: WRAP_AAD }).map_err(|_| CryptoError::Unavailable {
            provider: "local",
            op: "GenerateDataKey",
            detail: "wrap failed".into(),
        })?;
        let mut encrypted = Vec::with_capacity(WRAPPED_LEN);
        encrypted.push(LOCAL_WRAP_TAG);
        encrypted.extend_from_slice(&nonce);
        encrypted.extend_from_slice(&sealed);
        Ok(DataKey { plaintext: PlainKey::from_array(key), encrypted })
    }

    async fn decrypt_data_key(&self, encrypted: &[u8]) -> Result<PlainKey, CryptoError> {
        if encrypted.len() != WRAPPED_LEN || encrypted[0] != LOCAL_WRAP_TAG {
            return Err(CryptoError::Malformed("not a locally wrapped data key"));
        }
        let (nonce, sealed) = encrypted[1..].split_at(NONCE_LEN);
        let mut plain =
            self.wrapping.decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: WRAP_AAD }).map_err(|_| CryptoError::Integrity)?;
        let key = PlainKey::from_slice(&plain);
        plain.zeroize();
        key
    }
}
