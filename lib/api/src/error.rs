//! Errors at the HTTP edge: RFC 9457 problem details carrying the app's
//! `error{code, message, retryable, retryAfter, details, correlationId}` and
//! a top-level `message` (APP-CONTRACT "Transport and errors"). The status is
//! chosen here and only here; bodies never carry internals or `{:?}`.

use expenzez_store::StoreError;
use http::StatusCode;
use serde::Serialize;

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request body is not valid JSON")]
    MalformedJson,
    #[error("the request is invalid")]
    BadRequest { code: &'static str, message: String },
    #[error("authentication required")]
    Unauthorized,
    /// The token is valid but its account was deleted: sign in again.
    #[error("the account was deleted")]
    AccountClosed,
    /// 401 with a specific code and a message a person reads (a wrong
    /// password at sign-in, an expired session at refresh).
    #[error("authentication failed")]
    UnauthorizedCode { code: &'static str, message: String },
    #[error("not allowed")]
    Forbidden,
    /// 403 with a specific code (e.g. `UserNotConfirmedException`, which the app reads).
    #[error("not allowed")]
    ForbiddenCode { code: &'static str, message: String },
    #[error("not found")]
    NotFound,
    /// 404 with a specific code (check-user-status: `UserNotFoundException`).
    #[error("not found")]
    NotFoundCode { code: &'static str, message: String },
    #[error("conflict")]
    Conflict { code: &'static str, message: String },
    /// 409 after bounded retries of a contended write: nothing was written,
    /// and the same request may succeed shortly (`retryable`, `Retry-After`).
    #[error("contended")]
    Contended,
    #[error("the resource changed since it was read")]
    PreconditionFailed,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the request body must be JSON")]
    UnsupportedMediaType,
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 422 with a specific code: a well-formed request whose content cannot be
    /// processed (e.g. `UNRECOGNISED_STATEMENT` for a PDF of no layout we read).
    #[error("unprocessable")]
    Unprocessable { code: &'static str, message: String },
    #[error("too many requests")]
    TooManyRequests { retry_after: u32 },
    /// 429 for a credential locked after too many wrong attempts (the app
    /// lock's PIN): the body also carries `success: false` and the app's
    /// `requiresLogout` (true when only signing in again unlocks it).
    #[error("locked")]
    Locked { code: &'static str, message: String, retry_after: u32, requires_logout: bool },
    /// 429 over a quota, with a message the app reads (e.g. the assistant's daily limit).
    #[error("limit reached")]
    Limited { code: &'static str, message: String, retry_after: u32 },
    #[error("a dependency is unavailable")]
    Unavailable { retry_after: u32 },
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn validation(field: &str, message: &str) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson | ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::AccountClosed | ApiError::UnauthorizedCode { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::ForbiddenCode { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::NotFoundCode { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } | ApiError::Contended => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } | ApiError::Locked { .. } | ApiError::Limited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Stable machine-readable code (`error.code`), and the problem `type` suffix.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson => "MALFORMED_JSON",
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::ForbiddenCode { code, .. }
            | ApiError::Limited { code, .. }
            | ApiError::UnauthorizedCode { code, .. }
            | ApiError::NotFoundCode { code, .. }
            | ApiError::Unprocessable { code, .. }
            | ApiError::Locked { code, .. } => code,
            ApiError::Unauthorized => "UNAUTHORIZED",
            ApiError::AccountClosed => "ACCOUNT_DELETED",
            ApiError::Forbidden => "FORBIDDEN",
            ApiError::Contended => "CONTENDED",
            ApiError::NotFound => "NOT_FOUND",
            ApiError::PreconditionFailed => "PRECONDITION_FAILED",
            ApiError::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ApiError::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::Validation(_) => "VALIDATION_ERROR",
            ApiError::TooManyRequests { .. } => "RATE_LIMITED",
            ApiError::Unavailable { .. } => "SERVICE_UNAVAILABLE",
            ApiError::Internal => "INTERNAL_ERROR",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::MalformedJson => "Malformed JSON",
            ApiError::BadRequest { .. } => "Bad request",
            ApiError::Unauthorized | ApiError::AccountClosed | ApiError::UnauthorizedCode { .. } => "Unauthorized",
            ApiError::Forbidden | ApiError::ForbiddenCode { .. } => "Forbidden",
            ApiError::NotFound | ApiError::NotFoundCode { .. } => "Not found",
            ApiError::Conflict { .. } | ApiError::Contended => "Conflict",
            ApiError::PreconditionFailed => "Precondition failed",
            ApiError::PayloadTooLarge => "Payload too large",
            ApiError::UnsupportedMediaType => "Unsupported media type",
            ApiError::Validation(_) => "Validation failed",
            ApiError::Unprocessable { .. } => "Unprocessable content",
            ApiError::TooManyRequests { .. } | ApiError::Limited { .. } => "Too many requests",
            ApiError::Locked { .. } => "Locked",
            ApiError::Unavailable { .. } => "Service unavailable",
            ApiError::Internal => "Internal error",
        }
    }

    /// What a person reads (`detail`, `message`, `error.message`).
    fn detail(&self) -> String {
        match self {
            ApiError::BadRequest { message, .. }
            | ApiError::Conflict { message, .. }
            | ApiError::ForbiddenCode { message, .. }
            | ApiError::Limited { message, .. }
            | ApiError::UnauthorizedCode { message, .. }
            | ApiError::NotFoundCode { message, .. }
            | ApiError::Unprocessable { message, .. }
            | ApiError::Locked { message, .. } => message.clone(),
            ApiError::Validation(errors) if errors.len() == 1 => format!("{}: {}", errors[0].field, errors[0].message),
            ApiError::Validation(errors) => format!("{} fields are invalid", errors.len()),
            ApiError::Unauthorized => "Missing or invalid access token.".into(),
            ApiError::AccountClosed => "This account has been deleted. Sign in again.".into(),
            ApiError::Forbidden => "You are not allowed to do this.".into(),
            ApiError::NotFound => "The resource does not exist.".into(),
            ApiError::Contended => "Other requests are changing the same data; nothing was written. Retry shortly.".into(),
            ApiError::PreconditionFailed => "The resource changed since you read it; read it again.".into(),
            ApiError::PayloadTooLarge => "The request body is too large.".into(),
            ApiError::UnsupportedMediaType => "Send the body as application/json.".into(),
            ApiError::MalformedJson => "The request body is not valid JSON.".into(),
            ApiError::TooManyRequests { .. } => "Too many requests; retry later.".into(),
            ApiError::Unavailable { .. } => "A service we depend on is unavailable; retry shortly.".into(),
            ApiError::Internal => "Something went wrong on our side.".into(),
        }
    }

    pub fn retry_after(&self) -> Option<u32> {
        match self {
            ApiError::TooManyRequests { retry_after }
            | ApiError::Unavailable { retry_after }
            | ApiError::Locked { retry_after, .. }
            | ApiError::Limited { retry_after, .. } => Some(*retry_after),
            ApiError::Contended => Some(1),
            _ => None,
        }
    }

    /// The problem+json body.
    pub fn body(&self, correlation_id: &str) -> serde_json::Value {
        let detail = self.detail();
        let details = match self {
            ApiError::Validation(errors) => serde_json::to_value(errors).unwrap_or_default(),
            _ => serde_json::Value::Null,
        };
        let mut body = serde_json::json!({
            "type": format!("https://errors.expenzez.app/{}", self.code().to_lowercase().replace('_', "-")),
            "title": self.title(),
            "status": self.status().as_u16(),
            "detail": detail,
            "message": detail,
            "error": {
                "code": self.code(),
                "message": detail,
                "retryable": self.retry_after().is_some(),
                "retryAfter": self.retry_after(),
                "details": details,
                "correlationId": correlation_id,
            }
        });
        if let (ApiError::Locked { requires_logout, .. }, Some(o)) = (self, body.as_object_mut()) {
            o.insert("success".into(), false.into());
            o.insert("requiresLogout".into(), (*requires_logout).into());
        }
        body
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_bad_cursor() {
            ApiError::BadRequest { code: "INVALID_START_KEY", message: "startKey is not valid for this request".into() }
        } else if e.is_account_closed() {
            ApiError::AccountClosed
        } else if e.is_not_found() {
            ApiError::NotFound
        } else if e.is_conflict() {
            ApiError::Conflict { code: "VERSION_CONFLICT", message: "The resource was changed by another request; retry.".into() }
        } else if e.is_throttled() {
            ApiError::TooManyRequests { retry_after: 1 }
        } else if e.is_retryable() {
            ApiError::Unavailable { retry_after: 2 }
        } else {
            tracing::error!(error = %e, "store error");
            ApiError::Internal
        }
    }
}
