//! Blobs: each copied once per destination per run, within the transfer slots, verified
//! while it streams from the source into the destination.

use std::sync::{Arc, Mutex};

use ferry_image::{Descriptor, Digest};
use ferry_registry::{BlobOpener, ByteStream, RegistryError};
use futures_util::TryStreamExt;
use futures_util::future::BoxFuture;
use tokio::sync::Semaphore;

use super::{CopyEngine, SMALL_BLOB, Walk, once};
use crate::stats::{BlobAction, Progress, Stats};
use crate::traits::{ImageDestination, ImageSource, RepoId};
use crate::verify::verifying;
use crate::{CopyError, Result};

impl CopyEngine {
    /// Copies one blob unless the destination has it, once per destination per run.
    pub async fn copy_blob<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        desc: &Descriptor,
        dest: &D,
    ) -> Result<BlobAction> {
        self.copy_blob_walk(src, desc, dest, Walk::Ask).await
    }

    pub(super) async fn copy_blob_walk<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        desc: &Descriptor,
        dest: &D,
        walk: Walk,
    ) -> Result<BlobAction> {
        let key = (dest.dedup_key(), desc.digest.clone());
        let (result, did_it) = once(&self.blobs, key, || {
            self.copy_blob_once(src, desc, dest, walk)
        })
        .await;
        match result {
            Ok(action) if did_it => Ok(action),
            Ok(_) => Ok(BlobAction::Skipped),
            Err(e) => Err(e.context(format!("blob {}", desc.digest))),
        }
    }

    async fn copy_blob_once<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        desc: &Descriptor,
        dest: &D,
        walk: Walk,
    ) -> Result<BlobAction> {
        let present = match walk {
            Walk::Ask => dest.has_blob(&desc.digest).await?,
            Walk::AskChildrenProbeBlobs | Walk::AssumeAbsent => {
                dest.probe_blob(&desc.digest).await?
            }
        };
        if present {
            Stats::add(&self.stats.blobs_skipped, 1);
            self.progress
                .blob_finished(&desc.digest, BlobAction::Skipped);
            return Ok(BlobAction::Skipped);
        }
        if let Some(to) = dest.repo_id() {
            let mut candidates: Vec<RepoId> = Vec::new();
            if let Some(from) = src.repo_id().filter(|f| f.registry == to.registry) {
                candidates.push(from);
            }
            if let Some(from) = self
                .placed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&(to.registry.clone(), desc.digest.clone()))
            {
                candidates.push(from.clone());
            }
            for from in candidates.iter().filter(|f| f.repository != to.repository) {
                if dest.mount_blob(&desc.digest, from).await? {
                    self.remember(&to, &desc.digest);
                    Stats::add(&self.stats.blobs_mounted, 1);
                    self.progress
                        .blob_finished(&desc.digest, BlobAction::Mounted);
                    return Ok(BlobAction::Mounted);
                }
            }
        }
        let mut desc = desc.clone();
        let known_size = if desc.size > 0 {
            Some(desc.size)
        } else {
            let size = src.blob_size(&desc.digest).await?;
            desc.size = size.unwrap_or(0);
            size
        };
        let pool = if desc.size < SMALL_BLOB {
            &self.small
        } else {
            &self.large
        };
        // Global slot first, then the destination registry's: one order, no deadlock.
        let _permit = pool.acquire().await.expect("semaphore never closed");
        let registry = dest
            .repo_id()
            .map_or_else(|| dest.dedup_key(), |r| r.registry);
        let slots = (desc.size >= SMALL_BLOB).then(|| self.registry_slots(&registry));
        let _registry_permit = match &slots {
            Some(s) => Some(s.acquire().await.expect("semaphore never closed")),
            None => None,
        };
        self.progress.blob_started(&desc.digest, desc.size);
        let opener = VerifyingOpener {
            src,
            digest: desc.digest.clone(),
            size: known_size,
            progress: self.progress.clone(),
            source_error: Arc::new(Mutex::new(None)),
        };
        if let Err(e) = dest.put_blob(&desc, &opener).await {
            // The upload fails when the source stream it carries fails: say so, rather
            // than blame the destination's PUT.
            let source_error = opener
                .source_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            return Err(match source_error {
                Some(reason) => CopyError::SourceBlob {
                    digest: desc.digest.clone(),
                    from: src.describe(),
                    reason,
                },
                None => e,
            });
        }
        if let Some(to) = dest.repo_id() {
            self.remember(&to, &desc.digest);
        }
        Stats::add(&self.stats.blobs_copied, 1);
        Stats::add(&self.stats.bytes_copied, desc.size);
        self.progress
            .blob_finished(&desc.digest, BlobAction::Copied);
        Ok(BlobAction::Copied)
    }

    fn registry_slots(&self, registry: &str) -> Arc<Semaphore> {
        let n = self
            .options
            .jobs_per_registry
            .unwrap_or(self.options.jobs)
            .max(1);
        self.per_registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(registry.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(n)))
            .clone()
    }

    fn remember(&self, at: &RepoId, digest: &Digest) {
        self.placed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((at.registry.clone(), digest.clone()))
            .or_insert_with(|| at.clone());
    }
}

/// Opens the source blob and verifies it while it streams; re-opened on each retry.
struct VerifyingOpener<'a, S> {
    src: &'a S,
    digest: Digest,
    size: Option<u64>,
    progress: Arc<dyn Progress>,
    /// Why the source stream of the latest attempt failed, if it did.
    source_error: Arc<Mutex<Option<String>>>,
}

/// An error with its causes, on one line.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = c.source();
    }
    parts.join(": ")
}

impl<S: ImageSource> BlobOpener for VerifyingOpener<'_, S> {
    fn open(&self) -> BoxFuture<'_, std::result::Result<ByteStream, RegistryError>> {
        Box::pin(async move {
            *self.source_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
            match self.src.blob(&self.digest).await {
                Ok((_, stream)) => {
                    let slot = self.source_error.clone();
                    let verified = verifying(
                        stream,
                        self.digest.clone(),
                        self.size,
                        Some(self.progress.clone()),
                    )
                    .inspect_err(move |e| {
                        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(error_chain(e));
                    });
                    let s: ByteStream = Box::pin(verified);
                    Ok(s)
                }
                // The source failed to open: hand the failure to the upload as the first
                // item of the stream, keeping the copy error inside.
                Err(e) => {
                    *self.source_error.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(error_chain(&e));
                    let err = std::io::Error::other(e);
                    let s: ByteStream =
                        Box::pin(futures_util::stream::once(async move { Err(err) }));
                    Ok(s)
                }
            }
        })
    }
}
