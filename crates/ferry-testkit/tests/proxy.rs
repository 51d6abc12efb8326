//! The fault proxy in front of a real registry.

use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format, digest_of};
use ferry_testkit::proxy::FaultProxy;

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

#[test]
fn injects_faults_pages_tags_and_corrupts_blobs() {
    let reg = Registry::plain();
    let img = images::simple(11, Format::Oci);
    for t in ["a", "b", "c", "d", "e"] {
        images::push_image(&reg, "p/app", Some(t), &img);
    }
    let proxy = FaultProxy::new(&reg);
    let c = client();
    let base = proxy.base_url();

    // A 500 (then a 429 with Retry-After), then the request passes.
    proxy.fail_next("GET", "/manifests/a", 500, 1);
    proxy.fail_next_retry_after("GET", "/manifests/a", 429, 2, 1);
    let url = format!("{base}/v2/p/app/manifests/a");
    let accept = images::OCI_MANIFEST;
    assert_eq!(
        c.get(&url)
            .header("Accept", accept)
            .send()
            .unwrap()
            .status(),
        500
    );
    let r = c.get(&url).header("Accept", accept).send().unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    let r = c.get(&url).header("Accept", accept).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().unwrap().as_ref(), img.manifest.as_slice());
    assert_eq!(proxy.count("GET", "/manifests/a"), 3);
    reg.settle();
    assert_eq!(
        reg.count("GET", "/manifests/a"),
        1,
        "faults never reach upstream"
    );

    // Connection reset.
    proxy.reset_next("*", "/manifests/b", 1);
    assert!(
        c.get(format!("{base}/v2/p/app/manifests/b"))
            .send()
            .is_err()
    );

    // Tag paging with Link headers.
    proxy.page_tags(Some(2));
    let mut next = Some("/v2/p/app/tags/list".to_string());
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(path) = next.take() {
        let r = c.get(format!("{base}{path}")).send().unwrap();
        assert_eq!(r.status(), 200);
        next = r.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            l[l.find('<').unwrap() + 1..l.find('>').unwrap()].to_string()
        });
        let v: serde_json::Value = serde_json::from_slice(&r.bytes().unwrap()).unwrap();
        seen.extend(
            v["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string()),
        );
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["a", "b", "c", "d", "e"]);

    // Corrupted blob: same length, different digest.
    let layer = &img.layers[0];
    let blob_url = format!("{base}/v2/p/app/blobs/{}", layer.digest);
    let good = c.get(&blob_url).send().unwrap().bytes().unwrap();
    assert_eq!(digest_of(&good), layer.digest);
    proxy.corrupt_blobs(true);
    let bad = c.get(&blob_url).send().unwrap().bytes().unwrap();
    assert_eq!(bad.len(), layer.bytes.len());
    assert_ne!(digest_of(&bad), layer.digest);
    proxy.corrupt_blobs(false);

    // Truncated blob: the body cannot be read in full.
    proxy.truncate_blobs(true);
    let r = c.get(&blob_url).send().unwrap();
    assert!(
        r.bytes()
            .map(|b| b.len() < layer.bytes.len())
            .unwrap_or(true)
    );
    proxy.truncate_blobs(false);

    // Truncation of the next read only, then whole bodies again.
    proxy.truncate_next(1);
    let cut = c.get(&blob_url).send().unwrap().bytes();
    assert!(cut.map(|b| b.len() < layer.bytes.len()).unwrap_or(true));
    let whole = c.get(&blob_url).send().unwrap().bytes().unwrap();
    assert_eq!(digest_of(&whole), layer.digest);

    // Trickled bodies arrive whole, in many pieces.
    proxy.slow_blobs(Some((64, std::time::Duration::from_millis(1))));
    let mut r = c.get(&blob_url).send().unwrap();
    let mut got = Vec::new();
    std::io::Read::read_to_end(&mut r, &mut got).unwrap();
    assert_eq!(digest_of(&got), layer.digest);
    proxy.slow_blobs(None);

    // Body limit: a large monolithic PUT gets 413, nothing reaches upstream.
    proxy.max_body(Some(100));
    let r = c
        .put(format!("{base}/v2/p/app/manifests/z"))
        .header("Content-Type", images::OCI_MANIFEST)
        .body(img.manifest.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), 413);
    proxy.clear_rules();
}

#[test]
fn uploads_stream_through_and_locations_are_rewritten() {
    let reg = Registry::tls_htpasswd("u", "p");
    let proxy = FaultProxy::new(&reg);
    let c = client();
    let r = c
        .post(format!("{}/v2/x/y/blobs/uploads/", proxy.base_url()))
        .basic_auth("u", Some("p"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 202);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with(&proxy.base_url()), "{loc}");
    let blob = images::layer_blob(1, 5000, images::OCI_LAYER).0;
    let r = c
        .put(format!("{loc}&digest={}", blob.digest))
        .basic_auth("u", Some("p"))
        .body(blob.bytes.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let got = c
        .get(format!("{}/v2/x/y/blobs/{}", proxy.base_url(), blob.digest))
        .basic_auth("u", Some("p"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(got.as_ref(), blob.bytes.as_slice());
    assert_eq!(proxy.count("PUT", "digest=sha256"), 1);
}
