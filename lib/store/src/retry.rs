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
    base: Duration,
    cap: Duration,
}

impl Retry {
    /// At most `max` attempts (at least one), with the store's backoff
    /// (conflicts and throttling: 20 ms doubling, at most 2 s).
    pub fn new(max: u32) -> Self {
        Self::between(max, BASE, CAP)
    }

    /// At most `max` attempts with [`backoff_between`] `base` and `cap`
    /// (a third party's retries, which want longer waits).
    pub fn between(max: u32, base: Duration, cap: Duration) -> Self {
        Self { next: 0, max: max.max(1), base, cap }
    }

    /// Starts the next attempt, after waiting its backoff; `false` once all
    /// attempts are used.
    pub async fn next(&mut self) -> bool {
        self.next_after(None).await
    }

    /// [`Retry::next`], waiting at least `hint` (a provider's `Retry-After`)
    /// when one is given, but never longer than the cap.
    pub async fn next_after(&mut self, hint: Option<Duration>) -> bool {
        if self.next >= self.max {
            return false;
        }
        let wait = self.wait(hint);
        if !wait.is_zero() {
            tracing::debug!(attempt = self.next + 1, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
        self.next += 1;
        true
    }

    /// The wait before the next attempt: the jittered backoff, raised to
    /// `hint` if given, never above the cap (none before the first).
    pub fn wait(&self, hint: Option<Duration>) -> Duration {
        if self.next == 0 {
            return Duration::ZERO;
        }
        let jittered = backoff_between(self.next, self.base, self.cap);
        hint.map_or(jittered, |h| jittered.max(h)).min(self.cap)
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

    #[tokio::test]
    async fn a_hint_raises_the_wait_up_to_the_cap() {
        let mut r = Retry::between(5, Duration::from_millis(1), Duration::from_millis(50));
        assert_eq!(r.wait(Some(Duration::from_secs(9))), Duration::ZERO, "no wait before the first attempt");
        assert!(r.next().await);
        assert_eq!(r.wait(Some(Duration::from_millis(30))), Duration::from_millis(30));
        assert_eq!(r.wait(Some(Duration::from_secs(60))), Duration::from_millis(50));
        assert!(r.wait(None) <= Duration::from_millis(1));
    }
}
