//! Transport: per-host HTTP clients, the https/http decision for loopback registries,
//! sending with authentication and retries, and reading answers safely.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::header::{CONTENT_LENGTH, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use url::Url;

use crate::auth::{Challenge, Credentials, TokenCache};
use crate::error::{RequestContext, parse_error_body};
pub(crate) use crate::request::{Body, Request, Stats, Target, redact_url};
use crate::response::{ERROR_BODY_LIMIT, WithoutUrlRef, read_limited};
use crate::{ByteStream, ClientConfig, RegistryError, tls};

/// What is known about one registry host.
pub(crate) struct Host {
    /// The name callers use (`docker.io`, `127.0.0.1:5000`).
    pub name: String,
    /// The name the API is reached at (`registry-1.docker.io` for `docker.io`).
    pub api: String,
    pub client: reqwest::Client,
    /// `https://API/` or `http://API/`, decided once.
    pub base: tokio::sync::OnceCell<Url>,
    /// The last challenge the registry sent, so later requests authenticate up front.
    pub challenge: Mutex<Option<Challenge>>,
    pub tokens: Mutex<TokenCache>,
    /// Serializes token fetches so concurrent requests share one.
    pub token_lock: tokio::sync::Mutex<()>,
    /// Credentials, looked up on first need.
    pub creds: tokio::sync::OnceCell<Option<Credentials>>,
    /// The largest request body known to pass (0 = no limit seen).
    pub body_limit: AtomicU64,
}

/// An upload session in flight: its host, repository and session URL.
pub(crate) type OpenUpload = (Arc<Host>, String, Url);

/// The shared state of a client.
pub(crate) struct Inner {
    pub config: ClientConfig,
    pub hosts: Mutex<HashMap<String, Arc<Host>>>,
    pub stats: Stats,
    /// Retries left to all requests of the client.
    pub budget: crate::retry::Budget,
    /// When the overall timeout ends, if there is one.
    pub deadline: Option<Instant>,
    /// Upload sessions opened by a mount that did not mount, by (registry, repo, digest).
    pub pending_uploads: Mutex<HashMap<(String, String, String), Url>>,
    /// Upload sessions in flight (id: host, repository, session URL), for
    /// [`Client::abort_uploads`](crate::Client::abort_uploads) on cancellation.
    pub open_uploads: Mutex<HashMap<u64, OpenUpload>>,
    /// The id of the next entry of `open_uploads`.
    pub next_upload: std::sync::atomic::AtomicU64,
    /// Upload-opening `POST`s (uploads and mounts) still waiting for their answer: they run
    /// to their end even when the work that sent them is cancelled, and
    /// [`Client::abort_uploads`](crate::Client::abort_uploads) waits for them.
    pub opening: std::sync::atomic::AtomicUsize,
}

/// Counts an upload-opening request in [`Inner::opening`] while it lives.
pub(crate) struct Opening(pub Arc<Inner>);

impl Opening {
    pub fn new(inner: Arc<Inner>) -> Opening {
        inner
            .opening
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Opening(inner)
    }
}

impl Drop for Opening {
    fn drop(&mut self) {
        self.0
            .opening
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The host name the API of `registry` is served at.
pub(crate) fn api_host(registry: &str) -> &str {
    match registry {
        "docker.io" | "index.docker.io" => "registry-1.docker.io",
        other => other,
    }
}

impl Inner {
    /// The state of `registry`, created on first use.
    pub fn host(&self, registry: &str) -> Result<Arc<Host>, RegistryError> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = hosts.get(registry) {
            return Ok(Arc::clone(h));
        }
        let api = api_host(registry).to_string();
        let host = Arc::new(Host {
            name: registry.to_string(),
            client: tls::build_client(&self.config, registry)?,
            api,
            base: tokio::sync::OnceCell::new(),
            challenge: Mutex::new(None),
            tokens: Mutex::new(TokenCache::default()),
            token_lock: tokio::sync::Mutex::new(()),
            creds: tokio::sync::OnceCell::new(),
            body_limit: AtomicU64::new(0),
        });
        hosts.insert(registry.to_string(), Arc::clone(&host));
        Ok(host)
    }

    /// A context for errors about `req` sent to `url`.
    pub fn context(&self, host: &Host, req: &Request<'_>, url: Option<&Url>) -> RequestContext {
        RequestContext {
            registry: host.name.clone(),
            method: req.method.to_string(),
            repository: req.repository.map(str::to_string),
            what: req.what.clone(),
            url: url.map(redact_url).unwrap_or_default(),
        }
    }

    /// The base URL of `host`: https, or for loopback hosts (any host whose TLS is not
    /// verified) whichever of https and http answers, decided once with a `GET /v2/`
    /// whose challenge is remembered. A host with TLS verification explicitly on gets
    /// https only.
    pub async fn base(&self, host: &Host) -> Result<Url, RegistryError> {
        host.base
            .get_or_try_init(|| async {
                let https = parse_base("https", &host.api)?;
                let https_only = match self.config.tls_verify_hosts.get(&host.name) {
                    Some(verify) => *verify,
                    None => self.config.tls_verify && !tls::is_loopback(&host.name),
                };
                if https_only {
                    return Ok(https);
                }
                let https_err = match self.probe(host, &https).await {
                    Ok(_) => return Ok(https),
                    Err(e) if e.is_connect() => e,
                    Err(e) => return Err(self.transport_error(host, &https, "GET", e)),
                };
                tracing::debug!(host = %host.name, "https failed, trying plain http");
                let http = parse_base("http", &host.api)?;
                match self.probe(host, &http).await {
                    // A TLS server answers plain http with 400: then the TLS error is the
                    // one worth reporting (an untrusted certificate, usually).
                    Ok(status) if status != 400 => Ok(http),
                    Ok(_) => Err(self.transport_error(host, &https, "GET", https_err)),
                    Err(e) if e.is_connect() => {
                        Err(self.transport_error(host, &https, "GET", https_err))
                    }
                    Err(e) => Err(self.transport_error(host, &http, "GET", e)),
                }
            })
            .await
            .cloned()
    }

    async fn probe(&self, host: &Host, base: &Url) -> Result<u16, reqwest::Error> {
        let url = base.join("v2/").unwrap_or_else(|_| base.clone());
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let mut rb = host.client.get(url.clone());
        if let Some(left) = self.deadline.map(|d| d.saturating_duration_since(start)) {
            rb = rb.timeout(left.max(std::time::Duration::from_millis(1)));
        }
        let resp = rb.send().await?;
        tracing::debug!(method = "GET", url = %redact_url(&url), status = resp.status().as_u16(),
            elapsed_ms = start.elapsed().as_millis() as u64, "probe");
        if resp.status() == StatusCode::UNAUTHORIZED {
            self.remember_challenge(host, resp.headers());
        }
        Ok(resp.status().as_u16())
    }

    fn transport_error(
        &self,
        host: &Host,
        url: &Url,
        method: &str,
        e: reqwest::Error,
    ) -> RegistryError {
        let context = RequestContext {
            registry: host.name.clone(),
            method: method.to_string(),
            repository: None,
            what: String::new(),
            url: redact_url(url),
        };
        self.failed(e, context)
    }

    /// Stores the challenge of a 401 answer; returns it.
    pub fn remember_challenge(&self, host: &Host, headers: &HeaderMap) -> Option<Challenge> {
        let challenge = headers
            .get_all(http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(crate::auth::parse_challenge)
            .max_by_key(|c| matches!(c, Challenge::Bearer { .. }))?;
        *host.challenge.lock().unwrap_or_else(|e| e.into_inner()) = Some(challenge.clone());
        Some(challenge)
    }

    /// The absolute URL of a request target.
    pub async fn resolve(&self, host: &Host, target: &Target) -> Result<Url, RegistryError> {
        match target {
            Target::Url(u) => Ok(u.clone()),
            Target::Path(p) => {
                let base = self.base(host).await?;
                base.join(p.trim_start_matches('/'))
                    .map_err(|e| RegistryError::Config {
                        detail: format!("bad request path {p:?}: {e}"),
                    })
            }
        }
    }

    /// Sends a request with a replayable body, authenticating as needed and retrying per
    /// the policy. Answers with a status of 400 or more become errors.
    pub async fn send(
        &self,
        host: &Host,
        req: &Request<'_>,
    ) -> Result<reqwest::Response, RegistryError> {
        let mut attempt = 1;
        loop {
            let result = match self
                .attempt(host, req, &mut || match &req.body {
                    Body::Empty => None,
                    Body::Bytes(b) => Some(reqwest::Body::from(b.clone())),
                })
                .await
            {
                Ok(resp) => self.check(host, req, resp).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(resp) => {
                    self.budget.refund();
                    return Ok(resp);
                }
                Err(e) => match self.retry_wait(attempt, &e) {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(e),
                },
            }
        }
    }

    /// Sends a request with a replayable body once (authenticating as needed), without
    /// retries: for steps whose repetition the caller must decide (upload chunks).
    pub async fn send_once(
        &self,
        host: &Host,
        req: &Request<'_>,
    ) -> Result<reqwest::Response, RegistryError> {
        let resp = self
            .attempt(host, req, &mut || match &req.body {
                Body::Empty => None,
                Body::Bytes(b) => Some(reqwest::Body::from(b.clone())),
            })
            .await?;
        self.check(host, req, resp).await
    }

    /// Sends a request once with a streamed body (no retry, and no replay after a 401:
    /// authenticate with a body-less request first). The caller sets `Content-Length`.
    pub async fn send_stream(
        &self,
        host: &Host,
        req: &Request<'_>,
        stream: ByteStream,
    ) -> Result<reqwest::Response, RegistryError> {
        let mut stream = Some(stream);
        let resp = self
            .attempt(host, req, &mut || {
                stream.take().map(reqwest::Body::wrap_stream)
            })
            .await;
        self.check(host, req, resp?).await
    }

    /// One attempt: sends, and on a 401 obtains credentials or a token and sends once more.
    async fn attempt(
        &self,
        host: &Host,
        req: &Request<'_>,
        body: &mut (dyn FnMut() -> Option<reqwest::Body> + Send),
    ) -> Result<reqwest::Response, RegistryError> {
        let url = self.resolve(host, &req.target).await?;
        let base = self.base(host).await?;
        let same_host = url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default();
        let mut authz = if same_host {
            self.authorization(host, req, None, false).await?
        } else {
            None
        };
        let mut retried_auth = false;
        loop {
            let resp = self
                .send_raw(
                    host,
                    req,
                    &url,
                    authz.as_ref().map(|a| a.header.as_str()),
                    body(),
                )
                .await?;
            if resp.status() != StatusCode::UNAUTHORIZED || !same_host {
                return Ok(resp);
            }
            let challenge = self.remember_challenge(host, resp.headers());
            let refused_fresh = authz.as_ref().is_some_and(|a| a.fresh);
            if let Some(a) = &authz
                && let Some(t) = &a.token
            {
                host.tokens
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(t);
            }
            // A streamed body cannot be sent twice.
            let replayable = !req.streamed;
            if retried_auth || refused_fresh || challenge.is_none() || !replayable {
                let user = self.credentials(host).await.ok().flatten();
                let detail = match (&authz, user) {
                    _ if !replayable => {
                        "authentication required in the middle of a streamed upload".to_string()
                    }
                    (Some(_), Some(c)) => format!("credentials of user {:?} refused", c.username),
                    (Some(_), None) => "anonymous access refused".to_string(),
                    (None, _) => {
                        "the registry asks for an authentication scheme ferry does not speak"
                            .to_string()
                    }
                };
                return Err(self.auth_error(host, req, &url, resp, detail).await);
            }
            retried_auth = true;
            authz = self
                .authorization(host, req, challenge.as_ref(), true)
                .await?;
            if authz.is_none() {
                let detail = format!(
                    "authentication required and no credentials for {}",
                    host.name
                );
                return Err(self.auth_error(host, req, &url, resp, detail).await);
            }
        }
    }

    async fn auth_error(
        &self,
        host: &Host,
        req: &Request<'_>,
        url: &Url,
        resp: reqwest::Response,
        detail: String,
    ) -> RegistryError {
        let status = resp.status().as_u16();
        let body = read_limited(resp, ERROR_BODY_LIMIT, self.config.low_speed)
            .await
            .unwrap_or_default();
        RegistryError::Auth {
            context: Box::new(self.context(host, req, Some(url))),
            status: Some(status),
            detail,
            errors: parse_error_body(&body),
        }
    }

    /// Sends one HTTP request as is; logs it.
    async fn send_raw(
        &self,
        host: &Host,
        req: &Request<'_>,
        url: &Url,
        authorization: Option<&str>,
        body: Option<reqwest::Body>,
    ) -> Result<reqwest::Response, RegistryError> {
        let mut rb = host.client.request(req.method.clone(), url.clone());
        if let Some(left) = self.time_left(|| self.context(host, req, Some(url)))? {
            rb = rb.timeout(left);
        }
        for (k, v) in &req.headers {
            rb = rb.header(k, v);
        }
        if let Some(a) = authorization
            && let Ok(mut v) = HeaderValue::from_str(a)
        {
            v.set_sensitive(true);
            rb = rb.header(http::header::AUTHORIZATION, v);
        }
        match body {
            Some(b) => rb = rb.body(b),
            None if matches!(req.method, Method::PUT | Method::POST | Method::PATCH)
                && !req.headers.iter().any(|(k, _)| k == CONTENT_LENGTH) =>
            {
                rb = rb.header(CONTENT_LENGTH, "0");
            }
            None => {}
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        let result = rb.send().await;
        let elapsed_ms = start.elapsed().as_millis() as u64;
        match result {
            Ok(resp) => {
                tracing::debug!(method = %req.method, url = %redact_url(url),
                    status = resp.status().as_u16(), elapsed_ms, "request");
                Ok(resp)
            }
            Err(e) => {
                tracing::debug!(method = %req.method, url = %redact_url(url), error = %e.without_url_ref(),
                    elapsed_ms, "request failed");
                Err(self.failed(e, self.context(host, req, Some(url))))
            }
        }
    }
}

fn parse_base(scheme: &str, api: &str) -> Result<Url, RegistryError> {
    Url::parse(&format!("{scheme}://{api}/")).map_err(|e| RegistryError::Config {
        detail: format!("bad registry name {api:?}: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_hosts() {
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
        assert_eq!(api_host("quay.io"), "quay.io");
    }
}
