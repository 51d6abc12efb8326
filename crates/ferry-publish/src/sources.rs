//! Loading push items from their sources: `file:` documents and `registry:` queries.

use ferry_items::{
    ContainerImagePushItem, ItemsError, PushItem, SkippedItem, SourceUrl, load_file_document,
    load_file_source,
};
use ferry_registry::Client;

use crate::registry_source::{RegistrySourceError, load_registry_source};

/// Why the items of a source could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A `file:` source could not be read or is not a valid push-items document.
    #[error(transparent)]
    File(ItemsError),
    /// A `registry:` source failed.
    #[error("reading the registry source")]
    Registry(#[source] RegistrySourceError),
}

impl LoadError {
    /// Whether the input itself is bad (a document that is not valid push items), rather
    /// than something failing on the way (an unreadable file, a registry error).
    pub fn is_bad_input(&self) -> bool {
        match self {
            LoadError::File(e) => is_bad_document(e),
            LoadError::Registry(_) => false,
        }
    }
}

fn is_bad_document(e: &ItemsError) -> bool {
    match e {
        ItemsError::File { source, .. } => is_bad_document(source),
        // Too large or not UTF-8: the file's content is at fault, not the machine.
        ItemsError::Io { source, .. } => source.kind() == std::io::ErrorKind::InvalidData,
        _ => true,
    }
}

/// One entry of a source read leniently: an item, or an entry that is not a valid item
/// (its name when it has one, and why).
pub type LenientItem = Result<PushItem, (String, String)>;

/// The registries the `registry:` sources ask, sorted, each once: the hosts that need the
/// source credentials.
pub fn source_hosts(sources: &[SourceUrl]) -> Vec<String> {
    let mut hosts: Vec<String> = sources
        .iter()
        .filter_map(|s| match s {
            SourceUrl::Registry(p) => Some(p.images.iter().map(|i| i.registry().to_string())),
            SourceUrl::File(_) => None,
        })
        .flatten()
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

/// Loads the items of every source, in order; the first invalid item of a file fails it.
/// `client` reads the `registry:` sources.
pub async fn load_items(
    sources: &[SourceUrl],
    client: &Client,
) -> Result<Vec<PushItem>, LoadError> {
    let mut items = Vec::new();
    for s in sources {
        match s {
            SourceUrl::File(path) => items.extend(load_file_source(path).map_err(LoadError::File)?),
            SourceUrl::Registry(params) => items.extend(
                load_registry_source(client, params)
                    .await
                    .map_err(LoadError::Registry)?,
            ),
        }
    }
    Ok(items)
}

/// Like [`load_items`], also returning the entries of pushsource's other classes (with
/// the path of their file), which [`load_items`] leaves out.
pub async fn load_items_and_skipped(
    sources: &[SourceUrl],
    client: &Client,
) -> Result<(Vec<PushItem>, Vec<(String, SkippedItem)>), LoadError> {
    let mut items = Vec::new();
    let mut skipped = Vec::new();
    for s in sources {
        match s {
            SourceUrl::File(path) => {
                let doc = load_file_document(path).map_err(LoadError::File)?;
                let (i, k) = doc.into_items().map_err(|e| {
                    LoadError::File(ItemsError::File {
                        path: path.clone(),
                        source: Box::new(e),
                    })
                })?;
                items.extend(i);
                let shown = path.display().to_string();
                skipped.extend(k.into_iter().map(|k| (shown.clone(), k)));
            }
            SourceUrl::Registry(params) => items.extend(
                load_registry_source(client, params)
                    .await
                    .map_err(LoadError::Registry)?,
            ),
        }
    }
    Ok((items, skipped))
}

/// The registries the items name in their pull specs (tag and digest specs, and those of
/// an operator manifest's container images), sorted, each once: the hosts a push reads
/// the images from.
pub fn item_hosts<'a>(items: impl IntoIterator<Item = &'a PushItem>) -> Vec<String> {
    fn pull_hosts(i: &ContainerImagePushItem, hosts: &mut Vec<String>) {
        add_pull_info(i.pull_info(), hosts);
    }
    fn add_pull_info(p: &ferry_items::ContainerImagePullInfo, hosts: &mut Vec<String>) {
        hosts.extend(p.tag_specs().iter().map(|s| s.registry().to_string()));
        hosts.extend(p.digest_specs().iter().map(|s| s.registry().to_string()));
    }
    let mut hosts = Vec::new();
    for item in items {
        match item {
            PushItem::ContainerImage(i) => pull_hosts(i, &mut hosts),
            PushItem::SourceContainerImage(i) => add_pull_info(i.pull_info(), &mut hosts),
            PushItem::OperatorManifest(i) => {
                for c in i.container_image_items() {
                    pull_hosts(c, &mut hosts);
                }
            }
        }
    }
    hosts.sort();
    hosts.dedup();
    hosts
}

/// The entries of the `file:` sources, read leniently, in the order of `sources`.
#[derive(Debug, Default)]
pub struct FileEntries {
    /// Per source: its entries, `None` for a `registry:` source (read later by
    /// [`finish_loading`], with a client that knows the credentials of the hosts the file
    /// items name).
    pub entries: Vec<Option<Vec<LenientItem>>>,
    /// The entries of pushsource's other classes, with the path of their file.
    pub skipped: Vec<(String, SkippedItem)>,
}

/// Reads the `file:` sources leniently (see [`load_items_lenient`]), keeping the entries
/// of pushsource's other classes aside; the `registry:` sources are left for
/// [`finish_loading`].
pub fn load_file_sources_lenient(sources: &[SourceUrl]) -> Result<FileEntries, LoadError> {
    let mut out = FileEntries::default();
    for s in sources {
        match s {
            SourceUrl::File(path) => {
                let doc = load_file_document(path).map_err(LoadError::File)?;
                let shown = path.display().to_string();
                out.entries.push(Some(
                    doc.entries
                        .into_iter()
                        .map(|entry| {
                            entry.map_err(|(name, e)| {
                                (name.unwrap_or_else(|| shown.clone()), e.to_string())
                            })
                        })
                        .collect(),
                ));
                out.skipped
                    .extend(doc.skipped.into_iter().map(|k| (shown.clone(), k)));
            }
            SourceUrl::Registry(_) => out.entries.push(None),
        }
    }
    Ok(out)
}

/// The items of every source, in order: the entries `files` read from the `file:`
/// sources, and the items of the `registry:` sources, read now with `client`.
pub async fn finish_loading(
    sources: &[SourceUrl],
    files: FileEntries,
    client: &Client,
) -> Result<Vec<LenientItem>, LoadError> {
    let mut items = Vec::new();
    for (s, loaded) in sources.iter().zip(files.entries) {
        match (s, loaded) {
            (_, Some(entries)) => items.extend(entries),
            (SourceUrl::Registry(params), None) => items.extend(
                load_registry_source(client, params)
                    .await
                    .map_err(LoadError::Registry)?
                    .into_iter()
                    .map(Ok),
            ),
            (SourceUrl::File(_), None) => {}
        }
    }
    Ok(items)
}

/// Loads the items of every source, in order, keeping the entries of a file that are not
/// valid items as errors (named by the item's name, else the file's path) instead of
/// failing the file. A file that cannot be read or is not a list still fails.
pub async fn load_items_lenient(
    sources: &[SourceUrl],
    client: &Client,
) -> Result<Vec<LenientItem>, LoadError> {
    let files = load_file_sources_lenient(sources)?;
    finish_loading(sources, files, client).await
}
