/// What field encryption can report. Messages name operations, error codes
/// and attribute names only: never a plaintext, a ciphertext or key bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The key provider could not be reached, timed out, was throttled or
    /// failed on its side. Retry later (HTTP 503 with `Retry-After`).
    #[error("{provider} {op}: key provider unavailable ({detail})")]
    Unavailable { provider: &'static str, op: &'static str, detail: String },
    /// The key provider refused the request for a reason retrying will not fix
    /// (no permission, unknown or disabled key): a deployment problem.
    #[error("{provider} {op}: key provider refused the request ({code})")]
    Refused { provider: &'static str, op: &'static str, code: String },
    /// Authentication failed: the value was moved to another item, user or
    /// attribute, was encrypted under another key, or was tampered with.
    #[error("ciphertext failed authentication (moved, wrong key or tampered)")]
    Integrity,
    /// Not a ciphertext of ours: truncated or garbled framing.
    #[error("ciphertext is malformed: {0}")]
    Malformed(&'static str),
    /// A format version this code does not know (written by newer code, or garbage).
    #[error("unsupported ciphertext format version {0}")]
    UnsupportedVersion(u8),
    /// The configuration is incomplete or invalid (reported at start).
    #[error("field encryption configuration: {0}")]
    Config(String),
}

impl CryptoError {
    /// KMS (or the local provider) is down or throttled: the request was fine,
    /// try again later. Nothing was written.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, CryptoError::Unavailable { .. })
    }

    /// A stored value does not open: failed authentication, malformed framing
    /// or an unknown format version. Not retryable; log it (without the value).
    pub fn is_integrity(&self) -> bool {
        matches!(self, CryptoError::Integrity | CryptoError::Malformed(_) | CryptoError::UnsupportedVersion(_))
    }
}
