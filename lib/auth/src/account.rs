//! Accounts in the table: the email-uniqueness check of PreSignUp, the
//! profile + email claim created by PostConfirmation, email changes, and the
//! erasure and export of everything a user owns.

use expenzez_api::stores::ProfileStore;
use expenzez_domain::entities::*;
use expenzez_domain::ids::UserId;
use expenzez_domain::keys::{self, ItemKey, Key};
use expenzez_domain::{Email, Timestamp};
use expenzez_store::{Condition, Query, StoreError, Table, TxAction};
use std::collections::HashMap;

/// PreSignUp's refusal; Cognito passes it on inside its error message.
pub const EMAIL_TAKEN_MESSAGE: &str = "this email is already registered";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("this email is already registered")]
    EmailTaken,
    #[error("invalid sign-up data: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// PreSignUp: refuse an email that another account holds.
pub async fn check_email_free(table: &Table, raw_email: &str) -> Result<(), AccountError> {
    let email = Email::parse(raw_email).map_err(|_| AccountError::Invalid("email"))?;
    match table.email_owner(&email).await? {
        Some(_) => Err(AccountError::EmailTaken),
        None => Ok(()),
    }
}

/// The profile a newly confirmed user starts with.
pub fn new_profile(user: &UserId, email: Email, attrs: &HashMap<String, String>, now: Timestamp) -> UserProfile {
    let given = attrs.get("given_name").cloned().filter(|s| !s.is_empty());
    let family = attrs.get("family_name").cloned().filter(|s| !s.is_empty());
    let name = attrs
        .get("name")
        .cloned()
        .filter(|s| !s.is_empty())
        .or_else(|| match (&given, &family) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (Some(g), None) => Some(g.clone()),
            _ => None,
        })
        .unwrap_or_else(|| email.as_str().split('@').next().unwrap_or_default().to_string());
    let mut p = UserProfile::new_account(user.clone(), email, name, now);
    p.preferences.notifications.marketing = attrs.get("custom:marketing_consent").map(|v| v == "true").unwrap_or(false);
    p.first_name = given;
    p.last_name = family;
    p.phone = attrs.get("phone_number").cloned();
    p.address = attrs.get("address").cloned();
    // Register stored it as YYYY-MM-DD; anything else is not a date of birth.
    p.birthdate = attrs.get("birthdate").and_then(|b| expenzez_domain::time::parse_date(b)).map(expenzez_domain::time::format_date);
    p.gender = attrs.get("gender").cloned();
    p
}

/// PostConfirmation: the profile and the email claim in one transaction.
/// Cognito retries triggers, so a second run for the same user succeeds
/// without writing anything.
pub async fn create_account(table: &Table, user: &UserId, attrs: &HashMap<String, String>) -> Result<(), AccountError> {
    let email = Email::parse(attrs.get("email").map(String::as_str).unwrap_or_default()).map_err(|_| AccountError::Invalid("email"))?;
    let now = table.now();
    let profile = new_profile(user, email.clone(), attrs, now);
    let claim = EmailClaim { email: email.clone(), user_id: user.clone(), claimed_at: now };
    let actions = vec![TxAction::put(&profile, Condition::MustNotExist)?, TxAction::put(&claim, Condition::MustNotExist)?];
    match table.transact(actions, None).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_conflict() => {
            let claim = table.get_consistent::<EmailClaim>(&ItemKey::EmailClaim(email)).await?;
            let profile = table.get_consistent::<UserProfile>(&ItemKey::Profile(user.clone())).await?;
            match (claim, profile) {
                (Some(c), Some(_)) if c.value.user_id == *user => Ok(()),
                (Some(c), _) if c.value.user_id != *user => Err(AccountError::EmailTaken),
                _ => Err(AccountError::Store(e)),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Every partition that holds items of `user`.
pub fn partitions(user: &UserId) -> Vec<String> {
    let mut p = vec![keys::user_pk(user), keys::ai_cache_pk(user)];
    p.extend(keys::USER_CACHE_ENDPOINTS.iter().map(|e| keys::api_cache_pk(e, Some(user))));
    p
}

/// Keys of every item of `user` (expired ones included: they are still stored).
async fn all_keys(table: &Table, user: &UserId) -> Result<Vec<Key>, StoreError> {
    let mut keys = Vec::new();
    for pk in partitions(user) {
        // Raw keys only; TTL filtering must not hide items from erasure.
        let out = table.keys_in_partition(&pk).await?;
        keys.extend(out);
    }
    Ok(keys)
}

/// Deletes everything `user` owns: every partition, caches included, and the
/// email claim. The profile and the email claim go first, in one request, so
/// from that instant no route or job writes for this user again (every user
/// write checks the profile in the same request: [`TxAction::account_live`]);
/// a run stopped half-way is finished by running it again. Returns the
/// number of items deleted.
pub async fn erase(table: &Table, user: &UserId) -> Result<usize, StoreError> {
    let mut deleted = 0;
    if let Some(p) = table.get_consistent::<UserProfile>(&ItemKey::Profile(user.clone())).await? {
        let mut actions = vec![TxAction::delete(&ItemKey::Profile(user.clone()), Condition::Version(p.version))];
        let claim = ItemKey::EmailClaim(p.value.email.clone());
        // Only our own claim.
        if let Some(c) = table.get_consistent::<EmailClaim>(&claim).await? {
            if c.value.user_id == *user {
                actions.push(TxAction::delete(&claim, Condition::Version(c.version)));
            }
        }
        deleted += actions.len();
        table.transact(actions, None).await?;
    }
    let keys = all_keys(table, user).await?;
    deleted += keys.len();
    table.batch_delete(&keys).await?;
    Ok(deleted)
}

/// `DELETE /user/data`: deletes everything `user` owns except the account
/// itself. The profile keeps its identity (user id, email, name, creation
/// date, status) and loses everything else (personal details, preferences,
/// device and login traces), so the user stays signed in with the same
/// account (APP-CONTRACT "Auth"). Returns the number of items deleted.
pub async fn erase_data(table: &Table, user: &UserId) -> Result<usize, StoreError> {
    let profile_key = ItemKey::Profile(user.clone());
    let keys: Vec<Key> = all_keys(table, user).await?.into_iter().filter(|k| *k != profile_key.key()).collect();
    let deleted = keys.len();
    table.batch_delete(&keys).await?;
    let now = table.now();
    match table
        .update::<UserProfile, _>(&profile_key, |p| {
            let mut fresh = UserProfile::new_account(p.user_id.clone(), p.email.clone(), p.name.clone(), p.created_at);
            fresh.status = p.status;
            fresh.email_verified = p.email_verified;
            fresh.updated_at = now;
            *p = fresh;
            Ok(())
        })
        .await
    {
        Ok(_) | Err(StoreError::NotFound) => Ok(deleted),
        Err(e) => Err(e),
    }
}

/// Everything `user` owns, as JSON objects without the table's own keys.
///
/// Never exported: OAuth tokens, and account numbers, sort codes and IBANs
/// in full (restricted attributes, SPEC §5). An export is a file that leaves
/// our care (mailed, shared, left on a phone); it carries the masked forms
/// (`accountNumberMasked`, `sortCodeMasked`, `ibanMasked`) that the app
/// shows, and the bank holds the full numbers. So the export decrypts
/// nothing, and no binary attribute (an envelope, a hash) is ever turned
/// into JSON. App-lock PIN hashes and device-fingerprint digests are
/// never exported either.
pub async fn export(table: &Table, user: &UserId) -> Result<Vec<serde_json::Value>, StoreError> {
    const NEVER_EXPORTED: &[&str] = &[PIN_HASH_ATTRIBUTE, FINGERPRINT_HASH_ATTRIBUTE];
    let mut out = Vec::new();
    for pk in partitions(user) {
        let items = table.query_all_items(&Query::table(user.as_str(), pk)).await?;
        for mut item in items {
            item.retain(|name, value| {
                !keys::KEY_ATTRIBUTES.contains(&name.as_str())
                    && !RESTRICTED_ATTRIBUTES.contains(&name.as_str())
                    && !NEVER_EXPORTED.contains(&name.as_str())
                    && !matches!(value, expenzez_store::sdk::types::AttributeValue::B(_))
            });
            let v: serde_json::Value = serde_dynamo::from_item(item).map_err(|e| StoreError::Invalid(format!("export: {e}")))?;
            out.push(v);
        }
    }
    Ok(out)
}
