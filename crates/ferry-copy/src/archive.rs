//! Image archives (`oci-archive:PATH[:TAG]`, `docker-archive:PATH[:REF]`) as places images
//! are read from and written to.
//!
//! An archive is never read or written in place. Reading unpacks it into a private
//! temporary directory as an OCI layout (a `docker save` archive is converted on the way,
//! see [`docker_archive`](crate::docker_archive)) and reads that. Writing builds an OCI
//! layout in a temporary directory; [`Archive::commit`], called once the copy has
//! succeeded, packs it into a temporary file beside `PATH` and renames that over `PATH`.
//! A failed copy therefore leaves no archive, and an existing archive is replaced whole
//! (as skopeo does), never merged with.
//!
//! Layers stream through files, never through memory.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use ferry_image::{Descriptor, Digest, RawManifest, Target};
use ferry_registry::{BlobOpener, ByteStream};
use tempfile::TempDir;

use crate::traits::{ImageDestination, ImageSource, RepoId};
use crate::{CopyError, OciLayout, Result, docker_archive};

/// The two archive formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchiveKind {
    /// A tar of an OCI image layout (`oci-archive:`).
    Oci,
    /// The `docker save` format (`docker-archive:`): `manifest.json`, configs, layer tars.
    Docker,
}

impl ArchiveKind {
    /// The transport prefix, without the colon.
    pub fn transport(self) -> &'static str {
        match self {
            ArchiveKind::Oci => "oci-archive",
            ArchiveKind::Docker => "docker-archive",
        }
    }
}

/// An archive opened for reading or writing, backed by an OCI layout in a temporary
/// directory that is removed when this is dropped.
#[derive(Debug)]
pub struct Archive {
    kind: ArchiveKind,
    path: PathBuf,
    layout: OciLayout,
    /// The `docker-archive:` reference to record in `RepoTags` when writing.
    repo_tag: Option<String>,
    _dir: TempDir,
}

impl Archive {
    /// Unpacks `path` for reading; `selector` is the docker-archive's `REF` or `@N` (the
    /// oci-archive's tag is resolved later, like a layout's).
    pub fn open(kind: ArchiveKind, path: &Path, selector: Option<&str>) -> Result<Archive> {
        let dir = temp_dir()?;
        let layout = match kind {
            ArchiveKind::Oci => {
                let file = open_file(path)?;
                unpack(file, dir.path(), path, false)?;
                OciLayout::open(dir.path()).map_err(|_| {
                    bad(
                        path,
                        "not an OCI archive (no oci-layout file at the top of the tar)",
                    )
                })?
            }
            ArchiveKind::Docker => docker_archive::read(path, selector, dir.path())?,
        };
        Ok(Archive {
            kind,
            path: path.to_path_buf(),
            layout,
            repo_tag: None,
            _dir: dir,
        })
    }

    /// Prepares writing `path`: nothing is written there before [`commit`](Self::commit).
    /// `repo_tag` is the docker-archive's `REF` (normalized), recorded in `RepoTags`.
    pub fn create(kind: ArchiveKind, path: &Path, repo_tag: Option<&str>) -> Result<Archive> {
        if path.is_dir() {
            return Err(bad(path, "is a directory; an archive is a file"));
        }
        let parent = parent_dir(path);
        if !parent.is_dir() {
            return Err(bad(
                path,
                &format!("directory {} does not exist", parent.display()),
            ));
        }
        let dir = temp_dir()?;
        let layout = OciLayout::create(dir.path().join("layout"))?;
        Ok(Archive {
            kind,
            path: path.to_path_buf(),
            layout,
            repo_tag: repo_tag.map(str::to_string),
            _dir: dir,
        })
    }

    /// `oci-archive:PATH` or `docker-archive:PATH`, for messages.
    pub fn name(&self) -> String {
        format!("{}:{}", self.kind.transport(), self.path.display())
    }

    /// The format.
    pub fn kind(&self) -> ArchiveKind {
        self.kind
    }

    /// The unpacked (reading) or staged (writing) layout.
    pub fn layout(&self) -> &OciLayout {
        &self.layout
    }

    /// Writes the archive from what was copied into it, atomically (temporary file beside
    /// the archive, then rename). Call once, after the copy succeeded.
    pub async fn commit(&self) -> Result<()> {
        let kind = self.kind;
        let path = self.path.clone();
        let root = self.layout.root().to_path_buf();
        let repo_tag = self.repo_tag.clone();
        tokio::task::spawn_blocking(move || {
            write_atomically(&path, |out| match kind {
                ArchiveKind::Oci => pack_layout(&root, out, &path),
                ArchiveKind::Docker => {
                    let layout = OciLayout::open(&root)?;
                    docker_archive::write(&layout, repo_tag.as_deref(), out, &path)
                }
            })
        })
        .await
        .map_err(|e| CopyError::io(self.name(), std::io::Error::other(e)))?
    }
}

pub(crate) fn bad(path: &Path, reason: &str) -> CopyError {
    CopyError::Layout {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn temp_dir() -> Result<TempDir> {
    tempfile::Builder::new()
        .prefix("ferry-archive-")
        .tempdir()
        .map_err(|e| CopyError::io("temporary directory", e))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

pub(crate) fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            CopyError::NotFound {
                what: "archive".into(),
                location: path.display().to_string(),
            }
        } else {
            CopyError::io(path.display().to_string(), e)
        }
    })
}

/// Unpacks a tar into `dir`: regular files and directories, and symbolic links when
/// `links` (a `docker save` archive links legacy `ID/layer.tar` names to layers; whoever
/// reads through a link checks it stays inside `dir`). Entries that would land outside
/// `dir` are refused by the tar crate; other entry types are refused here. `shown` names
/// the archive in errors.
pub(crate) fn unpack(input: impl Read, dir: &Path, shown: &Path, links: bool) -> Result<()> {
    let unreadable = |e: std::io::Error| bad(shown, &format!("not a readable tar archive: {e}"));
    let mut archive = tar::Archive::new(input);
    archive.set_preserve_permissions(false);
    archive.set_preserve_mtime(false);
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        let kind = entry.header().entry_type();
        let allowed = kind.is_file()
            || kind.is_dir()
            || (links && kind.is_symlink())
            || kind.is_pax_global_extensions();
        if !allowed {
            let name = entry
                .path()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            return Err(bad(
                shown,
                &format!("{name}: unexpected {kind:?} entry in the archive"),
            ));
        }
        entry.unpack_in(dir).map_err(unreadable)?;
    }
    Ok(())
}

/// Runs `fill` on a temporary file beside `path` and renames it to `path` when `fill`
/// succeeded; removes it otherwise.
fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut tar::Builder<BufWriter<File>>) -> Result<()>,
) -> Result<()> {
    let shown = || path.display().to_string();
    let tmp = tempfile::Builder::new()
        .prefix(".ferry-archive-")
        .tempfile_in(parent_dir(path))
        .map_err(|e| CopyError::io(shown(), e))?;
    let file = tmp.reopen().map_err(|e| CopyError::io(shown(), e))?;
    let mut builder = tar::Builder::new(BufWriter::new(file));
    builder.mode(tar::HeaderMode::Deterministic);
    fill(&mut builder)?;
    let mut out = builder
        .into_inner()
        .map_err(|e| CopyError::io(shown(), e))?;
    out.flush().map_err(|e| CopyError::io(shown(), e))?;
    let file = out
        .into_inner()
        .map_err(|e| CopyError::io(shown(), e.into_error()))?;
    file.sync_all().map_err(|e| CopyError::io(shown(), e))?;
    // A temporary file is private (0600); an archive is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(|e| CopyError::io(shown(), e))?;
    }
    tmp.persist(path)
        .map_err(|e| CopyError::io(shown(), e.error))?;
    Ok(())
}

/// Appends the file `src` under `name` (streamed; mode 0644, mtime 0).
pub(crate) fn append_file(
    out: &mut tar::Builder<BufWriter<File>>,
    name: &str,
    src: &Path,
    shown: &Path,
) -> Result<()> {
    let file = File::open(src).map_err(|e| CopyError::io(src.display().to_string(), e))?;
    let len = file
        .metadata()
        .map_err(|e| CopyError::io(src.display().to_string(), e))?
        .len();
    let mut header = tar::Header::new_ustar();
    header.set_size(len);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    out.append_data(&mut header, name, file)
        .map_err(|e| CopyError::io(shown.display().to_string(), e))
}

/// Appends in-memory bytes under `name`.
pub(crate) fn append_bytes(
    out: &mut tar::Builder<BufWriter<File>>,
    name: &str,
    bytes: &[u8],
    shown: &Path,
) -> Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    out.append_data(&mut header, name, bytes)
        .map_err(|e| CopyError::io(shown.display().to_string(), e))
}

/// Packs an OCI layout: `oci-layout`, `index.json`, then every blob, in a stable order.
fn pack_layout(root: &Path, out: &mut tar::Builder<BufWriter<File>>, shown: &Path) -> Result<()> {
    append_file(out, "oci-layout", &root.join("oci-layout"), shown)?;
    append_file(out, "index.json", &root.join("index.json"), shown)?;
    let blobs = root.join("blobs");
    let mut algorithms = read_dir_sorted(&blobs)?;
    algorithms.retain(|(_, p)| p.is_dir());
    for (alg, dir) in algorithms {
        for (hex, file) in read_dir_sorted(&dir)? {
            // Temporary files of an interrupted write are not part of the layout.
            if hex.starts_with('.') || !file.is_file() {
                continue;
            }
            append_file(out, &format!("blobs/{alg}/{hex}"), &file, shown)?;
        }
    }
    Ok(())
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let shown = || dir.display().to_string();
    let mut entries = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| CopyError::io(shown(), e))? {
        let e = e.map_err(|e| CopyError::io(shown(), e))?;
        if let Some(name) = e.file_name().to_str() {
            entries.push((name.to_string(), e.path()));
        }
    }
    entries.sort();
    Ok(entries)
}

impl ImageSource for Archive {
    fn describe(&self) -> String {
        self.name()
    }
    fn repo_id(&self) -> Option<RepoId> {
        None
    }
    async fn resolve(&self, target: &Target) -> Result<Option<Descriptor>> {
        self.layout.resolve(target).await
    }
    async fn manifest(&self, target: &Target) -> Result<RawManifest> {
        self.layout.manifest(target).await
    }
    async fn blob(&self, digest: &Digest) -> Result<(Option<u64>, ByteStream)> {
        self.layout.blob(digest).await
    }
    async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>> {
        self.layout.blob_size(digest).await
    }
    async fn blob_bytes(&self, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        self.layout.blob_bytes(digest, max).await
    }
    async fn tags(&self) -> Result<Vec<String>> {
        self.layout.tags().await
    }
}

impl ImageDestination for Archive {
    fn describe(&self) -> String {
        self.name()
    }
    fn repo_id(&self) -> Option<RepoId> {
        None
    }
    fn dedup_key(&self) -> String {
        self.layout.dedup_key()
    }
    async fn has_blob(&self, digest: &Digest) -> Result<bool> {
        self.layout.has_blob(digest).await
    }
    async fn mount_blob(&self, _digest: &Digest, _from: &RepoId) -> Result<bool> {
        Ok(false)
    }
    async fn put_blob(&self, desc: &Descriptor, source: &dyn BlobOpener) -> Result<()> {
        self.layout.put_blob(desc, source).await
    }
    async fn has_manifest(&self, digest: &Digest) -> Result<bool> {
        self.layout.has_manifest(digest).await
    }
    async fn resolve_tag(&self, tag: &str) -> Result<Option<Digest>> {
        self.layout.resolve_tag(tag).await
    }
    async fn put_manifest(&self, manifest: &RawManifest, target: &Target) -> Result<Digest> {
        self.layout.put_manifest(manifest, target).await
    }
    async fn put_untagged(&self, manifest: &RawManifest) -> Result<Digest> {
        self.layout.put_untagged(manifest).await
    }
    async fn keep_untagged(&self, manifest: &RawManifest) -> Result<()> {
        self.layout.keep_untagged(manifest).await
    }
}
