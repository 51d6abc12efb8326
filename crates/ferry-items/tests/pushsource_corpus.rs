//! pushsource's own output (its test baselines, see tests/data/pushsource/README.md) read by
//! ferry: every entry is read, the container items field for field, the other classes as
//! skipped; ferry writes the container items back with pushsource's field names and order.

use std::path::PathBuf;

use ferry_items::{
    ITEM_CLASSES, PushItem, read_document_json, read_document_yaml, read_items_json,
    read_items_yaml, write_items_json, write_items_yaml,
};
use serde_json::Value;

fn corpus() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/pushsource");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), 8, "the corpus described in its README");
    files
}

/// The `items` of a baseline case, as a YAML list (what `pushsource-ls` prints, `opener`
/// aside). The baselines are templates: `{{ src_dir }}` stands for pushsource's checkout.
fn items_of(case: &str) -> Value {
    let case = case.replace("{{ src_dir }}", "/usr/src/pushsource");
    let doc: Value = serde_norway::from_str(&case).unwrap();
    doc["items"].clone()
}

/// Removes `opener` from an item's fields and from its container_image_items.
fn without_opener(mut fields: Value) -> Value {
    if let Some(map) = fields.as_object_mut() {
        map.remove("opener");
        if let Some(Value::Array(inner)) = map.get_mut("container_image_items") {
            for i in inner.iter_mut() {
                *i = without_opener(i.take());
            }
        }
    }
    fields
}

fn class_and_fields(entry: &Value) -> (String, Value) {
    let (class, fields) = entry.as_object().unwrap().iter().next().unwrap();
    (class.clone(), fields.clone())
}

#[test]
fn every_baseline_reads_with_other_classes_skipped() {
    let mut container_items = 0;
    let mut skipped_classes = Vec::new();
    for (file, case) in corpus() {
        let entries = items_of(&case);
        let text = serde_norway::to_string(&entries).unwrap();
        let doc = read_document_yaml(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let expected = entries.as_array().unwrap();
        assert_eq!(
            doc.entries.len() + doc.skipped.len(),
            expected.len(),
            "{file}: every entry is an item or skipped"
        );
        for entry in &doc.entries {
            let item = entry
                .as_ref()
                .unwrap_or_else(|(n, e)| panic!("{file}: {n:?}: {e}"));
            assert!(ITEM_CLASSES.contains(&item.kind()));
            container_items += 1;
        }
        for s in &doc.skipped {
            let (class, fields) = class_and_fields(&expected[s.index]);
            assert_eq!(s.class, class, "{file}");
            assert_eq!(s.name.as_deref(), fields["name"].as_str(), "{file}");
            assert_eq!(s.state.as_deref(), Some("PENDING"), "{file}");
            assert_eq!(Value::Object(s.fields.clone()), fields, "{file}");
            assert!(s.to_string().contains(&class), "{s}");
            skipped_classes.push(s.class.clone());
        }
        // The strict readers leave the skipped entries out and fail on nothing here.
        assert_eq!(read_items_yaml(&text).unwrap().len(), doc.entries.len());
    }
    assert_eq!(container_items, 1 + 2 + 44);
    skipped_classes.sort();
    skipped_classes.dedup();
    assert_eq!(
        skipped_classes,
        [
            "ErratumPushItem",
            "FilePushItem",
            "ModuleMdPushItem",
            "RpmPushItem"
        ]
    );
}

#[test]
fn container_items_read_back_field_for_field() {
    let mut compared = 0;
    for (file, case) in corpus() {
        let entries = items_of(&case);
        for entry in entries.as_array().unwrap() {
            let (class, fields) = class_and_fields(entry);
            if !ITEM_CLASSES.contains(&class.as_str()) {
                continue;
            }
            let one = serde_norway::to_string(&vec![entry.clone()]).unwrap();
            let items = read_items_yaml(&one).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(items.len(), 1);
            // Written by ferry, every field is pushsource's, with the same value.
            let written = write_items_yaml(&items);
            let back: Value = serde_norway::from_str(&written).unwrap();
            let (back_class, back_fields) = class_and_fields(&back[0]);
            assert_eq!(back_class, class, "{file}");
            assert_eq!(
                back_fields,
                without_opener(fields.clone()),
                "{file}: {class}"
            );
            // And the key order is pushsource's (PyYAML sorts keys) at every level.
            assert_sorted_keys(&back_fields, &format!("{file}: {class}"));
            // read -> write -> read gives the same items, in YAML and JSON.
            assert_eq!(read_items_yaml(&written).unwrap(), items, "{file}");
            let json = write_items_json(&items);
            assert_eq!(read_items_json(&json).unwrap(), items, "{file}");
            compared += 1;
        }
    }
    assert_eq!(compared, 47);
}

fn assert_sorted_keys(value: &Value, at: &str) {
    match value {
        Value::Object(map) => {
            let keys: Vec<&String> = map.keys().collect();
            let mut sorted = keys.clone();
            sorted.sort();
            // `labels` keep their own order (a BTreeMap: sorted as well).
            assert_eq!(keys, sorted, "{at}");
            for (k, v) in map {
                assert_sorted_keys(v, &format!("{at}.{k}"));
            }
        }
        Value::Array(list) => list.iter().for_each(|v| assert_sorted_keys(v, at)),
        _ => {}
    }
}

/// The baseline's items as `pushsource-ls --format yaml` prints them: the `items:` block
/// without its `opener` lines.
fn pushsource_ls_text(case: &str) -> String {
    let start = case.find("\nitems:\n").unwrap() + "\nitems:\n".len();
    case[start..]
        .lines()
        .filter(|l| !l.trim_start().starts_with("opener: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn writes_the_same_text_as_pushsource() {
    for file in ["koji-source-container.yml", "koji-operator-container.yml"] {
        let case = corpus()
            .into_iter()
            .find(|(f, _)| f == file)
            .map(|(_, c)| c)
            .unwrap();
        let expected = pushsource_ls_text(&case);
        let items = read_items_yaml(&expected).unwrap();
        assert_eq!(write_items_yaml(&items), expected, "{file}");
    }
}

#[test]
fn media_types_are_checked_against_the_digest_specs() {
    let case = corpus()
        .into_iter()
        .find(|(f, _)| f == "koji-source-container.yml")
        .map(|(_, c)| c)
        .unwrap();
    let text = pushsource_ls_text(&case);
    let item = &read_items_yaml(&text).unwrap()[0];
    let PushItem::SourceContainerImage(image) = item else {
        panic!("{item:?}")
    };
    assert_eq!(
        image.pull_info().media_types(),
        ["application/vnd.docker.distribution.manifest.v2+json"]
    );
    // A type no digest spec has.
    let extra = text.replace(
        "      media_types:\n      - application/vnd.docker.distribution.manifest.v2+json\n",
        "      media_types:\n      - application/vnd.docker.distribution.manifest.v2+json\n      - application/vnd.oci.image.index.v1+json\n",
    );
    assert_ne!(extra, text);
    let e = read_items_yaml(&extra).unwrap_err().to_string();
    assert!(
        e.contains("field pull_info.media_types")
            && e.contains("application/vnd.oci.image.index.v1+json")
            && e.contains("docker-image-sha256:bfe520f7"),
        "{e}"
    );
    // A digest spec's type left out.
    let missing = text.replace(
        "      media_types:\n      - application/vnd.docker.distribution.manifest.v2+json\n",
        "      media_types: []\n",
    );
    assert_ne!(missing, text);
    let e = read_items_yaml(&missing).unwrap_err().to_string();
    assert!(
        e.contains("pull_info.media_types") && e.contains("not listed"),
        "{e}"
    );
    // Absent or null: derived from the digest specs.
    let absent = text.replace(
        "      media_types:\n      - application/vnd.docker.distribution.manifest.v2+json\n",
        "      media_types: null\n",
    );
    assert_eq!(read_items_yaml(&absent).unwrap()[0], *item);
    // Listed twice, another order: the same types, accepted.
    let twice = text.replace(
        "      media_types:\n      - application/vnd.docker.distribution.manifest.v2+json\n",
        "      media_types:\n      - application/vnd.docker.distribution.manifest.v2+json\n      - application/vnd.docker.distribution.manifest.v2+json\n",
    );
    assert_eq!(read_items_yaml(&twice).unwrap()[0], *item);
}

#[test]
fn opener_must_be_null_and_classes_are_still_checked() {
    let case = corpus()
        .into_iter()
        .find(|(f, _)| f == "koji-source-container.yml")
        .map(|(_, c)| c)
        .unwrap();
    let with_null = serde_norway::to_string(&items_of(&case)).unwrap();
    assert!(with_null.contains("opener: null"));
    assert_eq!(read_items_yaml(&with_null).unwrap().len(), 1);
    let callable = with_null.replace("opener: null", "opener: open_src_local");
    let e = read_items_yaml(&callable).unwrap_err().to_string();
    assert!(
        e.contains("field opener") && e.contains("open_src_local"),
        "{e}"
    );

    // A misspelt class is not skipped: it is refused, naming the classes ferry knows.
    let typo = with_null.replace(
        "SourceContainerImagePushItem",
        "SourceContainerImagePushItm",
    );
    let e = read_items_yaml(&typo).unwrap_err().to_string();
    assert!(
        e.contains("unknown item class \"SourceContainerImagePushItm\"")
            && e.contains("ErratumPushItem"),
        "{e}"
    );
    // An unknown field of a container item is still refused.
    let field = with_null.replace("product_name: null", "product_nmae: x");
    let e = read_items_yaml(&field).unwrap_err().to_string();
    assert!(e.contains("product_nmae"), "{e}");
}

#[test]
fn skipped_items_come_back_from_json_too() {
    let case = corpus()
        .into_iter()
        .find(|(f, _)| f == "staged-simple-errata.yml")
        .map(|(_, c)| c)
        .unwrap();
    let json = serde_json::to_string(&items_of(&case)).unwrap();
    let doc = read_document_json(&json).unwrap();
    assert!(doc.entries.is_empty());
    assert_eq!(doc.skipped.len(), 2);
    assert!(doc.skipped.iter().all(|s| s.class == "ErratumPushItem"));
    let (items, skipped) = doc.into_items().unwrap();
    assert!(items.is_empty());
    assert_eq!(skipped.len(), 2);
    assert_eq!(
        read_items_json(&json).unwrap(),
        Vec::<PushItem>::new(),
        "nothing to push"
    );
}
