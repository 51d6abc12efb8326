//! The push report's counts come from its rows, the same in text, JSON and YAML; the
//! entries of pushsource's other classes are listed as skipped with their class.

mod common;

use common::{Ferry, write};
use ferry_testkit::images::{self, Format};
use ferry_testkit::{Registry, skopeo};

fn count(v: &serde_json::Value, action: &str) -> usize {
    v["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["action"] == action)
        .count()
}

#[test]
fn summary_counts_match_the_rows_in_text_json_and_yaml() {
    let build = Registry::plain();
    let quay = Registry::tls_htpasswd("robot", "quay-pw");
    let new = images::multi_arch(&["amd64", "arm64"], 311, Format::Oci);
    images::push_index(&build, "osbs/app", Some("2.0"), &new);
    // :2.0 holds another list (merged), :pre already holds this one (unchanged), :latest
    // does not exist (copied).
    let old = images::multi_arch(&["amd64", "s390x"], 312, Format::Oci);
    images::push_index(&quay, "org/product/app", Some("2.0"), &old);
    images::push_index(&quay, "org/product/app", Some("pre"), &new);
    let f = Ferry::new(&[&build, &quay]);
    let settings = f.path("target.yaml");
    write(
        &settings,
        &format!(
            "registry: \"{}\"\nnamespace: org\nmultiarch: merge\ndest_credentials: {{username: robot, password_env: QUAY_PW}}\n",
            quay.host()
        ),
    );
    let target = settings.to_str().unwrap();
    let source = format!(
        "registry:?image={}/osbs/app:2.0&dest=product/app:2.0,product/app:latest,product/app:pre",
        build.host()
    );
    let run = |args: &[&str]| {
        let o = f.command(args).env("QUAY_PW", "quay-pw").output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };

    // The same plan as a dry run, in JSON and YAML: counts equal the rows'.
    let (json, _) = run(&[
        "push",
        "--dry-run",
        "-o",
        "json",
        "--target",
        target,
        &source,
    ]);
    let (yaml, _) = run(&[
        "push",
        "--dry-run",
        "-o",
        "yaml",
        "--target",
        target,
        &source,
    ]);
    let yaml: serde_json::Value = serde_norway::from_str(&yaml).unwrap();
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    for v in [&json, &yaml] {
        let s = &v["summary"];
        for action in ["copied", "merged", "unchanged"] {
            assert_eq!(count(v, action), 1, "{action}: {v}");
            assert_eq!(s[action], 1, "{action}: {s}");
        }
        assert_eq!(s["failed"], 0);
        assert_eq!(
            s["pending"].as_u64().unwrap() as usize,
            v["items"].as_array().unwrap().len()
        );
    }

    // The push itself: text rows and the summary line agree.
    let (out, err) = run(&["push", "--target", target, &source]);
    let rows = |action: &str| {
        out.lines()
            .filter(|l| l.trim_start().starts_with(&format!("{action} ")))
            .count()
    };
    assert_eq!(
        (rows("copied"), rows("merged"), rows("unchanged")),
        (1, 1, 1),
        "{out}"
    );
    let pushed = out.lines().filter(|l| l.contains("PUSHED")).count();
    assert!(
        err.contains(&format!(
            "destinations: 1 copied, 1 merged, 0 overwritten, 1 unchanged, 0 failed; items: {pushed} pushed"
        )),
        "{out}\n{err}"
    );
    assert!(!err.contains("image(s) copied"), "{err}");
    assert_eq!(
        skopeo::list_tags(&quay, "org/product/app").len(),
        3,
        "three destinations"
    );
}

#[test]
fn other_pushsource_classes_are_listed_as_skipped() {
    let build = Registry::plain();
    let quay = Registry::tls_htpasswd("robot", "quay-pw");
    let img = images::simple(313, Format::Docker);
    images::push_image(&build, "osbs/tool", Some("1"), &img);
    let f = Ferry::new(&[&build, &quay]);
    let b = build.host();
    let items = f.path("items.yaml");
    write(
        &items,
        &format!(
            "- ErratumPushItem:\n    name: RHBA-2099:0001\n    state: PENDING\n- ContainerImagePushItem:\n    name: tool\n    dest: [\"product/tool:1\"]\n    pull_info:\n      tag_specs: [{{registry: \"{b}\", repository: osbs/tool, tag: \"1\", media_types: []}}]\n      digest_specs: [{{registry: \"{b}\", repository: osbs/tool, digest: \"{}\", media_type: null}}]\n- FilePushItem:\n    name: notes.txt\n",
            img.digest
        ),
    );
    let items = items.to_str().unwrap();
    let settings = f.path("t.yaml");
    write(
        &settings,
        &format!(
            "registry: \"{}\"\ndest_credentials: {{username: robot, password_env: QUAY_PW}}\n",
            quay.host()
        ),
    );
    let target = settings.to_str().unwrap();
    let out = |args: &[&str]| {
        let o = f.command(args).env("QUAY_PW", "quay-pw").output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(0), "{err}");
        (String::from_utf8_lossy(&o.stdout).into_owned(), err)
    };

    let (text, err) = out(&["push", "--target", target, items]);
    for (name, class) in [
        ("RHBA-2099:0001", "ErratumPushItem"),
        ("notes.txt", "FilePushItem"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.contains("SKIPPED") && l.contains(name) && l.contains(class)),
            "{text}"
        );
    }
    assert!(err.contains("2 skipped"), "{err}");
    let (json, _) = out(&["push", "-o", "json", "--target", target, items]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["skipped"][0]["class"], "ErratumPushItem");
    assert_eq!(v["skipped"][1]["class"], "FilePushItem");
    assert_eq!(v["summary"]["skipped"], 2);
    assert_eq!(v["summary"]["unchanged"], 1);

    // `ferry items`: stdout stays an items document, the others are listed on stderr.
    let (doc, err) = out(&["items", items]);
    assert!(doc.contains("ContainerImagePushItem") && !doc.contains("ErratumPushItem"));
    assert!(
        err.contains("SKIPPED RHBA-2099:0001 (ErratumPushItem")
            && err.contains("SKIPPED notes.txt (FilePushItem"),
        "{err}"
    );
}
