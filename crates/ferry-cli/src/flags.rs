//! The flag groups commands take. A command flattens only the groups it uses, so `--help`
//! shows exactly its flags and clap refuses any other (exit 2) instead of ignoring it:
//!
//! - [`AuthFile`] is `--authfile` (every command that reads or writes credentials)
//! - [`Tls`] is `--cert-dir`, `--tls-verify`, `--timeout` (every command that talks to a
//!   registry); [`SideTls`] is `--src-tls-verify`, `--dest-tls-verify` (two-registry
//!   commands)
//! - [`Creds`] is `--creds` (one-registry commands)
//! - [`TwoCreds`] is `--creds`, `--src-creds`, `--dest-creds` (two-registry commands)
//! - [`Jobs`] and [`JobsPerRegistry`] are `-j` and `--jobs-per-registry` (commands that
//!   copy blobs)
//!
//! The bundles ([`OneRegistry`], [`TwoRegistries`], [`LoginAccess`], [`PushAccess`]) are
//! what the command kinds flatten. Each group [`Apply`]s its values onto the [`Global`]
//! the command runs with.

use std::path::PathBuf;

use clap::Args;

use crate::cli::{Global, SecretArg};

/// `-j` when not given.
pub const DEFAULT_JOBS: u16 = 8;

/// Copies a flag group's values onto the options the command runs with.
pub trait Apply {
    /// Sets the fields of `g` this group owns.
    fn apply(&self, g: &mut Global);
}

/// `--authfile`.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Registry access")]
pub struct AuthFile {
    /// Credentials file in docker config format (default: $REGISTRY_AUTH_FILE,
    /// $XDG_RUNTIME_DIR/containers/auth.json, $DOCKER_CONFIG/config.json, ~/.docker/config.json)
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
}

impl Apply for AuthFile {
    fn apply(&self, g: &mut Global) {
        g.authfile.clone_from(&self.authfile);
    }
}

/// `--cert-dir` and `--tls-verify`.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Registry access")]
pub struct Tls {
    /// Directory of extra trusted CA certificates (*.crt)
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// Verify TLS certificates and require https (false: accept any certificate, allow
    /// http); a bare --tls-verify is true
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub tls_verify: Option<bool>,
    /// Give up on a registry request after this long (e.g. 30s, 5m; default: no limit)
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub timeout: Option<std::time::Duration>,
}

/// Parses `30s`, `500ms`, `5m`, `1h` or a number of seconds.
fn duration(s: &str) -> Result<std::time::Duration, String> {
    ferry_publish::parse_duration(s)
}

impl Apply for Tls {
    fn apply(&self, g: &mut Global) {
        g.cert_dir.clone_from(&self.cert_dir);
        g.tls_verify = self.tls_verify.unwrap_or(true);
        g.timeout = self.timeout;
    }
}

/// `--src-tls-verify` and `--dest-tls-verify` of a two-registry command.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Registry access")]
pub struct SideTls {
    /// Verify the source registry's TLS certificate (default: --tls-verify); bare is true
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub src_tls_verify: Option<bool>,
    /// Verify the destination registry's TLS certificate (default: --tls-verify); bare is
    /// true
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub dest_tls_verify: Option<bool>,
}

impl Apply for SideTls {
    fn apply(&self, g: &mut Global) {
        g.src_tls_verify = self.src_tls_verify;
        g.dest_tls_verify = self.dest_tls_verify;
    }
}

/// `--creds` of a one-registry command.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Registry access")]
pub struct Creds {
    /// Credentials: USER:PASS, or USER with the password in $FERRY_PASSWORD
    #[arg(long, value_name = "USER[:PASS]")]
    pub creds: Option<SecretArg>,
}

impl Apply for Creds {
    fn apply(&self, g: &mut Global) {
        g.creds.clone_from(&self.creds);
    }
}

/// `--creds`, `--src-creds` and `--dest-creds` of a two-registry command.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Registry access")]
pub struct TwoCreds {
    /// Credentials for a side without --src-creds / --dest-creds: USER:PASS, or USER
    /// with the password in $FERRY_PASSWORD
    #[arg(long, value_name = "USER[:PASS]")]
    pub creds: Option<SecretArg>,
    /// Source credentials (USER[:PASS]; password else from $FERRY_SRC_PASSWORD)
    #[arg(long, value_name = "USER[:PASS]")]
    pub src_creds: Option<SecretArg>,
    /// Destination credentials (USER[:PASS]; password else from $FERRY_DEST_PASSWORD)
    #[arg(long, value_name = "USER[:PASS]")]
    pub dest_creds: Option<SecretArg>,
}

impl Apply for TwoCreds {
    fn apply(&self, g: &mut Global) {
        g.creds.clone_from(&self.creds);
        g.src_creds.clone_from(&self.src_creds);
        g.dest_creds.clone_from(&self.dest_creds);
    }
}

/// `-j`.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Transfers")]
pub struct Jobs {
    /// Concurrent transfers of blobs of 1 MiB and more (smaller blobs get 4x as many slots)
    #[arg(short = 'j', long, default_value_t = DEFAULT_JOBS, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
}

impl Apply for Jobs {
    fn apply(&self, g: &mut Global) {
        g.jobs = self.jobs;
    }
}

/// `--jobs-per-registry`.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Transfers")]
pub struct JobsPerRegistry {
    /// Concurrent transfers of blobs of 1 MiB and more into any one registry (default: the
    /// number of jobs)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs_per_registry: Option<u16>,
}

impl Apply for JobsPerRegistry {
    fn apply(&self, g: &mut Global) {
        g.jobs_per_registry = self.jobs_per_registry;
    }
}

/// The flags of a command that reads or writes one registry.
#[derive(Args, Debug, Clone)]
pub struct OneRegistry {
    #[command(flatten)]
    auth: AuthFile,
    #[command(flatten)]
    tls: Tls,
    #[command(flatten)]
    creds: Creds,
}

impl Apply for OneRegistry {
    fn apply(&self, g: &mut Global) {
        self.auth.apply(g);
        self.tls.apply(g);
        self.creds.apply(g);
    }
}

/// The flags of a command that copies from one registry (or layout) to another.
#[derive(Args, Debug, Clone)]
pub struct TwoRegistries {
    #[command(flatten)]
    auth: AuthFile,
    #[command(flatten)]
    tls: Tls,
    #[command(flatten)]
    side_tls: SideTls,
    #[command(flatten)]
    creds: TwoCreds,
    #[command(flatten)]
    jobs: Jobs,
    #[command(flatten)]
    per_registry: JobsPerRegistry,
}

impl Apply for TwoRegistries {
    fn apply(&self, g: &mut Global) {
        self.auth.apply(g);
        self.tls.apply(g);
        self.side_tls.apply(g);
        self.creds.apply(g);
        self.jobs.apply(g);
        self.per_registry.apply(g);
    }
}

/// The flags of `ferry login`: where credentials are stored, how the registry is reached
/// to check them (the user name is its own flag).
#[derive(Args, Debug, Clone)]
pub struct LoginAccess {
    #[command(flatten)]
    auth: AuthFile,
    #[command(flatten)]
    tls: Tls,
}

impl Apply for LoginAccess {
    fn apply(&self, g: &mut Global) {
        self.auth.apply(g);
        self.tls.apply(g);
    }
}

/// The flags of `ferry push` besides its credentials (which are in its own arguments):
/// the number of jobs comes from the target settings, not `-j`.
#[derive(Args, Debug, Clone)]
pub struct PushAccess {
    #[command(flatten)]
    auth: AuthFile,
    #[command(flatten)]
    tls: Tls,
    #[command(flatten)]
    per_registry: JobsPerRegistry,
}

impl Apply for PushAccess {
    fn apply(&self, g: &mut Global) {
        self.auth.apply(g);
        self.tls.apply(g);
        self.per_registry.apply(g);
    }
}
