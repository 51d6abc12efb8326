//! ECDSA P-256 keys as cosign uses them: PEM private keys (PKCS#8, SEC1), cosign's
//! encrypted private keys, SPKI public keys; signatures are ASN.1 DER ECDSA over the
//! SHA-256 of the payload.
//!
//! Cosign's encrypted key (`ENCRYPTED COSIGN PRIVATE KEY`, newer `ENCRYPTED SIGSTORE
//! PRIVATE KEY`) is a PEM block whose body is JSON:
//! `{"kdf":{"name":"scrypt","params":{"N":..,"r":..,"p":..},"salt":B64},
//!   "cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}`;
//! the 32-byte key is scrypt(passphrase, salt, N, r, p), the plaintext (NaCl secretbox,
//! XSalsa20-Poly1305, tag first) the PKCS#8 DER of the private key.

use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey as EcSigningKey, VerifyingKey as EcVerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::{Passphrase, SignError};

/// The label of the first PEM block in `bytes` (`PRIVATE KEY`, `PGP PUBLIC KEY BLOCK`...).
pub(crate) fn pem_label(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text.find("-----BEGIN ")? + "-----BEGIN ".len();
    let end = text[start..].find("-----")?;
    Some(text[start..start + end].to_string())
}

/// The decoded body of the PEM block labelled `label`.
fn pem_body(bytes: &[u8], label: &str, origin: &Path) -> Result<Zeroizing<Vec<u8>>, SignError> {
    let text = std::str::from_utf8(bytes).map_err(|_| SignError::key(origin, "not text"))?;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let from = text
        .find(&begin)
        .map(|i| i + begin.len())
        .ok_or_else(|| SignError::key(origin, format!("no {begin} line")))?;
    let to = text[from..]
        .find(&end)
        .map(|i| from + i)
        .ok_or_else(|| SignError::key(origin, format!("no {end} line")))?;
    let b64: Zeroizing<String> = Zeroizing::new(
        text[from..to]
            .lines()
            .filter(|l| !l.contains(':'))
            .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
            .collect(),
    );
    STANDARD
        .decode(b64.as_bytes())
        .map(Zeroizing::new)
        .map_err(|e| SignError::key(origin, format!("the {label} block is not base64 ({e})")))
}

#[derive(Deserialize)]
struct Encrypted {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct KdfParams {
    N: u64,
    r: u32,
    p: u32,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// Decrypts a cosign encrypted private key body (the JSON) to the PKCS#8 DER.
pub(crate) fn decrypt_cosign(
    json: &[u8],
    passphrase: &str,
    origin: &Path,
) -> Result<Zeroizing<Vec<u8>>, SignError> {
    use crypto_secretbox::aead::{Aead, KeyInit};
    let bad = |r: String| SignError::key(origin, r);
    let e: Encrypted = serde_json::from_slice(json)
        .map_err(|err| bad(format!("not a cosign encrypted key ({err})")))?;
    if e.kdf.name != "scrypt" {
        return Err(bad(format!(
            "key derivation {:?} is not supported (scrypt is)",
            e.kdf.name
        )));
    }
    if e.cipher.name != "nacl/secretbox" {
        return Err(bad(format!(
            "cipher {:?} is not supported (nacl/secretbox is)",
            e.cipher.name
        )));
    }
    let n = e.kdf.params.N;
    if n < 2 || !n.is_power_of_two() || n > 1 << 24 {
        return Err(bad(format!(
            "scrypt N = {n} is not a power of two up to 2^24"
        )));
    }
    let log_n = n.trailing_zeros() as u8;
    let params = scrypt::Params::new(log_n, e.kdf.params.r, e.kdf.params.p, 32)
        .map_err(|err| bad(format!("scrypt parameters: {err}")))?;
    let b64 = |what: &str, s: &str| {
        STANDARD
            .decode(s)
            .map_err(|err| bad(format!("{what} is not base64 ({err})")))
    };
    let salt = b64("kdf.salt", &e.kdf.salt)?;
    let nonce = b64("cipher.nonce", &e.cipher.nonce)?;
    let ciphertext = b64("ciphertext", &e.ciphertext)?;
    if nonce.len() != 24 {
        return Err(bad(format!(
            "cipher.nonce has {} bytes, not 24",
            nonce.len()
        )));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(passphrase.as_bytes(), &salt, &params, key.as_mut())
        .map_err(|err| bad(format!("scrypt: {err}")))?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(key.as_ref().into());
    cipher
        .decrypt(nonce.as_slice().into(), ciphertext.as_slice())
        .map(Zeroizing::new)
        .map_err(|_| SignError::WrongPassphrase {
            path: origin.to_path_buf(),
        })
}

fn spki_fingerprint(key: &EcVerifyingKey) -> String {
    match key.to_public_key_der() {
        Ok(der) => hex::encode(Sha256::digest(der.as_bytes())),
        Err(_) => String::from("?"),
    }
}

/// An ECDSA P-256 private key.
pub struct CosignSigner {
    key: EcSigningKey,
}

impl fmt::Debug for CosignSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignSigner({})", self.fingerprint())
    }
}

fn not_p256(origin: &Path, e: impl fmt::Display) -> SignError {
    SignError::key(
        origin,
        format!("not an ECDSA P-256 private key ({e}); cosign signing supports ECDSA P-256 keys"),
    )
}

impl CosignSigner {
    pub(crate) fn load(
        bytes: &[u8],
        passphrase: Option<&Passphrase>,
        origin: &Path,
    ) -> Result<CosignSigner, SignError> {
        let label = pem_label(bytes).unwrap_or_default();
        let key = match label.as_str() {
            "ENCRYPTED COSIGN PRIVATE KEY" | "ENCRYPTED SIGSTORE PRIVATE KEY" => {
                let json = pem_body(bytes, &label, origin)?;
                let der = match decrypt_cosign(&json, passphrase.map_or("", |p| p.expose()), origin)
                {
                    Err(SignError::WrongPassphrase { path }) if passphrase.is_none() => {
                        return Err(SignError::PassphraseNeeded { path });
                    }
                    other => other?,
                };
                EcSigningKey::from_pkcs8_der(&der).map_err(|e| not_p256(origin, e))?
            }
            "PRIVATE KEY" => {
                let der = pem_body(bytes, &label, origin)?;
                EcSigningKey::from_pkcs8_der(&der).map_err(|e| not_p256(origin, e))?
            }
            "EC PRIVATE KEY" => {
                let der = pem_body(bytes, &label, origin)?;
                p256::SecretKey::from_sec1_der(&der)
                    .map(EcSigningKey::from)
                    .map_err(|e| not_p256(origin, e))?
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(SignError::key(
                    origin,
                    "encrypted PKCS#8 keys are not supported; decrypt it (openssl pkcs8) or use a cosign key",
                ));
            }
            "PUBLIC KEY" => {
                return Err(SignError::key(
                    origin,
                    "a public key; signing needs the private key",
                ));
            }
            other => {
                return Err(SignError::key(
                    origin,
                    format!("a PEM {other} block is not a signing key"),
                ));
            }
        };
        Ok(CosignSigner { key })
    }

    /// SHA-256 of the public key's SPKI DER, hex.
    pub fn fingerprint(&self) -> String {
        spki_fingerprint(self.key.verifying_key())
    }

    pub(crate) fn public(&self) -> CosignVerifier {
        CosignVerifier {
            key: *self.key.verifying_key(),
        }
    }

    /// The ASN.1 DER ECDSA signature of SHA-256(`payload`).
    pub(crate) fn sign(&self, payload: &[u8]) -> Vec<u8> {
        let sig: Signature = self.key.sign(payload);
        sig.to_der().as_bytes().to_vec()
    }
}

/// An ECDSA P-256 public key.
#[derive(Clone)]
pub struct CosignVerifier {
    key: EcVerifyingKey,
}

impl CosignVerifier {
    pub(crate) fn load(bytes: &[u8], origin: &Path) -> Result<CosignVerifier, SignError> {
        let label = pem_label(bytes).unwrap_or_default();
        if label != "PUBLIC KEY" {
            return Err(SignError::key(
                origin,
                format!(
                    "a PEM {label} block; verification takes a PUBLIC KEY (SPKI) block or OpenPGP public keys"
                ),
            ));
        }
        let der = pem_body(bytes, &label, origin)?;
        let key = EcVerifyingKey::from_public_key_der(&der)
            .map_err(|e| SignError::key(origin, format!("not an ECDSA P-256 public key ({e})")))?;
        Ok(CosignVerifier { key })
    }

    /// SHA-256 of the SPKI DER, hex.
    pub fn fingerprint(&self) -> String {
        spki_fingerprint(&self.key)
    }

    /// Whether `der` is a valid signature of `payload` by this key.
    pub(crate) fn verify(&self, payload: &[u8], der: &[u8]) -> bool {
        Signature::from_der(der)
            .map(|s| self.key.verify(payload, &s).is_ok())
            .unwrap_or(false)
    }
}
