//! Counting PIN attempts, in DynamoDB, so that no attempt goes uncounted
//! however many arrive at once:
//!
//! 1. An attempt is *charged* before the PIN is checked: one UpdateItem
//!    `ADD failedAttempts 1` on the condition that the item still holds the
//!    hash we read, is not locked, and has fewer than `maxAttempts` failures.
//!    An attempt whose charge is refused is answered 429 without being
//!    checked, so at most `maxAttempts` guesses are ever checked per window,
//!    even when many arrive in parallel.
//! 2. The PIN is checked (argon2id, constant time, off the async threads).
//! 3. Right: one conditional update resets the counters. Wrong, and the
//!    charge reached `maxAttempts`: one conditional update locks it for
//!    [`lock_period_secs`] (growing with each lockout) and clears the count.
//!    After [`MAX_LOCKS`] lockouts only a fresh sign-in (the token's
//!    `auth_time` after the last lockout) unlocks it: the app's `requiresLogout`.

use crate::pin::{Pin, PinHasher};
use crate::store::{Cond, SecurityStore};
use expenzez_api::error::ApiError;
use expenzez_domain::entities::{DevicePin, PIN_HASH_ATTRIBUTE};
use expenzez_domain::ids::{DeviceId, UserId};
use expenzez_domain::Timestamp;
use expenzez_store::sdk::types::AttributeValue;
use expenzez_store::InPlace;
use std::collections::HashMap;

/// Lockouts in a row after which only signing in again unlocks the PIN.
pub const MAX_LOCKS: u32 = 3;
/// The first lockout; each further one doubles it.
pub const FIRST_LOCK_SECS: i64 = 30;
/// The longest single lockout.
pub const MAX_LOCK_SECS: i64 = 24 * 3600;

const FAILED: &str = "failedAttempts";
const LOCKS: &str = "lockCount";
const LOCKED_UNTIL: &str = "lockedUntil";
const LOCKED_AT: &str = "lockedAt";
const VALIDATED: &str = "lastValidatedAt";
const UPDATED: &str = "updatedAt";

/// How long the `n`-th lockout in a row lasts (n ≥ 1): 30 s, 60 s, 120 s, ...
pub fn lock_period_secs(n: u32) -> i64 {
    FIRST_LOCK_SECS.saturating_mul(1i64 << n.saturating_sub(1).min(20)).min(MAX_LOCK_SECS)
}

/// The result of a checked attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Right; the counters are reset. `hash` is the stored hash now.
    Correct { hash: String },
    /// Wrong, and this many attempts remain before a lockout.
    Wrong { remaining: u32 },
}

fn s(v: impl ToString) -> AttributeValue {
    AttributeValue::S(v.to_string())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// The 429 of a locked PIN.
pub fn locked(retry_after_secs: i64, requires_logout: bool) -> ApiError {
    let retry_after = retry_after_secs.clamp(1, u32::MAX as i64) as u32;
    let message = if requires_logout {
        "Too many wrong PINs: sign in again to unlock the app.".to_string()
    } else {
        format!("Too many wrong PINs: try again in {retry_after} seconds.")
    };
    ApiError::Locked { code: "PIN_LOCKED", message, retry_after, requires_logout }
}

fn secs_until(t: Timestamp, now: Timestamp) -> i64 {
    (t.millis() - now.millis() + 999) / 1000
}

/// A sign-in time from the token's `auth_time` claim (epoch seconds).
pub fn signed_in_at(auth_time: Option<&str>) -> Option<Timestamp> {
    auth_time.and_then(|t| t.trim().parse::<i64>().ok()).and_then(|s| Timestamp::from_millis(s.checked_mul(1000)?))
}

/// Why an attempt is refused before checking, if it is, from the item as read.
fn refusal(pin: &DevicePin, max_attempts: u32, now: Timestamp) -> Option<ApiError> {
    let remaining = pin.locked_until.map(|u| secs_until(u, now)).unwrap_or(0);
    if pin.lock_count >= MAX_LOCKS {
        return Some(locked(remaining.max(1), true));
    }
    if remaining > 0 {
        return Some(locked(remaining, false));
    }
    // The attempt that used the last one is being checked and will lock it.
    (pin.failed_attempts >= max_attempts).then(|| locked(1, false))
}

fn cond(expr: &str, names: &[(&str, &str)], values: Vec<(&str, AttributeValue)>) -> Cond {
    (
        expr.to_string(),
        names.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>(),
        values.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<HashMap<_, _>>(),
    )
}

/// Checks `candidate` against the PIN of `device`, counting the attempt as
/// the module explains. `pin` is the item as just read (consistently).
pub async fn attempt<S: SecurityStore>(
    store: &S,
    user: &UserId,
    device: &DeviceId,
    mut pin: DevicePin,
    candidate: &Pin,
    max_attempts: u32,
    signed_in: Option<Timestamp>,
) -> Result<Outcome, ApiError> {
    let now = store.now();
    // Too many lockouts: a sign-in after the last one clears them.
    if pin.lock_count >= MAX_LOCKS && matches!((signed_in, pin.locked_at), (Some(s), Some(l)) if s > l) {
        let c = cond(
            "#ch = :ch AND #cl = :cl",
            &[("#ch", PIN_HASH_ATTRIBUTE), ("#cl", LOCKS)],
            vec![(":ch", s(&pin.pin_hash)), (":cl", n(pin.lock_count))],
        );
        let set = [(FAILED, n(0)), (LOCKS, n(0))];
        let changes = InPlace { set: &set, add: &[], remove: &[LOCKED_UNTIL, LOCKED_AT] };
        pin = match store.update_pin(user, device, changes, c).await? {
            Some(p) => p,
            None => store.pin(user, device).await?.ok_or(ApiError::NotFound)?,
        };
    }
    if let Some(refused) = refusal(&pin, max_attempts, now) {
        return Err(refused);
    }

    // 1. Charge the attempt.
    let c = cond(
        "#ch = :ch AND #cf < :cmax AND #cl < :cmaxl AND (attribute_not_exists(#cu) OR #cu <= :cnow)",
        &[("#ch", PIN_HASH_ATTRIBUTE), ("#cf", FAILED), ("#cl", LOCKS), ("#cu", LOCKED_UNTIL)],
        vec![(":ch", s(&pin.pin_hash)), (":cmax", n(max_attempts)), (":cmaxl", n(MAX_LOCKS)), (":cnow", s(now))],
    );
    let charged = store.update_pin(user, device, InPlace { set: &[], add: &[(FAILED, 1)], remove: &[] }, c).await?;
    let Some(charged) = charged else {
        // Locked, out of attempts, or the PIN changed since it was read.
        let now_pin = store.pin(user, device).await?.ok_or(ApiError::NotFound)?;
        return Err(refusal(&now_pin, max_attempts, now)
            .unwrap_or_else(|| ApiError::Conflict { code: "PIN_CHANGED", message: "The PIN was changed meanwhile; try again.".into() }));
    };

    // 2. Check it, off the async threads (tens of milliseconds of CPU).
    let hash = charged.pin_hash.clone();
    let (c2, h2) = (candidate.clone(), hash.clone());
    let right = tokio::task::spawn_blocking(move || PinHasher::default().verify(&c2, &h2)).await.map_err(|_| ApiError::Internal)?.map_err(
        |_| {
            tracing::error!(user = %user, device = %device, "stored PIN hash is unreadable");
            ApiError::Internal
        },
    )?;

    // 3. Reset, or lock.
    if right {
        let hasher = PinHasher::default();
        let mut stored = hash.clone();
        let mut set = vec![(FAILED, n(0)), (LOCKS, n(0)), (VALIDATED, s(now))];
        if hasher.needs_rehash(&hash) {
            let c3 = candidate.clone();
            stored = tokio::task::spawn_blocking(move || PinHasher::default().hash(&c3)).await.map_err(|_| ApiError::Internal)?;
            set.push((PIN_HASH_ATTRIBUTE, s(&stored)));
        }
        let c = cond("#ch = :ch", &[("#ch", PIN_HASH_ATTRIBUTE)], vec![(":ch", s(&hash))]);
        let changes = InPlace { set: &set, add: &[], remove: &[LOCKED_UNTIL, LOCKED_AT] };
        if store.update_pin(user, device, changes, c).await?.is_none() {
            return Err(ApiError::Conflict { code: "PIN_CHANGED", message: "The PIN was changed meanwhile; try again.".into() });
        }
        return Ok(Outcome::Correct { hash: stored });
    }
    if charged.failed_attempts >= max_attempts {
        let lock_no = charged.lock_count + 1;
        let period = lock_period_secs(lock_no);
        let c = cond(
            "#ch = :ch AND #cf = :cf AND #cl = :cl",
            &[("#ch", PIN_HASH_ATTRIBUTE), ("#cf", FAILED), ("#cl", LOCKS)],
            vec![(":ch", s(&hash)), (":cf", n(charged.failed_attempts)), (":cl", n(charged.lock_count))],
        );
        let set = [(FAILED, n(0)), (LOCKED_UNTIL, s(now.plus_seconds(period))), (LOCKED_AT, s(now)), (UPDATED, s(now))];
        let changes = InPlace { set: &set, add: &[(LOCKS, 1)], remove: &[] };
        // If this loses (a right PIN reset the count meanwhile), the attempt was still wrong.
        if store.update_pin(user, device, changes, c).await?.is_some() {
            tracing::info!(user = %user, device = %device, lock = lock_no, period_secs = period, "PIN locked");
            return Err(locked(period, lock_no >= MAX_LOCKS));
        }
        return Ok(Outcome::Wrong { remaining: 0 });
    }
    Ok(Outcome::Wrong { remaining: max_attempts - charged.failed_attempts })
}

/// Lock state for the status route: (locked now, sign-in required).
pub fn lock_state(pin: &DevicePin, now: Timestamp) -> (bool, bool) {
    let requires_logout = pin.lock_count >= MAX_LOCKS;
    (requires_logout || pin.locked_until.is_some_and(|u| u > now), requires_logout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_periods_grow_and_are_capped() {
        assert_eq!((1..=4).map(lock_period_secs).collect::<Vec<_>>(), vec![30, 60, 120, 240]);
        assert_eq!(lock_period_secs(40), MAX_LOCK_SECS);
        assert_eq!(lock_period_secs(0), 30);
    }

    #[test]
    fn auth_time_is_epoch_seconds() {
        assert_eq!(signed_in_at(Some("1735689600")), Some(Timestamp::parse("2025-01-01T00:00:00Z").unwrap()));
        assert_eq!(signed_in_at(Some("x")), None);
        assert_eq!(signed_in_at(None), None);
    }

    #[test]
    fn locked_bodies_carry_requires_logout_and_retry_after() {
        let e = locked(0, false);
        assert_eq!((e.status().as_u16(), e.retry_after()), (429, Some(1)));
        let b = locked(120, true).body("c");
        assert_eq!((b["requiresLogout"].as_bool(), b["success"].as_bool()), (Some(true), Some(false)));
        assert_eq!(b["error"]["code"], "PIN_LOCKED");
        assert_eq!(b["error"]["retryAfter"], 120);
    }
}
