//! `untag`: remove tags, never the last tag of an image unless asked, and never the other
//! tags of the same manifest.
//!
//! A tag is deleted by name where the registry allows it. Where it does not (distribution
//! 2.x answers that deleting by tag is unsupported, and deleting the manifest by digest
//! would take every tag of it along), the tag is first pointed at a tiny placeholder
//! manifest unique to this removal, and the placeholder is deleted by digest: only the
//! removed tag went with it.
//!
//! With `remove_last`, a manifest left without any tag also loses its cosign attachments
//! (`sha256-<hex>.sig`, `.att`, `.sbom`), and so do the children of a list that no
//! remaining tag reaches any more: as pubtools-quay's untagger, nothing is left signed
//! that no tag names.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use ferry_copy::{attachment_subject, attachment_tags};
use ferry_image::{Descriptor, Digest, Manifest, RawManifest, Reference, Target, media_types};
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
    /// Cosign attachment tags removed because this removal left their manifest (or a
    /// child of this list) without a tag (`--remove-last` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments_removed: Vec<String>,
}

const EMPTY_CONFIG: &[u8] = b"{}";

/// Maps every tag of the repository to its manifest's descriptor (HEAD requests, 8 at a
/// time).
async fn tag_digests(repo: &Repository) -> Result<HashMap<String, Descriptor>, WorkflowError> {
    let tags = repo.tags().await?;
    let pairs: Vec<Result<Option<(String, Descriptor)>, WorkflowError>> =
        futures_util::stream::iter(tags)
            .map(|t| async move {
                let desc = repo.resolve_descriptor(&Target::Tag(t.clone())).await?;
                Ok(desc.map(|d| (t, d)))
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
    let mut repos = Vec::new();
    for ((registry, name), refs) in &by_repo {
        let repo = client.repository(registry, name);
        let tags = tag_digests(&repo).await?;
        let removing: Vec<&str> = refs.iter().filter_map(|r| r.tag()).collect();
        for r in refs {
            let Some(tag) = r.tag() else { continue };
            let Some(digest) = tags.get(tag).map(|d| &d.digest) else {
                return Err(WorkflowError::Invalid(format!("{r}: no such tag")));
            };
            let mut remaining: Vec<String> = tags
                .iter()
                .filter(|(t, d)| &d.digest == digest && !removing.contains(&t.as_str()))
                .map(|(t, _)| t.clone())
                .collect();
            remaining.sort();
            if remaining.is_empty() && !remove_last {
                last.push(r.to_string());
            }
            plans.push((repos.len(), (*r).clone(), digest.clone(), remaining));
        }
        let removing: HashSet<String> = removing.into_iter().map(str::to_string).collect();
        repos.push((repo, tags, removing));
    }
    if !last.is_empty() {
        return Err(WorkflowError::LastTag(last));
    }
    let mut out = Vec::new();
    let mut untagged: Vec<(usize, Digest, usize)> = Vec::new();
    for (at, reference, digest, remaining_tags) in plans {
        let Some(tag) = reference.tag() else { continue };
        let Some((repo, _, _)) = repos.get(at) else {
            continue;
        };
        let method = remove_one(repo, &reference, tag).await?;
        if remaining_tags.is_empty() && !untagged.iter().any(|(a, d, _)| *a == at && *d == digest) {
            untagged.push((at, digest.clone(), out.len()));
        }
        out.push(UntagOutcome {
            reference: reference.to_string(),
            digest,
            remaining_tags,
            method,
            attachments_removed: Vec::new(),
        });
    }
    // The tags are gone; now the attachments of what no tag names any more.
    for (at, digest, outcome) in untagged {
        let Some((repo, tags, removing)) = repos.get(at) else {
            continue;
        };
        let removed = remove_attachments(repo, tags, removing, &digest)
            .await
            .map_err(|e| WorkflowError::Partial {
                done: format!(
                    "{}/{}: the tags of {digest} are removed, but removing its attachments failed",
                    repo.registry(),
                    repo.name()
                ),
                source: Box::new(e),
            })?;
        if let Some(o) = out.get_mut(outcome) {
            o.attachments_removed = removed;
        }
    }
    Ok(out)
}

/// Removes the attachments of `digest`, which lost its last tag (`tags` is the repository
/// as it was, `removing` the tags this call removed), and, for a list, those of each child
/// that no remaining tag reaches (directly or through a remaining list). An attachment
/// manifest is deleted by digest when no other tag names it, else only its tag goes.
async fn remove_attachments(
    repo: &Repository,
    tags: &HashMap<String, Descriptor>,
    removing: &HashSet<String>,
    digest: &Digest,
) -> Result<Vec<String>, WorkflowError> {
    let present: BTreeSet<&String> = tags
        .keys()
        .filter(|t| !removing.contains(*t) && attachment_subject(t).is_some())
        .collect();
    if present.is_empty() {
        return Ok(Vec::new());
    }
    // What the remaining (non-attachment) tags still reach: their manifests and the
    // children of their lists. A manifest reached that way keeps its attachments (a
    // platform of a list still tagged stays verifiable).
    let remaining: Vec<&Descriptor> = tags
        .iter()
        .filter(|(t, _)| !removing.contains(*t) && attachment_subject(t).is_none())
        .map(|(_, d)| d)
        .collect();
    let mut reached: HashSet<Digest> = remaining.iter().map(|d| d.digest.clone()).collect();
    let mut lists: Vec<&Digest> = remaining
        .iter()
        .filter(|d| d.media_type.is_index())
        .map(|d| &d.digest)
        .collect();
    lists.sort();
    lists.dedup();
    for list in lists {
        reached.extend(children(repo, list).await?.unwrap_or_default());
    }
    let mut subjects = vec![digest.clone()];
    if let Some(kids) = children(repo, digest).await? {
        subjects.extend(kids);
    }
    subjects.retain(|s| !reached.contains(s));
    let mut removed = Vec::new();
    for subject in &subjects {
        for tag in attachment_tags(subject) {
            if !present.contains(&tag) {
                continue;
            }
            let Some(desc) = tags.get(&tag) else { continue };
            let shared = tags
                .iter()
                .any(|(t, d)| t != &tag && !removing.contains(t) && d.digest == desc.digest);
            if shared {
                let reference =
                    Reference::parse(&format!("{}/{}:{tag}", repo.registry(), repo.name()))
                        .map_err(|e| WorkflowError::Invalid(e.to_string()))?;
                remove_one(repo, &reference, &tag).await?;
            } else {
                match repo.delete_manifest(&desc.digest).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
            }
            removed.push(tag);
        }
    }
    Ok(removed)
}

/// The child manifests of `digest` when it is a list, `None` when it is not.
async fn children(
    repo: &Repository,
    digest: &Digest,
) -> Result<Option<Vec<Digest>>, WorkflowError> {
    let raw = repo.get_manifest(&Target::Digest(digest.clone())).await?;
    match raw.parse() {
        Ok(Manifest::Index(index)) => Ok(Some(
            index
                .manifests
                .iter()
                .filter(|c| c.media_type.is_manifest())
                .map(|c| c.digest.clone())
                .collect(),
        )),
        Ok(_) => Ok(None),
        Err(e) => Err(WorkflowError::Invalid(format!("manifest {digest}: {e}"))),
    }
}
