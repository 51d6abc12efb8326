//! The item classes: container images, source container images, operator manifests.

use std::collections::BTreeMap;

use super::common::{Common, common_methods};
use super::pullspec::parse_spec;
use super::{ContainerImagePullInfo, ItemsError};

/// The fields container images and source container images add to the common ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ImageFields {
    pub(crate) dest_signing_key: Option<String>,
    pub(crate) source_tags: Vec<String>,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) arch: Option<String>,
    pub(crate) pull_info: ContainerImagePullInfo,
    pub(crate) product_name: Option<String>,
}

impl ImageFields {
    fn new(pull_info: ContainerImagePullInfo) -> Self {
        ImageFields {
            dest_signing_key: None,
            source_tags: Vec::new(),
            labels: BTreeMap::new(),
            arch: None,
            pull_info,
            product_name: None,
        }
    }
}

/// The accessors and `with_*` methods of [`ImageFields`], for a type with an
/// `image: ImageFields` field.
macro_rules! image_methods {
    () => {
        /// The key to sign the pushed manifests with; a non-empty value is a request to sign.
        pub fn dest_signing_key(&self) -> Option<&str> {
            self.image.dest_signing_key.as_deref()
        }

        /// The tags the image had where it was found.
        pub fn source_tags(&self) -> &[String] {
            &self.image.source_tags
        }

        /// Labels of the image, if known (not necessarily all of them).
        pub fn labels(&self) -> &BTreeMap<String, String> {
            &self.image.labels
        }

        /// The image's architecture, if known (`amd64`, `arm64`, `ppc64le`, `s390x`).
        pub fn arch(&self) -> Option<&str> {
            self.image.arch.as_deref()
        }

        /// How to pull the image.
        pub fn pull_info(&self) -> &ContainerImagePullInfo {
            &self.image.pull_info
        }

        /// The product the image belongs to, if known.
        pub fn product_name(&self) -> Option<&str> {
            self.image.product_name.as_deref()
        }

        /// The same item with another destination signing key.
        pub fn with_dest_signing_key(mut self, key: Option<String>) -> Self {
            self.image.dest_signing_key = key;
            self
        }

        /// The same item with other source tags.
        pub fn with_source_tags(mut self, tags: Vec<String>) -> Self {
            self.image.source_tags = tags;
            self
        }

        /// The same item with other labels.
        pub fn with_labels(mut self, labels: BTreeMap<String, String>) -> Self {
            self.image.labels = labels;
            self
        }

        /// The same item with another architecture.
        pub fn with_arch(mut self, arch: Option<String>) -> Self {
            self.image.arch = arch;
            self
        }

        /// The same item with other pull info.
        pub fn with_pull_info(mut self, pull_info: ContainerImagePullInfo) -> Self {
            self.image.pull_info = pull_info;
            self
        }

        /// The same item with another product name.
        pub fn with_product_name(mut self, name: Option<String>) -> Self {
            self.image.product_name = name;
            self
        }
    };
}

/// One architecture of a container image in a registry: pushsource's
/// `ContainerImagePushItem`. The items of one multi-arch image share the list's digest spec.
///
/// Immutable: built with [`new`](Self::new) and the `with_*` methods, each returning a new
/// value; those that touch a validated field return a `Result`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerImagePushItem {
    pub(crate) common: Common,
    pub(crate) image: ImageFields,
}

impl ContainerImagePushItem {
    /// An item in state PENDING with only a name and pull info; the name must not be empty.
    pub fn new(
        name: impl Into<String>,
        pull_info: ContainerImagePullInfo,
    ) -> Result<Self, ItemsError> {
        Ok(ContainerImagePushItem {
            common: Common::named(name.into()).validated()?,
            image: ImageFields::new(pull_info),
        })
    }

    /// The same image as a source container image (packaged sources, not runnable).
    pub fn into_source_image(self) -> SourceContainerImagePushItem {
        SourceContainerImagePushItem {
            common: self.common,
            image: self.image,
        }
    }

    common_methods!();
    image_methods!();
}

/// A source container image, the packaged source code of a binary image: pushsource's
/// `SourceContainerImagePushItem`. Same fields as [`ContainerImagePushItem`]; copied as is,
/// never merged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceContainerImagePushItem {
    pub(crate) common: Common,
    pub(crate) image: ImageFields,
}

impl SourceContainerImagePushItem {
    /// An item in state PENDING with only a name and pull info; the name must not be empty.
    pub fn new(
        name: impl Into<String>,
        pull_info: ContainerImagePullInfo,
    ) -> Result<Self, ItemsError> {
        Ok(SourceContainerImagePushItem {
            common: Common::named(name.into()).validated()?,
            image: ImageFields::new(pull_info),
        })
    }

    common_methods!();
    image_methods!();
}

/// An operator manifests archive (`operator_manifests.zip`): pushsource's
/// `OperatorManifestPushItem`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperatorManifestPushItem {
    pub(crate) common: Common,
    pub(crate) related_images: Vec<String>,
    pub(crate) container_image_items: Vec<ContainerImagePushItem>,
}

impl OperatorManifestPushItem {
    /// An item in state PENDING with only a name; the name must not be empty.
    pub fn new(name: impl Into<String>) -> Result<Self, ItemsError> {
        Ok(OperatorManifestPushItem {
            common: Common::named(name.into()).validated()?,
            related_images: Vec::new(),
            container_image_items: Vec::new(),
        })
    }

    /// Pull specs of the images the operator refers to.
    pub fn related_images(&self) -> &[String] {
        &self.related_images
    }

    /// The container images that belong with the operator.
    pub fn container_image_items(&self) -> &[ContainerImagePushItem] {
        &self.container_image_items
    }

    /// The same item with other related images, each a pull spec with a tag or a digest.
    pub fn with_related_images(mut self, images: Vec<String>) -> Result<Self, ItemsError> {
        self.related_images = images;
        self.check_related_images()?;
        Ok(self)
    }

    /// The same item with other container image items.
    pub fn with_container_image_items(mut self, items: Vec<ContainerImagePushItem>) -> Self {
        self.container_image_items = items;
        self
    }

    pub(crate) fn check_related_images(&self) -> Result<(), ItemsError> {
        for (i, spec) in self.related_images.iter().enumerate() {
            let reference = parse_spec(spec).map_err(|e| {
                ItemsError::field(
                    &self.common.name,
                    format!("related_images[{i}]"),
                    e.reason(),
                )
            })?;
            if reference.is_bare() {
                return Err(ItemsError::field(
                    &self.common.name,
                    format!("related_images[{i}]"),
                    format!("{spec:?}: a related image needs a tag or a digest"),
                ));
            }
        }
        Ok(())
    }

    common_methods!();
}
