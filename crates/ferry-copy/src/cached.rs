//! A source wrapper that reads each manifest once: `tag` copies one source to many
//! destinations, and every destination's walk asks for the same child manifests.

use std::collections::HashMap;
use std::sync::Mutex;

use ferry_image::{Descriptor, Digest, RawManifest, Target};
use ferry_registry::ByteStream;

use crate::Result;
use crate::traits::{ImageSource, RepoId};

/// Caches manifests fetched by digest (immutable content); everything else passes through.
pub struct CachedSource<S> {
    inner: S,
    manifests: Mutex<HashMap<Digest, RawManifest>>,
}

impl<S: ImageSource> CachedSource<S> {
    /// Wraps a source.
    pub fn new(inner: S) -> Self {
        CachedSource {
            inner,
            manifests: Mutex::new(HashMap::new()),
        }
    }

    /// The wrapped source.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Adds a manifest already fetched (by tag) so later reads by digest hit the cache.
    pub fn remember(&self, m: &RawManifest) {
        self.manifests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(m.digest().clone(), m.clone());
    }
}

impl<S: ImageSource> ImageSource for CachedSource<S> {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn repo_id(&self) -> Option<RepoId> {
        self.inner.repo_id()
    }
    async fn resolve(&self, target: &Target) -> Result<Option<Descriptor>> {
        self.inner.resolve(target).await
    }
    async fn manifest(&self, target: &Target) -> Result<RawManifest> {
        if let Target::Digest(d) = target
            && let Some(m) = self
                .manifests
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(d)
        {
            return Ok(m.clone());
        }
        let m = self.inner.manifest(target).await?;
        if matches!(target, Target::Digest(_)) {
            self.remember(&m);
        }
        Ok(m)
    }
    async fn blob(&self, digest: &Digest) -> Result<(Option<u64>, ByteStream)> {
        self.inner.blob(digest).await
    }
    async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>> {
        self.inner.blob_size(digest).await
    }
    async fn blob_bytes(&self, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        self.inner.blob_bytes(digest, max).await
    }
    async fn tags(&self) -> Result<Vec<String>> {
        self.inner.tags().await
    }
}
