//! Real `docker-registry` (CNCF distribution 2.8) processes on 127.0.0.1.

mod builder;
pub mod log;

use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use builder::{RegistryBuilder, reserve_port};
pub use log::LoggedRequest;

use crate::pki::TlsMaterial;
use crate::token::TokenServer;

/// A running `docker-registry serve` on an ephemeral 127.0.0.1 port.
///
/// Storage lives in a temporary directory; the process is killed and the directory removed
/// on drop. Deletes and schema 1 manifests are enabled. Its access log (stdout) is kept in
/// the temp dir and parsed by [`Registry::requests`] and [`Registry::count`].
pub struct Registry {
    child: Option<Child>,
    port: u16,
    tls: Option<TlsMaterial>,
    credentials: Option<(String, String)>,
    token: Option<TokenServer>,
    log_mark: AtomicUsize,
    client: Option<reqwest::blocking::Client>,
    // Declared last: removed after the process is gone.
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("base_url", &self.base_url())
            .field("dir", &self.dir.path())
            .field("auth", &self.auth_kind())
            .finish_non_exhaustive()
    }
}

pub(crate) fn base_url_for(port: u16, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://127.0.0.1:{port}")
}

/// A blocking client that trusts the CA of `tls` (if any), presents its client identity
/// (if any) and never follows redirects.
pub(crate) fn http_client_for(tls: Option<&TlsMaterial>) -> reqwest::blocking::Client {
    crate::off_runtime(|| {
        let mut b = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .no_proxy();
        if let Some(m) = tls {
            b = b.add_root_certificate(
                reqwest::Certificate::from_pem(m.ca_pem.as_bytes()).expect("parse CA PEM"),
            );
        }
        if let Some(c) = tls.and_then(|m| m.client.as_ref()) {
            let pem = format!("{}{}", c.cert_pem, c.key_pem);
            b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("client identity"));
        }
        b.build().expect("build reqwest client")
    })
}

impl Registry {
    /// A builder for registries with TLS, htpasswd or token authentication, or a fixed port.
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::new()
    }

    /// A plain-HTTP registry without authentication.
    pub fn plain() -> Registry {
        RegistryBuilder::new().start()
    }

    /// An HTTPS registry (certificate signed by a fresh test CA) with one htpasswd user.
    pub fn tls_htpasswd(user: &str, password: &str) -> Registry {
        RegistryBuilder::new()
            .tls(true)
            .htpasswd(user, password)
            .start()
    }

    /// A plain-HTTP registry using token authentication against a realm run by the kit.
    pub fn token(users: &[(&str, &str)]) -> Registry {
        RegistryBuilder::new().token(users).start()
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        base_url_for(self.port, self.is_tls())
    }

    /// True when the registry serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// PEM file of the CA that signed the server certificate (TLS registries only).
    pub fn ca_cert_path(&self) -> Option<PathBuf> {
        self.is_tls().then(|| self.dir.path().join("certs/ca.crt"))
    }

    /// PEM text of the CA (TLS registries only).
    pub fn ca_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|m| m.ca_pem.as_str())
    }

    /// Directory holding `ca.crt`, usable as skopeo's `--cert-dir` (TLS registries only).
    pub fn cert_dir(&self) -> Option<PathBuf> {
        self.is_tls().then(|| self.dir.path().join("certs"))
    }

    /// A `certs.d`-style root for clients (TLS registries only): it holds the directory
    /// `127.0.0.1:PORT/` with the server CA as `ca.crt` and, when the registry demands a
    /// client certificate, `client.cert` + `client.key`.
    pub fn certs_d(&self) -> Option<PathBuf> {
        let m = self.tls.as_ref()?;
        let root = self.dir.path().join("certs.d");
        let dir = root.join(self.host());
        std::fs::create_dir_all(&dir).expect("create certs.d dir");
        std::fs::write(dir.join("ca.crt"), &m.ca_pem).expect("write certs.d ca.crt");
        if let Some(c) = &m.client {
            std::fs::write(dir.join("client.cert"), &c.cert_pem).expect("write client.cert");
            std::fs::write(dir.join("client.key"), &c.key_pem).expect("write client.key");
        }
        Some(root)
    }

    /// The htpasswd user, or the first token-realm user; `None` for anonymous registries.
    pub fn credentials(&self) -> Option<(String, String)> {
        self.credentials.clone()
    }

    /// `"none"`, `"htpasswd"` or `"token"`.
    pub fn auth_kind(&self) -> &'static str {
        if self.token.is_some() {
            "token"
        } else if self.credentials.is_some() {
            "htpasswd"
        } else {
            "none"
        }
    }

    /// The storage root directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The registry's temp dir (config, certificates, logs, data).
    pub fn root_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The token realm URL (token registries only).
    pub fn token_realm(&self) -> Option<String> {
        self.token.as_ref().map(|t| t.realm())
    }

    /// Number of requests the token realm has answered (0 without a realm).
    pub fn token_requests(&self) -> usize {
        self.token.as_ref().map_or(0, |t| t.requests())
    }

    /// A blocking HTTP client that trusts this registry's CA (no credentials attached).
    pub fn http_client(&self) -> reqwest::blocking::Client {
        self.client.clone().expect("client")
    }

    /// Stops the process and starts it again on the same port with the same data.
    ///
    /// # Panics
    /// When it does not come back.
    pub fn restart(&mut self) {
        self.settle();
        self.kill();
        let child = builder::spawn_and_wait(
            self.dir.path(),
            self.port,
            &self.base_url(),
            self.client.as_ref().expect("client"),
        )
        .unwrap_or_else(|e| panic!("ferry-testkit: registry restart failed: {e}"));
        self.child = Some(child);
    }

    /// Stops the process (SIGKILL); the data stays until drop. Requests now fail to connect.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits until the access log stops growing (the registry writes each line just after
    /// answering). Every accounting method calls this first.
    pub fn settle(&self) {
        log::wait_quiet(
            &self.dir.path().join("stdout.log"),
            Duration::from_millis(60),
            Duration::from_secs(3),
        );
    }

    /// Every request logged since start (across restarts).
    pub fn all_requests(&self) -> Vec<LoggedRequest> {
        self.settle();
        let text = std::fs::read_to_string(self.dir.path().join("stdout.log")).unwrap_or_default();
        log::parse_log(&text)
    }

    /// Requests logged since the last [`Registry::reset_log_mark`] (or since start).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.requests_since(self.log_mark.load(Ordering::SeqCst))
    }

    /// Requests logged after `mark` (a value from [`Registry::mark`]).
    pub fn requests_since(&self, mark: usize) -> Vec<LoggedRequest> {
        self.all_requests().into_iter().skip(mark).collect()
    }

    /// A position in the log: pass it to [`Registry::requests_since`] or
    /// [`Registry::count_since`] to see only later requests.
    pub fn mark(&self) -> usize {
        self.all_requests().len()
    }

    /// Makes [`Registry::requests`] and [`Registry::count`] forget everything logged so far.
    pub fn reset_log_mark(&self) {
        self.log_mark.store(self.mark(), Ordering::SeqCst);
    }

    /// Requests since the log mark whose method is `method` (`*` for any) and whose path
    /// (with query) contains `path_contains`.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        count_matching(&self.requests(), method, path_contains)
    }

    /// Like [`Registry::count`] but after an explicit `mark`.
    pub fn count_since(&self, mark: usize, method: &str, path_contains: &str) -> usize {
        count_matching(&self.requests_since(mark), method, path_contains)
    }

    /// The registry's stderr (application log) so far, for diagnostics.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Flags for skopeo commands without a direction (`inspect`, `list-tags`, `delete`):
    /// `--tls-verify=false` (plain) or `--cert-dir DIR` (TLS), plus `--creds u:p`.
    pub fn skopeo_tls_args(&self) -> Vec<String> {
        self.skopeo_args_with("--")
    }

    /// [`Registry::skopeo_tls_args`] for the source side of `skopeo copy` (`--src-...`).
    pub fn src_args(&self) -> Vec<String> {
        self.skopeo_args_with("--src-")
    }

    /// [`Registry::skopeo_tls_args`] for the destination side of `skopeo copy` (`--dest-...`).
    pub fn dest_args(&self) -> Vec<String> {
        self.skopeo_args_with("--dest-")
    }

    fn skopeo_args_with(&self, prefix: &str) -> Vec<String> {
        let mut args = match self.cert_dir() {
            Some(dir) => vec![format!("{prefix}cert-dir"), dir.display().to_string()],
            None => vec![format!("{prefix}tls-verify=false")],
        };
        if let Some((u, p)) = &self.credentials {
            args.push(format!("{prefix}creds"));
            args.push(format!("{u}:{p}"));
        }
        args
    }

    /// `docker://127.0.0.1:PORT/REFERENCE` for skopeo.
    pub fn docker_ref(&self, reference: &str) -> String {
        format!("docker://{}/{reference}", self.host())
    }
}

fn count_matching(reqs: &[LoggedRequest], method: &str, path_contains: &str) -> usize {
    reqs.iter()
        .filter(|r| r.matches(method, path_contains))
        .count()
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.kill();
        // A blocking reqwest client must not be dropped on a tokio worker.
        let client = self.client.take();
        crate::off_runtime(move || drop(client));
    }
}
