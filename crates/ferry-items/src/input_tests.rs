//! Unit tests of what the reader refuses in hostile input: duplicate keys, deep nesting,
//! endless files; and the byte order mark it accepts.

use super::*;

const ITEM: &str = "- ContainerImagePushItem:\n    name: a\n    pull_info:\n      tag_specs:\n        - {registry: reg, repository: ns/app, tag: '1'}\n";

#[test]
fn duplicate_keys_are_refused_naming_key_and_item() {
    let text = format!("{ITEM}    labels: {{version: '1', version: '2'}}\n");
    let e = read_items_yaml(&text).unwrap_err().to_string();
    assert!(
        e.contains(r#"item 0 ("a")"#) && e.contains(r#"duplicate key "labels.version""#),
        "{e}"
    );
    let text = format!("{ITEM}    name: b\n");
    let e = read_items_yaml(&text).unwrap_err().to_string();
    assert!(e.contains(r#"duplicate key "name""#), "{e}");
    // The other entries are still read when leniently reading.
    let text = format!("{ITEM}    dest: [x]\n    dest: [y]\n{ITEM}");
    let entries = read_items_yaml_lenient(&text).unwrap();
    assert!(entries[0].is_err() && entries[1].is_ok());
    let json = r#"[{"ContainerImagePushItem": {"name": "a", "name": "b"}}]"#;
    let e = read_items_json(json).unwrap_err().to_string();
    assert!(e.contains(r#"duplicate key "name""#), "{e}");
}

#[test]
fn a_byte_order_mark_is_not_a_second_document() {
    let text = format!("\u{feff}{ITEM}");
    assert_eq!(read_items_yaml(&text).unwrap().len(), 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.yaml");
    std::fs::write(&path, &text).unwrap();
    assert_eq!(load_file_source(&path).unwrap().len(), 1);
    let json = "\u{feff}[]";
    assert!(read_items_json(json).unwrap().is_empty());
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let e = read_items_yaml(&deep).unwrap_err().to_string();
    assert!(e.contains("nested deeper than 1000"), "{e}");
    let e = read_items_json(&deep).unwrap_err().to_string();
    assert!(e.contains("nested deeper than 1000"), "{e}");
}

#[test]
fn an_endless_items_file_is_refused_naming_file_and_limit() {
    let e = load_file_source("/dev/zero").unwrap_err().to_string();
    assert!(
        e.contains("/dev/zero") && e.contains("larger than the limit of 64 MiB"),
        "{e}"
    );
}
