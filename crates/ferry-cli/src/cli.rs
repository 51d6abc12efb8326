//! The command line: global options and commands (see `ferry --help`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes: 0 success; 1 the operation failed (the message says what and where);
2 bad usage or bad input (nothing was written).

Locations: [docker://]HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry; a name without a
registry is Docker Hub's, `ubuntu` = docker.io/library/ubuntu:latest) or oci:PATH[:TAG]
(an OCI image layout directory, created when written).

Registries on loopback addresses are reached over https, or plain http when TLS fails.";

/// ferry publishes container images between registries: copies single- and multi-arch
/// images byte for byte, merges manifest lists without losing an architecture, tags,
/// untags and pushes push items.
#[derive(Parser, Debug)]
#[command(name = "ferry", version, after_long_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// A `USER[:PASS]` flag value: usable as a string, shown with the password redacted.
#[derive(Clone)]
pub struct SecretArg(String);

impl SecretArg {
    /// The value as given.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SecretArg {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SecretArg(s.to_string()))
    }
}

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.split_once(':') {
            Some((user, _)) => write!(f, "{user}:<redacted>"),
            None => write!(f, "{}", self.0),
        }
    }
}

/// Output formats.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// Text for people (tables, one result a line)
    Text,
    /// JSON on stdout
    Json,
    /// YAML (the push-item form; other structured output as YAML too)
    Yaml,
}

/// Options every command takes.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Credentials file in docker config format (default: $REGISTRY_AUTH_FILE,
    /// $XDG_RUNTIME_DIR/containers/auth.json, $DOCKER_CONFIG/config.json, ~/.docker/config.json)
    #[arg(long, global = true, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
    /// Credentials: USER:PASS, or USER with the password in $FERRY_PASSWORD (on a
    /// two-registry command, for a side without --src-creds / --dest-creds)
    #[arg(long, global = true, value_name = "USER[:PASS]")]
    pub creds: Option<SecretArg>,
    /// Source credentials (USER[:PASS]; password else from $FERRY_SRC_PASSWORD)
    #[arg(long, global = true, value_name = "USER[:PASS]")]
    pub src_creds: Option<SecretArg>,
    /// Destination credentials (USER[:PASS]; password else from $FERRY_DEST_PASSWORD)
    #[arg(long, global = true, value_name = "USER[:PASS]")]
    pub dest_creds: Option<SecretArg>,
    /// Directory of extra trusted CA certificates (*.crt)
    #[arg(long, global = true, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// Verify TLS certificates and require https (false: accept any certificate, allow http)
    #[arg(long, global = true, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub tls_verify: bool,
    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, default_value = "text")]
    pub output: Output,
    /// Concurrent transfers of blobs of 1 MiB and more (smaller blobs get 4x as many slots)
    #[arg(short = 'j', long, global = true, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: u16,
    /// Concurrent transfers of blobs of 1 MiB and more into any one registry (default: --jobs)
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs_per_registry: Option<u16>,
    /// Less output (no progress)
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More detailed logs on stderr (-vv for each request)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Where signatures live: a containers-registries.d(5) directory (default:
    /// ~/.config/containers/registries.d when present, else /etc/containers/registries.d)
    #[arg(long = "registries.d", global = true, value_name = "DIR")]
    pub registries_d: Option<PathBuf>,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Copy an image (all platforms of a list by default)
    #[command(
        after_help = "Examples:\n  ferry copy quay.io/org/app:1.0 127.0.0.1:5000/org/app:1.0\n  ferry copy --platform linux/arm64 docker://reg/app:1 oci:/tmp/app:1\n  ferry copy oci:/tmp/app:1 reg.example.com/team/app:1"
    )]
    Copy(crate::commands::copy::CopyArgs),
    /// Copy every tag of a repository, skipping what is already there
    #[command(
        after_help = "Examples:\n  ferry sync quay.io/org/app 127.0.0.1:5000/mirror/app\n  ferry sync --tags '^v1\\.' src.io/app dst.io/app"
    )]
    Sync(crate::commands::sync::SyncArgs),
    /// Describe an image as JSON (or print its exact manifest or config)
    #[command(
        after_help = "Examples:\n  ferry inspect quay.io/org/app:1.0\n  ferry inspect --raw quay.io/org/app@sha256:...\n  ferry inspect --config oci:/tmp/app:1"
    )]
    Inspect(crate::commands::inspect::InspectArgs),
    /// Print an image's manifest digest
    #[command(after_help = "Example:\n  ferry digest quay.io/org/app:1.0")]
    Digest(crate::commands::simple::RefArg),
    /// List every tag of a repository
    #[command(after_help = "Example:\n  ferry tags quay.io/org/app")]
    Tags(crate::commands::simple::RefArg),
    /// List the repositories of a registry
    #[command(after_help = "Example:\n  ferry catalog 127.0.0.1:5000 --filter '^team/'")]
    Catalog(crate::commands::simple::CatalogArgs),
    /// Verify every manifest and blob of an image is present
    #[command(
        after_help = "Examples:\n  ferry check quay.io/org/app:1.0\n  ferry check --deep oci:/tmp/app:1"
    )]
    Check(crate::commands::simple::CheckArgs),
    /// Delete a manifest (a tag is resolved to its digest; every tag of it goes)
    #[command(after_help = "Example:\n  ferry delete 127.0.0.1:5000/org/app@sha256:...")]
    Delete(crate::commands::simple::RefArg),
    /// Store credentials for a registry in the auth file (checked first)
    #[command(
        after_help = "Example:\n  echo \"$TOKEN\" | ferry login quay.io -u robot --password-stdin"
    )]
    Login(crate::commands::login::LoginArgs),
    /// Remove stored credentials for a registry
    Logout(crate::commands::login::LogoutArgs),
    /// Merge a source list onto a destination tag, keeping platforms only it has
    #[command(
        after_help = "Examples:\n  ferry merge reg/app:2.0 quay.io/org/app:latest\n  ferry merge --archs amd64,arm64 reg/app:2.0 quay.io/org/app:latest\n  ferry merge --dry-run -o json reg/app:2.0 quay.io/org/app:latest"
    )]
    Merge(crate::commands::merge::MergeArgs),
    /// Copy one image to several destination tags, retrying each
    #[command(
        after_help = "Example:\n  ferry tag --retries 5 --retry-wait 5s reg/app@sha256:... quay.io/org/app:1.0 quay.io/org/app:latest"
    )]
    Tag(crate::commands::tag::TagArgs),
    /// Remove tags, refusing to remove the last tag of an image
    #[command(
        after_help = "Examples:\n  ferry untag quay.io/org/app:old\n  ferry untag --remove-last quay.io/org/app:tmp"
    )]
    Untag(crate::commands::untag::UntagArgs),
    /// List push items from sources, in the serialized form (YAML, or JSON with -o json)
    #[command(
        after_help = "Examples:\n  ferry items 'registry:?image=reg.io/ns/app:1.0&dest=product/app'\n  ferry items -o json file:items.yaml"
    )]
    Items(crate::commands::items::ItemsArgs),
    /// Push push items to the target registry (merging multi-arch lists)
    #[command(
        after_help = "Examples:\n  ferry push --target quay.yaml items.yaml\n  ferry push --target quay.yaml --dry-run 'registry:?image=reg.io/ns/app:1.0&dest=product/app'\n\nExit 0 only when every item is PUSHED; 2 when the settings or items are invalid (nothing written)."
    )]
    Push(crate::commands::push::PushArgs),
    /// Sign images: simple signing (OpenPGP key) or cosign (ECDSA key)
    #[command(
        after_help = "Examples:\n  ferry sign --key key.asc --registries.d ./registries.d reg.io/app:1.0\n  FERRY_SIGN_PASSPHRASE=... ferry sign --key cosign.key reg.io/app:1.0"
    )]
    Sign(crate::commands::sign::SignArgs),
    /// Verify that images carry a valid signature by a key (exit 1 naming what failed)
    #[command(
        after_help = "Examples:\n  ferry verify --key pub.asc --registries.d ./registries.d reg.io/app:1.0\n  ferry verify --key cosign.pub -o json reg.io/app:1.0"
    )]
    Verify(crate::commands::verify::VerifyArgs),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_password() {
        let cli = Cli::try_parse_from(["ferry", "--creds", "alice:hunter2", "digest", "r.io/a:b"])
            .unwrap();
        let shown = format!("{cli:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("alice:<redacted>"), "{shown}");
    }
}
