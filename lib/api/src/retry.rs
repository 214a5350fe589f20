//! Calls to third parties (TrueLayer, Expo push) over the one retry primitive
//! ([`expenzez_store::Retry`]): bounded attempts, exponential backoff with full
//! jitter from a base, a provider's `Retry-After` honoured up to a cap (a
//! Lambda has a deadline).

use expenzez_store::Retry;
use std::future::Future;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub max_attempts: u32,
    /// Ceiling of the first backoff; doubled per attempt (full jitter below it).
    pub base: Duration,
    /// Longest single wait, whatever `Retry-After` says.
    pub max_wait: Duration,
}

impl RetryPolicy {
    /// The attempts of one call: the store's [`Retry`] with this policy's waits.
    pub fn attempts(&self) -> Retry {
        Retry::between(self.max_attempts, self.base, self.max_wait)
    }
}

/// Runs `call` until it succeeds, fails for good, or the attempts are spent.
/// `retryable` says whether an error is worth another attempt and, if so,
/// the provider's `Retry-After` hint (`Some(None)`: retry, no hint).
pub async fn retry<T, E, Fut>(
    policy: &RetryPolicy,
    mut call: impl FnMut() -> Fut,
    retryable: impl Fn(&E) -> Option<Option<Duration>>,
) -> Result<T, E>
where
    Fut: Future<Output = Result<T, E>>,
{
    let mut tries = policy.attempts();
    let mut hint = None;
    loop {
        tries.next_after(hint).await;
        match call().await {
            Err(e) if tries.has_more() => match retryable(&e) {
                Some(h) => {
                    hint = h;
                    tracing::warn!(attempt = tries.attempts(), "third-party call will be retried");
                }
                None => return Err(e),
            },
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    const FAST: RetryPolicy = RetryPolicy { max_attempts: 3, base: Duration::from_millis(1), max_wait: Duration::from_millis(5) };

    #[tokio::test]
    async fn waits_stay_under_the_doubling_ceiling_and_honour_hints_up_to_the_cap() {
        let p = RetryPolicy { max_attempts: 5, base: Duration::from_millis(100), max_wait: Duration::from_secs(1) };
        let mut r = p.attempts();
        assert!(r.next().await);
        assert!(r.wait(None) <= Duration::from_millis(100));
        assert_eq!(r.wait(Some(Duration::from_millis(300))), Duration::from_millis(300));
        assert_eq!(r.wait(Some(Duration::from_secs(60))), Duration::from_secs(1));
    }

    #[tokio::test]
    async fn retries_only_what_is_retryable_and_stops_after_the_attempts() {
        let calls = AtomicU32::new(0);
        let r: Result<(), u32> = retry(&FAST, || async { Err(calls.fetch_add(1, Ordering::SeqCst)) }, |_| Some(None)).await;
        assert_eq!((r, calls.load(Ordering::SeqCst)), (Err(2), 3));
        let calls = AtomicU32::new(0);
        let r: Result<(), u32> = retry(&FAST, || async { Err(calls.fetch_add(1, Ordering::SeqCst)) }, |_| None).await;
        assert_eq!((r, calls.load(Ordering::SeqCst)), (Err(0), 1));
        let calls = AtomicU32::new(0);
        let r: Result<u32, u32> = retry(
            &FAST,
            || async {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                if n < 1 {
                    Err(n)
                } else {
                    Ok(n)
                }
            },
            |_| Some(None),
        )
        .await;
        assert_eq!(r, Ok(1));
    }
}
