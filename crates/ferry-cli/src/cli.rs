//! The command line: global options and commands (see `ferry --help`). Each command
//! takes only the flag groups it uses ([`crate::flags`]); any other flag is a usage error.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::flags::{AuthFile, LoginAccess, OneRegistry, PushAccess, TwoRegistries};

const EXIT_CODES: &str = "\
Exit codes: 0 success; 1 the operation failed (the message says what and where);
2 bad usage or bad input (nothing was written).

Locations: [docker://]HOST[:PORT]/REPO[:TAG|@DIGEST] (a registry; a name without a
registry is Docker Hub's, `ubuntu` = docker.io/library/ubuntu:latest), oci:PATH[:TAG]
(an OCI image layout directory, created when written), oci-archive:PATH[:TAG] (a tar of
an OCI layout) or docker-archive:PATH[:REF] (`docker save` format, one image; REF is
REPO:TAG, or @N when reading). Archives are written by `copy` only, replaced whole once
the copy succeeded. Other transports (dir:, containers-storage:...) are refused.

Registries on loopback addresses are reached over https, or plain http when TLS fails.

Each command takes only the flags it uses (see `ferry COMMAND --help`): --authfile,
--cert-dir, --tls-verify and --creds where a registry is read or written, --src-creds and
--dest-creds where there are two sides, -j where blobs are copied. Any other is refused.

Shell completion: `ferry completion bash|zsh|fish`; manual pages: `ferry man [COMMAND]`.";

/// ferry publishes container images between registries: copies single- and multi-arch
/// images byte for byte, merges manifest lists without losing an architecture, tags,
/// untags and pushes push items.
#[derive(Parser, Debug)]
#[command(name = "ferry", version, after_long_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
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

/// Options every command takes (before or after the command name).
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, default_value = "text")]
    pub output: Output,
    /// Less output (no progress)
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More detailed logs on stderr: -v each step, -vv each request ($FERRY_LOG, a
    /// tracing filter such as `ferry_registry=debug`, overrides)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Where signatures live: a containers-registries.d(5) directory (default:
    /// ~/.config/containers/registries.d when present, else /etc/containers/registries.d)
    #[arg(long = "registries.d", global = true, value_name = "DIR")]
    pub registries_d: Option<PathBuf>,
}

/// The options of the command being run, gathered from the global options and the flag
/// groups the command takes (see [`crate::flags`]); an option the command does not take
/// (clap refuses it) keeps its default here.
#[derive(Debug, Clone)]
pub struct Global {
    /// `--authfile`
    pub authfile: Option<PathBuf>,
    /// `--creds`
    pub creds: Option<SecretArg>,
    /// `--src-creds`
    pub src_creds: Option<SecretArg>,
    /// `--dest-creds`
    pub dest_creds: Option<SecretArg>,
    /// `--cert-dir`
    pub cert_dir: Option<PathBuf>,
    /// `--tls-verify`
    pub tls_verify: bool,
    /// `--src-tls-verify`
    pub src_tls_verify: Option<bool>,
    /// `--dest-tls-verify`
    pub dest_tls_verify: Option<bool>,
    /// `--timeout`
    pub timeout: Option<std::time::Duration>,
    /// `-o`
    pub output: Output,
    /// `-j`
    pub jobs: u16,
    /// `--jobs-per-registry`
    pub jobs_per_registry: Option<u16>,
    /// `-q`
    pub quiet: bool,
    /// `--registries.d`
    pub registries_d: Option<PathBuf>,
}

impl From<&GlobalArgs> for Global {
    fn from(g: &GlobalArgs) -> Global {
        Global {
            authfile: None,
            creds: None,
            src_creds: None,
            dest_creds: None,
            cert_dir: None,
            tls_verify: true,
            src_tls_verify: None,
            dest_tls_verify: None,
            timeout: None,
            output: g.output,
            jobs: crate::flags::DEFAULT_JOBS,
            jobs_per_registry: None,
            quiet: g.quiet,
            registries_d: g.registries_d.clone(),
        }
    }
}

/// The commands. Each flattens its own arguments and the flag groups it uses.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Copy an image (all platforms of a list by default)
    #[command(after_help = "Examples:
  ferry copy quay.io/org/app:1.0 127.0.0.1:5000/org/app:1.0
  ferry copy --platform linux/arm64 docker://reg/app:1 oci:/tmp/app:1
  ferry copy --src-creds reader --dest-creds robot quay.io/org/app:1 reg.example.com/app:1
  ferry copy --no-signatures quay.io/org/app:1 reg.example.com/app:1")]
    Copy {
        #[command(flatten)]
        args: crate::commands::copy::CopyArgs,
        #[command(flatten)]
        access: TwoRegistries,
    },
    /// Copy every tag of a repository, skipping what is already there
    #[command(after_help = r"Examples:
  ferry sync quay.io/org/app 127.0.0.1:5000/mirror/app
  ferry sync --tags '^v1\.' src.io/app dst.io/app
  ferry sync -j 16 --dest-creds robot quay.io/org/app reg.example.com/mirror/app
  ferry sync --no-signatures quay.io/org/app reg.example.com/mirror/app")]
    Sync {
        #[command(flatten)]
        args: crate::commands::sync::SyncArgs,
        #[command(flatten)]
        access: TwoRegistries,
    },
    /// Describe an image as JSON (or print its exact manifest or config)
    #[command(after_help = "Examples:
  ferry inspect quay.io/org/app:1.0
  ferry inspect --raw quay.io/org/app@sha256:...
  ferry inspect --config oci:/tmp/app:1")]
    Inspect {
        #[command(flatten)]
        args: crate::commands::inspect::InspectArgs,
        #[command(flatten)]
        access: OneRegistry,
    },
    /// Print an image's manifest digest
    #[command(after_help = "Examples:
  ferry digest quay.io/org/app:1.0
  ferry digest -o json --creds robot 127.0.0.1:5000/org/app:1.0
  ferry digest oci:/tmp/app:1")]
    Digest {
        #[command(flatten)]
        args: crate::commands::RefArg,
        #[command(flatten)]
        access: OneRegistry,
    },
    /// List every tag of a repository
    #[command(after_help = "Examples:
  ferry tags quay.io/org/app
  ferry tags -o json --creds robot reg.example.com/team/private")]
    Tags {
        #[command(flatten)]
        args: crate::commands::RefArg,
        #[command(flatten)]
        access: OneRegistry,
    },
    /// List the repositories of a registry
    #[command(after_help = "Examples:
  ferry catalog 127.0.0.1:5000 --filter '^team/'
  ferry catalog -o json --creds admin reg.example.com")]
    Catalog {
        #[command(flatten)]
        args: crate::commands::catalog::CatalogArgs,
        #[command(flatten)]
        access: OneRegistry,
    },
    /// Verify every manifest and blob of an image is present
    #[command(after_help = "Examples:
  ferry check quay.io/org/app:1.0
  ferry check --deep oci:/tmp/app:1")]
    Check {
        #[command(flatten)]
        args: crate::commands::check::CheckArgs,
        #[command(flatten)]
        access: OneRegistry,
    },
    /// Delete a manifest (a tag is resolved to its digest; every tag of it goes)
    #[command(after_help = "Examples:
  ferry delete 127.0.0.1:5000/org/app@sha256:...
  ferry delete --creds admin reg.example.com/org/app:old")]
    Delete {
        #[command(flatten)]
        args: crate::commands::RefArg,
        #[command(flatten)]
        access: OneRegistry,
    },
    /// Store credentials for a registry in the auth file (checked first)
    #[command(after_help = r#"Examples:
  ferry login quay.io -u robot          (asks for the password on the terminal, no echo)
  echo "$TOKEN" | ferry login quay.io -u robot --password-stdin
  FERRY_PASSWORD=secret ferry login --authfile ./auth.json 127.0.0.1:5000 -u admin
  ferry login --cert-dir ./certs -u robot --password-stdin reg.example.com < token.txt"#)]
    Login {
        #[command(flatten)]
        args: crate::commands::login::LoginArgs,
        #[command(flatten)]
        access: LoginAccess,
    },
    /// Remove stored credentials for a registry
    #[command(after_help = "Examples:
  ferry logout quay.io
  ferry logout --authfile ./auth.json 127.0.0.1:5000")]
    Logout {
        #[command(flatten)]
        args: crate::commands::login::LogoutArgs,
        #[command(flatten)]
        access: AuthFile,
    },
    /// Merge a source list onto a destination tag, keeping platforms only it has
    #[command(after_help = "Examples:
  ferry merge reg/app:2.0 quay.io/org/app:latest
  ferry merge --archs amd64,arm64 reg/app:2.0 quay.io/org/app:latest
  ferry merge --dry-run -o json reg/app:2.0 quay.io/org/app:latest")]
    Merge {
        #[command(flatten)]
        args: crate::commands::merge::MergeArgs,
        #[command(flatten)]
        access: TwoRegistries,
    },
    /// Copy one image to several destination tags, retrying each
    #[command(after_help = "Examples:
  ferry tag reg/app:2.0 reg/app:stable
  ferry tag --retries 5 --retry-wait 5s reg/app@sha256:... quay.io/org/app:1.0 quay.io/org/app:latest")]
    Tag {
        #[command(flatten)]
        args: crate::commands::tag::TagArgs,
        #[command(flatten)]
        access: TwoRegistries,
    },
    /// Remove tags, refusing to remove the last tag of an image
    #[command(after_help = "Examples:
  ferry untag quay.io/org/app:old
  ferry untag --remove-last quay.io/org/app:tmp")]
    Untag {
        #[command(flatten)]
        args: crate::commands::untag::UntagArgs,
        #[command(flatten)]
        access: OneRegistry,
    },
    /// List push items from sources, in the serialized form (YAML, or JSON with -o json)
    #[command(after_help = "Examples:
  ferry items 'registry:?image=reg.io/ns/app:1.0&dest=product/app'
  ferry items -o json file:items.yaml
  ferry items --creds reader 'registry:?image=reg.io/ns/app:1.0,reg.io/ns/db:2&dest=product/app,product/db'")]
    Items {
        #[command(flatten)]
        args: crate::commands::items::ItemsArgs,
        #[command(flatten)]
        access: OneRegistry,
    },
    /// Push push items to the target registry (merging multi-arch lists)
    #[command(after_help = "Examples:
  ferry push --target quay.yaml items.yaml
  ferry push --target quay.yaml --dry-run 'registry:?image=reg.io/ns/app:1.0&dest=product/app'
  ferry push --plan-shards 4 -o json --target quay.yaml items.yaml
  ferry push --shard 1/4 --report shard-1.json --target quay.yaml items.yaml
  ferry --registries.d ./registries.d push --target signed.yaml items.yaml

Exit 0 only when every item is PUSHED; 2 when the settings or items are invalid (nothing written).
Items whose dest_signing_key names a key of the settings' `signing:` are signed after each tag is
written (simple signing into the lookaside --registries.d names, or a cosign attachment); an item
naming a key not configured is INVALID. A wrong key passphrase: exit 1, nothing written.
A sharded push (--shard INDEX/COUNT) writes only the destination repositories its shard owns
(a stable hash of the repository name): COUNT such processes do what one push does; combine
their reports with `ferry report merge`.")]
    Push {
        #[command(flatten)]
        args: crate::commands::push::PushArgs,
        #[command(flatten)]
        access: PushAccess,
    },
    /// Work with push reports (combine the reports of a sharded push)
    #[command(
        subcommand,
        after_help = "Examples:
  ferry report merge shard-0.json shard-1.json shard-2.json
  ferry report merge --shards 4 -o json reports/*.json > push.json"
    )]
    Report(crate::commands::report::ReportCommand),
    /// Sign images: simple signing (OpenPGP key) or cosign (ECDSA key)
    #[command(after_help = "Examples:
  ferry sign --key key.asc --registries.d ./registries.d reg.io/app:1.0
  FERRY_SIGN_PASSPHRASE=... ferry sign --key cosign.key reg.io/app:1.0")]
    Sign {
        #[command(flatten)]
        args: crate::commands::sign::SignArgs,
        #[command(flatten)]
        access: OneRegistry,
    },
    /// Verify that images carry a valid signature by a key (exit 1 naming what failed)
    #[command(after_help = "Examples:
  ferry verify --key pub.asc --registries.d ./registries.d reg.io/app:1.0
  ferry verify --key cosign.pub -o json reg.io/app:1.0")]
    Verify {
        #[command(flatten)]
        args: crate::commands::verify::VerifyArgs,
        #[command(flatten)]
        access: OneRegistry,
    },
    /// Print a shell completion script for ferry
    #[command(after_help = r#"Examples:
  ferry completion bash > ~/.local/share/bash-completion/completions/ferry
  ferry completion zsh > "${fpath[1]}/_ferry"
  ferry completion fish > ~/.config/fish/completions/ferry.fish"#)]
    Completion(crate::commands::meta::CompletionArgs),
    /// Print the manual page (roff) of ferry or of one of its commands
    #[command(after_help = "Examples:
  ferry man > ferry.1 && man ./ferry.1
  ferry man copy | man -l -
  for c in copy sync push; do ferry man $c > ferry-$c.1; done")]
    Man(crate::commands::meta::ManArgs),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_password() {
        let cli = Cli::try_parse_from(["ferry", "digest", "--creds", "alice:hunter2", "r.io/a:b"])
            .unwrap();
        let shown = format!("{cli:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("alice:<redacted>"), "{shown}");
    }
}
