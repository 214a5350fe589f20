//! Cognito's triggers, emulated: the local Cognito (moto) does not invoke
//! Lambda triggers, so the local identity provider calls the same trigger
//! code at the moment Cognito would, with an event of Cognito's shape.

use expenzez_auth::idp::{IdentityProvider, IdpError, IdpResult, Tokens};
use expenzez_auth::{triggers, Cognito};
use expenzez_store::Table;
use serde_json::{json, Value};
use std::collections::HashMap;

pub struct LocalCognito {
    pub inner: Cognito,
    pub table: Table,
    pub pool_id: String,
    pub client_id: String,
}

impl LocalCognito {
    fn event(&self, source: &str, username: &str, attrs: &HashMap<String, String>) -> Value {
        json!({
            "version": "1",
            "triggerSource": source,
            "region": std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-2".into()),
            "userPoolId": self.pool_id,
            "userName": username,
            "callerContext": {"awsSdkVersion": "aws-sdk-rust", "clientId": self.client_id},
            "request": {"userAttributes": attrs},
            "response": {}
        })
    }
}

/// What Cognito answers when a trigger fails.
fn refused(e: impl std::fmt::Display) -> IdpError {
    IdpError::Refused { code: "UserLambdaValidationException".into(), message: format!("trigger failed with error {e}") }
}

impl IdentityProvider for LocalCognito {
    async fn sign_up(&self, username: &str, password: &str, attributes: &[(String, String)]) -> IdpResult<(String, bool)> {
        let attrs: HashMap<String, String> = attributes.iter().cloned().collect();
        triggers::pre_signup(&self.table, self.event("PreSignUp_SignUp", username, &attrs)).await.map_err(refused)?;
        self.inner.sign_up(username, password, attributes).await
    }
    async fn confirm_sign_up(&self, username: &str, code: &str) -> IdpResult<()> {
        self.inner.confirm_sign_up(username, code).await?;
        let attrs = self.inner.user_attributes(username).await?;
        triggers::post_confirmation(&self.table, self.event("PostConfirmation_ConfirmSignUp", username, &attrs)).await.map_err(refused)?;
        Ok(())
    }
    async fn resend_code(&self, username: &str) -> IdpResult<()> {
        self.inner.resend_code(username).await
    }
    async fn login(&self, username: &str, password: &str) -> IdpResult<Tokens> {
        self.inner.login(username, password).await
    }
    async fn refresh(&self, refresh_token: &str) -> IdpResult<Tokens> {
        self.inner.refresh(refresh_token).await
    }
    async fn forgot_password(&self, username: &str) -> IdpResult<Option<String>> {
        self.inner.forgot_password(username).await
    }
    async fn confirm_forgot_password(&self, username: &str, code: &str, new_password: &str) -> IdpResult<()> {
        self.inner.confirm_forgot_password(username, code, new_password).await
    }
    async fn delete_user(&self, username: &str) -> IdpResult<()> {
        self.inner.delete_user(username).await
    }
    async fn user_attributes(&self, username: &str) -> IdpResult<HashMap<String, String>> {
        self.inner.user_attributes(username).await
    }
}

/// The auth handlers' dependencies for a local pool on the local stack. The
/// Cognito client is the deployed one; its endpoint is the local code front
/// ([`crate::cognito_codes`]) before moto, so confirmation and reset codes
/// are real (issued, logged, checked once).
pub async fn local_auth(table: &Table, pool_id: &str, client_id: &str) -> expenzez_auth::Auth<LocalCognito> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let moto = std::env::var("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER").expect("the local stack's Cognito endpoint is set");
    let front = crate::cognito_codes::start(&moto, pool_id).await.expect("the local Cognito code front starts");
    let config = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk).endpoint_url(front).build();
    let inner = Cognito::new(aws_sdk_cognitoidentityprovider::Client::from_conf(config), pool_id, client_id);
    let idp = LocalCognito { inner, table: table.clone(), pool_id: pool_id.into(), client_id: client_id.into() };
    expenzez_auth::Auth { table: table.clone(), idp: std::sync::Arc::new(idp) }
}
