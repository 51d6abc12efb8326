//! `ferry verify`: check that images carry valid signatures by a key.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ferry_sign::{RegistriesD, VerificationKey, default_identity, parse_identity};

use crate::cli::{Global, Output};
use crate::commands::sign::{input_error, parse_refs};
use crate::context::{Role, client};
use crate::output;

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
    let refs = parse_refs(&a.refs)?;
    let identity = match &a.identity {
        Some(i) => Some(parse_identity(i).map_err(crate::usage)?),
        None => None,
    };
    let config = RegistriesD::load(g.registries_d.as_deref()).map_err(input_error)?;
    let key = VerificationKey::from_file(&a.key).map_err(input_error)?;
    let hosts: Vec<String> = refs.iter().map(|r| r.registry().to_string()).collect();
    let roles: Vec<(&str, Role)> = hosts.iter().map(|h| (h.as_str(), Role::Single)).collect();
    let client = client(g, &roles)?;
    let mut results = Vec::new();
    let mut failures = Vec::new();
    for r in &refs {
        let repo = client.repository(r.registry(), r.repository());
        let expected = identity.clone().unwrap_or_else(|| default_identity(r));
        let digests = ferry_sign::manifests_to_sign(&repo, &r.target())
            .await
            .map_err(|e| anyhow::Error::new(e).context(format!("{r}")))?;
        for d in digests {
            let v = ferry_sign::verify(&repo, &d, &expected, &key, &config)
                .await
                .map_err(|e| anyhow::Error::new(e).context(format!("verifying {r} ({d})")))?;
            match v.failure() {
                Some(f) => failures.push(format!("{}: {f}", r.name())),
                None if g.output == Output::Text && !g.quiet => {
                    let signer = v
                        .signatures
                        .iter()
                        .find(|s| s.verdict == ferry_sign::Verdict::Valid)
                        .and_then(|s| s.signer.clone())
                        .unwrap_or_default();
                    crate::outln!(
                        "verified {}@{} as {} ({}, key {signer})",
                        r.name(),
                        v.digest,
                        v.identity,
                        v.format
                    )?;
                }
                None => {}
            }
            results.push(v);
        }
    }
    if g.output != Output::Text {
        output::structured(g.output, &results)?;
    }
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for f in &failures {
        crate::output::warn_line!("ferry: verify failed: {f}");
    }
    Ok(ExitCode::from(1))
}
