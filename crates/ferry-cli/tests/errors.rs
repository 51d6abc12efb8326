//! Bad input gets a clear error and exit 2; failures exit 1; never a panic, never a secret.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::Ferry;
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format};
use ferry_testkit::proxy::FaultProxy;

fn no_panic(r: &common::Run) {
    assert!(!r.stderr.contains("panicked"), "panic: {}", r.stderr);
}

#[test]
fn malformed_input_is_usage() {
    let f = Ferry::new(&[]);
    for args in [
        vec!["copy", "quay.io/Bad/Upper:1", "127.0.0.1:1/x:1"],
        vec!["copy", "https://quay.io/a:1", "127.0.0.1:1/x:1"],
        vec!["copy", "127.0.0.1:1/a@sha256:abc", "127.0.0.1:1/x:1"],
        vec![
            "copy",
            "--platform",
            "linux",
            "127.0.0.1:1/a:1",
            "127.0.0.1:1/x:1",
        ],
        vec!["inspect", "dir:/tmp/x"],
        vec!["digest", "oci:"],
        vec!["catalog", "not a host"],
        vec!["sync", "127.0.0.1:1/a:tag", "127.0.0.1:1/b"],
        vec!["sync", "--tags", "(", "127.0.0.1:1/a", "127.0.0.1:1/b"],
        vec![
            "copy",
            "--creds",
            ":pw",
            "127.0.0.1:1/a:1",
            "127.0.0.1:1/b:1",
        ],
        vec!["untag", "127.0.0.1:1/a"],
        vec!["nonsense"],
    ] {
        let r = f.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        no_panic(&r);
        assert!(!r.stderr.trim().is_empty());
    }
}

#[test]
fn unreachable_registry_fails_clearly() {
    let port = ferry_testkit::reserve_port();
    let f = Ferry::new(&[]);
    let r = f.run(&["digest", &format!("127.0.0.1:{port}/a/b:c")]);
    assert_eq!(r.code, 1);
    no_panic(&r);
    assert!(
        r.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        r.stderr
    );
}

#[test]
fn wrong_password_is_never_echoed() {
    let reg = Registry::tls_htpasswd("erin", "right-pw");
    images::push_image(&reg, "w/app", Some("t"), &images::simple(61, Format::Oci));
    let f = Ferry::new(&[&reg]);
    let r = f.run(&[
        "digest",
        "-vv",
        "--creds",
        "erin:Sup3rS3cretWrong",
        &format!("{}/w/app:t", reg.host()),
    ]);
    assert_eq!(r.code, 1);
    no_panic(&r);
    assert!(!r.stderr.contains("Sup3rS3cretWrong"), "{}", r.stderr);
    assert!(!r.stdout.contains("Sup3rS3cretWrong"));
    let lower = r.stderr.to_lowercase();
    assert!(
        lower.contains("401") || lower.contains("unauthorized") || lower.contains("auth"),
        "{}",
        r.stderr
    );
}

/// A tiny server that answers every request with `status`, `content_type` and `body`:
/// the misbehaving registry no real registry can be made to be.
fn responder(content_type: &'static str, body: Vec<u8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten().take(50) {
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    port
}

#[test]
fn garbage_answers_are_errors_not_panics() {
    let port = responder("text/html", b"<html>not a registry</html>".to_vec());
    let f = Ferry::new(&[]);
    let r = f.run(&["inspect", &format!("127.0.0.1:{port}/a/b:c")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    no_panic(&r);
}

#[test]
fn manifest_with_the_wrong_digest_is_refused() {
    let img = images::simple(62, Format::Oci);
    let port = responder(
        "application/vnd.oci.image.manifest.v1+json",
        img.manifest.clone(),
    );
    let f = Ferry::new(&[]);
    let asked = ferry_image::Digest::sha256(b"something else");
    let r = f.run(&[
        "inspect",
        "--raw",
        &format!("127.0.0.1:{port}/m/app@{asked}"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    no_panic(&r);
    assert!(r.stderr.contains("digest"), "{}", r.stderr);
    assert!(
        r.raw_stdout.is_empty(),
        "nothing printed from a manifest that failed verification"
    );
}

#[test]
fn wrong_blob_bytes_fail_the_copy_and_leave_no_tag() {
    let reg = Registry::plain();
    let img = images::simple(63, Format::Oci);
    images::push_image(&reg, "m/app", Some("t"), &img);
    let proxy = FaultProxy::new(&reg);
    proxy.corrupt_blobs(true);
    let f = Ferry::new(&[&reg]);
    let r = f.run(&[
        "copy",
        &format!("{}/m/app:t", proxy.host()),
        &format!("{}/m/copy:t", reg.host()),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    no_panic(&r);
    let r = f.run(&["digest", &format!("{}/m/copy:t", reg.host())]);
    assert_eq!(r.code, 1, "no tag was written");
}

#[test]
fn unknown_transport_is_usage_and_names_the_supported_ones() {
    let f = Ferry::new(&[]);
    for (args, says) in [
        (
            vec!["copy", "foo:bar/x", "127.0.0.1:1/x:1"],
            "unknown transport \"foo\"",
        ),
        (
            vec!["copy", "127.0.0.1:1/a:1", "dir:/tmp/x"],
            "the dir: transport is not supported",
        ),
        (
            vec!["inspect", "docker://dir:/tmp/x"],
            "the dir: transport is not supported",
        ),
        (
            vec!["sync", "oci-archive:/tmp/a.tar", "127.0.0.1:1/b"],
            "sync does not take archives",
        ),
        (
            vec!["tag", "127.0.0.1:1/a:1", "oci-archive:/tmp/a.tar:t"],
            "written by ferry copy",
        ),
    ] {
        let r = f.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        no_panic(&r);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        if !says.contains("archive") && !says.contains("ferry copy") {
            for t in [
                "docker://",
                "oci:PATH",
                "oci-archive:PATH",
                "docker-archive:PATH",
            ] {
                assert!(r.stderr.contains(t), "{args:?} lists {t}: {}", r.stderr);
            }
        }
    }
}
