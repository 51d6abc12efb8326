//! Signing and verifying several images at once: each reference, and for a list every
//! child manifest after it (see [`manifests_to_sign`](crate::manifests_to_sign)).

use ferry_image::Reference;
use ferry_registry::Client;

use crate::{
    RegistriesD, SignError, SignOutcome, SignatureFormat, SigningKey, Verification,
    VerificationKey, default_identity,
};

/// The identity a signature of `reference` names: `explicit` when given, else for cosign
/// the repository (a cosign signature covers every tag of it, as cosign itself does), for
/// simple signing the reference as given (see [`default_identity`]).
pub fn signing_identity(
    reference: &Reference,
    explicit: Option<&Reference>,
    format: SignatureFormat,
) -> Reference {
    match (explicit, format) {
        (Some(i), _) => i.clone(),
        (None, SignatureFormat::Cosign) => reference.repository_ref(),
        (None, SignatureFormat::SimpleSigning) => default_identity(reference),
    }
}

/// Signs each of `refs` with `key` (identity: see [`signing_identity`]), in order, and
/// calls `each` after every signature. Stops at the first error, which names the
/// reference (and the manifest) it concerns.
pub async fn sign_images(
    client: &Client,
    refs: &[Reference],
    identity: Option<&Reference>,
    key: &SigningKey,
    config: &RegistriesD,
    mut each: impl FnMut(&Reference, &SignOutcome),
) -> Result<Vec<SignOutcome>, SignError> {
    let mut outcomes = Vec::new();
    for r in refs {
        let repo = client.repository(r.registry(), r.repository()).for_push();
        let identity = signing_identity(r, identity, key.format());
        let digests = crate::manifests_to_sign(&repo, &r.target())
            .await
            .map_err(|e| e.about(r.to_string()))?;
        for d in digests {
            let o = crate::sign(&repo, &d, &identity, key, config)
                .await
                .map_err(|e| e.about(format!("signing {r} ({d})")))?;
            each(r, &o);
            outcomes.push(o);
        }
    }
    Ok(outcomes)
}

/// Verifies the signatures of each of `refs` (and of a list's children) against `key`:
/// they must name `identity`, else the reference as given ([`default_identity`]). Calls
/// `each` after every manifest; a manifest without a valid signature is a result (see
/// [`Verification::failure`]), not an error. Errors (the registry, the lookaside) stop
/// the run and name the reference.
pub async fn verify_images(
    client: &Client,
    refs: &[Reference],
    identity: Option<&Reference>,
    key: &VerificationKey,
    config: &RegistriesD,
    mut each: impl FnMut(&Reference, &Verification),
) -> Result<Vec<Verification>, SignError> {
    let mut results = Vec::new();
    for r in refs {
        let repo = client.repository(r.registry(), r.repository());
        let expected = identity.cloned().unwrap_or_else(|| default_identity(r));
        let digests = crate::manifests_to_sign(&repo, &r.target())
            .await
            .map_err(|e| e.about(r.to_string()))?;
        for d in digests {
            let v = crate::verify(&repo, &d, &expected, key, config)
                .await
                .map_err(|e| e.about(format!("verifying {r} ({d})")))?;
            each(r, &v);
            results.push(v);
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_explicit_else_the_repository_for_cosign_else_the_reference() {
        let r = Reference::parse("quay.io/ns/app:v1").unwrap();
        let other = Reference::parse("example.com/x/y:z").unwrap();
        assert_eq!(
            signing_identity(&r, Some(&other), SignatureFormat::Cosign),
            other
        );
        assert_eq!(
            signing_identity(&r, None, SignatureFormat::Cosign).to_string(),
            "quay.io/ns/app"
        );
        assert_eq!(
            signing_identity(&r, None, SignatureFormat::SimpleSigning),
            default_identity(&r)
        );
    }

    #[test]
    fn errors_name_what_they_concern() {
        let e = SignError::Invalid("bad".into()).about("signing quay.io/a/b:c (sha256:00)");
        assert_eq!(e.to_string(), "signing quay.io/a/b:c (sha256:00)");
        let source = std::error::Error::source(&e).map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("bad"));
    }
}
