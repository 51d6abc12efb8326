//! `sync`: every tag of a repository, concurrently, skipping what is already there.

use ferry_image::Target;
use futures_util::StreamExt;

use crate::attachments::{AttachmentCopy, Attachments, attachment_subject};
use crate::engine::{CopyEngine, CopyOutcome};
use crate::error::ResultExt;
use crate::stats::Stats;
use crate::traits::{ImageDestination, ImageSource};
use crate::{CopyError, Result};

/// The result of syncing one tag.
#[derive(Debug)]
pub struct SyncItem {
    /// The tag.
    pub tag: String,
    /// What happened (an error also when the image landed but an attachment failed).
    pub result: Result<CopyOutcome>,
    /// The cosign attachments carried with it.
    pub attachments: Vec<AttachmentCopy>,
}

/// Copies each of `tags` from `src` to `dest` (same tag), `images` at a time. A tag whose
/// destination already holds the source digest costs one HEAD at each side.
///
/// Cosign attachment tags (`sha256-<hex>.sig`, `.att`, `.sbom`) among `tags` are not
/// copied as tags of their own: with `attachments`, each travels after the image it
/// belongs to has landed (see [`Attachments`]); without, they stay behind.
pub async fn sync<S: ImageSource, D: ImageDestination>(
    engine: &CopyEngine,
    src: &S,
    dest: &D,
    tags: Vec<String>,
    images: usize,
    attachments: Option<&Attachments>,
) -> Vec<SyncItem> {
    let filtered = !engine.options().platforms.is_empty();
    let tags = tags.into_iter().filter(|t| attachment_subject(t).is_none());
    let mut out: Vec<SyncItem> = futures_util::stream::iter(tags)
        .map(|tag| async move {
            let mut carried = Vec::new();
            let mut result = sync_one(engine, src, dest, &tag, filtered).await;
            if let (Ok(outcome), Some(a)) = (&result, attachments) {
                let target = Target::Tag(tag.clone());
                match a.carry(engine, src, &target, dest, outcome).await {
                    Ok(c) => carried = c,
                    Err(e) => {
                        result = Err(e.context(format!(
                            "{}:{tag} holds {} now, but its attachments did not follow",
                            dest.describe(),
                            outcome.digest
                        )))
                    }
                }
            }
            SyncItem {
                tag,
                result,
                attachments: carried,
            }
        })
        .buffer_unordered(images.max(1))
        .collect()
        .await;
    out.sort_by(|a, b| a.tag.cmp(&b.tag));
    out
}

async fn sync_one<S: ImageSource, D: ImageDestination>(
    engine: &CopyEngine,
    src: &S,
    dest: &D,
    tag: &str,
    filtered: bool,
) -> Result<CopyOutcome> {
    let target = Target::Tag(tag.to_string());
    if filtered {
        return engine.copy(src, &target, dest, Some(tag)).await;
    }
    let what = || format!("tag {tag}");
    let (have, want) =
        futures_util::future::join(dest.resolve_tag(tag), src.resolve(&target)).await;
    let have = have.ctx(what)?;
    let want = want.ctx(what)?.ok_or_else(|| CopyError::NotFound {
        what: format!("tag {tag}"),
        location: src.describe(),
    })?;
    if have.as_ref() == Some(&want.digest) {
        Stats::add(&engine.raw_stats().images_unchanged, 1);
        engine.progress().image_finished(
            &format!("{}:{tag}", dest.describe()),
            &want.digest,
            false,
        );
        return Ok(CopyOutcome {
            digest: want.digest,
            media_type: want.media_type,
            changed: false,
        });
    }
    engine
        .copy_to_known_tag(src, &target, dest, tag, have)
        .await
}
