//! Hostile input and output: endless files, duplicate keys, control characters from
//! outside, destinations that contradict their source.

mod common;

use common::Ferry;

fn no_panic(r: &common::Run) {
    assert!(!r.stderr.contains("panicked"), "panic: {}", r.stderr);
}

#[test]
fn endless_input_files_are_refused_naming_file_and_limit() {
    let f = Ferry::new(&[]);
    let items = f.path("items.yaml");
    common::write(&items, "[]\n");
    for (args, limit) in [
        (vec!["items", "file:/dev/zero"], "64 MiB"),
        (
            vec!["push", "--target", "/dev/zero", items.to_str().unwrap()],
            "1 MiB",
        ),
    ] {
        let r = f.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        no_panic(&r);
        assert!(
            r.stderr.contains("/dev/zero")
                && r.stderr
                    .contains(&format!("larger than the limit of {limit}")),
            "{args:?}: {}",
            r.stderr
        );
    }
}

#[test]
fn duplicate_keys_in_push_items_are_refused() {
    let f = Ferry::new(&[]);
    let items = f.path("items.yaml");
    common::write(
        &items,
        "\u{feff}- ContainerImagePushItem:\n    name: app\n    dest: [a]\n    dest: [b]\n    pull_info:\n      tag_specs: [{registry: reg, repository: ns/app, tag: '1'}]\n",
    );
    let r = f.run(&["items", items.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(r#"item 0 ("app")"#) && r.stderr.contains(r#"duplicate key "dest""#),
        "{}",
        r.stderr
    );
}

#[test]
fn registry_messages_reach_the_terminal_escaped() {
    let reg = ferry_testkit::Registry::plain();
    let img = ferry_testkit::images::simple(71, ferry_testkit::images::Format::Oci);
    ferry_testkit::images::push_image(&reg, "m/app", Some("t"), &img);
    let proxy = ferry_testkit::proxy::FaultProxy::new(&reg);
    proxy.fail_next_with_message(
        "GET",
        "/manifests/",
        403,
        "\x1b[31mowned\x1b]0;title\x07",
        10,
    );
    let f = Ferry::new(&[&reg]);
    let r = f.run(&["inspect", &format!("{}/m/app:t", proxy.host())]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("owned"),
        "the message is shown: {}",
        r.stderr
    );
    assert!(
        !r.stderr.contains('\x1b') && !r.stderr.contains('\x07'),
        "raw control characters reached the terminal: {:?}",
        r.stderr
    );
    assert!(r.stderr.contains(r"\u{1b}[31mowned"), "{:?}", r.stderr);
}

#[test]
fn a_destination_digest_that_is_not_the_source_is_refused_before_writing() {
    let reg = ferry_testkit::Registry::plain();
    let img = ferry_testkit::images::simple(72, ferry_testkit::images::Format::Oci);
    ferry_testkit::images::push_image(&reg, "m/app", Some("t"), &img);
    let f = Ferry::new(&[&reg]);
    let src = format!("{}/m/app:t", reg.host());
    let actual = f.ok(&["digest", &src]).trim().to_string();
    let other = ferry_image::Digest::sha256(b"another image");
    let r = f.run(&["copy", &src, &format!("{}/m/copy@{other}", reg.host())]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&other.to_string()) && r.stderr.contains(&actual),
        "{}",
        r.stderr
    );
    let r = f.run(&["digest", &format!("{}/m/copy@{actual}", reg.host())]);
    assert_eq!(r.code, 1, "nothing was written: {}", r.stdout);
    f.ok(&["copy", &src, &format!("{}/m/copy@{actual}", reg.host())]);
    let r = f.ok(&["digest", &format!("{}/m/copy@{actual}", reg.host())]);
    assert_eq!(r.trim(), actual);
}

#[test]
fn a_source_that_dies_mid_copy_is_reported_as_the_source() {
    let reg = ferry_testkit::Registry::plain();
    let img = ferry_testkit::images::simple(73, ferry_testkit::images::Format::Oci);
    ferry_testkit::images::push_image(&reg, "m/app", Some("t"), &img);
    let proxy = ferry_testkit::proxy::FaultProxy::new(&reg);
    proxy.truncate_blobs(true);
    let f = Ferry::new(&[&reg]);
    let r = f.run(&[
        "copy",
        &format!("{}/m/app:t", proxy.host()),
        &format!("{}/m/copy:t", reg.host()),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("from the source {}/m/app", proxy.host())),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("PUT"), "{}", r.stderr);
}

/// Every key ferry defines is snake_case; descriptors, annotations and labels copied from
/// image documents keep their own names and are not walked.
fn assert_snake_keys(v: &serde_json::Value, at: &str) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                assert!(
                    k.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "key {k:?} at {at} is not snake_case"
                );
                if !["manifests", "layers", "config", "annotations", "labels"].contains(&k.as_str())
                {
                    assert_snake_keys(child, &format!("{at}.{k}"));
                }
            }
        }
        serde_json::Value::Array(list) => list.iter().for_each(|c| assert_snake_keys(c, at)),
        _ => {}
    }
}

#[test]
fn json_keys_ferry_defines_are_snake_case() {
    let reg = ferry_testkit::Registry::plain();
    let img = ferry_testkit::images::simple(74, ferry_testkit::images::Format::Oci);
    ferry_testkit::images::push_image(&reg, "m/app", Some("t"), &img);
    let f = Ferry::new(&[&reg]);
    let src = format!("{}/m/app:t", reg.host());
    for args in [
        vec![
            "-o",
            "json",
            "copy",
            &src,
            &format!("{}/m/copy:t", reg.host()),
        ],
        vec!["-o", "json", "digest", &src],
        vec!["-o", "json", "inspect", &src],
    ] {
        let out = f.run(&args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert!(v.get("media_type").is_some(), "{args:?}: {v}");
        assert_snake_keys(&v, "");
    }
}
