//! Sign-up, sign-in and the account lifecycle over Cognito (the user-pool
//! API holds credentials; our table holds profiles), the Cognito triggers
//! that keep emails unique, and the erasure and export of a user's data.

pub mod account;
pub mod handlers;
pub mod idp;
pub mod routes;
pub mod triggers;

pub use handlers::Auth;
pub use idp::{Cognito, IdentityProvider};

use expenzez_api::config::ConfigError;
use std::sync::Arc;

/// What every auth function's `main` builds once: the table and the Cognito
/// client for `USER_POOL_ID` / `USER_POOL_CLIENT_ID`.
pub async fn init() -> Result<Auth<Cognito>, ConfigError> {
    let table = expenzez_api::config::init().await?;
    let pool = std::env::var("USER_POOL_ID").map_err(|_| ConfigError::Missing("USER_POOL_ID"))?;
    let client = std::env::var("USER_POOL_CLIENT_ID").map_err(|_| ConfigError::Missing("USER_POOL_CLIENT_ID"))?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let idp = Cognito::new(aws_sdk_cognitoidentityprovider::Client::new(&sdk), pool, client);
    Ok(Auth { table, idp: Arc::new(idp) })
}
