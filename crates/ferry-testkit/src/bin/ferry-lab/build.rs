//! Test images for `seed` and `blob-layout`, built with the kit's generator.
//!
//! Each platform image is the kit's [`images::image`] of an [`ImageSpec`] (seed
//! `build_seed * 1000 + arch_index + 1`, as [`images::multi_arch`] does). With a shared base
//! the first layer size is taken out of the spec and a layer seeded by (base seed, arch) is
//! put first instead, so builds of one architecture share that blob while their other layers
//! and configs stay distinct. The list is composed the way the kit composes it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferry_testkit::images::{
    self, Blob, DOCKER_LAYER, Format, ImageSpec, OCI_LAYER, TestImage, TestIndex, digest_of,
};
use serde_json::{Value, json};

/// What `seed` builds, per build.
#[derive(Debug, Clone)]
pub struct Plan {
    pub archs: Vec<String>,
    pub format: Format,
    pub layers: Vec<usize>,
    pub shared_base: Option<u64>,
    pub labels: Vec<(String, String)>,
    pub source_image: bool,
}

fn to_bytes(v: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).expect("json");
    out.push(b'\n');
    out
}

fn descriptor(b: &Blob) -> Value {
    json!({"mediaType": b.media_type, "size": b.bytes.len(), "digest": b.digest})
}

/// FNV-1a, to key base layers by architecture name.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn layer_type(format: Format) -> &'static str {
    match format {
        Format::Docker => DOCKER_LAYER,
        Format::Oci => OCI_LAYER,
    }
}

/// The shared base layer of `arch` (and its diff_id).
pub fn base_layer(base_seed: u64, arch: &str, size: usize, format: Format) -> (Blob, String) {
    let seed = base_seed.wrapping_mul(0x5851_F42D_4C95_7F2D) ^ fnv(arch) ^ 0xBA5E_BA5E;
    images::layer_blob(seed, size, layer_type(format))
}

impl Plan {
    fn spec(&self, arch_index: usize, build_seed: u64) -> ImageSpec {
        let arch = &self.archs[arch_index];
        let seed = build_seed
            .wrapping_mul(1000)
            .wrapping_add(arch_index as u64 + 1);
        let own = if self.shared_base.is_some() {
            &self.layers[1.min(self.layers.len())..]
        } else {
            &self.layers[..]
        };
        let mut spec = ImageSpec::new(arch, seed).layers(own);
        for (k, v) in &self.labels {
            spec = spec.label(k, v);
        }
        if self.source_image {
            spec = spec.no_labels();
        }
        spec
    }

    /// The base layers of every architecture, built in parallel (empty without a shared base).
    pub fn bases(&self, threads: usize) -> Vec<Option<(Blob, String)>> {
        match (self.shared_base, self.layers.first()) {
            (Some(b), Some(&size)) => par_map(&self.archs, threads, |arch| {
                Some(base_layer(b, arch, size, self.format))
            }),
            _ => vec![None; self.archs.len()],
        }
    }

    /// The image of architecture `arch_index` in build `build_seed`.
    pub fn image(
        &self,
        arch_index: usize,
        build_seed: u64,
        base: Option<&(Blob, String)>,
    ) -> TestImage {
        let img = images::image(&self.spec(arch_index, build_seed), self.format);
        match base {
            Some((blob, diff_id)) => rebase(img, blob, diff_id),
            None => img,
        }
    }
}

/// Puts `base` (with `diff_id`) under `img`: first layer, first diff_id, first history entry.
pub fn rebase(img: TestImage, base: &Blob, diff_id: &str) -> TestImage {
    let mut config: Value = serde_json::from_slice(&img.config.bytes).expect("config JSON");
    let entry = config["history"]
        .get(0)
        .cloned()
        .unwrap_or_else(|| json!({"created": config["created"], "created_by": "ferry-testkit"}));
    if let Some(ids) = config["rootfs"]["diff_ids"].as_array_mut() {
        ids.insert(0, json!(diff_id));
    }
    if let Some(h) = config["history"].as_array_mut() {
        h.insert(0, entry);
    }
    let config_bytes = to_bytes(&config);
    let config = Blob {
        digest: digest_of(&config_bytes),
        bytes: config_bytes,
        media_type: img.config.media_type.clone(),
    };
    let mut layers = vec![base.clone()];
    layers.extend(img.layers);
    let manifest = to_bytes(&json!({
        "schemaVersion": 2,
        "mediaType": img.media_type,
        "config": descriptor(&config),
        "layers": layers.iter().map(descriptor).collect::<Vec<_>>(),
    }));
    TestImage {
        digest: digest_of(&manifest),
        manifest,
        media_type: img.media_type,
        config,
        layers,
        platform: img.platform,
    }
}

/// A Docker manifest list or OCI index over `images`, composed by the kit.
pub fn list(images: Vec<TestImage>, format: Format) -> TestIndex {
    ferry_testkit::images::index_of(images, format)
}

/// `f` over `items` on up to `threads` threads, results in order.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    out.lock().expect("results")[i] = Some(r);
                }
            });
        }
    });
    out.into_inner()
        .expect("results")
        .into_iter()
        .map(|r| r.expect("every item mapped"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(shared: Option<u64>) -> Plan {
        Plan {
            archs: vec!["amd64".into(), "arm64".into()],
            format: Format::Oci,
            layers: vec![3000, 500],
            shared_base: shared,
            labels: vec![("a".into(), "b".into())],
            source_image: false,
        }
    }

    #[test]
    fn list_matches_the_kit() {
        let p = plan(None);
        let imgs = vec![p.image(0, 3, None), p.image(1, 3, None)];
        let specs = vec![p.spec(0, 3), p.spec(1, 3)];
        assert_eq!(list(imgs, Format::Oci), images::index(&specs, Format::Oci));
    }

    #[test]
    fn shared_base_is_shared_per_arch_only() {
        let p = plan(Some(9));
        let bases = p.bases(2);
        let a1 = p.image(0, 1, bases[0].as_ref());
        let a2 = p.image(0, 2, bases[0].as_ref());
        let b1 = p.image(1, 1, bases[1].as_ref());
        assert_eq!(a1.layers.len(), 2);
        assert_eq!(a1.layers[0], a2.layers[0]);
        assert_ne!(a1.layers[1], a2.layers[1]);
        assert_ne!(a1.layers[0], b1.layers[0]);
        assert_ne!(a1.config, a2.config);
        let config: Value = serde_json::from_slice(&a1.config.bytes).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
        assert_eq!(config["history"].as_array().unwrap().len(), 2);
        let manifest: Value = serde_json::from_slice(&a1.manifest).unwrap();
        assert_eq!(
            manifest["layers"][0]["digest"],
            a1.layers[0].digest.as_str()
        );
        assert_eq!(manifest["config"]["digest"], a1.config.digest.as_str());
    }
}
