//! Manifests: the raw bytes with their digest, and a parsed view of every kind a registry
//! serves (Docker schema 1, schema 2, manifest list, OCI manifest, OCI index).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::media_types::*;
use crate::{Digest, ImageError, MediaType, Platform, schema1};

/// A content descriptor: what a manifest says about a blob or another manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the content.
    pub media_type: MediaType,
    /// Size in bytes. Zero for schema 1 layers, whose size the manifest does not give.
    pub size: u64,
    /// Digest of the content.
    pub digest: Digest,
    /// Platform of an index entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Foreign URLs of a non-distributable layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Artifact type (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor with no platform, URLs or annotations.
    pub fn new(media_type: impl Into<MediaType>, size: u64, digest: Digest) -> Self {
        Descriptor {
            media_type: media_type.into(),
            size,
            digest,
            platform: None,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            artifact_type: None,
        }
    }
}

impl From<String> for MediaType {
    fn from(s: String) -> Self {
        MediaType::new(&s)
    }
}

/// Whether a manifest follows Docker's or OCI's specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ManifestKind {
    /// Docker schema 2 manifest or manifest list.
    Docker,
    /// OCI image manifest or index.
    Oci,
}

/// Manifest bytes exactly as served, with their media type and digest.
///
/// This is the truth ferry copies: the bytes are never re-serialized, so the digest at the
/// destination is the digest at the source.
#[derive(Clone, PartialEq, Eq)]
pub struct RawManifest {
    bytes: Vec<u8>,
    media_type: MediaType,
    digest: Digest,
}

impl std::fmt::Debug for RawManifest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawManifest")
            .field("media_type", &self.media_type)
            .field("digest", &self.digest)
            .field("size", &self.bytes.len())
            .finish()
    }
}

/// What [`detect`] needs of a manifest: the presence of the big members is enough, so
/// they are skipped, not built (an 8 MiB index as a `serde_json::Value` takes ten times
/// its size in memory).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    schema_version: Option<i64>,
    media_type: Option<String>,
    manifests: Option<serde::de::IgnoredAny>,
    config: Option<serde::de::IgnoredAny>,
    signatures: Option<serde::de::IgnoredAny>,
}

impl RawManifest {
    /// Wraps manifest bytes, detecting the media type from the content (the `Content-Type`
    /// a registry sent, `declared`, settles what the content leaves open) and computing
    /// the digest as registries do (schema 1: over the payload without signatures).
    pub fn new(bytes: Vec<u8>, declared: Option<&str>) -> Result<RawManifest, ImageError> {
        let media_type = detect(&bytes, declared)?;
        let digest = if media_type.is_schema1() {
            Digest::sha256(&schema1::payload(&bytes)?)
        } else {
            Digest::sha256(&bytes)
        };
        Ok(RawManifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// Like [`RawManifest::new`], then checks the digest is `expected` (computed with
    /// `expected`'s algorithm).
    pub fn verified(
        bytes: Vec<u8>,
        declared: Option<&str>,
        expected: &Digest,
    ) -> Result<RawManifest, ImageError> {
        let mut m = RawManifest::new(bytes, declared)?;
        if expected.algorithm() != m.digest.algorithm() {
            let content = if m.media_type.is_schema1() {
                schema1::payload(&m.bytes)?
            } else {
                m.bytes.clone()
            };
            m.digest = Digest::compute(expected.algorithm(), &content);
        }
        if &m.digest != expected {
            return Err(ImageError::DigestMismatch {
                expected: expected.to_string(),
                actual: m.digest.to_string(),
            });
        }
        Ok(m)
    }

    /// The exact bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Consumes the manifest, returning its bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The media type.
    pub fn media_type(&self) -> &MediaType {
        &self.media_type
    }

    /// The digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Size of the bytes.
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// A descriptor of this manifest (no platform).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(self.media_type.clone(), self.size(), self.digest.clone())
    }

    /// Parses the bytes into a [`Manifest`].
    pub fn parse(&self) -> Result<Manifest, ImageError> {
        let mt = self.media_type.as_str();
        let bad = |e: serde_json::Error| ImageError::manifest(mt, e.to_string());
        Ok(match mt {
            DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED => {
                Manifest::Schema1(serde_json::from_slice(&self.bytes).map_err(bad)?)
            }
            DOCKER_MANIFEST | OCI_MANIFEST => {
                let mut m: ImageManifest = serde_json::from_slice(&self.bytes).map_err(bad)?;
                m.media_type = Some(self.media_type.clone());
                Manifest::Image(Box::new(m))
            }
            DOCKER_LIST | OCI_INDEX => {
                let mut m: IndexManifest = serde_json::from_slice(&self.bytes).map_err(bad)?;
                m.media_type = Some(self.media_type.clone());
                Manifest::Index(m)
            }
            other => {
                return Err(ImageError::manifest(
                    other,
                    "not a manifest type ferry knows",
                ));
            }
        })
    }
}

fn detect(bytes: &[u8], declared: Option<&str>) -> Result<MediaType, ImageError> {
    let declared = declared.map(MediaType::new);
    let shown = declared
        .as_ref()
        .map_or("unknown type", |m| m.as_str())
        .to_string();
    let probe: Probe = serde_json::from_slice(bytes)
        .map_err(|e| ImageError::manifest(&shown, format!("not a JSON object: {e}")))?;
    match probe.schema_version {
        Some(1) => {
            return Ok(MediaType::new(if probe.signatures.is_some() {
                DOCKER_SCHEMA1_SIGNED
            } else {
                DOCKER_SCHEMA1
            }));
        }
        Some(2) => {}
        Some(v) => {
            return Err(ImageError::manifest(
                &shown,
                format!("unsupported schemaVersion {v}"),
            ));
        }
        None => return Err(ImageError::manifest(&shown, "no schemaVersion")),
    }
    let mt = match probe.media_type {
        Some(m) => MediaType::new(&m),
        None => match &declared {
            Some(d) if d.is_index() || d.is_image_manifest() => d.clone(),
            _ if probe.manifests.is_some() => MediaType::new(OCI_INDEX),
            _ if probe.config.is_some() => MediaType::new(OCI_MANIFEST),
            _ => {
                return Err(ImageError::manifest(
                    &shown,
                    "neither mediaType, manifests nor config: not an image manifest or index",
                ));
            }
        },
    };
    if !(mt.is_index() || mt.is_image_manifest()) {
        return Err(ImageError::manifest(
            mt.as_str(),
            "not a manifest type ferry knows",
        ));
    }
    if mt.is_index() != probe.manifests.is_some()
        || mt.is_image_manifest() != probe.config.is_some()
    {
        return Err(ImageError::manifest(
            mt.as_str(),
            "the content does not match its mediaType (an index needs manifests, an image a config)",
        ));
    }
    Ok(mt)
}

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq)]
pub enum Manifest {
    /// Docker schema 1.
    Schema1(Schema1Manifest),
    /// Docker schema 2 or OCI image manifest.
    Image(Box<ImageManifest>),
    /// Docker manifest list or OCI index.
    Index(IndexManifest),
}

impl Manifest {
    /// The blobs an image manifest needs (config first, then layers); none for an index.
    /// Schema 1 layers are listed once each, in manifest order, with size 0.
    pub fn blobs(&self) -> Vec<Descriptor> {
        match self {
            Manifest::Image(m) => std::iter::once(m.config.clone())
                .chain(m.layers.iter().cloned())
                .collect(),
            Manifest::Schema1(m) => {
                let mut seen = std::collections::HashSet::new();
                m.fs_layers
                    .iter()
                    .filter(|l| seen.insert(l.blob_sum.clone()))
                    .map(|l| Descriptor::new(DOCKER_LAYER_GZIP, 0, l.blob_sum.clone()))
                    .collect()
            }
            Manifest::Index(_) => Vec::new(),
        }
    }

    /// The child manifests of an index; none for an image.
    pub fn children(&self) -> &[Descriptor] {
        match self {
            Manifest::Index(i) => &i.manifests,
            _ => &[],
        }
    }
}

/// A Docker schema 2 or OCI image manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: i64,
    /// The media type (absent in some OCI manifests; filled from the raw manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, base first.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// Subject (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Box<Descriptor>>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageManifest {
    /// Docker or OCI.
    pub fn kind(&self) -> ManifestKind {
        match self.media_type.as_ref().map(MediaType::as_str) {
            Some(DOCKER_MANIFEST) => ManifestKind::Docker,
            _ => ManifestKind::Oci,
        }
    }
}

/// A Docker manifest list or OCI image index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexManifest {
    /// Always 2.
    pub schema_version: i64,
    /// The media type (absent in some OCI indexes; filled from the raw manifest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<MediaType>,
    /// The entries.
    pub manifests: Vec<Descriptor>,
    /// Subject (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Box<Descriptor>>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl IndexManifest {
    /// An empty list of the given media type.
    pub fn new(media_type: MediaType) -> Self {
        IndexManifest {
            schema_version: 2,
            media_type: Some(media_type),
            manifests: Vec::new(),
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    /// Docker or OCI.
    pub fn kind(&self) -> ManifestKind {
        match self.media_type.as_ref().map(MediaType::as_str) {
            Some(DOCKER_LIST) => ManifestKind::Docker,
            _ => ManifestKind::Oci,
        }
    }

    /// Serializes deterministically (fixed field order, two-space indentation): the same
    /// list always gives the same bytes, hence the same digest.
    pub fn to_raw(&self) -> Result<RawManifest, ImageError> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| {
            ImageError::manifest(
                self.media_type
                    .as_ref()
                    .map_or(OCI_INDEX, MediaType::as_str),
                e.to_string(),
            )
        })?;
        bytes.push(b'\n');
        RawManifest::new(bytes, self.media_type.as_ref().map(MediaType::as_str))
    }
}

/// A Docker schema 1 manifest (the parts ferry reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema1Manifest {
    /// Repository name it was written for.
    #[serde(default)]
    pub name: String,
    /// Tag it was written for.
    #[serde(default)]
    pub tag: String,
    /// Architecture.
    #[serde(default)]
    pub architecture: String,
    /// Layers, newest first.
    #[serde(default)]
    pub fs_layers: Vec<Schema1Layer>,
    /// History; each entry's `v1Compatibility` is a JSON string with the layer's config.
    #[serde(default)]
    pub history: Vec<Schema1History>,
}

impl Schema1Manifest {
    /// The image config of the newest layer (labels, os, architecture), if present.
    pub fn config(&self) -> Option<ImageConfig> {
        let first = self.history.first()?;
        serde_json::from_str(&first.v1_compatibility).ok()
    }
}

/// A schema 1 layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema1Layer {
    /// Digest of the layer blob.
    pub blob_sum: Digest,
}

/// A schema 1 history entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema1History {
    /// Layer config as a JSON string.
    #[serde(default)]
    pub v1_compatibility: String,
}

/// The parts of an image config blob ferry reads (Docker and OCI share them).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImageConfig {
    /// Architecture.
    #[serde(default)]
    pub architecture: String,
    /// Operating system.
    #[serde(default)]
    pub os: String,
    /// CPU variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// OS version.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Creation time (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Run configuration; holds the labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<RunConfig>,
}

impl ImageConfig {
    /// Parses a config blob.
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig, ImageError> {
        serde_json::from_slice(bytes)
            .map_err(|e| ImageError::manifest(OCI_CONFIG, format!("image config: {e}")))
    }

    /// The labels; `None` when the config has no labels at all (not even an empty map).
    pub fn labels(&self) -> Option<&BTreeMap<String, String>> {
        self.config.as_ref().and_then(|c| c.labels.as_ref())
    }

    /// The platform the config describes.
    pub fn platform(&self) -> Platform {
        Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            variant: self.variant.clone(),
            os_version: self.os_version.clone(),
            ..Platform::default()
        }
    }
}

/// The run configuration inside an image config.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunConfig {
    /// Labels.
    #[serde(rename = "Labels", default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

#[cfg(test)]
#[path = "manifest_tests.rs"]
mod tests;
