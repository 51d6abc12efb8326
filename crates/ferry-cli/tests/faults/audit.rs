//! Reading a destination repository straight from the registry's storage: which tags exist,
//! whether everything they reach is present (else the tag dangles) and hashes to its digest
//! (else the image is corrupted), and which blobs the repository holds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ferry_testkit::Registry;
use ferry_testkit::images::digest_of;

/// What a repository holds, as distribution's filesystem driver stored it.
#[derive(Debug, Default)]
pub struct Audit {
    /// tag -> manifest digest.
    pub tags: BTreeMap<String, String>,
    /// Tags reaching a manifest or blob that is not in the repository.
    pub dangling: usize,
    /// Tags reaching a manifest or blob whose bytes do not hash to its digest.
    pub corrupted: usize,
    /// Blob digests linked in the repository whose data is present.
    pub blobs: BTreeSet<String>,
    /// One line per problem found, for the failure message.
    pub problems: Vec<String>,
}

#[derive(Default)]
struct Walk {
    missing: Vec<String>,
    corrupt: Vec<String>,
}

/// Audits `repo` of `reg` (read from disk: independent of ferry and of authentication).
pub fn audit(reg: &Registry, repo: &str) -> Audit {
    let root = reg.data_dir().join("docker/registry/v2");
    let repo_dir = root.join("repositories").join(repo);
    let mut a = Audit::default();
    if let Ok(entries) = std::fs::read_dir(repo_dir.join("_layers/sha256")) {
        for e in entries.flatten() {
            let hex = e.file_name().to_string_lossy().into_owned();
            if blob_path(&root, &hex).is_file() {
                a.blobs.insert(format!("sha256:{hex}"));
            }
        }
    }
    let Ok(entries) = std::fs::read_dir(repo_dir.join("_manifests/tags")) else {
        return a;
    };
    for e in entries.flatten() {
        let tag = e.file_name().to_string_lossy().into_owned();
        let Ok(link) = std::fs::read_to_string(e.path().join("current/link")) else {
            continue;
        };
        let digest = link.trim().to_string();
        let mut w = Walk::default();
        manifest(&root, &repo_dir, &digest, &mut w, 0);
        if !w.missing.is_empty() {
            a.dangling += 1;
            a.problems
                .push(format!("tag {tag} dangles: missing {:?}", w.missing));
        }
        if !w.corrupt.is_empty() {
            a.corrupted += 1;
            a.problems
                .push(format!("tag {tag} corrupted: {:?}", w.corrupt));
        }
        a.tags.insert(tag, digest);
    }
    a
}

fn blob_path(root: &Path, hex: &str) -> PathBuf {
    root.join("blobs/sha256")
        .join(hex.get(..2).unwrap_or("00"))
        .join(hex)
        .join("data")
}

/// The bytes of `digest` if `link` exists in the repository and its data is stored.
fn read_linked(root: &Path, link: &Path, digest: &str, w: &mut Walk) -> Option<Vec<u8>> {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    let data = std::fs::read(blob_path(root, hex));
    match (link.is_file(), data) {
        (true, Ok(bytes)) => {
            if digest_of(&bytes) != digest {
                w.corrupt.push(digest.to_string());
            }
            Some(bytes)
        }
        _ => {
            w.missing.push(digest.to_string());
            None
        }
    }
}

fn manifest(root: &Path, repo_dir: &Path, digest: &str, w: &mut Walk, depth: usize) {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    let link = repo_dir
        .join("_manifests/revisions/sha256")
        .join(hex)
        .join("link");
    let Some(bytes) = read_linked(root, &link, digest, w) else {
        return;
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        w.corrupt.push(format!("{digest} (not JSON)"));
        return;
    };
    let digests = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|d| d["digest"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    if depth < 2 {
        for child in digests("manifests") {
            manifest(root, repo_dir, &child, w, depth + 1);
        }
    }
    let mut blobs = digests("layers");
    if let Some(c) = v["config"]["digest"].as_str() {
        blobs.push(c.to_string());
    }
    for b in blobs {
        let hex = b.strip_prefix("sha256:").unwrap_or(&b).to_string();
        let link = repo_dir.join("_layers/sha256").join(&hex).join("link");
        read_linked(root, &link, &b, w);
    }
}
