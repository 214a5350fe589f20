//! The cipher's configuration from the environment, read once at start so a
//! function with a missing or bad setting fails at init, not per request.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `FIELD_KEY_PROVIDER` | `kms` or `local` | required |
//! | `FIELD_KMS_KEY_ID` | KMS key id, ARN or alias (with `kms`) | required for `kms` |
//! | `FIELD_LOCAL_KEY` | base64 of 32 random bytes (with `local`; offline development only) | required for `local` |
//! | `FIELD_KEY_MAX_AGE_SECONDS` | a data key encrypts for at most this long | 300 |
//! | `FIELD_KEY_MAX_USES` | a data key encrypts at most this many values | 10000 |
//! | `FIELD_DECRYPT_CACHE_ENTRIES` | decrypted data keys kept | 1000 |
//! | `FIELD_DECRYPT_CACHE_MAX_AGE_SECONDS` | a decrypted data key is kept this long | 300 |

use crate::cipher::{CacheSettings, FieldCipher};
use crate::error::CryptoError;
use crate::kms::KmsKeyProvider;
use crate::local::LocalKeyProvider;
use crate::provider::KeyProvider;
use aws_sdk_kms::config::timeout::TimeoutConfig;
use expenzez_domain::Clock;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

pub const PROVIDER_VAR: &str = "FIELD_KEY_PROVIDER";
pub const KMS_KEY_ID_VAR: &str = "FIELD_KMS_KEY_ID";
pub const LOCAL_KEY_VAR: &str = "FIELD_LOCAL_KEY";
pub const MAX_AGE_VAR: &str = "FIELD_KEY_MAX_AGE_SECONDS";
pub const MAX_USES_VAR: &str = "FIELD_KEY_MAX_USES";
pub const DECRYPT_ENTRIES_VAR: &str = "FIELD_DECRYPT_CACHE_ENTRIES";
pub const DECRYPT_MAX_AGE_VAR: &str = "FIELD_DECRYPT_CACHE_MAX_AGE_SECONDS";

/// KMS calls answer in milliseconds; a KMS that does not answer soon should
/// become a 503, not a Lambda timeout.
const KMS_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const KMS_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const KMS_OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// Which key provider, with what it needs.
#[derive(Clone, PartialEq, Eq)]
pub enum ProviderConfig {
    Kms { key_id: String },
    Local { key: Zeroizing<String> },
}

impl fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderConfig::Kms { key_id } => f.debug_struct("Kms").field("key_id", key_id).finish(),
            ProviderConfig::Local { .. } => f.write_str("Local { key: <redacted> }"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipherConfig {
    pub provider: ProviderConfig,
    pub cache: CacheSettings,
}

impl CipherConfig {
    /// From the process environment (see the module docs).
    pub fn from_env() -> Result<Self, CryptoError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From any lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, CryptoError> {
        let value = |name: &str| get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let provider = match value(PROVIDER_VAR).as_deref() {
            Some("kms") => ProviderConfig::Kms {
                key_id: value(KMS_KEY_ID_VAR)
                    .ok_or_else(|| CryptoError::Config(format!("{KMS_KEY_ID_VAR} is required when {PROVIDER_VAR}=kms")))?,
            },
            Some("local") => {
                let key = Zeroizing::new(
                    value(LOCAL_KEY_VAR)
                        .ok_or_else(|| CryptoError::Config(format!("{LOCAL_KEY_VAR} is required when {PROVIDER_VAR}=local")))?,
                );
                // Checked now, so a bad key fails at start.
                LocalKeyProvider::from_base64(&key)
                    .map_err(|_| CryptoError::Config(format!("{LOCAL_KEY_VAR} must be base64 of exactly 32 bytes")))?;
                ProviderConfig::Local { key }
            }
            Some(_) => return Err(CryptoError::Config(format!("{PROVIDER_VAR} must be `kms` or `local`"))),
            None => return Err(CryptoError::Config(format!("{PROVIDER_VAR} is not set (`kms` or `local`)"))),
        };
        let number = |name: &str, default: u64| -> Result<u64, CryptoError> {
            match value(name) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| CryptoError::Config(format!("{name} must be a positive whole number"))),
            }
        };
        let d = CacheSettings::default();
        let cache = CacheSettings {
            max_age: Duration::from_secs(number(MAX_AGE_VAR, d.max_age.as_secs())?),
            max_uses: number(MAX_USES_VAR, d.max_uses)?,
            decrypt_capacity: usize::try_from(number(DECRYPT_ENTRIES_VAR, d.decrypt_capacity as u64)?)
                .map_err(|_| CryptoError::Config(format!("{DECRYPT_ENTRIES_VAR} is too large")))?,
            decrypt_max_age: Duration::from_secs(number(DECRYPT_MAX_AGE_VAR, d.decrypt_max_age.as_secs())?),
        };
        Ok(Self { provider, cache })
    }

    /// The key provider this configuration names. The KMS client comes from
    /// `sdk` (so `AWS_ENDPOINT_URL_KMS` applies) with short timeouts.
    pub fn key_provider(&self, sdk: &aws_config::SdkConfig) -> Result<Arc<dyn KeyProvider>, CryptoError> {
        Ok(match &self.provider {
            ProviderConfig::Kms { key_id } => {
                let timeouts = TimeoutConfig::builder()
                    .connect_timeout(KMS_CONNECT_TIMEOUT)
                    .operation_attempt_timeout(KMS_ATTEMPT_TIMEOUT)
                    .operation_timeout(KMS_OPERATION_TIMEOUT)
                    .build();
                let conf = aws_sdk_kms::config::Builder::from(sdk).timeout_config(timeouts).build();
                Arc::new(KmsKeyProvider::new(aws_sdk_kms::Client::from_conf(conf), key_id.clone()))
            }
            ProviderConfig::Local { key } => {
                tracing::warn!("field encryption uses a local key from the environment: for offline development only");
                Arc::new(LocalKeyProvider::from_base64(key)?)
            }
        })
    }

    pub fn build(&self, sdk: &aws_config::SdkConfig, clock: Arc<dyn Clock>) -> Result<FieldCipher, CryptoError> {
        Ok(FieldCipher::new(self.key_provider(sdk)?, self.cache.clone(), clock))
    }
}

impl FieldCipher {
    /// The cipher a function builds at init from its environment.
    pub fn from_env(sdk: &aws_config::SdkConfig, clock: Arc<dyn Clock>) -> Result<Self, CryptoError> {
        CipherConfig::from_env()?.build(sdk, clock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(vars: &[(&str, &str)]) -> Result<CipherConfig, CryptoError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        CipherConfig::from_lookup(|k| map.get(k).cloned())
    }

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="; // 32 bytes

    #[test]
    fn kms_with_defaults() {
        let c = parse(&[(PROVIDER_VAR, "kms"), (KMS_KEY_ID_VAR, "alias/expenzez-dev")]).unwrap();
        assert_eq!(c.provider, ProviderConfig::Kms { key_id: "alias/expenzez-dev".into() });
        assert_eq!(c.cache, CacheSettings::default());
        assert_eq!(c.cache.max_age, Duration::from_secs(300));
        assert_eq!(c.cache.max_uses, 10_000);
    }

    #[test]
    fn local_with_overrides() {
        let c =
            parse(&[(PROVIDER_VAR, "local"), (LOCAL_KEY_VAR, KEY), (MAX_AGE_VAR, "60"), (MAX_USES_VAR, "5"), (DECRYPT_ENTRIES_VAR, "10")])
                .unwrap();
        assert!(matches!(c.provider, ProviderConfig::Local { .. }));
        assert_eq!((c.cache.max_age, c.cache.max_uses, c.cache.decrypt_capacity), (Duration::from_secs(60), 5, 10));
        assert!(!format!("{c:?}").contains(KEY), "the key never reaches Debug");
    }

    #[test]
    fn clear_errors_at_start() {
        let msg = |vars: &[(&str, &str)]| parse(vars).unwrap_err().to_string();
        assert!(msg(&[]).contains("FIELD_KEY_PROVIDER is not set"));
        assert!(msg(&[(PROVIDER_VAR, "vault")]).contains("`kms` or `local`"));
        assert!(msg(&[(PROVIDER_VAR, "kms")]).contains("FIELD_KMS_KEY_ID is required"));
        assert!(msg(&[(PROVIDER_VAR, "local")]).contains("FIELD_LOCAL_KEY is required"));
        let bad_key = msg(&[(PROVIDER_VAR, "local"), (LOCAL_KEY_VAR, "c2hvcnQ=")]);
        assert!(bad_key.contains("exactly 32 bytes") && !bad_key.contains("c2hvcnQ"), "{bad_key}");
        assert!(msg(&[(PROVIDER_VAR, "kms"), (KMS_KEY_ID_VAR, "k"), (MAX_USES_VAR, "0")]).contains("FIELD_KEY_MAX_USES"));
        assert!(msg(&[(PROVIDER_VAR, "kms"), (KMS_KEY_ID_VAR, "k"), (MAX_AGE_VAR, "5m")]).contains("FIELD_KEY_MAX_AGE_SECONDS"));
    }
}
