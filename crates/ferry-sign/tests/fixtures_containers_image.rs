//! containers/image's own signature fixtures (tests/fixtures/containers-image, see its
//! README), served from a real registry: the fixture manifest stored in the registry, its
//! simple signing signatures in a file lookaside, its cosign signatures laid out as an
//! attachment. Valid ones verify; modified-manifest, digest-error and other-key ones are
//! refused.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::*;
use ferry_image::Target;
use ferry_image::{Digest, Reference};
use ferry_sign::{RegistriesD, Verdict, VerificationKey, manifests_to_sign, verify};
use ferry_testkit::Registry;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/containers-image")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

struct Setup {
    reg: Registry,
    _dir: tempfile::TempDir,
    lookaside: PathBuf,
    config: RegistriesD,
    client: ferry_registry::Client,
}

fn setup() -> Setup {
    let reg = Registry::plain();
    let dir = tempfile::tempdir().unwrap();
    let lookaside = dir.path().join("sigstore");
    let config = RegistriesD::from_dir(&registries_d(dir.path(), &lookaside)).unwrap();
    Setup {
        reg,
        _dir: dir,
        lookaside,
        config,
        client: client(),
    }
}

impl Setup {
    /// Serves `manifest` in `repo` and puts `signatures` in the lookaside for it.
    fn simple(&self, repo: &str, manifest: &str, signatures: &[&str]) -> Digest {
        let digest = Digest::parse(&seed_manifest(
            &self.reg,
            repo,
            Some("latest"),
            &read(manifest),
        ))
        .unwrap();
        let dir = self
            .lookaside
            .join(format!("{repo}@sha256={}", digest.hex()));
        std::fs::create_dir_all(&dir).unwrap();
        for (i, s) in signatures.iter().enumerate() {
            std::fs::write(dir.join(format!("signature-{}", i + 1)), read(s)).unwrap();
        }
        digest
    }

    /// Serves `manifest` in `repo` with `signatures` (containers/image's sigstore-json
    /// form) laid out as a cosign attachment.
    fn cosign(&self, repo: &str, manifest: &str, signatures: &[&str]) -> Digest {
        let digest = Digest::parse(&seed_manifest(
            &self.reg,
            repo,
            Some("latest"),
            &read(manifest),
        ))
        .unwrap();
        for s in signatures {
            let bytes = read(s);
            let json = bytes
                .strip_prefix(b"\x00sigstore-json\n".as_slice())
                .expect("a sigstore-json signature");
            let v: serde_json::Value = serde_json::from_slice(json).unwrap();
            let payload = STANDARD.decode(v["payload"].as_str().unwrap()).unwrap();
            let sig = STANDARD
                .decode(
                    v["annotations"]["dev.cosignproject.cosign/signature"]
                        .as_str()
                        .unwrap(),
                )
                .unwrap();
            attach_by_hand(&self.reg, repo, &payload, &sig, &digest);
        }
        digest
    }

    /// Resolving `repo:latest` fails: the manifest cannot be given a digest.
    async fn unresolvable(&self, repo: &str) -> String {
        let r = self.client.repository(&self.reg.host(), repo);
        match manifests_to_sign(&r, &Target::Tag("latest".to_string())).await {
            Ok(d) => panic!("{repo}: resolved to {d:?}"),
            Err(e) => e.to_string(),
        }
    }

    async fn verify(
        &self,
        repo: &str,
        digest: &Digest,
        identity: &str,
        key: &str,
    ) -> ferry_sign::Verification {
        let r = self.client.repository(&self.reg.host(), repo);
        // The digest as the registry serves the manifest under its tag.
        let served = manifests_to_sign(&r, &Target::Tag("latest".to_string()))
            .await
            .unwrap();
        assert_eq!(&served[0], digest);
        let key = VerificationKey::from_file(&fixture(key)).unwrap();
        let expected = Reference::parse(identity).unwrap();
        verify(&r, digest, &expected, &key, &self.config)
            .await
            .unwrap()
    }
}

const IDENTITY: &str = "testing/manifest:latest";

#[tokio::test]
async fn simple_signing_fixtures() {
    let s = setup();
    let valid = s.simple(
        "valid/manifest",
        "dir-img-valid/manifest.json",
        &["dir-img-valid/signature-1"],
    );
    assert_eq!(
        valid.as_str(),
        "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55"
    );
    let v = s
        .verify("valid/manifest", &valid, IDENTITY, "public-key.gpg")
        .await;
    assert!(v.is_valid(), "{v:?}");
    assert_eq!(
        v.signatures[0].signer.as_deref(),
        Some("08CD26E446E2E95249B7A405E932F44B23E8DD43")
    );
    // Another identity is refused.
    let v = s
        .verify(
            "valid/manifest",
            &valid,
            "testing/manifest:other",
            "public-key.gpg",
        )
        .await;
    assert!(
        matches!(v.signatures[0].verdict, Verdict::WrongIdentity { .. }),
        "{v:?}"
    );

    // Two signatures, one for a tagless identity: still valid for :latest.
    let two = s.simple(
        "valid2/manifest",
        "dir-img-valid-2/manifest.json",
        &["dir-img-valid-2/signature-1", "dir-img-valid-2/signature-2"],
    );
    let v = s
        .verify("valid2/manifest", &two, IDENTITY, "public-key.gpg")
        .await;
    assert!(v.is_valid(), "{v:?}");
    assert_eq!(v.signatures.len(), 2);

    // Signed by a subkey.
    let sub = s.simple(
        "subkey/manifest",
        "dir-img-valid-subkey/manifest.json",
        &["dir-img-valid-subkey/signature-1"],
    );
    let v = s
        .verify(
            "subkey/manifest",
            &sub,
            "testing/manifest",
            "public-key-with-subkey.gpg",
        )
        .await;
    assert!(v.is_valid(), "{v:?}");

    // image.signature names "testing/manifest" (no tag): the repository, when the image is
    // named by digest.
    let img = s.simple(
        "image/manifest",
        "image.manifest.json",
        &["image.signature"],
    );
    let v = s
        .verify("image/manifest", &img, "testing/manifest", "public-key.gpg")
        .await;
    assert!(v.is_valid(), "{v:?}");
    let v = s
        .verify("image/manifest", &img, IDENTITY, "public-key.gpg")
        .await;
    assert!(!v.is_valid(), "{v:?}");

    // A modified manifest: the signature names another digest.
    let modified = s.simple(
        "modified/manifest",
        "dir-img-modified-manifest/manifest.json",
        &["dir-img-modified-manifest/signature-1"],
    );
    let v = s
        .verify("modified/manifest", &modified, IDENTITY, "public-key.gpg")
        .await;
    assert!(
        matches!(v.signatures[0].verdict, Verdict::WrongDigest { .. }),
        "{v:?}"
    );
    assert!(v.failure().unwrap().contains("another manifest"));

    // dir-img-manifest-digest-error: a schema 1 manifest whose digest cannot be
    // computed (its JWS part is malformed): refused before any signature is trusted.
    s.simple(
        "digesterror/manifest",
        "dir-img-manifest-digest-error/manifest.json",
        &["dir-img-manifest-digest-error/signature-1"],
    );
    let e = s.unresolvable("digesterror/manifest").await;
    assert!(e.contains("signatures"), "{e}");

    // A signature by an unknown key.
    let unknown = s.simple(
        "unknown/manifest",
        "image.manifest.json",
        &["unknown-key.signature"],
    );
    let v = s
        .verify("unknown/manifest", &unknown, IDENTITY, "public-key.gpg")
        .await;
    assert!(
        matches!(v.signatures[0].verdict, Verdict::OtherKey { .. }),
        "{v:?}"
    );
}

const COSIGN_REPO: &str = "192.168.64.2:5000/cosign-signed-single-sample";

#[tokio::test]
async fn cosign_fixtures() {
    let s = setup();
    let valid = s.cosign(
        "cosign/valid",
        "dir-img-cosign-valid/manifest.json",
        &["dir-img-cosign-valid/signature-1"],
    );
    // The payload names a repository: every tag of it.
    let v = s
        .verify(
            "cosign/valid",
            &valid,
            &format!("{COSIGN_REPO}:latest"),
            "cosign.pub",
        )
        .await;
    assert!(v.is_valid(), "{v:?}");
    let v = s
        .verify(
            "cosign/valid",
            &valid,
            "192.168.64.2:5000/elsewhere:latest",
            "cosign.pub",
        )
        .await;
    assert!(
        matches!(v.signatures[0].verdict, Verdict::WrongIdentity { .. }),
        "{v:?}"
    );
    let v = s
        .verify(
            "cosign/valid",
            &valid,
            &format!("{COSIGN_REPO}:latest"),
            "cosign2.pub",
        )
        .await;
    assert!(
        matches!(v.signatures[0].verdict, Verdict::OtherKey { .. }),
        "{v:?}"
    );

    let tagged = s.cosign(
        "cosign/tagged",
        "dir-img-cosign-valid-with-tag/manifest.json",
        &["dir-img-cosign-valid-with-tag/signature-1"],
    );
    let v = s
        .verify(
            "cosign/tagged",
            &tagged,
            "192.168.64.2:5000/skopeo-signed:tag",
            "cosign.pub",
        )
        .await;
    assert!(v.is_valid(), "{v:?}");
    let v = s
        .verify(
            "cosign/tagged",
            &tagged,
            "192.168.64.2:5000/skopeo-signed:other",
            "cosign.pub",
        )
        .await;
    assert!(!v.is_valid(), "{v:?}");

    let modified = s.cosign(
        "cosign/modified",
        "dir-img-cosign-modified-manifest/manifest.json",
        &["dir-img-cosign-modified-manifest/signature-1"],
    );
    let v = s
        .verify(
            "cosign/modified",
            &modified,
            &format!("{COSIGN_REPO}:latest"),
            "cosign.pub",
        )
        .await;
    assert!(
        matches!(v.signatures[0].verdict, Verdict::WrongDigest { .. }),
        "{v:?}"
    );

    s.cosign(
        "cosign/digesterror",
        "dir-img-cosign-manifest-digest-error/manifest.json",
        &["dir-img-cosign-manifest-digest-error/signature-1"],
    );
    let e = s.unresolvable("cosign/digesterror").await;
    assert!(e.contains("signatures"), "{e}");

    let unknown = s.cosign(
        "cosign/unknown",
        "dir-img-cosign-valid/manifest.json",
        &["unknown-cosign-key.signature"],
    );
    let v = s
        .verify(
            "cosign/unknown",
            &unknown,
            &format!("{COSIGN_REPO}:latest"),
            "cosign.pub",
        )
        .await;
    assert!(
        matches!(v.signatures[0].verdict, Verdict::OtherKey { .. }),
        "{v:?}"
    );
}
