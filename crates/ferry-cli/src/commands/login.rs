//! `ferry login` and `ferry logout`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use ferry_registry::{authfile, registry_host};

use crate::cli::Global;
use crate::context::{login_config, login_credentials};
use crate::{output, usage};

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

/// The auth file login and logout write (see [`authfile::write_path`]).
fn target_file(g: &Global) -> Result<PathBuf> {
    match authfile::write_path(g.authfile.as_deref()) {
        Some(f) => Ok(f),
        None => bail!("no auth file: give --authfile (HOME is not set)"),
    }
}

pub async fn login(g: &Global, a: LoginArgs) -> Result<ExitCode> {
    let host = registry_host(&a.registry).map_err(usage)?;
    let creds = login_credentials(&a, host)?;
    if !a.no_verify {
        authfile::verify_login(login_config(g)?, host, &creds)
            .await
            .with_context(|| format!("logging in to {host} as {}", creds.username))?;
    }
    let file = target_file(g)?;
    authfile::store(&file, host, &creds)?;
    output::login::logged_in(g.quiet, host, &file);
    Ok(ExitCode::SUCCESS)
}

pub async fn logout(g: &Global, a: LogoutArgs) -> Result<ExitCode> {
    let host = registry_host(&a.registry).map_err(usage)?;
    let file = target_file(g)?;
    if !authfile::remove(&file, host)? {
        bail!("not logged in to {host} (nothing in {})", file.display())
    }
    output::login::logged_out(g.quiet, host, &file);
    Ok(ExitCode::SUCCESS)
}
