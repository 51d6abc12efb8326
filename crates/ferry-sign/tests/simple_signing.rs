//! Simple signing against a real registry, with skopeo (containers/image) as the
//! independent judge: skopeo accepts what ferry signs under a `signedBy` policy, and
//! ferry verifies what `skopeo copy --sign-by` signs.

mod common;

use std::path::Path;

use common::*;
use ferry_image::{Digest, Reference};
use ferry_sign::{
    Passphrase, RegistriesD, SignError, SigningKey, Verdict, VerificationKey, default_identity,
    manifests_to_sign, sign, verify,
};
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format};

fn config(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, RegistriesD) {
    let lookaside = dir.join("sigstore");
    let rd = registries_d(dir, &lookaside);
    let config = RegistriesD::from_dir(&rd).unwrap();
    (lookaside, rd, config)
}

fn signing_key(k: &GpgKey) -> SigningKey {
    SigningKey::from_file(&k.secret, None).unwrap()
}

#[tokio::test]
async fn skopeo_accepts_a_single_image_ferry_signed() {
    let reg = Registry::plain();
    let img = images::simple(11, Format::Docker);
    images::push_image(&reg, "team/app", Some("1.0"), &img);
    let dir = tempfile::tempdir().unwrap();
    let (lookaside, rd, config) = config(dir.path());
    let key = GpgKey::generate("signer", None);
    let other = GpgKey::generate("other", None);

    let client = client();
    let repo = repo(&client, &reg, "team/app");
    let reference = Reference::parse(&format!("{}/team/app:1.0", reg.host())).unwrap();
    let digests = manifests_to_sign(&repo, &reference.target()).await.unwrap();
    assert_eq!(digests, vec![Digest::parse(&img.digest).unwrap()]);
    let out = sign(
        &repo,
        &digests[0],
        &default_identity(&reference),
        &signing_key(&key),
        &config,
    )
    .await
    .unwrap();
    assert!(out.added);
    let hex = img.digest.trim_start_matches("sha256:");
    let file = lookaside.join(format!("team/app@sha256={hex}/signature-1"));
    assert!(file.is_file(), "{}", out.location);

    // skopeo, trusting the key, copies it; trusting another key, refuses it.
    let policy = signed_by_policy(dir.path(), &reg.host(), &key.public);
    let src = reg.docker_ref("team/app:1.0");
    let dest = format!("dir:{}", dir.path().join("copy").display());
    let run = skopeo(
        &policy,
        &rd,
        None,
        &["copy", "--src-tls-verify=false", &src, &dest],
    );
    assert_ok(&run, "skopeo copy of the signed image");

    let other_dir = tempfile::tempdir().unwrap();
    let policy = signed_by_policy(other_dir.path(), &reg.host(), &other.public);
    let dest = format!("dir:{}", other_dir.path().join("copy").display());
    let run = skopeo(
        &policy,
        &rd,
        None,
        &["copy", "--src-tls-verify=false", &src, &dest],
    );
    assert!(
        !run.status.success(),
        "skopeo accepted a signature by another key"
    );

    // A tag the signature does not name is refused by skopeo too.
    images::push_image(&reg, "team/app", Some("2.0"), &img);
    let policy = signed_by_policy(dir.path(), &reg.host(), &key.public);
    let dest = format!("dir:{}", dir.path().join("copy2").display());
    let src2 = reg.docker_ref("team/app:2.0");
    let run = skopeo(
        &policy,
        &rd,
        None,
        &["copy", "--src-tls-verify=false", &src2, &dest],
    );
    assert!(
        !run.status.success(),
        "skopeo accepted a signature for another tag"
    );
}

#[tokio::test]
async fn skopeo_accepts_a_list_ferry_signed_whole_and_one_platform() {
    let reg = Registry::plain();
    let idx = images::multi_arch(&["amd64", "arm64"], 21, Format::Oci);
    images::push_index(&reg, "team/multi", Some("v1"), &idx);
    let dir = tempfile::tempdir().unwrap();
    let (_lookaside, rd, config) = config(dir.path());
    let key = GpgKey::generate("signer", None);

    let client = client();
    let repo = repo(&client, &reg, "team/multi");
    let reference = Reference::parse(&format!("{}/team/multi:v1", reg.host())).unwrap();
    let digests = manifests_to_sign(&repo, &reference.target()).await.unwrap();
    assert_eq!(digests.len(), 3, "the list and its two children");
    let k = signing_key(&key);
    for d in &digests {
        assert!(
            sign(&repo, d, &default_identity(&reference), &k, &config)
                .await
                .unwrap()
                .added
        );
    }

    let policy = signed_by_policy(dir.path(), &reg.host(), &key.public);
    let src = reg.docker_ref("team/multi:v1");
    let all = format!("dir:{}", dir.path().join("all").display());
    let run = skopeo(
        &policy,
        &rd,
        None,
        &["copy", "--all", "--src-tls-verify=false", &src, &all],
    );
    assert_ok(&run, "skopeo copy --all of the signed list");
    let one = format!("dir:{}", dir.path().join("one").display());
    let run = skopeo(
        &policy,
        &rd,
        None,
        &[
            "copy",
            "--override-arch",
            "arm64",
            "--src-tls-verify=false",
            &src,
            &one,
        ],
    );
    assert_ok(&run, "skopeo copy of one platform of the signed list");
}

#[tokio::test]
async fn ferry_verifies_what_skopeo_signed_and_refuses_other_keys_and_unsigned() {
    let reg = Registry::plain();
    let img = images::simple(31, Format::Docker);
    images::push_image(&reg, "src/app", Some("1"), &img);
    let unsigned = images::simple(32, Format::Docker);
    images::push_image(&reg, "team/unsigned", Some("1"), &unsigned);
    let dir = tempfile::tempdir().unwrap();
    let (_lookaside, rd, config) = config(dir.path());
    let key = GpgKey::generate("skopeo-signer", None);
    let other = GpgKey::generate("other", None);

    // skopeo signs while copying src/app:1 to team/app:1 (accept-anything policy).
    let policy = dir.path().join("accept.json");
    std::fs::write(
        &policy,
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    )
    .unwrap();
    let run = skopeo(
        &policy,
        &rd,
        Some(key.home.path()),
        &[
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--sign-by",
            &key.fingerprint,
            &reg.docker_ref("src/app:1"),
            &reg.docker_ref("team/app:1"),
        ],
    );
    assert_ok(&run, "skopeo copy --sign-by");

    let client = client();
    let repo = repo(&client, &reg, "team/app");
    let reference = Reference::parse(&format!("{}/team/app:1", reg.host())).unwrap();
    let digest = Digest::parse(&img.digest).unwrap();
    let identity = default_identity(&reference);
    for public in [&key.public, &key.public_binary] {
        let vk = VerificationKey::from_file(public).unwrap();
        let v = verify(&repo, &digest, &identity, &vk, &config)
            .await
            .unwrap();
        assert!(v.is_valid(), "{:?}", v);
        assert_eq!(
            v.signatures[0].signer.as_deref(),
            Some(key.fingerprint.as_str())
        );
    }

    // Another key: refused, and said so.
    let vk = VerificationKey::from_file(&other.public).unwrap();
    let v = verify(&repo, &digest, &identity, &vk, &config)
        .await
        .unwrap();
    assert!(!v.is_valid());
    assert!(
        matches!(v.signatures[0].verdict, Verdict::OtherKey { .. }),
        "{v:?}"
    );
    assert!(
        v.failure().unwrap().contains("another key"),
        "{:?}",
        v.failure()
    );

    // Another identity: refused.
    let wrong = Reference::parse(&format!("{}/team/app:2", reg.host())).unwrap();
    let vk = VerificationKey::from_file(&key.public).unwrap();
    let v = verify(&repo, &digest, &wrong, &vk, &config).await.unwrap();
    assert!(
        matches!(v.signatures[0].verdict, Verdict::WrongIdentity { .. }),
        "{v:?}"
    );

    // Unsigned: refused, and said so.
    let urepo = common::repo(&client, &reg, "team/unsigned");
    let uref = Reference::parse(&format!("{}/team/unsigned:1", reg.host())).unwrap();
    let v = verify(
        &urepo,
        &Digest::parse(&unsigned.digest).unwrap(),
        &default_identity(&uref),
        &vk,
        &config,
    )
    .await
    .unwrap();
    assert!(v.signatures.is_empty());
    assert!(
        v.failure().unwrap().contains("unsigned"),
        "{:?}",
        v.failure()
    );
}

#[tokio::test]
async fn signing_twice_adds_nothing() {
    let reg = Registry::plain();
    let img = images::simple(41, Format::Oci);
    images::push_image(&reg, "team/app", Some("1"), &img);
    let dir = tempfile::tempdir().unwrap();
    let (lookaside, _rd, config) = config(dir.path());
    let key = GpgKey::generate("signer", None);
    let client = client();
    let repo = repo(&client, &reg, "team/app");
    let reference = Reference::parse(&format!("{}/team/app:1", reg.host())).unwrap();
    let digest = Digest::parse(&img.digest).unwrap();
    let k = signing_key(&key);
    let id = default_identity(&reference);
    assert!(sign(&repo, &digest, &id, &k, &config).await.unwrap().added);
    let again = sign(&repo, &digest, &id, &k, &config).await.unwrap();
    assert!(!again.added);
    let sigdir = lookaside.join(format!("team/app@sha256={}", digest.hex()));
    let files: Vec<_> = std::fs::read_dir(&sigdir).unwrap().collect();
    assert_eq!(files.len(), 1);
    // Another identity is another signature, appended as signature-2.
    let id2 = Reference::parse(&format!("{}/team/app:stable", reg.host())).unwrap();
    assert!(sign(&repo, &digest, &id2, &k, &config).await.unwrap().added);
    assert!(sigdir.join("signature-2").is_file());
}

#[test]
fn a_protected_key_needs_its_passphrase() {
    let key = GpgKey::generate("protected", Some("right horse"));
    match SigningKey::from_file(&key.secret, Some(&Passphrase::new("wrong battery"))) {
        Err(e @ SignError::WrongPassphrase { .. }) => {
            let shown = format!("{e} {e:?}");
            assert!(shown.contains("wrong passphrase"), "{shown}");
            assert!(!shown.contains("battery"), "{shown}");
        }
        other => panic!("expected a wrong passphrase error, got {other:?}"),
    }
    assert!(matches!(
        SigningKey::from_file(&key.secret, None),
        Err(SignError::PassphraseNeeded { .. })
    ));
    let k = SigningKey::from_file(&key.secret, Some(&Passphrase::new("right horse"))).unwrap();
    assert_eq!(k.fingerprint(), key.fingerprint);
    assert!(!format!("{k:?}").contains("horse"));
}
