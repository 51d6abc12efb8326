//! Signed identities and how they are compared, as containers/image compares them.
//!
//! An identity is a docker reference normalized the Docker way (`testing/manifest:latest`
//! is `docker.io/testing/manifest:latest`, `busybox` is `docker.io/library/busybox`).

use ferry_image::Reference;

use crate::SignError;

/// The identity `sign` writes for an image named `reference`, and `verify` expects, when
/// no identity is given: `host/repo:tag` (`:latest` when no tag was written); an image
/// named by digest only gets its repository, `host/repo`.
pub fn default_identity(reference: &Reference) -> Reference {
    match (reference.tag(), reference.digest()) {
        (Some(t), _) => reference
            .with_tag(t)
            .unwrap_or_else(|_| reference.repository_ref()),
        (None, Some(_)) => reference.repository_ref(),
        (None, None) => reference
            .with_tag("latest")
            .unwrap_or_else(|_| reference.repository_ref()),
    }
}

/// Parses an identity given by a user (`--identity`): a reference without digest.
pub fn parse_identity(input: &str) -> Result<Reference, SignError> {
    let r = Reference::parse(input.strip_prefix("docker://").unwrap_or(input))
        .map_err(|e| SignError::Invalid(format!("identity: {e}")))?;
    if r.digest().is_some() {
        return Err(SignError::Invalid(format!(
            "identity {input}: an identity is REPO[:TAG], without a digest"
        )));
    }
    Ok(r)
}

/// Whether a signature claiming `signed` (as written in its payload) is for `expected`.
///
/// - `expected` without a tag (an image named by digest): the repositories match.
/// - `expected` with a tag: the signed identity is exactly that `host/repo:tag`, except
///   that with `repository_claims_all` (cosign) a signed identity without a tag names the
///   whole repository and matches every tag of it.
pub fn identity_matches(expected: &Reference, signed: &str, repository_claims_all: bool) -> bool {
    let Ok(signed) = Reference::parse(signed) else {
        return false;
    };
    if signed.digest().is_some() {
        return false;
    }
    if signed.name() != expected.name() {
        return false;
    }
    match (expected.tag(), signed.tag()) {
        (None, _) => true,
        (Some(_), None) => repository_claims_all,
        (Some(e), Some(s)) => e == s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Reference {
        Reference::parse(s).unwrap()
    }

    #[test]
    fn normalized_comparison() {
        let e = r("docker.io/testing/manifest:latest");
        assert!(identity_matches(&e, "testing/manifest:latest", false));
        assert!(!identity_matches(&e, "testing/manifest", false));
        assert!(identity_matches(&e, "testing/manifest", true));
        assert!(!identity_matches(&e, "testing/manifest:other", true));
        assert!(!identity_matches(
            &e,
            "quay.io/testing/manifest:latest",
            false
        ));
        assert!(identity_matches(
            &r("busybox"),
            "docker.io/library/busybox:1",
            false
        ));
    }

    #[test]
    fn defaults() {
        assert_eq!(
            default_identity(&r("h.io/a/b")).to_string(),
            "h.io/a/b:latest"
        );
        assert_eq!(default_identity(&r("h.io/a/b:2")).to_string(), "h.io/a/b:2");
        let d = ferry_image::Digest::sha256(b"x");
        assert_eq!(
            default_identity(&r(&format!("h.io/a/b@{d}"))).to_string(),
            "h.io/a/b"
        );
    }
}
