//! Field-level encryption of restricted attributes (SPEC §5 "Field encryption").
//!
//! Envelope encryption: each value is encrypted with AES-256-GCM under a data
//! key from a [`KeyProvider`] (AWS KMS `GenerateDataKey`, or a local wrapping
//! key offline), with a fresh random nonce and the item's `PK`, `SK` and the
//! attribute name as associated data. The encrypted data key travels inside
//! the stored value ([`Envelope`]). Data keys are reused within
//! [`CacheSettings`] (age and use count), and decrypted ones are cached, so a
//! warm function makes no KMS call per request.
//!
//! This crate knows nothing about DynamoDB: `expenzez-store` calls it for the
//! attributes each entity declares restricted.

mod cipher;
mod config;
mod error;
mod kms;
mod local;
mod provider;

pub use cipher::{CacheSettings, Envelope, FieldCipher, FieldContext, FORMAT_V1};
pub use config::{
    CipherConfig, ProviderConfig, DECRYPT_ENTRIES_VAR, DECRYPT_MAX_AGE_VAR, KMS_KEY_ID_VAR, LOCAL_KEY_VAR, MAX_AGE_VAR, MAX_USES_VAR,
    PROVIDER_VAR,
};
pub use error::CryptoError;
pub use kms::{KmsKeyProvider, ENCRYPTION_CONTEXT};
pub use local::LocalKeyProvider;
pub use provider::{CountingProvider, DataKey, KeyProvider, PlainKey, ProviderCalls, DATA_KEY_LEN};

#[cfg(test)]
mod tests;
