//! Push items (the pushsource model), their sources, target settings, and the push, merge,
//! tag and untag workflows.

pub mod items;

pub use items::{
    BuildInfo, ContainerImageDigestPullSpec, ContainerImagePullInfo, ContainerImagePushItem,
    ContainerImageTagPullSpec, ItemsError, OperatorManifestPushItem, PushItem, PushItemState,
    RegistrySourceParams, SourceContainerImagePushItem, SourceUrl,
};
