//! The identity provider port (Cognito's user-pool API) and its AWS implementation.

use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType};
use aws_sdk_cognitoidentityprovider::Client;
use std::collections::HashMap;
use std::future::Future;

/// Tokens of a signed-in user. Debug never shows them.
#[derive(Clone, Default)]
pub struct Tokens {
    pub access_token: String,
    pub id_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: i32,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(<redacted>)")
    }
}

/// What the identity provider answered, by its error code.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IdpError {
    /// An error code of the user-pool API (`UsernameExistsException`, ...).
    #[error("identity provider refused: {code}")]
    Refused { code: String, message: String },
    #[error("identity provider unavailable")]
    Unavailable,
}

impl IdpError {
    pub fn code(&self) -> &str {
        match self {
            IdpError::Refused { code, .. } => code,
            IdpError::Unavailable => "Unavailable",
        }
    }
}

pub type IdpResult<T> = Result<T, IdpError>;

/// The user-pool operations the auth functions use.
pub trait IdentityProvider: Send + Sync + 'static {
    /// Registers a user; returns its `sub` and whether it is already confirmed.
    fn sign_up(
        &self,
        username: &str,
        password: &str,
        attributes: &[(String, String)],
    ) -> impl Future<Output = IdpResult<(String, bool)>> + Send;
    fn confirm_sign_up(&self, username: &str, code: &str) -> impl Future<Output = IdpResult<()>> + Send;
    fn resend_code(&self, username: &str) -> impl Future<Output = IdpResult<()>> + Send;
    fn login(&self, username: &str, password: &str) -> impl Future<Output = IdpResult<Tokens>> + Send;
    fn refresh(&self, refresh_token: &str) -> impl Future<Output = IdpResult<Tokens>> + Send;
    /// Sends a reset code; returns where it went, masked as Cognito masks it (`j***@e***`).
    fn forgot_password(&self, username: &str) -> impl Future<Output = IdpResult<Option<String>>> + Send;
    fn confirm_forgot_password(&self, username: &str, code: &str, new_password: &str) -> impl Future<Output = IdpResult<()>> + Send;
    /// Deletes the user (by username or `sub`).
    fn delete_user(&self, username: &str) -> impl Future<Output = IdpResult<()>> + Send;
    fn user_attributes(&self, username: &str) -> impl Future<Output = IdpResult<HashMap<String, String>>> + Send;
}

/// Cognito over aws-sdk-cognitoidentityprovider.
#[derive(Debug, Clone)]
pub struct Cognito {
    client: Client,
    pool_id: String,
    client_id: String,
}

impl Cognito {
    pub fn new(client: Client, pool_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self { client, pool_id: pool_id.into(), client_id: client_id.into() }
    }
}

fn map<E: ProvideErrorMetadata, R>(e: SdkError<E, R>) -> IdpError {
    match &e {
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("Unknown").to_string();
            if code == "InternalErrorException" || code == "Unknown" {
                IdpError::Unavailable
            } else {
                IdpError::Refused { code, message: se.err().message().unwrap_or_default().chars().take(200).collect() }
            }
        }
        _ => IdpError::Unavailable,
    }
}

fn tokens(r: Option<&aws_sdk_cognitoidentityprovider::types::AuthenticationResultType>) -> IdpResult<Tokens> {
    let r = r.ok_or(IdpError::Refused { code: "ChallengeRequired".into(), message: "an extra sign-in step is required".into() })?;
    Ok(Tokens {
        access_token: r.access_token().unwrap_or_default().to_string(),
        id_token: r.id_token().unwrap_or_default().to_string(),
        refresh_token: r.refresh_token().map(str::to_string),
        expires_in: r.expires_in(),
    })
}

impl IdentityProvider for Cognito {
    async fn sign_up(&self, username: &str, password: &str, attributes: &[(String, String)]) -> IdpResult<(String, bool)> {
        let attrs = attributes
            .iter()
            .map(|(n, v)| AttributeType::builder().name(n).value(v).build().map_err(|_| IdpError::Unavailable))
            .collect::<Result<Vec<_>, _>>()?;
        let out = self
            .client
            .sign_up()
            .client_id(&self.client_id)
            .username(username)
            .password(password)
            .set_user_attributes(Some(attrs))
            .send()
            .await
            .map_err(map)?;
        Ok((out.user_sub().to_string(), out.user_confirmed()))
    }
    async fn confirm_sign_up(&self, username: &str, code: &str) -> IdpResult<()> {
        self.client.confirm_sign_up().client_id(&self.client_id).username(username).confirmation_code(code).send().await.map_err(map)?;
        Ok(())
    }
    async fn resend_code(&self, username: &str) -> IdpResult<()> {
        self.client.resend_confirmation_code().client_id(&self.client_id).username(username).send().await.map_err(map)?;
        Ok(())
    }
    async fn login(&self, username: &str, password: &str) -> IdpResult<Tokens> {
        let out = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(map)?;
        tokens(out.authentication_result())
    }
    async fn refresh(&self, refresh_token: &str) -> IdpResult<Tokens> {
        let out = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .send()
            .await
            .map_err(map)?;
        tokens(out.authentication_result())
    }
    async fn forgot_password(&self, username: &str) -> IdpResult<Option<String>> {
        let out = self.client.forgot_password().client_id(&self.client_id).username(username).send().await.map_err(map)?;
        Ok(out.code_delivery_details().and_then(|d| d.destination()).map(str::to_string))
    }
    async fn confirm_forgot_password(&self, username: &str, code: &str, new_password: &str) -> IdpResult<()> {
        self.client
            .confirm_forgot_password()
            .client_id(&self.client_id)
            .username(username)
            .confirmation_code(code)
            .password(new_password)
            .send()
            .await
            .map_err(map)?;
        Ok(())
    }
    async fn delete_user(&self, username: &str) -> IdpResult<()> {
        match self.client.admin_delete_user().user_pool_id(&self.pool_id).username(username).send().await.map_err(map) {
            // Already gone: deleting again is fine (re-runs after a partial failure).
            Err(IdpError::Refused { code, .. }) if code == "UserNotFoundException" => Ok(()),
            other => other.map(|_| ()),
        }
    }
    async fn user_attributes(&self, username: &str) -> IdpResult<HashMap<String, String>> {
        let out = self.client.admin_get_user().user_pool_id(&self.pool_id).username(username).send().await.map_err(map)?;
        Ok(out.user_attributes().iter().map(|a| (a.name().to_string(), a.value().unwrap_or_default().to_string())).collect())
    }
}
