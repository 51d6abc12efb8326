//! The copy engine: children before parents, ask before sending, every blob once.
//!
//! One engine serves a whole run (a copy, a sync, a push): its blob deduplication, its
//! knowledge of where a blob already lives in a destination registry (for mounts) and its
//! transfer limits are shared by every image the run copies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ferry_image::{
    Descriptor, Digest, ImageConfig, IndexManifest, Manifest, MediaType, Platform, RawManifest,
    Target,
};
use futures_util::TryStreamExt;
use futures_util::future::{BoxFuture, try_join_all};
use serde::Serialize;
use tokio::sync::{OnceCell, Semaphore};

use crate::error::ResultExt;
use crate::stats::{BlobAction, NoProgress, Progress, Stats, StatsSnapshot};
use crate::traits::{ImageDestination, ImageSource, RepoId};
use crate::{CopyError, Result};

mod blobs;

/// Child manifests of one index fetched and copied at a time: an index of 30,000 entries
/// must not hold 30,000 manifests (and their futures) in memory at once.
const CHILD_CONCURRENCY: usize = 16;
/// Blobs below this size take a slot of their own pool, so a few large layers never keep
/// configs and small layers waiting.
const SMALL_BLOB: u64 = 1024 * 1024;
/// Small blobs are cheap for a registry and latency-bound: they get this many slots per
/// job, outside the per-registry limit (measured: S1 0.11-0.13 s at 8 slots, 0.09-0.10 s
/// at 32).
const SMALL_SLOTS_PER_JOB: usize = 4;

/// How a copy is run.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Concurrent transfers of blobs of 1 MiB and more, in all; smaller blobs get four
    /// times as many slots of their own, so they never wait behind big layers.
    pub jobs: usize,
    /// Concurrent transfers of blobs of 1 MiB and more into any one destination registry
    /// (or layout); `None` means the same as `jobs`.
    pub jobs_per_registry: Option<usize>,
    /// Platforms to copy from a list; empty copies every platform. One platform copies
    /// that image manifest alone; several give a filtered list.
    pub platforms: Vec<Platform>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            jobs: 8,
            jobs_per_registry: None,
            platforms: Vec::new(),
        }
    }
}

/// The result of copying one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyOutcome {
    /// Digest of the top-level manifest written (or found).
    pub digest: Digest,
    /// Its media type.
    pub media_type: MediaType,
    /// Whether the destination changed (false: the tag already held this digest).
    pub changed: bool,
}

/// Whether child manifests are asked for before they are copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// HEAD each child and each blob; skip the present ones (a child with its subtree).
    Ask,
    /// HEAD each child (skip the present ones with their subtree); probe each blob with a
    /// mount from the repository itself, which opens the upload session when it is absent.
    AskChildrenProbeBlobs,
    /// The parent is new at a new tag: copy the children without asking; probe the blobs.
    AssumeAbsent,
}

/// Work done once per (destination store, digest) in a run, shared by every waiter.
type Cells<T> =
    Mutex<HashMap<(String, Digest), Arc<OnceCell<std::result::Result<T, Arc<CopyError>>>>>>;

/// The engine. Create one per run and share it (`&CopyEngine` is enough).
pub struct CopyEngine {
    options: CopyOptions,
    large: Semaphore,
    small: Semaphore,
    blobs: Cells<BlobAction>,
    children: Cells<()>,
    placed: Mutex<HashMap<(String, Digest), RepoId>>,
    per_registry: Mutex<HashMap<String, Arc<Semaphore>>>,
    stats: Stats,
    progress: Arc<dyn Progress>,
}

impl CopyEngine {
    /// An engine with these options and no progress display.
    pub fn new(options: CopyOptions) -> Self {
        CopyEngine::with_progress(options, Arc::new(NoProgress))
    }

    /// An engine that reports progress to `progress`.
    pub fn with_progress(options: CopyOptions, progress: Arc<dyn Progress>) -> Self {
        let jobs = options.jobs.max(1);
        CopyEngine {
            large: Semaphore::new(jobs),
            small: Semaphore::new(jobs * SMALL_SLOTS_PER_JOB),
            options,
            blobs: Mutex::new(HashMap::new()),
            children: Mutex::new(HashMap::new()),
            placed: Mutex::new(HashMap::new()),
            per_registry: Mutex::new(HashMap::new()),
            stats: Stats::default(),
            progress,
        }
    }

    /// The options.
    pub fn options(&self) -> &CopyOptions {
        &self.options
    }

    /// The counters so far.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    pub(crate) fn raw_stats(&self) -> &Stats {
        &self.stats
    }

    /// The progress observer.
    pub fn progress(&self) -> &Arc<dyn Progress> {
        &self.progress
    }

    /// Copies the image `src_target` of `src` to `dest`, under `dest_tag` when given
    /// (otherwise by digest). Applies the platform filter of the options.
    pub async fn copy<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        src_target: &Target,
        dest: &D,
        dest_tag: Option<&str>,
    ) -> Result<CopyOutcome> {
        let tag_now = async {
            match dest_tag {
                Some(t) => dest.resolve_tag(t).await,
                None => Ok(None),
            }
        };
        self.fetch_and_copy(src, src_target, dest, dest_tag, tag_now, None)
            .await
    }

    /// [`copy`](Self::copy) to a destination named by digest (`expected`): refused before
    /// anything is written when the manifest to write (after the platform filter) has
    /// another digest.
    pub async fn copy_expecting<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        src_target: &Target,
        dest: &D,
        dest_tag: Option<&str>,
        expected: Option<&Digest>,
    ) -> Result<CopyOutcome> {
        let tag_now = async {
            match dest_tag {
                Some(t) => dest.resolve_tag(t).await,
                None => Ok(None),
            }
        };
        self.fetch_and_copy(src, src_target, dest, dest_tag, tag_now, expected)
            .await
    }

    /// [`copy`](Self::copy) to `dest_tag` when the caller already knows the digest the tag
    /// holds (`tagged`; `None`: no such tag), as `sync` does: the tag is not asked again.
    pub async fn copy_to_known_tag<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        src_target: &Target,
        dest: &D,
        dest_tag: &str,
        tagged: Option<Digest>,
    ) -> Result<CopyOutcome> {
        self.fetch_and_copy(
            src,
            src_target,
            dest,
            Some(dest_tag),
            async { Ok(tagged) },
            None,
        )
        .await
    }

    /// Fetches the source manifest while `tagged` learns what the destination tag holds,
    /// applies the platform filter, and copies.
    async fn fetch_and_copy<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        src_target: &Target,
        dest: &D,
        dest_tag: Option<&str>,
        tagged: impl std::future::Future<Output = Result<Option<Digest>>>,
        expected: Option<&Digest>,
    ) -> Result<CopyOutcome> {
        let what = || {
            let to = dest_tag.map(|t| format!(":{t}")).unwrap_or_default();
            format!(
                "copying {}:{} to {}{to}",
                src.describe(),
                src_target,
                dest.describe()
            )
        };
        let (raw, tagged) = futures_util::future::join(src.manifest(src_target), tagged).await;
        let top = self.select_platforms(src, raw.ctx(what)?).await.ctx(what)?;
        if let Some(named) = expected
            && named != top.digest()
        {
            return Err(CopyError::DestinationDigest {
                named: named.clone(),
                actual: top.digest().clone(),
            });
        }
        self.copy_top_known(src, top, dest, dest_tag, tagged.ctx(what)?)
            .await
            .ctx(what)
    }

    /// Copies an already-fetched top-level manifest and its tree, then sets `dest_tag`.
    pub async fn copy_top<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        top: RawManifest,
        dest: &D,
        dest_tag: Option<&str>,
    ) -> Result<CopyOutcome> {
        let tagged = match dest_tag {
            Some(tag) => dest.resolve_tag(tag).await?,
            None => None,
        };
        self.copy_top_known(src, top, dest, dest_tag, tagged).await
    }

    /// [`copy_top`](Self::copy_top) when what the tag holds (`tagged`) is already known.
    async fn copy_top_known<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        top: RawManifest,
        dest: &D,
        dest_tag: Option<&str>,
        tagged: Option<Digest>,
    ) -> Result<CopyOutcome> {
        let name = match dest_tag {
            Some(t) => format!("{}:{}", dest.describe(), t),
            None => format!("{}@{}", dest.describe(), top.digest()),
        };
        let outcome = |changed| CopyOutcome {
            digest: top.digest().clone(),
            media_type: top.media_type().clone(),
            changed,
        };
        if tagged.as_ref() == Some(top.digest()) {
            Stats::add(&self.stats.images_unchanged, 1);
            self.progress.image_finished(&name, top.digest(), false);
            return Ok(outcome(false));
        }
        let present = dest.has_manifest(top.digest()).await?;
        if present {
            Stats::add(&self.stats.manifests_present, 1);
        } else {
            // A tag that does not exist yet, for an image that is not there: its child
            // manifests are not asked for one by one (a wrong guess costs an idempotent PUT).
            let walk = if dest_tag.is_some() && tagged.is_none() {
                Walk::AssumeAbsent
            } else {
                Walk::Ask
            };
            self.copy_below(src, &top, dest, walk, 1).await?;
        }
        match dest_tag {
            Some(tag) => {
                dest.put_manifest(&top, &Target::Tag(tag.to_string()))
                    .await?;
                Stats::add(&self.stats.manifests_written, 1);
            }
            None if !present => {
                dest.put_untagged(&top).await?;
                Stats::add(&self.stats.manifests_written, 1);
            }
            None => dest.keep_untagged(&top).await?,
        }
        Stats::add(&self.stats.images_copied, 1);
        self.progress.image_finished(&name, top.digest(), true);
        Ok(outcome(true))
    }

    /// Copies everything `manifest` needs (child manifests and blobs) to `dest`, but not
    /// `manifest` itself. Returns whether `manifest` was already present (then nothing
    /// below it was copied).
    ///
    /// Child manifests are asked for (HEAD) and skipped with their subtree when present;
    /// blobs are probed with [`ImageDestination::probe_blob`] (on a registry, a mount from
    /// the repository itself: 201 when there, else the upload session the blob needs), so an
    /// absent blob costs POST + PUT, not HEAD + POST + PUT.
    pub async fn copy_children<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        manifest: &RawManifest,
        dest: &D,
    ) -> Result<bool> {
        self.copy_children_walk(src, manifest, dest, Walk::AskChildrenProbeBlobs)
            .await
    }

    /// [`copy_children`](Self::copy_children) for a manifest going to a tag the caller saw
    /// absent: like the copy path under a new tag, child manifests are not asked for (a
    /// wrong guess costs an idempotent PUT) and blobs are probed.
    pub async fn copy_children_for_new_tag<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        manifest: &RawManifest,
        dest: &D,
    ) -> Result<bool> {
        self.copy_children_walk(src, manifest, dest, Walk::AssumeAbsent)
            .await
    }

    async fn copy_children_walk<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        manifest: &RawManifest,
        dest: &D,
        walk: Walk,
    ) -> Result<bool> {
        if dest.has_manifest(manifest.digest()).await? {
            Stats::add(&self.stats.manifests_present, 1);
            return Ok(true);
        }
        self.copy_below(src, manifest, dest, walk, 1).await?;
        Ok(false)
    }

    /// Copies what an absent `manifest` (at nesting `level`, the top is 1) needs: its
    /// child manifests (each asked for first, unless `walk` says they cannot be there, a
    /// few at a time) or its blobs.
    async fn copy_below<S: ImageSource, D: ImageDestination>(
        &self,
        src: &S,
        manifest: &RawManifest,
        dest: &D,
        walk: Walk,
        level: usize,
    ) -> Result<()> {
        match manifest.parse()? {
            Manifest::Index(index) => {
                futures_util::stream::iter(
                    index
                        .manifests
                        .iter()
                        .filter(|c| c.media_type.is_manifest())
                        .map(Ok::<_, CopyError>),
                )
                .try_for_each_concurrent(CHILD_CONCURRENCY, |c| {
                    self.copy_child(src, c, dest, walk, level + 1)
                })
                .await?;
            }
            image => {
                try_join_all(
                    image
                        .blobs()
                        .iter()
                        .map(|b| self.copy_blob_walk(src, b, dest, walk)),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Copies one child manifest (and its tree) by digest.
    fn copy_child<'a, S: ImageSource, D: ImageDestination>(
        &'a self,
        src: &'a S,
        child: &'a Descriptor,
        dest: &'a D,
        walk: Walk,
        level: usize,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            ferry_image::check_depth(level, &child.digest)?;
            // Once per destination in a run: a list pushed to several tags of one
            // repository walks each child once.
            let key = (dest.dedup_key(), child.digest.clone());
            once(&self.children, key, || async {
                let what = || format!("image {}", child.digest);
                if walk != Walk::AssumeAbsent && dest.has_manifest(&child.digest).await.ctx(what)? {
                    Stats::add(&self.stats.manifests_present, 1);
                    return Ok(());
                }
                let raw = src
                    .manifest(&Target::Digest(child.digest.clone()))
                    .await
                    .ctx(what)?;
                self.copy_below(src, &raw, dest, walk, level)
                    .await
                    .ctx(what)?;
                dest.put_manifest(&raw, &Target::Digest(raw.digest().clone()))
                    .await
                    .ctx(what)?;
                Stats::add(&self.stats.manifests_written, 1);
                Ok(())
            })
            .await
            .0
        })
    }

    /// Applies the platform filter: all platforms (as is), one (that image manifest), or
    /// several (a filtered list, serialized deterministically).
    pub async fn select_platforms<S: ImageSource>(
        &self,
        src: &S,
        raw: RawManifest,
    ) -> Result<RawManifest> {
        let wanted = &self.options.platforms;
        if wanted.is_empty() {
            return Ok(raw);
        }
        match raw.parse()? {
            Manifest::Index(index) => {
                let chosen: Vec<&Descriptor> = index
                    .manifests
                    .iter()
                    .filter(|d| {
                        d.platform
                            .as_ref()
                            .is_some_and(|p| wanted.iter().any(|w| w.matches(p)))
                    })
                    .collect();
                for w in wanted {
                    if !chosen
                        .iter()
                        .any(|d| d.platform.as_ref().is_some_and(|p| w.matches(p)))
                    {
                        return Err(CopyError::NotFound {
                            what: format!("platform {w}"),
                            location: format!("the list {}", raw.digest()),
                        });
                    }
                }
                if wanted.len() == 1 {
                    let d = chosen[0];
                    return src.manifest(&Target::Digest(d.digest.clone())).await;
                }
                let mut filtered = IndexManifest {
                    manifests: Vec::new(),
                    ..index.clone()
                };
                filtered.manifests = chosen.into_iter().cloned().collect();
                Ok(filtered.to_raw()?)
            }
            Manifest::Image(image) => {
                let config = ImageConfig::parse(
                    &src.blob_bytes(&image.config.digest, ferry_image::MAX_CONFIG_SIZE)
                        .await?,
                )?;
                let have = config.platform();
                if wanted.iter().any(|w| w.matches(&have)) {
                    Ok(raw)
                } else {
                    Err(CopyError::NotFound {
                        what: format!(
                            "platform {}",
                            wanted
                                .iter()
                                .map(|p| p.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        location: format!("the single-platform image {} ({have})", raw.digest()),
                    })
                }
            }
            Manifest::Schema1(_) => Ok(raw),
        }
    }
}

/// Runs `work` once per `key` across a run: concurrent and later callers get its result.
/// Returns the result and whether this call did the work. A failure is forgotten, so a
/// retry of the run tries again.
async fn once<T: Clone, F>(
    cells: &Cells<T>,
    key: (String, Digest),
    work: impl FnOnce() -> F,
) -> (Result<T>, bool)
where
    F: std::future::Future<Output = Result<T>>,
{
    let cell = cells
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key.clone())
        .or_default()
        .clone();
    let mut did_it = false;
    let result = cell
        .get_or_init(|| {
            did_it = true;
            let fut = work();
            async move { fut.await.map_err(Arc::new) }
        })
        .await;
    match result {
        Ok(v) => (Ok(v.clone()), did_it),
        Err(e) => {
            let mut map = cells.lock().unwrap_or_else(|p| p.into_inner());
            if map.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                map.remove(&key);
            }
            (Err(CopyError::Shared(e.clone())), did_it)
        }
    }
}
