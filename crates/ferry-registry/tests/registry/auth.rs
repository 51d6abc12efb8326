//! TLS + htpasswd, token realm, auth files.

use std::collections::HashMap;

use bytes::Bytes;
use ferry_image::{Digest, RawManifest, Target};
use ferry_registry::{BytesOpener, Client, ClientConfig, Credentials, Repository};
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format, TestImage};

use crate::{client_with, config, digest};

/// Pushes `img` with ferry: blobs, then the manifest under `tag`.
async fn push(repo: &Repository, img: &TestImage, tag: &str) {
    for b in img.blobs() {
        let d = digest(&b.digest);
        if repo.blob_exists(&d).await.unwrap().is_none() {
            repo.upload_blob(
                &d,
                b.size() as u64,
                &BytesOpener(Bytes::from(b.bytes.clone())),
            )
            .await
            .unwrap();
        }
    }
    let raw = RawManifest::new(img.manifest.clone(), Some(&img.media_type)).unwrap();
    repo.put_manifest(&Target::Tag(tag.into()), &raw)
        .await
        .unwrap();
}

fn tls_config(reg: &Registry) -> ClientConfig {
    ClientConfig {
        cert_dir: reg.cert_dir(),
        ..config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_htpasswd_with_credentials() {
    let reg = Registry::tls_htpasswd("alice", "wonderland-pw");
    let mut credentials = HashMap::new();
    credentials.insert(reg.host(), Credentials::new("alice", "wonderland-pw"));
    let c = Client::new(ClientConfig {
        credentials,
        ..tls_config(&reg)
    })
    .unwrap();
    c.ping(&reg.host()).await.unwrap();
    let repo = c.repository(&reg.host(), "ns/app");
    let img = images::simple(81, Format::Oci);
    push(&repo, &img, "v1").await;
    let m = repo.get_manifest(&Target::Tag("v1".into())).await.unwrap();
    assert_eq!(m.bytes(), img.manifest.as_slice());

    // A wrong password: an auth error that names the user, never the password.
    let mut credentials = HashMap::new();
    credentials.insert(reg.host(), Credentials::new("alice", "not-the-pw"));
    let bad = Client::new(ClientConfig {
        credentials,
        ..tls_config(&reg)
    })
    .unwrap();
    let e = bad
        .repository(&reg.host(), "ns/app")
        .get_manifest(&Target::Tag("v1".into()))
        .await
        .unwrap_err();
    eprintln!("wrong password: {e}");
    assert!(e.is_auth() && !e.is_retryable(), "{e}");
    let text = format!("{e} {e:?}");
    assert!(
        text.contains("alice") && !text.contains("not-the-pw"),
        "{text}"
    );
    assert!(!format!("{:?}", bad.config()).contains("not-the-pw"));

    // No credentials at all.
    let anon = Client::new(tls_config(&reg)).unwrap();
    let e = anon.ping(&reg.host()).await.unwrap_err();
    eprintln!("auth: {e}");
    assert!(e.is_auth(), "{e}");

    // Without the CA: a TLS error, not a confusing http answer.
    let untrusting = Client::new(config()).unwrap();
    let e = untrusting.ping(&reg.host()).await.unwrap_err();
    eprintln!("untrusted: {e}");
    assert!(
        e.to_string().contains("https://") || e.to_string().contains("connect"),
        "{e}"
    );
    // tls_verify=false accepts it.
    let mut credentials = HashMap::new();
    credentials.insert(reg.host(), Credentials::new("alice", "wonderland-pw"));
    let insecure = Client::new(ClientConfig {
        tls_verify: false,
        credentials,
        ..config()
    })
    .unwrap();
    insecure.ping(&reg.host()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_from_a_docker_config_file() {
    let reg = Registry::tls_htpasswd("carol", "file-pw");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("carol:file-pw");
    std::fs::write(
        &path,
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host()),
    )
    .unwrap();
    let c = Client::new(ClientConfig {
        auth_file: Some(path.clone()),
        ..tls_config(&reg)
    })
    .unwrap();
    c.ping(&reg.host()).await.unwrap();
    let repo = c.repository(&reg.host(), "ns/file");
    push(&repo, &images::simple(82, Format::Docker), "v1").await;

    // login / logout through the same module.
    let other = dir.path().join("auth.json");
    ferry_registry::authfile::store(&other, &reg.host(), &Credentials::new("carol", "file-pw"))
        .unwrap();
    let c2 = Client::new(ClientConfig {
        auth_file: Some(other.clone()),
        ..tls_config(&reg)
    })
    .unwrap();
    assert!(c2.repository(&reg.host(), "ns/file").tags().await.unwrap() == vec!["v1"]);
    assert!(ferry_registry::authfile::remove(&other, &reg.host()).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_realm_one_fetch_per_scope() {
    let reg = Registry::token(&[("bob", "builder-pw")]);
    let c = client_with(&reg.host(), "bob", "builder-pw");
    let repo = c.repository(&reg.host(), "ns/tok");
    let img = images::simple(91, Format::Oci);
    push(&repo.clone().for_push(), &img, "v1").await;
    // The push needed one token (pull,push asked up front).
    assert_eq!(c.stats().token_fetches, 1, "{:?}", c.stats());
    for _ in 0..20 {
        let m = repo.get_manifest(&Target::Tag("v1".into())).await.unwrap();
        assert_eq!(m.bytes(), img.manifest.as_slice());
        repo.blob_exists(&digest(&img.config.digest))
            .await
            .unwrap()
            .unwrap();
    }
    // Reads are covered by the pull,push token.
    assert_eq!(c.stats().token_fetches, 1);
    assert_eq!(reg.token_requests(), 1);

    // Another repository with a mount from the first: one more token for both scopes.
    let other = c.repository(&reg.host(), "ns/tok2").for_push();
    for b in img.blobs() {
        assert!(
            other
                .mount_blob(&digest(&b.digest), "ns/tok")
                .await
                .unwrap()
        );
    }
    assert_eq!(c.stats().token_fetches, 2);

    // Tokens are shared by clones of the client.
    let c2 = c.clone();
    c2.repository(&reg.host(), "ns/tok").tags().await.unwrap();
    assert_eq!(c.stats().token_fetches, 2);

    // Without credentials: denied, no loop.
    let anon = crate::client();
    let e = anon
        .repository(&reg.host(), "ns/tok")
        .get_manifest(&Target::Tag("v1".into()))
        .await
        .unwrap_err();
    eprintln!("auth: {e}");
    assert!(e.is_auth(), "{e}");
    assert!(anon.stats().token_fetches <= 2, "{:?}", anon.stats());

    // Wrong password: the realm refuses.
    let bad = client_with(&reg.host(), "bob", "wrong-pw");
    let e = bad
        .repository(&reg.host(), "ns/tok")
        .get_manifest(&Target::Tag("v1".into()))
        .await
        .unwrap_err();
    eprintln!("auth: {e}");
    assert!(e.is_auth(), "{e}");
    assert!(!format!("{e} {e:?}").contains("wrong-pw"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_realm_without_push_intent_costs_one_token_per_scope() {
    let reg = Registry::token(&[("bob", "builder-pw")]);
    let c = client_with(&reg.host(), "bob", "builder-pw");
    let repo = c.repository(&reg.host(), "ns/tok");
    let img = images::simple(92, Format::Docker);
    // HEADs (pull) first, then uploads (pull,push): two tokens, then none.
    push(&repo, &img, "v1").await;
    assert_eq!(c.stats().token_fetches, 2);
    push(&repo, &img, "v2").await;
    repo.get_manifest(&Target::Tag("v2".into())).await.unwrap();
    c.ping(&reg.host()).await.unwrap();
    assert_eq!(c.stats().token_fetches, 2);
    let d = Digest::sha256(&img.manifest);
    repo.delete_manifest(&d).await.unwrap();
    assert!(
        repo.head_manifest(&Target::Digest(d))
            .await
            .unwrap()
            .is_none()
    );
}

#[test]
fn bad_cert_dir_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ca.crt"),
        "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let e = Client::new(ClientConfig {
        cert_dir: Some(dir.path().to_path_buf()),
        ..config()
    })
    .unwrap_err();
    assert!(e.to_string().contains("ca.crt"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_one_token() {
    let reg = Registry::token(&[("bob", "builder-pw")]);
    let img = images::simple(93, Format::Oci);
    let seed = client_with(&reg.host(), "bob", "builder-pw");
    push(
        &seed.repository(&reg.host(), "ns/par").for_push(),
        &img,
        "v1",
    )
    .await;

    let c = client_with(&reg.host(), "bob", "builder-pw");
    let repo = c.repository(&reg.host(), "ns/par");
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let repo = repo.clone();
            tokio::spawn(async move { repo.get_manifest(&Target::Tag("v1".into())).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().bytes(), img.manifest.as_slice());
    }
    assert_eq!(c.stats().token_fetches, 1, "{:?}", c.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_do_not_carry_credentials_to_another_host() {
    use std::sync::{Arc, Mutex};

    use crate::fake::{http, serve_head};
    let content = b"blob content".to_vec();
    let d = Digest::sha256(&content);
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen2 = Arc::clone(&seen);
    let body = content.clone();
    let storage = serve_head(Arc::new(move |head: &str| {
        seen2.lock().unwrap().push(head.to_ascii_lowercase());
        http("200 OK", &[], &body)
    }))
    .await;
    let registry = serve_head(Arc::new(move |head: &str| {
        let authed = head
            .to_ascii_lowercase()
            .contains("\r\nauthorization: basic");
        if !authed {
            http(
                "401 Unauthorized",
                &[("WWW-Authenticate", r#"Basic realm="x""#)],
                b"",
            )
        } else if head.contains("/blobs/") {
            let loc = format!("http://{storage}/storage/blob?X-Amz-Signature=secret");
            http("307 Temporary Redirect", &[("Location", &loc)], b"")
        } else {
            http("200 OK", &[], b"{}")
        }
    }))
    .await;
    let c = client_with(&registry, "dave", "redirect-pw");
    let repo = c.repository(&registry, "ns/app");
    assert_eq!(repo.get_blob_bytes(&d, 1024).await.unwrap(), content);
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|h| !h.contains("authorization")),
        "{seen:?}"
    );
}
