//! Where push items come from: pushsource's source URLs, `BACKEND:[REMOTE][?]KEY=VALUE&...`.
//!
//! ferry implements two backends:
//! - `file:PATH` (or a bare path ending in `.yaml`, `.yml` or `.json`): items in the
//!   serialized form, loaded by [`load_file_source`].
//! - `registry:?image=HOST/REPO:TAG[,...]&dest=REPO[,...]&dest_signing_key=KEY[,...]&product_name=NAME`:
//!   parsed here into [`RegistrySourceParams`]; asking the registry is the workflows' job.
//!
//! Query values are comma-separated lists; each element is percent-decoded after the split
//! (so `%2C` is a literal comma), and `+` is a space. Repeated keys add to the list.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ferry_image::Reference;

use super::document::{ItemsDocument, LenientEntry, strict};
use super::serial::{read_document_json, read_document_yaml};
use super::{ItemsError, PushItem};

/// The backends pushsource has that need a service ferry cannot reach.
const SERVICE_BACKENDS: &[&str] = &["koji", "errata", "pub"];

/// A parsed source URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceUrl {
    /// Items from a file in the serialized form.
    File(PathBuf),
    /// Items built by asking a registry about images.
    Registry(RegistrySourceParams),
}

/// The parameters of a `registry:` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySourceParams {
    /// The images to ask about (`image=`), at least one; tags, digests and ports accepted.
    pub images: Vec<Reference>,
    /// Destinations of every item (`dest=`).
    pub dest: Vec<String>,
    /// Signing keys (`dest_signing_key=`); several keys give one item per key.
    pub dest_signing_keys: Vec<String>,
    /// The product name (`product_name=`).
    pub product_name: Option<String>,
}

impl SourceUrl {
    /// Parses a source URL (see the module documentation).
    pub fn parse(url: &str) -> Result<SourceUrl, ItemsError> {
        let invalid = |reason: String| ItemsError::InvalidSource {
            url: url.to_string(),
            reason,
        };
        let backend = url.split_once(':').filter(|(b, _)| {
            b.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && b.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
        let Some((backend, rest)) = backend else {
            if is_items_path(url) {
                return Ok(SourceUrl::File(PathBuf::from(url)));
            }
            return Err(invalid(
                "expected BACKEND:[REMOTE][?KEY=VALUE&...] or a path ending in .yaml, .yml or .json"
                    .into(),
            ));
        };
        match backend {
            "file" => {
                if rest.is_empty() {
                    return Err(invalid("file: needs a path, as in file:items.yaml".into()));
                }
                Ok(SourceUrl::File(PathBuf::from(rest)))
            }
            "registry" => parse_registry(rest)
                .map(SourceUrl::Registry)
                .map_err(invalid),
            b if SERVICE_BACKENDS.contains(&b) => Err(ItemsError::UnsupportedBackend {
                url: url.to_string(),
                backend: b.to_string(),
                reason: "needs a service not available to ferry".into(),
            }),
            b => Err(ItemsError::UnsupportedBackend {
                url: url.to_string(),
                backend: b.to_string(),
                reason: "unknown backend".into(),
            }),
        }
    }
}

impl FromStr for SourceUrl {
    type Err = ItemsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SourceUrl::parse(s)
    }
}

impl fmt::Display for SourceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceUrl::File(p) => write!(f, "file:{}", p.display()),
            SourceUrl::Registry(p) => {
                let list = |values: &mut dyn Iterator<Item = String>| {
                    values
                        .map(|v| percent_encode(&v))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                let images = list(&mut p.images.iter().map(|r| r.to_string()));
                write!(f, "registry:?image={images}")?;
                if !p.dest.is_empty() {
                    write!(f, "&dest={}", list(&mut p.dest.iter().cloned()))?;
                }
                if !p.dest_signing_keys.is_empty() {
                    let keys = list(&mut p.dest_signing_keys.iter().cloned());
                    write!(f, "&dest_signing_key={keys}")?;
                }
                if let Some(name) = &p.product_name {
                    write!(f, "&product_name={}", percent_encode(name))?;
                }
                Ok(())
            }
        }
    }
}

fn is_items_path(s: &str) -> bool {
    [".yaml", ".yml", ".json"]
        .iter()
        .any(|ext| s.ends_with(ext))
}

fn parse_registry(rest: &str) -> Result<RegistrySourceParams, String> {
    let (remote, query) = rest.split_once('?').unwrap_or(("", rest));
    if !remote.is_empty() {
        return Err(format!(
            "the registry backend takes no remote ({remote:?}); write registry:?image=HOST/REPO:TAG"
        ));
    }
    let mut params = RegistrySourceParams {
        images: Vec::new(),
        dest: Vec::new(),
        dest_signing_keys: Vec::new(),
        product_name: None,
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("expected KEY=VALUE, found {pair:?}"))?;
        let key = percent_decode(key)?;
        let values = value
            .split(',')
            .filter(|v| !v.is_empty())
            .map(percent_decode)
            .collect::<Result<Vec<_>, _>>()?;
        match key.as_str() {
            "image" => {
                for v in values {
                    params
                        .images
                        .push(Reference::parse(&v).map_err(|e| format!("image=: {e}"))?);
                }
            }
            "dest" => params.dest.extend(values),
            "dest_signing_key" => params.dest_signing_keys.extend(values),
            "product_name" => match (values.as_slice(), &params.product_name) {
                ([one], None) => params.product_name = Some(one.clone()),
                ([], _) => {}
                _ => return Err("product_name= takes a single value".into()),
            },
            other => {
                return Err(format!(
                    "unknown option {other:?}; the registry backend takes image, dest, dest_signing_key, product_name"
                ));
            }
        }
    }
    if params.images.is_empty() {
        return Err("the registry backend needs image=HOST/REPO:TAG (one or more)".into());
    }
    Ok(params)
}

/// Escapes what [`percent_decode`] and the query syntax would read differently.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes and `+` (a space); refuses malformed escapes and non-UTF-8.
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("malformed percent escape in {s:?}"))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} does not decode to UTF-8"))
}

/// Loads the items of a `file:` source: JSON when the path ends in `.json`, YAML otherwise.
/// Errors name the path; the first invalid item fails the whole file.
pub fn load_file_source(path: impl AsRef<Path>) -> Result<Vec<PushItem>, ItemsError> {
    let path = path.as_ref();
    strict(load_file_source_lenient(path)?).map_err(|e| ItemsError::File {
        path: path.to_path_buf(),
        source: Box::new(e),
    })
}

/// Loads a `file:` source entry by entry: the file must be readable and a list, but an
/// invalid entry comes back as such instead of failing the whole file. Entries of
/// pushsource's other classes are left out: use [`load_file_document`] to list them.
pub fn load_file_source_lenient(path: impl AsRef<Path>) -> Result<Vec<LenientEntry>, ItemsError> {
    Ok(load_file_document(path)?.entries)
}

/// Loads a `file:` source entry by entry, with the entries of pushsource's other classes
/// (errata, files, RPMs, ...) kept aside as skipped: JSON when the path ends in `.json`,
/// YAML otherwise. Errors name the path.
pub fn load_file_document(path: impl AsRef<Path>) -> Result<ItemsDocument, ItemsError> {
    let path = path.as_ref();
    let text = ferry_image::read_bounded_text(path, ferry_image::MAX_ITEMS_FILE_SIZE).map_err(
        |source| ItemsError::Io {
            path: path.to_path_buf(),
            source,
        },
    )?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let document = if is_json {
        read_document_json(&text)
    } else {
        read_document_yaml(&text)
    };
    document.map_err(|e| ItemsError::File {
        path: path.to_path_buf(),
        source: Box::new(e),
    })
}
