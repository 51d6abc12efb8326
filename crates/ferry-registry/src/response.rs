//! Reading answers: status checks with registry error codes, bounded body reads, and
//! the classification of transport failures.

use futures_util::StreamExt;
use http::Method;
use http::header::RETRY_AFTER;

use crate::error::{TransportKind, parse_error_body};
use crate::limits::{GuardError, LowSpeed, guard};
use crate::retry::parse_retry_after;
use crate::transport::{Host, Inner, Request};
use crate::{ByteStream, RegistryError};

/// How much of an error body is read.
pub(crate) const ERROR_BODY_LIMIT: u64 = 64 * 1024;

impl Inner {
    /// Turns an answer with a status of 400 or more into an error.
    pub async fn check(
        &self,
        host: &Host,
        req: &Request<'_>,
        resp: reqwest::Response,
    ) -> Result<reqwest::Response, RegistryError> {
        let status = resp.status();
        if status.as_u16() < 400 {
            return Ok(resp);
        }
        let url = resp.url().clone();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = if req.method == Method::HEAD {
            Vec::new()
        } else {
            read_limited(resp, ERROR_BODY_LIMIT, self.config.low_speed)
                .await
                .unwrap_or_default()
        };
        Err(RegistryError::Status {
            context: Box::new(self.context(host, req, Some(&url))),
            status: status.as_u16(),
            errors: parse_error_body(&body),
            retry_after,
        })
    }
}

/// Extension to display a reqwest error without its URL.
pub(crate) trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let mut s = String::new();
        let mut cur: Option<&dyn std::error::Error> = Some(self);
        let mut first = true;
        while let Some(e) = cur {
            let text = if first {
                match self.url() {
                    Some(u) => e.to_string().replace(&format!(" ({u})"), ""),
                    None => e.to_string(),
                }
            } else {
                e.to_string()
            };
            if !first {
                s.push_str(": ");
            }
            s.push_str(&text);
            first = false;
            cur = e.source();
        }
        s
    }
}

/// The class of a reqwest failure.
pub(crate) fn classify(e: &reqwest::Error) -> TransportKind {
    if e.is_timeout() {
        return TransportKind::Timeout;
    }
    if e.is_redirect() {
        return TransportKind::Redirect;
    }
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && (h.is_parse() || h.is_parse_too_large())
        {
            return TransportKind::Protocol;
        }
        // rustls's complaint when the first bytes of a "TLS" answer are plain HTTP.
        if err.to_string().contains("InvalidContentType") {
            return TransportKind::PlainHttp;
        }
        cur = err.source();
    }
    if e.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Io
    }
}

/// Reads a whole answer body, refusing more than `limit` bytes or a body slower than
/// `speed`.
pub(crate) async fn read_limited(
    resp: reqwest::Response,
    limit: u64,
    speed: LowSpeed,
) -> Result<Vec<u8>, ReadError> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(ReadError::TooLarge);
    }
    let mut out = Vec::with_capacity(resp.content_length().unwrap_or(0).min(limit) as usize);
    let mut stream = guard(resp.bytes_stream(), speed);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| match e {
            GuardError::Inner(e) => ReadError::Http(e),
            GuardError::TooSlow => ReadError::TooSlow,
        })?;
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Err(ReadError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Why reading a body failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    TooLarge,
    TooSlow,
    Http(reqwest::Error),
}

/// A blob answer as a stream of bytes, guarded by the low-speed limit `speed`.
pub(crate) fn body_stream(resp: reqwest::Response, speed: LowSpeed) -> ByteStream {
    Box::pin(guard(resp.bytes_stream(), speed).map(move |r| {
        r.map_err(|e| match e {
            GuardError::Inner(e) => std::io::Error::other(e.without_url()),
            GuardError::TooSlow => {
                std::io::Error::new(std::io::ErrorKind::TimedOut, speed.describe())
            }
        })
    }))
}

impl Inner {
    /// Reads a body of at most `limit` bytes, with errors in terms of `req`.
    pub async fn body(
        &self,
        host: &Host,
        req: &Request<'_>,
        resp: reqwest::Response,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let url = resp.url().clone();
        read_limited(resp, limit, self.config.low_speed)
            .await
            .map_err(|e| {
                let context = Box::new(self.context(host, req, Some(&url)));
                match e {
                    ReadError::TooLarge => RegistryError::TooLarge { context, limit },
                    ReadError::TooSlow => RegistryError::TimedOut {
                        context,
                        detail: self.config.low_speed.describe(),
                    },
                    ReadError::Http(e) => RegistryError::Transport {
                        context,
                        kind: classify(&e),
                        source: e.without_url(),
                    },
                }
            })
    }
}
