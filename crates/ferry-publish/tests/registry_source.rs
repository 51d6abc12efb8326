//! The `registry:` source against a real registry: items carry the archs, labels, tags and
//! digests skopeo sees.

#[path = "../../ferry-copy/tests/common/mod.rs"]
mod common;

use common::client_for;
use ferry_items::{PushItem, SourceUrl};
use ferry_publish::load_registry_source;
use ferry_testkit::images::{self, Format, ImageSpec};
use ferry_testkit::{Registry, skopeo};

fn params(url: &str) -> ferry_items::RegistrySourceParams {
    match SourceUrl::parse(url).unwrap() {
        SourceUrl::Registry(p) => p,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn items_from_an_index_a_list_a_single_and_a_source_image() {
    let reg = Registry::plain();
    let h = reg.host();
    let oci = images::index(
        &[
            ImageSpec::new("amd64", 81).label("com.redhat.component", "app-container"),
            ImageSpec::new("arm64", 82)
                .variant(Some("v8"))
                .label("com.redhat.component", "app-container"),
        ],
        Format::Oci,
    );
    images::push_index(&reg, "ns/oci", Some("1.0"), &oci);
    let docker = images::multi_arch(&["ppc64le", "s390x"], 83, Format::Docker);
    images::push_index(&reg, "ns/docker", Some("2.0"), &docker);
    let single = images::image(
        &ImageSpec::new("amd64", 84).label("name", "single"),
        Format::Docker,
    );
    images::push_image(&reg, "ns/single", Some("3.0"), &single);
    let source = images::source_image(85);
    images::push_image(&reg, "ns/source", Some("4.0"), &source);
    // `"Labels": {}` in the config: pushsource treats it like no labels at all.
    let empty = images::image(&ImageSpec::new("amd64", 87), Format::Docker);
    images::push_image(&reg, "ns/empty", Some("5.0"), &empty);
    let config: serde_json::Value = serde_json::from_slice(&empty.config.bytes).unwrap();
    assert_eq!(config["config"]["Labels"], serde_json::json!({}));

    let c = client_for(&[&reg]);
    let url = format!(
        "registry:?image={h}/ns/oci:1.0,{h}/ns/docker:2.0,{h}/ns/single:3.0,{h}/ns/source:4.0,{h}/ns/empty:5.0&dest=product/app&dest_signing_key=k1,k2&product_name=Prod"
    );
    let items = load_registry_source(&c.client, &params(&url))
        .await
        .unwrap();
    assert_eq!(
        items.len(),
        2 * (2 + 2 + 1 + 1 + 1),
        "one item per arch per key"
    );

    let oci_items: Vec<_> = items
        .iter()
        .filter(|i| i.name().contains("ns/oci"))
        .collect();
    let archs: Vec<_> = oci_items
        .iter()
        .filter_map(|i| i.as_container_image())
        .map(|i| {
            (
                i.arch().unwrap().to_string(),
                i.dest_signing_key().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        archs,
        vec![
            ("amd64".into(), "k1".into()),
            ("arm64".into(), "k1".into()),
            ("amd64".into(), "k2".into()),
            ("arm64".into(), "k2".into())
        ]
    );
    let first = oci_items[0].as_container_image().unwrap();
    assert_eq!(first.source_tags(), ["1.0".to_string()]);
    assert_eq!(first.labels()["com.redhat.component"], "app-container");
    assert_eq!(first.product_name(), Some("Prod"));
    assert_eq!(first.dest(), ["product/app".to_string()]);
    let specs = first.pull_info().digest_specs();
    // The list's digest spec first, checked against what skopeo reads.
    let raw = skopeo::inspect_raw(&reg, "ns/oci:1.0");
    assert_eq!(specs[0].digest().to_string(), images::digest_of(&raw));
    assert_eq!(
        specs[0].media_type(),
        Some(ferry_image::media_types::OCI_INDEX)
    );
    assert_eq!(specs[1].digest().to_string(), oci.images[0].digest);
    assert_eq!(
        first.pull_info().tag_specs()[0].to_string(),
        format!("{h}/ns/oci:1.0")
    );

    let docker_item = items
        .iter()
        .find(|i| i.name().contains("ns/docker"))
        .unwrap()
        .as_container_image()
        .unwrap();
    assert_eq!(
        docker_item.pull_info().digest_specs()[0].media_type(),
        Some(ferry_image::media_types::DOCKER_LIST)
    );
    assert_eq!(docker_item.arch(), Some("ppc64le"));

    let single_item = items
        .iter()
        .find(|i| i.name().contains("ns/single"))
        .unwrap()
        .as_container_image()
        .unwrap();
    assert_eq!(single_item.pull_info().digest_specs().len(), 1);
    assert_eq!(
        single_item.pull_info().digest_specs()[0]
            .digest()
            .to_string(),
        single.digest
    );
    assert_eq!(single_item.labels()["name"], "single");

    let src_item = items
        .iter()
        .find(|i| i.name().contains("ns/source"))
        .unwrap();
    assert!(
        matches!(src_item, PushItem::SourceContainerImage(_)),
        "no labels at all: a source image"
    );
    let empty_item = items
        .iter()
        .find(|i| i.name().contains("ns/empty"))
        .unwrap();
    assert!(
        matches!(empty_item, PushItem::SourceContainerImage(_)),
        "empty labels: a source image too"
    );
    assert!(
        empty_item
            .as_source_container_image()
            .unwrap()
            .labels()
            .is_empty()
    );
}

#[tokio::test]
async fn digests_in_image_and_errors() {
    let reg = Registry::plain();
    let h = reg.host();
    let img = images::image(
        &ImageSpec::new("amd64", 86).label("name", "app"),
        Format::Oci,
    );
    images::push_image(&reg, "ns/app", Some("v1"), &img);
    let c = client_for(&[&reg]);
    let by_digest = format!("registry:?image={h}/ns/app@{}&dest=x/y", img.digest);
    let items = load_registry_source(&c.client, &params(&by_digest))
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
    let item = items[0].as_container_image().unwrap();
    assert_eq!(
        item.source_tags(),
        ["v1".to_string()],
        "the tag pointing at the digest"
    );

    let missing = format!("registry:?image={h}/ns/nope:1&dest=x/y");
    let e = load_registry_source(&c.client, &params(&missing))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not found") && e.contains("ns/nope"), "{e}");

    let port = ferry_testkit::reserve_port();
    let down = format!("registry:?image=127.0.0.1:{port}/ns/app:1&dest=x/y");
    let e = load_registry_source(&c.client, &params(&down))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
}
