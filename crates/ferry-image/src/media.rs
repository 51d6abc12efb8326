//! Media types of manifests and blobs.

use std::fmt;

/// The media type strings ferry knows by name.
pub mod media_types {
    /// Docker schema 1 manifest, unsigned.
    pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
    /// Docker schema 1 manifest, signed (JWS).
    pub const DOCKER_SCHEMA1_SIGNED: &str =
        "application/vnd.docker.distribution.manifest.v1+prettyjws";
    /// Docker schema 2 image manifest.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker manifest list.
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// Docker image config.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// OCI image config.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// Docker gzip layer.
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// OCI gzip layer.
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

    /// Every manifest type ferry parses, most preferred first: the `Accept` list of every
    /// manifest request (a registry answers 404 for an index it is not asked to accept).
    pub const MANIFEST_TYPES: &[&str] = &[
        OCI_INDEX,
        DOCKER_LIST,
        OCI_MANIFEST,
        DOCKER_MANIFEST,
        DOCKER_SCHEMA1_SIGNED,
        DOCKER_SCHEMA1,
    ];
}

use media_types::*;

/// A media type, kept as the exact string, with helpers to classify it.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct MediaType(String);

impl MediaType {
    /// Wraps a media type string (parameters such as `; charset=utf-8` are dropped).
    pub fn new(s: &str) -> Self {
        MediaType(s.split(';').next().unwrap_or("").trim().to_string())
    }

    /// The exact string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A Docker manifest list or an OCI index.
    pub fn is_index(&self) -> bool {
        matches!(self.0.as_str(), DOCKER_LIST | OCI_INDEX)
    }

    /// A Docker schema 2 or OCI image manifest.
    pub fn is_image_manifest(&self) -> bool {
        matches!(self.0.as_str(), DOCKER_MANIFEST | OCI_MANIFEST)
    }

    /// A Docker schema 1 manifest, signed or not.
    pub fn is_schema1(&self) -> bool {
        matches!(self.0.as_str(), DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED)
    }

    /// Any manifest type ferry can parse.
    pub fn is_manifest(&self) -> bool {
        MANIFEST_TYPES.contains(&self.0.as_str())
    }

    /// Preference rank for digest specs: lists and indexes (0), then schema 2 and OCI
    /// manifests (1), then schema 1 (2); unknown types last (3). OCI types rank beside
    /// their Docker twins.
    pub fn preference(&self) -> u8 {
        if self.is_index() {
            0
        } else if self.is_image_manifest() {
            1
        } else if self.is_schema1() {
            2
        } else {
            3
        }
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for MediaType {
    fn from(s: &str) -> Self {
        MediaType::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert!(MediaType::new(OCI_INDEX).is_index());
        assert!(
            MediaType::new(
                "application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8"
            )
            .is_index()
        );
        assert!(MediaType::new(OCI_MANIFEST).is_image_manifest());
        assert!(MediaType::new(DOCKER_SCHEMA1_SIGNED).is_schema1());
        assert_eq!(
            MediaType::new(OCI_INDEX).preference(),
            MediaType::new(DOCKER_LIST).preference()
        );
        assert!(
            MediaType::new(DOCKER_MANIFEST).preference()
                < MediaType::new(DOCKER_SCHEMA1).preference()
        );
        assert!(!MediaType::new("text/plain").is_manifest());
    }
}
