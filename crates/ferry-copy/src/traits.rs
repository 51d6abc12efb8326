//! Where images are read from and written to.
//!
//! The engine is generic over these two traits. The call order on a destination is fixed:
//! blobs, then child manifests (by digest), then the parent manifest, then the tag; a tag
//! never points at something incomplete.

use std::future::Future;

use ferry_image::{Descriptor, Digest, RawManifest, Target};
use ferry_registry::{BlobOpener, ByteStream};

use crate::Result;

/// A registry repository, for mounts between repositories of one registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoId {
    /// Registry host.
    pub registry: String,
    /// Repository path.
    pub repository: String,
}

/// Where images are read from: a registry repository or an OCI layout.
pub trait ImageSource: Send + Sync {
    /// A short human name for messages (`127.0.0.1:5000/ns/app`, `oci:/tmp/dir`).
    fn describe(&self) -> String;
    /// The registry repository, when the source is one (enables mounts).
    fn repo_id(&self) -> Option<RepoId>;
    /// The descriptor a target resolves to, without fetching the manifest; `None` when
    /// the target does not exist.
    fn resolve(&self, target: &Target) -> impl Future<Output = Result<Option<Descriptor>>> + Send;
    /// The manifest bytes; verified when fetched by digest.
    fn manifest(&self, target: &Target) -> impl Future<Output = Result<RawManifest>> + Send;
    /// A blob's content as a stream (not verified here), with its length when known.
    fn blob(
        &self,
        digest: &Digest,
    ) -> impl Future<Output = Result<(Option<u64>, ByteStream)>> + Send;
    /// A blob's size, `None` when absent.
    fn blob_size(&self, digest: &Digest) -> impl Future<Output = Result<Option<u64>>> + Send;
    /// A small blob (a config) whole, verified.
    fn blob_bytes(&self, digest: &Digest, max: u64)
    -> impl Future<Output = Result<Vec<u8>>> + Send;
    /// Every tag.
    fn tags(&self) -> impl Future<Output = Result<Vec<String>>> + Send;
}

/// Where images are written.
pub trait ImageDestination: Send + Sync {
    /// A short human name for messages.
    fn describe(&self) -> String;
    /// The registry repository, when the destination is one (enables mounts).
    fn repo_id(&self) -> Option<RepoId>;
    /// A key naming the destination store, for deduplicating blob copies in a run.
    fn dedup_key(&self) -> String;
    /// Whether the blob is present.
    fn has_blob(&self, digest: &Digest) -> impl Future<Output = Result<bool>> + Send;
    /// Asks for a blob where it is probably absent (a new image under a new tag): `true`
    /// when present. A registry answers with one request that also opens the upload
    /// session the blob will need (a mount from the repository itself: 201 when the blob is
    /// linked there, 202 with a session when not); elsewhere it is [`has_blob`](Self::has_blob).
    fn probe_blob(&self, digest: &Digest) -> impl Future<Output = Result<bool>> + Send {
        self.has_blob(digest)
    }
    /// Mounts a blob from another repository of the same registry; `false` when it could
    /// not (the caller then uploads).
    fn mount_blob(
        &self,
        digest: &Digest,
        from: &RepoId,
    ) -> impl Future<Output = Result<bool>> + Send;
    /// Writes a blob from a re-openable, verifying source.
    fn put_blob(
        &self,
        desc: &Descriptor,
        source: &dyn BlobOpener,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Whether a manifest with this digest is present.
    fn has_manifest(&self, digest: &Digest) -> impl Future<Output = Result<bool>> + Send;
    /// The digest a tag points at now, if any.
    fn resolve_tag(&self, tag: &str) -> impl Future<Output = Result<Option<Digest>>> + Send;
    /// Writes a manifest by digest or under a tag.
    fn put_manifest(
        &self,
        manifest: &RawManifest,
        target: &Target,
    ) -> impl Future<Output = Result<Digest>> + Send;
    /// Writes a top-level manifest that gets no tag (a layout records it in its index).
    fn put_untagged(&self, manifest: &RawManifest) -> impl Future<Output = Result<Digest>> + Send {
        async move {
            self.put_manifest(manifest, &Target::Digest(manifest.digest().clone()))
                .await
        }
    }
    /// Makes a top-level manifest that is already present the untagged image, as
    /// [`put_untagged`](Self::put_untagged) would (a layout points its untagged entry at
    /// it); nothing to do for a registry, where a manifest without a tag is just present.
    fn keep_untagged(&self, manifest: &RawManifest) -> impl Future<Output = Result<()>> + Send {
        let _ = manifest;
        async { Ok(()) }
    }
}
