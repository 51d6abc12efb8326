//! Hardening (issue 11): client certificates per certs.d, TLS verification per host,
//! what credentials may travel to a token realm, and messages that say what happened.

use std::collections::HashMap;

use ferry_image::Target;
use ferry_registry::{Client, ClientConfig, Credentials, RegistryError, TransportKind};
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format};

use crate::config;

fn creds(host: &str, user: &str, pass: &str) -> HashMap<String, Credentials> {
    let mut c = HashMap::new();
    c.insert(host.to_string(), Credentials::new(user, pass));
    c
}

/// A registry that demands a client certificate (`http.tls.clientcas`) accepts ferry with
/// the pair from `certs.d/HOST:PORT/client.{cert,key}`, and refuses it without.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificates_from_certs_d() {
    let reg = Registry::builder().tls(true).client_certs(true).start();
    let img = images::simple(121, Format::Oci);
    images::push_image(&reg, "ns/app", Some("v1"), &img);
    let certs_d = reg.certs_d().unwrap();
    let c = Client::new(ClientConfig {
        certs_d_roots: vec![certs_d.clone()],
        ..config()
    })
    .unwrap();
    let m = c
        .repository(&reg.host(), "ns/app")
        .get_manifest(&Target::Tag("v1".into()))
        .await
        .unwrap();
    assert_eq!(m.bytes(), img.manifest.as_slice());

    // The CA alone: the registry refuses the handshake.
    let no_pair = Client::new(ClientConfig {
        cert_dir: reg.cert_dir(),
        ..config()
    })
    .unwrap();
    let e = no_pair.ping(&reg.host()).await.unwrap_err();
    eprintln!("no client certificate: {e}");
    assert!(matches!(e, RegistryError::Transport { .. }), "{e}");

    // A `.crt` that is not PEM in the host's directory: an error naming it.
    let bad = certs_d.join(reg.host()).join("zz-garbage.crt");
    std::fs::write(&bad, "this is not a certificate\n").unwrap();
    let fresh = Client::new(ClientConfig {
        certs_d_roots: vec![certs_d.clone()],
        ..config()
    })
    .unwrap();
    let e = fresh.ping(&reg.host()).await.unwrap_err();
    eprintln!("bad crt: {e}");
    assert!(e.to_string().contains("zz-garbage.crt"), "{e}");
}

/// TLS verification per host: off for one registry only, or on for one registry even when
/// off for the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_verification_per_host() {
    let reg = Registry::builder().tls(true).start();
    let mut off = HashMap::new();
    off.insert(reg.host(), false);
    // No CA given: only the per-host `false` makes it work.
    let c = Client::new(ClientConfig {
        tls_verify_hosts: off,
        ..config()
    })
    .unwrap();
    c.ping(&reg.host()).await.unwrap();
    let mut on = HashMap::new();
    on.insert(reg.host(), true);
    let c = Client::new(ClientConfig {
        tls_verify: false,
        tls_verify_hosts: on,
        ..config()
    })
    .unwrap();
    let e = c.ping(&reg.host()).await.unwrap_err();
    eprintln!("verified per host: {e}");
    assert!(matches!(e, RegistryError::Transport { .. }), "{e}");
}

/// A plain-http registry reached with TLS verification on for it: the message says the
/// server answered plain HTTP and what to do, not "InvalidContentType".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_answer_to_https_is_explained() {
    let reg = Registry::plain();
    let mut on = HashMap::new();
    on.insert(reg.host(), true);
    let c = Client::new(ClientConfig {
        tls_verify_hosts: on,
        retry: ferry_registry::RetryPolicy::none(),
        ..config()
    })
    .unwrap();
    let e = c.ping(&reg.host()).await.unwrap_err();
    eprintln!("plain http: {e}");
    assert!(
        matches!(
            e,
            RegistryError::Transport {
                kind: TransportKind::PlainHttp,
                ..
            }
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("plain HTTP") && text.contains("--tls-verify=false"),
        "{text}"
    );
}

/// Credentials are never sent to a plain-http token realm of a verified https registry;
/// the error names the realm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_never_go_to_a_plain_http_realm() {
    let reg = Registry::builder()
        .tls(true)
        .token(&[("alice", "realm-secret-pw")])
        .realm("http://realm.invalid/token")
        .start();
    let c = Client::new(ClientConfig {
        cert_dir: reg.cert_dir(),
        credentials: creds(&reg.host(), "alice", "realm-secret-pw"),
        ..config()
    })
    .unwrap();
    let e = c
        .repository(&reg.host(), "ns/app")
        .get_manifest(&Target::Tag("v1".into()))
        .await
        .unwrap_err();
    eprintln!("plain http realm: {e}");
    let text = format!("{e} {e:?}");
    assert!(
        text.contains("http://realm.invalid/token") && text.contains("not https"),
        "{text}"
    );
    assert!(!text.contains("realm-secret-pw"), "{text}");
}

/// A realm URL that answers 404 is reported as such, never as "manifest not found".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realm_answering_404_is_not_a_missing_manifest() {
    let other = Registry::plain();
    let reg = Registry::builder()
        .token(&[("alice", "pw-404")])
        .realm(&format!("{}/no/such/token", other.base_url()))
        .start();
    let c = Client::new(ClientConfig {
        credentials: creds(&reg.host(), "alice", "pw-404"),
        ..config()
    })
    .unwrap();
    let e = c
        .repository(&reg.host(), "ns/app")
        .get_manifest(&Target::Tag("v1".into()))
        .await
        .unwrap_err();
    eprintln!("realm 404: {e}");
    assert!(!e.is_not_found(), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("token realm URL") && text.contains("404") && text.contains("/no/such/token"),
        "{text}"
    );
}
