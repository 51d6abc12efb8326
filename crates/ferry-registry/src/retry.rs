//! The retry policy: which failures are tried again, how often, and how long to wait;
//! and the retry budget a client shares across all its requests.

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::RegistryError;

/// How failed requests are retried.
///
/// Connection and I/O errors, 5xx answers and 429 are retried (see
/// [`RegistryError::is_retryable`]); other 4xx never are. The wait doubles from
/// `base_delay` up to `max_delay`, with jitter (a random wait between half and all of
/// it); a `Retry-After` (seconds or an HTTP date) is honoured, capped at `max_delay`.
/// All requests of one client draw on one budget of `budget` retries, refilled slowly by
/// successes, so a dead registry fails fast instead of every request retrying to its limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The wait before the first retry.
    pub base_delay: Duration,
    /// The longest wait between attempts (also the cap of `Retry-After`).
    pub max_delay: Duration,
    /// Retries a client may make in all; every successful request gives back a tenth of
    /// one, up to this number.
    pub budget: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            budget: 50,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The longest wait before attempt `attempt + 1` after `error` ended attempt `attempt`
    /// (counted from 1), or `None` when the error is not retried or attempts are used up.
    /// The actual wait is [`jitter`]ed, except a `Retry-After`, which is waited in full.
    pub fn delay_after(&self, attempt: u32, error: &RegistryError) -> Option<Duration> {
        if attempt >= self.max_attempts || !error.is_retryable() {
            return None;
        }
        if let Some(secs) = error.retry_after() {
            return Some(Duration::from_secs(secs).min(self.max_delay));
        }
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        Some(self.base_delay.saturating_mul(factor).min(self.max_delay))
    }
}

/// A random wait between half of `delay` and all of it, so clients that failed together
/// do not retry together.
pub(crate) fn jitter(delay: Duration) -> Duration {
    let half = delay / 2;
    let span = (delay - half).as_nanos() as u64;
    if span == 0 {
        return delay;
    }
    // `RandomState` is seeded randomly per instance: enough randomness for a jitter.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(span);
    half + Duration::from_nanos(h.finish() % (span + 1))
}

/// The retries left to a client, in thousandths of a retry.
#[derive(Debug)]
pub(crate) struct Budget {
    left: AtomicU64,
    max: u64,
}

/// A retry costs this much of the budget; a success gives back a tenth of it.
const RETRY_COST: u64 = 1000;

impl Budget {
    pub fn new(retries: u32) -> Budget {
        let max = u64::from(retries) * RETRY_COST;
        Budget {
            left: AtomicU64::new(max),
            max,
        }
    }

    /// Takes one retry from the budget; `false` when it is spent.
    pub fn take(&self) -> bool {
        self.left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| {
                l.checked_sub(RETRY_COST)
            })
            .is_ok()
    }

    /// A request succeeded: gives back a tenth of a retry.
    pub fn refund(&self) {
        let _ = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| {
                (l < self.max).then(|| (l + RETRY_COST / 10).min(self.max))
            });
    }
}

impl crate::transport::Inner {
    /// The wait before trying again after `error` ended attempt `attempt`, taken from the
    /// client's retry budget; `None`: give up. Logs and counts the retry.
    pub(crate) fn retry_wait(&self, attempt: u32, error: &RegistryError) -> Option<Duration> {
        let delay = self.config.retry.delay_after(attempt, error)?;
        if !self.budget.take() {
            tracing::debug!(error = %error, "retry budget spent, not retrying");
            return None;
        }
        let delay = if error.retry_after().is_some() {
            delay
        } else {
            jitter(delay)
        };
        tracing::debug!(error = %error, delay_ms = delay.as_millis() as u64, "retrying");
        self.stats.retries.fetch_add(1, Ordering::Relaxed);
        Some(delay)
    }
}

/// Parses a `Retry-After` value: seconds, or an HTTP date (seconds from now, 0 when past).
pub(crate) fn parse_retry_after(value: &str) -> Option<u64> {
    parse_retry_after_at(value, SystemTime::now())
}

fn parse_retry_after_at(value: &str, now: SystemTime) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).map_or(0, |d| d.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RequestContext;

    fn status(status: u16, retry_after: Option<u64>) -> RegistryError {
        RegistryError::Status {
            context: Box::new(RequestContext {
                registry: "r".into(),
                method: "GET".into(),
                repository: None,
                what: String::new(),
                url: String::new(),
            }),
            status,
            errors: vec![],
            retry_after,
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            ..RetryPolicy::default()
        };
        let e = status(503, None);
        assert_eq!(p.delay_after(1, &e), Some(Duration::from_millis(100)));
        assert_eq!(p.delay_after(2, &e), Some(Duration::from_millis(200)));
        assert_eq!(p.delay_after(3, &e), Some(Duration::from_millis(400)));
        assert_eq!(p.delay_after(4, &e), Some(Duration::from_millis(500)));
        assert_eq!(p.delay_after(9, &e), Some(Duration::from_millis(500)));
        assert_eq!(p.delay_after(10, &e), None);
        assert_eq!(p.delay_after(40, &e), None);
    }

    #[test]
    fn jitter_stays_between_half_and_all() {
        let d = Duration::from_millis(400);
        let waits: Vec<Duration> = (0..50).map(|_| jitter(d)).collect();
        assert!(
            waits
                .iter()
                .all(|w| *w >= Duration::from_millis(200) && *w <= d)
        );
        assert!(waits.iter().any(|w| *w != waits[0]), "no jitter: {waits:?}");
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay_after(1, &status(429, Some(1))),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            p.delay_after(1, &status(429, Some(3600))),
            Some(Duration::from_secs(10))
        );
        assert_eq!(p.delay_after(1, &status(404, None)), None);
        assert_eq!(p.delay_after(1, &status(400, None)), None);
        assert_eq!(parse_retry_after(" 2 "), Some(2));
    }

    #[test]
    fn retry_after_http_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after_at("Wed, 21 Oct 2015 07:28:07 GMT", now),
            Some(7)
        );
        // A date in the past: retry now.
        assert_eq!(
            parse_retry_after_at("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(parse_retry_after_at("soon", now), None);
        // Far in the future: capped by the policy.
        let far = status(
            503,
            parse_retry_after_at("Thu, 21 Oct 2055 07:28:00 GMT", now),
        );
        assert_eq!(
            RetryPolicy::default().delay_after(1, &far),
            Some(Duration::from_secs(10))
        );
    }

    #[test]
    fn budget_is_shared_and_refilled_by_successes() {
        let b = Budget::new(2);
        assert!(b.take() && b.take());
        assert!(!b.take());
        for _ in 0..10 {
            b.refund();
        }
        assert!(b.take());
        assert!(!b.take());
        // Refunds never exceed the budget.
        for _ in 0..100 {
            b.refund();
        }
        assert!(b.take() && b.take() && !b.take());
    }
}
