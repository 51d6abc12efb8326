//! Cosign attachments travel with their image.
//!
//! cosign stores what it attaches to manifest `sha256:<hex>` in the manifest's own
//! repository, as OCI image manifests under the tags `sha256-<hex>.sig` (signatures),
//! `sha256-<hex>.att` (attestations) and `sha256-<hex>.sbom` (SBOMs). A copy that leaves
//! them behind loses the signatures: [`Attachments::carry`] copies, after an image has
//! landed, the attachments its source repository holds for it (for a list: the list's and
//! each child's), as ordinary images under the same tags, digests preserved.
//!
//! The source repository's tag list is read once per run and tells which attachments
//! exist; where it cannot be read, each candidate tag is asked for. A missing attachment is
//! normal and skipped. An attachment is copied once per destination in a run, and not at
//! all when the destination tag already holds it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use ferry_image::{Digest, Manifest, Target};
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::Result;
use crate::engine::{CopyEngine, CopyOutcome};
use crate::error::ResultExt;
use crate::stats::Stats;
use crate::traits::{ImageDestination, ImageSource};

/// The suffixes of cosign's attachment tags: signatures, attestations, SBOMs.
pub const ATTACHMENT_SUFFIXES: [&str; 3] = ["sig", "att", "sbom"];

/// Attachments copied at once.
const CONCURRENCY: usize = 8;

/// The attachment tags of `subject`: `sha256-<hex>.sig`, `.att`, `.sbom`.
pub fn attachment_tags(subject: &Digest) -> [String; 3] {
    ATTACHMENT_SUFFIXES.map(|s| format!("{}-{}.{s}", subject.algorithm().name(), subject.hex()))
}

/// The digest an attachment tag belongs to (`sha256-<hex>.sig` is of `sha256:<hex>`), or
/// `None` when `tag` is not an attachment tag.
pub fn attachment_subject(tag: &str) -> Option<Digest> {
    let (stem, suffix) = tag.rsplit_once('.')?;
    if !ATTACHMENT_SUFFIXES.contains(&suffix) {
        return None;
    }
    let (algorithm, hex) = stem.split_once('-')?;
    Digest::parse(&format!("{algorithm}:{hex}")).ok()
}

/// One attachment carried to the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentCopy {
    /// The attachment tag (`sha256-<hex>.sig`...).
    pub tag: String,
    /// The manifest it is attached to.
    pub subject: Digest,
    /// The attachment manifest's digest (the same at both ends).
    pub digest: Digest,
    /// Whether the destination changed (false: the tag already held this digest).
    pub changed: bool,
}

/// Per (destination store, attachment tag): whether this run has carried it. The async
/// lock makes a second caller wait for the first.
type Carried = Mutex<HashMap<(String, String), Arc<tokio::sync::Mutex<bool>>>>;

/// Carries cosign attachments for one run (one source repository): create one per run and
/// call [`carry`](Self::carry) after each image landed.
#[derive(Default)]
pub struct Attachments {
    source_tags: OnceCell<Option<HashSet<String>>>,
    done: Carried,
}

impl Attachments {
    /// Reads the source repository's tag list on first use.
    pub fn new() -> Self {
        Attachments::default()
    }

    /// Uses `tags`, the source repository's tag list the caller already read.
    pub fn with_source_tags(tags: &[String]) -> Self {
        Attachments {
            source_tags: OnceCell::new_with(Some(Some(tags.iter().cloned().collect()))),
            done: Mutex::default(),
        }
    }

    /// The source's tags, `None` when they cannot be listed (then each candidate is asked).
    async fn source_tags<S: ImageSource>(&self, src: &S) -> Option<&HashSet<String>> {
        self.source_tags
            .get_or_init(|| async {
                // A registry that refuses to list tags still answers for each one.
                src.tags().await.ok().map(|tags| tags.into_iter().collect())
            })
            .await
            .as_ref()
    }

    /// Copies the attachments of the image `copied` (copied from `src_target` of `src`, so
    /// already at `dest`): those of its top manifest and, for a list, of each child. Only
    /// between registries (an OCI layout or archive has no attachment tags). Returns what
    /// this call carried; an attachment another call of this run carried is not repeated.
    pub async fn carry<S: ImageSource, D: ImageDestination>(
        &self,
        engine: &CopyEngine,
        src: &S,
        src_target: &Target,
        dest: &D,
        copied: &CopyOutcome,
    ) -> Result<Vec<AttachmentCopy>> {
        if src.repo_id().is_none() || ImageDestination::repo_id(dest).is_none() {
            return Ok(Vec::new());
        }
        let known = self.source_tags(src).await;
        if known.is_some_and(|tags| !tags.iter().any(|t| attachment_subject(t).is_some())) {
            return Ok(Vec::new());
        }
        let mut subjects = vec![copied.digest.clone()];
        if copied.media_type.is_index() {
            // The list as it was copied (after the platform filter): its children.
            let raw = src.manifest(src_target).await?;
            let raw = engine.select_platforms(src, raw).await?;
            if raw.digest() == &copied.digest
                && let Manifest::Index(index) = raw.parse()?
            {
                subjects.extend(
                    index
                        .manifests
                        .iter()
                        .filter(|c| c.media_type.is_manifest())
                        .map(|c| c.digest.clone()),
                );
            }
        }
        let candidates: Vec<(Digest, String)> = subjects
            .iter()
            .flat_map(|s| attachment_tags(s).map(|t| (s.clone(), t)))
            .filter(|(_, t)| known.is_none_or(|tags| tags.contains(t)))
            .collect();
        let carried: Vec<Option<AttachmentCopy>> = futures_util::stream::iter(candidates)
            .map(|(subject, tag)| self.copy_one(engine, src, dest, subject, tag))
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        let mut carried: Vec<AttachmentCopy> = carried.into_iter().flatten().collect();
        carried.sort_by(|a, b| a.tag.cmp(&b.tag));
        Ok(carried)
    }

    /// Copies the attachment `tag` of `subject`, once per destination in this run.
    async fn copy_one<S: ImageSource, D: ImageDestination>(
        &self,
        engine: &CopyEngine,
        src: &S,
        dest: &D,
        subject: Digest,
        tag: String,
    ) -> Result<Option<AttachmentCopy>> {
        let cell = self
            .done
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((dest.dedup_key(), tag.clone()))
            .or_default()
            .clone();
        let mut done = cell.lock().await;
        if *done {
            return Ok(None);
        }
        let what = || format!("attachment {}:{tag}", dest.describe());
        let target = Target::Tag(tag.clone());
        let (raw, have) =
            futures_util::future::join(src.manifest(&target), dest.resolve_tag(&tag)).await;
        let raw = match raw {
            Ok(raw) => raw,
            // Listed but gone since, or not there when asked for: nothing to carry.
            Err(e) if e.is_not_found() => {
                *done = true;
                return Ok(None);
            }
            Err(e) => return Err(e.context(what())),
        };
        let have = have.ctx(what)?;
        let carried = |changed| AttachmentCopy {
            tag: tag.clone(),
            subject: subject.clone(),
            digest: raw.digest().clone(),
            changed,
        };
        if have.as_ref() == Some(raw.digest()) {
            *done = true;
            return Ok(Some(carried(false)));
        }
        if have.is_none() {
            engine.copy_children_for_new_tag(src, &raw, dest).await
        } else {
            engine.copy_children(src, &raw, dest).await
        }
        .ctx(what)?;
        dest.put_manifest(&raw, &target).await.ctx(what)?;
        Stats::add(&engine.raw_stats().manifests_written, 1);
        Stats::add(&engine.raw_stats().attachments_copied, 1);
        *done = true;
        Ok(Some(carried(true)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_subjects_round_trip() {
        let d = Digest::sha256(b"x");
        let tags = attachment_tags(&d);
        assert_eq!(tags[0], format!("sha256-{}.sig", d.hex()));
        assert_eq!(tags[2], format!("sha256-{}.sbom", d.hex()));
        for t in &tags {
            assert_eq!(attachment_subject(t), Some(d.clone()));
        }
        for not in [
            "latest",
            "sha256-abc.sig",
            &format!("sha256-{}.tar", d.hex()),
            &format!("sha256-{}", d.hex()),
            &format!("md5-{}.sig", d.hex()),
        ] {
            assert_eq!(attachment_subject(not), None, "{not}");
        }
    }
}
