//! Cosign attachments against a real registry, judged by the format itself: openssl
//! verifies the signatures ferry writes, and ferry verifies signatures laid out by hand
//! (payload, openssl signature, attachment manifest) as cosign lays them out.

mod common;

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use ferry_image::{Digest, Reference};
use ferry_sign::attachments::{COSIGN_LAYER_TYPE, SIGNATURE_ANNOTATION, attachment_tag};
use ferry_sign::{
    Passphrase, RegistriesD, SignError, SignatureFormat, SigningKey, Verdict, VerificationKey,
    default_identity, sign, verify,
};
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format};
use ferry_testkit::keys::{openssl, p256_key};
use serde_json::{Value, json};

fn http_get(reg: &Registry, path: &str, accept: &str) -> Vec<u8> {
    let url = format!("{}{path}", reg.base_url());
    let client = reg.http_client();
    let accept = accept.to_string();
    std::thread::scope(|s| {
        s.spawn(move || {
            let resp = client.get(&url).header("Accept", accept).send().unwrap();
            assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
            resp.bytes().unwrap().to_vec()
        })
        .join()
        .unwrap()
    })
}

fn no_config() -> RegistriesD {
    RegistriesD::default()
}

#[tokio::test]
async fn openssl_verifies_the_attachment_ferry_writes() {
    let reg = Registry::plain();
    let img = images::simple(51, Format::Docker);
    images::push_image(&reg, "team/app", Some("1.0"), &img);
    let dir = tempfile::tempdir().unwrap();
    let (key_pem, pub_pem) = p256_key(dir.path(), "k");
    let key = SigningKey::from_file(&key_pem, None).unwrap();
    assert_eq!(key.format(), SignatureFormat::Cosign);

    let client = client();
    let repo = repo(&client, &reg, "team/app");
    let reference = Reference::parse(&format!("{}/team/app:1.0", reg.host())).unwrap();
    let digest = Digest::parse(&img.digest).unwrap();
    let identity = reference.repository_ref();
    let out = sign(&repo, &digest, &identity, &key, &no_config())
        .await
        .unwrap();
    assert!(out.added);

    // The layout, as read from the registry.
    let tag = attachment_tag(&digest);
    assert_eq!(tag, format!("sha256-{}.sig", digest.hex()));
    let manifest: Value = serde_json::from_slice(&http_get(
        &reg,
        &format!("/v2/team/app/manifests/{tag}"),
        "application/vnd.oci.image.manifest.v1+json",
    ))
    .unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["mediaType"], COSIGN_LAYER_TYPE);
    let layer_digest = layers[0]["digest"].as_str().unwrap();
    let payload = http_get(&reg, &format!("/v2/team/app/blobs/{layer_digest}"), "*/*");
    assert_eq!(layers[0]["size"], payload.len());
    let p: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(p["critical"]["type"], "cosign container image signature");
    assert_eq!(p["critical"]["image"]["docker-manifest-digest"], img.digest);
    assert_eq!(
        p["critical"]["identity"]["docker-reference"],
        format!("{}/team/app", reg.host())
    );
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config: Value = serde_json::from_slice(&http_get(
        &reg,
        &format!("/v2/team/app/blobs/{config_digest}"),
        "*/*",
    ))
    .unwrap();
    assert_eq!(config["rootfs"]["diff_ids"], json!([layer_digest]));

    // openssl verifies the signature over the payload with the public key.
    let sig = STANDARD
        .decode(
            layers[0]["annotations"][SIGNATURE_ANNOTATION]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let sig_path = dir.path().join("sig.der");
    let payload_path = dir.path().join("payload");
    std::fs::write(&sig_path, &sig).unwrap();
    std::fs::write(&payload_path, &payload).unwrap();
    let v = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        &pub_pem.display().to_string(),
        "-signature",
        &sig_path.display().to_string(),
        &payload_path.display().to_string(),
    ]);
    assert!(String::from_utf8_lossy(&v.stdout).contains("Verified OK"));

    // Signing again adds nothing; a second key appends a second layer.
    assert!(
        !sign(&repo, &digest, &identity, &key, &no_config())
            .await
            .unwrap()
            .added
    );
    let (key2_pem, pub2_pem) = p256_key(dir.path(), "k2");
    let key2 = SigningKey::from_file(&key2_pem, None).unwrap();
    assert!(
        sign(&repo, &digest, &identity, &key2, &no_config())
            .await
            .unwrap()
            .added
    );
    let manifest: Value = serde_json::from_slice(&http_get(
        &reg,
        &format!("/v2/team/app/manifests/{tag}"),
        "application/vnd.oci.image.manifest.v1+json",
    ))
    .unwrap();
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 2);
    for public in [&pub_pem, &pub2_pem] {
        let vk = VerificationKey::from_file(public).unwrap();
        let v = verify(
            &repo,
            &digest,
            &default_identity(&reference),
            &vk,
            &no_config(),
        )
        .await
        .unwrap();
        assert!(v.is_valid(), "{v:?}");
    }
}

#[tokio::test]
async fn ferry_verifies_a_signature_laid_out_by_hand_and_refuses_another_key() {
    let reg = Registry::plain();
    let img = images::simple(61, Format::Oci);
    images::push_image(&reg, "team/app", Some("2"), &img);
    let dir = tempfile::tempdir().unwrap();
    let (key_pem, pub_pem) = p256_key(dir.path(), "signer");
    let (_other_key, other_pub) = p256_key(dir.path(), "other");
    let digest = Digest::parse(&img.digest).unwrap();
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{}/team/app"}},"image":{{"docker-manifest-digest":"{}"}},"type":"cosign container image signature"}},"optional":null}}"#,
        reg.host(),
        img.digest
    );
    let payload_path = dir.path().join("payload.json");
    std::fs::write(&payload_path, &payload).unwrap();
    let sig_path = dir.path().join("payload.sig");
    openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        &key_pem.display().to_string(),
        "-out",
        &sig_path.display().to_string(),
        &payload_path.display().to_string(),
    ]);
    attach_by_hand(
        &reg,
        "team/app",
        payload.as_bytes(),
        &std::fs::read(&sig_path).unwrap(),
        &digest,
    );

    let client = client();
    let repo = repo(&client, &reg, "team/app");
    let reference = Reference::parse(&format!("{}/team/app:2", reg.host())).unwrap();
    let expected = default_identity(&reference);
    let vk = VerificationKey::from_file(&pub_pem).unwrap();
    let v = verify(&repo, &digest, &expected, &vk, &no_config())
        .await
        .unwrap();
    assert!(v.is_valid(), "{v:?}");

    let vk = VerificationKey::from_file(&other_pub).unwrap();
    let v = verify(&repo, &digest, &expected, &vk, &no_config())
        .await
        .unwrap();
    assert!(!v.is_valid());
    assert!(
        matches!(v.signatures[0].verdict, Verdict::OtherKey { .. }),
        "{v:?}"
    );

    // The same signature does not cover another image.
    let other_img = images::simple(62, Format::Oci);
    images::push_image(&reg, "team/app", Some("3"), &other_img);
    let od = Digest::parse(&other_img.digest).unwrap();
    let v = verify(
        &repo,
        &od,
        &expected,
        &VerificationKey::from_file(&pub_pem).unwrap(),
        &no_config(),
    )
    .await
    .unwrap();
    assert!(v.failure().unwrap().contains("unsigned"), "{v:?}");
}

#[tokio::test]
async fn cosign_encrypted_keys_decrypt_sign_and_refuse_a_wrong_password() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cosign");
    for name in ["encrypted-cosign.key", "encrypted-sigstore.key"] {
        let path = fixtures.join(name);
        match SigningKey::from_file(&path, Some(&Passphrase::new("not-hello"))) {
            Err(e @ SignError::WrongPassphrase { .. }) => {
                let shown = format!("{e} / {e:?}");
                assert!(
                    shown.contains("wrong passphrase") && !shown.contains("not-hello"),
                    "{shown}"
                );
            }
            other => panic!("{name}: expected a wrong passphrase error, got {other:?}"),
        }
        let key = SigningKey::from_file(&path, Some(&Passphrase::new("hello")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(key.format(), SignatureFormat::Cosign);

        let reg = Registry::plain();
        let img = images::simple(71, Format::Docker);
        images::push_image(&reg, "team/app", Some("1"), &img);
        let client = client();
        let repo = repo(&client, &reg, "team/app");
        let reference = Reference::parse(&format!("{}/team/app:1", reg.host())).unwrap();
        let digest = Digest::parse(&img.digest).unwrap();
        sign(
            &repo,
            &digest,
            &reference.repository_ref(),
            &key,
            &no_config(),
        )
        .await
        .unwrap();
        let v = verify(
            &repo,
            &digest,
            &reference,
            &key.verification_key(),
            &no_config(),
        )
        .await
        .unwrap();
        assert!(v.is_valid(), "{v:?}");
    }
}
