//! Where an image lives, as written on the command line: `[docker://]HOST/REPO[:TAG|@DIGEST]`
//! or `oci:PATH[:TAG]`, and one type that reads and writes either.

use std::path::PathBuf;

use ferry_image::{Descriptor, Digest, RawManifest, Reference, Target};
use ferry_registry::{BlobOpener, ByteStream, Client};

use crate::traits::{ImageDestination, ImageSource, RepoId};
use crate::{CopyError, OciLayout, RegistryRepo, Result};

/// A parsed location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A registry reference.
    Registry(Reference),
    /// An OCI layout directory and an optional tag.
    Layout {
        /// The directory.
        path: PathBuf,
        /// The tag (`org.opencontainers.image.ref.name`).
        tag: Option<String>,
    },
}

impl Location {
    /// Parses `docker://REF`, `REF` or `oci:PATH[:TAG]`.
    pub fn parse(input: &str) -> Result<Location> {
        if let Some(rest) = input.strip_prefix("oci:") {
            let (path, tag) = match rest.rfind(':') {
                Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
                _ => (rest, None),
            };
            if path.is_empty() {
                return Err(CopyError::Unsupported(format!(
                    "invalid location {input:?}: oci: needs a directory, as in oci:PATH[:TAG]"
                )));
            }
            if let Some(tag) = tag {
                ferry_image::validate_tag(tag).map_err(|e| {
                    CopyError::Unsupported(format!("invalid location {input:?}: {e}"))
                })?;
            }
            return Ok(Location::Layout {
                path: PathBuf::from(path),
                tag: tag.map(str::to_string),
            });
        }
        let reference = input.strip_prefix("docker://").unwrap_or(input);
        if let Some((transport, _)) = reference.split_once(':')
            && !reference.contains('/')
            && matches!(
                transport,
                "dir" | "docker-archive" | "oci-archive" | "containers-storage" | "docker-daemon"
            )
        {
            return Err(CopyError::Unsupported(format!(
                "invalid location {input:?}: the {transport}: transport is not supported; use docker://HOST/REPO[:TAG] or oci:PATH[:TAG]"
            )));
        }
        Ok(Location::Registry(Reference::parse(reference)?))
    }

    /// Opens the location for reading.
    pub fn open_source(&self, client: &Client) -> Result<AnyImage> {
        Ok(match self {
            Location::Registry(r) => AnyImage::Registry(RegistryRepo::new(
                client.repository(r.registry(), r.repository()),
            )),
            Location::Layout { path, .. } => AnyImage::Layout(OciLayout::open(path)?),
        })
    }

    /// Opens the location for writing (a layout is created when missing).
    pub fn open_destination(&self, client: &Client) -> Result<AnyImage> {
        Ok(match self {
            // Reads at a destination ask for push access too: one token, not two.
            Location::Registry(r) => AnyImage::Registry(RegistryRepo::new(
                client.repository(r.registry(), r.repository()).for_push(),
            )),
            Location::Layout { path, .. } => AnyImage::Layout(OciLayout::create(path)?),
        })
    }

    /// What to read from a source opened at this location.
    pub fn source_target(&self, image: &AnyImage) -> Result<Target> {
        match (self, image) {
            (Location::Registry(r), _) => Ok(r.target()),
            (Location::Layout { tag: Some(t), .. }, _) => Ok(Target::Tag(t.clone())),
            (Location::Layout { tag: None, .. }, AnyImage::Layout(l)) => {
                Ok(Target::Digest(l.sole_entry()?.digest))
            }
            (Location::Layout { .. }, AnyImage::Registry(_)) => Err(CopyError::Unsupported(
                "a layout location opened as a registry".into(),
            )),
        }
    }

    /// The tag to write at this destination: the reference's tag (`latest` for a bare
    /// name), the layout's tag, or none (a digest reference, an untagged layout entry).
    pub fn destination_tag(&self) -> Option<String> {
        match self {
            Location::Registry(r) => match r.target() {
                Target::Tag(t) if r.digest().is_none() => Some(t),
                _ => None,
            },
            Location::Layout { tag, .. } => tag.clone(),
        }
    }

    /// The registry reference, when this is one.
    pub fn reference(&self) -> Option<&Reference> {
        match self {
            Location::Registry(r) => Some(r),
            Location::Layout { .. } => None,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Registry(r) => write!(f, "{r}"),
            Location::Layout { path, tag: None } => write!(f, "oci:{}", path.display()),
            Location::Layout { path, tag: Some(t) } => write!(f, "oci:{}:{t}", path.display()),
        }
    }
}

/// A registry repository or an OCI layout, as source or destination.
pub enum AnyImage {
    /// A registry repository.
    Registry(RegistryRepo),
    /// An OCI layout.
    Layout(OciLayout),
}

macro_rules! both {
    ($self:ident, $x:ident => $e:expr) => {
        match $self {
            AnyImage::Registry($x) => $e,
            AnyImage::Layout($x) => $e,
        }
    };
}

impl ImageSource for AnyImage {
    fn describe(&self) -> String {
        both!(self, x => ImageSource::describe(x))
    }
    fn repo_id(&self) -> Option<RepoId> {
        both!(self, x => ImageSource::repo_id(x))
    }
    async fn resolve(&self, target: &Target) -> Result<Option<Descriptor>> {
        both!(self, x => x.resolve(target).await)
    }
    async fn manifest(&self, target: &Target) -> Result<RawManifest> {
        both!(self, x => x.manifest(target).await)
    }
    async fn blob(&self, digest: &Digest) -> Result<(Option<u64>, ByteStream)> {
        both!(self, x => x.blob(digest).await)
    }
    async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>> {
        both!(self, x => x.blob_size(digest).await)
    }
    async fn blob_bytes(&self, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        both!(self, x => x.blob_bytes(digest, max).await)
    }
    async fn tags(&self) -> Result<Vec<String>> {
        both!(self, x => x.tags().await)
    }
}

impl ImageDestination for AnyImage {
    fn describe(&self) -> String {
        both!(self, x => ImageDestination::describe(x))
    }
    fn repo_id(&self) -> Option<RepoId> {
        both!(self, x => ImageDestination::repo_id(x))
    }
    fn dedup_key(&self) -> String {
        both!(self, x => x.dedup_key())
    }
    async fn has_blob(&self, digest: &Digest) -> Result<bool> {
        both!(self, x => x.has_blob(digest).await)
    }
    async fn probe_blob(&self, digest: &Digest) -> Result<bool> {
        both!(self, x => x.probe_blob(digest).await)
    }
    async fn mount_blob(&self, digest: &Digest, from: &RepoId) -> Result<bool> {
        both!(self, x => x.mount_blob(digest, from).await)
    }
    async fn put_blob(&self, desc: &Descriptor, source: &dyn BlobOpener) -> Result<()> {
        both!(self, x => x.put_blob(desc, source).await)
    }
    async fn has_manifest(&self, digest: &Digest) -> Result<bool> {
        both!(self, x => x.has_manifest(digest).await)
    }
    async fn resolve_tag(&self, tag: &str) -> Result<Option<Digest>> {
        both!(self, x => x.resolve_tag(tag).await)
    }
    async fn put_manifest(&self, manifest: &RawManifest, target: &Target) -> Result<Digest> {
        both!(self, x => x.put_manifest(manifest, target).await)
    }
    async fn put_untagged(&self, manifest: &RawManifest) -> Result<Digest> {
        both!(self, x => x.put_untagged(manifest).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_locations() {
        assert_eq!(
            Location::parse("oci:/tmp/x:v1").unwrap(),
            Location::Layout {
                path: "/tmp/x".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            Location::parse("oci:rel/dir").unwrap(),
            Location::Layout {
                path: "rel/dir".into(),
                tag: None
            }
        );
        let Location::Registry(r) = Location::parse("docker://127.0.0.1:5000/a/b:t").unwrap()
        else {
            panic!()
        };
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(
            Location::parse("quay.io/a")
                .unwrap()
                .destination_tag()
                .as_deref(),
            Some("latest")
        );
        for bad in [
            "oci:",
            "oci:/x:bad tag",
            "dir:/tmp/x",
            "docker://Bad/Upper",
            "https://q.io/a",
        ] {
            assert!(Location::parse(bad).is_err(), "{bad}");
        }
    }
}
