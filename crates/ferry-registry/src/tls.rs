//! TLS: one HTTP client per registry host, trusting the system roots plus extra CA
//! certificates from `--cert-dir` and `certs.d/HOST[:PORT]/*.crt`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{ClientConfig, RegistryError};

/// Whether `host` (`HOST[:PORT]`) is a loopback address, reachable over plain HTTP
/// without flags as Docker allows.
pub(crate) fn is_loopback(host: &str) -> bool {
    let name = host_name(host);
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    name.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// `HOST` of `HOST[:PORT]` (brackets kept for IPv6 literals).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..=h.len()]);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if !h.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The `*.crt` files of `dir`, sorted; none when it does not exist.
fn crt_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "crt") && p.is_file())
        .collect();
    files.sort();
    files
}

/// The extra CA files that apply to `host`.
pub(crate) fn ca_files(config: &ClientConfig, host: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(dir) = &config.cert_dir {
        files.extend(crt_files(dir));
    }
    for root in config.certs_d_roots.iter().filter(|_| !host.is_empty()) {
        files.extend(crt_files(&root.join(host)));
    }
    files
}

/// Builds the HTTP client for `host`.
pub(crate) fn build_client(
    config: &ClientConfig,
    host: &str,
) -> Result<reqwest::Client, RegistryError> {
    let agent = config
        .user_agent
        .clone()
        .unwrap_or_else(|| concat!("ferry/", env!("CARGO_PKG_VERSION")).to_string());
    let mut builder = reqwest::Client::builder()
        .user_agent(agent)
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(300))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::limited(10));
    for file in ca_files(config, host) {
        let pem = std::fs::read(&file).map_err(|e| RegistryError::Config {
            detail: format!("reading CA certificate {}: {e}", file.display()),
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| RegistryError::Config {
                detail: format!("CA certificate {}: {e}", file.display()),
            })?;
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if !config.verifies_tls(host) {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| RegistryError::Config {
        detail: format!("building the HTTP client for {host}: {}", e.without_url()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "[::1]",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "quay.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "[::2]:80",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn ca_files_from_cert_dir_and_certs_d() {
        let dir = tempfile::tempdir().unwrap();
        let extra = dir.path().join("extra");
        let certs_d = dir.path().join("certs.d");
        std::fs::create_dir_all(&extra).unwrap();
        std::fs::create_dir_all(certs_d.join("127.0.0.1:5000")).unwrap();
        std::fs::write(extra.join("a.crt"), "x").unwrap();
        std::fs::write(extra.join("a.key"), "x").unwrap();
        std::fs::write(certs_d.join("127.0.0.1:5000/ca.crt"), "x").unwrap();
        let config = ClientConfig {
            cert_dir: Some(extra.clone()),
            certs_d_roots: vec![certs_d.clone(), dir.path().join("missing")],
            ..ClientConfig::default()
        };
        assert_eq!(
            ca_files(&config, "127.0.0.1:5000"),
            vec![extra.join("a.crt"), certs_d.join("127.0.0.1:5000/ca.crt")]
        );
        assert_eq!(
            ca_files(&config, "127.0.0.1:5001"),
            vec![extra.join("a.crt")]
        );
    }
}
