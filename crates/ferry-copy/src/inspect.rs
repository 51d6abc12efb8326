//! Reading what `inspect` shows: the manifest of one platform of a list, and the config
//! of a single image.

use ferry_image::{ImageConfig, Manifest, Platform, RawManifest, Target};

use crate::Result;
use crate::traits::ImageSource;

/// The manifest [`platform_manifest`] found, or why there is none.
#[derive(Debug)]
pub enum PlatformManifest {
    /// The manifest: the one `target` names, or its `platform` child.
    Found(RawManifest),
    /// A platform was asked for but `target` names a single image, not a list.
    NotAList,
    /// The list has no image for the platform asked for.
    NoMatch,
}

/// The manifest `target` names or, with `platform`, the manifest of the first entry of
/// that list matching `platform` (fetched by digest).
pub async fn platform_manifest<S: ImageSource>(
    src: &S,
    target: &Target,
    platform: Option<&Platform>,
) -> Result<PlatformManifest> {
    let raw = src.manifest(target).await?;
    let Some(p) = platform else {
        return Ok(PlatformManifest::Found(raw));
    };
    let Manifest::Index(index) = raw.parse()? else {
        return Ok(PlatformManifest::NotAList);
    };
    let entry = index
        .manifests
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|q| p.matches(q)));
    match entry {
        Some(e) => Ok(PlatformManifest::Found(
            src.manifest(&Target::Digest(e.digest.clone())).await?,
        )),
        None => Ok(PlatformManifest::NoMatch),
    }
}

/// The raw config blob of a single image (bounded by [`ferry_image::MAX_CONFIG_SIZE`]);
/// `None` for a list or a schema 1 manifest, which have none.
pub async fn config_bytes<S: ImageSource>(src: &S, manifest: &Manifest) -> Result<Option<Vec<u8>>> {
    let Manifest::Image(image) = manifest else {
        return Ok(None);
    };
    let bytes = src
        .blob_bytes(&image.config.digest, ferry_image::MAX_CONFIG_SIZE)
        .await?;
    Ok(Some(bytes))
}

/// The parsed config of a single image; `None` for a list or a schema 1 manifest.
pub async fn image_config<S: ImageSource>(
    src: &S,
    manifest: &Manifest,
) -> Result<Option<ImageConfig>> {
    match config_bytes(src, manifest).await? {
        Some(b) => Ok(Some(ImageConfig::parse(&b)?)),
        None => Ok(None),
    }
}
