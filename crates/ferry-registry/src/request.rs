//! Requests: what a request to a registry is, the client's counters, and URLs made safe
//! for logs and errors.

use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use http::Method;
use http::header::{HeaderName, HeaderValue};
use url::Url;

use crate::auth::ScopeSet;

/// Query parameters whose values may be shown in logs and errors.
const SAFE_QUERY_KEYS: &[&str] = &["n", "last", "digest", "mount", "from", "service", "scope"];

/// A URL for logs and errors: no user info, secret-looking query values replaced.
pub(crate) fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if SAFE_QUERY_KEYS.contains(&k.as_ref()) {
                    v.into_owned()
                } else {
                    "<redacted>".to_string()
                };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// Counters of a client.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub requests: AtomicU64,
    pub token_fetches: AtomicU64,
    pub retries: AtomicU64,
}

/// The body of a request.
pub(crate) enum Body {
    Empty,
    Bytes(Bytes),
}

/// Where a request goes.
pub(crate) enum Target {
    /// A path (and query) below the registry's base URL, e.g. `/v2/ns/app/tags/list`.
    Path(String),
    /// An absolute URL (a `Location` or `Link` the registry sent).
    Url(Url),
}

/// A request to a registry.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub target: Target,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Body,
    /// Bearer scopes the request needs.
    pub scopes: ScopeSet,
    pub repository: Option<&'a str>,
    pub what: String,
    /// The body is streamed by [`Inner::send_stream`] and cannot be replayed.
    pub streamed: bool,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Request {
            method,
            target: Target::Path(path.into()),
            headers: Vec::new(),
            body: Body::Empty,
            scopes: ScopeSet::default(),
            repository: None,
            what: String::new(),
            streamed: false,
        }
    }

    pub fn url(mut self, url: Url) -> Self {
        self.target = Target::Url(url);
        self
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    pub fn body(mut self, body: Bytes) -> Self {
        self.body = Body::Bytes(body);
        self
    }

    pub fn scope(mut self, scope: &str) -> Self {
        self.scopes.add(scope);
        self
    }

    pub fn repo(mut self, repository: &'a str) -> Self {
        self.repository = Some(repository);
        self
    }

    pub fn what(mut self, what: impl Into<String>) -> Self {
        self.what = what.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_urls() {
        let u = Url::parse(
            "https://bob:pw@s3.example.com/blob?X-Amz-Signature=abc&digest=sha256:1&n=5",
        )
        .unwrap();
        let r = redact_url(&u);
        assert!(
            !r.contains("bob") && !r.contains("pw") && !r.contains("abc"),
            "{r}"
        );
        assert!(r.contains("digest=sha256%3A1") && r.contains("n=5"), "{r}");
    }
}
