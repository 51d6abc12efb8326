//! `untag`: remove tags, never the last tag of an image unless asked, and never the other
//! tags of the same manifest.
//!
//! A tag is deleted by name where the registry allows it. Where it does not (distribution
//! 2.x answers that deleting by tag is unsupported, and deleting the manifest by digest
//! would take every tag of it along), the tag is first pointed at a tiny placeholder
//! manifest unique to this removal, and the placeholder is deleted by digest: only the
//! removed tag went with it.

use std::collections::{BTreeMap, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ferry_image::{Digest, RawManifest, Reference, Target, media_types};
use ferry_registry::{BytesOpener, Client, Repository};
use futures_util::StreamExt;
use serde::Serialize;

use super::WorkflowError;

/// How the tag was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UntagMethod {
    /// `DELETE` of the tag by name.
    DeleteTag,
    /// Re-pointed at a placeholder, which was then deleted by digest.
    Placeholder,
}

/// What was removed.
#[derive(Debug, Clone, Serialize)]
pub struct UntagOutcome {
    /// The tag removed.
    pub reference: String,
    /// The manifest it pointed at (which stays).
    pub digest: Digest,
    /// Tags still pointing at that manifest.
    pub remaining_tags: Vec<String>,
    /// How.
    pub method: UntagMethod,
}

const EMPTY_CONFIG: &[u8] = b"{}";

/// Maps every tag of the repository to its digest (HEAD requests, 8 at a time).
async fn tag_digests(repo: &Repository) -> Result<HashMap<String, Digest>, WorkflowError> {
    let tags = repo.tags().await?;
    let pairs: Vec<Result<Option<(String, Digest)>, WorkflowError>> =
        futures_util::stream::iter(tags)
            .map(|t| async move {
                let digest = repo.resolve_digest(&Target::Tag(t.clone())).await?;
                Ok(digest.map(|d| (t, d)))
            })
            .buffer_unordered(8)
            .collect()
            .await;
    let mut map = HashMap::new();
    for p in pairs {
        if let Some((t, d)) = p? {
            map.insert(t, d);
        }
    }
    Ok(map)
}

/// A placeholder manifest nobody else can have: an empty OCI image with an annotation
/// naming this removal.
fn placeholder(reference: &Reference) -> Result<RawManifest, WorkflowError> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_MANIFEST,
        "config": {
            "mediaType": media_types::OCI_CONFIG,
            "size": EMPTY_CONFIG.len(),
            "digest": Digest::sha256(EMPTY_CONFIG),
        },
        "layers": [],
        "annotations": {
            "io.ferry.untag.placeholder": format!("{reference} {nanos} {}", std::process::id()),
        },
    });
    let bytes = serde_json::to_vec(&body).map_err(|e| WorkflowError::Invalid(e.to_string()))?;
    RawManifest::new(bytes, Some(media_types::OCI_MANIFEST))
        .map_err(|e| WorkflowError::Invalid(e.to_string()))
}

async fn remove_one(
    repo: &Repository,
    reference: &Reference,
    tag: &str,
) -> Result<UntagMethod, WorkflowError> {
    match repo.delete_tag(tag).await {
        Ok(()) => return Ok(UntagMethod::DeleteTag),
        Err(e) if e.is_unsupported() => {}
        Err(e) => return Err(e.into()),
    }
    let config = Digest::sha256(EMPTY_CONFIG);
    if repo.blob_exists(&config).await?.is_none() {
        repo.upload_blob(
            &config,
            EMPTY_CONFIG.len() as u64,
            &BytesOpener(Bytes::from_static(EMPTY_CONFIG)),
        )
        .await?;
    }
    let p = placeholder(reference)?;
    repo.put_manifest(&Target::Tag(tag.to_string()), &p).await?;
    repo.delete_manifest(p.digest()).await?;
    Ok(UntagMethod::Placeholder)
}

/// Removes the tags `refs` (each must name a tag). Every check happens before any removal:
/// a tag that is the last one of its manifest (counting the other removals of this call)
/// stops the whole call unless `remove_last`.
pub async fn untag(
    client: &Client,
    refs: &[Reference],
    remove_last: bool,
) -> Result<Vec<UntagOutcome>, WorkflowError> {
    let mut by_repo: BTreeMap<(String, String), Vec<&Reference>> = BTreeMap::new();
    for r in refs {
        if r.tag().is_none() || r.digest().is_some() {
            return Err(WorkflowError::Invalid(format!(
                "{r}: untag takes REPO:TAG references (no digest)"
            )));
        }
        by_repo
            .entry((r.registry().to_string(), r.repository().to_string()))
            .or_default()
            .push(r);
    }
    let mut plans = Vec::new();
    let mut last = Vec::new();
    for ((registry, name), refs) in &by_repo {
        let repo = client.repository(registry, name);
        let tags = tag_digests(&repo).await?;
        let removing: Vec<&str> = refs.iter().filter_map(|r| r.tag()).collect();
        for r in refs {
            let tag = r.tag().expect("checked");
            let Some(digest) = tags.get(tag) else {
                return Err(WorkflowError::Invalid(format!("{r}: no such tag")));
            };
            let mut remaining: Vec<String> = tags
                .iter()
                .filter(|(t, d)| *d == digest && !removing.contains(&t.as_str()))
                .map(|(t, _)| t.clone())
                .collect();
            remaining.sort();
            if remaining.is_empty() && !remove_last {
                last.push(r.to_string());
            }
            plans.push((repo.clone(), (*r).clone(), digest.clone(), remaining));
        }
    }
    if !last.is_empty() {
        return Err(WorkflowError::LastTag(last));
    }
    let mut out = Vec::new();
    for (repo, reference, digest, remaining_tags) in plans {
        let tag = reference.tag().expect("checked").to_string();
        let method = remove_one(&repo, &reference, &tag).await?;
        out.push(UntagOutcome {
            reference: reference.to_string(),
            digest,
            remaining_tags,
            method,
        });
    }
    Ok(out)
}
