use crate::error::CryptoError;
use crate::provider::{DataKey, KeyProvider, PlainKey};
use async_trait::async_trait;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use aws_sdk_kms::Client;
use expenzez_domain::metrics::{Event, Unit};
use std::collections::HashMap;
use std::fmt;
use zeroize::Zeroize;

/// The encryption context of every data key: fixed and non-secret (KMS logs
/// it in CloudTrail), so it names the use and nothing about a user. IAM
/// policies can require it (`kms:EncryptionContext:purpose`).
pub const ENCRYPTION_CONTEXT: [(&str, &str); 2] = [("app", "expenzez"), ("purpose", "field-encryption")];

/// Data keys from AWS KMS: `GenerateDataKey` (AES_256) and `Decrypt`, both
/// under one key and [`ENCRYPTION_CONTEXT`]. Locally the client points at the
/// local KMS endpoint through `AWS_ENDPOINT_URL_KMS`.
#[derive(Clone)]
pub struct KmsKeyProvider {
    client: Client,
    key_id: String,
}

impl KmsKeyProvider {
    /// `key_id`: key id, key ARN, alias name or alias ARN.
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        Self { client, key_id: key_id.into() }
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn context() -> HashMap<String, String> {
        ENCRYPTION_CONTEXT.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }
}

impl fmt::Debug for KmsKeyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsKeyProvider").field("key_id", &self.key_id).finish()
    }
}

#[async_trait]
impl KeyProvider for KmsKeyProvider {
    fn name(&self) -> &'static str {
        "kms"
    }

    async fn generate_data_key(&self) -> Result<DataKey, CryptoError> {
        const OP: &str = "GenerateDataKey";
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(Self::context()))
            .send()
            .await
            .map_err(|e| kms_error(OP, e))?;
        let (Some(plain), Some(encrypted)) = (out.plaintext, out.ciphertext_blob) else {
            return Err(CryptoError::Unavailable { provider: "kms", op: OP, detail: "response without a data key".into() });
        };
        let mut plain = plain.into_inner();
        let key = PlainKey::from_slice(&plain);
        plain.zeroize();
        Ok(DataKey { plaintext: key?, encrypted: encrypted.into_inner() })
    }

    async fn decrypt_data_key(&self, encrypted: &[u8]) -> Result<PlainKey, CryptoError> {
        const OP: &str = "Decrypt";
        // Naming the key makes KMS refuse a blob of any other key
        // (IncorrectKeyException) instead of decrypting whatever it refers to.
        let out = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(encrypted))
            .set_encryption_context(Some(Self::context()))
            .send()
            .await
            .map_err(|e| kms_error(OP, e))?;
        let Some(plain) = out.plaintext else {
            return Err(CryptoError::Unavailable { provider: "kms", op: OP, detail: "response without plaintext".into() });
        };
        let mut plain = plain.into_inner();
        let key = PlainKey::from_slice(&plain);
        plain.zeroize();
        key
    }
}

/// Sorts a KMS SDK error into our questions. Only error codes are kept: the
/// SDK error itself may hold a raw response.
fn kms_error<E, R>(op: &'static str, err: SdkError<E, R>) -> CryptoError
where
    E: ProvideErrorMetadata,
    R: fmt::Debug,
{
    let unavailable = |detail: &str| CryptoError::Unavailable { provider: "kms", op, detail: detail.to_string() };
    // Every failed KMS call is a `KmsErrors` metric (the template alarms on it).
    expenzez_domain::metrics::emit(&Event {
        dimensions: vec![("KmsOperation", op.to_string())],
        metrics: vec![("KmsErrors", Unit::Count, 1.0)],
        ..Event::default()
    });
    match &err {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown");
            classify(op, code)
        }
        SdkError::TimeoutError(_) => unavailable("timed out"),
        SdkError::DispatchFailure(d) if d.is_timeout() => unavailable("timed out"),
        SdkError::DispatchFailure(d) if d.is_io() => unavailable("connection failed"),
        SdkError::DispatchFailure(_) => unavailable("request not sent"),
        SdkError::ResponseError(_) => unavailable("unreadable response"),
        SdkError::ConstructionFailure(_) => CryptoError::Refused { provider: "kms", op, code: "ConstructionFailure".into() },
        _ => unavailable("unknown failure"),
    }
}

pub(crate) fn classify(op: &'static str, code: &str) -> CryptoError {
    match code {
        "ThrottlingException"
        | "RequestLimitExceeded"
        | "KMSInternalException"
        | "DependencyTimeoutException"
        | "KeyUnavailableException"
        | "ServiceUnavailable"
        | "InternalFailure"
        | "InternalServerError"
        | "Unknown" => CryptoError::Unavailable { provider: "kms", op, detail: code.to_string() },
        // The blob is not one of this key's (another key, tampered, or another
        // encryption context).
        "InvalidCiphertextException" | "IncorrectKeyException" => CryptoError::Integrity,
        _ => CryptoError::Refused { provider: "kms", op, code: code.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_sort_into_questions() {
        assert!(classify("Decrypt", "ThrottlingException").is_unavailable());
        assert!(classify("Decrypt", "KMSInternalException").is_unavailable());
        assert!(classify("Decrypt", "IncorrectKeyException").is_integrity());
        assert!(classify("Decrypt", "InvalidCiphertextException").is_integrity());
        let denied = classify("Decrypt", "AccessDeniedException");
        assert!(!denied.is_unavailable() && !denied.is_integrity());
    }
}
