//! The `registry:` source: push items built by asking a registry about images.
//!
//! - A single-arch image gives one item; a manifest list or OCI index gives one item per
//!   platform entry (attestation entries, whose platform is `unknown`, are left out), each
//!   carrying the list's digest spec first, then its own.
//! - Items carry `source_tags = [TAG]`, the `dest` given, labels from the image config,
//!   `arch` from the platform, and a pull info with one tag spec and every digest spec the
//!   registry serves natively (the list's and the image's, with their media types).
//! - An image whose config has no labels (no `Labels` key, `"Labels": null` or
//!   `"Labels": {}`, alike as in the original's heuristic) is a source image and gives a
//!   `SourceContainerImagePushItem`.
//! - `image=HOST/REPO@DIGEST` works: the tag spec then comes from a tag of the repository
//!   pointing at that digest (`REPO:TAG@DIGEST` names it directly).
//! - Several signing keys multiply the items, one per key. The order is deterministic:
//!   images as given, then keys, then the list's entries in list order.

use std::collections::BTreeMap;

use ferry_image::{Digest, ImageConfig, Manifest, RawManifest, Target};
use ferry_registry::{Client, Repository};

use ferry_items::{
    ContainerImageDigestPullSpec, ContainerImagePullInfo, ContainerImagePushItem,
    ContainerImageTagPullSpec, ItemsError, PushItem, RegistrySourceParams,
};

/// Why the registry source failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrySourceError {
    /// The registry failed or refused.
    #[error("registry source, image {image}: {source}")]
    Registry {
        /// The image asked about.
        image: String,
        /// The cause.
        #[source]
        source: ferry_registry::RegistryError,
    },
    /// The image does not exist.
    #[error("registry source: image {image} not found")]
    NotFound {
        /// The image asked about.
        image: String,
    },
    /// An item could not be built from what the registry served.
    #[error("registry source, image {image}: {source}")]
    Item {
        /// The image asked about.
        image: String,
        /// The cause.
        #[source]
        source: ItemsError,
    },
    /// The registry served something ferry cannot use.
    #[error("registry source, image {image}: {reason}")]
    Invalid {
        /// The image asked about.
        image: String,
        /// Why.
        reason: String,
    },
}

struct Found {
    arch: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    digest_specs: Vec<ContainerImageDigestPullSpec>,
}

/// Builds the items of a `registry:` source.
pub async fn load_registry_source(
    client: &Client,
    params: &RegistrySourceParams,
) -> Result<Vec<PushItem>, RegistrySourceError> {
    let mut items = Vec::new();
    for image in &params.images {
        let shown = image.to_string();
        let reg_err = |source| RegistrySourceError::Registry {
            image: shown.clone(),
            source,
        };
        let item_err = |source| RegistrySourceError::Item {
            image: shown.clone(),
            source,
        };
        let repo = client.repository(image.registry(), image.repository());
        let top = match repo.get_manifest(&image.target()).await {
            Ok(m) => m,
            Err(e) if e.is_not_found() => {
                return Err(RegistrySourceError::NotFound { image: shown });
            }
            Err(e) => return Err(reg_err(e)),
        };
        let tag = match image.tag() {
            Some(t) => t.to_string(),
            None => find_tag(&repo, top.digest())
                .await
                .map_err(reg_err)?
                .ok_or_else(|| RegistrySourceError::Invalid {
                    image: shown.clone(),
                    reason: "no tag of the repository points at this digest; write REPO:TAG@DIGEST"
                        .into(),
                })?,
        };
        let tag_spec = ContainerImageTagPullSpec::new(
            image.registry(),
            image.repository(),
            &tag,
            vec![top.media_type().to_string()],
        )
        .map_err(item_err)?;
        let spec = |m: &RawManifest| {
            ContainerImageDigestPullSpec::new(
                image.registry(),
                image.repository(),
                m.digest().clone(),
                Some(m.media_type().to_string()),
            )
        };
        let mut found = Vec::new();
        match top.parse().map_err(|e| RegistrySourceError::Invalid {
            image: shown.clone(),
            reason: e.to_string(),
        })? {
            Manifest::Index(index) => {
                let list_spec = spec(&top).map_err(item_err)?;
                for entry in &index.manifests {
                    let Some(p) = &entry.platform else { continue };
                    if p.os == "unknown" || !entry.media_type.is_manifest() {
                        continue;
                    }
                    let child = repo
                        .get_manifest(&Target::Digest(entry.digest.clone()))
                        .await
                        .map_err(reg_err)?;
                    let labels = labels_of(&repo, &child).await.map_err(reg_err)?;
                    found.push(Found {
                        arch: Some(p.architecture.clone()),
                        labels,
                        digest_specs: vec![list_spec.clone(), spec(&child).map_err(item_err)?],
                    });
                }
            }
            Manifest::Image(image_manifest) => {
                let bytes = repo
                    .get_blob_bytes(&image_manifest.config.digest, ferry_image::MAX_CONFIG_SIZE)
                    .await
                    .map_err(reg_err)?;
                let config =
                    ImageConfig::parse(&bytes).map_err(|e| RegistrySourceError::Invalid {
                        image: shown.clone(),
                        reason: e.to_string(),
                    })?;
                found.push(Found {
                    arch: Some(config.architecture.clone()).filter(|a| !a.is_empty()),
                    labels: config.labels().cloned(),
                    digest_specs: vec![spec(&top).map_err(item_err)?],
                });
            }
            Manifest::Schema1(s1) => {
                let config = s1.config();
                found.push(Found {
                    arch: Some(s1.architecture.clone()).filter(|a| !a.is_empty()),
                    labels: config.as_ref().and_then(|c| c.labels().cloned()),
                    digest_specs: vec![spec(&top).map_err(item_err)?],
                });
            }
        }
        let keys: Vec<Option<String>> = if params.dest_signing_keys.is_empty() {
            vec![None]
        } else {
            params.dest_signing_keys.iter().cloned().map(Some).collect()
        };
        for key in &keys {
            for f in &found {
                let pull =
                    ContainerImagePullInfo::new(vec![tag_spec.clone()], f.digest_specs.clone())
                        .map_err(item_err)?;
                let item = ContainerImagePushItem::new(shown.clone(), pull)
                    .map_err(item_err)?
                    .with_dest(params.dest.clone())
                    .with_source_tags(vec![tag.clone()])
                    .with_arch(f.arch.clone())
                    .with_labels(f.labels.clone().unwrap_or_default())
                    .with_dest_signing_key(key.clone())
                    .with_product_name(params.product_name.clone());
                items.push(if is_source_image(f.labels.as_ref()) {
                    PushItem::SourceContainerImage(item.into_source_image())
                } else {
                    PushItem::ContainerImage(item)
                });
            }
        }
    }
    Ok(items)
}

/// pushsource's heuristic: an image whose config carries no label is a source image; an
/// absent `Labels` and an empty map are the same.
fn is_source_image(labels: Option<&BTreeMap<String, String>>) -> bool {
    labels.is_none_or(BTreeMap::is_empty)
}

async fn labels_of(
    repo: &Repository,
    m: &RawManifest,
) -> Result<Option<BTreeMap<String, String>>, ferry_registry::RegistryError> {
    match m.parse() {
        Ok(Manifest::Image(i)) => {
            let bytes = repo
                .get_blob_bytes(&i.config.digest, ferry_image::MAX_CONFIG_SIZE)
                .await?;
            Ok(ImageConfig::parse(&bytes)
                .ok()
                .and_then(|c| c.labels().cloned()))
        }
        Ok(Manifest::Schema1(s1)) => Ok(s1.config().and_then(|c| c.labels().cloned())),
        _ => Ok(None),
    }
}

/// The first tag (in sorted order) pointing at `digest`, looking at 200 tags at most.
async fn find_tag(
    repo: &Repository,
    digest: &Digest,
) -> Result<Option<String>, ferry_registry::RegistryError> {
    let mut tags = repo.tags().await?;
    tags.sort();
    for t in tags.into_iter().take(200) {
        if repo.resolve_digest(&Target::Tag(t.clone())).await?.as_ref() == Some(digest) {
            return Ok(Some(t));
        }
    }
    Ok(None)
}
