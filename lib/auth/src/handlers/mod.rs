//! The `/auth/*` routes and the account-wide `/user/*` routes, one file per
//! group: sign-up ([`signup`]), sign-in and refresh ([`session`]), password
//! and username recovery ([`recovery`]), and the account's data
//! ([`user_data`]). This module holds what they share: the state, the
//! identity provider's errors as the app sees them, and the field checks.
//!
//! Passwords, codes and tokens are only ever passed through: never logged,
//! never stored, never in an error body. Unknown user and wrong password
//! answer the same 401, and forgot-password and forgot-username answer the
//! same 200 for unknown accounts. The one route that does say whether a
//! username is taken (check-user-status, registration's live hint) is
//! rate-limited per caller, as is sign-in.

pub mod recovery;
pub mod session;
pub mod signup;
pub mod user_data;

pub use recovery::{
    confirm_forgot_password, forgot_password, forgot_username, ConfirmForgot, Forgot, ForgotUsername, FORGOT_USERNAME_LIMIT,
};
pub use session::{login, refresh, Login, Refresh, LOGIN_ADDRESS_LIMIT, LOGIN_LIMIT};
pub use signup::{check_user_status, confirm_signup, register, resend_verification, CheckUser, Confirm, Register, CHECK_USER_LIMIT};
pub use user_data::{delete_account, delete_user_data, export, DeleteData};

use crate::idp::{IdentityProvider, IdpError};
use expenzez_api::error::{ApiError, FieldError};
use expenzez_api::stores::Metered;
use expenzez_domain::Email;
use expenzez_store::{Capacity, Table};
use serde::Serialize;
use std::sync::Arc;

/// What the auth handlers use: the table and the identity provider.
pub struct Auth<I> {
    pub table: Table,
    pub idp: Arc<I>,
}

impl<I> Clone for Auth<I> {
    fn clone(&self) -> Self {
        Self { table: self.table.clone(), idp: self.idp.clone() }
    }
}

impl<I: IdentityProvider> Metered for Auth<I> {
    fn metered(&self) -> Self {
        Self { table: self.table.metered(), idp: self.idp.clone() }
    }
    fn consumed(&self) -> Capacity {
        self.table.consumed()
    }
    fn now(&self) -> expenzez_domain::Timestamp {
        self.table.now()
    }
}

fn email_taken() -> ApiError {
    ApiError::Conflict { code: "EMAIL_TAKEN", message: "An account with this email already exists.".into() }
}

/// The identity provider's answer, as the app expects it.
fn idp_error(e: IdpError) -> ApiError {
    let code = e.code().to_string();
    match code.as_str() {
        "NotAuthorizedException" | "UserNotFoundException" => bad_credentials(),
        "UserNotConfirmedException" => {
            ApiError::ForbiddenCode { code: "UserNotConfirmedException", message: "Confirm your email address first.".into() }
        }
        "UsernameExistsException" | "AliasExistsException" => email_taken(),
        // A trigger refused: PreSignUp's refusal names the taken email; any
        // other trigger failure (e.g. the table unavailable) is an outage.
        "UserLambdaValidationException" => match &e {
            IdpError::Refused { message, .. } if message.contains(crate::account::EMAIL_TAKEN_MESSAGE) => email_taken(),
            _ => ApiError::Unavailable { retry_after: 5 },
        },
        "InvalidPasswordException" => ApiError::validation("password", "does not meet the password policy"),
        "CodeMismatchException" => ApiError::BadRequest { code: "CodeMismatchException", message: "The code is not valid.".into() },
        "ExpiredCodeException" => {
            ApiError::BadRequest { code: "ExpiredCodeException", message: "The code has expired; request a new one.".into() }
        }
        "InvalidParameterException" => {
            ApiError::BadRequest { code: "INVALID_PARAMETER", message: "The request was refused by the identity provider.".into() }
        }
        "TooManyRequestsException" | "LimitExceededException" | "TooManyFailedAttemptsException" => {
            ApiError::TooManyRequests { retry_after: 30 }
        }
        _ => ApiError::Unavailable { retry_after: 5 },
    }
}

/// A wrong password or an unknown account at sign-in (the same answer for both).
fn bad_credentials() -> ApiError {
    ApiError::UnauthorizedCode { code: "NotAuthorizedException", message: "Incorrect email, username or password.".into() }
}

/// Who an auth call is about: an email (normalised, as registered), or the
/// Cognito username (the pool's own id for the account, which the app may
/// have kept from register). Cognito takes either for every call.
fn identifier_field(errors: &mut Vec<FieldError>, field: &str, value: Option<&str>) -> Option<String> {
    let Some(v) = value.map(str::trim) else {
        errors.push(FieldError::new(field, "is required"));
        return None;
    };
    if v.contains('@') {
        return email_field(errors, Some(v)).map(|e| e.to_string());
    }
    if v.is_empty() || v.chars().count() > 128 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        errors.push(FieldError::new(field, "must be your email address or username"));
        return None;
    }
    Some(v.to_string())
}

fn email_field(errors: &mut Vec<FieldError>, email: Option<&str>) -> Option<Email> {
    match email.map(Email::parse_new) {
        Some(Ok(e)) => Some(e),
        Some(Err(_)) => {
            errors.push(FieldError::new("email", "is not a valid email address"));
            None
        }
        None => {
            errors.push(FieldError::new("email", "is required"));
            None
        }
    }
}

fn password_field(errors: &mut Vec<FieldError>, field: &str, p: &str) {
    let ok = (10..=256).contains(&p.chars().count())
        && p.chars().any(|c| c.is_ascii_lowercase())
        && p.chars().any(|c| c.is_ascii_uppercase())
        && p.chars().any(|c| c.is_ascii_digit());
    if !ok {
        errors.push(FieldError::new(field, "must be 10 to 256 characters with a lower-case letter, an upper-case letter and a digit"));
    }
}

fn short(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>, max: usize) {
    if let Some(v) = v {
        if v.chars().count() > max || v.chars().any(char::is_control) {
            errors.push(FieldError::new(field, format!("must be at most {max} printable characters")));
        }
    }
}

fn check(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}
fn code_field(errors: &mut Vec<FieldError>, field: &str, code: &Option<String>) -> String {
    match code.as_deref().map(str::trim) {
        Some(c) if (4..=12).contains(&c.len()) && c.chars().all(|x| x.is_ascii_alphanumeric()) => c.to_string(),
        _ => {
            errors.push(FieldError::new(field, "must be the code from the email"));
            String::new()
        }
    }
}

fn code_mismatch() -> ApiError {
    ApiError::BadRequest { code: "CodeMismatchException", message: "The code is not valid.".into() }
}

#[derive(Serialize)]
struct Done {
    success: bool,
    message: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn refused(code: &str) -> IdpError {
        IdpError::Refused { code: code.into(), message: "m".into() }
    }

    #[test]
    fn cognito_errors_map_to_the_apps_statuses() {
        assert_eq!(idp_error(refused("TooManyRequestsException")).status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(idp_error(refused("LimitExceededException")).retry_after(), Some(30));
        assert_eq!(idp_error(refused("UserNotConfirmedException")).code(), "UserNotConfirmedException");
        assert_eq!(idp_error(refused("UserNotConfirmedException")).status(), StatusCode::FORBIDDEN);
        // No user enumeration: the same answer for both.
        let (a, b) = (idp_error(refused("NotAuthorizedException")), idp_error(refused("UserNotFoundException")));
        assert_eq!((a.status(), a.code()), (b.status(), b.code()));
        assert_eq!(idp_error(refused("UsernameExistsException")).status(), StatusCode::CONFLICT);
        assert_eq!(idp_error(IdpError::Unavailable).status(), StatusCode::SERVICE_UNAVAILABLE);
        let trigger = |m: &str| IdpError::Refused { code: "UserLambdaValidationException".into(), message: m.into() };
        assert_eq!(
            idp_error(trigger(&format!("PreSignUp failed with error {}.", crate::account::EMAIL_TAKEN_MESSAGE))).status(),
            StatusCode::CONFLICT
        );
        assert_eq!(idp_error(trigger("PostConfirmation failed with error throttled.")).status(), StatusCode::SERVICE_UNAVAILABLE);
        // The body never carries the provider's message.
        let body = idp_error(refused("InvalidParameterException")).body("c").to_string();
        assert!(!body.contains(r#""m""#));
    }
}
