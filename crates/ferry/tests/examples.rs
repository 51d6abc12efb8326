//! The examples are programs a user would write: `push_from_file` (built here with
//! `cargo build --workspace --example`) pushes items against real registries and the
//! result is checked with skopeo.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ferry_testkit::images::{self, Format};
use ferry_testkit::{Registry, skopeo};

/// Builds the example once per test binary, with the whole workspace's feature set (the
/// one `cargo nextest run --workspace` already built the dependencies with, so only the
/// example itself compiles), and returns its path next to this test's own directory.
fn example_binary(name: &str) -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args(["build", "-q", "--workspace", "--example", name])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building example {name}: {}",
        text(&out)
    );
    // This test runs as target/<profile>/deps/examples-HASH.
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let bin = profile_dir.join("examples").join(name);
    assert!(bin.is_file(), "{} was not built", bin.display());
    bin
}

/// Runs the example `NAME ARGS` with no auth files around.
fn example(bin: &Path, args: &[&str], home: &Path) -> Output {
    Command::new(bin)
        .args(args)
        .env("HOME", home)
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DOCKER_CONFIG")
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("the example runs")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn push_from_file_pushes_the_items_to_every_tag() {
    let build = Registry::plain();
    let quay = Registry::plain();
    let img = images::simple(301, Format::Docker);
    images::push_image(&build, "osbs/tool", Some("1"), &img);
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("items.yaml");
    std::fs::write(
        &items,
        format!(
            "- ContainerImagePushItem:\n    name: tool\n    dest: [\"product/tool:1\", \"product/tool:latest\"]\n    pull_info:\n      tag_specs: [{{registry: \"{b}\", repository: osbs/tool, tag: \"1\", media_types: []}}]\n      digest_specs: [{{registry: \"{b}\", repository: osbs/tool, digest: \"{d}\", media_type: null}}]\n",
            b = build.host(),
            d = img.digest
        ),
    )
    .unwrap();
    let settings = dir.path().join("target.yaml");
    std::fs::write(
        &settings,
        format!("registry: \"{}\"\nnamespace: org\n", quay.host()),
    )
    .unwrap();
    let (s, i) = (settings.to_str().unwrap(), items.to_str().unwrap());
    let bin = example_binary("push_from_file");

    let mark = quay.mark();
    let dry = example(&bin, &[s, i, "--dry-run"], dir.path());
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(text(&dry).contains("PENDING tool"), "{}", text(&dry));
    quay.settle();
    assert_eq!(
        quay.count_since(mark, "PUT", ""),
        0,
        "a dry run writes nothing"
    );

    let out = example(&bin, &[s, i], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("PUSHED tool"), "{}", text(&out));
    let mut tags = skopeo::list_tags(&quay, "org/product/tool");
    tags.sort();
    assert_eq!(tags, vec!["1", "latest"]);
    assert_eq!(
        skopeo::inspect_raw(&quay, "org/product/tool:latest"),
        img.manifest
    );

    // Bad settings are bad input: exit 2, nothing written.
    std::fs::write(&settings, "registry: \"\"\n").unwrap();
    let mark = quay.mark();
    let bad = example(&bin, &[s, i], dir.path());
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    quay.settle();
    assert_eq!(quay.count_since(mark, "PUT", ""), 0);
}
