//! Deterministic test images with real content.
//!
//! Layers are gzip'd tars holding one file of seeded pseudo-random (incompressible) bytes;
//! configs carry platform, labels and `rootfs.diff_ids`; manifests come in Docker schema 2
//! and OCI forms, lists in Docker manifest list and OCI index forms. Same spec, same bytes.

mod build;
mod layout;
mod push;

use std::collections::BTreeMap;

pub use build::{digest_of, layer_blob};
pub use layout::write_oci_layout;
pub use push::{
    Endpoint, push, push_blob, push_image, push_index, push_manifest, try_push, try_push_to,
};

/// Docker schema 2 image manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip'd layer.
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI gzip'd layer.
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Size of the shared base layer's file when [`ImageSpec::shared_base`] is set.
pub const SHARED_BASE_SIZE: usize = 2048;

/// A blob: its digest (`sha256:...`), bytes and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// `sha256:<hex>` of `bytes`.
    pub digest: String,
    /// The content.
    pub bytes: Vec<u8>,
    /// Media type used in descriptors.
    pub media_type: String,
}

impl Blob {
    /// Size in bytes.
    pub fn size(&self) -> usize {
        self.bytes.len()
    }
}

/// Docker schema 2 or OCI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Docker schema 2 manifest / manifest list.
    Docker,
    /// OCI manifest / index.
    Oci,
}

/// An image: its manifest bytes (the truth) with config and layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestImage {
    /// Exact manifest bytes.
    pub manifest: Vec<u8>,
    /// Manifest media type.
    pub media_type: String,
    /// `sha256:` digest of `manifest`.
    pub digest: String,
    /// The config blob.
    pub config: Blob,
    /// Layer blobs, base first.
    pub layers: Vec<Blob>,
    /// (os, architecture, variant).
    pub platform: (String, String, Option<String>),
}

impl TestImage {
    /// Config then layers.
    pub fn blobs(&self) -> impl Iterator<Item = &Blob> {
        std::iter::once(&self.config).chain(self.layers.iter())
    }
}

/// A manifest list / index with its child images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestIndex {
    /// Exact list bytes.
    pub manifest: Vec<u8>,
    /// List media type.
    pub media_type: String,
    /// `sha256:` digest of `manifest`.
    pub digest: String,
    /// Child images in list order.
    pub images: Vec<TestImage>,
}

/// Either an image or a list, for functions that take both.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    /// A single image.
    Image(&'a TestImage),
    /// A list and its images.
    Index(&'a TestIndex),
}

impl<'a> From<&'a TestImage> for Artifact<'a> {
    fn from(i: &'a TestImage) -> Self {
        Artifact::Image(i)
    }
}

impl<'a> From<&'a TestIndex> for Artifact<'a> {
    fn from(i: &'a TestIndex) -> Self {
        Artifact::Index(i)
    }
}

impl Artifact<'_> {
    /// (media type, digest, bytes) of the top-level manifest.
    pub fn top(&self) -> (&str, &str, &[u8]) {
        match self {
            Artifact::Image(i) => (&i.media_type, &i.digest, &i.manifest),
            Artifact::Index(i) => (&i.media_type, &i.digest, &i.manifest),
        }
    }

    /// The images involved (one, or every child of the list).
    pub fn images(&self) -> Vec<&TestImage> {
        match self {
            Artifact::Image(i) => vec![i],
            Artifact::Index(i) => i.images.iter().collect(),
        }
    }
}

/// What to build: platform, layer sizes, labels, seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    /// Architecture (`amd64`, `arm64`, ...).
    pub arch: String,
    /// Operating system (`linux`).
    pub os: String,
    /// Optional variant (`v8`, `v7`).
    pub variant: Option<String>,
    /// Size of the file in each layer (one layer per entry).
    pub layer_sizes: Vec<usize>,
    /// `config.Labels`; `None` leaves the `Labels` key out entirely.
    pub labels: Option<BTreeMap<String, String>>,
    /// Seed for every byte of content.
    pub seed: u64,
    /// Seed of a base layer (file of `shared_base_size` bytes) put first; images with the
    /// same seed and size share that blob.
    pub shared_base: Option<u64>,
    /// Size of the file in the shared base layer ([`SHARED_BASE_SIZE`] unless set).
    pub shared_base_size: usize,
}

impl ImageSpec {
    /// linux/`arch` with one 1 KiB layer, an empty label map and the given seed.
    /// `arm64` gets variant `v8`, `arm` gets `v7`.
    pub fn new(arch: &str, seed: u64) -> ImageSpec {
        let variant = match arch {
            "arm64" => Some("v8".to_string()),
            "arm" => Some("v7".to_string()),
            _ => None,
        };
        ImageSpec {
            arch: arch.to_string(),
            os: "linux".to_string(),
            variant,
            layer_sizes: vec![1024],
            labels: Some(BTreeMap::new()),
            seed,
            shared_base: None,
            shared_base_size: SHARED_BASE_SIZE,
        }
    }

    /// Sets the layer sizes.
    pub fn layers(mut self, sizes: &[usize]) -> Self {
        self.layer_sizes = sizes.to_vec();
        self
    }

    /// Adds a label (creating the map if it was `None`).
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels
            .get_or_insert_with(BTreeMap::new)
            .insert(key.to_string(), value.to_string());
        self
    }

    /// Leaves `config.Labels` out entirely (the "source image" shape).
    pub fn no_labels(mut self) -> Self {
        self.labels = None;
        self
    }

    /// Sets the variant.
    pub fn variant(mut self, variant: Option<&str>) -> Self {
        self.variant = variant.map(str::to_string);
        self
    }

    /// Puts a base layer seeded by `seed` first.
    pub fn shared_base(mut self, seed: u64) -> Self {
        self.shared_base = Some(seed);
        self
    }

    /// Puts a base layer seeded by `seed`, holding a file of `size` bytes, first.
    pub fn shared_base_sized(mut self, seed: u64, size: usize) -> Self {
        self.shared_base = Some(seed);
        self.shared_base_size = size;
        self
    }
}

impl Default for ImageSpec {
    fn default() -> Self {
        ImageSpec::new("amd64", 0)
    }
}

/// Builds the image described by `spec`.
pub fn image(spec: &ImageSpec, format: Format) -> TestImage {
    build::image(spec, format)
}

/// Builds the images of `specs` and a list (Docker) or index (OCI) over them.
pub fn index(specs: &[ImageSpec], format: Format) -> TestIndex {
    build::index(specs, format)
}

/// A Docker manifest list or OCI index over images already built, in their order.
pub fn index_of(images: Vec<TestImage>, format: Format) -> TestIndex {
    build::index_of(images, format)
}

/// A linux/amd64 Docker image (two small layers) whose config has no `Labels` at all.
pub fn source_image(seed: u64) -> TestImage {
    image(
        &ImageSpec::new("amd64", seed)
            .layers(&[512, 768])
            .no_labels(),
        Format::Docker,
    )
}

/// A simple linux/amd64 image with one 1 KiB layer.
pub fn simple(seed: u64, format: Format) -> TestImage {
    image(&ImageSpec::new("amd64", seed), format)
}

/// A list over linux images for `archs` (`arm64` gets variant `v8`), seeds derived from
/// `seed`, all sharing one base layer.
pub fn multi_arch(archs: &[&str], seed: u64, format: Format) -> TestIndex {
    let specs: Vec<ImageSpec> = archs
        .iter()
        .enumerate()
        .map(|(i, arch)| {
            ImageSpec::new(arch, seed.wrapping_mul(1000).wrapping_add(i as u64 + 1))
                .shared_base(seed)
                .label("architecture", arch)
        })
        .collect();
    index(&specs, format)
}
