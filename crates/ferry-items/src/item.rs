//! [`PushItem`]: any item class, with the accessors they share.

use super::common::Common;
use super::{
    ContainerImagePushItem, ItemsError, OperatorManifestPushItem, PushItemState,
    SourceContainerImagePushItem,
};

/// A push item of any class ferry handles.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PushItem {
    /// A container image (one architecture).
    ContainerImage(ContainerImagePushItem),
    /// A source container image.
    SourceContainerImage(SourceContainerImagePushItem),
    /// An operator manifests archive.
    OperatorManifest(OperatorManifestPushItem),
}

/// The class names, as written in the serialized form.
pub const ITEM_CLASSES: &[&str] = &[
    "ContainerImagePushItem",
    "SourceContainerImagePushItem",
    "OperatorManifestPushItem",
];

impl PushItem {
    fn common(&self) -> &Common {
        match self {
            PushItem::ContainerImage(i) => &i.common,
            PushItem::SourceContainerImage(i) => &i.common,
            PushItem::OperatorManifest(i) => &i.common,
        }
    }

    /// The class name, as pushsource spells it (`ContainerImagePushItem`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            PushItem::ContainerImage(_) => ITEM_CLASSES[0],
            PushItem::SourceContainerImage(_) => ITEM_CLASSES[1],
            PushItem::OperatorManifest(_) => ITEM_CLASSES[2],
        }
    }

    /// The item's name.
    pub fn name(&self) -> &str {
        &self.common().name
    }

    /// Where the item stands in a push.
    pub fn state(&self) -> PushItemState {
        self.common().state
    }

    /// The destinations the item is pushed to.
    pub fn dest(&self) -> &[String] {
        &self.common().dest
    }

    /// The NVR of the build the item came from.
    pub fn build(&self) -> Option<&str> {
        self.common().build.as_deref()
    }

    /// The same item in another state.
    pub fn with_state(self, state: PushItemState) -> Self {
        match self {
            PushItem::ContainerImage(i) => PushItem::ContainerImage(i.with_state(state)),
            PushItem::SourceContainerImage(i) => {
                PushItem::SourceContainerImage(i.with_state(state))
            }
            PushItem::OperatorManifest(i) => PushItem::OperatorManifest(i.with_state(state)),
        }
    }

    /// The container image, if this is one.
    pub fn as_container_image(&self) -> Option<&ContainerImagePushItem> {
        match self {
            PushItem::ContainerImage(i) => Some(i),
            _ => None,
        }
    }

    /// The source container image, if this is one.
    pub fn as_source_container_image(&self) -> Option<&SourceContainerImagePushItem> {
        match self {
            PushItem::SourceContainerImage(i) => Some(i),
            _ => None,
        }
    }

    /// The operator manifest, if this is one.
    pub fn as_operator_manifest(&self) -> Option<&OperatorManifestPushItem> {
        match self {
            PushItem::OperatorManifest(i) => Some(i),
            _ => None,
        }
    }

    /// Checks every field again (items are validated when built, so this fails only if a
    /// rule changed); the error names the item and the field.
    pub fn validate(&self) -> Result<(), ItemsError> {
        self.common().check()?;
        if let PushItem::OperatorManifest(op) = self {
            op.check_related_images()?;
            for inner in &op.container_image_items {
                inner.common.check()?;
            }
        }
        Ok(())
    }
}

impl From<ContainerImagePushItem> for PushItem {
    fn from(i: ContainerImagePushItem) -> Self {
        PushItem::ContainerImage(i)
    }
}

impl From<SourceContainerImagePushItem> for PushItem {
    fn from(i: SourceContainerImagePushItem) -> Self {
        PushItem::SourceContainerImage(i)
    }
}

impl From<OperatorManifestPushItem> for PushItem {
    fn from(i: OperatorManifestPushItem) -> Self {
        PushItem::OperatorManifest(i)
    }
}
