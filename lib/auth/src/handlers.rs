//! The `/auth/*` routes and the account-wide `/user/*` routes.
//!
//! Passwords, codes and tokens are only ever passed through: never logged,
//! never stored, never in an error body. Unknown user and wrong password
//! answer the same 401, and forgot-password and forgot-username answer the
//! same 200 for unknown accounts. The one route that does say whether a
//! username is taken (check-user-status, registration's live hint) is
//! rate-limited per caller, as is sign-in.

use crate::account;
use crate::idp::{IdentityProvider, IdpError, Tokens};
use expenzez_api::edge::Reply;
use expenzez_api::error::{ApiError, FieldError};
use expenzez_api::ratelimit::{self, Limit};
use expenzez_api::request::Ctx;
use expenzez_api::stores::Metered;
use expenzez_domain::entities::UserProfile;
use expenzez_domain::keys::ItemKey;
use expenzez_domain::{time, Email};
use expenzez_store::{Capacity, Table};
use http::StatusCode;
use serde::{Deserialize, Serialize};
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

/// Sign-in attempts per account name, and per address.
pub const LOGIN_LIMIT: Limit = Limit { scope: "login", max: 10, window_seconds: 300 };
pub const LOGIN_ADDRESS_LIMIT: Limit = Limit { scope: "login-ip", max: 100, window_seconds: 300 };
/// Registration's live "username taken" hint, per address.
pub const CHECK_USER_LIMIT: Limit = Limit { scope: "check-user", max: 20, window_seconds: 60 };
/// Username reminders, per address.
pub const FORGOT_USERNAME_LIMIT: Limit = Limit { scope: "forgot-username", max: 5, window_seconds: 300 };

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Register {
    pub username: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub email: String,
    pub password: String,
    pub marketing_consent: Option<bool>,
    pub phone_number: Option<String>,
    pub birthdate: Option<String>,
    pub address: Option<String>,
    pub gender: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Registered {
    cognito_user_sub: String,
    /// What to send as `username` to confirm-signup and login (the normalised email).
    username: String,
    user_confirmed: bool,
    message: &'static str,
}

pub async fn register<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let b: Register = ctx.json()?;
    let mut errors = Vec::new();
    let email = email_field(&mut errors, Some(&b.email));
    password_field(&mut errors, "password", &b.password);
    for (f, v, max) in [
        ("username", &b.username, 128),
        ("name", &b.name, 100),
        ("given_name", &b.given_name, 100),
        ("family_name", &b.family_name, 100),
        ("address", &b.address, 200),
        ("gender", &b.gender, 30),
    ] {
        short(&mut errors, f, v, max);
    }
    if let Some(p) = &b.phone_number {
        if !(p.starts_with('+') && p.len() <= 16 && p[1..].chars().all(|c| c.is_ascii_digit()) && p.len() >= 8) {
            errors.push(FieldError::new("phone_number", "must be in E.164 form, e.g. +447700900123"));
        }
    }
    // Stored as YYYY-MM-DD (Cognito's own format for `birthdate`), whichever form was sent.
    let birthdate = match b.birthdate.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        None => None,
        Some(d) => match time::parse_birthdate(d, auth.table.now().date()) {
            Ok(d) => Some(time::format_date(d)),
            Err(e) => {
                errors.push(FieldError::new("birthdate", e.to_string()));
                None
            }
        },
    };
    check(errors)?;
    let email = email.ok_or(ApiError::Internal)?;
    let mut attrs = vec![("email".to_string(), email.to_string())];
    for (n, v) in [
        ("name", &b.name),
        ("given_name", &b.given_name),
        ("family_name", &b.family_name),
        ("phone_number", &b.phone_number),
        ("birthdate", &birthdate),
        ("address", &b.address),
        ("gender", &b.gender),
    ] {
        if let Some(v) = v.as_ref().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            attrs.push((n.to_string(), v.to_string()));
        }
    }
    attrs.push(("custom:marketing_consent".into(), b.marketing_consent.unwrap_or(false).to_string()));
    // The normalised email is the username: "Jo@Example.com" and "jo@example.com" are one account.
    let (sub, confirmed) = auth.idp.sign_up(email.as_str(), &b.password, &attrs).await.map_err(idp_error)?;
    Reply::created(&Registered {
        cognito_user_sub: sub,
        username: email.to_string(),
        user_confirmed: confirmed,
        message: "Check your email for a verification code.",
    })
}

/// `username` or `email`: the app sends either.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    pub username: Option<String>,
    pub email: Option<String>,
    pub code: Option<String>,
}

impl Confirm {
    fn identifier(&self, errors: &mut Vec<FieldError>) -> Option<String> {
        identifier_field(
            errors,
            if self.email.is_some() { "email" } else { "username" },
            self.email.as_deref().or(self.username.as_deref()),
        )
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

pub async fn confirm_signup<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let b: Confirm = ctx.json()?;
    let mut errors = Vec::new();
    let who = b.identifier(&mut errors);
    let code = code_field(&mut errors, "code", &b.code);
    check(errors)?;
    let who = who.ok_or(ApiError::Internal)?;
    auth.idp.confirm_sign_up(&who, &code).await.map_err(|e| match e.code() {
        // Same answer for an unknown user, or one already confirmed (Cognito's
        // NotAuthorizedException here: a code used again), as for a wrong code.
        "UserNotFoundException" | "NotAuthorizedException" => code_mismatch(),
        _ => idp_error(e),
    })?;
    Reply::ok(&Done { success: true, message: "Your email is confirmed; you can sign in." })
}

pub async fn resend_verification<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let b: Confirm = ctx.json()?;
    let mut errors = Vec::new();
    let who = b.identifier(&mut errors);
    check(errors)?;
    match auth.idp.resend_code(&who.ok_or(ApiError::Internal)?).await {
        // No hint whether the account exists.
        Ok(()) | Err(IdpError::Refused { .. }) => {
            Reply::ok(&Done { success: true, message: "If the account exists, a new code is on its way." })
        }
        Err(e) => Err(idp_error(e)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: Option<String>,
    pub username: Option<String>,
    pub password: String,
}

#[derive(Serialize)]
struct UserView {
    id: String,
    sub: String,
    username: String,
    email: String,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoggedIn {
    access_token: String,
    id_token: String,
    refresh_token: Option<String>,
    expires_in: i32,
    user: UserView,
}

/// The claims of the id token Cognito just issued to us (read, not trusted
/// for authorisation: that is the access token's job at the API).
fn id_claims(id_token: &str) -> serde_json::Value {
    use base64::Engine;
    id_token
        .split('.')
        .nth(1)
        .and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

pub async fn login<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let b: Login = ctx.json()?;
    let mut errors = Vec::new();
    let field = if b.email.is_some() { "email" } else { "username" };
    let who = identifier_field(&mut errors, field, b.email.as_deref().or(b.username.as_deref()));
    if b.password.is_empty() || b.password.len() > 256 {
        errors.push(FieldError::new("password", "is required"));
    }
    check(errors)?;
    let who = who.ok_or(ApiError::Internal)?;
    ratelimit::hit(&auth.table, LOGIN_ADDRESS_LIMIT, &ctx.source_ip()).await?;
    ratelimit::hit(&auth.table, LOGIN_LIMIT, &who).await?;
    let t: Tokens = auth.idp.login(&who, &b.password).await.map_err(idp_error)?;
    let c = id_claims(&t.id_token);
    let s = |k: &str| c.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let sub = s("sub").unwrap_or_default();
    // Names from the id token, else from the profile PostConfirmation stored.
    let profile = match expenzez_domain::ids::UserId::new(sub.as_str()) {
        Ok(u) => auth.table.get::<UserProfile>(&ItemKey::Profile(u)).await?.map(|v| v.value),
        Err(_) => None,
    };
    let user = UserView {
        id: sub.clone(),
        sub,
        username: s("cognito:username").unwrap_or_else(|| who.clone()),
        email: s("email").unwrap_or_else(|| who.clone()),
        name: s("name").or_else(|| profile.as_ref().map(|p| p.name.clone())),
        given_name: s("given_name").or_else(|| profile.as_ref().and_then(|p| p.first_name.clone())),
        family_name: s("family_name").or_else(|| profile.as_ref().and_then(|p| p.last_name.clone())),
    };
    Reply::ok(&LoggedIn {
        access_token: t.access_token,
        id_token: t.id_token,
        refresh_token: t.refresh_token,
        expires_in: t.expires_in,
        user,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Refresh {
    pub refresh_token: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Refreshed {
    access_token: String,
    id_token: String,
    expires_in: i32,
}

pub async fn refresh<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let b: Refresh = ctx.json()?;
    if b.refresh_token.is_empty() || b.refresh_token.len() > 8192 {
        return Err(ApiError::validation("refreshToken", "is required"));
    }
    let t = auth.idp.refresh(&b.refresh_token).await.map_err(|e| match e.code() {
        "NotAuthorizedException" | "UserNotFoundException" => {
            ApiError::UnauthorizedCode { code: "NotAuthorizedException", message: "Your session has ended; sign in again.".into() }
        }
        _ => idp_error(e),
    })?;
    Reply::ok(&Refreshed { access_token: t.access_token, id_token: t.id_token, expires_in: t.expires_in })
}

/// `{username}` (email or username) as the app sends it, or `{email}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forgot {
    pub username: Option<String>,
    pub email: Option<String>,
}

#[derive(Serialize)]
struct CodeSent {
    success: bool,
    /// Where the code went, masked (`j***@example.com`).
    email: String,
    message: &'static str,
}

pub async fn forgot_password<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let b: Forgot = ctx.json()?;
    let mut errors = Vec::new();
    let field = if b.email.is_some() { "email" } else { "username" };
    let who = identifier_field(&mut errors, field, b.email.as_deref().or(b.username.as_deref()));
    check(errors)?;
    let who = who.ok_or(ApiError::Internal)?;
    let sent = match auth.idp.forgot_password(&who).await {
        Ok(destination) => destination,
        Err(IdpError::Refused { code, .. })
            if code == "UserNotFoundException" || code == "NotAuthorizedException" || code == "InvalidParameterException" =>
        {
            None
        }
        Err(e) => return Err(idp_error(e)),
    };
    // The same answer whether or not the account exists: for an email, its
    // own mask; for a username, Cognito's destination or a placeholder.
    let email = match Email::parse(&who) {
        Ok(e) => e.masked(),
        Err(_) => sent.unwrap_or_else(|| "***@***".into()),
    };
    Reply::ok(&CodeSent { success: true, email, message: "If the account exists, a reset code is on its way." })
}

/// `{username, confirmationCode, newPassword}` as the app sends it (also
/// `email` for `username` and `code` for `confirmationCode`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfirmForgot {
    pub username: Option<String>,
    pub email: Option<String>,
    pub confirmation_code: Option<String>,
    pub code: Option<String>,
    pub new_password: String,
}

pub async fn confirm_forgot_password<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let b: ConfirmForgot = ctx.json()?;
    let mut errors = Vec::new();
    let field = if b.email.is_some() { "email" } else { "username" };
    let who = identifier_field(&mut errors, field, b.email.as_deref().or(b.username.as_deref()));
    let code_name = if b.code.is_some() { "code" } else { "confirmationCode" };
    let code = code_field(&mut errors, code_name, if b.code.is_some() { &b.code } else { &b.confirmation_code });
    password_field(&mut errors, "newPassword", &b.new_password);
    check(errors)?;
    auth.idp.confirm_forgot_password(&who.ok_or(ApiError::Internal)?, &code, &b.new_password).await.map_err(|e| {
        match e.code() {
            // Same answer for an unknown user as for a wrong code.
            "UserNotFoundException" => code_mismatch(),
            "InvalidPasswordException" => ApiError::validation("newPassword", "does not meet the password policy"),
            _ => idp_error(e),
        }
    })?;
    Reply::ok(&Done { success: true, message: "Your password is changed; sign in with the new one." })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForgotUsername {
    pub email: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsernameReminder {
    success: bool,
    display_message: &'static str,
}

/// `POST /auth/forgot-username {email}`: accounts sign in with their email
/// address, so the reminder is that; it never says whether `email` has one.
pub async fn forgot_username<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let b: ForgotUsername = ctx.json()?;
    let mut errors = Vec::new();
    email_field(&mut errors, b.email.as_deref());
    check(errors)?;
    ratelimit::hit(&auth.table, FORGOT_USERNAME_LIMIT, &ctx.source_ip()).await?;
    Reply::ok(&UsernameReminder {
        success: true,
        display_message: "Your username is the email address you registered with. \
                          If an account uses this address, sign in with it, or reset your password.",
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckUser {
    pub username: Option<String>,
}

#[derive(Serialize)]
struct Taken {
    username: String,
}

/// `POST /auth/check-user-status {username}`: registration's live hint.
/// Taken (confirmed or not): 200 `{username}`; free: 404
/// `UserNotFoundException`. Nothing else about the account; rate-limited per caller.
pub async fn check_user_status<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let b: CheckUser = ctx.json()?;
    let mut errors = Vec::new();
    let who = identifier_field(&mut errors, "username", b.username.as_deref());
    check(errors)?;
    let who = who.ok_or(ApiError::Internal)?;
    ratelimit::hit(&auth.table, CHECK_USER_LIMIT, &ctx.source_ip()).await?;
    match auth.idp.user_attributes(&who).await {
        Ok(_) => Reply::ok(&Taken { username: who }),
        Err(e) if e.code() == "UserNotFoundException" => {
            Err(ApiError::NotFoundCode { code: "UserNotFoundException", message: "No account uses this username.".into() })
        }
        Err(e) => Err(idp_error(e)),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountDeleted {
    success: bool,
    rows_deleted: usize,
}

/// Erases the data first, then the Cognito user: if the second step fails,
/// the user can still sign in and run it again.
pub async fn delete_account<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let username = ctx.caller.as_ref().and_then(|c| c.username.clone()).unwrap_or_else(|| user.to_string());
    let rows = account::erase(&auth.table, &user).await?;
    auth.idp.delete_user(&username).await.map_err(idp_error)?;
    Reply::with_status(StatusCode::OK, &AccountDeleted { success: true, rows_deleted: rows })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteData {
    pub confirm: Option<String>,
}

pub async fn delete_user_data<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let b: DeleteData = ctx.json()?;
    if b.confirm.as_deref() != Some("DELETE_ALL_DATA") {
        return Err(ApiError::validation("confirm", "must be \"DELETE_ALL_DATA\""));
    }
    let rows = account::erase_data(&auth.table, &user).await?;
    Reply::ok(&AccountDeleted { success: true, rows_deleted: rows })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Export {
    user_id: String,
    exported_at: expenzez_domain::Timestamp,
    items: Vec<serde_json::Value>,
}

pub async fn export<I: IdentityProvider>(auth: Auth<I>, ctx: Ctx) -> Result<Reply, ApiError> {
    let user = ctx.user()?.clone();
    let items = account::export(&auth.table, &user).await?;
    Reply::ok(&Export { user_id: user.to_string(), exported_at: auth.table.now(), items })
}

#[cfg(test)]
mod tests {
    use super::*;

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
