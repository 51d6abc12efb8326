//! Where an image lives, as written on the command line: `[docker://]HOST/REPO[:TAG|@DIGEST]`,
//! `oci:PATH[:TAG]`, `oci-archive:PATH[:TAG]` or `docker-archive:PATH[:REF]`, and one type
//! that reads and writes any of them.

use std::path::PathBuf;

use ferry_image::{Descriptor, Digest, Platform, RawManifest, Reference, Target};
use ferry_registry::{BlobOpener, ByteStream, Client};

use crate::traits::{ImageDestination, ImageSource, RepoId};
use crate::{Archive, ArchiveKind, CopyError, OciLayout, RegistryRepo, Result};

/// The transports ferry reads and writes, for messages.
pub const SUPPORTED_TRANSPORTS: &str = "docker://HOST/REPO[:TAG|@DIGEST] (or HOST/REPO without docker://), oci:PATH[:TAG], oci-archive:PATH[:TAG], docker-archive:PATH[:REF]";

/// Transports of skopeo and containers/image that ferry does not implement.
const OTHER_TRANSPORTS: &[&str] = &[
    "dir",
    "containers-storage",
    "docker-daemon",
    "ostree",
    "sif",
    "tarball",
];

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
    /// An archive file: a tar of an OCI layout or a `docker save` tar.
    Archive {
        /// The format.
        kind: ArchiveKind,
        /// The archive file.
        path: PathBuf,
        /// oci-archive: the tag; docker-archive: `REPO:TAG` (normalized) or `@N`.
        reference: Option<String>,
    },
}

impl Location {
    /// Parses `docker://REF`, `REF`, `oci:PATH[:TAG]`, `oci-archive:PATH[:TAG]` or
    /// `docker-archive:PATH[:REF]`; refuses other transports, naming the supported ones.
    pub fn parse(input: &str) -> Result<Location> {
        let invalid =
            |why: String| CopyError::Unsupported(format!("invalid location {input:?}: {why}"));
        if let Some(rest) = input.strip_prefix("oci:") {
            let (path, tag) = match rest.rfind(':') {
                Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
                _ => (rest, None),
            };
            if path.is_empty() {
                return Err(invalid(
                    "oci: needs a directory, as in oci:PATH[:TAG]".into(),
                ));
            }
            if let Some(tag) = tag {
                check_tag(tag).map_err(invalid)?;
            }
            return Ok(Location::Layout {
                path: PathBuf::from(path),
                tag: tag.map(str::to_string),
            });
        }
        for kind in [ArchiveKind::Oci, ArchiveKind::Docker] {
            if let Some(rest) = input
                .strip_prefix(kind.transport())
                .and_then(|r| r.strip_prefix(':'))
            {
                return parse_archive(kind, rest).map_err(invalid);
            }
        }
        let reference = input.strip_prefix("docker://").unwrap_or(input);
        if ferry_image::redact_userinfo(reference) != reference {
            // `https://user:password@host/...`: the reference parser refuses it without
            // showing the password; the transport message would show the input whole.
            return Ok(Location::Registry(Reference::parse(reference)?));
        }
        if let Some(transport) = unknown_transport(reference) {
            let why = if OTHER_TRANSPORTS.contains(&transport) {
                format!("the {transport}: transport is not supported")
            } else {
                format!("unknown transport {transport:?}")
            };
            return Err(invalid(format!("{why}; supported: {SUPPORTED_TRANSPORTS}")));
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
            Location::Archive {
                kind,
                path,
                reference,
            } => {
                let selector = match kind {
                    ArchiveKind::Oci => None,
                    ArchiveKind::Docker => reference.as_deref(),
                };
                AnyImage::Archive(Archive::open(*kind, path, selector)?)
            }
        })
    }

    /// Whether this is an archive (written only through
    /// [`open_copy_destination`](Self::open_copy_destination) and [`AnyImage::commit`]).
    pub fn is_archive(&self) -> bool {
        matches!(self, Location::Archive { .. })
    }

    /// Opens the location for writing like [`open_destination`](Self::open_destination),
    /// archives included: an archive is written by [`AnyImage::commit`] once the copy
    /// succeeded, and replaces any file at its path.
    pub fn open_copy_destination(&self, client: &Client) -> Result<AnyImage> {
        match self {
            Location::Archive {
                kind,
                path,
                reference,
            } => {
                let repo_tag = match (kind, reference) {
                    (ArchiveKind::Docker, Some(r)) => Some(r.as_str()),
                    _ => None,
                };
                Ok(AnyImage::Archive(Archive::create(*kind, path, repo_tag)?))
            }
            _ => self.open_destination(client),
        }
    }

    /// Opens the location for writing (a layout is created when missing). Archives are
    /// refused: they need [`open_copy_destination`](Self::open_copy_destination).
    pub fn open_destination(&self, client: &Client) -> Result<AnyImage> {
        Ok(match self {
            Location::Archive { .. } => {
                return Err(CopyError::Unsupported(format!(
                    "{self}: an archive can only be written by a copy of one image"
                )));
            }
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
            (
                Location::Archive {
                    kind: ArchiveKind::Oci,
                    reference: Some(t),
                    ..
                },
                _,
            ) => Ok(Target::Tag(t.clone())),
            (Location::Archive { .. }, AnyImage::Archive(a)) => Ok(Target::Digest(
                a.layout()
                    .sole_entry()
                    .map_err(|e| e.context(format!("{self}: name an image with {self}:TAG")))?
                    .digest,
            )),
            _ => Err(CopyError::Unsupported(format!(
                "{self} was opened as another kind of location"
            ))),
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
            Location::Archive {
                kind: ArchiveKind::Oci,
                reference,
                ..
            } => reference.clone(),
            // A docker-archive records its REF in manifest.json when committed.
            Location::Archive { .. } => None,
        }
    }

    /// The platforms to copy to this destination when `asked` were asked for: `asked`,
    /// or for a docker-archive (which holds one image) with none asked, the platform ferry
    /// runs on, as skopeo does (a single image is copied whatever its platform).
    pub fn copy_platforms(&self, asked: Vec<Platform>) -> Vec<Platform> {
        match self {
            Location::Archive {
                kind: ArchiveKind::Docker,
                ..
            } if asked.is_empty() => vec![host_platform()],
            _ => asked,
        }
    }

    /// The registry reference, when this is one.
    pub fn reference(&self) -> Option<&Reference> {
        match self {
            Location::Registry(r) => Some(r),
            Location::Layout { .. } | Location::Archive { .. } => None,
        }
    }
}

/// The platform ferry runs on, in image terms (`linux/amd64`, `linux/arm64`...).
pub fn host_platform() -> Platform {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    Platform::new(std::env::consts::OS, arch, None)
}

/// Checks a layout or oci-archive tag.
fn check_tag(tag: &str) -> std::result::Result<(), String> {
    ferry_image::validate_tag(tag).map_err(|e| e.to_string())
}

/// `oci-archive:PATH[:TAG]` / `docker-archive:PATH[:REF]`, split at the first colon as
/// skopeo does (a path cannot hold one).
fn parse_archive(kind: ArchiveKind, rest: &str) -> std::result::Result<Location, String> {
    let t = kind.transport();
    let (path, reference) = match rest.split_once(':') {
        Some((p, r)) => (p, Some(r)),
        None => (rest, None),
    };
    if path.is_empty() {
        let what = match kind {
            ArchiveKind::Oci => "TAG",
            ArchiveKind::Docker => "REF",
        };
        return Err(format!("{t}: needs a file, as in {t}:PATH[:{what}]"));
    }
    let reference = match (kind, reference) {
        (_, None) => None,
        (_, Some("")) => return Err(format!("{t}: empty reference after the path")),
        (ArchiveKind::Oci, Some(tag)) => {
            check_tag(tag)?;
            Some(tag.to_string())
        }
        (ArchiveKind::Docker, Some(n)) if n.starts_with('@') => {
            if n[1..].parse::<usize>().is_err() {
                return Err(format!("{t}: {n}: @N needs an image number"));
            }
            Some(n.to_string())
        }
        (ArchiveKind::Docker, Some(r)) => {
            let parsed = Reference::parse(r).map_err(|e| e.to_string())?;
            if parsed.digest().is_some() {
                return Err(format!(
                    "{t}: {r}: a docker-archive reference is REPO[:TAG], not a digest"
                ));
            }
            let tagged = parsed
                .with_tag(parsed.tag().unwrap_or("latest"))
                .map_err(|e| e.to_string())?;
            Some(crate::docker_archive::repo_tag(&tagged))
        }
    };
    Ok(Location::Archive {
        kind,
        path: PathBuf::from(path),
        reference,
    })
}

/// The transport name when `reference` starts with `NAME:` that is not a registry host
/// (`host:PORT/...`) nor a name with a tag (`ubuntu:22.04`).
fn unknown_transport(reference: &str) -> Option<&str> {
    let (name, rest) = reference.split_once(':')?;
    if name.contains('/') {
        return None;
    }
    if OTHER_TRANSPORTS.contains(&name) {
        return Some(name);
    }
    // `host:5000/repo` has a port before the first slash; `app:1.0` has no slash.
    let port = rest.split('/').next().unwrap_or("");
    let is_port = !port.is_empty() && port.chars().all(|c| c.is_ascii_digit());
    if rest.contains('/') && !is_port {
        return Some(name);
    }
    None
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Registry(r) => write!(f, "{r}"),
            Location::Layout { path, tag: None } => write!(f, "oci:{}", path.display()),
            Location::Layout { path, tag: Some(t) } => write!(f, "oci:{}:{t}", path.display()),
            Location::Archive {
                kind,
                path,
                reference,
            } => {
                write!(f, "{}:{}", kind.transport(), path.display())?;
                match reference {
                    Some(r) => write!(f, ":{r}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// A registry repository, an OCI layout or an archive, as source or destination.
pub enum AnyImage {
    /// A registry repository.
    Registry(RegistryRepo),
    /// An OCI layout.
    Layout(OciLayout),
    /// An archive (unpacked for reading, staged for writing).
    Archive(Archive),
}

impl AnyImage {
    /// Finishes a destination once the copy succeeded: writes an archive (atomically);
    /// nothing to do for a registry or a layout, written as the copy goes.
    pub async fn commit(&self) -> Result<()> {
        match self {
            AnyImage::Archive(a) => a.commit().await,
            _ => Ok(()),
        }
    }
}

macro_rules! both {
    ($self:ident, $x:ident => $e:expr) => {
        match $self {
            AnyImage::Registry($x) => $e,
            AnyImage::Layout($x) => $e,
            AnyImage::Archive($x) => $e,
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
    async fn keep_untagged(&self, manifest: &RawManifest) -> Result<()> {
        both!(self, x => x.keep_untagged(manifest).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_docker_archive_gets_the_host_platform_when_none_is_asked() {
        let arm: Platform = "linux/arm64".parse().unwrap();
        let archive = Location::parse("docker-archive:/tmp/a.tar").unwrap();
        assert_eq!(archive.copy_platforms(vec![]), vec![host_platform()]);
        assert_eq!(archive.copy_platforms(vec![arm.clone()]), vec![arm.clone()]);
        let oci = Location::parse("oci-archive:/tmp/a.tar").unwrap();
        assert!(oci.copy_platforms(vec![]).is_empty());
        let reg = Location::parse("127.0.0.1:5000/a/b:t").unwrap();
        assert!(reg.copy_platforms(vec![]).is_empty());
        assert_eq!(host_platform().os, std::env::consts::OS);
    }

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
            "oci-archive:",
            "oci-archive:/x.tar:bad tag",
            "docker-archive:",
            "docker-archive:/x.tar:",
            "docker-archive:/x.tar:@one",
            "docker-archive:/x.tar:q.io/a@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert!(Location::parse(bad).is_err(), "{bad}");
        }
        // Registries with ports and Docker Hub names with tags are not transports.
        for good in [
            "localhost:5000/a",
            "127.0.0.1:5000/a/b:t",
            "ubuntu:22.04",
            "q.io/a:1",
        ] {
            assert!(
                matches!(Location::parse(good), Ok(Location::Registry(_))),
                "{good}"
            );
        }
    }

    #[test]
    fn parses_archives() {
        assert_eq!(
            Location::parse("oci-archive:/tmp/a.tar:v1").unwrap(),
            Location::Archive {
                kind: ArchiveKind::Oci,
                path: "/tmp/a.tar".into(),
                reference: Some("v1".into())
            }
        );
        // Split at the first colon, as skopeo does: the rest is the reference.
        let loc = Location::parse("docker-archive:d.tar:127.0.0.1:5000/ns/app:1").unwrap();
        assert_eq!(
            loc,
            Location::Archive {
                kind: ArchiveKind::Docker,
                path: "d.tar".into(),
                reference: Some("127.0.0.1:5000/ns/app:1".into())
            }
        );
        assert_eq!(
            loc.to_string(),
            "docker-archive:d.tar:127.0.0.1:5000/ns/app:1"
        );
        assert!(loc.destination_tag().is_none());
        // Docker Hub names as docker save records them; a bare name is :latest.
        let Location::Archive { reference, .. } =
            Location::parse("docker-archive:d.tar:docker.io/library/busybox").unwrap()
        else {
            panic!()
        };
        assert_eq!(reference.as_deref(), Some("busybox:latest"));
        let Location::Archive { reference, .. } =
            Location::parse("docker-archive:d.tar:@2").unwrap()
        else {
            panic!()
        };
        assert_eq!(reference.as_deref(), Some("@2"));
    }

    #[test]
    fn unknown_transports_are_named() {
        for (input, transport) in [
            ("foo:bar/x", "\"foo\""),
            ("dir:/tmp/x", "dir:"),
            ("docker://dir:/tmp/x", "dir:"),
            ("containers-storage:app", "containers-storage:"),
            ("https://q.io/a", "\"https\""),
        ] {
            let e = Location::parse(input).unwrap_err().to_string();
            assert!(e.contains(transport), "{input}: {e}");
            assert!(
                e.contains("oci-archive:PATH[:TAG]") && e.contains("docker-archive:PATH[:REF]"),
                "{input}: {e}"
            );
            assert!(!e.contains("registry port"), "{input}: {e}");
        }
    }
}
