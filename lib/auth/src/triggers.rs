//! The Cognito user-pool triggers. Each takes Cognito's event JSON and must
//! return it; an error refuses the sign-up (PreSignUp) or is retried by
//! Cognito (PostConfirmation), so both are idempotent.

use crate::account::{self, AccountError};
use expenzez_domain::ids::UserId;
use expenzez_store::Table;
use serde_json::Value;
use std::collections::HashMap;

fn attributes(event: &Value) -> HashMap<String, String> {
    event["request"]["userAttributes"]
        .as_object()
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

/// PreSignUp: refuse an email another account already holds.
pub async fn pre_signup(table: &Table, event: Value) -> Result<Value, AccountError> {
    let attrs = attributes(&event);
    account::check_email_free(table, attrs.get("email").map(String::as_str).unwrap_or_default()).await?;
    Ok(event)
}

/// PostConfirmation: create the profile and the email claim (sign-up only;
/// a confirmed password reset fires this trigger too and changes nothing).
pub async fn post_confirmation(table: &Table, event: Value) -> Result<Value, AccountError> {
    if event["triggerSource"].as_str() != Some("PostConfirmation_ConfirmSignUp") {
        return Ok(event);
    }
    let attrs = attributes(&event);
    let sub = attrs.get("sub").ok_or(AccountError::Invalid("sub"))?;
    let user = UserId::new(sub.as_str()).map_err(|_| AccountError::Invalid("sub"))?;
    account::create_account(table, &user, &attrs).await?;
    Ok(event)
}
