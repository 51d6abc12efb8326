//! ferry-sign: container image signatures — simple signing and cosign — signed and
//! verified against real registries.
//!
//! - **Simple signing** (containers-signature(5)): a JSON payload
//!   `{"critical":{"type":"atomic container signature","image":{"docker-manifest-digest":D},"identity":{"docker-reference":R}},"optional":{...}}`
//!   in an OpenPGP signed message, stored in a *lookaside* at
//!   `<base>/<repository>@sha256=<hex>/signature-N` ([`Lookaside`]); the base comes from
//!   registries.d ([`RegistriesD`]). Made with an OpenPGP secret key.
//! - **Cosign**: the same payload shape with type `cosign container image signature`,
//!   signed with ECDSA P-256, stored as a layer of the `sha256-<hex>.sig` attachment
//!   manifest in the image's repository ([`attachments`]). Made with a PEM or cosign
//!   encrypted key.
//!
//! The key decides the format ([`SigningKey::format`]). [`sign`] adds a signature unless
//! a valid one by the same key for the same digest and identity is there; [`verify`]
//! reports every signature found with a [`Verdict`]. [`manifests_to_sign`] lists a
//! reference's manifest and, for a list, its children (each is signed on its own, with
//! the same identity, as skopeo verifies a platform copied out of a list).
//!
//! ```no_run
//! use std::path::Path;
//! use ferry_image::Reference;
//! use ferry_registry::{Client, ClientConfig};
//! use ferry_sign::{RegistriesD, SigningKey, VerificationKey, default_identity};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(ClientConfig::default())?;
//! let reference = Reference::parse("reg.example.com/team/app:1.0")?;
//! let repo = client.repository(reference.registry(), reference.repository()).for_push();
//! let config = RegistriesD::load(None)?;
//! let key = SigningKey::from_file(Path::new("signing-key.asc"), None)?;
//! let identity = default_identity(&reference);
//! for digest in ferry_sign::manifests_to_sign(&repo, &reference.target()).await? {
//!     let outcome = ferry_sign::sign(&repo, &digest, &identity, &key, &config).await?;
//!     println!("{} {}", outcome.digest, if outcome.added { "signed" } else { "already signed" });
//!     let public = VerificationKey::from_file(Path::new("public-key.asc"))?;
//!     assert!(ferry_sign::verify(&repo, &digest, &identity, &public, &config).await?.is_valid());
//! }
//! # Ok(())
//! # }
//! ```

pub mod attachments;
mod cosign_key;
mod error;
mod identity;
mod images;
mod keys;
mod lookaside;
mod ops;
pub mod payload;
mod pgp_key;
mod registries_d;

use ferry_image::{Digest, Target};
use ferry_registry::Repository;

pub use cosign_key::{CosignSigner, CosignVerifier};
pub use error::SignError;
pub use identity::{default_identity, identity_matches, parse_identity};
pub use images::{sign_images, signing_identity, verify_images};
pub use keys::{Passphrase, SignatureFormat, SigningKey, VerificationKey};
pub use lookaside::Lookaside;
pub use ops::{
    FoundSignature, SignOutcome, Verdict, Verification, find_signature, lookaside_for, sign, verify,
};
pub use payload::Payload;
pub use pgp_key::{PgpKeyring, PgpSigner};
pub use registries_d::{RegistriesD, ScopeSettings};

/// The manifests a signature of `target` in `repo` covers: its manifest's digest, and for
/// a list or index each child's digest after it.
pub async fn manifests_to_sign(
    repo: &Repository,
    target: &Target,
) -> Result<Vec<Digest>, SignError> {
    let raw = repo.get_manifest(target).await?;
    let mut out = vec![raw.digest().clone()];
    let parsed = raw.parse().map_err(|e| {
        SignError::Invalid(format!(
            "{}/{}@{}: {e}",
            repo.registry(),
            repo.name(),
            raw.digest()
        ))
    })?;
    for child in parsed.children() {
        if !out.contains(&child.digest) {
            out.push(child.digest.clone());
        }
    }
    Ok(out)
}
