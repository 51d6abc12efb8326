//! `merge`: put the merge of a source list and what the destination tag holds on the tag,
//! after copying the source's images into the destination repository.
//!
//! Concurrent merges into one tag must not lose a platform, and registries offer no
//! compare-and-swap: a writer that read the tag before another's write and writes after it
//! erases that write. Within one process, merges of a tag take turns from read to write (an
//! async lock per tag). Across processes, a merge is not done when its write returns: it is
//! *confirmed* only when the tag, read again and again over a window, holds every entry
//! this merge brings and has not changed for the whole window. The window is the settle
//! time or four times this merge's own read-to-write time, whichever is longer, so a
//! concurrent writer that read before us has landed its write before we look for the last
//! time. This holds whether the entries got there by our write or by another writer's
//! merge (a merge that finds its entries already there is confirmed the same way). A
//! confirmation that finds an entry missing merges again; after `max_rounds` merges the
//! merge fails, naming the platforms it could not confirm.
//!
//! Waiting for the confirmation holds no lock and no slot: [`merge_write`] returns once the
//! tag is written, [`PendingMerge::confirm`] waits; callers that merge many tags (push)
//! release their concurrency slot in between, so the waits of all tags overlap.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use ferry_copy::{CopyEngine, ImageDestination, ImageSource};
use ferry_image::{Descriptor, Digest, Manifest, Platform, RawManifest, Target};
use serde::Serialize;

use super::WorkflowError;
use crate::listmerge::{MergeAction, MergeKey, eligible_part, holds_all, plan_merge};

/// The longest confirmation window, however slow the registry answered.
const MAX_WINDOW: Duration = Duration::from_secs(10);
/// How many times the tag may change under a confirmation (other writers still at work)
/// before the merge gives up, per merge round allowed.
const CHANGES_PER_ROUND: u32 = 3;

/// How a merge runs.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// How entries are matched.
    pub by: MergeKey,
    /// Eligible architectures (None: all).
    pub archs: Option<Vec<String>>,
    /// The shortest confirmation window: the tag must hold this merge's entries, unchanged,
    /// for this long (longer when the registry is slow) before the merge is done.
    pub settle: Duration,
    /// Merge rounds before giving up on a contended tag.
    pub max_rounds: u32,
    /// Plan only: read, decide, write nothing.
    pub dry_run: bool,
}

impl Default for MergeOptions {
    fn default() -> Self {
        MergeOptions {
            by: MergeKey::Platform,
            archs: None,
            settle: Duration::from_millis(400),
            max_rounds: 10,
            dry_run: false,
        }
    }
}

/// What a merge did.
#[derive(Debug, Clone, Serialize)]
pub struct MergeOutcome {
    /// The action (for a dry run: the action it would take).
    pub action: MergeAction,
    /// The digest the tag holds (would hold) afterwards.
    pub digest: Digest,
    /// Platforms of the result, in order.
    pub platforms: Vec<String>,
    /// How many destination entries were kept.
    pub kept_from_destination: usize,
    /// Merge rounds (more than 1 when a concurrent writer raced this one).
    pub rounds: u32,
    /// Why the result is what it is, when that is not obvious (say, no source architecture
    /// was eligible and the destination was left as it was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn tag_lock(key: String) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default()
        .clone()
}

fn platform_name(d: &Descriptor) -> String {
    d.platform
        .as_ref()
        .map_or_else(|| d.digest.to_string(), Platform::to_string)
}

fn platforms_of(m: &RawManifest) -> Vec<String> {
    match m.parse() {
        Ok(Manifest::Index(i)) => i.manifests.iter().map(platform_name).collect(),
        _ => Vec::new(),
    }
}

/// The entries of `required` that `list` lacks.
fn missing_from(list: Option<&RawManifest>, required: &[Descriptor]) -> Vec<Descriptor> {
    match list {
        Some(m) if holds_all(m, required) => Vec::new(),
        Some(m) => required
            .iter()
            .filter(|r| !holds_all(m, std::slice::from_ref(*r)))
            .cloned()
            .collect(),
        None => required.to_vec(),
    }
}

/// What the tag holds, read afresh: HEAD by tag, then GET by that digest (no cache on
/// this path, in ferry or in the registry's tag lookup).
async fn current<D: ImageSource + ImageDestination>(
    dest: &D,
    tag: &str,
) -> Result<Option<RawManifest>, WorkflowError> {
    match dest.resolve_tag(tag).await? {
        None => Ok(None),
        Some(d) => match ImageSource::manifest(dest, &Target::Digest(d)).await {
            Ok(m) => Ok(Some(m)),
            // Deleted between the two requests: as if absent.
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        },
    }
}

/// A pause of about `d`, 25% either way, so that racing processes do not read in step.
fn jittered(d: Duration) -> Duration {
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let quarter = d / 4;
    let span = quarter.as_nanos() as u64 * 2 + 1;
    (d - quarter) + Duration::from_nanos(r % span)
}

/// A merge whose write is done (or that found nothing to write) and whose result is not
/// confirmed yet: call [`PendingMerge::confirm`].
pub struct PendingMerge<'a, D> {
    dest: &'a D,
    src_top: RawManifest,
    tag: String,
    opts: MergeOptions,
    outcome: MergeOutcome,
    /// The source entries the tag must keep.
    required: Vec<Descriptor>,
    /// The tag's digest when this merge last saw its entries there, and when it saw it.
    seen: Digest,
    seen_at: Instant,
    /// How long this merge's last read-plan-write took.
    cost: Duration,
    /// Nothing to confirm (dry run, or nothing of the source to add).
    done: bool,
}

impl<D> std::fmt::Debug for PendingMerge<'_, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingMerge")
            .field("tag", &self.tag)
            .field("outcome", &self.outcome)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// One round: under the process's lock for the tag, read it, plan, and write if needed.
async fn write_round<'a, D: ImageSource + ImageDestination>(
    dest: &'a D,
    src_top: &RawManifest,
    tag: &str,
    opts: &MergeOptions,
    round: u32,
) -> Result<PendingMerge<'a, D>, WorkflowError> {
    let lock = tag_lock(format!("{}:{tag}", ImageDestination::describe(dest)));
    let _turn = lock.lock().await;
    let start = Instant::now();
    let now = current(dest, tag).await?;
    let plan = plan_merge(src_top, now.as_ref(), opts.by, opts.archs.as_deref())?;
    if plan.action == MergeAction::OverwriteImage {
        tracing::warn!(
            "{}:{tag} holds a single image, not a list: the source list replaces it",
            ImageDestination::describe(dest)
        );
    }
    let outcome = MergeOutcome {
        action: plan.action.clone(),
        digest: plan.result.digest().clone(),
        platforms: platforms_of(&plan.result),
        kept_from_destination: plan.kept_from_destination.len(),
        rounds: round,
        note: plan.note.clone(),
    };
    let done = opts.dry_run || plan.from_source.is_empty();
    if plan.action != MergeAction::Unchanged && !opts.dry_run {
        dest.put_manifest(&plan.result, &Target::Tag(tag.to_string()))
            .await?;
        tracing::debug!(round, digest = %plan.result.digest(), "merge: wrote {tag}");
    } else {
        tracing::debug!(round, digest = %plan.result.digest(), "merge: {tag} already holds the result");
    }
    Ok(PendingMerge {
        dest,
        src_top: src_top.clone(),
        tag: tag.to_string(),
        opts: opts.clone(),
        outcome,
        required: plan.from_source,
        seen: plan.result.digest().clone(),
        seen_at: Instant::now(),
        cost: start.elapsed(),
        done,
    })
}

/// What a confirmation found.
enum Confirmation {
    /// The tag held every entry, unchanged, for the whole window.
    Held,
    /// These entries were missing at some read.
    Lost(Vec<Descriptor>),
}

impl<D: ImageSource + ImageDestination> PendingMerge<'_, D> {
    /// The outcome so far (before confirmation).
    pub fn outcome(&self) -> &MergeOutcome {
        &self.outcome
    }

    /// The confirmation window of this round.
    fn window(&self) -> Duration {
        self.opts
            .settle
            .max(self.cost.saturating_mul(4))
            .min(MAX_WINDOW.max(self.opts.settle))
    }

    /// Reads the tag over the window: every read must hold this merge's entries, and the
    /// window restarts whenever the tag changed (a concurrent writer that read before the
    /// change may still be on its way).
    async fn check(&self) -> Result<Confirmation, WorkflowError> {
        let window = self.window();
        let mut last = self.seen.clone();
        let mut since = self.seen_at;
        let mut pause = window / 4;
        let mut changes = 0;
        loop {
            let due = since + window;
            let left = due.saturating_duration_since(Instant::now());
            // Reads at growing intervals; the last one a little after the window ends.
            let wait = if pause >= left {
                left + jittered(window / 8)
            } else {
                jittered(pause)
            };
            tokio::time::sleep(wait).await;
            pause = pause.saturating_mul(2);
            let read_at = Instant::now();
            let back = current(self.dest, &self.tag).await?;
            let missing = missing_from(back.as_ref(), &self.required);
            if !missing.is_empty() {
                return Ok(Confirmation::Lost(missing));
            }
            let Some(back) = back else {
                return Ok(Confirmation::Lost(self.required.clone()));
            };
            if back.digest() != &last {
                changes += 1;
                if changes > CHANGES_PER_ROUND * self.opts.max_rounds.max(1) {
                    return Ok(Confirmation::Lost(Vec::new()));
                }
                tracing::debug!(digest = %back.digest(), "merge: {} changed under confirmation", self.tag);
                last = back.digest().clone();
                since = read_at;
                pause = window / 4;
                continue;
            }
            if read_at >= due {
                return Ok(Confirmation::Held);
            }
        }
    }

    /// Waits until the tag is confirmed to hold this merge's entries, merging again when a
    /// concurrent writer dropped them. Fails (naming the platforms) after `max_rounds`.
    pub async fn confirm(mut self) -> Result<MergeOutcome, WorkflowError> {
        loop {
            if self.done {
                return Ok(self.outcome);
            }
            let missing = match self.check().await? {
                Confirmation::Held => {
                    tracing::debug!(
                        rounds = self.outcome.rounds,
                        "merge: {} confirmed",
                        self.tag
                    );
                    return Ok(self.outcome);
                }
                Confirmation::Lost(m) => m,
            };
            let round = self.outcome.rounds;
            if round >= self.opts.max_rounds {
                let missing = if missing.is_empty() {
                    &self.required
                } else {
                    &missing
                };
                return Err(WorkflowError::Contended {
                    tag: self.tag.clone(),
                    rounds: round,
                    missing: missing
                        .iter()
                        .map(platform_name)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            tracing::info!(
                "{}: another writer replaced the merged list; merging again",
                self.tag
            );
            self = write_round(self.dest, &self.src_top, &self.tag, &self.opts, round + 1).await?;
        }
    }
}

/// Copies the source's images and writes the merge of `src_top` (already fetched from
/// `src`) onto `dest:tag`; the result still needs [`PendingMerge::confirm`].
pub async fn merge_write<'a, S: ImageSource, D: ImageSource + ImageDestination>(
    engine: &CopyEngine,
    src: &S,
    src_top: &RawManifest,
    dest: &'a D,
    tag: &str,
    opts: &MergeOptions,
) -> Result<PendingMerge<'a, D>, WorkflowError> {
    if !src_top.media_type().is_index() {
        return Err(crate::listmerge::MergeError::SourceNotList(format!(
            "{}@{}",
            src.describe(),
            src_top.digest()
        ))
        .into());
    }
    // Only the images the merge may add: with --archs, the eligible ones (none at all
    // when no source architecture is eligible, which leaves a destination untouched).
    if !opts.dry_run
        && let Some(part) = eligible_part(src_top, opts.archs.as_deref())?
    {
        // A tag absent now (a first push) most likely holds nothing of ours: copy as under
        // a new tag, without asking for each child manifest. Only the requests change:
        // the merge itself still reads the tag under its lock, and is still confirmed, in
        // case a concurrent writer created the tag meanwhile.
        if dest.resolve_tag(tag).await?.is_none() {
            engine.copy_children_for_new_tag(src, &part, dest).await?;
        } else {
            engine.copy_children(src, &part, dest).await?;
        }
    }
    write_round(dest, src_top, tag, opts, 1).await
}

/// Merges the list `src_top` (already fetched from `src`) onto `dest:tag` and confirms it.
pub async fn merge_onto<S: ImageSource, D: ImageSource + ImageDestination>(
    engine: &CopyEngine,
    src: &S,
    src_top: &RawManifest,
    dest: &D,
    tag: &str,
    opts: &MergeOptions,
) -> Result<MergeOutcome, WorkflowError> {
    merge_write(engine, src, src_top, dest, tag, opts)
        .await?
        .confirm()
        .await
}

/// `ferry merge SRC DEST`: reads the source list and merges it onto the destination tag.
pub async fn merge<S: ImageSource, D: ImageSource + ImageDestination>(
    engine: &CopyEngine,
    src: &S,
    src_target: &Target,
    dest: &D,
    tag: &str,
    opts: &MergeOptions,
) -> Result<MergeOutcome, WorkflowError> {
    let top = src.manifest(src_target).await?;
    merge_onto(engine, src, &top, dest, tag, opts).await
}
