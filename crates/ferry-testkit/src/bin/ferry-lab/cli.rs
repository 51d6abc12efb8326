//! The command line of ferry-lab (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ferry_testkit::images::Format;

use crate::serve;

/// ferry-lab: local docker-registry processes and deterministic test images (ferry-testkit).
/// Sizes accept K/M/G suffixes (binary: 4M = 4194304) and `_` separators.
#[derive(Parser, Debug)]
#[command(name = "ferry-lab", max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Start registries until SIGTERM, SIGINT or SIGHUP (or stdin EOF)
    ///
    /// Starts one registry per --name (default: src and dst): plain HTTP, or HTTPS with
    /// --tls, requiring bearer tokens of a token realm with --token. DIR/NAME is a
    /// symlink to its directory: DIR/NAME/stdout.log is the access log, DIR/NAME/data the
    /// storage. Writes DIR/registries.json (atomically, once every registry answers; use it
    /// as the readiness signal) and prints it:
    ///   {"NAME": {"host": "127.0.0.1:PORT", "url": ..., "log": ..., "stderr": ...,
    ///             "data": ..., "root": ..., "ca": CA.crt, "cert_dir": DIR (--tls),
    ///             "realm": URL (--token)}}
    /// Runs until SIGTERM, SIGINT or SIGHUP, or until stdin reaches EOF when stdin is a pipe
    /// (not with --no-stdin); then kills the registries and removes their directories.
    #[command(
        after_help = "Example:\n  ferry-lab serve --dir /tmp/lab --name src --name dst:5001 --no-stdin &"
    )]
    Serve(serve::ServeArgs),
    /// Push multi-arch test indexes (or single images) and print their digests
    ///
    /// Pushes a multi-arch index (a single image with --single and one arch) to each
    /// REPO:TAG and prints its digest ("REPO:TAG DIGEST" lines for several). Build k
    /// (0-based) of the command line uses seed N+k. --shared-base N: the first --layers size
    /// becomes a base layer shared by every build of an architecture (seeded by N and the
    /// arch); the other layers and the configs stay per build. HOST may be
    /// https://HOST:PORT (certificates are not verified).
    #[command(
        after_help = "Example:\n  ferry-lab seed --registry 127.0.0.1:5000 --archs amd64,arm64 --layers 4M,512K --shared-base 2 app:b1 app:b2"
    )]
    Seed(SeedArgs),
    /// Write a one-layer image of a given size into an OCI layout (and push it)
    ///
    /// Writes a linux/amd64 image with one layer of BYTES (file size before tar + gzip)
    /// into the OCI layout DIR under TAG, optionally pushes it as REPO:TAG, and prints JSON:
    ///   {"digest": ..., "layer": {"digest": ..., "size": N, "path": FILE}, ...}
    BlobLayout(BlobLayoutArgs),
    /// Count the requests in a registry access log
    ///
    /// Counts the requests after the log's first N lines (waits for the log to stop growing
    /// first). Prints "total N" and one "METHOD N" line per method, just the number with
    /// --method (* = any), or JSON with --json.
    Count(CountArgs),
    /// Print an access log's line count (for count --since-line)
    ///
    /// Waits for the access log to stop growing and prints its line count.
    Mark(MarkArgs),
}

/// Manifest formats.
#[derive(ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    /// OCI image manifests and index
    Oci,
    /// Docker schema 2 manifests and manifest list
    #[value(alias = "v2s2")]
    Docker,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Oci => Format::Oci,
            FormatArg::Docker => Format::Docker,
        }
    }
}

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// The registry: HOST:PORT (plain http) or an http(s):// URL
    #[arg(long, value_name = "HOST")]
    pub registry: String,
    /// References to push
    #[arg(required = true, value_name = "REPO:TAG", value_parser = parse_ref)]
    pub refs: Vec<(String, String)>,
    /// Architectures, one image each
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "amd64,arm64,ppc64le,s390x"
    )]
    pub archs: Vec<String>,
    /// Manifest format
    #[arg(long, value_enum, default_value = "oci")]
    pub format: FormatArg,
    /// Layer sizes (bytes of the file in each layer)
    #[arg(long, value_delimiter = ',', default_value = "65536,16384", value_parser = parse_size)]
    pub layers: Vec<usize>,
    /// Seed of the first build
    #[arg(long, default_value_t = 1, value_parser = parse_number::<u64>)]
    pub seed: u64,
    /// Make the first --layers size a base layer shared per architecture, seeded by N
    #[arg(long, value_name = "N", value_parser = parse_number::<u64>)]
    pub shared_base: Option<u64>,
    /// A config label (repeatable)
    #[arg(long, value_name = "K=V", value_parser = parse_label)]
    pub label: Vec<(String, String)>,
    /// Configs without Labels (the source-image shape)
    #[arg(long)]
    pub source_image: bool,
    /// Push a single image, not an index (needs exactly one --archs entry)
    #[arg(long)]
    pub single: bool,
    /// Also write an OCI layout here (tag = TAG; with --format docker the entries keep
    /// Docker media types, which skopeo 1.9's oci: transport does not list)
    #[arg(long, value_name = "DIR")]
    pub layout: Option<PathBuf>,
    /// References pushed at once
    #[arg(long, default_value_t = 4, value_parser = parse_number::<usize>)]
    pub jobs: usize,
    /// Print every reference, digest, platform and blob as JSON
    #[arg(long)]
    pub json: bool,
    /// Authenticate as this user (answers Basic and Bearer token-realm challenges)
    #[arg(long, value_name = "USER:PASSWORD", value_parser = parse_user)]
    pub creds: Option<UserPassword>,
}

#[derive(Args, Debug)]
pub struct BlobLayoutArgs {
    /// The OCI layout directory
    #[arg(long)]
    pub dir: PathBuf,
    /// Size of the file in the layer
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub size: usize,
    /// The tag in the layout (and the registry)
    #[arg(long)]
    pub tag: String,
    /// Content seed
    #[arg(long, default_value_t = 4, value_parser = parse_number::<u64>)]
    pub seed: u64,
    /// Manifest format
    #[arg(long, value_enum, default_value = "oci")]
    pub format: FormatArg,
    /// Also push to this registry (HOST:PORT or URL), as --repo
    #[arg(long, value_name = "HOST", requires = "repo")]
    pub registry: Option<String>,
    /// The repository to push to
    #[arg(long, requires = "registry")]
    pub repo: Option<String>,
}

#[derive(Args, Debug)]
pub struct CountArgs {
    /// The registry's access log
    #[arg(long, value_name = "FILE")]
    pub log: PathBuf,
    /// Skip the log's first N lines (from `ferry-lab mark`)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub since_line: usize,
    /// Print only the number of requests of this method (* = any)
    #[arg(long, value_name = "M")]
    pub method: Option<String>,
    /// Count only requests whose path contains this
    #[arg(long, value_name = "SUBSTR", default_value = "")]
    pub path: String,
    /// Print {"total", "methods", "statuses"} as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct MarkArgs {
    /// The registry's access log
    #[arg(long, value_name = "FILE")]
    pub log: PathBuf,
}

/// Parses a number, accepting `_` separators and the suffixes `K`, `M`, `G` (binary, for
/// sizes: `4M` = 4194304) when the target type can hold the result.
pub fn parse_number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    let t = s.trim().replace('_', "");
    let (digits, mult): (&str, u64) = match t.chars().last() {
        Some('K' | 'k') => (&t[..t.len() - 1], 1 << 10),
        Some('M' | 'm') => (&t[..t.len() - 1], 1 << 20),
        Some('G' | 'g') => (&t[..t.len() - 1], 1 << 30),
        _ => (&t, 1),
    };
    let bad = || format!("not a number: {s:?}");
    if mult == 1 {
        return digits.parse().map_err(|_| bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(mult)
        .ok_or_else(bad)?
        .to_string()
        .parse()
        .map_err(|_| bad())
}

/// A `USER:PASSWORD` argument; its Debug hides the password.
#[derive(Clone)]
pub struct UserPassword {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for UserPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:<redacted>", self.user)
    }
}

/// `USER:PASSWORD`, both non-empty.
pub fn parse_user(s: &str) -> Result<UserPassword, String> {
    match s.split_once(':') {
        Some((u, p)) if !u.is_empty() && !p.is_empty() => Ok(UserPassword {
            user: u.to_string(),
            password: p.to_string(),
        }),
        _ => Err("expected USER:PASSWORD".to_string()),
    }
}

fn parse_size(s: &str) -> Result<usize, String> {
    parse_number(s)
}

fn parse_label(kv: &str) -> Result<(String, String), String> {
    kv.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{kv:?}: expected K=V"))
}

fn parse_ref(r: &str) -> Result<(String, String), String> {
    split_ref(r).map(|(repo, tag)| (repo.to_string(), tag.to_string()))
}

/// `REPO:TAG` → (repo, tag); the tag is after the last ':' that follows the last '/'.
pub fn split_ref(r: &str) -> Result<(&str, &str), String> {
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    match r[slash..].rfind(':') {
        Some(i) if i > 0 && slash + i + 1 < r.len() => Ok((&r[..slash + i], &r[slash + i + 1..])),
        _ => Err(format!("{r:?}: expected REPO:TAG")),
    }
}
