//! `ferry login` and `ferry logout`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use ferry_registry::{Credentials, authfile};

use crate::cli::Global;
use crate::context::client_with;
use crate::usage;

/// Arguments of `ferry login`.
#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The registry, HOST[:PORT]
    pub registry: String,
    /// User name
    #[arg(short, long)]
    pub username: String,
    /// Read the password from standard input (else from $FERRY_PASSWORD)
    #[arg(long)]
    pub password_stdin: bool,
    /// Store the credentials without checking them against the registry
    #[arg(long)]
    pub no_verify: bool,
}

/// Arguments of `ferry logout`.
#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// The registry, HOST[:PORT]
    pub registry: String,
}

fn registry(input: &str) -> Result<String> {
    let host = input
        .strip_prefix("docker://")
        .unwrap_or(input)
        .trim_end_matches('/');
    ferry_image::validate_host(host)
        .map_err(|_| usage(format!("registry {input:?}: expected HOST[:PORT]")))?;
    Ok(host.to_string())
}

/// The auth file login writes: --authfile, $REGISTRY_AUTH_FILE, else the docker config
/// ($DOCKER_CONFIG/config.json or ~/.docker/config.json), which every client reads.
fn target_file(g: &Global) -> Result<PathBuf> {
    if let Some(f) = &g.authfile {
        return Ok(f.clone());
    }
    if let Some(f) = std::env::var_os("REGISTRY_AUTH_FILE") {
        return Ok(PathBuf::from(f));
    }
    if let Some(d) = std::env::var_os("DOCKER_CONFIG") {
        return Ok(PathBuf::from(d).join("config.json"));
    }
    match std::env::var_os("HOME") {
        Some(h) => Ok(PathBuf::from(h).join(".docker").join("config.json")),
        None => bail!("no auth file: give --authfile (HOME is not set)"),
    }
}

pub async fn login(g: &Global, a: LoginArgs) -> Result<ExitCode> {
    let host = registry(&a.registry)?;
    let password = if a.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from stdin")?;
        s.trim_end_matches(['\n', '\r']).to_string()
    } else {
        match std::env::var("FERRY_PASSWORD") {
            Ok(p) => p,
            Err(_) => {
                return Err(usage(
                    "no password: use --password-stdin or set $FERRY_PASSWORD",
                ));
            }
        }
    };
    if password.is_empty() {
        return Err(usage("empty password"));
    }
    let creds = Credentials::new(&a.username, &password);
    if !a.no_verify {
        let mut map = std::collections::HashMap::new();
        map.insert(host.clone(), creds.clone());
        let client = client_with(g, map)?;
        // The API check authenticates when the registry asks: wrong credentials fail here.
        client
            .ping(&host)
            .await
            .with_context(|| format!("logging in to {host} as {}", a.username))?;
    }
    let file = target_file(g)?;
    authfile::store(&file, &host, &creds)?;
    if !g.quiet {
        eprintln!(
            "Login succeeded: {host} (credentials in {})",
            file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn logout(g: &Global, a: LogoutArgs) -> Result<ExitCode> {
    let host = registry(&a.registry)?;
    let file = target_file(g)?;
    if authfile::remove(&file, &host)? {
        if !g.quiet {
            eprintln!(
                "Removed login credentials for {host} from {}",
                file.display()
            );
        }
        Ok(ExitCode::SUCCESS)
    } else {
        bail!("not logged in to {host} (nothing in {})", file.display())
    }
}
