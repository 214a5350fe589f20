//! Sign-up: `POST /auth/register`, `/auth/confirm-signup`,
//! `/auth/resend-verification`, and registration's live "username taken"
//! hint, `POST /auth/check-user-status`.

use super::{check, Auth};
use super::{code_field, code_mismatch, email_field, identifier_field, idp_error, password_field, short, Done};
use crate::idp::IdentityProvider;
use crate::idp::IdpError;
use expenzez_api::edge::Reply;
use expenzez_api::error::{ApiError, FieldError};
use expenzez_api::ratelimit::{self, Limit};
use expenzez_api::request::Ctx;
use expenzez_domain::time;
use serde::{Deserialize, Serialize};

/// Registration's live "username taken" hint, per address.
pub const CHECK_USER_LIMIT: Limit = Limit { scope: "check-user", max: 20, window_seconds: 60 };

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
