//! Retries of a whole destination (a tag, a push target) with growing waits, on retryable
//! errors only (connection failures, 5xx, 429). A missing source or a refused login fails
//! at once.

use std::future::Future;
use std::time::Duration;

use super::WorkflowError;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// The wait grows by this much each attempt.
    pub wait: Duration,
    /// Longest wait.
    pub max_wait: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 4,
            wait: Duration::from_secs(10),
            max_wait: Duration::from_secs(120),
        }
    }
}

impl Retry {
    /// The wait before attempt `n` (1-based): none, then `wait`, `2 × wait`, … capped.
    pub fn wait_before(&self, n: u32) -> Duration {
        self.wait
            .saturating_mul(n.saturating_sub(1))
            .min(self.max_wait)
    }

    /// Runs `f` until it succeeds, fails with a non-retryable error, or attempts run out.
    /// Returns the result and the number of attempts made.
    pub async fn run<T, F, Fut>(&self, mut f: F) -> (Result<T, WorkflowError>, u32)
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, WorkflowError>>,
    {
        let attempts = self.attempts.max(1);
        let mut n = 1;
        loop {
            let wait = self.wait_before(n);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            match f(n).await {
                Ok(v) => return (Ok(v), n),
                Err(e) if n < attempts && e.is_retryable() => {
                    tracing::warn!("attempt {n} of {attempts} failed, retrying: {e}");
                    n += 1;
                }
                Err(e) => return (Err(e), n),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn retries_only_retryable() {
        let r = Retry {
            attempts: 3,
            wait: Duration::from_millis(1),
            max_wait: Duration::from_millis(5),
        };
        let calls = AtomicU32::new(0);
        let (res, n) = r
            .run(|_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(WorkflowError::Contended {
                    tag: "t".into(),
                    rounds: 1,
                    missing: "linux/amd64".into(),
                })
            })
            .await;
        assert!(res.is_err());
        assert_eq!((n, calls.load(Ordering::SeqCst)), (3, 3));
        let (res, n) = r
            .run(|_| async { Err::<(), _>(WorkflowError::Invalid("bad".into())) })
            .await;
        assert!(res.is_err());
        assert_eq!(n, 1, "a non-retryable error fails at once");
        let (res, n) = r
            .run(|k| async move {
                if k < 2 {
                    Err(WorkflowError::Contended {
                        tag: "t".into(),
                        rounds: 1,
                        missing: "linux/amd64".into(),
                    })
                } else {
                    Ok(k)
                }
            })
            .await;
        assert_eq!((res.unwrap(), n), (2, 2));
        assert_eq!(r.wait_before(1), Duration::ZERO);
        assert_eq!(r.wait_before(10), Duration::from_millis(5));
        let huge = Retry {
            attempts: u32::MAX,
            wait: Duration::from_secs(86_400),
            max_wait: Duration::from_secs(120),
        };
        assert_eq!(
            huge.wait_before(u32::MAX),
            Duration::from_secs(120),
            "no overflow"
        );
    }
}
