//! Errors of the copy engine.

use std::sync::Arc;

use ferry_image::{Digest, ImageError};
use ferry_registry::RegistryError;

/// Why a copy failed. Each variant keeps its cause; [`CopyError::Context`] adds what ferry
/// was doing (which image, which blob) around it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CopyError {
    /// The registry refused or failed a request.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Bad image content (manifest, digest, reference).
    #[error(transparent)]
    Image(#[from] ImageError),
    /// Reading or writing an OCI layout failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// An OCI layout that is not valid.
    #[error("OCI layout {path}: {reason}")]
    Layout {
        /// The layout directory.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A manifest or tag that does not exist.
    #[error("{what} not found in {location}")]
    NotFound {
        /// What was looked for.
        what: String,
        /// Where.
        location: String,
    },
    /// Content that streamed with another digest than the one asked for.
    #[error("blob {expected} arrived with digest {actual}: the source served wrong bytes")]
    BlobDigestMismatch {
        /// The digest asked for.
        expected: Digest,
        /// The digest of what arrived.
        actual: Digest,
    },
    /// A request that cannot be carried out as asked.
    #[error("{0}")]
    Unsupported(String),
    /// The source failed while a blob streamed from it to the destination.
    #[error("reading blob {digest} from the source {from}: {reason}")]
    SourceBlob {
        /// The blob.
        digest: Digest,
        /// The source, as the copy describes it.
        from: String,
        /// Why the read failed.
        reason: String,
    },
    /// A destination named by digest that is not the digest of the image to write.
    #[error(
        "the destination names digest {named}, but the image to copy has digest {actual}; name the destination by tag, or by the image's digest"
    )]
    DestinationDigest {
        /// The digest in the destination.
        named: Digest,
        /// The digest of the manifest that would be written.
        actual: Digest,
    },
    /// The same failure shared by several waiters (a deduplicated blob copy).
    #[error(transparent)]
    Shared(Arc<CopyError>),
    /// A failure with what ferry was doing when it happened.
    #[error("{context}: {source}")]
    Context {
        /// What ferry was doing.
        context: String,
        /// The cause.
        #[source]
        source: Box<CopyError>,
    },
}

impl CopyError {
    /// Whether this is (or wraps) a [`CopyError::DestinationDigest`]: bad input, refused
    /// before anything was written.
    pub fn is_destination_digest(&self) -> bool {
        match self {
            CopyError::DestinationDigest { .. } => true,
            CopyError::Context { source, .. } => source.is_destination_digest(),
            CopyError::Shared(e) => e.is_destination_digest(),
            _ => false,
        }
    }

    /// Wraps the error with what was being done.
    pub fn context(self, context: impl Into<String>) -> CopyError {
        CopyError::Context {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The innermost copy error (through context and sharing).
    pub fn root(&self) -> &CopyError {
        match self {
            CopyError::Context { source, .. } => source.root(),
            CopyError::Shared(e) => e.root(),
            e => e,
        }
    }

    /// Whether the failure is a missing manifest, tag or repository.
    pub fn is_not_found(&self) -> bool {
        match self.root() {
            CopyError::NotFound { .. } => true,
            CopyError::Registry(e) => e.is_not_found(),
            _ => false,
        }
    }

    /// Whether trying again could succeed (connection errors, 5xx, 429).
    pub fn is_retryable(&self) -> bool {
        match self.root() {
            CopyError::Registry(e) => e.is_retryable(),
            _ => false,
        }
    }

    /// Whether credentials were missing or refused.
    pub fn is_auth(&self) -> bool {
        match self.root() {
            CopyError::Registry(e) => e.is_auth(),
            _ => false,
        }
    }

    pub(crate) fn io(path: impl Into<String>, source: std::io::Error) -> CopyError {
        CopyError::Io {
            path: path.into(),
            source,
        }
    }

    /// The copy error an I/O error carries (a verifying stream reports a digest mismatch
    /// as an `io::Error` wrapping the `CopyError`), else an I/O error about `what`.
    pub(crate) fn from_io(e: std::io::Error, what: &str) -> CopyError {
        if !e.get_ref().is_some_and(|inner| inner.is::<CopyError>()) {
            return CopyError::io(what, e);
        }
        let kind = e.kind();
        match e.into_inner().map(|inner| inner.downcast::<CopyError>()) {
            Some(Ok(c)) => *c,
            Some(Err(other)) => CopyError::io(what, std::io::Error::new(kind, other)),
            None => CopyError::io(what, std::io::Error::from(kind)),
        }
    }

    /// The digest mismatch carried somewhere in `e`'s chain of causes (an upload reports
    /// its source stream's failure as an I/O error inside its own error).
    pub(crate) fn carried_mismatch(e: &(dyn std::error::Error + 'static)) -> Option<CopyError> {
        let mut cur = Some(e);
        while let Some(err) = cur {
            if let Some(CopyError::BlobDigestMismatch { expected, actual }) = err
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<CopyError>())
            {
                return Some(CopyError::BlobDigestMismatch {
                    expected: expected.clone(),
                    actual: actual.clone(),
                });
            }
            cur = err.source();
        }
        None
    }
}

/// Result type of this crate.
pub type Result<T, E = CopyError> = std::result::Result<T, E>;

/// Adds context to results.
pub(crate) trait ResultExt<T> {
    fn ctx(self, f: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<CopyError>> ResultExt<T> for std::result::Result<T, E> {
    fn ctx(self, f: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| e.into().context(f()))
    }
}
