//! Real registries, real pushes, skopeo as the independent reader.

use ferry_testkit::images::{self, Format, ImageSpec};
use ferry_testkit::skopeo;
use ferry_testkit::{Registry, reserve_port};

#[test]
fn plain_registry_serves_pushed_bytes_exactly() {
    let reg = Registry::plain();
    assert!(!reg.is_tls());
    assert!(reg.credentials().is_none());
    assert!(
        reg.requests().is_empty(),
        "readiness probe must not be counted"
    );

    let oci = images::multi_arch(&["amd64", "arm64", "ppc64le", "s390x"], 1, Format::Oci);
    images::push_index(&reg, "ns/oci", Some("v1"), &oci);
    let docker = images::multi_arch(&["amd64", "arm64"], 2, Format::Docker);
    images::push_index(&reg, "ns/docker", Some("v1"), &docker);
    let single = images::image(
        &ImageSpec::new("amd64", 3).layers(&[100, 200]),
        Format::Docker,
    );
    images::push_image(&reg, "ns/single", None, &single);

    assert_eq!(skopeo::inspect_raw(&reg, "ns/oci:v1"), oci.manifest);
    assert_eq!(skopeo::inspect_raw(&reg, "ns/docker:v1"), docker.manifest);
    let child = &oci.images[1];
    assert_eq!(
        skopeo::inspect_raw(&reg, &format!("ns/oci@{}", child.digest)),
        child.manifest
    );
    assert_eq!(
        skopeo::inspect_raw(&reg, &format!("ns/single@{}", single.digest)),
        single.manifest
    );

    // Accounting from the access log: 4 + 2 images, each config + layers (+1 shared base).
    let oci_blobs: usize = oci.images.iter().map(|i| 1 + i.layers.len()).sum();
    assert_eq!(reg.count("POST", "/v2/ns/oci/blobs/uploads/"), oci_blobs);
    assert_eq!(reg.count("PUT", "/v2/ns/oci/manifests/"), 5);
    assert_eq!(reg.count("PUT", "/v2/ns/oci/manifests/v1"), 1);
    assert!(
        reg.requests()
            .iter()
            .all(|r| r.status < 400 || r.path == "/v2/")
    );

    let mark = reg.mark();
    skopeo::inspect_raw(&reg, "ns/docker:v1");
    assert_eq!(
        reg.count_since(mark, "GET", "/v2/ns/docker/manifests/v1"),
        1
    );
    assert_eq!(reg.count_since(mark, "PUT", ""), 0);
    reg.reset_log_mark();
    assert!(reg.requests().is_empty());
}

#[test]
fn tls_htpasswd_registry() {
    let reg = Registry::tls_htpasswd("alice", "s3cret");
    assert!(reg.is_tls());
    assert!(reg.base_url().starts_with("https://127.0.0.1:"));
    assert!(reg.cert_dir().unwrap().join("ca.crt").is_file());
    assert!(reg.ca_cert_path().unwrap().is_file());

    // Anonymous is refused, by HTTP and by skopeo.
    let status = reg
        .http_client()
        .get(format!("{}/v2/_catalog", reg.base_url()))
        .send()
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 401);

    let img = images::simple(4, Format::Oci);
    images::push_image(&reg, "team/app", Some("latest"), &img);
    assert_eq!(skopeo::inspect_raw(&reg, "team/app:latest"), img.manifest);

    let cert_dir = reg.cert_dir().unwrap().display().to_string();
    let target = reg.docker_ref("team/app:latest");
    let anon = skopeo::skopeo(&["inspect", "--raw", "--cert-dir", &cert_dir, &target]);
    assert!(!anon.status.success(), "anonymous inspect must fail");
    let wrong = skopeo::skopeo(&[
        "inspect",
        "--raw",
        "--cert-dir",
        &cert_dir,
        "--creds",
        "alice:nope",
        &target,
    ]);
    assert!(!wrong.status.success(), "wrong password must fail");
    // Without the CA, TLS verification fails.
    let untrusted = skopeo::skopeo(&["inspect", "--raw", "--creds", "alice:s3cret", &target]);
    assert!(!untrusted.status.success());

    // skopeo copies within the registry with --src-cert-dir/--dest-creds etc.
    skopeo::copy_between(&reg, "team/app:latest", &reg, "team/copy:1", &[]);
    assert_eq!(skopeo::inspect_raw(&reg, "team/copy:1"), img.manifest);
}

#[test]
fn token_registry() {
    let reg = Registry::token(&[("bob", "pw"), ("carol", "pw2")]);
    assert_eq!(reg.credentials(), Some(("bob".into(), "pw".into())));
    let img = images::simple(5, Format::Docker);
    images::push_image(&reg, "ns/tok", Some("t1"), &img);
    assert!(reg.token_requests() >= 1);
    assert_eq!(skopeo::inspect_raw(&reg, "ns/tok:t1"), img.manifest);

    // Anonymous gets a token with no actions: the registry denies.
    let target = reg.docker_ref("ns/tok:t1");
    let anon = skopeo::skopeo(&["inspect", "--raw", "--tls-verify=false", &target]);
    assert!(!anon.status.success());
    // Wrong password: the realm answers 401.
    let wrong = skopeo::skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        "bob:bad",
        &target,
    ]);
    assert!(!wrong.status.success());
    let realm = reg.token_realm().unwrap();
    let c = reg.http_client();
    let r = c
        .get(format!("{realm}?service=x&scope=repository:ns/tok:pull"))
        .basic_auth("bob", Some("bad"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // Second user works too, and an anonymous push is refused.
    let other = skopeo::skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        "carol:pw2",
        &target,
    ]);
    assert!(other.status.success());
    let err = ferry_testkit::images::try_push(
        &Registry::token(&[]),
        "ns/x",
        Some("t"),
        &images::simple(6, Format::Oci),
    );
    assert!(err.is_err());
}

#[test]
fn oci_layout_is_readable_by_skopeo() {
    let dir = tempfile::tempdir().unwrap();
    let idx = images::multi_arch(&["amd64", "arm64"], 7, Format::Oci);
    let img = images::simple(8, Format::Oci);
    images::write_oci_layout(dir.path(), "multi", &idx);
    images::write_oci_layout(dir.path(), "single", &img);

    let reg = Registry::plain();
    let layout = format!("oci:{}:multi", dir.path().display());
    skopeo::copy(
        &layout,
        &reg.docker_ref("from/layout:multi"),
        &["--all", "--preserve-digests", "--dest-tls-verify=false"],
    );
    assert_eq!(skopeo::inspect_raw(&reg, "from/layout:multi"), idx.manifest);
    let layout = format!("oci:{}:single", dir.path().display());
    skopeo::copy(
        &layout,
        &reg.docker_ref("from/layout:single"),
        &["--dest-tls-verify=false"],
    );
    assert_eq!(
        skopeo::inspect_raw(&reg, "from/layout:single"),
        img.manifest
    );
}

#[test]
fn schema1_via_skopeo_and_restart_keeps_data() {
    let port = reserve_port();
    let mut reg = Registry::builder().port(port).start();
    assert_eq!(reg.port(), port);
    let img = images::simple(9, Format::Docker);
    let s1 = skopeo::push_schema1(&reg, "old/app", "v1", &img);
    let v: serde_json::Value = serde_json::from_slice(&s1).unwrap();
    assert_eq!(v["schemaVersion"], 1);
    assert!(v["signatures"].is_array(), "signed schema 1 expected");

    // distribution re-signs schema 1 on every GET: the payload and digest are what is stable.
    let digest = skopeo::schema1_digest(&s1);
    let head = reg
        .http_client()
        .head(format!("{}/v2/old/app/manifests/v1", reg.base_url()))
        .header(
            "Accept",
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
        )
        .send()
        .unwrap();
    assert_eq!(
        head.headers()["docker-content-digest"].to_str().unwrap(),
        digest
    );

    reg.restart();
    let again = skopeo::inspect_raw(&reg, "old/app:v1");
    assert_eq!(
        skopeo::schema1_payload(&again),
        skopeo::schema1_payload(&s1)
    );
    assert_eq!(skopeo::list_tags(&reg, "old/app"), vec!["v1".to_string()]);
}

#[tokio::test]
async fn usable_inside_a_tokio_runtime() {
    let reg = Registry::plain();
    let img = images::simple(10, Format::Oci);
    images::push_image(&reg, "async/app", Some("a"), &img);
    assert_eq!(reg.count("PUT", "/manifests/a"), 1);
    drop(reg);
}
