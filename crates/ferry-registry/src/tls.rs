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

/// The certificate files of one directory (containers-certs.d(5)).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CertFiles {
    /// `*.crt`: CA certificates to trust.
    pub cas: Vec<PathBuf>,
    /// `NAME.cert` + `NAME.key`: client certificates with their keys.
    pub pairs: Vec<(PathBuf, PathBuf)>,
}

fn config_error(detail: String) -> RegistryError {
    RegistryError::Config { detail }
}

/// Reads the certificate files of `dir` (sorted); nothing when it does not exist. A
/// `.cert` without its `.key` (or the reverse) is an error naming the file.
fn scan_dir(dir: &Path, out: &mut CertFiles) -> Result<(), RegistryError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let has = |p: &Path, ext: &str| p.extension().is_some_and(|x| x == ext);
    for file in &files {
        if has(file, "crt") {
            out.cas.push(file.clone());
        } else if has(file, "cert") {
            let key = file.with_extension("key");
            if !key.is_file() {
                return Err(config_error(format!(
                    "client certificate {} has no key {}",
                    file.display(),
                    key.display()
                )));
            }
            out.pairs.push((file.clone(), key));
        } else if has(file, "key") && !file.with_extension("cert").is_file() {
            return Err(config_error(format!(
                "client key {} has no certificate {}",
                file.display(),
                file.with_extension("cert").display()
            )));
        }
    }
    Ok(())
}

/// The certificate files that apply to `host`: `--cert-dir`, then `ROOT/HOST[:PORT]/`
/// of each certs.d root.
pub(crate) fn cert_files(config: &ClientConfig, host: &str) -> Result<CertFiles, RegistryError> {
    let mut files = CertFiles::default();
    if let Some(dir) = &config.cert_dir {
        scan_dir(dir, &mut files)?;
    }
    for root in config.certs_d_roots.iter().filter(|_| !host.is_empty()) {
        scan_dir(&root.join(host), &mut files)?;
    }
    Ok(files)
}

fn read(file: &Path, what: &str) -> Result<Vec<u8>, RegistryError> {
    std::fs::read(file).map_err(|e| config_error(format!("reading {what} {}: {e}", file.display())))
}

/// Builds the HTTP client for `host`: its CAs, its client certificate, its TLS
/// verification, the configured timeouts.
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
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.idle_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::limited(10));
    let files = cert_files(config, host)?;
    for file in &files.cas {
        let pem = read(file, "CA certificate")?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| config_error(format!("CA certificate {}: {e}", file.display())))?;
        if certs.is_empty() {
            return Err(config_error(format!(
                "CA certificate {}: no PEM certificate in it",
                file.display()
            )));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    // reqwest takes one identity per client: the first pair found.
    if let Some((cert, key)) = files.pairs.first() {
        let mut pem = read(cert, "client certificate")?;
        pem.push(b'\n');
        pem.extend(read(key, "client key")?);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
            config_error(format!(
                "client certificate {} with key {}: {}",
                cert.display(),
                key.display(),
                e.without_url()
            ))
        })?;
        builder = builder.identity(identity);
    }
    if !config.verifies_tls(host) {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| {
        config_error(format!(
            "building the HTTP client for {host}: {}",
            e.without_url()
        ))
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
    fn cert_files_from_cert_dir_and_certs_d() {
        let dir = tempfile::tempdir().unwrap();
        let extra = dir.path().join("extra");
        let certs_d = dir.path().join("certs.d");
        let host_dir = certs_d.join("127.0.0.1:5000");
        std::fs::create_dir_all(&extra).unwrap();
        std::fs::create_dir_all(&host_dir).unwrap();
        std::fs::write(extra.join("a.crt"), "x").unwrap();
        std::fs::write(host_dir.join("ca.crt"), "x").unwrap();
        std::fs::write(host_dir.join("client.cert"), "x").unwrap();
        std::fs::write(host_dir.join("client.key"), "x").unwrap();
        let config = ClientConfig {
            cert_dir: Some(extra.clone()),
            certs_d_roots: vec![certs_d.clone(), dir.path().join("missing")],
            ..ClientConfig::default()
        };
        assert_eq!(
            cert_files(&config, "127.0.0.1:5000").unwrap(),
            CertFiles {
                cas: vec![extra.join("a.crt"), host_dir.join("ca.crt")],
                pairs: vec![(host_dir.join("client.cert"), host_dir.join("client.key"))],
            }
        );
        assert_eq!(
            cert_files(&config, "127.0.0.1:5001").unwrap().cas,
            vec![extra.join("a.crt")]
        );
        // A key without its certificate, a certificate without its key: errors.
        std::fs::write(extra.join("lonely.key"), "x").unwrap();
        let e = cert_files(&config, "h").unwrap_err().to_string();
        assert!(e.contains("lonely.key") && e.contains("lonely.cert"), "{e}");
        std::fs::remove_file(extra.join("lonely.key")).unwrap();
        std::fs::write(extra.join("lonely.cert"), "x").unwrap();
        let e = cert_files(&config, "h").unwrap_err().to_string();
        assert!(e.contains("lonely.cert") && e.contains("has no key"), "{e}");
    }

    #[test]
    fn a_crt_that_is_not_pem_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("garbage.crt"), "not a certificate\n").unwrap();
        let config = ClientConfig {
            cert_dir: Some(dir.path().to_path_buf()),
            certs_d_roots: Vec::new(),
            ..ClientConfig::default()
        };
        let e = build_client(&config, "h").unwrap_err().to_string();
        assert!(
            e.contains("garbage.crt") && e.contains("no PEM certificate"),
            "{e}"
        );
    }
}
