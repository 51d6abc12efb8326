//! The push planner: push items and target settings in, the groups to push and where,
//! out. Pure data, no I/O: testable as tables and printable as a dry run.
//!
//! - Each item's destinations: an entry `REPO:TAG` of `dest` is that tag; an entry `REPO`
//!   is every tag of `source_tags`. The reference is `{registry}/{namespace}/{REPO}:{TAG}`,
//!   REPO flattened (`a/b` → `a----b`) with `repo_layout: flat`.
//! - Items are grouped by their source image: the most preferred digest spec (the list's,
//!   for the per-arch items of a multi-arch image), else the first tag spec. A group is
//!   pushed once per destination tag.
//! - Operator manifest items are refused (or skipped), items that cannot be planned are
//!   INVALID and never pushed.

use ferry_image::{MediaType, Reference};
use serde::Serialize;

use crate::settings::{MultiArch, TargetSettings};
use ferry_items::{ContainerImagePullInfo, PushItem};

/// What kind of image a group pushes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupKind {
    /// A source container image: copied as is, never merged.
    SourceImage,
    /// A single-architecture image: copied.
    SingleArch,
    /// A manifest list or index: merged or overwritten by the settings.
    MultiArch,
    /// Not known from the items (no media type): decided by what the registry serves.
    Unknown,
}

/// One source image and every destination tag it goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushGroup {
    /// The source, by digest when the items give one.
    pub source: Reference,
    /// The kind of image.
    pub kind: GroupKind,
    /// Indices of the items in this group, in input order.
    pub items: Vec<usize>,
    /// Destination references with their tags, in first-seen order.
    pub destinations: Vec<Reference>,
    /// The multi-arch policy that applies (multi-arch and unknown kinds).
    pub multiarch: MultiArch,
}

/// Why an item is not pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "reason", rename_all = "kebab-case")]
pub enum Rejection {
    /// The item is invalid (or cannot be planned): reported INVALID, never pushed.
    Invalid(String),
    /// ferry cannot push this kind of item: the push is refused unless such items are
    /// skipped.
    Unsupported(String),
    /// An unsupported item left out on request (`skip_unsupported`): not a failure.
    Skipped(String),
}

impl Rejection {
    /// The reason, without the kind.
    pub fn reason(&self) -> &str {
        match self {
            Rejection::Invalid(r) | Rejection::Unsupported(r) | Rejection::Skipped(r) => r,
        }
    }

    /// Whether the item was left out on request, which is not a failure.
    pub fn is_skipped(&self) -> bool {
        matches!(self, Rejection::Skipped(_))
    }
}

impl std::fmt::Display for Rejection {
    /// `REASON` for an invalid item, `unsupported: REASON`, `skipped: unsupported: REASON`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Invalid(r) => f.write_str(r),
            Rejection::Unsupported(r) => write!(f, "unsupported: {r}"),
            Rejection::Skipped(r) => write!(f, "skipped: unsupported: {r}"),
        }
    }
}

/// An item that is not pushed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// Index of the item.
    pub index: usize,
    /// Its name.
    pub name: String,
    /// Why.
    pub rejection: Rejection,
}

/// The plan of a push.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushPlan {
    /// What to push.
    pub groups: Vec<PushGroup>,
    /// What not to push.
    pub rejected: Vec<Rejected>,
}

impl PushPlan {
    /// Whether an item was refused as unsupported (operator items without
    /// `--skip-unsupported`).
    pub fn unsupported(&self) -> impl Iterator<Item = &Rejected> {
        self.rejected
            .iter()
            .filter(|r| matches!(r.rejection, Rejection::Unsupported(_)))
    }
}

/// The destination references of one item.
pub fn destinations(
    dest: &[String],
    source_tags: &[String],
    settings: &TargetSettings,
) -> Result<Vec<Reference>, String> {
    Ok(destinations_with_repos(dest, source_tags, settings)?
        .into_iter()
        .map(|(r, _)| r)
        .collect())
}

/// The destination references of one item, each with the repository as the item names it
/// (`product/app`, before the namespace and the flat layout apply): the name a signature's
/// identity on a reference registry uses.
pub(crate) fn destinations_with_repos(
    dest: &[String],
    source_tags: &[String],
    settings: &TargetSettings,
) -> Result<Vec<(Reference, String)>, String> {
    if dest.is_empty() {
        return Err("no dest: nowhere to push".into());
    }
    let mut out: Vec<(Reference, String)> = Vec::new();
    for entry in dest {
        let entry = entry.trim();
        let (repo, tags): (&str, Vec<&str>) = match entry.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, vec![tag]),
            _ => {
                if source_tags.is_empty() {
                    return Err(format!(
                        "dest {entry:?} names no tag and source_tags is empty"
                    ));
                }
                (entry, source_tags.iter().map(String::as_str).collect())
            }
        };
        if repo.is_empty() {
            return Err(format!("dest {entry:?}: empty repository"));
        }
        let repository = settings.destination_repository(repo);
        for tag in tags {
            let r = Reference::from_parts(&settings.registry, &repository, Some(tag), None)
                .map_err(|e| format!("dest {entry:?}: {e}"))?;
            if !out.iter().any(|(o, _)| o == &r) {
                out.push((r, repo.trim_matches('/').to_string()));
            }
        }
    }
    Ok(out)
}

fn source_of(pull: &ContainerImagePullInfo) -> (Reference, Option<MediaType>) {
    match pull.digest_specs().first() {
        Some(d) => (d.reference(), d.media_type().map(MediaType::new)),
        None => (pull.tag_specs()[0].reference(), None),
    }
}

/// Plans the push of `items` with `settings`.
pub fn plan_push(
    items: &[PushItem],
    settings: &TargetSettings,
    skip_unsupported: bool,
) -> PushPlan {
    let mut plan = PushPlan::default();
    for (index, item) in items.iter().enumerate() {
        let reject = |rejection: Rejection| Rejected {
            index,
            name: item.name().to_string(),
            rejection,
        };
        if let Err(e) = item.validate() {
            plan.rejected
                .push(reject(Rejection::Invalid(e.to_string())));
            continue;
        }
        let (pull, source_tags, is_source) = match item {
            PushItem::ContainerImage(i) => (i.pull_info(), i.source_tags(), false),
            PushItem::SourceContainerImage(i) => (i.pull_info(), i.source_tags(), true),
            PushItem::OperatorManifest(_) => {
                let reason =
                    "operator manifest items need an index-image service ferry does not have";
                plan.rejected.push(reject(if skip_unsupported {
                    Rejection::Skipped(reason.into())
                } else {
                    Rejection::Unsupported(reason.into())
                }));
                continue;
            }
        };
        let dests = match destinations(item.dest(), source_tags, settings) {
            Ok(d) => d,
            Err(reason) => {
                plan.rejected.push(reject(Rejection::Invalid(reason)));
                continue;
            }
        };
        let (source, media_type) = source_of(pull);
        let kind = match (is_source, media_type) {
            (true, _) => GroupKind::SourceImage,
            (false, Some(m)) if m.is_index() => GroupKind::MultiArch,
            (false, Some(m)) if m.is_image_manifest() || m.is_schema1() => GroupKind::SingleArch,
            (false, _) => GroupKind::Unknown,
        };
        match plan
            .groups
            .iter_mut()
            .find(|g| g.source == source && (g.kind == GroupKind::SourceImage) == is_source)
        {
            Some(g) => {
                g.items.push(index);
                for d in dests {
                    if !g.destinations.contains(&d) {
                        g.destinations.push(d);
                    }
                }
            }
            None => plan.groups.push(PushGroup {
                source,
                kind,
                items: vec![index],
                destinations: dests,
                multiarch: settings.multiarch,
            }),
        }
    }
    plan
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
