//! Uploads: mounts, monolithic, chunked fallback behind a body limit, retries.

use bytes::Bytes;
use ferry_image::Digest;
use ferry_registry::{BytesOpener, FileOpener};
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format};
use ferry_testkit::proxy::FaultProxy;

use crate::client;

fn blob(seed: u8, len: usize) -> (Digest, Bytes) {
    let bytes: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect();
    (Digest::sha256(&bytes), Bytes::from(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mount_or_reuse_the_session() {
    let reg = Registry::plain();
    let img = images::simple(61, Format::Oci);
    images::push_image(&reg, "ns/a", Some("v1"), &img);
    let c = client();
    let b = c.repository(&reg.host(), "ns/b");
    let layer = digest_of(&img.layers[0].digest);
    assert!(b.mount_blob(&layer, "ns/a").await.unwrap());
    assert!(b.blob_exists(&layer).await.unwrap().is_some());

    // Not mountable (unknown in the source repository): 202, the session is kept and the
    // upload that follows does not POST again.
    let (d, bytes) = blob(1, 5000);
    assert!(!b.mount_blob(&d, "ns/a").await.unwrap());
    reg.settle();
    let mark = reg.mark();
    b.upload_blob(&d, bytes.len() as u64, &BytesOpener(bytes.clone()))
        .await
        .unwrap();
    reg.settle();
    assert_eq!(reg.count_since(mark, "POST", "/v2/ns/b/blobs/uploads/"), 0);
    assert_eq!(reg.count_since(mark, "PUT", "/v2/ns/b/blobs/uploads/"), 1);
    assert_eq!(b.get_blob_bytes(&d, 1 << 20).await.unwrap(), bytes);
}

fn digest_of(s: &str) -> Digest {
    Digest::parse(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_fallback_behind_a_body_limit() {
    let reg = Registry::plain();
    let proxy = FaultProxy::new(&reg);
    proxy.max_body(Some(64 * 1024));
    let c = client();
    let repo = c.repository(&proxy.host(), "ns/big");

    let (d, bytes) = blob(2, 300 * 1024 + 17);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blob");
    std::fs::write(&file, &bytes).unwrap();
    repo.upload_blob(&d, bytes.len() as u64, &FileOpener(file))
        .await
        .unwrap();
    assert!(proxy.count("PATCH", "/v2/ns/big/blobs/uploads/") >= 5);
    let refused = proxy.requests().iter().filter(|r| r.status == 413).count();
    assert!(refused >= 1);
    assert_eq!(
        repo.blob_exists(&d).await.unwrap(),
        Some(bytes.len() as u64)
    );
    // Read it back from the registry itself.
    let direct = client().repository(&reg.host(), "ns/big");
    assert_eq!(direct.get_blob_bytes(&d, 1 << 20).await.unwrap(), bytes);

    // The limit is remembered: the next large blob goes chunked without a refusal.
    let before = proxy.requests().iter().filter(|r| r.status == 413).count();
    let (d2, bytes2) = blob(3, 200 * 1024);
    repo.upload_blob(&d2, bytes2.len() as u64, &BytesOpener(bytes2.clone()))
        .await
        .unwrap();
    let after = proxy.requests().iter().filter(|r| r.status == 413).count();
    assert_eq!(before, after);
    assert_eq!(direct.get_blob_bytes(&d2, 1 << 20).await.unwrap(), bytes2);
    // Small blobs still go in one PUT.
    let (d3, bytes3) = blob(4, 1000);
    let puts = proxy.count("PUT", "/v2/ns/big/blobs/uploads/");
    let patches = proxy.count("PATCH", "/v2/ns/big/blobs/uploads/");
    repo.upload_blob(&d3, 1000, &BytesOpener(bytes3))
        .await
        .unwrap();
    assert_eq!(proxy.count("PUT", "/v2/ns/big/blobs/uploads/"), puts + 1);
    assert_eq!(proxy.count("PATCH", "/v2/ns/big/blobs/uploads/"), patches);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_retries_reopen_the_source() {
    let reg = Registry::plain();
    let proxy = FaultProxy::new(&reg);
    let c = client();
    let repo = c.repository(&proxy.host(), "ns/retry");
    let (d, bytes) = blob(5, 50_000);
    proxy.fail_next("PUT", "/v2/ns/retry/blobs/uploads/", 503, 1);
    proxy.fail_next("POST", "/v2/ns/retry/blobs/uploads/", 502, 1);
    repo.upload_blob(&d, bytes.len() as u64, &BytesOpener(bytes.clone()))
        .await
        .unwrap();
    assert_eq!(c.stats().retries, 2);
    assert_eq!(repo.get_blob_bytes(&d, 1 << 20).await.unwrap(), bytes);

    // A wrong digest is refused by the registry and not retried.
    let (_, other) = blob(6, 100);
    let e = repo
        .upload_blob(&d, other.len() as u64, &BytesOpener(other))
        .await
        .unwrap_err();
    assert!(!e.is_retryable() && e.status() == Some(400), "{e}");
}
