//! Building a [`ClientConfig`] from what a program is given: credentials per host, an auth
//! file, certificate directories, TLS verification per host. Each setter checks its input
//! and names what is wrong, so a command-line tool only maps its flags onto these calls.
//!
//! ```
//! use ferry_registry::{Client, ClientConfig, Credentials};
//!
//! let config = ClientConfig::default()
//!     .with_credentials("quay.io", Credentials::parse("robot:secret", None)?)
//!     .with_insecure_host("127.0.0.1:5000")
//!     .with_user_agent("my-tool/1.0");
//! let client = Client::new(config)?;
//! # let _ = client;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::PathBuf;

use crate::{ClientConfig, Credentials};

/// A client setting that cannot be used. The message names the value, not the flag a
/// program may have read it from.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A certificate directory that is not a directory.
    #[error("{}: not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// An auth file path that exists but is not a file.
    #[error("{}: not a file", .0.display())]
    NotAFile(PathBuf),
    /// `USER:PASS` with an empty user name.
    #[error("empty user name")]
    EmptyUser,
    /// `USER` alone and no password to go with it.
    #[error("{user}: no password")]
    NoPassword {
        /// The user name given.
        user: String,
    },
    /// An auth file that was named explicitly but cannot be read.
    #[error("{}: {reason}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why (the system's message).
        reason: String,
    },
    /// An auth file that is not a JSON object (docker config format).
    #[error("{}: not a JSON object (docker config format)", .0.display())]
    NotAnAuthFile(PathBuf),
    /// A registry name that is not `HOST[:PORT]`.
    #[error("registry {0:?}: expected HOST[:PORT]")]
    InvalidRegistry(String),
}

/// The registry host of `input`: `HOST[:PORT]`, as given or with a `docker://` prefix and
/// trailing slashes (what `login`, `logout` and `catalog` take).
pub fn registry_host(input: &str) -> Result<&str, ConfigError> {
    let host = input
        .strip_prefix("docker://")
        .unwrap_or(input)
        .trim_end_matches('/');
    ferry_image::validate_host(host)
        .map_err(|_| ConfigError::InvalidRegistry(ferry_image::redact_userinfo(input)))?;
    Ok(host)
}

impl Credentials {
    /// Parses `USER:PASS`, or `USER` with the password `fallback_password` (a program
    /// passes what it read from an environment variable; empty counts as none).
    pub fn parse(value: &str, fallback_password: Option<&str>) -> Result<Credentials, ConfigError> {
        match value.split_once(':') {
            Some(("", _)) => Err(ConfigError::EmptyUser),
            Some((u, p)) => Ok(Credentials::new(u, p)),
            None if value.is_empty() => Err(ConfigError::EmptyUser),
            None => match fallback_password {
                Some(p) if !p.is_empty() => Ok(Credentials::new(value, p)),
                _ => Err(ConfigError::NoPassword {
                    user: value.to_string(),
                }),
            },
        }
    }
}

impl ClientConfig {
    /// The default configuration reading credentials from `path` (a docker or containers
    /// auth file) instead of the default auth files. A missing file is allowed (it then
    /// holds no credentials); a path that is not a file is not.
    pub fn from_auth_file(path: impl Into<PathBuf>) -> Result<ClientConfig, ConfigError> {
        ClientConfig::default().with_auth_file(path)
    }

    /// Reads credentials from `path` instead of the default auth files (see
    /// [`ClientConfig::from_auth_file`]).
    pub fn with_auth_file(mut self, path: impl Into<PathBuf>) -> Result<Self, ConfigError> {
        let path = path.into();
        if path.exists() && !path.is_file() {
            return Err(ConfigError::NotAFile(path));
        }
        self.auth_file = Some(path);
        Ok(self)
    }

    /// Reads credentials from `path`, which must exist and hold a JSON object (a file
    /// named explicitly: a typo is an error here, not a run without credentials).
    pub fn with_existing_auth_file(self, path: impl Into<PathBuf>) -> Result<Self, ConfigError> {
        let path = path.into();
        let bytes = std::fs::read(&path).map_err(|e| ConfigError::Unreadable {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(_)) => self.with_auth_file(path),
            _ => Err(ConfigError::NotAnAuthFile(path)),
        }
    }

    /// Trusts the CA certificates (`*.crt`) of `dir` for every registry.
    pub fn with_cert_dir(mut self, dir: impl Into<PathBuf>) -> Result<Self, ConfigError> {
        let dir = dir.into();
        if !dir.is_dir() {
            return Err(ConfigError::NotADirectory(dir));
        }
        self.cert_dir = Some(dir);
        Ok(self)
    }

    /// Reads per-registry certificates from `HOST[:PORT]/*.crt` under these directories
    /// instead of `/etc/containers/certs.d` and `/etc/docker/certs.d`.
    pub fn with_certs_d_roots(mut self, roots: impl IntoIterator<Item = PathBuf>) -> Self {
        self.certs_d_roots = roots.into_iter().collect();
        self
    }

    /// Verifies TLS certificates of every registry (`true`, the default) or of none.
    pub fn with_tls_verify(mut self, verify: bool) -> Self {
        self.tls_verify = verify;
        self
    }

    /// Verifies (`true`: and reaches over https only) or does not verify `host`'s
    /// certificate (`HOST[:PORT]`), whatever `tls_verify` says for the others.
    pub fn with_tls_verify_host(mut self, host: impl Into<String>, verify: bool) -> Self {
        self.tls_verify_hosts.insert(host.into(), verify);
        self
    }

    /// Reaches `host` (`HOST[:PORT]`) without verifying its certificate, allowing plain
    /// http, whatever `tls_verify` says for the others.
    pub fn with_insecure_host(mut self, host: impl Into<String>) -> Self {
        self.tls_verify_hosts.insert(host.into(), false);
        self
    }

    /// Uses `credentials` for `host`; they win over auth files.
    pub fn with_credentials(mut self, host: impl Into<String>, credentials: Credentials) -> Self {
        self.credentials.insert(host.into(), credentials);
        self
    }

    /// Uses `credentials` for each of `hosts`.
    pub fn with_credentials_for<I, S>(mut self, hosts: I, credentials: &Credentials) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for h in hosts {
            self.credentials.insert(h.into(), credentials.clone());
        }
        self
    }

    /// Sends `agent` as the `User-Agent`.
    pub fn with_user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_credentials() {
        let c = Credentials::parse("alice:pw", None).unwrap();
        assert!(!format!("{c:?}").contains("pw"));
        assert_eq!(
            Credentials::parse(":pw", None).unwrap_err(),
            ConfigError::EmptyUser
        );
        assert_eq!(
            Credentials::parse("", Some("x")).unwrap_err(),
            ConfigError::EmptyUser
        );
        assert_eq!(
            Credentials::parse("alice", Some("")).unwrap_err(),
            ConfigError::NoPassword {
                user: "alice".into()
            }
        );
        assert!(Credentials::parse("alice", Some("pw")).is_ok());
    }

    #[test]
    fn an_existing_auth_file_must_be_a_json_object() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let e = ClientConfig::default()
            .with_existing_auth_file(&missing)
            .unwrap_err();
        assert!(matches!(e, ConfigError::Unreadable { .. }), "{e:?}");
        assert!(e.to_string().starts_with(&missing.display().to_string()));
        let list = dir.path().join("list.json");
        std::fs::write(&list, "[]").unwrap();
        let e = ClientConfig::default()
            .with_existing_auth_file(&list)
            .unwrap_err();
        assert_eq!(e, ConfigError::NotAnAuthFile(list));
        let good = dir.path().join("auth.json");
        std::fs::write(&good, "{\"auths\":{}}").unwrap();
        let c = ClientConfig::default()
            .with_existing_auth_file(&good)
            .unwrap();
        assert_eq!(c.auth_file, Some(good));
    }

    #[test]
    fn parses_registry_hosts() {
        assert_eq!(registry_host("quay.io").unwrap(), "quay.io");
        assert_eq!(
            registry_host("docker://127.0.0.1:5000/").unwrap(),
            "127.0.0.1:5000"
        );
        let e = registry_host("quay.io/ns/repo").unwrap_err();
        assert_eq!(e, ConfigError::InvalidRegistry("quay.io/ns/repo".into()));
        assert_eq!(
            e.to_string(),
            "registry \"quay.io/ns/repo\": expected HOST[:PORT]"
        );
        assert!(registry_host("").is_err());
    }

    #[test]
    fn checks_paths_and_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("auth.json");
        std::fs::write(&file, "{}").unwrap();
        assert_eq!(
            ClientConfig::default().with_cert_dir(&file).unwrap_err(),
            ConfigError::NotADirectory(file.clone())
        );
        assert_eq!(
            ClientConfig::from_auth_file(dir.path()).unwrap_err(),
            ConfigError::NotAFile(dir.path().to_path_buf())
        );
        let c = ClientConfig::from_auth_file(dir.path().join("missing.json"))
            .unwrap()
            .with_cert_dir(dir.path())
            .unwrap()
            .with_insecure_host("127.0.0.1:5000");
        assert!(!c.verifies_tls("127.0.0.1:5000"));
        assert!(c.verifies_tls("quay.io"));
        assert!(!c.clone().with_tls_verify(false).verifies_tls("quay.io"));
    }
}
