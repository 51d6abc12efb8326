//! `ferry login` and `ferry logout`.

use std::io::{IsTerminal, Read};
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
    #[arg(short, long, required_unless_present = "creds")]
    pub username: Option<String>,
    /// USER:PASS in one flag (instead of --username and a password)
    #[arg(long, value_name = "USER:PASS", conflicts_with_all = ["username", "password_stdin"])]
    pub creds: Option<crate::cli::SecretArg>,
    /// Read the password from standard input (else from $FERRY_PASSWORD, else asked on the
    /// terminal without echo)
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
    ferry_image::validate_host(host).map_err(|_| {
        let shown = ferry_image::redact_userinfo(input);
        usage(format!("registry {shown:?}: expected HOST[:PORT]"))
    })?;
    Ok(host.to_string())
}

/// The auth file login and logout write: --authfile, else the first file reads look in
/// ($REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, then the docker config),
/// so a login always wins over older credentials further down the list.
fn target_file(g: &Global) -> Result<PathBuf> {
    if let Some(f) = &g.authfile {
        return Ok(f.clone());
    }
    match authfile::default_paths().into_iter().next() {
        Some(f) => Ok(f),
        None => bail!("no auth file: give --authfile (HOME is not set)"),
    }
}

pub async fn login(g: &Global, a: LoginArgs) -> Result<ExitCode> {
    let host = registry(&a.registry)?;
    if let Some(c) = &a.creds {
        let creds = crate::context::parse_creds("--creds", c.expose(), "FERRY_PASSWORD")?;
        return finish_login(g, &host, creds, a.no_verify).await;
    }
    let username = a.username.unwrap_or_default();
    let password = if a.password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from stdin")?;
        s.trim_end_matches(['\n', '\r']).to_string()
    } else {
        match std::env::var("FERRY_PASSWORD") {
            Ok(p) => p,
            Err(_) if std::io::stdin().is_terminal() => {
                // Read on the terminal, not echoed.
                rpassword::prompt_password(format!("Password for {username}@{host}: "))
                    .context("reading the password from the terminal")?
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
    finish_login(
        g,
        &host,
        Credentials::new(&username, &password),
        a.no_verify,
    )
    .await
}

/// Checks `creds` against the registry (unless `no_verify`) and stores them.
async fn finish_login(
    g: &Global,
    host: &str,
    creds: Credentials,
    no_verify: bool,
) -> Result<ExitCode> {
    let host = host.to_string();
    if !no_verify {
        let mut map = std::collections::HashMap::new();
        map.insert(host.clone(), creds.clone());
        // Login checks the credentials it was given: no auth file is read.
        let mut g = g.clone();
        g.authfile = None;
        let client = client_with(&g, map)?;
        // The API check authenticates when the registry asks: wrong credentials fail here.
        client
            .ping(&host)
            .await
            .with_context(|| format!("logging in to {host} as {}", creds.username))?;
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
