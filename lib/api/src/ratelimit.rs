//! Fixed-window request limits for the public routes that would otherwise
//! let anyone probe accounts (check-user-status, forgot-username) or guess
//! passwords. One `RATE#` item per route, caller and window, counted with
//! version-conditioned writes, gone by TTL when the window ends.

use crate::error::ApiError;
use expenzez_domain::entities::RateWindow;
use expenzez_domain::keys::ItemKey;
use expenzez_store::{Condition, Table};
use sha2::{Digest, Sha256};

/// A limit: at most `max` requests per `window_seconds` per caller.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub scope: &'static str,
    pub max: u32,
    pub window_seconds: i64,
}

/// Counts one request of `caller` (an address or an account name; stored
/// only as a hash) against `limit`: `Ok` while within it, 429 with
/// `Retry-After` (the seconds left in the window) past it.
pub async fn hit(table: &Table, limit: Limit, caller: &str) -> Result<(), ApiError> {
    let now = table.now().epoch_seconds();
    let window = now - now.rem_euclid(limit.window_seconds);
    let subject: String = hex::encode(&Sha256::digest(caller.as_bytes())[..16]);
    let key = ItemKey::RateWindow { scope: limit.scope.into(), subject: subject.clone(), window };
    let retry_after = u32::try_from(window + limit.window_seconds - now).unwrap_or(1).max(1);
    let mut tries = expenzez_store::Retry::new(5);
    while tries.next().await {
        let (next, condition) = match table.get_consistent::<RateWindow>(&key).await? {
            None => (
                RateWindow {
                    scope: limit.scope.into(),
                    subject: subject.clone(),
                    window_start: window,
                    count: 1,
                    ttl: window + limit.window_seconds,
                },
                Condition::MustNotExist,
            ),
            Some(w) if w.value.count >= limit.max => return Err(ApiError::TooManyRequests { retry_after }),
            Some(w) => (RateWindow { count: w.value.count + 1, ..w.value }, Condition::Version(w.version)),
        };
        match table.put(&next, condition).await {
            Ok(_) => return Ok(()),
            Err(e) if e.is_conflict() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    // Contended this hard: the caller is far over any sane rate.
    Err(ApiError::TooManyRequests { retry_after })
}
