//! The container image model of ferry: references, digests, media types, platforms,
//! descriptors and manifests. No async; the only I/O is the bounded read of local input
//! files ([`read_bounded`]).
//!
//! Raw manifest bytes are the truth: [`RawManifest`] keeps the bytes a registry served and
//! the digest computed over them; [`Manifest`] is a parsed view used to walk an image, never
//! re-serialized when an image is copied.

mod depth;
mod digest;
mod error;
mod input;
mod manifest;
mod media;
mod platform;
mod reference;
mod schema1;

pub use depth::{MAX_MANIFEST_DEPTH, check_depth};
pub use digest::{Algorithm, Digest, DigestVerifier};
pub use error::ImageError;
pub use input::{
    MAX_ITEMS_FILE_SIZE, MAX_SETTINGS_FILE_SIZE, MAX_TEXT_NESTING, check_nesting, read_bounded,
    read_bounded_text, sanitize_for_terminal, strip_bom,
};
pub use manifest::{
    Descriptor, ImageConfig, ImageManifest, IndexManifest, Manifest, ManifestKind, RawManifest,
    RunConfig, Schema1History, Schema1Layer, Schema1Manifest,
};
pub use media::{MediaType, media_types};
pub use platform::Platform;
pub use reference::{
    Reference, Target, redact_userinfo, validate_host, validate_repository, validate_tag,
};

/// The largest image configuration blob ferry reads into memory (16 MiB).
pub const MAX_CONFIG_SIZE: u64 = 16 * 1024 * 1024;

/// Result type of this crate.
pub type Result<T, E = ImageError> = std::result::Result<T, E>;
