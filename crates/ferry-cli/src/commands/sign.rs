//! `ferry sign`: sign images (simple signing or cosign, as the key decides).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ferry_sign::{Passphrase, RegistriesD, SigningKey, parse_identity, sign_images};

use crate::cli::{Global, Output};
use crate::locate::{references, references_client};
use crate::{error, output, usage};

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

pub async fn run(g: &Global, a: SignArgs) -> Result<ExitCode> {
    let refs = references(&a.refs)?;
    let identity = a.identity.as_deref().map(parse_identity).transpose();
    let identity = identity.map_err(usage)?;
    let config = RegistriesD::load(g.registries_d.as_deref()).map_err(error::sign_input)?;
    let pass = passphrase(a.passphrase_file.as_deref())?;
    let key = SigningKey::from_file(&a.key, pass.as_ref()).map_err(error::sign_input)?;
    let client = references_client(g, &refs)?;
    let text = g.output == Output::Text && !g.quiet;
    let mut printed = Ok(());
    let outcomes = sign_images(&client, &refs, identity.as_ref(), &key, &config, |r, o| {
        if text && printed.is_ok() {
            printed = output::sign::signed(r, o);
        }
    })
    .await?;
    printed?;
    if g.output != Output::Text {
        output::structured(g.output, &outcomes)?;
    }
    Ok(ExitCode::SUCCESS)
}
