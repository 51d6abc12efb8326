//! Publishing: target settings, the registry source of push items, the push planner and
//! executor, manifest-list merge, tag and untag. The push-item model is `ferry-items`.

pub mod merge;
pub mod plan;
pub mod registry_source;
pub mod settings;
pub mod shard;
pub mod workflows;

pub use ferry_items::{
    BuildInfo, ContainerImageDigestPullSpec, ContainerImagePullInfo, ContainerImagePushItem,
    ContainerImageTagPullSpec, ItemsError, OperatorManifestPushItem, PushItem, PushItemState,
    RegistrySourceParams, SourceContainerImagePushItem, SourceUrl,
};
