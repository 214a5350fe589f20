use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use expenzez_crypto::CryptoError;
use expenzez_domain::cursor::CursorError;
use std::fmt::Debug;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Everything the store can report. HTTP status is chosen at the HTTP edge
/// from the questions below, never here. Messages carry no item values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition failed: the item exists already, or its version moved on.
    #[error("{op}: a condition on the write was not met")]
    Conflict { op: &'static str },
    #[error("item not found")]
    NotFound,
    /// The user's account was deleted: nothing is written for it.
    #[error("the account no longer exists")]
    AccountClosed,
    #[error("{op}: throttled by DynamoDB")]
    Throttled { op: &'static str },
    #[error("{op}: DynamoDB is unavailable")]
    Unavailable {
        op: &'static str,
        #[source]
        source: BoxError,
    },
    /// DynamoDB refused the request as invalid (a bug on our side).
    #[error("{op}: DynamoDB rejected the request ({code})")]
    Rejected { op: &'static str, code: String, message: String },
    #[error("item does not map to {entity}: {message}")]
    Mapping { entity: &'static str, message: String },
    #[error(transparent)]
    Cursor(#[from] CursorError),
    #[error("{op}: {count} items still unprocessed after retries")]
    Incomplete { op: &'static str, count: usize },
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Field encryption failed: the key provider is unavailable or refused,
    /// or a stored value does not open (see [`StoreError::is_integrity`]).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A restricted attribute would have been written in plaintext (no
    /// cipher on this table, or a raw item): refused, nothing written.
    #[error("refusing to write restricted attribute {attribute} unencrypted")]
    Unencrypted { attribute: &'static str },
    /// A restricted attribute is encrypted but this table has no cipher.
    #[error("restricted attribute {attribute} is encrypted and this table has no field cipher")]
    CipherMissing { attribute: &'static str },
}

impl StoreError {
    /// A conditional write lost (duplicate, or stale version).
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }
    /// A write for a deleted account was refused ([`crate::TxAction::account_live`]).
    pub fn is_account_closed(&self) -> bool {
        matches!(self, StoreError::AccountClosed)
    }
    pub fn is_not_found(&self) -> bool {
        matches!(self, StoreError::NotFound)
    }
    /// Worth retrying later: the request itself was fine.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Throttled { .. } | StoreError::Unavailable { .. } | StoreError::Incomplete { .. })
            || self.is_unavailable()
    }
    pub fn is_throttled(&self) -> bool {
        matches!(self, StoreError::Throttled { .. })
    }
    /// DynamoDB or the key provider (KMS) is unavailable: HTTP 503 with
    /// `Retry-After`. A write that failed this way wrote nothing.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable { .. } => true,
            StoreError::Crypto(e) => e.is_unavailable(),
            _ => false,
        }
    }
    /// A stored restricted value does not open (moved to another item or
    /// attribute, another key, tampered, or not a ciphertext). Not retryable.
    pub fn is_integrity(&self) -> bool {
        matches!(self, StoreError::Crypto(e) if e.is_integrity())
    }
    /// The client sent a pagination key that does not open.
    pub fn is_bad_cursor(&self) -> bool {
        matches!(self, StoreError::Cursor(_))
    }

    pub(crate) fn mapping<E>(e: impl std::fmt::Display) -> Self {
        StoreError::Mapping { entity: std::any::type_name::<E>(), message: e.to_string() }
    }

    pub(crate) fn build(e: impl std::fmt::Display) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

/// Sorts an SDK error into our questions by its error code.
pub(crate) fn from_sdk<E, R>(op: &'static str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(ref se) => {
            let code = se.err().code().unwrap_or("Unknown").to_string();
            classify_code(op, &code, se.err().message().unwrap_or_default())
                .unwrap_or_else(|| StoreError::Unavailable { op, source: Box::new(err) })
        }
        SdkError::ConstructionFailure(_) => StoreError::Invalid(format!("{op}: request could not be built")),
        other => StoreError::Unavailable { op, source: Box::new(other) },
    }
}

/// `None`: a server-side fault (retry later).
pub(crate) fn classify_code(op: &'static str, code: &str, message: &str) -> Option<StoreError> {
    Some(match code {
        "ConditionalCheckFailedException" | "TransactionConflictException" => StoreError::Conflict { op },
        "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded" => StoreError::Throttled { op },
        "InternalServerError" | "ServiceUnavailable" | "InternalFailure" | "Unknown" => return None,
        _ => StoreError::Rejected { op, code: code.to_string(), message: message.chars().take(300).collect() },
    })
}
