//! `ferry sign`: sign images (simple signing or cosign, as the key decides).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ferry_image::Reference;
use ferry_sign::{
    Passphrase, RegistriesD, SignError, SignatureFormat, SigningKey, default_identity,
    parse_identity,
};

use crate::cli::{Global, Output};
use crate::context::{Role, client};
use crate::{output, usage};

/// Arguments of `ferry sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    /// Signing key: an OpenPGP secret key (armored or binary: simple signing into the
    /// lookaside), or an ECDSA P-256 PEM / cosign encrypted key (a cosign attachment)
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Read the key's passphrase from this file (first line); else $FERRY_SIGN_PASSPHRASE
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Identity to sign (default: each REF as given, REGISTRY/REPO:TAG; with a cosign
    /// key, REGISTRY/REPO)
    #[arg(long, value_name = "REF")]
    pub identity: Option<String>,
    /// Images to sign (REGISTRY/REPO[:TAG|@DIGEST]); a list is signed with every child
    #[arg(required = true)]
    pub refs: Vec<String>,
}

/// Parses registry references given on the command line.
pub fn parse_refs(refs: &[String]) -> Result<Vec<Reference>> {
    refs.iter()
        .map(|r| {
            if r.starts_with("oci:") {
                return Err(usage(format!(
                    "{r}: signatures are for images in registries, not OCI layouts"
                )));
            }
            Reference::parse(r.strip_prefix("docker://").unwrap_or(r))
                .map_err(|e| usage(format!("reference: {e}")))
        })
        .collect()
}

/// The passphrase: `--passphrase-file`, else `$FERRY_SIGN_PASSPHRASE` when set.
fn passphrase(file: Option<&Path>) -> Result<Option<Passphrase>> {
    if let Some(f) = file {
        return Passphrase::from_file(f)
            .map(Some)
            .map_err(|e| usage(format!("--passphrase-file: {e}")));
    }
    Ok(std::env::var("FERRY_SIGN_PASSPHRASE")
        .ok()
        .map(Passphrase::new))
}

/// Key and configuration errors are usage errors (exit 2), except a wrong passphrase.
pub fn input_error(e: SignError) -> anyhow::Error {
    match e {
        SignError::WrongPassphrase { .. } => anyhow::Error::new(e),
        SignError::Key { .. }
        | SignError::PassphraseNeeded { .. }
        | SignError::Config { .. }
        | SignError::Io { .. }
        | SignError::Invalid(_) => usage(e),
        other => anyhow::Error::new(other),
    }
}

pub async fn run(g: &Global, a: SignArgs) -> Result<ExitCode> {
    let refs = parse_refs(&a.refs)?;
    let identity = match &a.identity {
        Some(i) => Some(parse_identity(i).map_err(usage)?),
        None => None,
    };
    let config = RegistriesD::load(g.registries_d.as_deref()).map_err(input_error)?;
    let pass = passphrase(a.passphrase_file.as_deref())?;
    let key = SigningKey::from_file(&a.key, pass.as_ref()).map_err(input_error)?;
    let hosts: Vec<String> = refs.iter().map(|r| r.registry().to_string()).collect();
    let roles: Vec<(&str, Role)> = hosts.iter().map(|h| (h.as_str(), Role::Single)).collect();
    let client = client(g, &roles)?;
    let mut outcomes = Vec::new();
    for r in &refs {
        let repo = client.repository(r.registry(), r.repository()).for_push();
        // Cosign signs the repository (every tag of it), as cosign itself does.
        let identity = identity.clone().unwrap_or_else(|| match key.format() {
            SignatureFormat::Cosign => r.repository_ref(),
            SignatureFormat::SimpleSigning => default_identity(r),
        });
        let digests = ferry_sign::manifests_to_sign(&repo, &r.target())
            .await
            .map_err(|e| anyhow::Error::new(e).context(format!("{r}")))?;
        for d in digests {
            let o = ferry_sign::sign(&repo, &d, &identity, &key, &config)
                .await
                .map_err(|e| anyhow::Error::new(e).context(format!("signing {r} ({d})")))?;
            if g.output == Output::Text && !g.quiet {
                let what = if o.added { "signed" } else { "already signed" };
                crate::outln!(
                    "{what} {}@{} as {} ({}): {}",
                    r.name(),
                    o.digest,
                    o.identity,
                    o.format,
                    o.location
                )?;
            }
            outcomes.push(o);
        }
    }
    if g.output != Output::Text {
        output::structured(g.output, &outcomes)?;
    }
    Ok(ExitCode::SUCCESS)
}
