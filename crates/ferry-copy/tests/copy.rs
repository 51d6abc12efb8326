//! Copies between real registries (plain, TLS + htpasswd, token realm) and OCI layouts;
//! skopeo, the independent client, must read the same bytes and digests.

mod common;

use common::{client_for, repo};
use ferry_copy::{CopyEngine, CopyOptions, ImageDestination, Location, OciLayout};
use ferry_image::{Digest, Platform, Target};
use ferry_testkit::images::{self, Format, ImageSpec};
use ferry_testkit::{Registry, skopeo};

fn tag(t: &str) -> Target {
    Target::Tag(t.to_string())
}

/// skopeo reads the destination's top manifest and each child with the same bytes.
fn assert_same_tree(reg: &Registry, repo: &str, reference: &str, idx: &images::TestIndex) {
    let top = skopeo::inspect_raw(reg, &format!("{repo}:{reference}"));
    assert_eq!(top, idx.manifest, "top manifest bytes differ");
    for img in &idx.images {
        let child = skopeo::inspect_raw(reg, &format!("{repo}@{}", img.digest));
        assert_eq!(child, img.manifest, "child {} bytes differ", img.digest);
    }
}

#[tokio::test]
async fn oci_index_plain_to_tls_htpasswd() {
    let src = Registry::plain();
    let dst = Registry::tls_htpasswd("alice", "wonder land");
    let idx = images::multi_arch(&["amd64", "arm64", "ppc64le", "s390x"], 11, Format::Oci);
    images::push_index(&src, "ns/app", Some("1.0"), &idx);
    let c = client_for(&[&src, &dst]);
    let engine = CopyEngine::new(CopyOptions::default());
    let out = engine
        .copy(
            &repo(&c, &src, "ns/app"),
            &tag("1.0"),
            &repo(&c, &dst, "prod/app"),
            Some("1.0"),
        )
        .await
        .unwrap();
    assert_eq!(out.digest.as_str(), idx.digest);
    assert!(out.changed);
    assert_same_tree(&dst, "prod/app", "1.0", &idx);
    let s = engine.stats();
    assert_eq!(s.manifests_written, 5);
    let distinct: std::collections::HashSet<&str> = idx
        .images
        .iter()
        .flat_map(|i| i.blobs().map(|b| b.digest.as_str()))
        .collect();
    assert_eq!(
        s.blobs_copied as usize,
        distinct.len(),
        "each distinct blob once"
    );
}

#[tokio::test]
async fn docker_list_from_token_realm() {
    let src = Registry::token(&[("bob", "builder")]);
    let dst = Registry::plain();
    let idx = images::multi_arch(&["amd64", "arm64"], 12, Format::Docker);
    images::push_index(&src, "team/app", Some("v2"), &idx);
    let c = client_for(&[&src, &dst]);
    let engine = CopyEngine::new(CopyOptions::default());
    let out = engine
        .copy(
            &repo(&c, &src, "team/app"),
            &tag("v2"),
            &repo(&c, &dst, "team/app"),
            Some("v2"),
        )
        .await
        .unwrap();
    assert_eq!(out.digest.as_str(), idx.digest);
    assert_same_tree(&dst, "team/app", "v2", &idx);
}

#[tokio::test]
async fn single_image_and_schema1() {
    let src = Registry::plain();
    let dst = Registry::plain();
    let img = images::simple(13, Format::Docker);
    images::push_image(&src, "a/single", Some("s"), &img);
    let s1 = images::simple(14, Format::Docker);
    let s1_bytes = skopeo::push_schema1(&src, "a/old", "v1", &s1);
    let c = client_for(&[&src, &dst]);
    let engine = CopyEngine::new(CopyOptions::default());
    let out = engine
        .copy(
            &repo(&c, &src, "a/single"),
            &tag("s"),
            &repo(&c, &dst, "b/single"),
            Some("s"),
        )
        .await
        .unwrap();
    assert_eq!(out.digest.as_str(), img.digest);
    assert_eq!(skopeo::inspect_raw(&dst, "b/single:s"), img.manifest);

    let out = engine
        .copy(
            &repo(&c, &src, "a/old"),
            &tag("v1"),
            &repo(&c, &dst, "b/old"),
            Some("v1"),
        )
        .await
        .unwrap();
    // Registries re-sign schema 1 on every GET: compare the signed payloads and digests.
    let copied = skopeo::inspect_raw(&dst, "b/old:v1");
    assert_eq!(
        skopeo::schema1_payload(&copied),
        skopeo::schema1_payload(&s1_bytes)
    );
    assert_eq!(out.digest.as_str(), skopeo::schema1_digest(&s1_bytes));
    assert_eq!(
        out.media_type.as_str(),
        ferry_image::media_types::DOCKER_SCHEMA1_SIGNED
    );
}

#[tokio::test]
async fn registry_to_layout_to_registry_and_skopeo_reads_the_layout() {
    let src = Registry::plain();
    let dst = Registry::plain();
    let idx = images::multi_arch(&["amd64", "s390x"], 15, Format::Oci);
    images::push_index(&src, "x/app", Some("t"), &idx);
    let c = client_for(&[&src, &dst]);
    let dir = tempfile::tempdir().unwrap();
    let layout_path = dir.path().join("layout");
    let engine = CopyEngine::new(CopyOptions::default());
    let layout = OciLayout::create(&layout_path).unwrap();
    engine
        .copy(&repo(&c, &src, "x/app"), &tag("t"), &layout, Some("t"))
        .await
        .unwrap();
    assert_eq!(
        layout.resolve_tag("t").await.unwrap().unwrap().as_str(),
        idx.digest
    );

    // skopeo reads the layout ferry wrote.
    skopeo::copy(
        &format!("oci:{}:t", layout_path.display()),
        &dst.docker_ref("by/skopeo:t"),
        &["--all", "--preserve-digests", "--dest-tls-verify=false"],
    );
    assert_same_tree(&dst, "by/skopeo", "t", &idx);

    // And ferry copies the layout back to a registry, digests intact.
    let back = Location::parse(&format!("oci:{}:t", layout_path.display())).unwrap();
    let from_layout = back.open_source(&c.client).unwrap();
    let out = engine
        .copy(
            &from_layout,
            &tag("t"),
            &repo(&c, &dst, "by/ferry"),
            Some("t"),
        )
        .await
        .unwrap();
    assert_eq!(out.digest.as_str(), idx.digest);
    assert_same_tree(&dst, "by/ferry", "t", &idx);
}

#[tokio::test]
async fn ferry_reads_what_skopeo_wrote() {
    let src = Registry::plain();
    let dst = Registry::plain();
    let idx = images::multi_arch(&["amd64", "arm64"], 16, Format::Oci);
    let dir = tempfile::tempdir().unwrap();
    images::write_oci_layout(dir.path(), "t", &idx);
    // skopeo converts to a Docker list on the way in: new bytes ferry has never seen.
    skopeo::copy(
        &format!("oci:{}:t", dir.path().display()),
        &src.docker_ref("conv/app:t"),
        &["--all", "--format", "v2s2", "--dest-tls-verify=false"],
    );
    let written = skopeo::inspect_raw(&src, "conv/app:t");
    let c = client_for(&[&src, &dst]);
    let engine = CopyEngine::new(CopyOptions::default());
    let out = engine
        .copy(
            &repo(&c, &src, "conv/app"),
            &tag("t"),
            &repo(&c, &dst, "conv/app"),
            Some("t"),
        )
        .await
        .unwrap();
    assert_eq!(out.digest, Digest::sha256(&written));
    assert_eq!(skopeo::inspect_raw(&dst, "conv/app:t"), written);
}

#[tokio::test]
async fn platform_selection() {
    let src = Registry::plain();
    let idx = images::multi_arch(&["amd64", "arm64", "ppc64le"], 17, Format::Docker);
    images::push_index(&src, "p/app", Some("t"), &idx);
    let c = client_for(&[&src]);
    let one = CopyEngine::new(CopyOptions {
        platforms: vec!["linux/arm64".parse::<Platform>().unwrap()],
        ..CopyOptions::default()
    });
    let out = one
        .copy(
            &repo(&c, &src, "p/app"),
            &tag("t"),
            &repo(&c, &src, "p/arm"),
            Some("t"),
        )
        .await
        .unwrap();
    let arm = idx.images.iter().find(|i| i.platform.1 == "arm64").unwrap();
    assert_eq!(
        out.digest.as_str(),
        arm.digest,
        "one platform: that image manifest alone"
    );

    let two = CopyEngine::new(CopyOptions {
        platforms: vec![
            "linux/amd64".parse().unwrap(),
            "linux/ppc64le".parse().unwrap(),
        ],
        ..CopyOptions::default()
    });
    let out = two
        .copy(
            &repo(&c, &src, "p/app"),
            &tag("t"),
            &repo(&c, &src, "p/two"),
            Some("t"),
        )
        .await
        .unwrap();
    let raw = skopeo::inspect_raw(&src, "p/two:t");
    let v: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(v["manifests"].as_array().unwrap().len(), 2);
    assert_eq!(out.digest, Digest::sha256(&raw));

    let missing = CopyEngine::new(CopyOptions {
        platforms: vec!["linux/s390x".parse().unwrap()],
        ..CopyOptions::default()
    });
    let e = missing
        .copy(
            &repo(&c, &src, "p/app"),
            &tag("t"),
            &repo(&c, &src, "p/none"),
            Some("t"),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("s390x"), "{e}");
}

#[tokio::test]
async fn mounts_within_a_registry() {
    let reg = Registry::plain();
    let img = images::image(
        &ImageSpec::new("amd64", 18).layers(&[200_000, 300_000]),
        Format::Oci,
    );
    images::push_image(&reg, "one/app", Some("t"), &img);
    let c = client_for(&[&reg]);
    let engine = CopyEngine::new(CopyOptions::default());
    let mark = reg.mark();
    engine
        .copy(
            &repo(&c, &reg, "one/app"),
            &tag("t"),
            &repo(&c, &reg, "two/app"),
            Some("t"),
        )
        .await
        .unwrap();
    let s = engine.stats();
    assert_eq!((s.blobs_mounted, s.blobs_copied), (3, 0));
    reg.settle();
    assert_eq!(
        reg.count_since(mark, "GET", "/blobs/"),
        0,
        "no blob was downloaded"
    );
}
