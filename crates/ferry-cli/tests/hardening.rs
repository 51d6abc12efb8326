//! Hardening of the command line: closed pipes, TLS and timeout flags.

mod common;

use common::Ferry;
use ferry_testkit::images::{self, Format};
use ferry_testkit::{Registry, skopeo};

/// A reader that goes away (`ferry copy A B | true`) stops the printing, not the work:
/// the copy lands, the exit code is 0 and nothing panics.
#[test]
fn closed_stdout_keeps_the_work_and_exits_zero() {
    let reg = Registry::plain();
    let img = images::simple(71, Format::Oci);
    images::push_image(&reg, "pipe/src", Some("1"), &img);
    let f = Ferry::new(&[&reg]);
    let src = format!("{}/pipe/src:1", reg.host());
    let dst = format!("{}/pipe/dst:1", reg.host());
    let (code, err) = f.run_closed_stdout(&["copy", "-q", &src, &dst]);
    assert_eq!(code, 0, "copy: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(skopeo::inspect_raw(&reg, "pipe/dst:1"), img.manifest);
    let tagged = format!("{}/pipe/dst:2", reg.host());
    for args in [
        vec!["digest", dst.as_str()],
        vec!["check", dst.as_str()],
        vec!["digest", "-o", "json", dst.as_str()],
        vec!["tag", dst.as_str(), tagged.as_str()],
    ] {
        let (code, err) = f.run_closed_stdout(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `--src-tls-verify` / `--dest-tls-verify` set one side each; bare `--tls-verify` is true.
#[test]
fn tls_verify_per_side() {
    let src = Registry::plain();
    let dst = Registry::tls_htpasswd("u", "p4ss");
    let img = images::simple(72, Format::Oci);
    images::push_image(&src, "tls/app", Some("1"), &img);
    // No --cert-dir: the destination's certificate is unknown to ferry.
    let f = Ferry::new(&[]);
    let s = format!("{}/tls/app:1", src.host());
    let d = format!("{}/tls/app:1", dst.host());
    let creds = common::creds(&dst);
    let base = ["copy", "-q", "--dest-creds", creds.as_str()];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        args.extend_from_slice(&[s.as_str(), d.as_str()]);
        f.run_bare(&args)
    };
    let r = run(&["--src-tls-verify=false"]);
    assert_ne!(
        r.code, 0,
        "verified destination accepted an unknown certificate"
    );
    let r = run(&["--tls-verify", "--dest-tls-verify=false"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(skopeo::inspect_raw(&dst, "tls/app:1"), img.manifest);
    let r = run(&["--tls-verify=false", "--dest-tls-verify"]);
    assert_ne!(
        r.code, 0,
        "--dest-tls-verify did not override --tls-verify=false"
    );
    let r = f.run_bare(&["digest", "--tls-verify", &s]);
    assert_eq!(r.code, 0, "bare --tls-verify: {}", r.stderr);
}

/// `--timeout` bounds a request to a registry that accepts and never answers.
#[test]
fn timeout_ends_a_silent_request() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let f = Ferry::new(&[]);
    let r = format!("127.0.0.1:{port}/x/app:1");
    let mut child = f
        .bare(&["digest", "--tls-verify=false", "--timeout", "1s", &r])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A safety net, not a timing assertion: without --timeout ferry waits 60 s and more.
    let mut status = None;
    for _ in 0..300 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if status.is_none() {
        child.kill().unwrap();
        panic!("ferry digest --timeout 1s still waiting after 30 s");
    }
    assert_eq!(status.unwrap().code(), Some(1));
    let bad = f.run_bare(&["digest", "--timeout", "soon", &r]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

/// `-v` adds the steps of `copy` and `digest` to stderr; without it they are quiet.
#[test]
fn verbose_adds_detail_to_copy_and_digest() {
    let reg = Registry::plain();
    let img = images::simple(73, Format::Oci);
    images::push_image(&reg, "v/app", Some("1"), &img);
    let f = Ferry::new(&[&reg]);
    let s = format!("{}/v/app:1", reg.host());
    let d = format!("{}/v/copy:1", reg.host());
    let quiet = f.run(&["copy", &s, &d]);
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    let loud = f.run(&["copy", "-v", &s, &d]);
    assert_eq!(loud.code, 0, "{}", loud.stderr);
    assert!(!quiet.stderr.contains("copy done"), "{}", quiet.stderr);
    assert!(loud.stderr.contains("copy done"), "{}", loud.stderr);
    assert!(loud.stderr.contains(&img.digest), "{}", loud.stderr);
    let quiet = f.run(&["digest", &d]);
    let loud = f.run(&["digest", "-v", &d]);
    assert!(!quiet.stderr.contains("resolved"), "{}", quiet.stderr);
    assert!(loud.stderr.contains("resolved"), "{}", loud.stderr);
    assert!(loud.stderr.contains("media_type"), "{}", loud.stderr);
    let help = f.run_bare(&["copy", "--help"]);
    assert!(help.stdout.contains("FERRY_LOG"), "{}", help.stdout);
}
