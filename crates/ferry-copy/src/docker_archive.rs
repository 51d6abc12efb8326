//! The `docker save` format (`docker-archive:PATH[:REF]`), converted to and from an OCI
//! layout holding one Docker schema 2 image.
//!
//! The archive holds `manifest.json` (`[{"Config": "HEX.json", "RepoTags": ["repo:tag"],
//! "Layers": ["HEX.tar", ...]}]`), the config and the layers as tars, uncompressed as
//! `docker save` and skopeo write them (gzip'd layers are accepted on read).
//!
//! Reading builds the image a registry would get: a Docker schema 2 manifest with the
//! archive's config unchanged (same config digest) and gzip'd layers, as skopeo does when
//! it copies a docker-archive to a registry. Layers already gzip'd in the archive are kept
//! as they are; uncompressed ones are compressed here, so their digests are ferry's own
//! (skopeo's differ: another gzip implementation). Writing stores each layer uncompressed
//! under its diff_id, checked against the config's `rootfs.diff_ids`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use ferry_image::{
    Algorithm, Descriptor, Digest, DigestVerifier, Manifest, RawManifest, Reference, media_types,
};
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::archive::{append_bytes, append_file, bad, open_file, unpack};
use crate::{CopyError, OciLayout, Result};

const MAX_JSON: u64 = 16 * 1024 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

#[derive(Debug, Serialize, Deserialize)]
struct Item {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// The name `docker save` records for a reference: `docker.io/library/` left out.
pub(crate) fn repo_tag(reference: &Reference) -> String {
    let full = reference.to_string();
    let short = full.strip_prefix("docker.io/").unwrap_or(&full);
    short.strip_prefix("library/").unwrap_or(short).to_string()
}

/// Unpacks the archive at `path` under `dir` and converts the image `selector` names
/// (`REF` or `@N`; none: the only image) into an OCI layout in `dir/layout`.
pub(crate) fn read(path: &Path, selector: Option<&str>, dir: &Path) -> Result<OciLayout> {
    let files = dir.join("files");
    std::fs::create_dir_all(&files).map_err(|e| CopyError::io(dir.display().to_string(), e))?;
    unpack(open_file(path)?, &files, path, true)?;
    let files = files
        .canonicalize()
        .map_err(|e| CopyError::io(dir.display().to_string(), e))?;
    let manifest_path = files.join("manifest.json");
    if !manifest_path.is_file() {
        return Err(bad(path, "not a docker-archive (no manifest.json)"));
    }
    let items: Vec<Item> = serde_json::from_slice(&read_small(&manifest_path, path)?)
        .map_err(|e| bad(path, &format!("manifest.json: {e}")))?;
    let item = select(&items, selector, path)?;

    let layout = OciLayout::create(dir.join("layout"))?;
    let config_bytes = read_small(&inside(&files, &item.config, path)?, path)?;
    let config = Descriptor::new(
        media_types::DOCKER_CONFIG,
        config_bytes.len() as u64,
        Digest::sha256(&config_bytes),
    );
    let diff_ids = diff_ids(&config_bytes, path)?;
    if diff_ids.len() != item.layers.len() {
        return Err(bad(
            path,
            &format!(
                "{} lists {} layers but its config has {} diff_ids",
                item.config,
                item.layers.len(),
                diff_ids.len()
            ),
        ));
    }
    write_blob(&layout, &config.digest, &config_bytes)?;
    let mut layers: Vec<Descriptor> = Vec::new();
    let mut done: HashMap<PathBuf, Descriptor> = HashMap::new();
    for (name, diff_id) in item.layers.iter().zip(&diff_ids) {
        let file = inside(&files, name, path)?;
        if let Some(d) = done.get(&file) {
            layers.push(d.clone());
            continue;
        }
        let desc = import_layer(&layout, &file, diff_id, path)
            .map_err(|e| e.context(format!("layer {name} of {}", path.display())))?;
        done.insert(file, desc.clone());
        layers.push(desc);
    }
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_types::DOCKER_MANIFEST,
        "config": {"mediaType": config.media_type, "size": config.size, "digest": config.digest},
        "layers": layers.iter().map(|l| json!({"mediaType": l.media_type, "size": l.size, "digest": l.digest})).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| bad(path, &e.to_string()))?;
    let raw = RawManifest::new(bytes, Some(media_types::DOCKER_MANIFEST))?;
    write_blob(&layout, raw.digest(), raw.bytes())?;
    layout.set_tag(None, &raw)?;
    Ok(layout)
}

fn select<'a>(items: &'a [Item], selector: Option<&str>, path: &Path) -> Result<&'a Item> {
    match selector {
        None => match items.len() {
            1 => Ok(&items[0]),
            0 => Err(bad(path, "holds no image")),
            n => Err(bad(
                path,
                &format!(
                    "holds {n} images; name one with docker-archive:PATH:REPO:TAG or docker-archive:PATH:@N"
                ),
            )),
        },
        Some(s) if s.starts_with('@') => {
            let n: usize = s[1..]
                .parse()
                .map_err(|_| bad(path, &format!("{s}: @N needs an image number")))?;
            items.get(n).ok_or_else(|| {
                bad(
                    path,
                    &format!("holds {} images; there is no image {s}", items.len()),
                )
            })
        }
        Some(s) => {
            let wanted = Reference::parse(s).map_err(|e| bad(path, &format!("{s}: {e}")))?;
            let wanted = repo_tag(&wanted.with_tag(wanted.target().as_str())?);
            items
                .iter()
                .find(|i| {
                    i.repo_tags.iter().flatten().any(|t| {
                        Reference::parse(t).is_ok_and(|r| {
                            r.with_tag(r.target().as_str())
                                .is_ok_and(|r| repo_tag(&r) == wanted)
                        })
                    })
                })
                .ok_or_else(|| CopyError::NotFound {
                    what: format!("image {wanted}"),
                    location: format!("docker-archive:{}", path.display()),
                })
        }
    }
}

/// `name` resolved inside `root` (symbolic links followed), refused when it leaves it.
fn inside(root: &Path, name: &str, shown: &Path) -> Result<PathBuf> {
    let joined = root.join(name);
    let real = joined.canonicalize().map_err(|_| {
        bad(
            shown,
            &format!("{name}: listed in manifest.json but missing"),
        )
    })?;
    if !real.starts_with(root) || !real.is_file() {
        return Err(bad(
            shown,
            &format!("{name}: not a file inside the archive"),
        ));
    }
    Ok(real)
}

fn read_small(file: &Path, shown: &Path) -> Result<Vec<u8>> {
    let len = std::fs::metadata(file)
        .map_err(|e| CopyError::io(file.display().to_string(), e))?
        .len();
    if len > MAX_JSON {
        return Err(bad(
            shown,
            &format!("{} is {len} bytes, too large", file.display()),
        ));
    }
    std::fs::read(file).map_err(|e| CopyError::io(file.display().to_string(), e))
}

fn diff_ids(config: &[u8], shown: &Path) -> Result<Vec<Digest>> {
    let v: serde_json::Value =
        serde_json::from_slice(config).map_err(|e| bad(shown, &format!("image config: {e}")))?;
    let ids = v["rootfs"]["diff_ids"]
        .as_array()
        .ok_or_else(|| bad(shown, "image config has no rootfs.diff_ids"))?;
    ids.iter()
        .map(|d| {
            d.as_str()
                .ok_or_else(|| bad(shown, "rootfs.diff_ids holds a non-string"))
                .and_then(|s| Ok(Digest::parse(s)?))
        })
        .collect()
}

fn write_blob(layout: &OciLayout, digest: &Digest, bytes: &[u8]) -> Result<()> {
    let p = layout.blob_path(digest);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CopyError::io(dir.display().to_string(), e))?;
    }
    std::fs::write(&p, bytes).map_err(|e| CopyError::io(p.display().to_string(), e))
}

/// Hashes what passes through a reader.
struct HashRead<R> {
    inner: R,
    hash: DigestVerifier,
}

impl<R: Read> Read for HashRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Hashes what passes through a writer.
struct HashWrite<W> {
    inner: W,
    hash: DigestVerifier,
}

impl<W: Write> Write for HashWrite<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn is_gzip(file: &Path) -> Result<bool> {
    let mut magic = [0u8; 2];
    let mut f = File::open(file).map_err(|e| CopyError::io(file.display().to_string(), e))?;
    let mut got = 0;
    while got < 2 {
        match f.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => return Err(CopyError::io(file.display().to_string(), e)),
        }
    }
    Ok(got == 2 && magic == GZIP_MAGIC)
}

/// Stores one archive layer in the layout as a gzip'd blob, checking its uncompressed
/// content against `diff_id`.
fn import_layer(
    layout: &OciLayout,
    file: &Path,
    diff_id: &Digest,
    shown: &Path,
) -> Result<Descriptor> {
    let io = |e: std::io::Error| CopyError::io(file.display().to_string(), e);
    let alg = Algorithm::Sha256;
    let tmp = layout.root().join("blobs").join(".import");
    let compressed = if is_gzip(file)? {
        // Kept as it is: hash the gzip bytes and what they decompress to.
        let outer = HashRead {
            inner: File::open(file).map_err(io)?,
            hash: DigestVerifier::new(alg),
        };
        let mut inner = HashRead {
            inner: MultiGzDecoder::new(outer),
            hash: DigestVerifier::new(diff_id.algorithm()),
        };
        std::io::copy(&mut inner, &mut std::io::sink()).map_err(io)?;
        check_diff_id(inner.hash, diff_id, shown)?;
        let mut outer = inner.inner.into_inner();
        std::io::copy(&mut outer, &mut std::io::sink()).map_err(io)?;
        std::fs::copy(file, &tmp).map_err(io)?;
        outer.hash.finish()
    } else {
        let mut input = HashRead {
            inner: File::open(file).map_err(io)?,
            hash: DigestVerifier::new(diff_id.algorithm()),
        };
        let out = HashWrite {
            inner: BufWriter::new(File::create(&tmp).map_err(io)?),
            hash: DigestVerifier::new(alg),
        };
        let mut gz = GzEncoder::new(out, flate2::Compression::default());
        std::io::copy(&mut input, &mut gz).map_err(io)?;
        let mut out = gz.finish().map_err(io)?;
        out.flush().map_err(io)?;
        check_diff_id(input.hash, diff_id, shown)?;
        out.hash.finish()
    };
    let size = std::fs::metadata(&tmp).map_err(io)?.len();
    let dest = layout.blob_path(&compressed);
    std::fs::rename(&tmp, &dest).map_err(io)?;
    Ok(Descriptor::new(
        media_types::DOCKER_LAYER_GZIP,
        size,
        compressed,
    ))
}

fn check_diff_id(hash: DigestVerifier, diff_id: &Digest, shown: &Path) -> Result<()> {
    let actual = hash.finish();
    if &actual != diff_id {
        return Err(bad(
            shown,
            &format!("layer content is {actual} but the config's diff_id says {diff_id}"),
        ));
    }
    Ok(())
}

/// Writes the single image of `layout` as a `docker save` archive into `out`.
pub(crate) fn write(
    layout: &OciLayout,
    repo_tag: Option<&str>,
    out: &mut tar::Builder<BufWriter<File>>,
    shown: &Path,
) -> Result<()> {
    let entry = layout.sole_entry()?;
    let bytes = read_small(&layout.blob_path(&entry.digest), shown)?;
    let raw = RawManifest::verified(bytes, Some(entry.media_type.as_str()), &entry.digest)?;
    let image = match raw.parse()? {
        Manifest::Image(i) => i,
        Manifest::Index(_) => {
            return Err(CopyError::Unsupported(format!(
                "docker-archive:{} holds one image, not a list ({}); choose one with --platform OS/ARCH",
                shown.display(),
                raw.digest()
            )));
        }
        Manifest::Schema1(_) => {
            return Err(CopyError::Unsupported(format!(
                "docker-archive:{}: a schema 1 image cannot be written to a docker-archive",
                shown.display()
            )));
        }
    };
    let config_bytes = read_small(&layout.blob_path(&image.config.digest), shown)?;
    let diff_ids = diff_ids(&config_bytes, shown)?;
    if diff_ids.len() != image.layers.len() {
        return Err(bad(
            shown,
            &format!(
                "the image has {} layers but its config {} diff_ids",
                image.layers.len(),
                diff_ids.len()
            ),
        ));
    }
    let mut names = Vec::new();
    for (layer, diff_id) in image.layers.iter().zip(&diff_ids) {
        let name = format!("{}.tar", diff_id.hex());
        if !names.contains(&name) {
            export_layer(layout, layer, diff_id, &name, out, shown)?;
        }
        names.push(name);
    }
    let config_name = format!("{}.json", image.config.digest.hex());
    append_bytes(out, &config_name, &config_bytes, shown)?;
    let item = Item {
        config: config_name,
        repo_tags: Some(repo_tag.map(str::to_string).into_iter().collect()),
        layers: names,
    };
    let manifest = serde_json::to_vec(&[item]).map_err(|e| bad(shown, &e.to_string()))?;
    append_bytes(out, "manifest.json", &manifest, shown)
}

/// Appends a layer uncompressed, checking it against its diff_id.
fn export_layer(
    layout: &OciLayout,
    layer: &Descriptor,
    diff_id: &Digest,
    name: &str,
    out: &mut tar::Builder<BufWriter<File>>,
    shown: &Path,
) -> Result<()> {
    let blob = layout.blob_path(&layer.digest);
    let io = |e: std::io::Error| CopyError::io(blob.display().to_string(), e);
    let media = layer.media_type.as_str();
    if media.contains("zstd") {
        return Err(CopyError::Unsupported(format!(
            "layer {} is zstd-compressed ({media}); a docker-archive cannot hold it",
            layer.digest
        )));
    }
    if !blob.is_file() {
        return Err(CopyError::Unsupported(format!(
            "layer {} ({media}) was not copied (a foreign layer?); a docker-archive needs every layer",
            layer.digest
        )));
    }
    if !is_gzip(&blob)? {
        if &layer.digest != diff_id {
            return Err(bad(
                shown,
                &format!(
                    "uncompressed layer {} is not the config's diff_id {diff_id}",
                    layer.digest
                ),
            ));
        }
        return append_file(out, name, &blob, shown);
    }
    let tmp = layout.root().join("blobs").join(".export");
    let mut input = MultiGzDecoder::new(File::open(&blob).map_err(io)?);
    let mut output = HashWrite {
        inner: BufWriter::new(File::create(&tmp).map_err(io)?),
        hash: DigestVerifier::new(diff_id.algorithm()),
    };
    std::io::copy(&mut input, &mut output).map_err(io)?;
    output.flush().map_err(io)?;
    check_diff_id(output.hash, diff_id, shown)
        .map_err(|e| e.context(format!("layer {}", layer.digest)))?;
    let result = append_file(out, name, &tmp, shown);
    let _ = std::fs::remove_file(&tmp);
    result
}
