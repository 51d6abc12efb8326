//! `merge`: put the merge of a source list and what the destination tag holds on the tag,
//! after copying the source's images into the destination repository.
//!
//! Concurrent merges into one tag must not lose a platform. Within one process, merges of
//! the same tag take turns (an async lock per tag). Across processes, after writing, the
//! tag is read back at once and again after a short settle time; if another writer
//! replaced it with a list lacking any of this merge's source entries, this merge runs
//! again onto what is there, until the tag holds every source entry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ferry_copy::{CopyEngine, ImageDestination, ImageSource};
use ferry_image::{Digest, Manifest, Platform, RawManifest, Target};
use serde::Serialize;

use super::WorkflowError;
use crate::listmerge::{MergeAction, MergeKey, holds_all, plan_merge};

/// How a merge runs.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// How entries are matched.
    pub by: MergeKey,
    /// Eligible architectures (None: all).
    pub archs: Option<Vec<String>>,
    /// Wait before the second read-back that detects a concurrent writer.
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

fn platforms_of(m: &RawManifest) -> Vec<String> {
    match m.parse() {
        Ok(Manifest::Index(i)) => i
            .manifests
            .iter()
            .map(|d| {
                d.platform
                    .as_ref()
                    .map_or("unknown".into(), Platform::to_string)
            })
            .collect(),
        _ => Vec::new(),
    }
}

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

/// Merges the list `src_top` (already fetched from `src`) onto `dest:tag`.
pub async fn merge_onto<S: ImageSource, D: ImageSource + ImageDestination>(
    engine: &CopyEngine,
    src: &S,
    src_top: &RawManifest,
    dest: &D,
    tag: &str,
    opts: &MergeOptions,
) -> Result<MergeOutcome, WorkflowError> {
    if !src_top.media_type().is_index() {
        return Err(crate::listmerge::MergeError::SourceNotList(format!(
            "{}@{}",
            src.describe(),
            src_top.digest()
        ))
        .into());
    }
    if !opts.dry_run {
        engine.copy_children(src, src_top, dest).await?;
    }
    let lock = tag_lock(format!("{}:{tag}", ImageDestination::describe(dest)));
    let _turn = lock.lock().await;
    let target = Target::Tag(tag.to_string());
    let mut round = 1;
    loop {
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
        };
        if plan.action == MergeAction::Unchanged || opts.dry_run {
            return Ok(outcome);
        }
        dest.put_manifest(&plan.result, &target).await?;
        let mut lost = false;
        for pause in [Duration::ZERO, opts.settle] {
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
            match current(dest, tag).await? {
                Some(m)
                    if m.digest() == plan.result.digest() || holds_all(&m, &plan.from_source) => {}
                _ => {
                    lost = true;
                    break;
                }
            }
        }
        if !lost {
            return Ok(outcome);
        }
        if round >= opts.max_rounds {
            return Err(WorkflowError::Contended {
                tag: tag.to_string(),
                rounds: round,
            });
        }
        tracing::info!("{tag}: another writer replaced the merged list; merging again");
        round += 1;
    }
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
