//! Content generation: seeded bytes, tar + gzip layers, configs and manifests.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{
    Blob, DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LIST, DOCKER_MANIFEST, Format, ImageSpec, OCI_CONFIG,
    OCI_INDEX, OCI_LAYER, OCI_MANIFEST, TestImage, TestIndex,
};

/// `sha256:<hex>` of `bytes`.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// splitmix64: a tiny seeded generator, plenty for incompressible test bytes.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = SplitMix(seed ^ 0x6665_7272_7974_6b74);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A gzip'd tar layer holding `file-<seed>.bin` of `size` seeded bytes, and its diff_id
/// (sha256 of the uncompressed tar).
pub fn layer_blob(seed: u64, size: usize, media_type: &str) -> (Blob, String) {
    let data = random_bytes(seed, size);
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header
        .set_path(format!("file-{seed}.bin"))
        .expect("tar path");
    header.set_size(size as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    tar.append(&header, data.as_slice()).expect("tar append");
    let tar_bytes = tar.into_inner().expect("tar finish");
    let diff_id = digest_of(&tar_bytes);
    // GzEncoder writes mtime 0 and no file name: the output depends on the input only.
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&tar_bytes).expect("gzip");
    let bytes = gz.finish().expect("gzip finish");
    (
        Blob {
            digest: digest_of(&bytes),
            bytes,
            media_type: media_type.to_string(),
        },
        diff_id,
    )
}

/// The shared base layer [`layer_blob`] makes for these arguments, built once per process:
/// many images share one base, and a base can be megabytes.
fn base_layer(seed: u64, size: usize, media_type: &str) -> (Blob, String) {
    type Cache = Mutex<HashMap<(u64, usize, String), (Blob, String)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let key = (seed, size, media_type.to_string());
    if let Some(hit) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return hit.clone();
    }
    let made = layer_blob(seed, size, media_type);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, made.clone());
    made
}

fn to_bytes(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).expect("json");
    out.push(b'\n');
    out
}

fn descriptor(b: &Blob) -> Value {
    json!({"mediaType": b.media_type, "size": b.bytes.len(), "digest": b.digest})
}

pub(super) fn image(spec: &ImageSpec, format: Format) -> TestImage {
    let (layer_type, config_type, manifest_type) = match format {
        Format::Docker => (DOCKER_LAYER, DOCKER_CONFIG, DOCKER_MANIFEST),
        Format::Oci => (OCI_LAYER, OCI_CONFIG, OCI_MANIFEST),
    };
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    if let Some(base) = spec.shared_base {
        let (b, d) = base_layer(base ^ 0xBA5E, spec.shared_base_size, layer_type);
        layers.push(b);
        diff_ids.push(d);
    }
    for (i, size) in spec.layer_sizes.iter().enumerate() {
        let seed = spec.seed.wrapping_mul(0x1_0000).wrapping_add(i as u64);
        let (b, d) = layer_blob(seed, *size, layer_type);
        layers.push(b);
        diff_ids.push(d);
    }

    let mut container = serde_json::Map::new();
    container.insert("Env".into(), json!(["PATH=/usr/bin:/bin"]));
    container.insert("Cmd".into(), json!(["/bin/true"]));
    if let Some(labels) = &spec.labels {
        container.insert("Labels".into(), json!(labels));
    }
    let mut config = serde_json::Map::new();
    config.insert("architecture".into(), json!(spec.arch));
    config.insert("os".into(), json!(spec.os));
    if let Some(v) = &spec.variant {
        config.insert("variant".into(), json!(v));
    }
    // A fixed date derived from the seed keeps configs distinct yet reproducible.
    let created = crate::token::rfc3339(1_600_000_000 + spec.seed % 100_000_000);
    config.insert("created".into(), json!(created));
    config.insert("config".into(), Value::Object(container));
    config.insert(
        "rootfs".into(),
        json!({"type": "layers", "diff_ids": diff_ids}),
    );
    config.insert(
        "history".into(),
        json!(
            layers
                .iter()
                .map(|_| json!({"created": created, "created_by": "ferry-testkit"}))
                .collect::<Vec<_>>()
        ),
    );
    let config_bytes = to_bytes(&Value::Object(config));
    let config = Blob {
        digest: digest_of(&config_bytes),
        bytes: config_bytes,
        media_type: config_type.to_string(),
    };
    let manifest = to_bytes(&json!({
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": descriptor(&config),
        "layers": layers.iter().map(descriptor).collect::<Vec<_>>(),
    }));
    TestImage {
        digest: digest_of(&manifest),
        manifest,
        media_type: manifest_type.to_string(),
        config,
        layers,
        platform: (spec.os.clone(), spec.arch.clone(), spec.variant.clone()),
    }
}

pub(super) fn index(specs: &[ImageSpec], format: Format) -> TestIndex {
    index_of(specs.iter().map(|s| image(s, format)).collect(), format)
}

pub(super) fn index_of(images: Vec<TestImage>, format: Format) -> TestIndex {
    let list_type = match format {
        Format::Docker => DOCKER_LIST,
        Format::Oci => OCI_INDEX,
    };
    let manifests: Vec<Value> = images
        .iter()
        .map(|img| {
            let (os, arch, variant) = &img.platform;
            let mut platform = json!({"architecture": arch, "os": os});
            if let Some(v) = variant {
                platform["variant"] = json!(v);
            }
            json!({
                "mediaType": img.media_type,
                "size": img.manifest.len(),
                "digest": img.digest,
                "platform": platform,
            })
        })
        .collect();
    let manifest = to_bytes(&json!({
        "schemaVersion": 2,
        "mediaType": list_type,
        "manifests": manifests,
    }));
    TestIndex {
        digest: digest_of(&manifest),
        manifest,
        media_type: list_type.to_string(),
        images,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn deterministic_and_real() {
        let spec = ImageSpec::new("arm64", 7)
            .layers(&[3000, 10])
            .label("a", "b");
        let a = image(&spec, Format::Oci);
        let b = image(&spec, Format::Oci);
        assert_eq!(a, b);
        assert_ne!(
            a.digest,
            image(&ImageSpec::new("arm64", 8), Format::Oci).digest
        );
        assert_eq!(a.layers.len(), 2);
        let config: Value = serde_json::from_slice(&a.config.bytes).unwrap();
        assert_eq!(config["variant"], "v8");
        assert_eq!(config["config"]["Labels"]["a"], "b");
        // The layer is a real gzip'd tar whose uncompressed digest is the diff_id.
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(a.layers[0].bytes.as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(config["rootfs"]["diff_ids"][0], digest_of(&tar));
        let mut archive = tar::Archive::new(tar.as_slice());
        let entry = archive.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(entry.header().size().unwrap(), 3000);
        // Incompressible: gzip does not shrink it.
        assert!(a.layers[0].bytes.len() > 3000);
    }

    #[test]
    fn source_image_has_no_labels() {
        let img = super::super::source_image(1);
        let config: Value = serde_json::from_slice(&img.config.bytes).unwrap();
        assert!(config["config"].get("Labels").is_none());
        assert_eq!(img.media_type, DOCKER_MANIFEST);
    }

    #[test]
    fn multi_arch_shares_base() {
        let idx = super::super::multi_arch(&["amd64", "arm64", "ppc64le"], 3, Format::Docker);
        assert_eq!(idx.images.len(), 3);
        assert_eq!(idx.images[0].layers[0], idx.images[2].layers[0]);
        let list: Value = serde_json::from_slice(&idx.manifest).unwrap();
        assert_eq!(list["manifests"][1]["platform"]["variant"], "v8");
        assert_eq!(list["mediaType"], DOCKER_LIST);
    }
}
