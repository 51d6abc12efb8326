//! Image sources and destinations (a registry repository, an OCI layout, an oci-archive or
//! docker-archive) and the copy engine that moves images between them: concurrent, streaming,
//! verified, and never leaving a tag on an incomplete image.

mod archive;
mod attachments;
mod cached;
mod check;
mod docker_archive;
mod engine;
mod error;
mod inspect;
mod layout;
mod location;
mod registry;
mod stats;
mod sync;
mod traits;
mod transfer;
mod verify;

pub use archive::{Archive, ArchiveKind};
pub use attachments::{
    ATTACHMENT_SUFFIXES, AttachmentCopy, Attachments, attachment_subject, attachment_tags,
};
pub use cached::CachedSource;
pub use check::{CheckReport, Problem, check};
pub use engine::{CopyEngine, CopyOptions, CopyOutcome};
pub use error::{CopyError, Result};
pub use inspect::{PlatformManifest, config_bytes, image_config, platform_manifest};
pub use layout::{OciLayout, REF_NAME};
pub use location::{AnyImage, Location, host_platform};
pub use registry::RegistryRepo;
pub use stats::{BlobAction, NoProgress, Progress, Stats, StatsSnapshot};
pub use sync::{SyncItem, sync};
pub use traits::{ImageDestination, ImageSource, RepoId};
pub use transfer::{CopyReport, copy_image, copy_image_carrying};
pub use verify::verifying;
