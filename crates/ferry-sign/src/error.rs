//! Errors of signing and verification.

use std::path::PathBuf;

use ferry_registry::RegistryError;

/// What went wrong while loading keys, reading configuration, signing or verifying.
///
/// No variant ever carries a passphrase or key material.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// A key file could not be read or is not a key ferry understands.
    #[error("key {path}: {reason}")]
    Key {
        /// The key file (or `<memory>`).
        path: PathBuf,
        /// Why it is refused.
        reason: String,
    },
    /// The passphrase does not open the key.
    #[error("key {path}: wrong passphrase")]
    WrongPassphrase {
        /// The key file.
        path: PathBuf,
    },
    /// The key is protected and no passphrase was given.
    #[error(
        "key {path}: the key is protected by a passphrase; set $FERRY_SIGN_PASSPHRASE or use --passphrase-file"
    )]
    PassphraseNeeded {
        /// The key file.
        path: PathBuf,
    },
    /// A registries.d file is invalid.
    #[error("registries.d {path}: {reason}")]
    Config {
        /// The file (or directory).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A lookaside cannot be used as asked (an http(s) lookaside written to, a bad URL).
    #[error("lookaside {url}: {reason}")]
    Lookaside {
        /// The lookaside URL (no credentials are ever in it).
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a lookaside file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A registry request failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Producing a signature failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// Invalid input (an identity that is not a reference, a digest of another algorithm).
    #[error("{0}")]
    Invalid(String),
    /// An error about one image of several (see [`sign_images`](crate::sign_images)): what
    /// it concerns, then the cause.
    #[error("{what}")]
    About {
        /// The image and the operation (`signing REF (DIGEST)`).
        what: String,
        /// The cause.
        #[source]
        source: Box<SignError>,
    },
}

impl SignError {
    /// This error, said to concern `what` (an image, an operation on it).
    pub fn about(self, what: impl Into<String>) -> SignError {
        SignError::About {
            what: what.into(),
            source: Box::new(self),
        }
    }

    pub(crate) fn key(path: &std::path::Path, reason: impl Into<String>) -> SignError {
        SignError::Key {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> SignError {
        SignError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
