//! Push items (the pushsource model), their sources, target settings, and the push, merge,
//! tag and untag workflows.

pub mod items;
pub mod merge;
pub mod plan;
pub mod registry_source;
pub mod settings;
pub mod workflows;

pub use items::{
    BuildInfo, ContainerImageDigestPullSpec, ContainerImagePullInfo, ContainerImagePushItem,
    ContainerImageTagPullSpec, ItemsError, OperatorManifestPushItem, PushItem, PushItemState,
    RegistrySourceParams, SourceContainerImagePushItem, SourceUrl,
};
