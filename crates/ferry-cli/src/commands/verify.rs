//! `ferry verify`: check that images carry valid signatures by a key.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ferry_sign::{RegistriesD, VerificationKey, parse_identity, verify_images};

use crate::cli::{Global, Output};
use crate::locate::{references, references_client};
use crate::output::warn_line;
use crate::{error, output, usage};

/// Arguments of `ferry verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// Public key: OpenPGP public keys (armored or binary; simple signing) or an ECDSA
    /// P-256 SPKI PEM public key (cosign)
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Identity the signatures must name (default: each REF as given, REGISTRY/REPO:TAG)
    #[arg(long, value_name = "REF")]
    pub identity: Option<String>,
    /// Images to verify (REGISTRY/REPO[:TAG|@DIGEST]); for a list, every child too
    #[arg(required = true)]
    pub refs: Vec<String>,
}

pub async fn run(g: &Global, a: VerifyArgs) -> Result<ExitCode> {
    let refs = references(&a.refs)?;
    let identity = a.identity.as_deref().map(parse_identity).transpose();
    let identity = identity.map_err(usage)?;
    let config = RegistriesD::load(g.registries_d.as_deref()).map_err(error::sign_input)?;
    let key = VerificationKey::from_file(&a.key).map_err(error::sign_input)?;
    let client = references_client(g, &refs)?;
    let text = g.output == Output::Text && !g.quiet;
    let (mut printed, mut failures) = (Ok(()), Vec::new());
    let results = verify_images(
        &client,
        &refs,
        identity.as_ref(),
        &key,
        &config,
        |r, v| match v.failure() {
            Some(f) => failures.push(format!("{}: {f}", r.name())),
            None if text && printed.is_ok() => printed = output::sign::verified(r, v),
            None => {}
        },
    )
    .await?;
    printed?;
    if g.output != Output::Text {
        output::structured(g.output, &results)?;
    }
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for f in &failures {
        warn_line!("ferry: verify failed: {f}");
    }
    Ok(ExitCode::from(1))
}
