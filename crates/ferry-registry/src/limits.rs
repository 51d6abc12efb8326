//! Time limits: the overall deadline of a client and the low-speed limit on answer
//! bodies, so a server that accepts and never answers, or sends a byte a second, cannot
//! hold ferry for long.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::Stream;

use crate::RegistryError;
use crate::error::RequestContext;
use crate::transport::Inner;

/// The slowest answer body accepted: fewer than `bytes` bytes in `window` aborts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LowSpeed {
    /// Bytes that must arrive in every window.
    pub bytes: u64,
    /// The window.
    pub window: Duration,
}

impl Default for LowSpeed {
    /// 1 KiB in 30 s.
    fn default() -> Self {
        LowSpeed {
            bytes: 1024,
            window: Duration::from_secs(30),
        }
    }
}

impl LowSpeed {
    /// What an aborted body is told.
    pub(crate) fn describe(&self) -> String {
        format!(
            "the answer came slower than {} bytes in {:?}",
            self.bytes, self.window
        )
    }
}

/// A body stream that fails when it delivers fewer than `speed.bytes` in `speed.window`.
pub(crate) struct Guarded<S> {
    inner: S,
    speed: LowSpeed,
    got: u64,
    timer: Pin<Box<tokio::time::Sleep>>,
}

/// Guards `stream` with the low-speed limit `speed`.
pub(crate) fn guard<S>(stream: S, speed: LowSpeed) -> Guarded<S> {
    Guarded {
        inner: stream,
        speed,
        got: 0,
        timer: Box::pin(tokio::time::sleep(speed.window)),
    }
}

/// Why a guarded stream failed: the inner error, or too slow.
#[derive(Debug)]
pub(crate) enum GuardError<E> {
    Inner(E),
    TooSlow,
}

impl<S, E> Stream for Guarded<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, GuardError<E>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.got += chunk.len() as u64;
                if this.got >= this.speed.bytes {
                    this.got = 0;
                    let next = tokio::time::Instant::now() + this.speed.window;
                    this.timer.as_mut().reset(next);
                }
                return Poll::Ready(Some(Ok(chunk)));
            }
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(GuardError::Inner(e)))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => {}
        }
        match this.timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(GuardError::TooSlow))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Inner {
    /// The time left before the overall deadline: `Ok(None)` without one, an error naming
    /// `context` once it has passed.
    pub(crate) fn time_left(
        &self,
        context: impl FnOnce() -> RequestContext,
    ) -> Result<Option<Duration>, RegistryError> {
        let (Some(deadline), Some(timeout)) = (self.deadline, self.config.timeout) else {
            return Ok(None);
        };
        match deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => Err(RegistryError::TimedOut {
                context: Box::new(context()),
                detail: format!("the overall timeout of {timeout:?} has passed"),
            }),
        }
    }
}

impl Inner {
    /// The error for a request that failed with `e`: [`RegistryError::TimedOut`] when it
    /// timed out because the overall deadline passed, else a transport error.
    pub(crate) fn failed(&self, e: reqwest::Error, context: RequestContext) -> RegistryError {
        if e.is_timeout()
            && let (Some(deadline), Some(timeout)) = (self.deadline, self.config.timeout)
            && Instant::now() >= deadline
        {
            return RegistryError::TimedOut {
                context: Box::new(context),
                detail: format!("the overall timeout of {timeout:?} has passed"),
            };
        }
        RegistryError::Transport {
            context: Box::new(context),
            kind: crate::response::classify(&e),
            source: e.without_url(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn slow_streams_fail_fast_ones_pass() {
        let speed = LowSpeed {
            bytes: 10,
            window: Duration::from_millis(100),
        };
        // 12 bytes at once, then one byte after 300 ms: the window runs out first.
        let slow = futures_util::stream::iter(0..3).then(|i| async move {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Ok::<_, ()>(Bytes::from(if i == 0 { vec![0u8; 12] } else { vec![0u8] }))
        });
        let mut s = guard(Box::pin(slow), speed);
        assert!(matches!(s.next().await, Some(Ok(_))));
        assert!(matches!(s.next().await, Some(Err(GuardError::TooSlow))));

        // Everything at once passes.
        let fast =
            futures_util::stream::iter(0..5).map(|_| Ok::<_, ()>(Bytes::from(vec![0u8; 10])));
        let all: Vec<_> = guard(Box::pin(fast), speed).collect().await;
        assert_eq!(all.len(), 5);
        assert!(all.iter().all(|r| r.is_ok()));
    }
}
