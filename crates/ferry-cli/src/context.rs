//! Building the shared registry client from the global options.

use std::collections::HashMap;
use std::io::IsTerminal;

use anyhow::Result;
use ferry_registry::{Client, ClientConfig, ConfigError, Credentials};

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
    let password = std::env::var(env).ok();
    Credentials::parse(value, password.as_deref()).map_err(|e| match e {
        ConfigError::NoPassword { .. } => usage(format!(
            "{flag} {value}: no password; write USER:PASS or set ${env}"
        )),
        e => usage(format!("{flag}: {e}")),
    })
}

/// The credentials one side of a two-registry command gets from the flags: its own
/// (`--src-creds`, `--dest-creds`), else `--creds`, else none.
pub fn side_creds(global: &Global, role: Role) -> Result<Option<Credentials>> {
    let (flag, value, env) = match role {
        Role::Single => ("--creds", &global.creds, "FERRY_PASSWORD"),
        Role::Source => ("--src-creds", &global.src_creds, "FERRY_SRC_PASSWORD"),
        Role::Destination => ("--dest-creds", &global.dest_creds, "FERRY_DEST_PASSWORD"),
    };
    match (value, &global.creds) {
        (Some(v), _) => Ok(Some(parse_creds(flag, v.expose(), env)?)),
        (None, Some(c)) => Ok(Some(parse_creds("--creds", c.expose(), "FERRY_PASSWORD")?)),
        (None, None) => Ok(None),
    }
}

/// The client for a command touching `registries` (host and role each).
pub fn client(global: &Global, registries: &[(&str, Role)]) -> Result<Client> {
    let mut credentials = HashMap::new();
    // On a two-registry command, --creds serves a side that has no flag of its own.
    for (host, role) in registries {
        if let Some(c) = side_creds(global, *role)? {
            credentials.insert(host.to_string(), c);
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
    let mut config = client_config(global)?;
    for (host, role) in registries {
        let side = match role {
            Role::Single => None,
            Role::Source => global.src_tls_verify,
            Role::Destination => global.dest_tls_verify,
        };
        if let Some(verify) = side {
            config = config.with_tls_verify_host(*host, verify);
        }
    }
    config.credentials = credentials;
    Ok(track(Client::new(config)?))
}

/// The clients of this run, so an interrupt can delete their open uploads.
static CLIENTS: std::sync::Mutex<Vec<Client>> = std::sync::Mutex::new(Vec::new());

fn track(c: Client) -> Client {
    CLIENTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(c.clone());
    c
}

/// Deletes the upload sessions the run's clients left open (after an interrupt).
pub async fn abort_uploads() {
    let clients: Vec<Client> = CLIENTS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for c in clients {
        c.abort_uploads().await;
    }
}

/// ferry's `User-Agent`: `ferry/VERSION`.
pub fn user_agent() -> String {
    format!("ferry/{}", env!("CARGO_PKG_VERSION"))
}

/// The client configuration of the global flags (TLS, certificates, auth file), no
/// credentials yet.
pub fn client_config(global: &Global) -> Result<ClientConfig> {
    let mut config = ClientConfig::default()
        .with_tls_verify(global.tls_verify)
        .with_user_agent(user_agent());
    config.timeout = global.timeout;
    if let Some(dir) = &global.cert_dir {
        config = config
            .with_cert_dir(dir)
            .map_err(|e| usage(format!("--cert-dir {e}")))?;
    }
    if let Some(f) = &global.authfile {
        // An explicit --authfile must exist and hold a JSON object: checked before any work.
        config = config
            .with_existing_auth_file(f)
            .map_err(|e| usage(format!("--authfile {e}")))?;
    }
    Ok(config)
}

/// The client configuration `ferry login` checks credentials with: the global flags but
/// no auth file (the file is where the credentials go, it may not exist yet).
pub fn login_config(global: &Global) -> Result<ClientConfig> {
    let mut g = global.clone();
    g.authfile = None;
    client_config(&g)
}

/// The credentials of `ferry login`: `--creds`, else `--username` with the password from
/// stdin (`--password-stdin`), `$FERRY_PASSWORD`, or asked on the terminal without echo
/// (stdin not a terminal: a usage error).
pub fn login_credentials(a: &crate::commands::login::LoginArgs, host: &str) -> Result<Credentials> {
    use std::io::Read;
    if let Some(c) = &a.creds {
        return parse_creds("--creds", c.expose(), "FERRY_PASSWORD");
    }
    let password = if a.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| anyhow::Error::new(e).context("reading the password from stdin"))?;
        s.trim_end_matches(['\n', '\r']).to_string()
    } else {
        match std::env::var("FERRY_PASSWORD") {
            Ok(p) => p,
            Err(_) if std::io::stdin().is_terminal() => {
                let user = a.username.as_deref().unwrap_or_default();
                rpassword::prompt_password(format!("Password for {user}@{host}: ")).map_err(
                    |e| anyhow::Error::new(e).context("reading the password from the terminal"),
                )?
            }
            Err(_) => {
                return Err(usage(
                    "no password: stdin is not a terminal to ask on; use --password-stdin, \
                     --creds USER:PASS or $FERRY_PASSWORD",
                ));
            }
        }
    };
    if password.is_empty() {
        return Err(usage("empty password"));
    }
    Ok(Credentials::new(
        a.username.as_deref().unwrap_or_default(),
        &password,
    ))
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

/// The options of `ferry push`: its flags and the global ones; a shard's number goes into
/// the `User-Agent`, so registry logs tell the shards apart.
pub fn publish_options(
    g: &Global,
    a: &crate::commands::push::PushArgs,
) -> Result<ferry_publish::PublishOptions> {
    let mut client = client_config(g)?;
    if let Some(shard) = a.shard {
        client = client.with_user_agent(shard.user_agent(&user_agent()));
    }
    Ok(ferry_publish::PublishOptions {
        dry_run: a.dry_run,
        strict: a.strict,
        skip_unsupported: a.skip_unsupported,
        client,
        shard: a.shard,
        registries_d: g.registries_d.clone(),
        jobs_per_registry: g.jobs_per_registry.map(usize::from),
        source_credentials: side_creds(g, Role::Source)?,
        dest_credentials: side_creds(g, Role::Destination)?,
        progress: Some(crate::progress::for_run(
            g.quiet || g.output != crate::cli::Output::Text,
        )),
    })
}
