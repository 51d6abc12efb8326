//! Keys: loading signing and verification keys from files, recognizing their kind.
//!
//! The key decides the signature format: an OpenPGP key gives simple signing
//! (containers-signature(5)); an ECDSA P-256 key (PKCS#8 or SEC1 PEM, cosign's encrypted
//! PEM, SPKI PEM public key) gives cosign signatures.

use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

use crate::{SignError, cosign_key, pgp_key};

/// A passphrase: never shown by `Debug` or `Display`, wiped from memory when dropped.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps a passphrase.
    pub fn new(s: impl Into<String>) -> Passphrase {
        Passphrase(Zeroizing::new(s.into()))
    }

    /// Reads a passphrase file: its first line, without the line ending.
    pub fn from_file(path: &Path) -> Result<Passphrase, SignError> {
        let text =
            Zeroizing::new(std::fs::read_to_string(path).map_err(|e| SignError::io(path, e))?);
        let line = text.lines().next().unwrap_or("");
        Ok(Passphrase::new(line))
    }

    /// The passphrase.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// The two signature formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureFormat {
    /// containers-signature(5) "simple signing": an OpenPGP-signed JSON payload stored in
    /// a lookaside (`signature-N` files).
    SimpleSigning,
    /// Cosign: an ECDSA signature of a JSON payload, stored as a layer of the
    /// `sha256-<hex>.sig` attachment manifest in the image's repository.
    Cosign,
}

impl fmt::Display for SignatureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureFormat::SimpleSigning => "simple signing",
            SignatureFormat::Cosign => "cosign",
        })
    }
}

/// A key that signs.
pub enum SigningKey {
    /// An OpenPGP secret key (simple signing).
    Pgp(pgp_key::PgpSigner),
    /// An ECDSA P-256 private key (cosign).
    Cosign(cosign_key::CosignSigner),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, {})", self.format(), self.fingerprint())
    }
}

impl SigningKey {
    /// Loads a signing key from a file (see [`SigningKey::from_bytes`]).
    pub fn from_file(
        path: &Path,
        passphrase: Option<&Passphrase>,
    ) -> Result<SigningKey, SignError> {
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| SignError::io(path, e))?);
        SigningKey::from_bytes(&bytes, passphrase, path)
    }

    /// Parses a signing key: an OpenPGP secret key (armored or binary), a PKCS#8
    /// (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) PEM ECDSA P-256 key, or a cosign
    /// encrypted key (`ENCRYPTED COSIGN PRIVATE KEY` / `ENCRYPTED SIGSTORE PRIVATE KEY`).
    /// `origin` names the key in errors.
    pub fn from_bytes(
        bytes: &[u8],
        passphrase: Option<&Passphrase>,
        origin: &Path,
    ) -> Result<SigningKey, SignError> {
        match cosign_key::pem_label(bytes) {
            Some(label) if label.starts_with("PGP ") => {
                if label != "PGP PRIVATE KEY BLOCK" {
                    return Err(SignError::key(
                        origin,
                        format!("an armored {label}, not a secret key"),
                    ));
                }
                pgp_key::PgpSigner::load(bytes, passphrase, origin).map(SigningKey::Pgp)
            }
            Some(_) => {
                cosign_key::CosignSigner::load(bytes, passphrase, origin).map(SigningKey::Cosign)
            }
            None if pgp_key::looks_binary(bytes) => {
                pgp_key::PgpSigner::load(bytes, passphrase, origin).map(SigningKey::Pgp)
            }
            None => Err(SignError::key(
                origin,
                "not a key ferry reads (an OpenPGP secret key, a PEM ECDSA P-256 private key or a cosign encrypted key)",
            )),
        }
    }

    /// The format signatures by this key have.
    pub fn format(&self) -> SignatureFormat {
        match self {
            SigningKey::Pgp(_) => SignatureFormat::SimpleSigning,
            SigningKey::Cosign(_) => SignatureFormat::Cosign,
        }
    }

    /// The OpenPGP fingerprint (upper-case hex), or for an ECDSA key the SHA-256 of its
    /// public key (SPKI DER), as hex.
    pub fn fingerprint(&self) -> String {
        match self {
            SigningKey::Pgp(k) => k.fingerprint(),
            SigningKey::Cosign(k) => k.fingerprint(),
        }
    }

    /// The public half, to verify with.
    pub fn verification_key(&self) -> VerificationKey {
        match self {
            SigningKey::Pgp(k) => VerificationKey::Pgp(k.public()),
            SigningKey::Cosign(k) => VerificationKey::Cosign(k.public()),
        }
    }
}

/// A key that verifies.
#[derive(Clone)]
pub enum VerificationKey {
    /// OpenPGP public keys (a keyring: any of them may have signed).
    Pgp(pgp_key::PgpKeyring),
    /// An ECDSA P-256 public key.
    Cosign(cosign_key::CosignVerifier),
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "VerificationKey({}, {})",
            self.format(),
            self.fingerprints().join(",")
        )
    }
}

impl VerificationKey {
    /// Loads a verification key from a file (see [`VerificationKey::from_bytes`]).
    pub fn from_file(path: &Path) -> Result<VerificationKey, SignError> {
        let bytes = std::fs::read(path).map_err(|e| SignError::io(path, e))?;
        VerificationKey::from_bytes(&bytes, path)
    }

    /// Parses a verification key: OpenPGP public keys (armored, or binary as
    /// `gpg --export` writes them; several keys form a keyring), or an SPKI PEM
    /// (`PUBLIC KEY`) ECDSA P-256 public key as cosign writes `cosign.pub`.
    pub fn from_bytes(bytes: &[u8], origin: &Path) -> Result<VerificationKey, SignError> {
        match cosign_key::pem_label(bytes) {
            Some(label) if label.starts_with("PGP ") => {
                if label != "PGP PUBLIC KEY BLOCK" {
                    return Err(SignError::key(
                        origin,
                        format!("an armored {label}, not a public key"),
                    ));
                }
                pgp_key::PgpKeyring::load(bytes, origin).map(VerificationKey::Pgp)
            }
            Some(_) => cosign_key::CosignVerifier::load(bytes, origin).map(VerificationKey::Cosign),
            None if pgp_key::looks_binary(bytes) => {
                pgp_key::PgpKeyring::load(bytes, origin).map(VerificationKey::Pgp)
            }
            None => Err(SignError::key(
                origin,
                "not a public key ferry reads (OpenPGP public keys, or a PEM ECDSA P-256 public key)",
            )),
        }
    }

    /// The format of the signatures this key verifies.
    pub fn format(&self) -> SignatureFormat {
        match self {
            VerificationKey::Pgp(_) => SignatureFormat::SimpleSigning,
            VerificationKey::Cosign(_) => SignatureFormat::Cosign,
        }
    }

    /// The fingerprints of the keys (see [`SigningKey::fingerprint`]).
    pub fn fingerprints(&self) -> Vec<String> {
        match self {
            VerificationKey::Pgp(k) => k.fingerprints(),
            VerificationKey::Cosign(k) => vec![k.fingerprint()],
        }
    }
}
