//! Digest verification while a blob streams, holding back the last chunk until the digest
//! is known good, so a destination never receives the whole of a wrong blob.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use ferry_image::{Digest, DigestVerifier};
use ferry_registry::ByteStream;
use futures_util::Stream;

use crate::CopyError;
use crate::stats::Progress;

/// Wraps `inner` so that it yields the same bytes, verifies `expected` (and the size when
/// known) on the fly, and fails instead of yielding the final chunk when they differ.
pub fn verifying(
    inner: ByteStream,
    expected: Digest,
    size: Option<u64>,
    progress: Option<Arc<dyn Progress>>,
) -> ByteStream {
    Box::pin(Verifying {
        verifier: Some(expected.verifier()),
        inner,
        expected,
        size,
        held: None,
        progress,
        done: false,
    })
}

struct Verifying {
    inner: ByteStream,
    verifier: Option<DigestVerifier>,
    expected: Digest,
    size: Option<u64>,
    held: Option<Bytes>,
    progress: Option<Arc<dyn Progress>>,
    done: bool,
}

impl Verifying {
    fn check(&mut self) -> Result<(), std::io::Error> {
        let verifier = self.verifier.take().expect("checked once");
        let len = verifier.len();
        if let Some(size) = self.size
            && size != len
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "blob {} should have {size} bytes, the source sent {len}",
                    self.expected
                ),
            ));
        }
        let actual = verifier.finish();
        if actual != self.expected {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                CopyError::BlobDigestMismatch {
                    expected: self.expected.clone(),
                    actual,
                },
            ));
        }
        Ok(())
    }
}

impl Stream for Verifying {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match this.inner.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(chunk))) => {
                    if chunk.is_empty() {
                        continue;
                    }
                    if let Some(v) = this.verifier.as_mut() {
                        v.update(&chunk);
                    }
                    if let Some(size) = this.size
                        && this.verifier.as_ref().is_some_and(|v| v.len() > size)
                    {
                        this.done = true;
                        return Poll::Ready(Some(Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("blob {} is longer than its {size} bytes", this.expected),
                        ))));
                    }
                    if let Some(p) = &this.progress {
                        p.bytes(chunk.len() as u64);
                    }
                    if let Some(prev) = this.held.replace(chunk) {
                        return Poll::Ready(Some(Ok(prev)));
                    }
                }
                Poll::Ready(None) => {
                    this.done = true;
                    if let Err(e) = this.check() {
                        this.held = None;
                        return Poll::Ready(Some(Err(e)));
                    }
                    return Poll::Ready(this.held.take().map(Ok));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn stream_of(chunks: Vec<&'static [u8]>) -> ByteStream {
        Box::pin(futures_util::stream::iter(
            chunks.into_iter().map(|c| Ok(Bytes::from_static(c))),
        ))
    }

    async fn collect(s: ByteStream) -> (Vec<u8>, Option<std::io::Error>) {
        let mut out = Vec::new();
        let mut s = s;
        while let Some(item) = s.next().await {
            match item {
                Ok(b) => out.extend_from_slice(&b),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    #[tokio::test]
    async fn passes_good_bytes() {
        let d = Digest::sha256(b"hello world");
        let (out, err) = collect(verifying(
            stream_of(vec![b"hello", b" ", b"world"]),
            d,
            Some(11),
            None,
        ))
        .await;
        assert!(err.is_none());
        assert_eq!(out, b"hello world");
    }

    #[tokio::test]
    async fn withholds_last_chunk_of_bad_bytes() {
        let d = Digest::sha256(b"hello world");
        let (out, err) = collect(verifying(
            stream_of(vec![b"hello", b" ", b"wOrld"]),
            d,
            None,
            None,
        ))
        .await;
        assert!(err.unwrap().to_string().contains("wrong bytes"));
        assert_eq!(out, b"hello ", "the final chunk is never released");
    }

    #[tokio::test]
    async fn refuses_wrong_size() {
        let d = Digest::sha256(b"abc");
        let (_, err) = collect(verifying(stream_of(vec![b"abc"]), d.clone(), Some(4), None)).await;
        assert!(err.is_some());
        let (_, err) = collect(verifying(stream_of(vec![b"ab", b"cd"]), d, Some(3), None)).await;
        assert!(err.is_some());
    }
}
