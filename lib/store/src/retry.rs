//! The one retry mechanism of the code base: bounded attempts, with an
//! exponential backoff and full jitter between them (the wait before attempt
//! `n` is uniform in `[0, min(cap, base × 2^n)]`), so writers that lost the
//! same race, or clients that hit the same throttling, spread out instead of
//! retrying in lockstep.
//!
//! ```ignore
//! let mut tries = Retry::new(10);
//! while tries.next().await {
//!     match attempt().await { Err(e) if e.is_conflict() => continue, other => return other }
//! }
//! ```

use std::time::Duration;

/// First backoff ceiling.
const BASE: Duration = Duration::from_millis(20);
/// Largest backoff ceiling.
const CAP: Duration = Duration::from_secs(2);

/// The wait before attempt `attempt` (0 is the first attempt: no wait).
pub fn backoff(attempt: u32) -> Duration {
    backoff_between(attempt, BASE, CAP)
}

/// [`backoff`] with its own base and cap (e.g. a provider's HTTP retries).
pub fn backoff_between(attempt: u32, base: Duration, cap: Duration) -> Duration {
    use rand::Rng;
    if attempt == 0 {
        return Duration::ZERO;
    }
    let ceiling = base.saturating_mul(1u32 << (attempt - 1).min(16)).min(cap);
    Duration::from_micros(rand::thread_rng().gen_range(0..=ceiling.as_micros() as u64))
}

/// Bounded attempts with [`backoff`] between them.
#[derive(Debug, Clone)]
pub struct Retry {
    next: u32,
    max: u32,
}

impl Retry {
    /// At most `max` attempts (at least one).
    pub fn new(max: u32) -> Self {
        Self { next: 0, max: max.max(1) }
    }

    /// Starts the next attempt, after waiting its backoff; `false` once all
    /// attempts are used.
    pub async fn next(&mut self) -> bool {
        if self.next >= self.max {
            return false;
        }
        let wait = backoff(self.next);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        self.next += 1;
        true
    }

    /// Attempts started so far.
    pub fn attempts(&self) -> u32 {
        self.next
    }

    /// Whether another attempt remains after the current one.
    pub fn has_more(&self) -> bool {
        self.next < self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_attempt_waits_nothing_and_waits_stay_under_the_ceiling() {
        assert_eq!(backoff(0), Duration::ZERO);
        for attempt in 1..40 {
            let ceiling = BASE.saturating_mul(1 << (attempt - 1).min(16)).min(CAP);
            for _ in 0..50 {
                assert!(backoff(attempt) <= ceiling, "attempt {attempt}");
            }
        }
    }

    #[test]
    fn jitter_is_full_not_a_fixed_fraction() {
        // Full jitter draws from [0, ceiling]: some waits fall under a quarter of it.
        let ceiling = CAP;
        let low = (0..400).filter(|_| backoff(12) < ceiling / 4).count();
        assert!(low > 20, "{low} of 400 waits under a quarter of the ceiling");
    }

    #[tokio::test]
    async fn attempts_are_bounded() {
        let mut r = Retry::new(3);
        let mut n = 0;
        while r.next().await {
            n += 1;
        }
        assert_eq!((n, r.attempts(), r.has_more()), (3, 3, false));
        let mut once = Retry::new(0);
        assert!(once.next().await);
        assert!(!once.next().await);
    }
}
