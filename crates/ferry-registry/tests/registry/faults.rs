//! Retries, rate limits, resets, corrupt content and servers that are not registries.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry_image::{Digest, Target};
use ferry_registry::{Client, ClientConfig, RegistryError, RetryPolicy};
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format};
use ferry_testkit::proxy::FaultProxy;

use crate::fake::{self, http};
use crate::{client, config, digest};

fn setup() -> (Registry, FaultProxy, images::TestImage) {
    let reg = Registry::plain();
    let img = images::simple(71, Format::Docker);
    images::push_image(&reg, "ns/app", Some("v1"), &img);
    let proxy = FaultProxy::new(&reg);
    (reg, proxy, img)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_5xx_then_succeeds() {
    let (_reg, proxy, img) = setup();
    let c = client();
    let repo = c.repository(&proxy.host(), "ns/app");
    proxy.fail_next("GET", "/manifests/v1", 503, 2);
    let m = repo.get_manifest(&Target::Tag("v1".into())).await.unwrap();
    assert_eq!(m.bytes(), img.manifest.as_slice());
    assert_eq!(c.stats().retries, 2);
    assert_eq!(proxy.count("GET", "/manifests/v1"), 3);

    // Attempts run out: the 503 is reported, after exactly max_attempts tries.
    proxy.fail_next("GET", "/manifests/v1", 503, 10);
    let e = repo
        .get_manifest(&Target::Tag("v1".into()))
        .await
        .unwrap_err();
    assert!(e.is_retryable() && e.status() == Some(503), "{e}");
    assert_eq!(proxy.count("GET", "/manifests/v1"), 3 + 4);
    proxy.clear_rules();

    // 4xx other than 429 are never retried.
    let before = c.stats().retries;
    proxy.fail_next("GET", "/manifests/v1", 400, 1);
    assert_eq!(
        repo.get_manifest(&Target::Tag("v1".into()))
            .await
            .unwrap_err()
            .status(),
        Some(400)
    );
    assert_eq!(c.stats().retries, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honours_retry_after() {
    let (_reg, proxy, _img) = setup();
    let c = client();
    let repo = c.repository(&proxy.host(), "ns/app");
    repo.head_manifest(&Target::Tag("v1".into())).await.unwrap();
    proxy.fail_next_retry_after("GET", "/manifests/v1", 429, 1, 1);
    let start = Instant::now();
    repo.get_manifest(&Target::Tag("v1".into())).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(c.stats().retries, 1);

    // Capped at max_delay.
    let capped = Client::new(ClientConfig {
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(100),
            ..RetryPolicy::default()
        },
        ..config()
    })
    .unwrap();
    let repo = capped.repository(&proxy.host(), "ns/app");
    proxy.fail_next_retry_after("GET", "/manifests/v1", 429, 3600, 1);
    let start = Instant::now();
    repo.get_manifest(&Target::Tag("v1".into())).await.unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_are_retried() {
    let (_reg, proxy, img) = setup();
    let c = client();
    let repo = c.repository(&proxy.host(), "ns/app");
    repo.head_manifest(&Target::Tag("v1".into())).await.unwrap();
    proxy.reset_next("GET", "/manifests/v1", 1);
    let m = repo.get_manifest(&Target::Tag("v1".into())).await.unwrap();
    assert_eq!(m.bytes(), img.manifest.as_slice());
    assert!(c.stats().retries >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_blobs_fail_verification() {
    let (_reg, proxy, img) = setup();
    proxy.corrupt_blobs(true);
    let c = client();
    let repo = c.repository(&proxy.host(), "ns/app");
    let e = repo
        .get_blob_bytes(&digest(&img.config.digest), 1 << 20)
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::Content { .. }), "{e}");
    assert!(e.to_string().contains("digest mismatch"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifest_bytes_must_match_the_digest() {
    let real = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let other = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[ ]}"#;
    let wanted = Digest::sha256(real);
    let wanted_s = wanted.to_string();
    let host = fake::serve(Arc::new(move |path: &str| {
        let ct = ("Content-Type", "application/vnd.oci.image.index.v1+json");
        if path.ends_with("/manifests/lying-tag") {
            http("200 OK", &[ct, ("Docker-Content-Digest", &wanted_s)], other)
        } else if path.contains("/manifests/") {
            http("200 OK", &[ct], other)
        } else {
            http("200 OK", &[], b"{}")
        }
    }))
    .await;
    let c = client();
    let repo = c.repository(&host, "ns/app");
    let e = repo
        .get_manifest(&Target::Digest(wanted.clone()))
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::Content { .. }), "{e}");
    assert!(e.to_string().contains("digest mismatch"), "{e}");
    let e = repo
        .get_manifest(&Target::Tag("lying-tag".into()))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("digest mismatch"), "{e}");
    // A tag without a digest header is taken as served.
    let m = repo
        .get_manifest(&Target::Tag("plain".into()))
        .await
        .unwrap();
    assert_eq!(m.bytes(), other);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_servers_give_clear_errors() {
    // Not HTTP at all.
    let host = fake::serve(Arc::new(|_: &str| {
        b"SSH-2.0-OpenSSH_9.6\r\n\0\0garbage".to_vec()
    }))
    .await;
    let c = Client::new(ClientConfig {
        retry: RetryPolicy::none(),
        ..config()
    })
    .unwrap();
    let e = c.ping(&host).await.unwrap_err();
    eprintln!("garbage: {e}");
    assert!(e.to_string().contains("not a registry answer"), "{e}");

    // HTML everywhere.
    let html = b"<html><body>Welcome to nginx!</body></html>";
    let host = fake::serve(Arc::new(move |_: &str| {
        http("200 OK", &[("Content-Type", "text/html")], html)
    }))
    .await;
    let repo = c.repository(&host, "ns/app");
    let e = repo
        .get_manifest(&Target::Tag("v1".into()))
        .await
        .unwrap_err();
    eprintln!("garbage: {e}");
    assert!(e.to_string().contains("not a registry answer"), "{e}");
    let e = repo.tags().await.unwrap_err();
    eprintln!("garbage: {e}");
    assert!(e.to_string().contains("not a registry answer"), "{e}");

    // HTML 404s and a 500 with a huge header-less body.
    let host = fake::serve(Arc::new(move |p: &str| {
        if p.contains("tags") {
            http("500 Internal Server Error", &[], &[b'x'; 100_000])
        } else {
            http("404 Not Found", &[("Content-Type", "text/html")], html)
        }
    }))
    .await;
    let repo = c.repository(&host, "ns/app");
    assert!(
        repo.head_manifest(&Target::Tag("v1".into()))
            .await
            .unwrap()
            .is_none()
    );
    let e = repo
        .get_blob(&digest(&format!("sha256:{}", "a".repeat(64))))
        .await
        .err()
        .unwrap();
    assert!(e.is_not_found(), "{e}");
    let e = repo.tags().await.unwrap_err();
    assert_eq!(e.status(), Some(500), "{e}");

    // Nothing listening.
    let port = ferry_testkit::reserve_port();
    let e = c.ping(&format!("127.0.0.1:{port}")).await.unwrap_err();
    assert!(e.is_retryable(), "{e}");
}
