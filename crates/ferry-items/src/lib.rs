//! Push items: the pushsource model, its serialized form and its sources.
//!
//! Items are immutable values, validated when built: private fields, accessors, and `with_*`
//! methods that return a new value (those touching a validated field return a `Result`).
//! Errors name the item and the field:
//! `item "reg/ns/app:1.0": field sha256sum: expected 64 lowercase hex digits, found 12`.

mod common;
mod document;
mod error;
mod image;
mod item;
mod node;
mod pullspec;
mod raw;
mod serial;
mod source;
mod state;

pub use document::{ItemsDocument, LenientEntry, SKIPPED_CLASSES, SkippedItem};
pub use error::ItemsError;
pub use image::{ContainerImagePushItem, OperatorManifestPushItem, SourceContainerImagePushItem};
pub use item::{ITEM_CLASSES, PushItem};
pub use pullspec::{
    ContainerImageDigestPullSpec, ContainerImagePullInfo, ContainerImageTagPullSpec,
};
pub use serial::{
    read_document_json, read_document_yaml, read_items_json, read_items_json_lenient,
    read_items_yaml, read_items_yaml_lenient, write_items_json, write_items_yaml,
};
pub use source::{
    RegistrySourceParams, SourceUrl, load_file_document, load_file_source, load_file_source_lenient,
};
pub use state::{BuildInfo, PushItemState};

#[cfg(test)]
mod input_tests;
#[cfg(test)]
mod source_tests;
#[cfg(test)]
mod tests;
