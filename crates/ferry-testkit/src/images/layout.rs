//! Writing OCI image layouts (`oci-layout`, `index.json`, `blobs/sha256/...`).

use std::fs;
use std::path::Path;

use serde_json::{Value, json};

use super::Artifact;

/// Annotation naming a tag in an OCI layout's `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

fn write_blob(dir: &Path, digest: &str, bytes: &[u8]) {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    let path = dir.join("blobs/sha256").join(hex);
    if !path.exists() {
        fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// Writes `what` into the OCI layout at `dir` (created if needed) under `tag`, readable as
/// `oci:DIR:TAG` by skopeo. An existing `index.json` keeps its other entries; an entry with
/// the same tag is replaced.
pub fn write_oci_layout<'a>(dir: &Path, tag: &str, what: impl Into<Artifact<'a>>) {
    let what = what.into();
    fs::create_dir_all(dir.join("blobs/sha256")).expect("create layout dirs");
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("write oci-layout");
    for img in what.images() {
        for blob in img.blobs() {
            write_blob(dir, &blob.digest, &blob.bytes);
        }
        write_blob(dir, &img.digest, &img.manifest);
    }
    let (media_type, digest, bytes) = what.top();
    write_blob(dir, digest, bytes);

    let index_path = dir.join("index.json");
    let mut manifests: Vec<Value> = fs::read(&index_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["manifests"].as_array().cloned())
        .unwrap_or_default();
    manifests.retain(|m| m["annotations"][REF_NAME] != tag);
    manifests.push(json!({
        "mediaType": media_type,
        "digest": digest,
        "size": bytes.len(),
        "annotations": {REF_NAME: tag},
    }));
    let index = json!({
        "schemaVersion": 2,
        "mediaType": super::OCI_INDEX,
        "manifests": manifests,
    });
    fs::write(
        &index_path,
        serde_json::to_vec_pretty(&index).expect("json"),
    )
    .expect("write index.json");
}
