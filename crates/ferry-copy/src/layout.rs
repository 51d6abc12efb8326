//! The OCI image layout (`oci:PATH[:TAG]`) as a place images are read from and written to.
//!
//! A layout is a directory with an `oci-layout` file, an `index.json` whose entries carry
//! their tag in the `org.opencontainers.image.ref.name` annotation, and `blobs/ALG/HEX`.
//! A layout has at most one untagged entry: a write without a tag replaces it.
//! Every write is atomic: content goes to a temporary file in the same directory and is
//! renamed into place once complete and verified; `index.json` is replaced the same way.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bytes::Bytes;
use ferry_image::{Descriptor, Digest, IndexManifest, MediaType, RawManifest, Target, media_types};
use ferry_registry::{BlobOpener, ByteStream};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::traits::{ImageDestination, ImageSource, RepoId};
use crate::{CopyError, Result};

/// The annotation that names a tag in `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
const LAYOUT_FILE: &str = "oci-layout";
const LAYOUT_CONTENT: &str = "{\"imageLayoutVersion\":\"1.0.0\"}";
const READ_CHUNK: usize = 256 * 1024;
const MAX_MANIFEST: u64 = 8 * 1024 * 1024;

/// An OCI image layout directory.
#[derive(Debug)]
pub struct OciLayout {
    root: PathBuf,
    index_lock: Mutex<()>,
}

impl OciLayout {
    /// Opens an existing layout for reading; refuses a directory that is not one.
    pub fn open(root: impl Into<PathBuf>) -> Result<OciLayout> {
        let root = root.into();
        let marker = root.join(LAYOUT_FILE);
        if !marker.is_file() {
            return Err(CopyError::Layout {
                path: root.display().to_string(),
                reason: "not an OCI image layout (no oci-layout file)".into(),
            });
        }
        Ok(OciLayout {
            root,
            index_lock: Mutex::new(()),
        })
    }

    /// Opens a layout for writing, creating the directory and its files when missing.
    pub fn create(root: impl Into<PathBuf>) -> Result<OciLayout> {
        let root = root.into();
        let shown = root.display().to_string();
        if root.exists() && !root.is_dir() {
            return Err(CopyError::Layout {
                path: shown,
                reason: "exists and is not a directory".into(),
            });
        }
        std::fs::create_dir_all(root.join("blobs")).map_err(|e| CopyError::io(&shown, e))?;
        let marker = root.join(LAYOUT_FILE);
        if !marker.exists() {
            write_atomic(&marker, LAYOUT_CONTENT.as_bytes())?;
        }
        if !root.join("index.json").exists() {
            let idx = IndexManifest::new(MediaType::new(media_types::OCI_INDEX));
            write_atomic(&root.join("index.json"), &index_bytes(&idx)?)?;
        }
        Ok(OciLayout {
            root,
            index_lock: Mutex::new(()),
        })
    }

    /// `oci:PATH`, for messages.
    pub fn name(&self) -> String {
        format!("oci:{}", self.root.display())
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().name())
            .join(digest.hex())
    }

    /// The layout's `index.json`.
    pub fn index(&self) -> Result<IndexManifest> {
        let path = self.root.join("index.json");
        let bytes =
            std::fs::read(&path).map_err(|e| CopyError::io(path.display().to_string(), e))?;
        let raw = RawManifest::new(bytes, Some(media_types::OCI_INDEX)).map_err(|e| {
            CopyError::Layout {
                path: self.root.display().to_string(),
                reason: format!("index.json: {e}"),
            }
        })?;
        match raw.parse()? {
            ferry_image::Manifest::Index(i) => Ok(i),
            _ => Err(CopyError::Layout {
                path: self.root.display().to_string(),
                reason: "index.json is not an index".into(),
            }),
        }
    }

    fn find(&self, target: &Target) -> Result<Option<Descriptor>> {
        match target {
            Target::Digest(d) => {
                if let Some(e) = self.index()?.manifests.into_iter().find(|m| &m.digest == d) {
                    return Ok(Some(e));
                }
                let path = self.blob_path(d);
                match std::fs::metadata(&path) {
                    Ok(meta) => {
                        let bytes = std::fs::read(&path)
                            .map_err(|e| CopyError::io(path.display().to_string(), e))?;
                        let raw = RawManifest::verified(bytes, None, d)?;
                        let mut desc = raw.descriptor();
                        desc.size = meta.len();
                        Ok(Some(desc))
                    }
                    Err(_) => Ok(None),
                }
            }
            Target::Tag(t) => Ok(self
                .index()?
                .manifests
                .into_iter()
                .find(|m| m.annotations.get(REF_NAME).map(String::as_str) == Some(t.as_str()))),
        }
    }

    /// Resolves `oci:PATH` without a tag: the only image of the layout.
    pub fn sole_entry(&self) -> Result<Descriptor> {
        let idx = self.index()?;
        match idx.manifests.len() {
            1 => Ok(idx.manifests.into_iter().next().expect("one entry")),
            0 => Err(CopyError::Layout {
                path: self.root.display().to_string(),
                reason: "holds no image".into(),
            }),
            n => Err(CopyError::Layout {
                path: self.root.display().to_string(),
                reason: format!("holds {n} images; name one with oci:PATH:TAG"),
            }),
        }
    }

    pub(crate) fn set_tag(&self, tag: Option<&str>, manifest: &RawManifest) -> Result<()> {
        let _guard = self.index_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut idx = self.index()?;
        let mut desc = manifest.descriptor();
        if let Some(tag) = tag {
            idx.manifests
                .retain(|m| m.annotations.get(REF_NAME).map(String::as_str) != Some(tag));
            desc.annotations
                .insert(REF_NAME.to_string(), tag.to_string());
        } else {
            // One untagged image per layout, as one image per tag: an untagged write
            // replaces the previous untagged entry, so `oci:PATH` stays readable (by ferry
            // and by skopeo) when it holds nothing else.
            let untagged =
                |m: &Descriptor| m.annotations.get(REF_NAME).is_none_or(String::is_empty);
            let mut old = idx.manifests.iter().filter(|m| untagged(m));
            if old.next().is_some_and(|m| m.digest == desc.digest) && old.next().is_none() {
                return Ok(());
            }
            idx.manifests.retain(|m| !untagged(m));
        }
        idx.manifests.push(desc);
        write_atomic(&self.root.join("index.json"), &index_bytes(&idx)?)
    }
}

fn index_bytes(idx: &IndexManifest) -> Result<Vec<u8>> {
    Ok(idx.to_raw()?.into_bytes())
}

/// Writes `bytes` to `path` through a temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let shown = || path.display().to_string();
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    std::fs::write(&tmp, bytes).map_err(|e| CopyError::io(shown(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        CopyError::io(shown(), e)
    })
}

fn file_stream(file: tokio::fs::File) -> ByteStream {
    Box::pin(futures_util::stream::unfold(
        Some(file),
        |state| async move {
            let mut file = state?;
            let mut buf = vec![0u8; READ_CHUNK];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        },
    ))
}

impl ImageSource for OciLayout {
    fn describe(&self) -> String {
        self.name()
    }

    fn repo_id(&self) -> Option<RepoId> {
        None
    }

    async fn resolve(&self, target: &Target) -> Result<Option<Descriptor>> {
        self.find(target)
    }

    async fn manifest(&self, target: &Target) -> Result<RawManifest> {
        let desc = self.find(target)?.ok_or_else(|| CopyError::NotFound {
            what: format!("manifest {target}"),
            location: self.name(),
        })?;
        if desc.size > MAX_MANIFEST {
            return Err(CopyError::Layout {
                path: self.name(),
                reason: format!("manifest {} is {} bytes, too large", desc.digest, desc.size),
            });
        }
        let path = self.blob_path(&desc.digest);
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| CopyError::io(path.display().to_string(), e))?;
        Ok(RawManifest::verified(
            bytes,
            Some(desc.media_type.as_str()),
            &desc.digest,
        )?)
    }

    async fn blob(&self, digest: &Digest) -> Result<(Option<u64>, ByteStream)> {
        let path = self.blob_path(digest);
        let file = tokio::fs::File::open(&path).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                CopyError::NotFound {
                    what: format!("blob {digest}"),
                    location: self.name(),
                }
            } else {
                CopyError::io(path.display().to_string(), e)
            }
        })?;
        let len = file.metadata().await.ok().map(|m| m.len());
        Ok((len, file_stream(file)))
    }

    async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>> {
        Ok(tokio::fs::metadata(self.blob_path(digest))
            .await
            .ok()
            .map(|m| m.len()))
    }

    async fn blob_bytes(&self, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        let path = self.blob_path(digest);
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|e| CopyError::io(path.display().to_string(), e))?;
        if meta.len() > max {
            return Err(CopyError::Layout {
                path: self.name(),
                reason: format!("blob {digest} is larger than {max} bytes"),
            });
        }
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| CopyError::io(path.display().to_string(), e))?;
        digest.verify(&bytes)?;
        Ok(bytes)
    }

    async fn tags(&self) -> Result<Vec<String>> {
        let mut tags: Vec<String> = self
            .index()?
            .manifests
            .iter()
            .filter_map(|m| m.annotations.get(REF_NAME).cloned())
            .collect();
        tags.sort();
        tags.dedup();
        Ok(tags)
    }
}

impl ImageDestination for OciLayout {
    fn describe(&self) -> String {
        self.name()
    }

    fn repo_id(&self) -> Option<RepoId> {
        None
    }

    fn dedup_key(&self) -> String {
        self.name()
    }

    async fn has_blob(&self, digest: &Digest) -> Result<bool> {
        Ok(tokio::fs::metadata(self.blob_path(digest)).await.is_ok())
    }

    async fn mount_blob(&self, _digest: &Digest, _from: &RepoId) -> Result<bool> {
        Ok(false)
    }

    async fn put_blob(&self, desc: &Descriptor, source: &dyn BlobOpener) -> Result<()> {
        let path = self.blob_path(&desc.digest);
        let dir = path.parent().expect("blob path has a parent").to_path_buf();
        let shown = path.display().to_string();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| CopyError::io(dir.display().to_string(), e))?;
        let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), desc.digest.hex()));
        let result: Result<()> = async {
            let mut stream = source.open().await?;
            let mut file = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| CopyError::io(&shown, e))?;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| CopyError::from_io(e, &shown))?;
                file.write_all(&chunk)
                    .await
                    .map_err(|e| CopyError::io(&shown, e))?;
            }
            file.flush().await.map_err(|e| CopyError::io(&shown, e))?;
            drop(file);
            tokio::fs::rename(&tmp, &path)
                .await
                .map_err(|e| CopyError::io(&shown, e))
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    async fn has_manifest(&self, digest: &Digest) -> Result<bool> {
        Ok(tokio::fs::metadata(self.blob_path(digest)).await.is_ok())
    }

    async fn resolve_tag(&self, tag: &str) -> Result<Option<Digest>> {
        Ok(self.find(&Target::Tag(tag.to_string()))?.map(|d| d.digest))
    }

    async fn put_manifest(&self, manifest: &RawManifest, target: &Target) -> Result<Digest> {
        let path = self.blob_path(manifest.digest());
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| CopyError::io(dir.display().to_string(), e))?;
            }
            write_atomic(&path, manifest.bytes())?;
        }
        match target {
            Target::Tag(t) => self.set_tag(Some(t), manifest)?,
            Target::Digest(_) => {}
        }
        Ok(manifest.digest().clone())
    }

    async fn put_untagged(&self, manifest: &RawManifest) -> Result<Digest> {
        let digest = self
            .put_manifest(manifest, &Target::Digest(manifest.digest().clone()))
            .await?;
        self.set_tag(None, manifest)?;
        Ok(digest)
    }

    async fn keep_untagged(&self, manifest: &RawManifest) -> Result<()> {
        self.set_tag(None, manifest)
    }
}
