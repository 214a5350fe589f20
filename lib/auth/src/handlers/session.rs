//! Sign-in and token refresh: `POST /auth/login`, `POST /auth/refresh`.

use super::{check, Auth};
use super::{identifier_field, idp_error};
use crate::idp::IdentityProvider;
use crate::idp::Tokens;
use expenzez_api::edge::Reply;
use expenzez_api::error::{ApiError, FieldError};
use expenzez_api::ratelimit::{self, Limit};
use expenzez_api::request::Ctx;
use expenzez_domain::entities::UserProfile;
use expenzez_domain::keys::ItemKey;
use serde::{Deserialize, Serialize};

/// Sign-in attempts per account name, and per address.
pub const LOGIN_LIMIT: Limit = Limit { scope: "login", max: 10, window_seconds: 300 };
pub const LOGIN_ADDRESS_LIMIT: Limit = Limit { scope: "login-ip", max: 100, window_seconds: 300 };

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
