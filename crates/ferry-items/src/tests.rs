//! Unit tests of the item model: pull specs, pull info ordering, item validation, NVRs,
//! unknown classes and fields, source URLs.

use ferry_image::media_types::*;

use super::*;

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const D3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
const D4: &str = "sha256:4444444444444444444444444444444444444444444444444444444444444444";

#[test]
fn good_tag_specs() {
    let table = [
        (
            "reg.example.com/ns/app:1.0",
            "reg.example.com",
            "ns/app",
            "1.0",
        ),
        ("reg:5000/ns/app:1.0", "reg:5000", "ns/app", "1.0"),
        (
            "127.0.0.1:5000/a/b/c/d:latest",
            "127.0.0.1:5000",
            "a/b/c/d",
            "latest",
        ),
        ("reg/app:v1", "reg", "app", "v1"),
        (
            &format!("reg:5000/ns/app:1.0@{D1}"),
            "reg:5000",
            "ns/app",
            "1.0",
        ),
        (
            "localhost/ns/my_app-x.y:1.0-3.el9",
            "localhost",
            "ns/my_app-x.y",
            "1.0-3.el9",
        ),
    ];
    for (input, registry, repository, tag) in table {
        let spec =
            ContainerImageTagPullSpec::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(spec.registry(), registry, "{input}");
        assert_eq!(spec.repository(), repository, "{input}");
        assert_eq!(spec.tag(), tag, "{input}");
        assert_eq!(spec.to_string(), format!("{registry}/{repository}:{tag}"));
        assert_eq!(spec.reference().tag(), Some(tag));
        assert!(spec.media_types().is_empty());
    }
}

#[test]
fn good_digest_specs() {
    let table = [
        (
            format!("reg.example.com/ns/app@{D1}"),
            "reg.example.com",
            "ns/app",
        ),
        (format!("reg:5000/ns/app@{D2}"), "reg:5000", "ns/app"),
        (format!("reg:5000/a/b/c:1.0@{D3}"), "reg:5000", "a/b/c"),
    ];
    for (input, registry, repository) in table {
        let spec =
            ContainerImageDigestPullSpec::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(spec.registry(), registry);
        assert_eq!(spec.repository(), repository);
        assert_eq!(
            spec.to_string(),
            format!("{registry}/{repository}@{}", spec.digest())
        );
        assert_eq!(spec.reference().digest(), Some(spec.digest()));
        assert_eq!(spec.media_type(), None);
    }
}

#[test]
fn bad_pull_specs() {
    let tag_table = [
        ("", "empty"),
        ("https://reg.example.com/ns/app:1.0", "URL scheme"),
        ("docker://reg.example.com/ns/app:1.0", "URL scheme"),
        ("docker:reg.example.com/ns/app:1.0", "port"),
        ("reg.example.com/NS/App:1.0", "lowercase"),
        ("reg.example.com/ns/app", "needs a tag"),
        ("app:1.0", "names its registry"),
        ("reg.example.com/ns/app:bad tag", "white space"),
        ("reg.example.com/ns/app:-bad", "tag"),
        ("reg:99999/ns/app:1.0", "port"),
        ("reg.example.com//app:1.0", "empty"),
        ("reg.example.com/ns/app:1.0@sha256:abc", "64 hex digits"),
    ];
    for (input, needle) in tag_table {
        let err = ContainerImageTagPullSpec::parse(input)
            .expect_err(input)
            .to_string();
        assert!(err.contains(needle), "{input}: {err}");
        assert!(err.contains("invalid pull spec"), "{input}: {err}");
    }
    let digest_table = [
        ("reg.example.com/ns/app:1.0", "needs a digest"),
        ("reg.example.com/ns/app@sha256:ABC", "hex digits"),
        ("reg.example.com/ns/app@md5:0123", "unsupported algorithm"),
        (
            "reg.example.com/ns/app@sha256:1111111111111111111111111111111111111111111111111111111111111111x",
            "hex digits",
        ),
        ("https://reg.example.com/ns/app@sha256:1", "URL scheme"),
        (
            "reg.example.com/Ns/app@sha256:1111111111111111111111111111111111111111111111111111111111111111",
            "lowercase",
        ),
    ];
    for (input, needle) in digest_table {
        let err = ContainerImageDigestPullSpec::parse(input)
            .expect_err(input)
            .to_string();
        assert!(err.contains(needle), "{input}: {err}");
    }
}

#[test]
fn specs_from_parts_are_validated() {
    assert!(ContainerImageTagPullSpec::new("reg:5000", "ns/app", "1.0", vec![]).is_ok());
    assert!(ContainerImageTagPullSpec::new("reg:5000", "ns/App", "1.0", vec![]).is_err());
    assert!(ContainerImageTagPullSpec::new("reg:x", "ns/app", "1.0", vec![]).is_err());
    assert!(ContainerImageTagPullSpec::new("reg", "ns/app", "", vec![]).is_err());
    let d = ferry_image::Digest::parse(D1).unwrap();
    assert!(ContainerImageDigestPullSpec::new("reg", "ns/app", d.clone(), None).is_ok());
    assert!(ContainerImageDigestPullSpec::new("", "ns/app", d, None).is_err());
}

fn dspec(digest: &str, media_type: Option<&str>) -> ContainerImageDigestPullSpec {
    ContainerImageDigestPullSpec::parse(&format!("reg/ns/app@{digest}"))
        .unwrap()
        .with_media_type(media_type.map(str::to_string))
}

fn tspec(tag: &str) -> ContainerImageTagPullSpec {
    ContainerImageTagPullSpec::parse(&format!("reg/ns/app:{tag}")).unwrap()
}

#[test]
fn digest_specs_are_ordered_by_preference() {
    let info = ContainerImagePullInfo::new(
        vec![tspec("1")],
        vec![
            dspec(D1, Some(DOCKER_SCHEMA1_SIGNED)),
            dspec(D4, None),
            dspec(D2, Some(OCI_MANIFEST)),
            dspec(D3, Some(OCI_INDEX)),
            dspec(D4, Some("application/x-unknown")),
            dspec(D2, Some(DOCKER_MANIFEST)),
        ],
    )
    .unwrap();
    let order: Vec<Option<&str>> = info.digest_specs().iter().map(|s| s.media_type()).collect();
    assert_eq!(
        order,
        vec![
            Some(OCI_INDEX),
            Some(OCI_MANIFEST),
            Some(DOCKER_MANIFEST),
            Some(DOCKER_SCHEMA1_SIGNED),
            Some("application/x-unknown"),
            None,
        ]
    );
    assert_eq!(
        info.media_types(),
        vec![
            OCI_INDEX,
            OCI_MANIFEST,
            DOCKER_MANIFEST,
            DOCKER_SCHEMA1_SIGNED,
            "application/x-unknown"
        ]
    );
    assert_eq!(
        info.digest_spec_for_type(OCI_MANIFEST)
            .unwrap()
            .digest()
            .as_str(),
        D2
    );
    assert_eq!(
        info.digest_spec_for_type(&format!("{OCI_INDEX}; charset=utf-8"))
            .unwrap()
            .digest()
            .as_str(),
        D3
    );
    assert!(info.digest_spec_for_type(DOCKER_LIST).is_none());
}

#[test]
fn docker_list_and_oci_index_rank_together_stably() {
    let info = ContainerImagePullInfo::new(
        vec![tspec("1")],
        vec![
            dspec(D1, Some(DOCKER_MANIFEST)),
            dspec(D2, Some(OCI_INDEX)),
            dspec(D3, Some(DOCKER_LIST)),
        ],
    )
    .unwrap();
    let digests: Vec<&str> = info
        .digest_specs()
        .iter()
        .map(|s| s.digest().as_str())
        .collect();
    assert_eq!(digests, vec![D2, D3, D1]);
}

#[test]
fn pull_info_dedups_and_needs_a_tag_spec() {
    let info = ContainerImagePullInfo::new(
        vec![tspec("b"), tspec("a"), tspec("b")],
        vec![
            dspec(D1, Some(DOCKER_MANIFEST)),
            dspec(D1, Some(DOCKER_MANIFEST)),
            dspec(D2, Some(DOCKER_LIST)),
        ],
    )
    .unwrap();
    let tags: Vec<&str> = info.tag_specs().iter().map(|s| s.tag()).collect();
    assert_eq!(tags, vec!["b", "a"]);
    assert_eq!(info.digest_specs().len(), 2);
    assert_eq!(info.media_types(), vec![DOCKER_LIST, DOCKER_MANIFEST]);
    let err = ContainerImagePullInfo::new(vec![], vec![dspec(D1, None)]).unwrap_err();
    assert!(err.to_string().contains("at least one tag spec"), "{err}");
}

#[test]
fn nvr_derivation() {
    let table = [
        ("app-1.0-1", Some(("app", "1.0", "1"))),
        (
            "my-app-container-1.2.3-45.el9",
            Some(("my-app-container", "1.2.3", "45.el9")),
        ),
        ("app-1.0", None),
        ("app", None),
        ("-1.0-1", None),
        ("app--1", None),
        ("app-1.0-", None),
    ];
    for (nvr, want) in table {
        let got = BuildInfo::from_nvr(nvr);
        let got = got
            .as_ref()
            .map(|b| (b.name.as_str(), b.version.as_str(), b.release.as_str()));
        assert_eq!(got, want, "{nvr}");
    }
    let item = OperatorManifestPushItem::new("op")
        .unwrap()
        .with_build(Some("op-bundle-4.12-3".into()))
        .unwrap();
    assert_eq!(item.build_info().unwrap().nvr(), "op-bundle-4.12-3");
    assert_eq!(item.build_info().unwrap().id, None);
    let err = item
        .with_build(Some("nodashes".into()))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        r#"item "op": field build: expected NAME-VERSION-RELEASE, found "nodashes""#
    );
}

fn image(name: &str) -> ContainerImagePushItem {
    let info = ContainerImagePullInfo::new(vec![tspec("1.0")], vec![]).unwrap();
    ContainerImagePushItem::new(name, info).unwrap()
}

#[test]
fn bad_items_name_the_item_and_field() {
    let info = ContainerImagePullInfo::new(vec![tspec("1.0")], vec![]).unwrap();
    let err = ContainerImagePushItem::new("", info)
        .unwrap_err()
        .to_string();
    assert_eq!(err, r#"item "": field name: must not be empty"#);
    assert!(OperatorManifestPushItem::new("  ").is_err());

    let cases: [(&str, Option<String>, &str); 5] = [
        (
            "sha256sum",
            Some("0123456789ab".into()),
            "expected 64 lowercase hex digits, found 12",
        ),
        (
            "sha256sum",
            Some("A".repeat(64)),
            "expected 64 lowercase hex digits, found 'A'",
        ),
        (
            "md5sum",
            Some("0".repeat(31)),
            "expected 32 lowercase hex digits, found 31",
        ),
        ("md5sum", Some("g".repeat(32)), "found 'g'"),
        ("md5sum", Some(String::new()), "found 0"),
    ];
    for (field, value, needle) in cases {
        let item = image("reg/ns/app:1.0");
        let err = if field == "md5sum" {
            item.with_md5sum(value).unwrap_err()
        } else {
            item.with_sha256sum(value).unwrap_err()
        }
        .to_string();
        assert!(
            err.starts_with(&format!(r#"item "reg/ns/app:1.0": field {field}: "#)),
            "{err}"
        );
        assert!(err.contains(needle), "{err}");
    }
    let ok = image("x")
        .with_md5sum(Some("0123456789abcdef0123456789abcdef".into()))
        .unwrap()
        .with_sha256sum(Some("ab".repeat(32)))
        .unwrap();
    assert_eq!(ok.md5sum(), Some("0123456789abcdef0123456789abcdef"));
    assert!(PushItem::from(ok).validate().is_ok());
}

#[test]
fn operator_related_images_are_pull_specs() {
    let op = OperatorManifestPushItem::new("op").unwrap();
    let ok = op
        .clone()
        .with_related_images(vec![
            "reg:5000/ns/a:1".into(),
            format!("reg/ns/b@{D1}"),
            format!("reg/ns/c:1@{D2}"),
        ])
        .unwrap();
    assert_eq!(ok.related_images().len(), 3);
    for bad in [
        "reg/ns/a",
        "https://reg/ns/a:1",
        "reg/NS/a:1",
        "reg/ns/a@sha256:12",
    ] {
        let err = op
            .clone()
            .with_related_images(vec![bad.into()])
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"item "op": field related_images[0]: "#),
            "{err}"
        );
    }
}

#[test]
fn push_item_accessors_and_state() {
    let item = PushItem::from(image("a").with_dest(vec!["p/a:1".into()]));
    assert_eq!(item.kind(), "ContainerImagePushItem");
    assert_eq!(item.name(), "a");
    assert_eq!(item.state(), PushItemState::Pending);
    assert_eq!(item.dest(), ["p/a:1".to_string()]);
    let pushed = item.clone().with_state(PushItemState::NotFound);
    assert_eq!(pushed.state().as_str(), "NOTFOUND");
    assert_eq!(item.state(), PushItemState::Pending);
    let src = PushItem::from(image("s").into_source_image());
    assert_eq!(src.kind(), "SourceContainerImagePushItem");
    assert!(src.as_source_container_image().is_some());
    assert!(src.as_container_image().is_none());
}

fn yaml_entry(class: &str, fields: &str) -> String {
    format!("- {class}:\n{fields}")
}

const PULL_INFO: &str =
    "    pull_info:\n      tag_specs:\n        - {registry: reg, repository: ns/app, tag: '1'}\n";

#[test]
fn bad_documents() {
    let cases = [
        (
            yaml_entry(
                "ContainerImagePushItem",
                &format!("    name: a\n    dset: [x]\n{PULL_INFO}"),
            ),
            r#"item 0 ("a"): ContainerImagePushItem: unknown field `dset`"#,
        ),
        (
            yaml_entry("ModulePushItem", "    name: m\n"),
            r#"item 0 ("m"): unknown item class "ModulePushItem""#,
        ),
        (
            yaml_entry("ContainerImagePushItem", "    name: a\n"),
            r#"item "a": field pull_info: required"#,
        ),
        (
            yaml_entry(
                "ContainerImagePushItem",
                "    name: a\n    pull_info: {tag_specs: []}\n",
            ),
            r#"item "a": field pull_info.tag_specs: at least one tag spec is required"#,
        ),
        (
            yaml_entry(
                "ContainerImagePushItem",
                "    name: a\n    pull_info:\n      tag_specs: [{registry: reg, repository: ns/app, tag: '1'}]\n      digest_specs: [{registry: reg, repository: ns/app, digest: 'sha256:12'}]\n",
            ),
            r#"item "a": field pull_info.digest_specs[0]: "reg/ns/app@sha256:12": invalid digest"#,
        ),
        (
            yaml_entry(
                "ContainerImagePushItem",
                "    name: a\n    pull_info:\n      tag_specs: [{registry: 'reg:5x', repository: ns/app, tag: '1'}]\n",
            ),
            r#"item "a": field pull_info.tag_specs[0]: "reg:5x/ns/app:1": invalid registry port"#,
        ),
        (
            yaml_entry(
                "ContainerImagePushItem",
                "    name: a\n    pull_info:\n      tag_specs: [{registry: reg, repository: ns/app, tag: '1', extra: 1}]\n",
            ),
            r#"item 0 ("a"): ContainerImagePushItem: unknown field `extra`"#,
        ),
        (
            yaml_entry(
                "ContainerImagePushItem",
                &format!("    name: ''\n{PULL_INFO}"),
            ),
            r#"item "": field name: must not be empty"#,
        ),
        (
            yaml_entry(
                "ContainerImagePushItem",
                &format!("    name: a\n    state: DONE\n{PULL_INFO}"),
            ),
            r#"item 0 ("a"): ContainerImagePushItem: unknown variant `DONE`"#,
        ),
        (
            yaml_entry(
                "OperatorManifestPushItem",
                "    name: op\n    sha256sum: abc\n",
            ),
            r#"item "op": field sha256sum: expected 64 lowercase hex digits, found 3"#,
        ),
        (
            yaml_entry(
                "ContainerImagePushItem",
                &format!("    name: a\n    source_tags: [1.10]\n{PULL_INFO}"),
            ),
            r#"item 0 ("a"): field source_tags[0]: expected a string, found 1.1 (quote it)"#,
        ),
        (
            yaml_entry(
                "ContainerImagePushItem",
                &format!("    name: a\n    labels: {{v: 2}}\n{PULL_INFO}"),
            ),
            r#"item 0 ("a"): field labels.v: expected a string, found 2"#,
        ),
        (
            yaml_entry(
                "ContainerImagePushItem",
                &format!("    name: a\n    labels: {{v: null}}\n{PULL_INFO}"),
            ),
            r#"item 0 ("a"): ContainerImagePushItem: invalid type: null, expected a string"#,
        ),
        (
            yaml_entry(
                "OperatorManifestPushItem",
                "    name: op\n    build_info: {name: a, version: '1', release: '1', id: x}\n",
            ),
            r#"item 0 ("op"): OperatorManifestPushItem: invalid type: string "x""#,
        ),
        ("- 42\n".to_string(), "item 0: expected a one-key map"),
        (
            "- {A: {}, B: {}}\n".to_string(),
            "item 0: expected a one-key map",
        ),
        ("name: a\n".to_string(), "expected a list of items"),
        ("- [unclosed\n".to_string(), "invalid YAML"),
    ];
    for (doc, needle) in cases {
        let err = read_items_yaml(&doc).expect_err(&doc).to_string();
        assert!(err.contains(needle), "document:\n{doc}\nerror: {err}");
    }
    let err = read_items_json(r#"[{"Nope": {"name": "n"}}, ]"#).unwrap_err();
    assert!(err.to_string().starts_with("invalid JSON"), "{err}");
    let err =
        read_items_json(r#"[{"ContainerImagePushItem": {"name": "a"}}, {"Nope": {"name": "n"}}]"#)
            .unwrap_err();
    assert!(
        err.to_string().contains(r#"item "a": field pull_info"#),
        "{err}"
    );
    let err = read_items_json(r#"[{"Nope": {"name": "n"}}]"#).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(r#"item 0 ("n"): unknown item class"#),
        "{err}"
    );
}

#[test]
fn nulls_mean_absent() {
    let doc = format!(
        "- ContainerImagePushItem:\n    name: a\n    dest: null\n    src: null\n    labels: null\n    source_tags: null\n    state: null\n    build_info: {{name: a, version: '1', release: '2', id: 7}}\n{PULL_INFO}"
    );
    let items = read_items_yaml(&doc).unwrap();
    let image = items[0].as_container_image().unwrap();
    assert!(image.dest().is_empty() && image.labels().is_empty() && image.src().is_none());
    assert_eq!(image.state(), PushItemState::Pending);
    assert_eq!(image.build_info().unwrap().id, Some(7));
}

#[test]
fn empty_documents_have_no_items() {
    assert!(read_items_yaml("").unwrap().is_empty());
    assert!(read_items_yaml("[]\n").unwrap().is_empty());
    assert!(read_items_json("[]").unwrap().is_empty());
}
