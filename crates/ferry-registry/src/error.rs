//! Typed errors of the registry client, with classification helpers.
//!
//! Every request error carries a [`RequestContext`]: the registry, the method, the
//! repository and a short description of what was asked for, plus a redacted URL. No
//! variant ever holds a password, a token or an `Authorization` header.

use std::fmt;
use std::path::PathBuf;

use ferry_image::ImageError;

/// What a request was about, for error messages: `PUT 127.0.0.1:5000/ns/app manifest v1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The registry host as the caller named it (`127.0.0.1:5000`, `quay.io`).
    pub registry: String,
    /// The HTTP method.
    pub method: String,
    /// The repository, when the request is about one.
    pub repository: Option<String>,
    /// What was asked for (`manifest v1`, `blob sha256:...`, `tags`), may be empty.
    pub what: String,
    /// The request URL with credentials and secret-looking query values removed.
    pub url: String,
}

impl fmt::Display for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.registry)?;
        if let Some(repo) = &self.repository {
            write!(f, "/{repo}")?;
        }
        if !self.what.is_empty() {
            write!(f, " {}", self.what)?;
        }
        Ok(())
    }
}

/// One entry of a distribution error body: `{"code": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct ErrorCode {
    /// The code, e.g. `MANIFEST_UNKNOWN`, `UNAUTHORIZED`, `DENIED`.
    #[serde(default)]
    pub code: String,
    /// The human-readable message.
    #[serde(default)]
    pub message: String,
}

/// Codes a registry uses for an operation it does not support.
const UNSUPPORTED_CODES: &[&str] = &["UNSUPPORTED", "DIGEST_INVALID"];
/// Codes a registry uses for refused credentials or permissions.
const AUTH_CODES: &[&str] = &["UNAUTHORIZED", "DENIED"];

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// The connection (TCP or TLS handshake) could not be made.
    Connect,
    /// The request or the answer took too long.
    Timeout,
    /// The connection broke while sending the request or reading the answer.
    Io,
    /// The peer did not speak HTTP.
    Protocol,
    /// Too many redirects or a redirect loop.
    Redirect,
    /// A TLS request answered in plain HTTP: the server speaks http, not https.
    PlainHttp,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "cannot connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Io => "connection failed",
            TransportKind::Protocol => "not a registry answer: the server does not speak HTTP",
            TransportKind::Redirect => "too many redirects",
            TransportKind::PlainHttp => {
                "the server answered plain HTTP to an https request; if it serves http only, \
                 use --tls-verify=false for it (or an http location)"
            }
        })
    }
}

/// Formats registry error codes as ` (CODE: message; CODE2: message2)`.
struct Codes<'a>(&'a [ErrorCode]);

impl fmt::Display for Codes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        f.write_str(" (")?;
        for (i, c) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match (c.code.is_empty(), c.message.is_empty()) {
                (false, false) => write!(f, "{}: {}", c.code, c.message)?,
                (false, true) => f.write_str(&c.code)?,
                _ => f.write_str(&c.message)?,
            }
        }
        f.write_str(")")
    }
}

/// The innermost error of a chain: the one that says what actually happened.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    one_line(&cur.to_string(), 300)
}

/// The class of a transport failure, then its innermost cause unless that says the same.
fn kind_and_cause(kind: TransportKind, source: &reqwest::Error) -> String {
    let kind = kind.to_string();
    let cause = root_cause(source);
    if kind.eq_ignore_ascii_case(&cause) {
        kind
    } else {
        format!("{kind}: {cause}")
    }
}

fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// An error of the registry client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The registry answered with an error status.
    #[error("{context}: {status} {reason}{codes}", reason = reason(*status), codes = Codes(errors))]
    Status {
        /// The request.
        context: Box<RequestContext>,
        /// The HTTP status.
        status: u16,
        /// The registry's error codes, when its body had them.
        errors: Vec<ErrorCode>,
        /// Seconds the registry asked to wait (`Retry-After`).
        retry_after: Option<u64>,
    },
    /// The request failed below HTTP (connection, TLS, I/O, timeout).
    #[error("{context}: {}", kind_and_cause(*kind, source))]
    Transport {
        /// The request.
        context: Box<RequestContext>,
        /// The class of failure.
        kind: TransportKind,
        /// The underlying error (its URL removed).
        #[source]
        source: reqwest::Error,
    },
    /// The server answered, but not as a registry would.
    #[error("{context}: not a registry answer: {detail}")]
    InvalidResponse {
        /// The request.
        context: Box<RequestContext>,
        /// What was wrong.
        detail: String,
    },
    /// Content did not match what was asked for (digest mismatch, unparsable manifest).
    #[error("{context}: {source}")]
    Content {
        /// The request.
        context: Box<RequestContext>,
        /// The model's complaint.
        #[source]
        source: ImageError,
    },
    /// An answer body was larger than allowed.
    #[error("{context}: answer larger than {limit} bytes")]
    TooLarge {
        /// The request.
        context: Box<RequestContext>,
        /// The limit in bytes.
        limit: u64,
    },
    /// Authentication failed (credentials refused, token realm error).
    #[error("{context}: authentication failed: {detail}{codes}", codes = Codes(errors))]
    Auth {
        /// The request.
        context: Box<RequestContext>,
        /// The HTTP status, if the failure came with one.
        status: Option<u16>,
        /// What failed; never contains a secret.
        detail: String,
        /// The registry's error codes, if any.
        errors: Vec<ErrorCode>,
    },
    /// Reading the content to upload failed.
    #[error("{context}: reading the blob source: {source}")]
    Source {
        /// The request.
        context: Box<RequestContext>,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An auth file could not be read, parsed or written.
    #[error("auth file {}: {detail}", path.display())]
    AuthFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
        /// The I/O error, if any.
        #[source]
        source: Option<std::io::Error>,
    },
    /// A docker credential helper failed.
    #[error("credential helper docker-credential-{helper}: {detail}")]
    CredentialHelper {
        /// The helper's name (the part after `docker-credential-`).
        helper: String,
        /// What went wrong (never the helper's output).
        detail: String,
    },
    /// The overall timeout passed, or an answer came too slowly.
    #[error("{context}: timed out: {detail}")]
    TimedOut {
        /// The request.
        context: Box<RequestContext>,
        /// Which limit was reached.
        detail: String,
    },
    /// The client could not be configured (certificates, TLS).
    #[error("client configuration: {detail}")]
    Config {
        /// What went wrong.
        detail: String,
    },
    /// A request the client runs on its own (an upload-opening POST) ended without an
    /// answer: it panicked or the runtime stopped.
    #[error("{what}: the request ended without an answer: {detail}")]
    TaskEnded {
        /// The request.
        what: String,
        /// Why it ended.
        detail: String,
    },
}

impl RegistryError {
    /// The HTTP status of the failed answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            RegistryError::Status { status, .. } => Some(*status),
            RegistryError::Auth { status, .. } => *status,
            _ => None,
        }
    }

    /// The registry's error codes, if any.
    pub fn codes(&self) -> &[ErrorCode] {
        match self {
            RegistryError::Status { errors, .. } | RegistryError::Auth { errors, .. } => errors,
            _ => &[],
        }
    }

    /// The request this error is about, if it is about one.
    pub fn context(&self) -> Option<&RequestContext> {
        match self {
            RegistryError::Status { context, .. }
            | RegistryError::Transport { context, .. }
            | RegistryError::InvalidResponse { context, .. }
            | RegistryError::Content { context, .. }
            | RegistryError::TooLarge { context, .. }
            | RegistryError::Auth { context, .. }
            | RegistryError::Source { context, .. }
            | RegistryError::TimedOut { context, .. } => Some(context),
            _ => None,
        }
    }

    fn has_code(&self, codes: &[&str]) -> bool {
        self.codes()
            .iter()
            .any(|c| codes.contains(&c.code.as_str()))
    }

    /// A 404, or a registry code saying the name, manifest or blob is unknown (a token
    /// realm answering 404 is an authentication failure, not a missing manifest).
    pub fn is_not_found(&self) -> bool {
        if matches!(self, RegistryError::Auth { .. }) {
            return false;
        }
        self.status() == Some(404)
            || self.has_code(&[
                "MANIFEST_UNKNOWN",
                "BLOB_UNKNOWN",
                "NAME_UNKNOWN",
                "BLOB_UPLOAD_UNKNOWN",
            ])
    }

    /// Whether trying again may succeed: connection and I/O failures, 5xx and 429.
    pub fn is_retryable(&self) -> bool {
        match self {
            RegistryError::Transport { kind, .. } => {
                matches!(
                    kind,
                    TransportKind::Connect | TransportKind::Timeout | TransportKind::Io
                )
            }
            RegistryError::Status { status, .. } => {
                *status == 429 || (*status >= 500 && *status != 501 && *status != 505)
            }
            _ => false,
        }
    }

    /// Credentials missing or refused, or permission denied (401, 403, `UNAUTHORIZED`,
    /// `DENIED`).
    pub fn is_auth(&self) -> bool {
        matches!(self, RegistryError::Auth { .. })
            || matches!(self.status(), Some(401 | 403))
            || self.has_code(AUTH_CODES)
    }

    /// The registry does not support the operation (405, `UNSUPPORTED`, or distribution's
    /// 400 `DIGEST_INVALID` for a delete by tag).
    pub fn is_unsupported(&self) -> bool {
        match self.status() {
            Some(405) => true,
            Some(400) => self.has_code(UNSUPPORTED_CODES),
            _ => self.has_code(&["UNSUPPORTED"]),
        }
    }

    /// Seconds the registry asked to wait before trying again.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            RegistryError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Parses a distribution error body (`{"errors": [...]}`); empty when it is not one.
pub(crate) fn parse_error_body(body: &[u8]) -> Vec<ErrorCode> {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        errors: Vec<ErrorCode>,
    }
    let mut errors = serde_json::from_slice::<Body>(body)
        .map(|b| b.errors)
        .unwrap_or_default();
    for e in &mut errors {
        // Keep messages to one short line.
        e.message = one_line(&e.message, 200);
    }
    errors
}

/// Collapses whitespace and cuts `s` to at most `max` characters.
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let mut out: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if out.chars().count() > max {
        out = out.chars().take(max).collect::<String>() + "...";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Box<RequestContext> {
        Box::new(RequestContext {
            registry: "127.0.0.1:5000".into(),
            method: "PUT".into(),
            repository: Some("ns/app".into()),
            what: "manifest v1".into(),
            url: "http://127.0.0.1:5000/v2/ns/app/manifests/v1".into(),
        })
    }

    #[test]
    fn display_is_one_readable_line() {
        let e = RegistryError::Status {
            context: ctx(),
            status: 401,
            errors: parse_error_body(
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}"#,
            ),
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "PUT 127.0.0.1:5000/ns/app manifest v1: 401 Unauthorized (UNAUTHORIZED: authentication required)"
        );
        assert!(e.is_auth());
        assert!(!e.is_retryable());
    }

    #[test]
    fn classification() {
        let st = |status: u16, body: &[u8]| RegistryError::Status {
            context: ctx(),
            status,
            errors: parse_error_body(body),
            retry_after: None,
        };
        assert!(st(503, b"").is_retryable());
        assert!(st(429, b"").is_retryable());
        assert!(!st(404, b"").is_retryable());
        assert!(st(404, b"").is_not_found());
        assert!(st(400, br#"{"errors":[{"code":"DIGEST_INVALID"}]}"#).is_unsupported());
        assert!(st(405, b"").is_unsupported());
        assert!(!st(400, br#"{"errors":[{"code":"MANIFEST_INVALID"}]}"#).is_unsupported());
        assert!(st(403, b"").is_auth());
        assert!(parse_error_body(b"<html>").is_empty());
    }
}
