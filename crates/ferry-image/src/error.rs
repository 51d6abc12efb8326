//! Errors of the image model.

/// What went wrong while parsing or verifying part of the image model.
///
/// Every variant names the input that was refused and why, so that a caller can print it
/// as is: `invalid reference "Foo/bar": repository name must be lowercase`.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageError {
    /// A malformed image reference.
    #[error("invalid reference {input:?}: {reason}")]
    InvalidReference {
        /// The text that was parsed.
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// A malformed registry host, repository name or tag, checked on its own.
    #[error("invalid {what} {input:?}: {reason}")]
    InvalidName {
        /// What it is: `registry host`, `repository name` or `tag`.
        what: &'static str,
        /// The text that was checked.
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// A malformed digest.
    #[error("invalid digest {input:?}: {reason}")]
    InvalidDigest {
        /// The text that was parsed.
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// A malformed platform.
    #[error("invalid platform {input:?}: {reason}")]
    InvalidPlatform {
        /// The text that was parsed.
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// Manifest bytes that are not a manifest ferry understands.
    #[error("invalid manifest ({media_type}): {reason}")]
    InvalidManifest {
        /// The media type the manifest was declared or detected as.
        media_type: String,
        /// Why it was refused.
        reason: String,
    },
    /// Indexes nested deeper than allowed (see [`crate::MAX_MANIFEST_DEPTH`]).
    #[error(
        "manifest {digest} is nested deeper than {max} levels of indexes; a chain of indexes this deep is refused"
    )]
    TooDeep {
        /// The manifest found too deep.
        digest: String,
        /// The deepest level allowed.
        max: usize,
    },
    /// Content whose digest is not the one it was expected to have.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The digest the content was asked for by.
        expected: String,
        /// The digest of the bytes that arrived.
        actual: String,
    },
}

impl ImageError {
    pub(crate) fn reference(input: &str, reason: impl Into<String>) -> Self {
        ImageError::InvalidReference {
            input: input.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn manifest(media_type: &str, reason: impl Into<String>) -> Self {
        ImageError::InvalidManifest {
            media_type: media_type.to_string(),
            reason: reason.into(),
        }
    }
}
