//! `ferry sign` and `ferry verify` end to end: the real binary, a real registry, keys made
//! by gpg and openssl.

mod common;

use std::path::Path;

use common::Ferry;
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format};
use ferry_testkit::keys::{GpgKey, p256_key};

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn simple_signing_sign_verify_and_every_refusal() {
    let reg = Registry::plain();
    let img = images::simple(81, Format::Docker);
    images::push_image(&reg, "team/app", Some("1.0"), &img);
    let unsigned = images::simple(82, Format::Docker);
    images::push_image(&reg, "team/app", Some("unsigned"), &unsigned);
    let idx = images::multi_arch(&["amd64", "arm64"], 83, Format::Docker);
    images::push_index(&reg, "team/multi", Some("1"), &idx);
    let f = Ferry::new(&[&reg]);
    let dir = f.dir.path();
    let lookaside = dir.join("sigstore");
    let rd = dir.join("registries.d");
    std::fs::create_dir_all(&rd).unwrap();
    std::fs::write(
        rd.join("sigs.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside: file://{}\n",
            reg.host(),
            s(&lookaside)
        ),
    )
    .unwrap();
    let signer = GpgKey::new(dir, "signer", "open sesame");
    let other = GpgKey::new(dir, "other", "");
    let (secret, public) = (signer.secret.clone(), signer.public.clone());
    let other_public = other.public.clone();
    let app = format!("{}/team/app:1.0", reg.host());

    // Wrong passphrase: exit 1, said plainly, never printed.
    let out = f
        .command(&[
            "--registries.d",
            &s(&rd),
            "sign",
            "--key",
            &s(&secret),
            &app,
        ])
        .env("FERRY_SIGN_PASSPHRASE", "close sesame")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("wrong passphrase"), "{stderr}");
    assert!(!stderr.contains("close sesame"));
    assert!(!lookaside.exists(), "nothing is written");

    // No passphrase at all: a usage error naming how to give one.
    let r = f.run(&[
        "--registries.d",
        &s(&rd),
        "sign",
        "--key",
        &s(&secret),
        &app,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("FERRY_SIGN_PASSPHRASE"), "{}", r.stderr);

    // Right passphrase from a file; twice: the second adds nothing.
    let pass_file = dir.join("pass");
    std::fs::write(&pass_file, "open sesame\n").unwrap();
    let sign = |target: &str| {
        f.run(&[
            "--registries.d",
            &s(&rd),
            "sign",
            "--key",
            &s(&secret),
            "--passphrase-file",
            &s(&pass_file),
            target,
        ])
    };
    let r = sign(&app);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("signed "), "{}", r.stdout);
    let r = sign(&app);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("already signed "), "{}", r.stdout);
    let hex = img.digest.trim_start_matches("sha256:");
    assert!(
        lookaside
            .join(format!("team/app@sha256={hex}/signature-1"))
            .is_file()
    );
    assert!(
        !lookaside
            .join(format!("team/app@sha256={hex}/signature-2"))
            .exists()
    );

    // Verify: valid, and the JSON lists the signature.
    let verify = |key: &Path, args: &[&str]| {
        let mut all = vec![
            "--registries.d".to_string(),
            s(&rd),
            "verify".into(),
            "--key".into(),
            s(key),
        ];
        all.extend(args.iter().map(|a| a.to_string()));
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        f.run(&refs)
    };
    let r = verify(&public, &[&app]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("verified"), "{}", r.stdout);
    let r = verify(&public, &["-o", "json", &app]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["digest"], img.digest);
    assert_eq!(v[0]["signatures"][0]["verdict"], "valid");
    assert_eq!(v[0]["signatures"][0]["payload"]["identity"], app);

    // Another key, another identity, an unsigned image: exit 1 naming what failed.
    let r = verify(&other_public, &[&app]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("another key"), "{}", r.stderr);
    let r = verify(
        &public,
        &["--identity", &format!("{}/team/app:2.0", reg.host()), &app],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("signed for identity"), "{}", r.stderr);
    let r = verify(&public, &[&format!("{}/team/app:unsigned", reg.host())]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("unsigned"), "{}", r.stderr);

    // A list: the list and each child are signed and verified.
    let multi = format!("{}/team/multi:1", reg.host());
    let r = sign(&multi);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("signed "))
            .count(),
        3,
        "{}",
        r.stdout
    );
    let r = verify(&public, &[&multi]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 3, "{}", r.stdout);

    // A key that is not a key: usage error.
    let r = verify(&pass_file, &[&app]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn cosign_sign_and_verify_with_openssl_and_encrypted_keys() {
    let reg = Registry::plain();
    let img = images::simple(91, Format::Oci);
    images::push_image(&reg, "team/app", Some("1"), &img);
    let f = Ferry::new(&[&reg]);
    let dir = f.dir.path();
    let (key, public) = p256_key(dir, "cosign");
    let empty_rd = dir.join("no-registries.d");
    let app = format!("{}/team/app:1", reg.host());

    let r = f.run(&[
        "--registries.d",
        &s(&empty_rd),
        "sign",
        "--key",
        &s(&key),
        &app,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("cosign"), "{}", r.stdout);
    assert!(r.stdout.contains(&format!(
        "sha256-{}.sig",
        img.digest.trim_start_matches("sha256:")
    )));
    let r = f.run(&[
        "--registries.d",
        &s(&empty_rd),
        "verify",
        "--key",
        &s(&public),
        &app,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // The cosign-encrypted fixture key: wrong password is exit 1, right one signs.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ferry-sign/tests/fixtures/cosign/encrypted-cosign.key");
    let out = f
        .command(&[
            "--registries.d",
            &s(&empty_rd),
            "sign",
            "--key",
            &s(&fixture),
            &app,
        ])
        .env("FERRY_SIGN_PASSPHRASE", "goodbye")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("wrong passphrase") && !stderr.contains("goodbye"),
        "{stderr}"
    );
    let out = f
        .command(&[
            "--registries.d",
            &s(&empty_rd),
            "sign",
            "--key",
            &s(&fixture),
            &app,
        ])
        .env("FERRY_SIGN_PASSPHRASE", "hello")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The first key's signature still verifies; the attachment has two layers now.
    let r = f.run(&[
        "--registries.d",
        &s(&empty_rd),
        "-o",
        "json",
        "verify",
        "--key",
        &s(&public),
        &app,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let sigs = v[0]["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{}", r.stdout);
    assert_eq!(sigs.iter().filter(|s| s["verdict"] == "valid").count(), 1);
    assert_eq!(
        sigs.iter().filter(|s| s["verdict"] == "other-key").count(),
        1
    );
}
