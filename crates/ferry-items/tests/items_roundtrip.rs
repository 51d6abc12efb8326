//! Round trips of the serialized form: every field of every class, in YAML and JSON; a
//! hand-written pushsource-style document; byte-stable output.

use std::collections::BTreeMap;

use ferry_image::media_types::{DOCKER_LIST, DOCKER_MANIFEST, DOCKER_SCHEMA1_SIGNED, OCI_INDEX};
use ferry_items::{
    BuildInfo, ContainerImageDigestPullSpec, ContainerImagePullInfo, ContainerImagePushItem,
    ContainerImageTagPullSpec, OperatorManifestPushItem, PushItem, PushItemState, read_items_json,
    read_items_yaml, write_items_json, write_items_yaml,
};

const LIST: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const IMAGE: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const V1: &str = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

fn pull_info(registry: &str) -> ContainerImagePullInfo {
    let tag = |t: &str, types: &[&str]| {
        ContainerImageTagPullSpec::new(
            registry,
            "ns/app",
            t,
            types.iter().map(|s| s.to_string()).collect(),
        )
        .unwrap()
    };
    let digest = |d: &str, m: Option<&str>| {
        ContainerImageDigestPullSpec::parse(&format!("{registry}/ns/app@{d}"))
            .unwrap()
            .with_media_type(m.map(str::to_string))
    };
    ContainerImagePullInfo::new(
        vec![
            tag("1.0", &[DOCKER_LIST, DOCKER_MANIFEST]),
            tag("latest", &[]),
        ],
        vec![
            digest(V1, Some(DOCKER_SCHEMA1_SIGNED)),
            digest(IMAGE, Some(DOCKER_MANIFEST)),
            digest(LIST, Some(DOCKER_LIST)),
            digest(LIST, None),
        ],
    )
    .unwrap()
}

fn full_image(name: &str, arch: &str) -> ContainerImagePushItem {
    let labels: BTreeMap<String, String> = [
        ("com.redhat.component", "app-container"),
        ("version", "1.0"),
        ("empty", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    ContainerImagePushItem::new(name, pull_info("reg.example.com:5000"))
        .unwrap()
        .with_state(PushItemState::Pushed)
        .with_src(Some("reg.example.com:5000/ns/app:1.0".into()))
        .with_dest(vec!["product/app:1.0".into(), "product/app:latest".into()])
        .with_md5sum(Some("0123456789abcdef0123456789abcdef".into()))
        .unwrap()
        .with_sha256sum(Some("f".repeat(64)))
        .unwrap()
        .with_origin(Some("RHBA-2024:0001".into()))
        .with_build(Some("app-container-1.0-3".into()))
        .unwrap()
        .with_signing_key(Some("fd431d51".into()))
        .with_dest_signing_key(Some("199e2f91fd431d51".into()))
        .with_source_tags(vec!["1.0".into(), "1".into()])
        .with_labels(labels)
        .with_arch(Some(arch.into()))
        .with_product_name(Some("Product: \"quoted\" & #hash".into()))
}

fn all_items() -> Vec<PushItem> {
    let operator = OperatorManifestPushItem::new("operator_manifests.zip")
        .unwrap()
        .with_state(PushItemState::Failed)
        .with_src(Some("/srv/operator_manifests.zip".into()))
        .with_dest(vec!["redhat-operators".into()])
        .with_md5sum(Some("fedcba9876543210fedcba9876543210".into()))
        .unwrap()
        .with_sha256sum(Some("0".repeat(64)))
        .unwrap()
        .with_origin(Some("origin".into()))
        .with_build(Some("op-bundle-4.12-1".into()))
        .unwrap()
        .with_build_info(Some(BuildInfo {
            name: "op-bundle".into(),
            version: "4.12".into(),
            release: "1".into(),
            id: Some(1234567),
        }))
        .unwrap()
        .with_signing_key(Some("key".into()))
        .with_related_images(vec![
            "reg.example.com:5000/ns/app:1.0".into(),
            format!("reg.example.com/ns/other:2@{IMAGE}"),
        ])
        .unwrap()
        .with_container_image_items(vec![full_image("inner", "s390x")]);
    let minimal = ContainerImagePushItem::new(
        "minimal",
        ContainerImagePullInfo::new(
            vec![ContainerImageTagPullSpec::parse("r/a:1").unwrap()],
            vec![],
        )
        .unwrap(),
    )
    .unwrap();
    vec![
        full_image("reg.example.com:5000/ns/app:1.0", "amd64").into(),
        full_image("reg.example.com:5000/ns/app-source:1.0", "arm64")
            .into_source_image()
            .with_state(PushItemState::NotFound)
            .into(),
        operator.into(),
        minimal.into(),
        OperatorManifestPushItem::new("bare-op")
            .unwrap()
            .with_state(PushItemState::Invalid)
            .into(),
    ]
}

#[test]
fn yaml_round_trip_keeps_every_field() {
    let items = all_items();
    let text = write_items_yaml(&items);
    let back = read_items_yaml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back, items);
    assert_eq!(write_items_yaml(&back), text, "byte-stable across writes");
    assert_eq!(write_items_yaml(&items), text, "deterministic");
    for field in [
        "name:",
        "state: PUSHED",
        "state: NOTFOUND",
        "state: FAILED",
        "state: INVALID",
        "src:",
        "dest:",
        "md5sum:",
        "sha256sum:",
        "origin:",
        "build: app-container-1.0-3",
        "build_info:",
        "id: 1234567",
        "signing_key:",
        "dest_signing_key: 199e2f91fd431d51",
        "source_tags:",
        "labels:",
        "arch: amd64",
        "pull_info:",
        "tag_specs:",
        "digest_specs:",
        "media_types:",
        "media_type:",
        "product_name:",
        "related_images:",
        "container_image_items:",
        "- SourceContainerImagePushItem:",
        "- OperatorManifestPushItem:",
    ] {
        assert!(text.contains(field), "{field} missing from\n{text}");
    }
}

#[test]
fn json_round_trip_keeps_every_field() {
    let items = all_items();
    let text = write_items_json(&items);
    let back = read_items_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back, items);
    assert_eq!(write_items_json(&back), text);
    // YAML and JSON carry the same data.
    assert_eq!(read_items_yaml(&write_items_yaml(&back)).unwrap(), back);
    // Keys in pushsource's (sorted) order: `arch` first.
    assert!(text.starts_with("[\n  {\n    \"ContainerImagePushItem\": {\n      \"arch\""));
}

#[test]
fn derived_fields_and_order_survive() {
    let items = all_items();
    let back = read_items_yaml(&write_items_yaml(&items)).unwrap();
    let image = back[0].as_container_image().unwrap();
    let info = image.build_info().unwrap();
    assert_eq!(
        (
            info.name.as_str(),
            info.version.as_str(),
            info.release.as_str()
        ),
        ("app-container", "1.0", "3")
    );
    let kinds: Vec<Option<&str>> = image
        .pull_info()
        .digest_specs()
        .iter()
        .map(|s| s.media_type())
        .collect();
    assert_eq!(
        kinds,
        vec![
            Some(DOCKER_LIST),
            Some(DOCKER_MANIFEST),
            Some(DOCKER_SCHEMA1_SIGNED),
            None
        ]
    );
    let op = back[2].as_operator_manifest().unwrap();
    assert_eq!(op.build_info().unwrap().id, Some(1234567));
    assert_eq!(op.container_image_items()[0].arch(), Some("s390x"));
}

const PUSHSOURCE_YAML: &str = r#"# as pushsource-ls --format yaml prints it
- ContainerImagePushItem:
    build: app-container-1.0-3
    build_info:
      id: 2934791
      name: app-container
      release: '3'
      version: '1.0'
    dest:
    - product/app:1.0
    - product/app:latest
    dest_signing_key: 199e2f91fd431d51
    labels:
      com.redhat.component: app-container
      version: '1.0'
    arch: amd64
    md5sum: null
    name: registry.example.com/ns/app:1.0
    origin: RHBA-2024:0001
    pull_info:
      digest_specs:
      - digest: sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
        media_type: application/vnd.docker.distribution.manifest.v2+json
        registry: registry.example.com
        repository: ns/app
      - digest: sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
        media_type: application/vnd.oci.image.index.v1+json
        registry: registry.example.com
        repository: ns/app
      tag_specs:
      - media_types: []
        registry: registry.example.com
        repository: ns/app
        tag: '1.0'
    sha256sum: null
    signing_key: null
    source_tags:
    - '1.0'
    src: null
    state: PENDING
- SourceContainerImagePushItem:
    name: registry.example.com/ns/app-source:1.0
    dest: [product/app-source:1.0]
    pull_info:
      tag_specs:
        - {registry: 'registry.example.com:5000', repository: ns/app-source, tag: "1.0"}
- OperatorManifestPushItem:
    name: operator_manifests.zip
    build: op-bundle-4.12-1
    related_images:
    - registry.example.com/ns/app@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
    container_image_items: []
"#;

#[test]
fn reads_a_hand_written_pushsource_document() {
    let items = read_items_yaml(PUSHSOURCE_YAML).unwrap();
    assert_eq!(items.len(), 3);
    let image = items[0].as_container_image().unwrap();
    assert_eq!(image.name(), "registry.example.com/ns/app:1.0");
    assert_eq!(image.state(), PushItemState::Pending);
    assert_eq!(image.dest(), ["product/app:1.0", "product/app:latest"]);
    assert_eq!(image.build_info().unwrap().id, Some(2934791));
    assert_eq!(image.labels()["version"], "1.0");
    assert_eq!(image.source_tags(), ["1.0"]);
    assert_eq!(image.md5sum(), None);
    // The OCI index is most preferred, ahead of the schema 2 manifest written first.
    assert_eq!(
        image.pull_info().media_types(),
        vec![OCI_INDEX, DOCKER_MANIFEST]
    );
    assert_eq!(
        image.pull_info().digest_specs()[0].to_string(),
        format!("registry.example.com/ns/app@{LIST}")
    );
    assert_eq!(
        image.pull_info().tag_specs()[0].reference().to_string(),
        "registry.example.com/ns/app:1.0"
    );
    let source = items[1].as_source_container_image().unwrap();
    assert_eq!(
        source.pull_info().tag_specs()[0].registry(),
        "registry.example.com:5000"
    );
    let op = items[2].as_operator_manifest().unwrap();
    assert_eq!(op.build_info().unwrap().name, "op-bundle");
    // Written back, then read again: the same data, and a stable text.
    let text = write_items_yaml(&items);
    assert_eq!(read_items_yaml(&text).unwrap(), items);
    assert_eq!(write_items_yaml(&read_items_yaml(&text).unwrap()), text);
}
