//! Manifests, blobs, tags and the catalog on a plain registry.

use bytes::Bytes;
use ferry_image::media_types::OCI_INDEX;
use ferry_image::{RawManifest, Target};
use ferry_registry::{BytesOpener, RegistryError};
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format};
use ferry_testkit::proxy::FaultProxy;
use futures_util::TryStreamExt;

use crate::{client, digest};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_round_trip_byte_for_byte() {
    let reg = Registry::plain();
    let idx = images::multi_arch(&["amd64", "arm64"], 11, Format::Oci);
    images::push_index(&reg, "ns/src", Some("v1"), &idx);
    let c = client();
    c.ping(&reg.host()).await.unwrap();
    let src = c.repository(&reg.host(), "ns/src");
    assert_eq!(
        (src.registry(), src.name()),
        (reg.host().as_str(), "ns/src")
    );

    // By tag, then by digest: the exact bytes, an OCI index.
    let tag = Target::Tag("v1".into());
    let m = src.get_manifest(&tag).await.unwrap();
    assert_eq!(m.bytes(), idx.manifest.as_slice());
    assert_eq!(m.media_type().as_str(), OCI_INDEX);
    assert_eq!(m.digest().as_str(), idx.digest);
    let by_digest = Target::Digest(digest(&idx.digest));
    assert_eq!(src.get_manifest(&by_digest).await.unwrap(), m);

    let head = src.head_manifest(&tag).await.unwrap().unwrap();
    assert_eq!(
        head.digest.as_ref().map(|d| d.as_str()),
        Some(idx.digest.as_str())
    );
    assert_eq!(
        head.media_type.as_ref().map(|t| t.as_str()),
        Some(OCI_INDEX)
    );
    assert_eq!(head.size, Some(idx.manifest.len() as u64));
    assert!(
        src.head_manifest(&Target::Tag("nope".into()))
            .await
            .unwrap()
            .is_none()
    );
    let missing = src
        .get_manifest(&Target::Tag("nope".into()))
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");

    // Copy to another repository: mount blobs, children by digest, the index by tag.
    let dst = c.repository(&reg.host(), "ns/dst");
    for img in &idx.images {
        for blob in img.blobs() {
            assert!(
                dst.mount_blob(&digest(&blob.digest), "ns/src")
                    .await
                    .unwrap()
            );
        }
        let child = src
            .get_manifest(&Target::Digest(digest(&img.digest)))
            .await
            .unwrap();
        let d = dst
            .put_manifest(&Target::Digest(child.digest().clone()), &child)
            .await
            .unwrap();
        assert_eq!(d.as_str(), img.digest);
    }
    let d = dst
        .put_manifest(&Target::Tag("v2".into()), &m)
        .await
        .unwrap();
    assert_eq!(d, *m.digest());
    assert_eq!(
        dst.get_manifest(&Target::Tag("v2".into()))
            .await
            .unwrap()
            .bytes(),
        m.bytes()
    );

    // distribution deletes by digest only.
    let e = dst.delete_tag("v2").await.unwrap_err();
    assert!(e.is_unsupported(), "{e}");
    dst.delete_manifest(m.digest()).await.unwrap();
    assert!(
        dst.head_manifest(&Target::Tag("v2".into()))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        dst.head_manifest(&Target::Digest(m.digest().clone()))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_stream_verify_and_delete() {
    let reg = Registry::plain();
    let img = images::simple(21, Format::Docker);
    images::push_image(&reg, "ns/app", Some("v1"), &img);
    let c = client();
    let repo = c.repository(&reg.host(), "ns/app");
    let layer = &img.layers[0];
    let d = digest(&layer.digest);

    assert_eq!(
        repo.blob_exists(&d).await.unwrap(),
        Some(layer.size() as u64)
    );
    let absent = digest(&format!("sha256:{}", "0".repeat(64)));
    assert_eq!(repo.blob_exists(&absent).await.unwrap(), None);
    let e = repo.get_blob(&absent).await.err().unwrap();
    assert!(e.is_not_found(), "{e}");

    let (len, stream) = repo.get_blob(&d).await.unwrap();
    assert_eq!(len, Some(layer.size() as u64));
    let chunks: Vec<Bytes> = stream.try_collect().await.unwrap();
    assert_eq!(chunks.concat(), layer.bytes);

    let cfg = repo
        .get_blob_bytes(&digest(&img.config.digest), 1 << 20)
        .await
        .unwrap();
    assert_eq!(cfg, img.config.bytes);
    let e = repo.get_blob_bytes(&d, 10).await.unwrap_err();
    assert!(matches!(e, RegistryError::TooLarge { .. }), "{e}");

    // Upload to a new repository: one POST, one PUT.
    let other = c.repository(&reg.host(), "ns/other");
    let opener = BytesOpener(Bytes::from(layer.bytes.clone()));
    other
        .upload_blob(&d, layer.size() as u64, &opener)
        .await
        .unwrap();
    reg.settle();
    assert_eq!(reg.count("POST", "/v2/ns/other/blobs/uploads/"), 1);
    assert_eq!(reg.count("PUT", "/v2/ns/other/blobs/uploads/"), 1);
    assert_eq!(reg.count("PATCH", "/v2/ns/other/"), 0);
    assert_eq!(
        other.get_blob_bytes(&d, 1 << 20).await.unwrap(),
        layer.bytes
    );

    other.delete_blob(&d).await.unwrap();
    assert_eq!(other.blob_exists(&d).await.unwrap(), None);
    // Still in the first repository.
    assert!(repo.blob_exists(&d).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_follow_every_page() {
    let reg = Registry::plain();
    let img = images::simple(31, Format::Oci);
    images::push_image(&reg, "ns/many", Some("t000"), &img);
    let c = client();
    let repo = c.repository(&reg.host(), "ns/many");
    let m = repo
        .get_manifest(&Target::Tag("t000".into()))
        .await
        .unwrap();
    let mut expected = vec!["t000".to_string()];
    for i in 1..150 {
        let tag = format!("t{i:03}");
        repo.put_manifest(&Target::Tag(tag.clone()), &m)
            .await
            .unwrap();
        expected.push(tag);
    }
    // Directly: distribution answers every tag in one page.
    let mut tags = repo.tags().await.unwrap();
    tags.sort();
    assert_eq!(tags, expected);

    // Through a proxy that pages by 40: four pages.
    let proxy = FaultProxy::new(&reg);
    proxy.page_tags(Some(40));
    let c2 = client();
    let paged = c2.repository(&proxy.host(), "ns/many");
    let mut tags = paged.tags().await.unwrap();
    tags.sort();
    assert_eq!(tags, expected);
    assert_eq!(proxy.count("GET", "/tags/list"), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_follows_every_page() {
    let reg = Registry::plain();
    let img = images::simple(41, Format::Docker);
    let mut names: Vec<String> = (0..5).map(|i| format!("ns/repo{i}")).collect();
    for n in &names {
        images::push_image(&reg, n, Some("v1"), &img);
    }
    names.sort();
    let c = client();
    assert_eq!(c.catalog(&reg.host()).await.unwrap(), names);
    let mark = reg.mark();
    assert_eq!(c.catalog_paged(&reg.host(), 2).await.unwrap(), names);
    reg.settle();
    assert_eq!(reg.count_since(mark, "GET", "/v2/_catalog"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_put_keeps_bytes() {
    // A manifest with unusual formatting survives byte for byte.
    let reg = Registry::plain();
    let img = images::simple(51, Format::Oci);
    images::push_image(&reg, "ns/fmt", None, &img);
    let c = client();
    let repo = c.repository(&reg.host(), "ns/fmt");
    let mut text = String::from_utf8(img.manifest.clone()).unwrap();
    text.push_str("\n\n");
    let raw = RawManifest::new(text.into_bytes(), None).unwrap();
    let d = repo
        .put_manifest(&Target::Tag("odd".into()), &raw)
        .await
        .unwrap();
    assert_eq!(&d, raw.digest());
    let back = repo.get_manifest(&Target::Tag("odd".into())).await.unwrap();
    assert_eq!(back.bytes(), raw.bytes());
}
