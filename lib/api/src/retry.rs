//! The one retry loop for calls to third parties (TrueLayer, Expo push): a
//! bounded number of attempts, exponential backoff from a base, a provider's
//! `Retry-After` honoured up to a cap (a Lambda has a deadline).

use std::future::Future;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub max_attempts: u32,
    /// First backoff; doubled per attempt.
    pub base: Duration,
    /// Longest single wait, whatever `Retry-After` says.
    pub max_wait: Duration,
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (after `attempt` failures): the
    /// backoff, or the provider's hint if longer, never above `max_wait`.
    pub fn wait(&self, attempt: u32, hint: Option<Duration>) -> Duration {
        let backoff = self.base.saturating_mul(1 << attempt.saturating_sub(1).min(10));
        hint.unwrap_or(backoff).max(backoff).min(self.max_wait)
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
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call().await {
            Err(e) if attempt < policy.max_attempts => match retryable(&e) {
                Some(hint) => {
                    let wait = policy.wait(attempt, hint);
                    tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, "third-party call will be retried");
                    tokio::time::sleep(wait).await;
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

    #[test]
    fn waits_double_and_honour_hints_up_to_the_cap() {
        let p = RetryPolicy { max_attempts: 5, base: Duration::from_millis(100), max_wait: Duration::from_secs(1) };
        assert_eq!(p.wait(1, None), Duration::from_millis(100));
        assert_eq!(p.wait(3, None), Duration::from_millis(400));
        assert_eq!(p.wait(1, Some(Duration::from_millis(300))), Duration::from_millis(300));
        assert_eq!(p.wait(1, Some(Duration::from_secs(60))), Duration::from_secs(1));
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
