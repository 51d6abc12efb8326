//! Configuring and starting a `docker-registry` process.

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use super::Registry;
use crate::pki;
use crate::token::{self, TokenServer};

/// How long a registry may take to answer `GET /v2/`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts on a port clash when the port was chosen by the kit.
const PORT_ATTEMPTS: usize = 5;

/// Reserves an ephemeral 127.0.0.1 port: binds port 0, reads it, releases it.
///
/// Another process could take it before the registry binds it; [`RegistryBuilder::start`]
/// retries with a fresh port on a clash unless the port was given explicitly.
pub fn reserve_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Builder for [`Registry`]: TLS, htpasswd or token authentication, a fixed port.
#[derive(Debug, Default, Clone)]
pub struct RegistryBuilder {
    tls: bool,
    htpasswd: Option<(String, String)>,
    token_users: Option<Vec<(String, String)>>,
    realm: Option<String>,
    client_certs: bool,
    port: Option<u16>,
}

impl RegistryBuilder {
    /// A plain-HTTP, anonymous registry on an ephemeral port.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serve HTTPS with a leaf certificate signed by a fresh test CA.
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Require Basic authentication against a bcrypt htpasswd file with this one user.
    pub fn htpasswd(mut self, user: &str, password: &str) -> Self {
        self.htpasswd = Some((user.to_string(), password.to_string()));
        self.token_users = None;
        self
    }

    /// Require bearer tokens from a token realm run by the kit that knows these users.
    pub fn token(mut self, users: &[(&str, &str)]) -> Self {
        self.token_users = Some(
            users
                .iter()
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect(),
        );
        self.htpasswd = None;
        self
    }

    /// With [`token`](Self::token): tell clients this realm URL instead of the kit's own
    /// (a realm elsewhere, or one that does not answer as a realm).
    pub fn realm(mut self, url: &str) -> Self {
        self.realm = Some(url.to_string());
        self
    }

    /// With [`tls`](Self::tls): demand a client certificate signed by a fresh client CA
    /// (`http.tls.clientcas`); [`Registry::certs_d`] holds the client's pair.
    pub fn client_certs(mut self, on: bool) -> Self {
        self.client_certs = on;
        self
    }

    /// Listen on this port (e.g. from [`reserve_port`]) instead of a fresh one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Writes the configuration, starts the registry and waits until it answers.
    ///
    /// # Panics
    /// When the registry does not come up (the message carries its stderr).
    pub fn start(self) -> Registry {
        crate::ensure_tools();
        let dir = tempfile::Builder::new()
            .prefix("ferry-registry-")
            .tempdir()
            .expect("create registry temp dir");
        let root = dir.path().to_path_buf();
        fs::create_dir_all(root.join("data")).expect("create data dir");

        let tls = self.tls.then(|| {
            let mut m = pki::tls_material();
            if self.client_certs {
                let c = pki::client_identity();
                fs::write(root.join("clientca.crt"), &c.ca_pem).expect("write clientca.crt");
                m.client = Some(c);
            }
            let certs = root.join("certs");
            fs::create_dir_all(&certs).expect("create cert dir");
            fs::write(certs.join("ca.crt"), &m.ca_pem).expect("write ca.crt");
            fs::write(root.join("leaf.crt"), &m.leaf_pem).expect("write leaf.crt");
            fs::write(root.join("leaf.key"), &m.leaf_key_pem).expect("write leaf.key");
            m
        });
        if let Some((user, password)) = &self.htpasswd {
            write_htpasswd(&root.join("htpasswd"), user, password);
        }
        let token = self.token_users.as_ref().map(|users| {
            let server = TokenServer::start(users, pki::signing_identity());
            fs::write(root.join("token.crt"), server.cert_pem()).expect("write token.crt");
            server
        });
        let credentials = self
            .htpasswd
            .clone()
            .or_else(|| self.token_users.as_ref().and_then(|u| u.first().cloned()));

        let fixed_port = self.port.is_some();
        let mut port = self.port.unwrap_or_else(reserve_port);
        let mut attempt = 0;
        loop {
            attempt += 1;
            write_config(
                dir.path(),
                port,
                tls.as_ref(),
                self.htpasswd.is_some(),
                &token,
                self.realm.as_deref(),
            );
            let client = super::http_client_for(tls.as_ref());
            let base = super::base_url_for(port, tls.is_some());
            match spawn_and_wait(dir.path(), port, &base, &client) {
                Ok(child) => {
                    return Registry {
                        child: Some(child),
                        port,
                        tls,
                        credentials,
                        token,
                        log_mark: AtomicUsize::new(0),
                        client: Some(client),
                        dir,
                    };
                }
                Err(StartError::PortClash(msg)) if !fixed_port && attempt < PORT_ATTEMPTS => {
                    eprintln!("ferry-testkit: port {port} taken ({msg}); retrying");
                    crate::off_runtime(move || drop(client));
                    port = reserve_port();
                }
                Err(e) => {
                    crate::off_runtime(move || drop(client));
                    panic!("ferry-testkit: registry did not start: {e}")
                }
            }
        }
    }
}

/// Why a start attempt failed.
#[derive(Debug)]
pub(super) enum StartError {
    /// The port was already bound by someone else.
    PortClash(String),
    /// Anything else: exit, timeout (message includes stderr).
    Other(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::PortClash(s) => write!(f, "port clash: {s}"),
            StartError::Other(s) => f.write_str(s),
        }
    }
}

fn write_htpasswd(path: &Path, user: &str, password: &str) {
    let out = Command::new("htpasswd")
        .arg("-Bbc")
        .arg(path)
        .arg(user)
        .arg(password)
        .output()
        .expect("run htpasswd");
    assert!(
        out.status.success(),
        "htpasswd -Bbc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write_config(
    root: &Path,
    port: u16,
    tls: Option<&pki::TlsMaterial>,
    htpasswd: bool,
    token: &Option<TokenServer>,
    realm: Option<&str>,
) {
    let p = |name: &str| root.join(name).display().to_string();
    let mut yaml = format!(
        "version: 0.1\n\
         log:\n  level: info\n  formatter: text\n\
         storage:\n  filesystem:\n    rootdirectory: \"{data}\"\n  delete:\n    enabled: true\n\
         \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: ferry-testkit-upload-secret\n",
        data = p("data"),
    );
    if let Some(m) = tls {
        yaml += &format!(
            "  tls:\n    certificate: \"{}\"\n    key: \"{}\"\n",
            p("leaf.crt"),
            p("leaf.key")
        );
        if m.client.is_some() {
            yaml += &format!("    clientcas:\n      - \"{}\"\n", p("clientca.crt"));
        }
    }
    if htpasswd {
        yaml += &format!(
            "auth:\n  htpasswd:\n    realm: ferry-testkit\n    path: \"{}\"\n",
            p("htpasswd")
        );
    } else if let Some(t) = token {
        yaml += &format!(
            "auth:\n  token:\n    realm: \"{}\"\n    service: {}\n    issuer: {}\n    \
             rootcertbundle: \"{}\"\n",
            realm.map_or_else(|| t.realm(), str::to_string),
            token::SERVICE,
            token::ISSUER,
            p("token.crt")
        );
    }
    yaml += "compatibility:\n  schema1:\n    enabled: true\n";
    fs::write(root.join("config.yml"), yaml).expect("write config.yml");
}

/// Spawns `docker-registry serve` in `root` (logs appended to `stdout.log` / `stderr.log`)
/// and polls `GET /v2/` until any HTTP answer arrives.
pub(super) fn spawn_and_wait(
    root: &Path,
    port: u16,
    base_url: &str,
    client: &reqwest::blocking::Client,
) -> Result<Child, StartError> {
    let open = |name: &str| {
        fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join(name))
            .expect("open registry log file")
    };
    let stderr_start = fs::metadata(root.join("stderr.log"))
        .map(|m| m.len())
        .unwrap_or(0);
    let mut child = Command::new("docker-registry")
        .arg("serve")
        .arg(root.join("config.yml"))
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::from(open("stdout.log")))
        .stderr(Stdio::from(open("stderr.log")))
        .spawn()
        .map_err(|e| StartError::Other(format!("cannot spawn docker-registry: {e}")))?;
    let stderr_tail = || {
        let text = fs::read(root.join("stderr.log")).unwrap_or_default();
        let from = (stderr_start as usize).min(text.len());
        String::from_utf8_lossy(&text[from..]).into_owned()
    };

    let url = format!("{base_url}/v2/");
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let err = stderr_tail();
            return Err(if err.contains("address already in use") {
                StartError::PortClash(err)
            } else {
                StartError::Other(format!("docker-registry exited ({status}); stderr:\n{err}"))
            });
        }
        if crate::off_runtime(|| {
            client
                .get(&url)
                .header("User-Agent", super::log::PROBE_AGENT)
                .send()
                .is_ok()
        }) {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(StartError::Other(format!(
                "docker-registry on port {port} did not answer GET /v2/ within \
                 {READY_TIMEOUT:?}; stderr:\n{}",
                stderr_tail()
            )));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}
