//! The serialized form of push items, read and written in YAML and JSON: a list of one-key
//! maps from class name to fields, as `pushsource-ls --format yaml` prints it.
//!
//! Writing prints every field (absent values as `null`) in pushsource's order, its keys
//! sorted as PyYAML sorts them, so the output is deterministic and reads like
//! `pushsource-ls` output; `opener` is left out, as `pushsource-ls` leaves it out.
//!
//! Reading accepts missing optional fields and `null` for absent ones (`opener: null`
//! included), validates every item, refuses unknown fields and unknown classes, and keeps
//! the entries of pushsource's other classes (errata, files, RPMs, ...) aside as
//! [`SkippedItem`]s.

use serde::Deserialize;
use serde::Serialize;
use serde::ser::SerializeMap;

use super::document::{ItemsDocument, LenientEntry, SKIPPED_CLASSES, SkippedItem, strict};
use super::item::ITEM_CLASSES;
use super::node::{DocumentNode, Node};
use super::raw::{RawImage, RawOperator};
use super::{ContainerImagePushItem, ItemsError, PushItem, SourceContainerImagePushItem};

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
/// fails the whole document. Entries of pushsource's other classes are left out: use
/// [`read_document_yaml`] to list them.
pub fn read_items_yaml(text: &str) -> Result<Vec<PushItem>, ItemsError> {
    strict(read_document_yaml(text)?.entries)
}

/// Reads push items from the JSON form; every item is validated, the first invalid one
/// fails the whole document. Entries of pushsource's other classes are left out: use
/// [`read_document_json`] to list them.
pub fn read_items_json(text: &str) -> Result<Vec<PushItem>, ItemsError> {
    strict(read_document_json(text)?.entries)
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

/// Reads the YAML form entry by entry: a malformed document is an error, an invalid entry
/// is returned as such (so a push can report it INVALID and push the rest). Entries of
/// pushsource's other classes are left out: use [`read_document_yaml`] to list them.
pub fn read_items_yaml_lenient(text: &str) -> Result<Vec<LenientEntry>, ItemsError> {
    Ok(read_document_yaml(text)?.entries)
}

/// Reads the JSON form entry by entry (see [`read_items_yaml_lenient`]).
pub fn read_items_json_lenient(text: &str) -> Result<Vec<LenientEntry>, ItemsError> {
    Ok(read_document_json(text)?.entries)
}

/// Reads the YAML form entry by entry, keeping the entries of pushsource's other classes
/// (see [`SKIPPED_CLASSES`](crate::SKIPPED_CLASSES)) as [`SkippedItem`]s; a malformed
/// document or an unknown class is an error, an invalid item is returned as such.
pub fn read_document_yaml(text: &str) -> Result<ItemsDocument, ItemsError> {
    let text = ferry_image::strip_bom(text);
    if text.trim().is_empty() {
        return Ok(ItemsDocument::default());
    }
    check_nesting(text)?;
    let doc: DocumentNode = serde_norway::from_str(text).map_err(ItemsError::Yaml)?;
    read_document(doc)
}

/// Refuses brackets nested so deep that the parser would take long to refuse them.
fn check_nesting(text: &str) -> Result<(), ItemsError> {
    ferry_image::check_nesting(text, ferry_image::MAX_TEXT_NESTING)
        .map_err(|reason| ItemsError::InvalidDocument { reason })
}

/// Reads the JSON form entry by entry (see [`read_document_yaml`]).
pub fn read_document_json(text: &str) -> Result<ItemsDocument, ItemsError> {
    let text = ferry_image::strip_bom(text);
    check_nesting(text)?;
    let doc: DocumentNode = serde_json::from_str(text).map_err(ItemsError::Json)?;
    read_document(doc)
}

/// What one entry of a document is.
enum Read {
    Item(Box<PushItem>),
    Skipped(SkippedItem),
}

fn read_document(doc: DocumentNode) -> Result<ItemsDocument, ItemsError> {
    let entries = match doc {
        DocumentNode::List(entries) => entries,
        DocumentNode::Other(Node {
            value: serde_json::Value::Null,
            ..
        }) => return Ok(ItemsDocument::default()),
        _ => {
            return Err(ItemsError::InvalidDocument {
                reason: "expected a list of items, each a one-key map from class name to fields"
                    .into(),
            });
        }
    };
    let mut out = ItemsDocument::default();
    for (index, node) in entries.into_iter().enumerate() {
        let entry = node.value;
        let name = entry
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(|f| f.get("name"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
        if let Some(key) = node.duplicates.first() {
            // The path starts with the class; the fields are what the reader knows.
            let key = key.split_once('.').map_or(key.as_str(), |(_, rest)| rest);
            let reason = format!("duplicate key {key:?} (a key may appear only once)");
            out.entries.push(Err((
                name.clone(),
                ItemsError::InvalidEntry {
                    index,
                    name,
                    reason,
                },
            )));
            continue;
        }
        match read_entry(index, entry) {
            Ok(Read::Item(item)) => out.entries.push(Ok(*item)),
            Ok(Read::Skipped(skipped)) => out.skipped.push(skipped),
            Err(e) => out.entries.push(Err((name, e))),
        }
    }
    Ok(out)
}

fn read_entry(index: usize, entry: serde_json::Value) -> Result<Read, ItemsError> {
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
    if SKIPPED_CLASSES.contains(&class.as_str()) {
        let serde_json::Value::Object(fields) = fields else {
            return Err(bad(name, format!("{class}: expected a map of fields")));
        };
        let state = fields
            .get("state")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
        return Ok(Read::Skipped(SkippedItem {
            index,
            class,
            name,
            state,
            fields,
        }));
    }
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
            Ok(Read::Item(Box::new(if class == "ContainerImagePushItem" {
                PushItem::ContainerImage(ContainerImagePushItem { common, image })
            } else {
                PushItem::SourceContainerImage(SourceContainerImagePushItem { common, image })
            })))
        }
        "OperatorManifestPushItem" => {
            let raw = RawOperator::deserialize(&fields).map_err(type_error)?;
            Ok(Read::Item(Box::new(PushItem::OperatorManifest(
                raw.into_item()?,
            ))))
        }
        other => Err(bad(
            name.clone(),
            format!(
                "unknown item class {other:?}; ferry pushes {} and skips pushsource's {}",
                ITEM_CLASSES.join(", "),
                SKIPPED_CLASSES.join(", ")
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
