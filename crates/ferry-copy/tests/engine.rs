//! The engine's promises, counted at the registry: every blob once, nothing re-sent,
//! wrong bytes never tagged.

mod common;

use common::{client_for, repo};
use ferry_copy::{CopyEngine, CopyOptions, ImageDestination, sync};
use ferry_image::Target;
use ferry_testkit::images::{self, Format, ImageSpec};
use ferry_testkit::proxy::FaultProxy;
use ferry_testkit::{Registry, skopeo};

fn tag(t: &str) -> Target {
    Target::Tag(t.to_string())
}

/// Twelve builds of four arches sharing a base layer per arch, as in the S2 scenario.
fn builds(reg: &Registry, n: u64) -> Vec<images::TestIndex> {
    (0..n)
        .map(|b| {
            let specs: Vec<ImageSpec> = ["amd64", "arm64", "ppc64le", "s390x"]
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    ImageSpec::new(a, 1000 + b * 10 + i as u64)
                        .layers(&[64 * 1024, 8 * 1024])
                        .shared_base(500 + i as u64)
                })
                .collect();
            let idx = images::index(&specs, Format::Oci);
            images::push_index(reg, "s/app", Some(&format!("b{b}")), &idx);
            idx
        })
        .collect()
}

#[tokio::test]
async fn sync_uploads_each_shared_blob_once_then_nothing() {
    let src = Registry::plain();
    let dst = Registry::plain();
    let idxs = builds(&src, 6);
    let mut unique = std::collections::HashSet::new();
    for idx in &idxs {
        for img in &idx.images {
            for b in img.blobs() {
                unique.insert(b.digest.clone());
            }
        }
    }
    let c = client_for(&[&src, &dst]);
    let engine = CopyEngine::new(CopyOptions::default());
    let tags: Vec<String> = (0..6).map(|b| format!("b{b}")).collect();
    let (s, d) = (repo(&c, &src, "s/app"), repo(&c, &dst, "m/app"));
    let mark = dst.mark();
    let results = sync(&engine, &s, &d, tags.clone(), 6, None).await;
    assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
    dst.settle();
    let uploads = dst.count_since(mark, "PUT", "/blobs/uploads/");
    assert_eq!(
        uploads,
        unique.len(),
        "each distinct blob uploaded exactly once"
    );
    assert_eq!(engine.stats().blobs_copied as usize, unique.len());
    for (t, idx) in tags.iter().zip(&idxs) {
        assert_eq!(
            skopeo::inspect_raw(&dst, &format!("m/app:{t}")),
            idx.manifest
        );
    }

    // Again: nothing to do, no writes, about one request per tag at each side.
    let engine = CopyEngine::new(CopyOptions::default());
    let mark = dst.mark();
    let results = sync(&engine, &s, &d, tags.clone(), 6, None).await;
    assert!(
        results
            .iter()
            .all(|r| r.result.as_ref().is_ok_and(|o| !o.changed))
    );
    dst.settle();
    let after = dst.requests_since(mark);
    assert!(
        after
            .iter()
            .all(|r| r.method == "HEAD" || r.method == "GET" && r.path == "/v2/"),
        "{after:?}"
    );
    assert!(after.iter().filter(|r| r.method == "HEAD").count() <= tags.len());
}

#[tokio::test]
async fn second_copy_uploads_nothing() {
    let src = Registry::plain();
    let dst = Registry::plain();
    let idx = images::multi_arch(&["amd64", "arm64"], 21, Format::Docker);
    images::push_index(&src, "a/b", Some("t"), &idx);
    let c = client_for(&[&src, &dst]);
    let engine = CopyEngine::new(CopyOptions::default());
    let (s, d) = (repo(&c, &src, "a/b"), repo(&c, &dst, "a/b"));
    engine.copy(&s, &tag("t"), &d, Some("t")).await.unwrap();
    // Another tag of the same image: the whole subtree is skipped with one HEAD.
    let mark = dst.mark();
    let engine = CopyEngine::new(CopyOptions::default());
    let out = engine.copy(&s, &tag("t"), &d, Some("t2")).await.unwrap();
    assert!(out.changed);
    dst.settle();
    assert_eq!(dst.count_since(mark, "POST", "/blobs/uploads/"), 0);
    assert_eq!(
        dst.count_since(mark, "PUT", "/manifests/"),
        1,
        "only the new tag"
    );
    assert_eq!(engine.stats().blobs_copied, 0);
    // The same tag again: unchanged, no writes at all.
    let mark = dst.mark();
    let out = engine.copy(&s, &tag("t"), &d, Some("t")).await.unwrap();
    assert!(!out.changed);
    dst.settle();
    assert_eq!(dst.count_since(mark, "PUT", ""), 0);
    assert_eq!(dst.count_since(mark, "POST", ""), 0);
}

#[tokio::test]
async fn wrong_bytes_fail_the_copy_and_leave_no_tag() {
    let src = Registry::plain();
    let dst = Registry::plain();
    let img = images::image(&ImageSpec::new("amd64", 22).layers(&[300_000]), Format::Oci);
    images::push_image(&src, "c/app", Some("t"), &img);
    let proxy = FaultProxy::new(&src);
    proxy.corrupt_blobs(true);
    let c = client_for(&[&src, &dst]);
    let bad_src = ferry_copy::RegistryRepo::new(c.client.repository(&proxy.host(), "c/app"));
    let d = repo(&c, &dst, "c/app");
    let engine = CopyEngine::new(CopyOptions::default());
    let e = engine
        .copy(&bad_src, &tag("t"), &d, Some("t"))
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("wrong bytes") || text.contains("digest"),
        "{text}"
    );
    assert_eq!(
        d.resolve_tag("t").await.unwrap(),
        None,
        "no tag on an incomplete image"
    );
    assert!(!d.has_manifest(&img.digest.parse().unwrap()).await.unwrap());
}

#[tokio::test]
async fn large_layer_streams_through() {
    // A layer far larger than any buffer: bytes and digest survive the stream.
    let src = Registry::plain();
    let dst = Registry::plain();
    let img = images::image(
        &ImageSpec::new("amd64", 23).layers(&[24 * 1024 * 1024]),
        Format::Oci,
    );
    images::push_image(&src, "big/app", Some("t"), &img);
    let c = client_for(&[&src, &dst]);
    let engine = CopyEngine::new(CopyOptions::default());
    engine
        .copy(
            &repo(&c, &src, "big/app"),
            &tag("t"),
            &repo(&c, &dst, "big/app"),
            Some("t"),
        )
        .await
        .unwrap();
    assert!(engine.stats().bytes_copied >= 24 * 1024 * 1024);
    let report = ferry_copy::check(&repo(&c, &dst, "big/app"), &tag("t"), true)
        .await
        .unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test]
async fn a_new_build_under_a_new_tag_reuses_the_blobs_the_repository_has() {
    // Build 2 shares its base layer with build 1: pushing it to a new tag must not
    // upload the base again (the blob probe finds it in the repository).
    let src = Registry::plain();
    let dst = Registry::plain();
    let spec = |seed| {
        ImageSpec::new("amd64", seed)
            .layers(&[200_000, 50_000])
            .shared_base(77)
    };
    let b1 = images::image(&spec(301), Format::Oci);
    let b2 = images::image(&spec(302), Format::Oci);
    let shared: Vec<&str> = b1
        .layers
        .iter()
        .filter(|l| b2.layers.iter().any(|m| m.digest == l.digest))
        .map(|l| l.digest.as_str())
        .collect();
    assert!(!shared.is_empty(), "the kit shares the base layer");
    images::push_image(&src, "r/app", Some("1"), &b1);
    images::push_image(&src, "r/app", Some("2"), &b2);
    let c = client_for(&[&src, &dst]);
    let (s, d) = (repo(&c, &src, "r/app"), repo(&c, &dst, "r/app"));
    CopyEngine::new(CopyOptions::default())
        .copy(&s, &tag("1"), &d, Some("1"))
        .await
        .unwrap();
    let mark = dst.mark();
    let engine = CopyEngine::new(CopyOptions::default());
    engine.copy(&s, &tag("2"), &d, Some("2")).await.unwrap();
    dst.settle();
    let uploaded = dst.count_since(mark, "PUT", "/blobs/uploads/");
    assert_eq!(
        uploaded,
        b2.blobs().count() - shared.len(),
        "shared blobs not sent again"
    );
    assert_eq!(engine.stats().blobs_skipped as usize, shared.len());
    assert_eq!(skopeo::inspect_raw(&dst, "r/app:2"), b2.manifest);
}

#[tokio::test]
async fn one_list_to_two_tags_writes_each_child_once() {
    let src = Registry::plain();
    let dst = Registry::plain();
    let idx = images::multi_arch(&["amd64", "arm64", "s390x"], 401, Format::Docker);
    images::push_index(&src, "l/app", Some("1"), &idx);
    let c = client_for(&[&src, &dst]);
    let (s, d) = (repo(&c, &src, "l/app"), repo(&c, &dst, "l/app"));
    let engine = CopyEngine::new(CopyOptions::default());
    let mark = dst.mark();
    let (a, b) = futures_util::future::join(
        engine.copy(&s, &tag("1"), &d, Some("1")),
        engine.copy(&s, &tag("1"), &d, Some("latest")),
    )
    .await;
    a.unwrap();
    b.unwrap();
    dst.settle();
    let children = idx.images.len();
    let child_puts: usize = idx
        .images
        .iter()
        .map(|i| dst.count_since(mark, "PUT", &format!("/manifests/{}", i.digest)))
        .sum();
    assert_eq!(child_puts, children, "each child manifest written once");
    assert_eq!(
        dst.count_since(mark, "PUT", "/manifests/"),
        children + 2,
        "plus the two tags"
    );
}

/// An index of indexes copies; a chain of indexes deeper than the bound is refused with a
/// clear error by the copy and by check, instead of exhausting the stack.
#[tokio::test]
async fn a_deep_chain_of_indexes_is_refused() {
    let src = Registry::plain();
    let dst = Registry::plain();
    let img = images::simple(141, Format::Oci);
    images::push_image(&src, "deep/app", Some("img"), &img);
    let index_mt = "application/vnd.oci.image.index.v1+json";
    let (mut child_mt, mut child_digest, mut child_size) = (
        img.media_type.clone(),
        img.digest.clone(),
        img.manifest.len(),
    );
    for level in 1..=12 {
        let bytes = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": index_mt,
            "manifests": [{"mediaType": child_mt, "digest": child_digest, "size": child_size}],
        }))
        .unwrap();
        let digest = ferry_image::Digest::sha256(&bytes).to_string();
        images::push_manifest(&src, "deep/app", &format!("l{level}"), index_mt, &bytes);
        (child_mt, child_digest, child_size) = (index_mt.to_string(), digest, bytes.len());
    }
    let c = client_for(&[&src, &dst]);
    let s = repo(&c, &src, "deep/app");
    let d = repo(&c, &dst, "deep/app");
    let engine = CopyEngine::new(CopyOptions::default());
    // Three levels (index of index of image): fine.
    engine.copy(&s, &tag("l2"), &d, Some("l2")).await.unwrap();
    let e = engine
        .copy(&s, &tag("l12"), &d, Some("l12"))
        .await
        .unwrap_err();
    eprintln!("deep chain: {e}");
    assert!(e.to_string().contains("nested deeper than 8"), "{e}");
    assert_eq!(d.resolve_tag("l12").await.unwrap(), None);
    let e = ferry_copy::check(&s, &tag("l12"), false).await.unwrap_err();
    assert!(e.to_string().contains("nested deeper than 8"), "{e}");
    let report = ferry_copy::check(&s, &tag("l2"), false).await.unwrap();
    assert!(
        report.problems.is_empty() && report.manifests == 3,
        "{report:?}"
    );
}
