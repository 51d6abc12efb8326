//! The manifest-list merger: pubtools-quay's `ManifestListMerger`, with its defects fixed.
//!
//! Pure logic, no I/O: given the source list and what the destination tag holds, it says
//! what the tag must hold afterwards. The executor (`workflows::merge`) fetches, copies the
//! source's images first, writes, and re-merges when a concurrent writer raced it.
//!
//! - Key: the normalized platform (os, architecture, variant, os.version), so `arm64`
//!   without a variant equals `arm64/v8`; [`MergeKey::Arch`] keeps the original's
//!   architecture-only key.
//! - Result: every source entry, then every destination entry whose key the source lacks.
//!   Top-level fields and media type come from the source.
//! - With eligible architectures (`--archs`, the tag workflow's variant): the source entries
//!   whose architecture is eligible, then the destination entries whose architecture was
//!   not added. When no source architecture is eligible, a destination is left as it is
//!   (`Unchanged`, with a note saying why); with no destination that is an error.
//! - Nothing missing, or no destination: the result is exactly the source list (same bytes,
//!   same digest). A destination holding a single image is overwritten (with a warning).
//! - Same inputs, same bytes; a result equal to what the tag holds is not written.

use std::collections::HashSet;

use ferry_image::{Descriptor, IndexManifest, Manifest, RawManifest};
use serde::Serialize;

/// How entries are matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeKey {
    /// Normalized (os, architecture, variant, os.version).
    #[default]
    Platform,
    /// Normalized architecture only (the original merger).
    Arch,
}

impl std::str::FromStr for MergeKey {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "platform" => Ok(MergeKey::Platform),
            "arch" => Ok(MergeKey::Arch),
            other => Err(format!("unknown merge key {other:?}: use platform or arch")),
        }
    }
}

/// What the merge decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeAction {
    /// The destination already holds the result: nothing to write.
    Unchanged,
    /// The destination gets the source list as is.
    CopySource,
    /// The destination gets a new, merged list.
    Merged,
    /// The destination held a single image, which the source list replaces.
    OverwriteImage,
}

/// The merge plan.
#[derive(Debug, Clone)]
pub struct MergePlan {
    /// What to do.
    pub action: MergeAction,
    /// The list the tag must hold afterwards.
    pub result: RawManifest,
    /// Source entries the result holds (all of them, or the eligible ones).
    pub from_source: Vec<Descriptor>,
    /// Destination entries kept because the source lacks their platform.
    pub kept_from_destination: Vec<Descriptor>,
    /// Source entries left out because their architecture was not eligible.
    pub not_eligible: Vec<Descriptor>,
    /// Why the plan is what it is, when that is not obvious (for reports): say, no source
    /// architecture is eligible and the destination keeps what it has.
    pub note: Option<String>,
}

/// Errors of the merger.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MergeError {
    /// The source is not a list or index.
    #[error("the source {0} is not a manifest list or index")]
    SourceNotList(String),
    /// The merged list could not be serialized.
    #[error("building the merged list: {0}")]
    Build(String),
    /// No source entry is eligible.
    #[error("none of the source's architectures ({have}) is among the eligible ones ({eligible})")]
    NothingEligible {
        /// The source's architectures.
        have: String,
        /// The eligible ones.
        eligible: String,
    },
}

fn key_of(d: &Descriptor, by: MergeKey) -> String {
    match (&d.platform, by) {
        (Some(p), MergeKey::Platform) => {
            let (os, arch, variant, version) = p.key();
            format!(
                "{os}/{arch}/{}/{}",
                variant.unwrap_or_default(),
                version.unwrap_or_default()
            )
        }
        (Some(p), MergeKey::Arch) => p.arch_key(),
        // An entry without a platform is matched by its digest only.
        (None, _) => format!("digest:{}", d.digest),
    }
}

fn arch_of(d: &Descriptor) -> Option<String> {
    d.platform.as_ref().map(|p| p.arch_key())
}

/// Plans the merge of `source` (a list or index) onto `destination` (what the tag holds,
/// if anything). `eligible`: the architectures allowed from the source (None = all).
pub fn plan_merge(
    source: &RawManifest,
    destination: Option<&RawManifest>,
    by: MergeKey,
    eligible: Option<&[String]>,
) -> Result<MergePlan, MergeError> {
    let Ok(Manifest::Index(src)) = source.parse() else {
        return Err(MergeError::SourceNotList(source.digest().to_string()));
    };
    let eligible: Option<HashSet<String>> = eligible.map(|a| {
        a.iter()
            .map(|x| ferry_image::Platform::new("linux", x, None).arch_key())
            .collect()
    });
    let (taken, not_eligible): (Vec<Descriptor>, Vec<Descriptor>) = match &eligible {
        None => (src.manifests.clone(), Vec::new()),
        Some(set) => src
            .manifests
            .iter()
            .cloned()
            .partition(|d| arch_of(d).is_some_and(|a| set.contains(&a))),
    };
    if let Some(set) = &eligible
        && taken.is_empty()
    {
        let mut have: Vec<String> = src.manifests.iter().filter_map(arch_of).collect();
        have.sort();
        have.dedup();
        let mut want: Vec<String> = set.iter().cloned().collect();
        want.sort();
        let (have, eligible) = (have.join(","), want.join(","));
        // Nothing of the source is to be added: a destination keeps what it has (the tag
        // workflow relies on this being a no-op); without one there is nothing to write.
        let Some(dest) = destination else {
            return Err(MergeError::NothingEligible { have, eligible });
        };
        let kept = match dest.parse() {
            Ok(Manifest::Index(i)) => i.manifests,
            _ => Vec::new(),
        };
        return Ok(MergePlan {
            action: MergeAction::Unchanged,
            result: dest.clone(),
            from_source: Vec::new(),
            kept_from_destination: kept,
            not_eligible: src.manifests.clone(),
            note: Some(format!(
                "none of the source's architectures ({have}) is among the eligible ones \
                 ({eligible}): the destination keeps what it has"
            )),
        });
    }
    let dest_index = match destination.map(|d| (d, d.parse())) {
        Some((_, Ok(Manifest::Index(i)))) => Some(i),
        _ => None,
    };
    let overwrite_image = destination.is_some() && dest_index.is_none();
    let kept: Vec<Descriptor> = match &dest_index {
        None => Vec::new(),
        Some(dest) => {
            if eligible.is_some() {
                let added: HashSet<String> = taken.iter().filter_map(arch_of).collect();
                dest.manifests
                    .iter()
                    .filter(|d| match arch_of(d) {
                        Some(a) => !added.contains(&a),
                        None => !taken.iter().any(|t| t.digest == d.digest),
                    })
                    .cloned()
                    .collect()
            } else {
                let keys: HashSet<String> = taken.iter().map(|d| key_of(d, by)).collect();
                dest.manifests
                    .iter()
                    .filter(|d| !keys.contains(&key_of(d, by)))
                    .cloned()
                    .collect()
            }
        }
    };
    let result = if kept.is_empty() && not_eligible.is_empty() {
        source.clone()
    } else {
        let merged = IndexManifest {
            manifests: taken.iter().cloned().chain(kept.iter().cloned()).collect(),
            ..src.clone()
        };
        merged
            .to_raw()
            .map_err(|e| MergeError::Build(e.to_string()))?
    };
    // The tag already holds the same entries (in another order, say after concurrent
    // merges) under the same top-level fields: keep it as it is.
    let result = match (destination, &dest_index) {
        (Some(d), Some(di)) if same_content(&result, di) => d.clone(),
        _ => result,
    };
    let action = if destination.is_some_and(|d| d.digest() == result.digest()) {
        MergeAction::Unchanged
    } else if overwrite_image {
        MergeAction::OverwriteImage
    } else if result.digest() == source.digest() {
        MergeAction::CopySource
    } else {
        MergeAction::Merged
    };
    Ok(MergePlan {
        action,
        result,
        from_source: taken,
        kept_from_destination: kept,
        not_eligible,
        note: None,
    })
}

/// The part of `source` (a list) whose images a merge with these eligible architectures
/// may add: the whole list without `eligible`, a list of the eligible entries, or `None`
/// when no entry is eligible. The executor copies only these images.
pub fn eligible_part(
    source: &RawManifest,
    eligible: Option<&[String]>,
) -> Result<Option<RawManifest>, MergeError> {
    let Some(eligible) = eligible else {
        return Ok(Some(source.clone()));
    };
    let Ok(Manifest::Index(src)) = source.parse() else {
        return Err(MergeError::SourceNotList(source.digest().to_string()));
    };
    let set: HashSet<String> = eligible
        .iter()
        .map(|x| ferry_image::Platform::new("linux", x, None).arch_key())
        .collect();
    let taken: Vec<Descriptor> = src
        .manifests
        .iter()
        .filter(|d| arch_of(d).is_some_and(|a| set.contains(&a)))
        .cloned()
        .collect();
    if taken.is_empty() {
        return Ok(None);
    }
    if taken.len() == src.manifests.len() {
        return Ok(Some(source.clone()));
    }
    let part = IndexManifest {
        manifests: taken,
        ..src
    };
    part.to_raw()
        .map(Some)
        .map_err(|e| MergeError::Build(e.to_string()))
}

/// Whether `a` and `b` hold the same entries (in any order) under the same media type,
/// annotations and subject.
fn same_content(a: &RawManifest, b: &IndexManifest) -> bool {
    let Ok(Manifest::Index(a)) = a.parse() else {
        return false;
    };
    let key = |d: &Descriptor| serde_json::to_string(d).unwrap_or_default();
    let mut x: Vec<String> = a.manifests.iter().map(key).collect();
    let mut y: Vec<String> = b.manifests.iter().map(key).collect();
    x.sort();
    y.sort();
    a.media_type == b.media_type
        && a.annotations == b.annotations
        && a.subject == b.subject
        && x == y
}

/// Whether `list` (what a tag holds) still has every entry of `required` (by digest):
/// the check after a write that a concurrent merge did not drop this merge's images.
pub fn holds_all(list: &RawManifest, required: &[Descriptor]) -> bool {
    let Ok(Manifest::Index(i)) = list.parse() else {
        return false;
    };
    required
        .iter()
        .all(|r| i.manifests.iter().any(|m| m.digest == r.digest))
}

#[cfg(test)]
#[path = "listmerge_tests.rs"]
mod tests;
