//! OpenPGP keys and simple signing signatures (signed messages, as `gpg --sign` writes).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use pgp::composed::{Deserializable, Message, MessageBuilder, SignedPublicKey, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::types::{KeyDetails, Password, VerifyingKey};

use crate::{Passphrase, SignError};

/// Whether `bytes` starts like a binary OpenPGP packet (the tag byte has its top bit set).
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|b| b & 0x80 != 0)
}

fn armored(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    bytes[start..].starts_with(b"-----BEGIN PGP")
}

fn fingerprint_of(k: &dyn KeyDetails) -> String {
    format!("{:X}", k.fingerprint())
}

/// An OpenPGP secret key, unlocked with its passphrase (checked when loaded).
pub struct PgpSigner {
    key: Box<SignedSecretKey>,
    passphrase: Option<Passphrase>,
}

impl fmt::Debug for PgpSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgpSigner({})", self.fingerprint())
    }
}

impl PgpSigner {
    pub(crate) fn load(
        bytes: &[u8],
        passphrase: Option<&Passphrase>,
        origin: &Path,
    ) -> Result<PgpSigner, SignError> {
        let parsed = if armored(bytes) {
            SignedSecretKey::from_armor_single(bytes).map(|(k, _)| k)
        } else {
            SignedSecretKey::from_bytes(bytes)
        };
        let key = parsed.map_err(|e| {
            SignError::key(origin, format!("not a usable OpenPGP secret key ({e})"))
        })?;
        let primary = &key.primary_key;
        if primary.secret_params().is_encrypted() {
            let Some(p) = passphrase else {
                return Err(SignError::PassphraseNeeded {
                    path: origin.to_path_buf(),
                });
            };
            let pw = Password::from(p.expose());
            match primary.unlock(&pw, |_, _| Ok(())) {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    return Err(SignError::key(origin, format!("cannot use the key ({e})")));
                }
                Err(_) => {
                    return Err(SignError::WrongPassphrase {
                        path: origin.to_path_buf(),
                    });
                }
            }
        }
        Ok(PgpSigner {
            key: Box::new(key),
            passphrase: passphrase.cloned(),
        })
    }

    /// The primary key's fingerprint, upper-case hex.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.key.primary_key)
    }

    pub(crate) fn public(&self) -> PgpKeyring {
        PgpKeyring {
            keys: Arc::new(vec![self.key.to_public_key()]),
        }
    }

    /// Signs `payload`: a binary OpenPGP message (one-pass signature, literal data,
    /// signature) made with the primary key, SHA-256.
    pub(crate) fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignError> {
        let pw = match &self.passphrase {
            Some(p) => Password::from(p.expose()),
            None => Password::empty(),
        };
        let mut builder = MessageBuilder::from_bytes("", payload.to_vec());
        builder.sign(&self.key.primary_key, pw, HashAlgorithm::Sha256);
        builder
            .to_vec(rand::thread_rng())
            .map_err(|e| SignError::Signing(format!("OpenPGP: {e}")))
    }
}

/// OpenPGP public keys; a signature by any of them (primary key or subkey) is accepted.
#[derive(Clone)]
pub struct PgpKeyring {
    keys: Arc<Vec<SignedPublicKey>>,
}

/// Why a simple signing signature was not accepted.
#[derive(Debug)]
pub(crate) enum PgpRefusal {
    /// Not an OpenPGP signed message.
    Malformed(String),
    /// A valid message, but no key of the keyring made its signature.
    OtherKey(Vec<String>),
}

impl PgpKeyring {
    pub(crate) fn load(bytes: &[u8], origin: &Path) -> Result<PgpKeyring, SignError> {
        let parsed: Result<Vec<SignedPublicKey>, pgp::errors::Error> = if armored(bytes) {
            SignedPublicKey::from_armor_many(bytes).and_then(|(it, _)| it.collect())
        } else {
            SignedPublicKey::from_bytes_many(bytes).and_then(|it| it.collect())
        };
        let keys = parsed
            .map_err(|e| SignError::key(origin, format!("not usable OpenPGP public keys ({e})")))?;
        if keys.is_empty() {
            return Err(SignError::key(origin, "no OpenPGP public key in the file"));
        }
        Ok(PgpKeyring {
            keys: Arc::new(keys),
        })
    }

    /// The primary keys' fingerprints.
    pub fn fingerprints(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| fingerprint_of(&k.primary_key))
            .collect()
    }

    /// Verifies a signed message; returns the signed payload and the fingerprint of the
    /// primary key that signed it.
    pub(crate) fn verify(&self, signature: &[u8]) -> Result<(Vec<u8>, String), PgpRefusal> {
        let bad = |e: &dyn fmt::Display| PgpRefusal::Malformed(e.to_string());
        let mut msg = Message::from_bytes(signature).map_err(|e| bad(&e))?;
        for _ in 0..4 {
            if !msg.is_compressed() {
                break;
            }
            msg = msg.decompress().map_err(|e| bad(&e))?;
        }
        if !msg.is_signed() {
            return Err(PgpRefusal::Malformed(
                "not a signed OpenPGP message".to_string(),
            ));
        }
        let data = msg.as_data_vec().map_err(|e| bad(&e))?;
        for key in self.keys.iter() {
            let mut candidates: Vec<&dyn VerifyingKey> = vec![&key.primary_key];
            candidates.extend(
                key.public_subkeys
                    .iter()
                    .map(|s| &s.key as &dyn VerifyingKey),
            );
            for c in candidates {
                if msg.verify(c).is_ok() {
                    return Ok((data, fingerprint_of(&key.primary_key)));
                }
            }
        }
        let issuers = match &msg {
            Message::Signed { reader, .. } => (0..reader.num_signatures())
                .filter_map(|i| reader.signature(i))
                .flat_map(|s| {
                    let fprs: Vec<String> = s
                        .issuer_fingerprint()
                        .iter()
                        .map(|f| format!("{f:X}"))
                        .collect();
                    if fprs.is_empty() {
                        s.issuer_key_id()
                            .iter()
                            .map(|k| hex::encode_upper(k.as_ref()))
                            .collect()
                    } else {
                        fprs
                    }
                })
                .collect(),
            _ => Vec::new(),
        };
        Err(PgpRefusal::OtherKey(issuers))
    }
}
