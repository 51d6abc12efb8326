//! The serialized form of push items, read and written in YAML and JSON: a list of one-key
//! maps from class name to fields, as `pushsource-ls --format yaml` prints it.
//!
//! Writing prints every field in a fixed order (absent values as `null`), so the output is
//! deterministic; reading accepts missing optional fields, refuses unknown classes and
//! unknown fields, and validates every item.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize};

use super::common::Common;
use super::image::ImageFields;
use super::item::ITEM_CLASSES;
use super::pullspec::RawPullInfo;
use super::{
    BuildInfo, ContainerImagePushItem, ItemsError, OperatorManifestPushItem, PushItem,
    PushItemState, SourceContainerImagePushItem,
};

/// Fields of a (source) container image item, in the order they are written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    #[serde(default)]
    name: String,
    #[serde(default)]
    state: PushItemState,
    #[serde(default)]
    src: Option<String>,
    #[serde(default)]
    dest: Vec<String>,
    #[serde(default)]
    md5sum: Option<String>,
    #[serde(default)]
    sha256sum: Option<String>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    build: Option<String>,
    #[serde(default)]
    build_info: Option<BuildInfo>,
    #[serde(default)]
    signing_key: Option<String>,
    #[serde(default)]
    dest_signing_key: Option<String>,
    #[serde(default)]
    source_tags: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    arch: Option<String>,
    #[serde(default)]
    pull_info: Option<RawPullInfo>,
    #[serde(default)]
    product_name: Option<String>,
}

/// Fields of an operator manifest item, in the order they are written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperator {
    #[serde(default)]
    name: String,
    #[serde(default)]
    state: PushItemState,
    #[serde(default)]
    src: Option<String>,
    #[serde(default)]
    dest: Vec<String>,
    #[serde(default)]
    md5sum: Option<String>,
    #[serde(default)]
    sha256sum: Option<String>,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    build: Option<String>,
    #[serde(default)]
    build_info: Option<BuildInfo>,
    #[serde(default)]
    signing_key: Option<String>,
    #[serde(default)]
    related_images: Vec<String>,
    #[serde(default)]
    container_image_items: Vec<RawImage>,
}

impl RawImage {
    fn from_item(common: &Common, image: &ImageFields) -> RawImage {
        let c = common.clone();
        let i = image.clone();
        RawImage {
            name: c.name,
            state: c.state,
            src: c.src,
            dest: c.dest,
            md5sum: c.md5sum,
            sha256sum: c.sha256sum,
            origin: c.origin,
            build: c.build,
            build_info: c.build_info,
            signing_key: c.signing_key,
            dest_signing_key: i.dest_signing_key,
            source_tags: i.source_tags,
            labels: i.labels,
            arch: i.arch,
            pull_info: Some(RawPullInfo::from(i.pull_info)),
            product_name: i.product_name,
        }
    }

    fn into_parts(self) -> Result<(Common, ImageFields), ItemsError> {
        let common = Common {
            name: self.name,
            state: self.state,
            src: self.src,
            dest: self.dest,
            md5sum: self.md5sum,
            sha256sum: self.sha256sum,
            origin: self.origin,
            build: self.build,
            build_info: self.build_info,
            signing_key: self.signing_key,
        }
        .validated()?;
        let pull_info = self
            .pull_info
            .ok_or_else(|| ItemsError::field(&common.name, "pull_info", "required"))?
            .validate(&common.name, "pull_info")?;
        let image = ImageFields {
            dest_signing_key: self.dest_signing_key,
            source_tags: self.source_tags,
            labels: self.labels,
            arch: self.arch,
            pull_info,
            product_name: self.product_name,
        };
        Ok((common, image))
    }
}

impl RawOperator {
    fn from_item(item: &OperatorManifestPushItem) -> RawOperator {
        let c = item.common.clone();
        RawOperator {
            name: c.name,
            state: c.state,
            src: c.src,
            dest: c.dest,
            md5sum: c.md5sum,
            sha256sum: c.sha256sum,
            origin: c.origin,
            build: c.build,
            build_info: c.build_info,
            signing_key: c.signing_key,
            related_images: item.related_images.clone(),
            container_image_items: item
                .container_image_items
                .iter()
                .map(|i| RawImage::from_item(&i.common, &i.image))
                .collect(),
        }
    }

    fn into_item(self) -> Result<OperatorManifestPushItem, ItemsError> {
        let common = Common {
            name: self.name,
            state: self.state,
            src: self.src,
            dest: self.dest,
            md5sum: self.md5sum,
            sha256sum: self.sha256sum,
            origin: self.origin,
            build: self.build,
            build_info: self.build_info,
            signing_key: self.signing_key,
        }
        .validated()?;
        let mut inner = Vec::with_capacity(self.container_image_items.len());
        for raw in self.container_image_items {
            let (common, image) = raw.into_parts()?;
            inner.push(ContainerImagePushItem { common, image });
        }
        let item = OperatorManifestPushItem {
            common,
            related_images: self.related_images,
            container_image_items: inner,
        };
        item.check_related_images()?;
        Ok(item)
    }
}

/// One entry of the document: `{CLASS: FIELDS}`.
enum Entry {
    Image(&'static str, RawImage),
    Operator(RawOperator),
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        match self {
            Entry::Image(class, fields) => map.serialize_entry(class, fields)?,
            Entry::Operator(fields) => map.serialize_entry(ITEM_CLASSES[2], fields)?,
        }
        map.end()
    }
}

fn entries(items: &[PushItem]) -> Vec<Entry> {
    items
        .iter()
        .map(|item| match item {
            PushItem::ContainerImage(i) => {
                Entry::Image(item.kind(), RawImage::from_item(&i.common, &i.image))
            }
            PushItem::SourceContainerImage(i) => {
                Entry::Image(item.kind(), RawImage::from_item(&i.common, &i.image))
            }
            PushItem::OperatorManifest(i) => Entry::Operator(RawOperator::from_item(i)),
        })
        .collect()
}

/// Reads push items from the YAML form; every item is validated, the first invalid one
/// fails the whole document.
pub fn read_items_yaml(text: &str) -> Result<Vec<PushItem>, ItemsError> {
    strict(read_items_yaml_lenient(text)?)
}

/// Reads push items from the JSON form; every item is validated, the first invalid one
/// fails the whole document.
pub fn read_items_json(text: &str) -> Result<Vec<PushItem>, ItemsError> {
    strict(read_items_json_lenient(text)?)
}

/// The items of a leniently read document, or its first invalid entry's error.
pub(crate) fn strict(entries: Vec<LenientEntry>) -> Result<Vec<PushItem>, ItemsError> {
    entries.into_iter().map(|e| e.map_err(|(_, e)| e)).collect()
}

/// Writes push items in the YAML form, every field in a fixed order.
pub fn write_items_yaml(items: &[PushItem]) -> String {
    // Plain strings, lists and string-keyed maps: serializing them cannot fail.
    serde_norway::to_string(&entries(items)).expect("push items always serialize to YAML")
}

/// Writes push items in the JSON form (pretty, ending with a newline).
pub fn write_items_json(items: &[PushItem]) -> String {
    let mut out =
        serde_json::to_string_pretty(&entries(items)).expect("push items always serialize to JSON");
    out.push('\n');
    out
}

/// One entry of a document read leniently: the item, or why it is invalid together with
/// the entry's `name` when it has one.
pub type LenientEntry = Result<PushItem, (Option<String>, ItemsError)>;

/// Reads the YAML form entry by entry: a malformed document is an error, an invalid entry
/// is returned as such (so a push can report it INVALID and push the rest).
pub fn read_items_yaml_lenient(text: &str) -> Result<Vec<LenientEntry>, ItemsError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let doc: serde_json::Value = serde_norway::from_str(text).map_err(ItemsError::Yaml)?;
    read_document_lenient(doc)
}

/// Reads the JSON form entry by entry (see [`read_items_yaml_lenient`]).
pub fn read_items_json_lenient(text: &str) -> Result<Vec<LenientEntry>, ItemsError> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(ItemsError::Json)?;
    read_document_lenient(doc)
}

fn read_document_lenient(doc: serde_json::Value) -> Result<Vec<LenientEntry>, ItemsError> {
    let entries = match doc {
        serde_json::Value::Array(entries) => entries,
        serde_json::Value::Null => return Ok(Vec::new()),
        _ => {
            return Err(ItemsError::InvalidDocument {
                reason: "expected a list of items, each a one-key map from class name to fields"
                    .into(),
            });
        }
    };
    Ok(entries
        .into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let name = entry
                .as_object()
                .and_then(|m| m.values().next())
                .and_then(|f| f.get("name"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string);
            read_entry(index, entry).map_err(|e| (name, e))
        })
        .collect())
}

fn read_entry(index: usize, entry: serde_json::Value) -> Result<PushItem, ItemsError> {
    let bad = |name: Option<String>, reason: String| ItemsError::InvalidEntry {
        index,
        name,
        reason,
    };
    let serde_json::Value::Object(map) = entry else {
        return Err(bad(
            None,
            "expected a one-key map from class name to fields".into(),
        ));
    };
    let mut pairs = map.into_iter();
    let (class, fields) = match (pairs.next(), pairs.next()) {
        (Some(pair), None) => pair,
        _ => {
            return Err(bad(
                None,
                "expected a one-key map from class name to fields".into(),
            ));
        }
    };
    let name = fields
        .get("name")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    let mut fields = fields;
    drop_nulls(&mut fields, false);
    let type_error = |e: serde_json::Error| {
        let reason = e.to_string();
        let scalar = reason
            .starts_with("invalid type")
            .then(|| misplaced_scalar(&fields, ""))
            .flatten();
        bad(
            name.clone(),
            scalar.unwrap_or_else(|| format!("{class}: {reason}")),
        )
    };
    match class.as_str() {
        "ContainerImagePushItem" | "SourceContainerImagePushItem" => {
            let raw = RawImage::deserialize(&fields).map_err(type_error)?;
            let (common, image) = raw.into_parts()?;
            Ok(if class == "ContainerImagePushItem" {
                PushItem::ContainerImage(ContainerImagePushItem { common, image })
            } else {
                PushItem::SourceContainerImage(SourceContainerImagePushItem { common, image })
            })
        }
        "OperatorManifestPushItem" => {
            let raw = RawOperator::deserialize(&fields).map_err(type_error)?;
            Ok(PushItem::OperatorManifest(raw.into_item()?))
        }
        other => Err(bad(
            name.clone(),
            format!(
                "unknown item class {other:?}; ferry reads {}",
                ITEM_CLASSES.join(", ")
            ),
        )),
    }
}

/// Drops `null` fields of items, pull info and specs, so that `null` means "absent"
/// (`dest: null` is an empty list); values inside `labels` are left alone.
fn drop_nulls(value: &mut serde_json::Value, in_labels: bool) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if !in_labels {
                map.retain(|_, v| !v.is_null());
            }
            for (key, v) in map.iter_mut() {
                drop_nulls(v, !in_labels && key == "labels");
            }
        }
        Value::Array(list) => list.iter_mut().for_each(|v| drop_nulls(v, false)),
        _ => {}
    }
}

/// After a type error: the first number or boolean where a string belongs, with its field
/// path. Such values are refused rather than converted, since YAML's `1.10` would silently
/// become `1.1`. `build_info.id` is the only numeric field.
fn misplaced_scalar(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::Object(map) => map.iter().find_map(|(key, v)| {
            if key == "id" && path.ends_with("build_info") {
                return None;
            }
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            misplaced_scalar(v, &child)
        }),
        Value::Array(list) => list
            .iter()
            .enumerate()
            .find_map(|(i, v)| misplaced_scalar(v, &format!("{path}[{i}]"))),
        Value::Number(_) | Value::Bool(_) => Some(format!(
            "field {path}: expected a string, found {value} (quote it)"
        )),
        Value::Null | Value::String(_) => None,
    }
}
