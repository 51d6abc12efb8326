//! The serialized fields of the item classes ferry pushes, and their conversion to and from
//! the validated items.
//!
//! Fields are declared in alphabetical order: pushsource writes its items with PyYAML's
//! `yaml.dump`, which sorts keys, so ferry's output lists the same keys in the same order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::common::Common;
use super::image::ImageFields;
use super::pullspec::RawPullInfo;
use super::{
    BuildInfo, ContainerImagePushItem, ItemsError, OperatorManifestPushItem, PushItemState,
};

/// Fields of a (source) container image item, in the order they are written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawImage {
    #[serde(default)]
    arch: Option<String>,
    #[serde(default)]
    build: Option<String>,
    #[serde(default)]
    build_info: Option<BuildInfo>,
    #[serde(default)]
    dest: Vec<String>,
    #[serde(default)]
    dest_signing_key: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    md5sum: Option<String>,
    #[serde(default)]
    name: String,
    /// pushsource's content opener, a Python callable: only `null` can be read (nulls are
    /// dropped before deserializing, so any value here is refused); never written, as
    /// `pushsource-ls` leaves it out.
    #[serde(default, skip_serializing)]
    opener: Option<serde_json::Value>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    product_name: Option<String>,
    #[serde(default)]
    pull_info: Option<RawPullInfo>,
    #[serde(default)]
    sha256sum: Option<String>,
    #[serde(default)]
    signing_key: Option<String>,
    #[serde(default)]
    source_tags: Vec<String>,
    #[serde(default)]
    src: Option<String>,
    #[serde(default)]
    state: PushItemState,
}

/// Fields of an operator manifest item, in the order they are written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOperator {
    #[serde(default)]
    build: Option<String>,
    #[serde(default)]
    build_info: Option<BuildInfo>,
    #[serde(default)]
    container_image_items: Vec<RawImage>,
    #[serde(default)]
    dest: Vec<String>,
    #[serde(default)]
    md5sum: Option<String>,
    #[serde(default)]
    name: String,
    /// See [`RawImage::opener`].
    #[serde(default, skip_serializing)]
    opener: Option<serde_json::Value>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    related_images: Vec<String>,
    #[serde(default)]
    sha256sum: Option<String>,
    #[serde(default)]
    signing_key: Option<String>,
    #[serde(default)]
    src: Option<String>,
    #[serde(default)]
    state: PushItemState,
}

/// Refuses a non-null `opener`: a Python callable has no meaning outside pushsource.
fn check_opener(name: &str, opener: Option<&serde_json::Value>) -> Result<(), ItemsError> {
    match opener {
        None => Ok(()),
        Some(value) => Err(ItemsError::field(
            name,
            "opener",
            format!(
                "expected null (pushsource's content opener is not serializable), found {value}"
            ),
        )),
    }
}

impl RawImage {
    pub(crate) fn from_item(common: &Common, image: &ImageFields) -> RawImage {
        let c = common.clone();
        let i = image.clone();
        RawImage {
            arch: i.arch,
            build: c.build,
            build_info: c.build_info,
            dest: c.dest,
            dest_signing_key: i.dest_signing_key,
            labels: i.labels,
            md5sum: c.md5sum,
            name: c.name,
            opener: None,
            origin: c.origin,
            product_name: i.product_name,
            pull_info: Some(RawPullInfo::from(i.pull_info)),
            sha256sum: c.sha256sum,
            signing_key: c.signing_key,
            source_tags: i.source_tags,
            src: c.src,
            state: c.state,
        }
    }

    pub(crate) fn into_parts(self) -> Result<(Common, ImageFields), ItemsError> {
        let common = Common {
            name: self.name,
            state: self.state,
            src: self.src,
            dest: self.dest,
            md5sum: self.md5sum,
            sha256sum: self.sha256sum,
            origin: self.origin,
            build: self.build,
            build_info: self.build_info,
            signing_key: self.signing_key,
        }
        .validated()?;
        check_opener(&common.name, self.opener.as_ref())?;
        let pull_info = self
            .pull_info
            .ok_or_else(|| ItemsError::field(&common.name, "pull_info", "required"))?
            .validate(&common.name, "pull_info")?;
        let image = ImageFields {
            dest_signing_key: self.dest_signing_key,
            source_tags: self.source_tags,
            labels: self.labels,
            arch: self.arch,
            pull_info,
            product_name: self.product_name,
        };
        Ok((common, image))
    }
}

impl RawOperator {
    pub(crate) fn from_item(item: &OperatorManifestPushItem) -> RawOperator {
        let c = item.common.clone();
        RawOperator {
            build: c.build,
            build_info: c.build_info,
            container_image_items: item
                .container_image_items
                .iter()
                .map(|i| RawImage::from_item(&i.common, &i.image))
                .collect(),
            dest: c.dest,
            md5sum: c.md5sum,
            name: c.name,
            opener: None,
            origin: c.origin,
            related_images: item.related_images.clone(),
            sha256sum: c.sha256sum,
            signing_key: c.signing_key,
            src: c.src,
            state: c.state,
        }
    }

    pub(crate) fn into_item(self) -> Result<OperatorManifestPushItem, ItemsError> {
        let common = Common {
            name: self.name,
            state: self.state,
            src: self.src,
            dest: self.dest,
            md5sum: self.md5sum,
            sha256sum: self.sha256sum,
            origin: self.origin,
            build: self.build,
            build_info: self.build_info,
            signing_key: self.signing_key,
        }
        .validated()?;
        check_opener(&common.name, self.opener.as_ref())?;
        let mut inner = Vec::with_capacity(self.container_image_items.len());
        for raw in self.container_image_items {
            let (common, image) = raw.into_parts()?;
            inner.push(ContainerImagePushItem { common, image });
        }
        let item = OperatorManifestPushItem {
            common,
            related_images: self.related_images,
            container_image_items: inner,
        };
        item.check_related_images()?;
        Ok(item)
    }
}
