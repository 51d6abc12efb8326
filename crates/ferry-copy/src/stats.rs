//! Counters of what a run did, and the progress hooks a front end can observe.

use std::sync::atomic::{AtomicU64, Ordering};

use ferry_image::Digest;
use serde::Serialize;

/// What happened to one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobAction {
    /// Uploaded (or written to the layout).
    Copied,
    /// Already present at the destination.
    Skipped,
    /// Mounted from another repository of the same registry.
    Mounted,
}

/// Hooks called as a copy progresses. Every method has an empty default; implementations
/// must be cheap (they are called from the streaming path).
pub trait Progress: Send + Sync {
    /// Bytes of a blob that went through.
    fn bytes(&self, _n: u64) {}
    /// A blob transfer starts.
    fn blob_started(&self, _digest: &Digest, _size: u64) {}
    /// A blob is done.
    fn blob_finished(&self, _digest: &Digest, _action: BlobAction) {}
    /// An image (a tag or top-level manifest) is done.
    fn image_finished(&self, _name: &str, _digest: &Digest, _changed: bool) {}
}

/// A progress observer that does nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// Counters shared by every copy of an engine.
#[derive(Debug, Default)]
pub struct Stats {
    pub(crate) images_copied: AtomicU64,
    pub(crate) images_unchanged: AtomicU64,
    pub(crate) manifests_written: AtomicU64,
    pub(crate) manifests_present: AtomicU64,
    pub(crate) blobs_copied: AtomicU64,
    pub(crate) blobs_skipped: AtomicU64,
    pub(crate) blobs_mounted: AtomicU64,
    pub(crate) bytes_copied: AtomicU64,
    pub(crate) attachments_copied: AtomicU64,
}

impl Stats {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// A copy of the counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            images_copied: g(&self.images_copied),
            images_unchanged: g(&self.images_unchanged),
            manifests_written: g(&self.manifests_written),
            manifests_present: g(&self.manifests_present),
            blobs_copied: g(&self.blobs_copied),
            blobs_skipped: g(&self.blobs_skipped),
            blobs_mounted: g(&self.blobs_mounted),
            bytes_copied: g(&self.bytes_copied),
            attachments_copied: g(&self.attachments_copied),
        }
    }
}

/// The counters of a run, for the summary (text or JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StatsSnapshot {
    /// Images (tags) whose destination changed.
    pub images_copied: u64,
    /// Images whose destination already held the same digest.
    pub images_unchanged: u64,
    /// Manifests written.
    pub manifests_written: u64,
    /// Manifests found already present (their subtree skipped).
    pub manifests_present: u64,
    /// Blobs uploaded.
    pub blobs_copied: u64,
    /// Blobs already present.
    pub blobs_skipped: u64,
    /// Blobs mounted from another repository.
    pub blobs_mounted: u64,
    /// Bytes of blobs uploaded.
    pub bytes_copied: u64,
    /// Cosign attachments (`sha256-<hex>.sig`, `.att`, `.sbom` tags) written or moved.
    #[serde(default)]
    pub attachments_copied: u64,
}

impl StatsSnapshot {
    /// The counters of two runs together (shards of one push).
    pub fn add(&self, other: &StatsSnapshot) -> StatsSnapshot {
        StatsSnapshot {
            images_copied: self.images_copied + other.images_copied,
            images_unchanged: self.images_unchanged + other.images_unchanged,
            manifests_written: self.manifests_written + other.manifests_written,
            manifests_present: self.manifests_present + other.manifests_present,
            blobs_copied: self.blobs_copied + other.blobs_copied,
            blobs_skipped: self.blobs_skipped + other.blobs_skipped,
            blobs_mounted: self.blobs_mounted + other.blobs_mounted,
            bytes_copied: self.bytes_copied + other.bytes_copied,
            attachments_copied: self.attachments_copied + other.attachments_copied,
        }
    }
}
