//! A registry repository as an image source and destination.

use ferry_image::{Descriptor, Digest, RawManifest, Target};
use ferry_registry::{BlobOpener, ByteStream, Repository};

use crate::traits::{ImageDestination, ImageSource, RepoId};
use crate::{CopyError, Result};

/// A repository of a registry, read and written through the shared client.
#[derive(Clone)]
pub struct RegistryRepo {
    repo: Repository,
}

impl RegistryRepo {
    /// Wraps a repository handle.
    pub fn new(repo: Repository) -> Self {
        RegistryRepo { repo }
    }

    /// The underlying client handle.
    pub fn repository(&self) -> &Repository {
        &self.repo
    }
}

impl ImageSource for RegistryRepo {
    fn describe(&self) -> String {
        format!("{}/{}", self.repo.registry(), self.repo.name())
    }

    fn repo_id(&self) -> Option<RepoId> {
        Some(RepoId {
            registry: self.repo.registry().to_string(),
            repository: self.repo.name().to_string(),
        })
    }

    async fn resolve(&self, target: &Target) -> Result<Option<Descriptor>> {
        Ok(self.repo.resolve_descriptor(target).await?)
    }

    async fn manifest(&self, target: &Target) -> Result<RawManifest> {
        self.repo.get_manifest(target).await.map_err(|e| {
            if e.is_not_found() {
                CopyError::NotFound {
                    what: format!("manifest {target}"),
                    location: ImageSource::describe(self),
                }
            } else {
                e.into()
            }
        })
    }

    async fn blob(&self, digest: &Digest) -> Result<(Option<u64>, ByteStream)> {
        Ok(self.repo.get_blob(digest).await?)
    }

    async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>> {
        Ok(self.repo.blob_exists(digest).await?)
    }

    async fn blob_bytes(&self, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        Ok(self.repo.get_blob_bytes(digest, max).await?)
    }

    async fn tags(&self) -> Result<Vec<String>> {
        Ok(self.repo.tags().await?)
    }
}

impl ImageDestination for RegistryRepo {
    fn describe(&self) -> String {
        format!("{}/{}", self.repo.registry(), self.repo.name())
    }

    fn repo_id(&self) -> Option<RepoId> {
        ImageSource::repo_id(self)
    }

    fn dedup_key(&self) -> String {
        ImageDestination::describe(self)
    }

    async fn has_blob(&self, digest: &Digest) -> Result<bool> {
        Ok(self.repo.blob_exists(digest).await?.is_some())
    }

    async fn probe_blob(&self, digest: &Digest) -> Result<bool> {
        // POST ?mount=D&from=<this repository>: 201 when linked here, else 202 and a
        // session the client keeps for the upload of D (HEAD + POST in one request).
        Ok(self.repo.mount_blob(digest, self.repo.name()).await?)
    }

    async fn mount_blob(&self, digest: &Digest, from: &RepoId) -> Result<bool> {
        if from.registry != self.repo.registry() || from.repository == self.repo.name() {
            return Ok(false);
        }
        Ok(self.repo.mount_blob(digest, &from.repository).await?)
    }

    async fn put_blob(&self, desc: &Descriptor, source: &dyn BlobOpener) -> Result<()> {
        self.repo
            .upload_blob(&desc.digest, desc.size, source)
            .await
            .map_err(|e| {
                // A verification failure travels as an I/O error inside the upload; bring
                // the copy error back out so callers see what really happened.
                CopyError::carried_mismatch(&e).unwrap_or_else(|| e.into())
            })
    }

    async fn has_manifest(&self, digest: &Digest) -> Result<bool> {
        Ok(self
            .repo
            .head_manifest(&Target::Digest(digest.clone()))
            .await?
            .is_some())
    }

    async fn resolve_tag(&self, tag: &str) -> Result<Option<Digest>> {
        Ok(self
            .repo
            .resolve_digest(&Target::Tag(tag.to_string()))
            .await?)
    }

    async fn put_manifest(&self, manifest: &RawManifest, target: &Target) -> Result<Digest> {
        Ok(self.repo.put_manifest(target, manifest).await?)
    }
}
