//! `ferry sign` and `ferry verify`: a line per manifest, or the list of results.

use anyhow::Result;
use ferry_image::Reference;
use ferry_sign::{SignOutcome, Verdict, Verification};

/// One line after a signature (text output, not quiet).
pub fn signed(r: &Reference, o: &SignOutcome) -> Result<()> {
    let what = if o.added { "signed" } else { "already signed" };
    crate::outln!(
        "{what} {}@{} as {} ({}): {}",
        r.name(),
        o.digest,
        o.identity,
        o.format,
        o.location
    )
}

/// One line after a manifest whose signature is valid (text output, not quiet).
pub fn verified(r: &Reference, v: &Verification) -> Result<()> {
    let signer = v
        .signatures
        .iter()
        .find(|s| s.verdict == Verdict::Valid)
        .and_then(|s| s.signer.clone())
        .unwrap_or_default();
    crate::outln!(
        "verified {}@{} as {} ({}, key {signer})",
        r.name(),
        v.digest,
        v.identity,
        v.format
    )
}
