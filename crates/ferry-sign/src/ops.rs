//! Signing and verifying one manifest, in whichever format the key has.

use ferry_image::{Digest, Reference};
use ferry_registry::Repository;

use crate::attachments::{self, attachment_tag};
use crate::identity::identity_matches;
use crate::lookaside::Lookaside;
use crate::payload::{self, COSIGN_TYPE, Payload, SIMPLE_SIGNING_TYPE};
use crate::pgp_key::PgpRefusal;
use crate::{RegistriesD, SignError, SignatureFormat, SigningKey, VerificationKey};

/// What [`sign`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SignOutcome {
    /// The manifest signed.
    pub digest: String,
    /// The identity signed.
    pub identity: String,
    /// The format.
    pub format: SignatureFormat,
    /// Whether a signature was added (false: one by this key for this identity and digest
    /// was already there).
    pub added: bool,
    /// Where the signature is: a lookaside URL, or `registry/repo:sha256-<hex>.sig`.
    pub location: String,
}

/// Why a signature found is not accepted, or that it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Signed by the key, for this digest and identity.
    Valid,
    /// Made by another key (the issuers named by the signature, when it names them).
    OtherKey {
        /// Issuer fingerprints or key IDs found in the signature.
        issuers: Vec<String>,
    },
    /// Signed by the key, but for another manifest.
    WrongDigest {
        /// The digest in the payload.
        found: String,
    },
    /// Signed by the key for this manifest, but for another identity.
    WrongIdentity {
        /// The identity in the payload.
        found: String,
    },
    /// Not a signature ferry can read.
    Invalid {
        /// Why.
        reason: String,
    },
}

/// One signature found for a manifest and what was made of it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FoundSignature {
    /// Where it was found (lookaside URL, or attachment tag and layer digest).
    pub location: String,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The payload, when it could be read after the signature was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    /// The fingerprint of the key that made it, when it is the key given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

/// The result of verifying one manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verification {
    /// The manifest.
    pub digest: String,
    /// The identity expected.
    pub identity: String,
    /// The format looked for.
    pub format: SignatureFormat,
    /// Where signatures were looked for.
    pub looked_in: String,
    /// Every signature found.
    pub signatures: Vec<FoundSignature>,
}

impl Verification {
    /// Whether at least one signature is valid.
    pub fn is_valid(&self) -> bool {
        self.signatures.iter().any(|s| s.verdict == Verdict::Valid)
    }

    /// A one-line reason when not valid: unsigned, or what each signature found is.
    pub fn failure(&self) -> Option<String> {
        if self.is_valid() {
            return None;
        }
        if self.signatures.is_empty() {
            return Some(format!(
                "{}: unsigned (no {} signature in {})",
                self.digest, self.format, self.looked_in
            ));
        }
        let reasons: Vec<String> = self
            .signatures
            .iter()
            .map(|s| match &s.verdict {
                Verdict::Valid => "valid".to_string(),
                Verdict::OtherKey { issuers } if issuers.is_empty() => {
                    "signed by another key".to_string()
                }
                Verdict::OtherKey { issuers } => {
                    format!("signed by another key ({})", issuers.join(", "))
                }
                Verdict::WrongDigest { found } => format!("signed for another manifest ({found})"),
                Verdict::WrongIdentity { found } => {
                    format!("signed for identity {found}, not {}", self.identity)
                }
                Verdict::Invalid { reason } => format!("invalid signature ({reason})"),
            })
            .collect();
        Some(format!(
            "{}: no valid signature for {}: {}",
            self.digest,
            self.identity,
            reasons.join("; ")
        ))
    }
}

/// The reference registries.d scopes are matched against: the repository's.
fn scope_of(repo: &Repository) -> Result<Reference, SignError> {
    Reference::from_parts(repo.registry(), repo.name(), None, None)
        .map_err(|e| SignError::Invalid(e.to_string()))
}

/// The lookaside of `repo` (for writing: `lookaside-staging` when set).
pub fn lookaside_for(
    config: &RegistriesD,
    repo: &Repository,
    write: bool,
) -> Result<Lookaside, SignError> {
    let scope = scope_of(repo)?;
    Lookaside::new(&config.lookaside_base(&scope, write)?, repo.name())
}

fn attachment_location(repo: &Repository, digest: &Digest) -> String {
    format!(
        "{}/{}:{}",
        repo.registry(),
        repo.name(),
        attachment_tag(digest)
    )
}

/// The signature by `key` for `identity` and `digest` already where [`sign`] would write
/// one (the `lookaside-staging` or lookaside registries.d names for `repo`, or the
/// attachment in `repo`), as the outcome `sign` would report (`added: false`); `None`
/// when there is none. Reads only: what a dry run asks.
pub async fn find_signature(
    repo: &Repository,
    digest: &Digest,
    identity: &Reference,
    key: &SigningKey,
    config: &RegistriesD,
) -> Result<Option<SignOutcome>, SignError> {
    Ok(existing(repo, digest, identity, key, config)
        .await?
        .found
        .map(|location| SignOutcome {
            digest: digest.to_string(),
            identity: identity.to_string(),
            format: key.format(),
            added: false,
            location,
        }))
}

/// What is already stored for a digest: the matching signature's location, if any, and
/// how many simple signing signatures there are (the next index is one more).
struct Existing {
    found: Option<String>,
    count: usize,
}

async fn existing(
    repo: &Repository,
    digest: &Digest,
    identity: &Reference,
    key: &SigningKey,
    config: &RegistriesD,
) -> Result<Existing, SignError> {
    let identity_str = identity.to_string();
    let verifier = key.verification_key();
    let same = |found: &FoundSignature| {
        found.verdict == Verdict::Valid
            && found.payload.as_ref().map(|p| p.identity.as_str()) == Some(identity_str.as_str())
    };
    match key {
        SigningKey::Pgp(_) => {
            let lookaside = lookaside_for(config, repo, true)?;
            let signatures = lookaside.read(digest).await?;
            let found = signatures.iter().enumerate().find_map(|(i, sig)| {
                same(&judge_simple(&verifier, sig, digest, identity))
                    .then(|| lookaside.signature_url(digest, i + 1).to_string())
            });
            Ok(Existing {
                found,
                count: signatures.len(),
            })
        }
        SigningKey::Cosign(_) => {
            let location = attachment_location(repo, digest);
            let signatures = attachments::read_signatures(repo, digest).await?;
            let found = signatures
                .iter()
                .any(|sig| same(&judge_cosign(&verifier, sig, digest, identity, &location)))
                .then(|| location.clone());
            Ok(Existing {
                found,
                count: signatures.len(),
            })
        }
    }
}

/// Signs manifest `digest` of `repo` for `identity` with `key`: a simple signing
/// signature written to the lookaside registries.d names for the repository
/// (`lookaside-staging` first), or a cosign signature appended to the attachment in the
/// repository. Nothing is added when a valid signature by this key for this identity and
/// digest is already there. `repo` should be a [`Repository::for_push`] handle.
pub async fn sign(
    repo: &Repository,
    digest: &Digest,
    identity: &Reference,
    key: &SigningKey,
    config: &RegistriesD,
) -> Result<SignOutcome, SignError> {
    let identity_str = identity.to_string();
    let outcome = |added: bool, location: String| SignOutcome {
        digest: digest.to_string(),
        identity: identity_str.clone(),
        format: key.format(),
        added,
        location,
    };
    let before = existing(repo, digest, identity, key, config).await?;
    if let Some(location) = before.found {
        return Ok(outcome(false, location));
    }
    match key {
        SigningKey::Pgp(k) => {
            let lookaside = lookaside_for(config, repo, true)?;
            let body = payload::build(SIMPLE_SIGNING_TYPE, digest, &identity_str);
            let signature = k.sign(&body)?;
            let url = lookaside
                .write(digest, before.count + 1, &signature)
                .await?;
            Ok(outcome(true, url.to_string()))
        }
        SigningKey::Cosign(k) => {
            let location = attachment_location(repo, digest);
            let body = payload::build(COSIGN_TYPE, digest, &identity_str);
            let signature = k.sign(&body);
            let added = attachments::append_signature(repo, digest, &body, &signature).await?;
            Ok(outcome(added, location))
        }
    }
}

/// Verifies that manifest `digest` of `repo` carries a valid signature by `key` for
/// `expected` (see [`crate::identity_matches`]): simple signing signatures are read
/// from the lookaside registries.d names for the repository, cosign ones from the
/// attachment. Every signature found is reported with its verdict.
pub async fn verify(
    repo: &Repository,
    digest: &Digest,
    expected: &Reference,
    key: &VerificationKey,
    config: &RegistriesD,
) -> Result<Verification, SignError> {
    let (looked_in, signatures) = match key {
        VerificationKey::Pgp(_) => {
            let lookaside = lookaside_for(config, repo, false)?;
            let found = lookaside
                .read(digest)
                .await?
                .iter()
                .enumerate()
                .map(|(i, sig)| {
                    let mut f = judge_simple(key, sig, digest, expected);
                    f.location = lookaside.signature_url(digest, i + 1).to_string();
                    f
                })
                .collect();
            (lookaside.signature_url(digest, 1).to_string(), found)
        }
        VerificationKey::Cosign(_) => {
            let location = attachment_location(repo, digest);
            let found = attachments::read_signatures(repo, digest)
                .await?
                .iter()
                .map(|s| judge_cosign(key, s, digest, expected, &location))
                .collect();
            (location, found)
        }
    };
    Ok(Verification {
        digest: digest.to_string(),
        identity: expected.to_string(),
        format: key.format(),
        looked_in,
        signatures,
    })
}

/// Checks digest and identity of a payload whose signature is valid.
fn judge_payload(
    payload: Payload,
    digest: &Digest,
    expected: &Reference,
    repository_claims_all: bool,
) -> (Verdict, Payload) {
    let digest_ok = Digest::parse(&payload.digest).is_ok_and(|d| &d == digest);
    let verdict = if !digest_ok {
        Verdict::WrongDigest {
            found: payload.digest.clone(),
        }
    } else if !identity_matches(expected, &payload.identity, repository_claims_all) {
        Verdict::WrongIdentity {
            found: payload.identity.clone(),
        }
    } else {
        Verdict::Valid
    };
    (verdict, payload)
}

fn invalid(location: &str, reason: impl Into<String>) -> FoundSignature {
    FoundSignature {
        location: location.to_string(),
        verdict: Verdict::Invalid {
            reason: reason.into(),
        },
        payload: None,
        signer: None,
    }
}

/// Judges one simple signing signature (the location is filled in by the caller).
fn judge_simple(
    key: &VerificationKey,
    signature: &[u8],
    digest: &Digest,
    expected: &Reference,
) -> FoundSignature {
    let VerificationKey::Pgp(keyring) = key else {
        return invalid("", "not an OpenPGP key");
    };
    match keyring.verify(signature) {
        Err(PgpRefusal::Malformed(reason)) => invalid("", reason),
        Err(PgpRefusal::OtherKey(issuers)) => FoundSignature {
            location: String::new(),
            verdict: Verdict::OtherKey { issuers },
            payload: None,
            signer: None,
        },
        Ok((data, signer)) => match payload::parse(&data, SIMPLE_SIGNING_TYPE) {
            Err(reason) => invalid("", reason),
            Ok(p) => {
                let (verdict, p) = judge_payload(p, digest, expected, false);
                FoundSignature {
                    location: String::new(),
                    verdict,
                    payload: Some(p),
                    signer: Some(signer),
                }
            }
        },
    }
}

/// Judges one cosign signature layer.
fn judge_cosign(
    key: &VerificationKey,
    sig: &attachments::CosignSignature,
    digest: &Digest,
    expected: &Reference,
    location: &str,
) -> FoundSignature {
    let location = format!("{location} layer {}", sig.layer_digest);
    let VerificationKey::Cosign(k) = key else {
        return invalid(&location, "not an ECDSA key");
    };
    let Some(der) = sig.signature() else {
        return invalid(
            &location,
            format!("no base64 {} annotation", attachments::SIGNATURE_ANNOTATION),
        );
    };
    if !k.verify(&sig.payload, &der) {
        return FoundSignature {
            location,
            verdict: Verdict::OtherKey {
                issuers: Vec::new(),
            },
            payload: None,
            signer: None,
        };
    }
    match payload::parse(&sig.payload, COSIGN_TYPE) {
        Err(reason) => invalid(&location, reason),
        Ok(p) => {
            let (verdict, p) = judge_payload(p, digest, expected, true);
            FoundSignature {
                location,
                verdict,
                payload: Some(p),
                signer: Some(k.fingerprint()),
            }
        }
    }
}
