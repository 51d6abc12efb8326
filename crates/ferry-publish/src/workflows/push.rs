//! `push`: carry out a [`PushPlan`] — every group to every destination tag, concurrently,
//! each destination retried on its own — and report each item's final state and each
//! destination's action and digest.

use std::sync::Arc;

use ferry_copy::{CachedSource, CopyEngine, ImageDestination, ImageSource, RegistryRepo};
use ferry_image::{Digest, RawManifest, Reference};
use ferry_registry::Client;
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::WorkflowError;
use super::merge::{MergeOptions, PendingMerge, merge_write};
use super::retry::Retry;
use crate::listmerge::MergeAction;
use crate::plan::{GroupKind, PushGroup, PushPlan, Rejection};
use crate::settings::MultiArch;
use crate::signing::{PushSigning, SignatureReport, SignatureStatus, dry_run_digests};
use ferry_items::{PushItem, PushItemState};

/// What happened at one destination tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DestinationAction {
    /// The image was copied (the tag now holds the source's digest).
    Copied,
    /// A merged list was written, keeping platforms only the destination had.
    Merged,
    /// The tag already held the result: nothing written.
    Unchanged,
    /// The tag held a single image, replaced by the source list.
    Overwritten,
    /// It failed.
    Failed,
}

/// The report line of one destination.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DestinationReport {
    /// The destination reference.
    pub destination: String,
    /// The source it came from.
    pub source: String,
    /// What was done (for a dry run: what would be done).
    pub action: DestinationAction,
    /// The digest the tag holds (would hold) afterwards.
    pub digest: Option<Digest>,
    /// Attempts made.
    pub attempts: u32,
    /// Why it failed.
    pub error: Option<String>,
    /// The signatures of what was pushed here (items with a `dest_signing_key`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<SignatureReport>,
}

impl DestinationReport {
    /// Why this destination failed: its error, or its signatures' failures.
    pub fn failure(&self) -> Option<String> {
        if self.action == DestinationAction::Failed {
            return Some(self.error.clone().unwrap_or_else(|| "failed".into()));
        }
        let failed: Vec<String> = self
            .signatures
            .iter()
            .filter(|s| s.status == SignatureStatus::Failed)
            .map(|s| {
                format!(
                    "signing {} as {}: {}",
                    s.digest.as_ref().map(Digest::as_str).unwrap_or("the tag"),
                    s.identity,
                    s.error.as_deref().unwrap_or("failed")
                )
            })
            .collect();
        (!failed.is_empty()).then(|| failed.join("; "))
    }
}

/// The report line of one item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemReport {
    /// The item's name.
    pub name: String,
    /// Its class.
    pub kind: String,
    /// Its architecture, when the item names one (items of one list share a name).
    pub arch: Option<String>,
    /// Its final state.
    pub state: PushItemState,
    /// Its destinations.
    pub destinations: Vec<String>,
    /// Why it is not PUSHED.
    pub reason: Option<String>,
    /// Why the planner did not push it, typed (`reason` has the same as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
    /// In a sharded push: every destination of this item belongs to other shards, so this
    /// shard did nothing for it (its state is theirs to report).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub elsewhere: bool,
}

impl ItemReport {
    /// Whether the item was left out on request (`skip_unsupported`): not a failure.
    pub fn is_skipped(&self) -> bool {
        self.rejection.as_ref().is_some_and(Rejection::is_skipped)
    }
}

/// An entry of pushsource's other classes (errata, files, RPMs, ...): read, not pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedReport {
    /// The entry's name (`FILE item N` when it has none).
    pub name: String,
    /// Its class, as written (`ErratumPushItem`, ...).
    pub class: String,
    /// The items file it came from.
    pub source: String,
}

/// The counts of a [`PushReport`], computed from its rows (see [`PushReport::summary`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PushSummary {
    /// Destinations copied to.
    pub copied: usize,
    /// Destinations given a merged list.
    pub merged: usize,
    /// Destinations whose single image was replaced by a list.
    pub overwritten: usize,
    /// Destinations that already held the result.
    pub unchanged: usize,
    /// Destinations that failed.
    pub failed: usize,
    /// Items PUSHED.
    pub pushed: usize,
    /// Items still PENDING (a dry run's items that would be pushed).
    pub pending: usize,
    /// Items NOTFOUND.
    pub not_found: usize,
    /// Items INVALID.
    pub invalid: usize,
    /// Items FAILED.
    pub items_failed: usize,
    /// Items left out on request (`skip_unsupported`) or of pushsource's other classes.
    pub skipped: usize,
    /// Signatures written (for a dry run: to be written).
    pub signed: usize,
    /// Signatures already there.
    pub signatures_present: usize,
    /// Signatures that failed.
    pub signing_failed: usize,
}

impl PushSummary {
    /// Destinations written (or, for a dry run, to be written).
    pub fn written(&self) -> usize {
        self.copied + self.merged + self.overwritten
    }
}

impl std::fmt::Display for PushSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "destinations: {} copied, {} merged, {} overwritten, {} unchanged, {} failed; \
             items: {} pushed, {} pending, {} not found, {} invalid, {} failed, {} skipped",
            self.copied,
            self.merged,
            self.overwritten,
            self.unchanged,
            self.failed,
            self.pushed,
            self.pending,
            self.not_found,
            self.invalid,
            self.items_failed,
            self.skipped
        )?;
        if self.signed + self.signatures_present + self.signing_failed > 0 {
            write!(
                f,
                "; signatures: {} signed, {} present, {} failed",
                self.signed, self.signatures_present, self.signing_failed
            )?;
        }
        Ok(())
    }
}

/// The whole report. Serialized with its [`summary`](PushReport::summary) as `summary`
/// (read back, the summary is recomputed from the rows).
#[derive(Debug, Clone, Deserialize)]
pub struct PushReport {
    /// The shard this report is of (`INDEX/COUNT`), for a sharded push.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// Whether nothing was written (`--dry-run`).
    pub dry_run: bool,
    /// Every item, in input order.
    pub items: Vec<ItemReport>,
    /// The entries of pushsource's other classes, in input order: read, not pushed.
    #[serde(default)]
    pub skipped: Vec<SkippedReport>,
    /// Every destination, grouped by source.
    pub destinations: Vec<DestinationReport>,
    /// The engine's counters.
    pub stats: ferry_copy::StatsSnapshot,
}

#[derive(Serialize)]
struct ReportView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<&'a String>,
    dry_run: bool,
    items: &'a [ItemReport],
    skipped: &'a [SkippedReport],
    destinations: &'a [DestinationReport],
    summary: PushSummary,
    stats: &'a ferry_copy::StatsSnapshot,
}

impl Serialize for PushReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ReportView {
            shard: self.shard.as_ref(),
            dry_run: self.dry_run,
            items: &self.items,
            skipped: &self.skipped,
            destinations: &self.destinations,
            summary: self.summary(),
            stats: &self.stats,
        }
        .serialize(serializer)
    }
}

impl PushReport {
    /// Exit 0 only when every item that was not skipped is PUSHED (for a dry run: would
    /// be pushed, i.e. still PENDING with no failure).
    pub fn success(&self) -> bool {
        let done = if self.dry_run {
            PushItemState::Pending
        } else {
            PushItemState::Pushed
        };
        self.items.iter().all(|i| {
            i.is_skipped()
                || i.elsewhere
                || (i.state == done && (i.reason.is_none() || !self.dry_run))
        })
    }

    /// The counts of the report's rows: destinations by action, items by state (skipped
    /// items, and the entries of other classes, as skipped).
    pub fn summary(&self) -> PushSummary {
        let mut s = PushSummary {
            skipped: self.skipped.len(),
            ..PushSummary::default()
        };
        for d in &self.destinations {
            match d.action {
                DestinationAction::Copied => s.copied += 1,
                DestinationAction::Merged => s.merged += 1,
                DestinationAction::Overwritten => s.overwritten += 1,
                DestinationAction::Unchanged => s.unchanged += 1,
                DestinationAction::Failed => s.failed += 1,
            }
            for sig in &d.signatures {
                match sig.status {
                    SignatureStatus::Signed | SignatureStatus::WouldSign => s.signed += 1,
                    SignatureStatus::Present => s.signatures_present += 1,
                    SignatureStatus::Failed => s.signing_failed += 1,
                }
            }
        }
        for i in self.items.iter().filter(|i| !i.elsewhere) {
            if i.is_skipped() {
                s.skipped += 1;
                continue;
            }
            match i.state {
                PushItemState::Pushed => s.pushed += 1,
                PushItemState::Pending => s.pending += 1,
                PushItemState::NotFound => s.not_found += 1,
                PushItemState::Invalid => s.invalid += 1,
                PushItemState::Failed => s.items_failed += 1,
            }
        }
        s
    }
}

/// How the push runs.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Plan and read only.
    pub dry_run: bool,
    /// Retries per destination.
    pub retry: Retry,
    /// Groups pushed at once. A group holds its slot while it reads and writes, not while
    /// its merges wait for confirmation: those waits overlap across all groups.
    pub groups_at_once: usize,
    /// What to sign once a destination is written and confirmed (`None`: nothing).
    pub signing: Option<Arc<PushSigning>>,
}

struct GroupResult {
    source_missing: Option<String>,
    reports: Vec<DestinationReport>,
}

/// Runs the plan. `src_client` reads the sources, `dest_client` writes the destinations
/// (they may be the same client). [`crate::publish`] does all of a push: load, plan, run.
pub async fn execute_plan(
    engine: &CopyEngine,
    src_client: &Client,
    dest_client: &Client,
    items: &[PushItem],
    plan: &PushPlan,
    opts: &PushOptions,
) -> PushReport {
    let slots = Semaphore::new(opts.groups_at_once.max(1));
    let results: Vec<(usize, GroupResult)> =
        join_all(plan.groups.iter().enumerate().map(|(i, g)| {
            let slots = &slots;
            async move {
                // The semaphore is never closed: a permit always comes.
                let slot = slots.acquire().await.ok();
                (
                    i,
                    push_group(engine, src_client, dest_client, i, g, opts, slot).await,
                )
            }
        }))
        .await;

    let mut item_reports: Vec<ItemReport> = items
        .iter()
        .map(|it| ItemReport {
            name: it.name().to_string(),
            kind: it.kind().to_string(),
            arch: match it {
                PushItem::ContainerImage(i) => i.arch().map(str::to_string),
                PushItem::SourceContainerImage(i) => i.arch().map(str::to_string),
                PushItem::OperatorManifest(_) => None,
            },
            state: PushItemState::Pending,
            destinations: Vec::new(),
            reason: None,
            rejection: None,
            elsewhere: false,
        })
        .collect();
    for r in &plan.rejected {
        let rep = &mut item_reports[r.index];
        if !r.rejection.is_skipped() {
            rep.state = PushItemState::Invalid;
        }
        rep.reason = Some(r.rejection.to_string());
        rep.rejection = Some(r.rejection.clone());
    }
    let mut destinations = Vec::new();
    for (i, result) in results {
        let group = &plan.groups[i];
        let failed: Vec<(&DestinationReport, String)> = result
            .reports
            .iter()
            .filter_map(|d| d.failure().map(|f| (d, f)))
            .collect();
        let (state, reason) = if let Some(missing) = &result.source_missing {
            (PushItemState::NotFound, Some(missing.clone()))
        } else if !failed.is_empty() {
            (
                PushItemState::Failed,
                Some(
                    failed
                        .iter()
                        .map(|(d, f)| format!("{}: {f}", d.destination))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            )
        } else if opts.dry_run {
            (PushItemState::Pending, None)
        } else {
            (PushItemState::Pushed, None)
        };
        for &idx in &group.items {
            let rep = &mut item_reports[idx];
            rep.state = state;
            rep.reason = reason.clone();
            rep.destinations = group.destinations.iter().map(|r| r.to_string()).collect();
        }
        destinations.extend(result.reports);
    }
    PushReport {
        shard: None,
        dry_run: opts.dry_run,
        items: item_reports,
        skipped: Vec::new(),
        destinations,
        stats: engine.stats(),
    }
}

async fn push_group(
    engine: &CopyEngine,
    src_client: &Client,
    dest_client: &Client,
    group_index: usize,
    group: &PushGroup,
    opts: &PushOptions,
    slot: Option<SemaphorePermit<'_>>,
) -> GroupResult {
    let src = CachedSource::new(RegistryRepo::new(
        src_client.repository(group.source.registry(), group.source.repository()),
    ));
    let target = group.source.target();
    let (top, _) = opts
        .retry
        .run(|_| async { Ok::<_, WorkflowError>(src.manifest(&target).await?) })
        .await;
    let top = match top {
        Ok(t) => t,
        Err(e) => {
            let missing = e.is_not_found();
            let reports = group
                .destinations
                .iter()
                .map(|d| DestinationReport {
                    destination: d.to_string(),
                    source: group.source.to_string(),
                    action: DestinationAction::Failed,
                    digest: None,
                    attempts: 1,
                    error: Some(format!("source {}: {e}", group.source)),
                    signatures: Vec::new(),
                })
                .collect();
            return GroupResult {
                source_missing: missing.then(|| format!("source {} not found", group.source)),
                reports,
            };
        }
    };
    src.remember(&top);
    let multi = match group.kind {
        GroupKind::SourceImage | GroupKind::SingleArch => false,
        GroupKind::MultiArch | GroupKind::Unknown => top.media_type().is_index(),
    };
    let merge = multi && group.multiarch == MultiArch::Merge;
    let src = Arc::new(src);
    let dests: Vec<RegistryRepo> = group
        .destinations
        .iter()
        .map(|d| {
            RegistryRepo::new(
                dest_client
                    .repository(d.registry(), d.repository())
                    .for_push(),
            )
        })
        .collect();
    // Writes hold the group's slot; confirmations of merges do not.
    let written = join_all(group.destinations.iter().zip(&dests).map(|(d, dest)| {
        let src = src.clone();
        let top = &top;
        async move {
            match d.tag() {
                Some(tag) => {
                    opts.retry
                        .run(|_| {
                            one_destination(engine, &*src, top, dest, tag, merge, opts.dry_run)
                        })
                        .await
                }
                None => (
                    Err(WorkflowError::Invalid(format!(
                        "destination {d} names no tag"
                    ))),
                    0,
                ),
            }
        }
    }))
    .await;
    drop(slot);
    let reports = join_all(group.destinations.iter().zip(written).map(
        |(d, (result, attempts))| {
            let top = &top;
            async move {
                let result = match result {
                    Ok(Written::Done(a, dg)) => Ok((a, dg)),
                    Ok(Written::Merging(pending)) => pending
                        .confirm()
                        .await
                        .map(|out| (merge_action(&out.action), out.digest)),
                    Err(e) => Err(e),
                };
                let (action, digest, error) = match result {
                    Ok((a, dg)) => (a, Some(dg), None),
                    Err(e) => (DestinationAction::Failed, None, Some(e.to_string())),
                };
                // Signed only once the tag is written and confirmed.
                let signatures = match (&opts.signing, &digest) {
                    (Some(s), Some(dg)) if s.wants(group_index, d) => {
                        let dry = opts.dry_run.then(|| dry_run_digests(dg, top));
                        s.sign_destination(dest_client, group_index, d, dg, dry)
                            .await
                    }
                    _ => Vec::new(),
                };
                DestinationReport {
                    destination: d.to_string(),
                    source: source_name(&group.source, top),
                    action,
                    digest,
                    attempts,
                    error,
                    signatures,
                }
            }
        },
    ))
    .await;
    GroupResult {
        source_missing: None,
        reports,
    }
}

fn source_name(source: &Reference, top: &RawManifest) -> String {
    source
        .repository_ref()
        .with_digest(top.digest().clone())
        .to_string()
}

/// A destination written: done, or a merge still to be confirmed.
enum Written<'a> {
    Done(DestinationAction, Digest),
    Merging(Box<PendingMerge<'a, RegistryRepo>>),
}

fn merge_action(a: &MergeAction) -> DestinationAction {
    match a {
        MergeAction::Unchanged => DestinationAction::Unchanged,
        MergeAction::CopySource => DestinationAction::Copied,
        MergeAction::Merged => DestinationAction::Merged,
        MergeAction::OverwriteImage => DestinationAction::Overwritten,
    }
}

async fn one_destination<'a, S: ImageSource>(
    engine: &CopyEngine,
    src: &S,
    top: &RawManifest,
    dest: &'a RegistryRepo,
    tag: &str,
    merge: bool,
    dry_run: bool,
) -> Result<Written<'a>, WorkflowError> {
    if merge {
        let opts = MergeOptions {
            dry_run,
            ..MergeOptions::default()
        };
        let pending = merge_write(engine, src, top, dest, tag, &opts).await?;
        return Ok(Written::Merging(Box::new(pending)));
    }
    if dry_run {
        let now = dest.resolve_tag(tag).await?;
        let action = if now.as_ref() == Some(top.digest()) {
            DestinationAction::Unchanged
        } else {
            DestinationAction::Copied
        };
        return Ok(Written::Done(action, top.digest().clone()));
    }
    let out = engine.copy_top(src, top.clone(), dest, Some(tag)).await?;
    let action = if out.changed {
        DestinationAction::Copied
    } else {
        DestinationAction::Unchanged
    };
    Ok(Written::Done(action, out.digest))
}
