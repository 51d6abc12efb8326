//! The publishing workflows, each an executor over the copy engine: merge, tag, untag and
//! push. Planning is separate and pure (`crate::listmerge`, `crate::plan`); these functions
//! read the registries, decide with the planners, and write in the engine's order
//! (children, then parents, then the tag).

pub mod merge;
pub mod push;
pub mod retry;
pub mod tag;
pub mod untag;

use ferry_copy::CopyError;
use ferry_registry::RegistryError;

use crate::listmerge::MergeError;

/// Why a workflow failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// Copying failed.
    #[error(transparent)]
    Copy(#[from] CopyError),
    /// A registry request failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The merge could not be planned.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// Removing these tags would leave images without any tag.
    #[error("refusing to remove the last tag of an image (use --remove-last): {}", .0.join(", "))]
    LastTag(Vec<String>),
    /// A request the workflow cannot carry out (bad input: nothing was written).
    #[error("{0}")]
    Invalid(String),
    /// Part of the work is done (said in `done`), the rest failed.
    #[error("{done}: {source}")]
    Partial {
        /// What was done, and what failed.
        done: String,
        /// Why.
        #[source]
        source: Box<WorkflowError>,
    },
    /// Concurrent writers kept replacing the tag: this merge could not confirm that the
    /// tag holds its platforms.
    #[error("could not confirm {missing} in {tag} after {rounds} attempts: concurrent writers")]
    Contended {
        /// The destination tag.
        tag: String,
        /// Merge rounds tried.
        rounds: u32,
        /// The platforms not confirmed (comma-separated).
        missing: String,
    },
}

impl WorkflowError {
    /// Whether another attempt could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            WorkflowError::Copy(e) => e.is_retryable(),
            WorkflowError::Registry(e) => e.is_retryable(),
            WorkflowError::Contended { .. } => true,
            _ => false,
        }
    }

    /// Whether the source (or a tag) does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            WorkflowError::Copy(e) => e.is_not_found(),
            WorkflowError::Registry(e) => e.is_not_found(),
            _ => false,
        }
    }

    /// Whether credentials were missing or refused.
    pub fn is_auth(&self) -> bool {
        match self {
            WorkflowError::Copy(e) => e.is_auth(),
            WorkflowError::Registry(e) => e.is_auth(),
            _ => false,
        }
    }
}
