//! `check`: is every manifest and blob of an image present (and, deep, intact)?

use ferry_image::{Descriptor, Digest, Manifest, RawManifest, Target};
use futures_util::StreamExt;
use serde::Serialize;

use crate::error::ResultExt;
use crate::traits::ImageSource;
use crate::verify::verifying;
use crate::{CopyError, Result};

/// One missing or damaged part of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `manifest` or `blob`.
    pub kind: &'static str,
    /// Its digest.
    pub digest: Digest,
    /// The manifest that refers to it (none for the top).
    pub parent: Option<Digest>,
    /// What is wrong.
    pub problem: String,
}

/// The result of a check.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    /// Manifests read.
    pub manifests: usize,
    /// Blobs checked.
    pub blobs: usize,
    /// Everything missing or damaged; empty when the image is whole.
    pub problems: Vec<Problem>,
}

/// Walks the image at `target`: every child manifest is fetched (and verified by digest),
/// every blob is asked for with HEAD, or downloaded and verified when `deep`.
pub async fn check<S: ImageSource>(src: &S, target: &Target, deep: bool) -> Result<CheckReport> {
    let top = src
        .manifest(target)
        .await
        .ctx(|| format!("reading {}:{}", src.describe(), target))?;
    let mut report = CheckReport::default();
    // Manifests to read, each with its nesting level (the top is 1); children are
    // fetched when their turn comes, so a huge index never holds all of them at once.
    let mut queue: Vec<(Pending, usize)> = vec![(Pending::Fetched(top), 1)];
    while let Some((pending, level)) = queue.pop() {
        let raw = match pending {
            Pending::Fetched(raw) => raw,
            Pending::Child(child, parent) => {
                ferry_image::check_depth(level, &child.digest)?;
                match src.manifest(&Target::Digest(child.digest.clone())).await {
                    Ok(m) => m,
                    Err(e) => {
                        let problem = if e.is_not_found() {
                            "missing".into()
                        } else {
                            e.to_string()
                        };
                        report.problems.push(Problem {
                            kind: "manifest",
                            digest: child.digest.clone(),
                            parent: Some(parent),
                            problem,
                        });
                        continue;
                    }
                }
            }
        };
        report.manifests += 1;
        match raw.parse()? {
            Manifest::Index(index) => {
                for child in index
                    .manifests
                    .into_iter()
                    .rev()
                    .filter(|c| c.media_type.is_manifest())
                {
                    queue.push((
                        Pending::Child(Box::new(child), raw.digest().clone()),
                        level + 1,
                    ));
                }
            }
            image => {
                let blobs = image.blobs();
                let results: Vec<_> = futures_util::stream::iter(blobs.iter())
                    .map(|b| async move { (b, check_blob(src, &b.digest, b.size, deep).await) })
                    .buffer_unordered(8)
                    .collect()
                    .await;
                for (b, r) in results {
                    report.blobs += 1;
                    if let Some(problem) = r? {
                        report.problems.push(Problem {
                            kind: "blob",
                            digest: b.digest.clone(),
                            parent: Some(raw.digest().clone()),
                            problem,
                        });
                    }
                }
            }
        }
    }
    report.problems.sort_by(|a, b| a.digest.cmp(&b.digest));
    Ok(report)
}

/// A manifest of the walk: the top (fetched), or a child still to fetch.
enum Pending {
    Fetched(RawManifest),
    Child(Box<Descriptor>, Digest),
}

async fn check_blob<S: ImageSource>(
    src: &S,
    digest: &Digest,
    size: u64,
    deep: bool,
) -> Result<Option<String>> {
    let Some(actual) = src.blob_size(digest).await? else {
        return Ok(Some("missing".into()));
    };
    if size > 0 && actual != size {
        return Ok(Some(format!("size {actual}, the manifest says {size}")));
    }
    if deep {
        let (_, stream) = match src.blob(digest).await {
            Ok(s) => s,
            Err(e) if e.is_not_found() => return Ok(Some("missing".into())),
            Err(e) => return Err(e),
        };
        let mut s = verifying(stream, digest.clone(), (size > 0).then_some(size), None);
        while let Some(chunk) = s.next().await {
            if let Err(e) = chunk {
                return Ok(Some(match CopyError::from_io(e, "blob") {
                    CopyError::BlobDigestMismatch { actual, .. } => {
                        format!("damaged: its content has digest {actual}")
                    }
                    other => other.to_string(),
                }));
            }
        }
    }
    Ok(None)
}
