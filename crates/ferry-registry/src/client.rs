//! The client, its configuration and repository handles.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::Method;

use crate::transport::{Inner, Request, Stats};
use crate::{Credentials, LowSpeed, RegistryError, RetryPolicy};

/// How a [`Client`] reaches registries.
#[derive(Clone)]
pub struct ClientConfig {
    /// Verify TLS certificates (default). `false`: accept invalid certificates and allow
    /// plain http for every registry.
    pub tls_verify: bool,
    /// TLS verification per registry host (`HOST[:PORT]`), overriding `tls_verify` for it
    /// (`--src-tls-verify`, `--dest-tls-verify`). An explicit `true` also means https
    /// only, even for a loopback registry.
    pub tls_verify_hosts: HashMap<String, bool>,
    /// Certificates for every registry (`--cert-dir`): `*.crt` CA certificates trusted
    /// besides the system roots, and a client certificate `NAME.cert` with its key
    /// `NAME.key` presented when a registry asks for one.
    pub cert_dir: Option<PathBuf>,
    /// Directories holding per-registry `HOST[:PORT]/` directories of `*.crt`, `*.cert`
    /// and `*.key` files, as `--cert-dir` (containers-certs.d(5); default
    /// `/etc/containers/certs.d` and `/etc/docker/certs.d`).
    pub certs_d_roots: Vec<PathBuf>,
    /// An explicit auth file (`--authfile`); `None` searches [`crate::authfile::default_paths`].
    pub auth_file: Option<PathBuf>,
    /// Credentials per registry host from flags; they win over auth files.
    pub credentials: HashMap<String, Credentials>,
    /// The retry policy.
    pub retry: RetryPolicy,
    /// The `User-Agent` (default `ferry/VERSION`).
    pub user_agent: Option<String>,
    /// Every request must be done (its answer read) within this long after the client
    /// was made (`--timeout`); default none.
    pub timeout: Option<Duration>,
    /// How long making a connection may take (default 30 s).
    pub connect_timeout: Duration,
    /// How long a connection may stay silent while an answer is awaited (default 60 s).
    pub idle_timeout: Duration,
    /// The slowest answer body accepted (default 1 KiB in 30 s).
    pub low_speed: LowSpeed,
}

impl ClientConfig {
    /// Whether TLS certificates of `host` are verified.
    pub fn verifies_tls(&self, host: &str) -> bool {
        self.tls_verify_hosts
            .get(host)
            .copied()
            .unwrap_or(self.tls_verify)
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            tls_verify: true,
            tls_verify_hosts: HashMap::new(),
            cert_dir: None,
            certs_d_roots: vec![
                PathBuf::from("/etc/containers/certs.d"),
                PathBuf::from("/etc/docker/certs.d"),
            ],
            auth_file: None,
            credentials: HashMap::new(),
            retry: RetryPolicy::default(),
            user_agent: None,
            timeout: None,
            connect_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            low_speed: LowSpeed::default(),
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Credentials print their user name only.
        f.debug_struct("ClientConfig")
            .field("tls_verify", &self.tls_verify)
            .field("tls_verify_hosts", &self.tls_verify_hosts)
            .field("cert_dir", &self.cert_dir)
            .field("certs_d_roots", &self.certs_d_roots)
            .field("auth_file", &self.auth_file)
            .field("credentials", &self.credentials)
            .field("retry", &self.retry)
            .field("user_agent", &self.user_agent)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("low_speed", &self.low_speed)
            .finish()
    }
}

/// Counters of a client since it was made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (token fetches and scheme probes included).
    pub requests: u64,
    /// Bearer tokens fetched from a realm.
    pub token_fetches: u64,
    /// Requests tried again after a retryable failure.
    pub retries: u64,
}

/// A registry client: cheap to clone; one per process shares connections and tokens.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with `config`. The `cert_dir` certificates are checked now; per-host
    /// `certs.d` certificates when the host is first used.
    pub fn new(config: ClientConfig) -> Result<Client, RegistryError> {
        if config.cert_dir.is_some() {
            crate::tls::build_client(&config, "")?;
        }
        Ok(Client {
            inner: Arc::new(Inner {
                budget: crate::retry::Budget::new(config.retry.budget),
                deadline: config.timeout.map(|t| Instant::now() + t),
                config,
                hosts: Mutex::new(HashMap::new()),
                stats: Stats::default(),
                pending_uploads: Mutex::new(HashMap::new()),
                open_uploads: Mutex::new(HashMap::new()),
                next_upload: std::sync::atomic::AtomicU64::new(0),
                opening: std::sync::atomic::AtomicUsize::new(0),
            }),
        })
    }

    /// A handle on `repository` (`ns/app`) of `registry` (`127.0.0.1:5000`, `quay.io`;
    /// `docker.io` is reached at `registry-1.docker.io`).
    pub fn repository(&self, registry: &str, repository: &str) -> Repository {
        Repository {
            client: self.clone(),
            registry: registry.into(),
            name: repository.into(),
            push_intent: false,
        }
    }

    /// Deletes (`DELETE <session>`) every upload session still open: after the work that
    /// opened them was cancelled (its futures dropped), so the registry keeps no partial
    /// upload. That includes the sessions a mount that did not mount opened and no upload
    /// has taken yet, and those whose opening request was still in flight (waited for, up to
    /// a second). Best effort: a refused DELETE is logged, not returned.
    pub async fn abort_uploads(&self) {
        // A session whose opening POST was in flight when the work was cancelled is known
        // once its answer arrives (the POST runs on): wait for those, a second at most.
        let wait_until = Instant::now() + std::time::Duration::from_secs(1);
        while self.inner.opening.load(std::sync::atomic::Ordering::SeqCst) > 0
            && Instant::now() < wait_until
        {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let mut open: Vec<_> = self
            .inner
            .open_uploads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, v)| v)
            .collect();
        let pending: Vec<_> = self
            .inner
            .pending_uploads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        for ((registry, repo, _digest), url) in pending {
            match self.inner.host(&registry) {
                Ok(host) => open.push((host, repo, url)),
                Err(e) => tracing::debug!(error = %e, "deleting a pending upload"),
            }
        }
        for (host, repo, url) in open {
            let scope = format!("repository:{repo}:pull,push");
            let req = crate::request::Request::new(reqwest::Method::DELETE, "")
                .url(url)
                .repo(&repo)
                .scope(&scope)
                .what("cancelled upload".to_string());
            if let Err(e) = self.inner.send(&host, &req).await {
                tracing::debug!(error = %e, "deleting a cancelled upload");
            }
        }
    }

    /// Checks that `registry` answers the API (`GET /v2/`), authenticating if asked.
    pub async fn ping(&self, registry: &str) -> Result<(), RegistryError> {
        let host = self.inner.host(registry)?;
        let req = Request::new(Method::GET, "/v2/").what("API check");
        self.inner.send(&host, &req).await?;
        Ok(())
    }

    /// The counters.
    pub fn stats(&self) -> ClientStats {
        let s = &self.inner.stats;
        ClientStats {
            requests: s.requests.load(Ordering::Relaxed),
            token_fetches: s.token_fetches.load(Ordering::Relaxed),
            retries: s.retries.load(Ordering::Relaxed),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }
}

/// A repository of a registry: cheap to clone.
#[derive(Clone)]
pub struct Repository {
    pub(crate) client: Client,
    pub(crate) registry: Arc<str>,
    pub(crate) name: Arc<str>,
    pub(crate) push_intent: bool,
}

impl fmt::Debug for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Repository({}/{})", self.registry, self.name)
    }
}

impl Repository {
    /// The registry host.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The same repository, every request of which asks for `pull,push` access: a push
    /// that starts with reads (HEADs of blobs and manifests) then costs one bearer token,
    /// not two. Use it for destinations.
    pub fn for_push(mut self) -> Repository {
        self.push_intent = true;
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.client.inner
    }

    pub(crate) fn host(&self) -> Result<Arc<crate::transport::Host>, RegistryError> {
        self.client.inner.host(&self.registry)
    }

    /// `/v2/<name>/<rest>`.
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/v2/{}/{}", self.name, rest)
    }

    /// The scope of reads in this repository (`pull`, or `pull,push` with push intent).
    pub(crate) fn pull_scope(&self) -> String {
        if self.push_intent {
            return self.push_scope();
        }
        format!("repository:{}:pull", self.name)
    }

    /// The pull and push scope of this repository.
    pub(crate) fn push_scope(&self) -> String {
        format!("repository:{}:pull,push", self.name)
    }

    /// A request about this repository needing `scope`.
    pub(crate) fn request(&self, method: Method, rest: &str, scope: &str) -> Request<'_> {
        Request::new(method, self.path(rest))
            .repo(&self.name)
            .scope(scope)
    }
}
