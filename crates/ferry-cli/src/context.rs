//! Building the shared registry client from the global options.

use std::collections::HashMap;
use std::io::IsTerminal;

use anyhow::Result;
use ferry_registry::{Client, ClientConfig, Credentials};

use crate::cli::Global;
use crate::usage;

/// Whose credentials a registry gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A one-registry command: `--creds`.
    Single,
    /// The source of a copy: `--src-creds`.
    Source,
    /// The destination of a copy: `--dest-creds`.
    Destination,
}

/// Parses `USER:PASS`, or `USER` with the password from `env`.
pub fn parse_creds(flag: &str, value: &str, env: &str) -> Result<Credentials> {
    match value.split_once(':') {
        Some(("", _)) => Err(usage(format!("{flag}: empty user name"))),
        Some((u, p)) => Ok(Credentials::new(u, p)),
        None if value.is_empty() => Err(usage(format!("{flag}: empty user name"))),
        None => match std::env::var(env) {
            Ok(p) if !p.is_empty() => Ok(Credentials::new(value, &p)),
            _ => Err(usage(format!(
                "{flag} {value}: no password; write USER:PASS or set ${env}"
            ))),
        },
    }
}

/// The client for a command touching `registries` (host and role each).
pub fn client(global: &Global, registries: &[(&str, Role)]) -> Result<Client> {
    let mut credentials = HashMap::new();
    for (host, role) in registries {
        let (flag, value, env) = match role {
            Role::Single => ("--creds", &global.creds, "FERRY_PASSWORD"),
            Role::Source => ("--src-creds", &global.src_creds, "FERRY_SRC_PASSWORD"),
            Role::Destination => ("--dest-creds", &global.dest_creds, "FERRY_DEST_PASSWORD"),
        };
        // On a two-registry command, --creds serves a side that has no flag of its own.
        let (flag, value, env) = match (value, &global.creds) {
            (None, Some(c)) => ("--creds", &Some(c.clone()), "FERRY_PASSWORD"),
            _ => (flag, value, env),
        };
        if let Some(v) = value {
            credentials.insert(host.to_string(), parse_creds(flag, v.expose(), env)?);
        }
    }
    // Malformed credentials are a usage error even when no registry uses them.
    for (flag, value, env) in [
        ("--creds", &global.creds, "FERRY_PASSWORD"),
        ("--src-creds", &global.src_creds, "FERRY_SRC_PASSWORD"),
        ("--dest-creds", &global.dest_creds, "FERRY_DEST_PASSWORD"),
    ] {
        if let Some(v) = value {
            parse_creds(flag, v.expose(), env)?;
        }
    }
    client_with(global, credentials)
}

/// The client with explicit per-registry credentials.
pub fn client_with(global: &Global, credentials: HashMap<String, Credentials>) -> Result<Client> {
    if let Some(dir) = &global.cert_dir
        && !dir.is_dir()
    {
        return Err(usage(format!(
            "--cert-dir {}: not a directory",
            dir.display()
        )));
    }
    if let Some(f) = &global.authfile
        && f.exists()
        && !f.is_file()
    {
        return Err(usage(format!("--authfile {}: not a file", f.display())));
    }
    let config = ClientConfig {
        tls_verify: global.tls_verify,
        cert_dir: global.cert_dir.clone(),
        auth_file: global.authfile.clone(),
        credentials,
        user_agent: Some(format!("ferry/{}", env!("CARGO_PKG_VERSION"))),
        ..ClientConfig::default()
    };
    Ok(Client::new(config)?)
}

/// Logs to stderr: warnings by default, more with -v, nothing but errors with -q;
/// `FERRY_LOG` (a tracing filter) overrides.
pub fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug,hyper=info,reqwest=info,rustls=info,h2=info",
    };
    let filter = std::env::var("FERRY_LOG").unwrap_or_else(|_| default.to_string());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// The copy engine of a command: `-j`, `--jobs-per-registry`, these platforms, and
/// progress on a terminal for text output.
pub fn engine(
    global: &Global,
    jobs: usize,
    platforms: Vec<ferry_image::Platform>,
) -> ferry_copy::CopyEngine {
    ferry_copy::CopyEngine::with_progress(
        ferry_copy::CopyOptions {
            jobs,
            jobs_per_registry: global.jobs_per_registry.map(usize::from),
            platforms,
        },
        crate::progress::for_run(global.quiet || global.output != crate::cli::Output::Text),
    )
}
