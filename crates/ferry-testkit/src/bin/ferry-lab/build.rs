//! Test images for `seed`, built with the kit's generator ([`images::image`]).
//!
//! Each platform image is the kit's image of an [`ImageSpec`] (seed
//! `build_seed * 1000 + arch_index + 1`, as [`images::multi_arch`] does). With a shared base
//! the first layer size becomes the kit's shared base layer, seeded by (base seed, arch), so
//! builds of one architecture share that blob while their other layers and configs stay
//! distinct. Lists are composed by the kit ([`images::index_of`]).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferry_testkit::images::{self, Format, ImageSpec, TestImage};

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

/// FNV-1a, to key base layers by architecture name.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Plan {
    fn spec(&self, arch_index: usize, build_seed: u64) -> ImageSpec {
        let arch = &self.archs[arch_index];
        let seed = build_seed
            .wrapping_mul(1000)
            .wrapping_add(arch_index as u64 + 1);
        let mut spec = match (self.shared_base, self.layers.split_first()) {
            (Some(base), Some((&size, own))) => ImageSpec::new(arch, seed)
                .layers(own)
                .shared_base_sized(base.wrapping_mul(0x5851_F42D_4C95_7F2D) ^ fnv(arch), size),
            _ => ImageSpec::new(arch, seed).layers(&self.layers),
        };
        for (k, v) in &self.labels {
            spec = spec.label(k, v);
        }
        if self.source_image {
            spec = spec.no_labels();
        }
        spec
    }

    /// The image of architecture `arch_index` in build `build_seed`.
    pub fn image(&self, arch_index: usize, build_seed: u64) -> TestImage {
        images::image(&self.spec(arch_index, build_seed), self.format)
    }
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
    use serde_json::Value;

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
    fn without_a_shared_base_every_layer_is_the_builds_own() {
        let p = plan(None);
        let a1 = p.image(0, 1);
        let a2 = p.image(0, 2);
        assert_eq!(a1.layers.len(), 2);
        assert!(a1.layers.iter().all(|l| !a2.layers.contains(l)));
    }

    #[test]
    fn shared_base_is_shared_per_arch_only() {
        let p = plan(Some(9));
        let a1 = p.image(0, 1);
        let a2 = p.image(0, 2);
        let b1 = p.image(1, 1);
        assert_eq!(a1.layers.len(), 2);
        assert_eq!(a1.layers[0], a2.layers[0]);
        assert_ne!(a1.layers[1], a2.layers[1]);
        assert_ne!(a1.layers[0], b1.layers[0]);
        assert_ne!(a1.config, a2.config);
        // The base holds a file of the first --layers size (3000 bytes, tar + gzip'd).
        assert!(a1.layers[0].size() > 3000, "{}", a1.layers[0].size());
        let config: Value = serde_json::from_slice(&a1.config.bytes).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
        assert_eq!(config["history"].as_array().unwrap().len(), 2);
        let manifest: Value = serde_json::from_slice(&a1.manifest).unwrap();
        assert_eq!(
            manifest["layers"][0]["digest"],
            a1.layers[0].digest.as_str()
        );
    }
}
