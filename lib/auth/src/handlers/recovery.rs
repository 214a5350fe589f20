//! Password and username recovery: `POST /auth/forgot-password`,
//! `/auth/confirm-forgot-password`, `/auth/forgot-username`.

use super::{check, Auth};
use super::{code_field, code_mismatch, email_field, identifier_field, idp_error, password_field, Done};
use crate::idp::IdentityProvider;
use crate::idp::IdpError;
use expenzez_api::edge::Reply;
use expenzez_api::error::ApiError;
use expenzez_api::ratelimit::{self, Limit};
use expenzez_api::request::Ctx;
use expenzez_domain::Email;
use serde::{Deserialize, Serialize};

/// Username reminders, per address.
pub const FORGOT_USERNAME_LIMIT: Limit = Limit { scope: "forgot-username", max: 5, window_seconds: 300 };

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
