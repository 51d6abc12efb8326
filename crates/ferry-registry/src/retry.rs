//! The retry policy: which failures are tried again, how often, and how long to wait.

use std::time::Duration;

use crate::RegistryError;

/// How failed requests are retried.
///
/// Connection and I/O errors, 5xx answers and 429 are retried (see
/// [`RegistryError::is_retryable`]); other 4xx never are. The wait doubles from
/// `base_delay` up to `max_delay`; a `Retry-After` in seconds is honoured, capped at
/// `max_delay`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The wait before the first retry.
    pub base_delay: Duration,
    /// The longest wait between attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
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

    /// The wait before attempt `attempt + 1` after `error` ended attempt `attempt`
    /// (counted from 1), or `None` when the error is not retried or attempts are used up.
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

/// Parses a `Retry-After` value given in seconds (HTTP dates are ignored).
pub(crate) fn parse_retry_after(value: &str) -> Option<u64> {
    value.trim().parse::<u64>().ok()
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
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
