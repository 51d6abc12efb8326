//! `ferry push` signing what it pushes: real registries, keys made by gpg and openssl,
//! skopeo (under a `signedBy` policy) and `ferry verify` as the judges.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Ferry, write, writes_since};
use ferry_testkit::images::{self, Format};
use ferry_testkit::keys::{GpgKey, p256_key};
use ferry_testkit::{Registry, skopeo};

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// registries.d: every registry's lookaside is `dir/sigstore`.
fn registries_d(dir: &Path) -> (PathBuf, PathBuf) {
    let lookaside = dir.join("sigstore");
    let rd = dir.join("registries.d");
    std::fs::create_dir_all(&rd).unwrap();
    write(
        &rd.join("default.yaml"),
        &format!("default-docker:\n  lookaside: file://{}\n", s(&lookaside)),
    );
    (lookaside, rd)
}

/// skopeo copies `docker://REF` (every platform) to a directory under a policy that
/// accepts images of `host` only when signed by `public`.
fn skopeo_signed_by(dir: &Path, rd: &Path, host: &str, public: &Path, reference: &str) -> Output {
    let policy = dir.join("policy.json");
    let p = serde_json::json!({
        "default": [{"type": "reject"}],
        "transports": {
            "docker": {host: [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": public}]},
            "dir": {"": [{"type": "insecureAcceptAnything"}]}
        }
    });
    std::fs::write(&policy, serde_json::to_vec(&p).unwrap()).unwrap();
    let conf = dir.join("registries.conf");
    std::fs::write(&conf, "").unwrap();
    let auth = dir.join("auth.json");
    std::fs::write(&auth, r#"{"auths":{}}"#).unwrap();
    let out = dir.join(format!("copy-{}", reference.replace(['/', ':'], "_")));
    Command::new("skopeo")
        .arg("--policy")
        .arg(&policy)
        .arg("--registries.d")
        .arg(rd)
        .arg("--registries-conf")
        .arg(&conf)
        .env("REGISTRY_AUTH_FILE", &auth)
        .args(["copy", "--all", "--src-tls-verify=false"])
        .arg(format!("docker://{reference}"))
        .arg(format!("dir:{}", s(&out)))
        .output()
        .unwrap()
}

/// Files under `dir`, recursively.
fn files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| {
            if e.path().is_dir() {
                files(&e.path())
            } else {
                1
            }
        })
        .sum()
}

fn statuses(v: &serde_json::Value) -> Vec<String> {
    v["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["signatures"].as_array().cloned().unwrap_or_default())
        .map(|s| s["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn push_signs_every_tag_skopeo_accepts_it_and_a_second_push_adds_nothing() {
    let build = Registry::plain();
    let quay = Registry::plain();
    let idx = images::multi_arch(&["amd64", "arm64"], 401, Format::Docker);
    images::push_index(&build, "osbs/app", Some("1.0"), &idx);
    let f = Ferry::new(&[&build, &quay]);
    let dir = f.dir.path();
    let key = GpgKey::new(dir, "pusher", "push sesame");
    let key_id = &key.fingerprint[key.fingerprint.len() - 16..];
    let (lookaside, rd) = registries_d(dir);
    let settings = f.path("target.yaml");
    write(
        &settings,
        &format!(
            "registry: \"{}\"\nnamespace: org\nsigning:\n  - key_id: {}\n    key_file: {}\n    passphrase_env: SIGN_PW\n",
            quay.host(),
            key_id.to_ascii_lowercase(),
            s(&key.secret)
        ),
    );
    // The item names the key in upper case: IDs compare without regard to case.
    let source = format!(
        "registry:?image={}/osbs/app:1.0&dest=product/app:1.0,product/app:latest&dest_signing_key={}",
        build.host(),
        key_id.to_ascii_uppercase()
    );
    let push = |pass: &str, extra: &[&str]| {
        let mut args = vec![
            "--registries.d".to_string(),
            s(&rd),
            "-o".into(),
            "json".into(),
            "push".into(),
            "--target".into(),
            s(&settings),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        args.push(source.clone());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        f.command(&args).env("SIGN_PW", pass).output().unwrap()
    };

    // Wrong passphrase: exit 1, said plainly, never printed, nothing written.
    let mark = quay.mark();
    let out = push("wrong horse", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("wrong passphrase"), "{stderr}");
    assert!(
        !stderr.contains("wrong horse")
            && !String::from_utf8_lossy(&out.stdout).contains("wrong horse")
    );
    assert_eq!(writes_since(&quay, mark), 0);
    assert_eq!(files(&lookaside), 0);

    // Dry run: the list and its two children, for each of the two tags.
    let out = push("push sesame", &["--dry-run"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(statuses(&v), vec!["would-sign"; 6]);
    assert_eq!(writes_since(&quay, mark), 0, "a dry run writes nothing");
    assert_eq!(files(&lookaside), 0);

    // The push signs all six; skopeo accepts both tags under signedBy.
    let out = push("push sesame", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(statuses(&v), vec!["signed"; 6]);
    assert_eq!(v["summary"]["signed"], 6);
    let sig = &v["destinations"][0]["signatures"][0];
    assert_eq!(sig["format"], "simple-signing");
    assert_eq!(sig["key_id"], key_id.to_ascii_lowercase());
    assert_eq!(files(&lookaside), 6);
    for tag in ["1.0", "latest"] {
        let reference = format!("{}/org/product/app:{tag}", quay.host());
        let run = skopeo_signed_by(dir, &rd, &quay.host(), &key.public, &reference);
        assert!(
            run.status.success(),
            "skopeo refused {reference}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }

    // Again: every signature is there already; nothing new.
    let out = push("push sesame", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(statuses(&v), vec!["present"; 6]);
    assert_eq!(files(&lookaside), 6);

    // Text output names each signature.
    let out = f
        .command(&[
            "--registries.d",
            &s(&rd),
            "push",
            "--target",
            &s(&settings),
            &source,
        ])
        .env("SIGN_PW", "push sesame")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.trim_start().starts_with("present "))
            .count(),
        6,
        "{stdout}"
    );
}

#[test]
fn an_item_naming_an_unconfigured_key_is_invalid_and_nothing_is_written_for_it() {
    let build = Registry::plain();
    let quay = Registry::plain();
    let img = images::simple(411, Format::Oci);
    images::push_image(&build, "osbs/app", Some("1"), &img);
    let f = Ferry::new(&[&build, &quay]);
    let settings = f.path("target.yaml");
    write(&settings, &format!("registry: \"{}\"\n", quay.host()));
    let bad = format!(
        "registry:?image={}/osbs/app:1&dest=product/bad&dest_signing_key=deadbeefdeadbeef",
        build.host()
    );
    let good = format!(
        "registry:?image={}/osbs/app:1&dest=product/ok",
        build.host()
    );
    let mark = quay.mark();
    let r = f.run(&[
        "-o",
        "json",
        "push",
        "--target",
        settings.to_str().unwrap(),
        &bad,
        &good,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items[0]["state"], "INVALID", "{}", r.stdout);
    assert!(
        items[0]["reason"]
            .as_str()
            .unwrap()
            .contains("deadbeefdeadbeef"),
        "{}",
        r.stdout
    );
    assert_eq!(items[1]["state"], "PUSHED", "{}", r.stdout);
    assert_eq!(quay.count_since(mark, "PUT", "product/bad"), 0);
    assert_eq!(quay.count_since(mark, "POST", "product/bad"), 0);
    assert_eq!(skopeo::list_tags(&quay, "product/ok"), ["1"]);

    // --strict: the whole push is refused before any write.
    let mark = quay.mark();
    let r = f.run(&[
        "push",
        "--strict",
        "--target",
        settings.to_str().unwrap(),
        &bad,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(writes_since(&quay, mark), 0);
}

#[test]
fn a_cosign_key_in_push_attaches_a_signature_ferry_verify_accepts() {
    let build = Registry::plain();
    let quay = Registry::plain();
    let img = images::simple(421, Format::Oci);
    images::push_image(&build, "osbs/app", Some("2"), &img);
    let f = Ferry::new(&[&build, &quay]);
    let dir = f.dir.path();
    let (key, public) = p256_key(dir, "cosign");
    let settings = f.path("target.yaml");
    write(
        &settings,
        &format!(
            "registry: \"{}\"\nsigning: [{{key_id: c051c051c051c051, key_file: {}}}]\n",
            quay.host(),
            s(&key)
        ),
    );
    let source = format!(
        "registry:?image={}/osbs/app:2&dest=product/app&dest_signing_key=c051c051c051c051",
        build.host()
    );
    let push = || {
        f.run(&[
            "-o",
            "json",
            "push",
            "--target",
            settings.to_str().unwrap(),
            &source,
        ])
    };
    let r = push();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(statuses(&v), ["signed"]);
    let sig = &v["destinations"][0]["signatures"][0];
    assert_eq!(sig["format"], "cosign");
    let hex = img.digest.trim_start_matches("sha256:");
    assert!(
        sig["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("product/app:sha256-{hex}.sig")),
        "{sig}"
    );
    let dest = format!("{}/product/app:2", quay.host());
    let r = f.run(&["verify", "--key", &s(&public), &dest]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // Again: present, and the attachment still has one layer.
    let r = push();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(statuses(&v), ["present"]);
    let raw = skopeo::inspect_raw(&quay, &format!("product/app:sha256-{hex}.sig"));
    let m: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(m["layers"].as_array().unwrap().len(), 1);
}

#[test]
fn pubtools_reference_registries_name_the_identity_and_its_lookaside() {
    // The "public" registry serves what was pushed to quay under the external name; a
    // reader of the public name finds the signature where its registries.d says.
    let build = Registry::plain();
    let quay = Registry::plain();
    let public = Registry::plain();
    let img = images::simple(431, Format::Docker);
    images::push_image(&build, "osbs/app", Some("3"), &img);
    let f = Ferry::new(&[&build, &quay, &public]);
    let dir = f.dir.path();
    let key = GpgKey::new(dir, "pusher", "");
    let key_id = &key.fingerprint[key.fingerprint.len() - 16..];
    let (lookaside, rd) = registries_d(dir);
    let settings = f.path("target.json");
    let json = serde_json::json!({
        "quay_host": quay.host(),
        "quay_namespace": "org",
        "docker_settings": {"docker_reference_registry": [public.host()]},
        "signing": [{"key_id": key_id, "key_file": key.secret}],
    });
    write(&settings, &json.to_string());
    let source = format!(
        "registry:?image={}/osbs/app:3&dest=product/app&dest_signing_key={key_id}",
        build.host()
    );
    let r = f.run(&[
        "--registries.d",
        &s(&rd),
        "-o",
        "json",
        "push",
        "--target",
        settings.to_str().unwrap(),
        &source,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let d = &v["destinations"][0];
    assert_eq!(
        d["destination"],
        format!("{}/org/product----app:3", quay.host())
    );
    assert_eq!(
        d["signatures"][0]["identity"],
        format!("{}/product/app:3", public.host())
    );
    let hex = img.digest.trim_start_matches("sha256:");
    assert!(
        lookaside
            .join(format!("product/app@sha256={hex}/signature-1"))
            .is_file()
    );

    skopeo::copy(
        &quay.docker_ref("org/product----app:3"),
        &public.docker_ref("product/app:3"),
        &["--src-tls-verify=false", "--dest-tls-verify=false"],
    );
    let reference = format!("{}/product/app:3", public.host());
    let run = skopeo_signed_by(dir, &rd, &public.host(), &key.public, &reference);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn a_signing_failure_fails_the_item_and_keeps_the_tag() {
    let build = Registry::plain();
    let quay = Registry::plain();
    let img = images::simple(441, Format::Docker);
    images::push_image(&build, "osbs/app", Some("4"), &img);
    let f = Ferry::new(&[&build, &quay]);
    let dir = f.dir.path();
    let key = GpgKey::new(dir, "pusher", "");
    let key_id = &key.fingerprint[key.fingerprint.len() - 16..];
    // A lookaside nobody can write (a directory under /proc).
    let rd = dir.join("registries.d");
    std::fs::create_dir_all(&rd).unwrap();
    write(
        &rd.join("default.yaml"),
        "default-docker:\n  lookaside: file:///proc/ferry-no-such-dir/sigstore\n",
    );
    let settings = f.path("target.yaml");
    write(
        &settings,
        &format!(
            "registry: \"{}\"\nsigning: [{{key_id: {key_id}, key_file: {}}}]\n",
            quay.host(),
            s(&key.secret)
        ),
    );
    let source = format!(
        "registry:?image={}/osbs/app:4&dest=product/app&dest_signing_key={key_id}",
        build.host()
    );
    let r = f.run(&[
        "--registries.d",
        &s(&rd),
        "-o",
        "json",
        "push",
        "--target",
        settings.to_str().unwrap(),
        &source,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["items"][0]["state"], "FAILED", "{}", r.stdout);
    let reason = v["items"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("signing") && reason.contains("/proc/ferry-no-such-dir"),
        "{reason}"
    );
    assert_eq!(statuses(&v), ["failed"]);
    assert_eq!(v["summary"]["signing_failed"], 1);
    // The tag was written and stays: signing comes after it.
    assert_eq!(v["destinations"][0]["action"], "copied");
    assert_eq!(skopeo::list_tags(&quay, "product/app"), ["4"]);
}
