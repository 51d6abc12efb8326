//! Loading push items from their sources: `file:` documents and `registry:` queries.

use ferry_items::{ItemsError, PushItem, SourceUrl, load_file_source, load_file_source_lenient};
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

/// Loads the items of every source, in order, keeping the entries of a file that are not
/// valid items as errors (named by the item's name, else the file's path) instead of
/// failing the file. A file that cannot be read or is not a list still fails.
pub async fn load_items_lenient(
    sources: &[SourceUrl],
    client: &Client,
) -> Result<Vec<LenientItem>, LoadError> {
    let mut items = Vec::new();
    for s in sources {
        match s {
            SourceUrl::File(path) => {
                for entry in load_file_source_lenient(path).map_err(LoadError::File)? {
                    items.push(entry.map_err(|(name, e)| {
                        (
                            name.unwrap_or_else(|| path.display().to_string()),
                            e.to_string(),
                        )
                    }));
                }
            }
            SourceUrl::Registry(params) => items.extend(
                load_registry_source(client, params)
                    .await
                    .map_err(LoadError::Registry)?
                    .into_iter()
                    .map(Ok),
            ),
        }
    }
    Ok(items)
}
