//! Errors of the push-item model, its serialized form and its sources.

use std::path::PathBuf;

/// What went wrong while building, validating, reading or writing push items.
///
/// Messages name what was refused: the item (by its `name`) and the field for an invalid
/// item, the entry index for a malformed document, the path for a file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ItemsError {
    /// A pull spec that the reference grammar refuses.
    #[error("invalid pull spec {input:?}: {reason}")]
    InvalidPullSpec {
        /// The spec as written (or its parts joined).
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// Pull info that breaks a rule of its own (no tag spec).
    #[error("invalid pull info: {reason}")]
    InvalidPullInfo {
        /// Why it was refused.
        reason: String,
    },
    /// A field of an item that fails validation.
    #[error("item {item:?}: field {field}: {reason}")]
    InvalidField {
        /// The item's `name`.
        item: String,
        /// The field, with a path for nested ones (`pull_info.tag_specs[0]`).
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// An entry of a serialized document that is not a push item ferry knows: an unknown
    /// class, an unknown field, a value of the wrong type.
    #[error("item {index}{}: {reason}", name.as_ref().map(|n| format!(" ({n:?})")).unwrap_or_default())]
    InvalidEntry {
        /// Position of the entry in the document, from 0.
        index: usize,
        /// The entry's `name`, when it has one.
        name: Option<String>,
        /// Why it was refused.
        reason: String,
    },
    /// A document that is not a list of one-key maps.
    #[error("invalid push items document: {reason}")]
    InvalidDocument {
        /// Why it was refused.
        reason: String,
    },
    /// YAML that does not parse.
    #[error("invalid YAML: {0}")]
    Yaml(#[source] serde_norway::Error),
    /// JSON that does not parse.
    #[error("invalid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// A source URL that ferry cannot use.
    #[error("invalid source {url:?}: {reason}")]
    InvalidSource {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// A source backend that ferry does not implement.
    #[error(
        "unsupported source backend {backend:?} in {url:?}: {reason}; supported: file, registry"
    )]
    UnsupportedBackend {
        /// The URL as given.
        url: String,
        /// The backend, the text before the first `:`.
        backend: String,
        /// Why it is not supported.
        reason: String,
    },
    /// A push-items file that cannot be read.
    #[error("cannot read push items file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A push-items file whose content is refused.
    #[error("push items file {}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with its content.
        #[source]
        source: Box<ItemsError>,
    },
}

impl ItemsError {
    pub(crate) fn pull_spec(input: &str, reason: impl Into<String>) -> Self {
        ItemsError::InvalidPullSpec {
            input: input.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn field(item: &str, field: impl Into<String>, reason: impl Into<String>) -> Self {
        ItemsError::InvalidField {
            item: item.to_string(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Why a pull spec or pull info was refused, without the spec itself: used when the
    /// error is re-attributed to an item's field.
    pub(crate) fn reason(&self) -> String {
        match self {
            ItemsError::InvalidPullSpec { input, reason } => format!("{input:?}: {reason}"),
            ItemsError::InvalidPullInfo { reason } => reason.clone(),
            other => other.to_string(),
        }
    }
}
