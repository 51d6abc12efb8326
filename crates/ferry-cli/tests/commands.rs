//! Every command of the foundation, run as a user would, against real registries.

mod common;

use base64::Engine as _;
use common::{Ferry, creds, write};
use ferry_testkit::images::{self, Format};
use ferry_testkit::proxy::FaultProxy;
use ferry_testkit::{Registry, skopeo};

#[test]
fn copy_inspect_digest_check_and_json() {
    let src = Registry::plain();
    let dst = Registry::tls_htpasswd("u", "p4ss");
    let idx = images::multi_arch(&["amd64", "arm64"], 41, Format::Oci);
    images::push_index(&src, "ns/app", Some("1"), &idx);
    let f = Ferry::new(&[&src, &dst]);
    let s = format!("{}/ns/app:1", src.host());
    let d = format!("docker://{}/prod/app:1", dst.host());
    let out = f.ok(&["copy", "-q", "--dest-creds", &creds(&dst), &s, &d]);
    assert!(out.contains(&idx.digest), "{out}");
    assert_eq!(skopeo::inspect_raw(&dst, "prod/app:1"), idx.manifest);

    let again = f.run(&["copy", "-o", "json", "--dest-creds", &creds(&dst), &s, &d]);
    let v: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(v["changed"], false);
    assert_eq!(v["digest"], idx.digest);

    let dref = format!("{}/prod/app:1", dst.host());
    let digest = f.ok(&["digest", "--creds", &creds(&dst), &dref]);
    assert_eq!(digest.trim(), idx.digest);
    let inspect = f.ok(&["inspect", "--creds", &creds(&dst), &dref]);
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(v["platforms"].as_array().unwrap().len(), 2);
    let raw = f.run(&["inspect", "--raw", "--creds", &creds(&dst), &dref]);
    assert_eq!(raw.raw_stdout, idx.manifest, "--raw prints the exact bytes");
    let one = f.ok(&["inspect", "--platform", "linux/arm64", &s]);
    let v: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(v["architecture"], "arm64");
    assert!(v["labels"].is_object());
    let config = f.run(&["inspect", "--config", "--platform", "linux/amd64", &s]);
    let arm = idx.images.iter().find(|i| i.platform.1 == "amd64").unwrap();
    assert_eq!(config.raw_stdout, arm.config.bytes);
    let check = f.ok(&["check", "--deep", "--creds", &creds(&dst), &dref]);
    assert!(check.starts_with("ok "), "{check}");

    // To an OCI layout and back.
    let layout = format!("oci:{}:v1", f.path("layout").display());
    f.ok(&["copy", "-q", &s, &layout]);
    let out = f.ok(&["digest", &layout]);
    assert_eq!(out.trim(), idx.digest);
}

#[test]
fn check_fails_when_a_blob_is_gone() {
    let reg = Registry::plain();
    let img = images::simple(42, Format::Oci);
    images::push_image(&reg, "c/app", Some("t"), &img);
    let f = Ferry::new(&[&reg]);
    let r = format!("{}/c/app:t", reg.host());
    f.ok(&["check", &r]);
    let layer = &img.layers[0].digest;
    let del = reg
        .http_client()
        .delete(format!("{}/v2/c/app/blobs/{layer}", reg.base_url()))
        .send()
        .unwrap();
    assert_eq!(del.status().as_u16(), 202);
    let out = f.run(&["check", &r]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.contains(layer.as_str()) && out.stdout.contains("missing"),
        "{}",
        out.stdout
    );
    let json = f.run(&["check", "-o", "json", &r]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["complete"], false);
}

#[test]
fn tags_across_pages_and_catalog() {
    let reg = Registry::plain();
    let img = images::simple(43, Format::Docker);
    images::push_image(&reg, "many/tags", Some("t000"), &img);
    for i in 1..130 {
        images::push_manifest(
            &reg,
            "many/tags",
            &format!("t{i:03}"),
            &img.media_type,
            &img.manifest,
        );
    }
    for n in ["other/a", "other/b", "zeta"] {
        images::push_image(&reg, n, Some("x"), &img);
    }
    let proxy = FaultProxy::new(&reg);
    proxy.page_tags(Some(50));
    let f = Ferry::new(&[&reg]);
    let out = f.ok(&["tags", &format!("{}/many/tags", proxy.host())]);
    let tags: Vec<&str> = out.lines().collect();
    assert_eq!(tags.len(), 130, "every page followed");
    assert!(proxy.count("GET", "/tags/list") >= 3);
    let cat = f.ok(&["catalog", &reg.host(), "--filter", "^other/"]);
    assert_eq!(cat.lines().collect::<Vec<_>>(), vec!["other/a", "other/b"]);
    let json = f.ok(&["catalog", "-o", "json", &reg.host()]);
    let v: Vec<String> = serde_json::from_str(&json).unwrap();
    assert_eq!(v.len(), 4);
}

#[test]
fn delete_by_tag_and_by_digest() {
    let reg = Registry::plain();
    let a = images::simple(44, Format::Oci);
    let b = images::simple(45, Format::Oci);
    images::push_image(&reg, "d/app", Some("a"), &a);
    images::push_image(&reg, "d/app", Some("b"), &b);
    let f = Ferry::new(&[&reg]);
    let out = f.ok(&["delete", &format!("{}/d/app:a", reg.host())]);
    assert!(out.contains(&a.digest));
    assert_eq!(
        f.run(&["digest", &format!("{}/d/app:a", reg.host())]).code,
        1
    );
    f.ok(&["delete", &format!("{}/d/app@{}", reg.host(), b.digest)]);
    assert!(
        f.ok(&["tags", &format!("{}/d/app", reg.host())])
            .trim()
            .is_empty()
    );
}

#[test]
fn credentials_from_docker_config_and_login_logout() {
    let reg = Registry::tls_htpasswd("carol", "s3cr3t-pw");
    let img = images::simple(46, Format::Docker);
    images::push_image(&reg, "p/app", Some("t"), &img);
    let f = Ferry::new(&[&reg]);
    let r = format!("{}/p/app:t", reg.host());
    // No credentials: an auth error, exit 1.
    let denied = f.run(&["digest", &r]);
    assert_eq!(denied.code, 1, "{}", denied.stderr);
    // A docker config.json in DOCKER_CONFIG.
    let cfg = f.path("docker");
    std::fs::create_dir_all(&cfg).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("carol:s3cr3t-pw");
    write(
        &cfg.join("config.json"),
        &format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host()),
    );
    let out = f
        .command(&["digest", &r])
        .env_remove("REGISTRY_AUTH_FILE")
        .env("DOCKER_CONFIG", &cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), img.digest);

    // login checks the password, stores it; logout removes it.
    let bad = f.run_stdin(
        &["login", &reg.host(), "-u", "carol", "--password-stdin"],
        "wrong-pw\n",
    );
    assert_eq!(bad.code, 1);
    assert!(
        !bad.stderr.contains("wrong-pw"),
        "the password is never echoed: {}",
        bad.stderr
    );
    assert!(!f.authfile.exists(), "nothing stored after a refused login");
    let ok = f.run_stdin(
        &["login", &reg.host(), "-u", "carol", "--password-stdin"],
        "s3cr3t-pw\n",
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(f.ok(&["digest", &r]).trim(), img.digest);
    f.ok(&["logout", &reg.host()]);
    assert_eq!(f.run(&["digest", &r]).code, 1);
}

#[test]
fn token_realm_with_creds() {
    let reg = Registry::token(&[("dave", "tok-pw")]);
    let img = images::simple(47, Format::Oci);
    images::push_image(&reg, "t/app", Some("t"), &img);
    let f = Ferry::new(&[&reg]);
    let s = format!("{}/t/app:t", reg.host());
    let d = format!("{}/t/copy:t", reg.host());
    f.ok(&[
        "copy",
        "-q",
        "--src-creds",
        "dave:tok-pw",
        "--dest-creds",
        "dave:tok-pw",
        &s,
        &d,
    ]);
    let out = f
        .command(&["digest", "--creds", "dave", &d])
        .env("FERRY_PASSWORD", "tok-pw")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), img.digest);
    let denied = f.run(&["digest", &d]);
    assert_eq!(denied.code, 1);
}

#[test]
fn sync_with_tag_filter() {
    let src = Registry::plain();
    let dst = Registry::plain();
    for (i, t) in ["v1.0", "v1.1", "v2.0"].iter().enumerate() {
        let idx = images::multi_arch(&["amd64", "arm64"], 50 + i as u64, Format::Oci);
        images::push_index(&src, "s/app", Some(t), &idx);
    }
    let f = Ferry::new(&[&src, &dst]);
    let s = format!("{}/s/app", src.host());
    let d = format!("{}/m/app", dst.host());
    let out = f.ok(&["sync", "-q", "--tags", r"^v1\.", &s, &d]);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("copied")).count(),
        2,
        "{out}"
    );
    assert_eq!(f.ok(&["tags", &d]).lines().count(), 2);
    let again = f.ok(&["sync", "-o", "json", &s, &d]);
    let v: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(v["stats"]["images_unchanged"], 2);
    assert_eq!(v["stats"]["images_copied"], 1);
}

#[test]
fn credentials_from_a_credential_helper() {
    use std::os::unix::fs::PermissionsExt;
    let reg = Registry::tls_htpasswd("helper-user", "from-the-helper");
    let img = images::simple(48, Format::Oci);
    images::push_image(&reg, "h/app", Some("t"), &img);
    let f = Ferry::new(&[&reg]);
    // A docker-credential-* program: reads the host on stdin, prints JSON credentials.
    let bin = f.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-ferrytest");
    write(
        &helper,
        &format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread host\n[ \"$host\" = \"{}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{{\"ServerURL\":\"'$host'\",\"Username\":\"helper-user\",\"Secret\":\"from-the-helper\"}}'\n",
            reg.host()
        ),
    );
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    write(
        &f.authfile,
        &format!(
            r#"{{"auths":{{}},"credHelpers":{{"{}":"ferrytest"}}}}"#,
            reg.host()
        ),
    );
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = f
        .command(&["digest", &format!("{}/h/app:t", reg.host())])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), img.digest);
}

#[test]
fn copy_a_list_into_a_docker_archive_takes_the_host_platform() {
    let src = Registry::plain();
    let idx = images::multi_arch(&["amd64", "arm64"], 42, Format::Docker);
    images::push_index(&src, "ns/app", Some("1"), &idx);
    let f = Ferry::new(&[&src]);
    let s = format!("{}/ns/app:1", src.host());
    let archive = format!("docker-archive:{}:ns/app:1", f.path("app.tar").display());
    f.ok(&["copy", "-q", &s, &archive]);
    // skopeo picks the host platform the same way; the test machines are linux/amd64.
    let host = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "amd64",
    };
    let v: serde_json::Value =
        serde_json::from_slice(&skopeo::skopeo_ok(&["inspect", &archive]).stdout).unwrap();
    assert_eq!(v["Architecture"], host);
    let one = idx.images.iter().find(|i| i.platform.1 == host).unwrap();
    let config = f.run(&["inspect", "--config", &archive]);
    assert_eq!(config.raw_stdout, one.config.bytes);
    // --platform picks another one.
    let arm = format!("docker-archive:{}", f.path("arm.tar").display());
    f.ok(&["copy", "-q", "--platform", "linux/arm64", &s, &arm]);
    let v: serde_json::Value =
        serde_json::from_slice(&skopeo::skopeo_ok(&["inspect", &arm]).stdout).unwrap();
    assert_eq!(v["Architecture"], "arm64");
}
