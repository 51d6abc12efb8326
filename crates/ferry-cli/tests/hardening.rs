//! Hardening of the command line: closed pipes, TLS and timeout flags.

mod common;

use common::Ferry;
use ferry_testkit::images::{self, Format, TestImage};
use ferry_testkit::{Registry, skopeo};

/// A reader that goes away (`ferry copy A B | true`) stops the printing, not the work:
/// the copy lands, the exit code is 0 and nothing panics (copy, digest, check, tag, sync,
/// merge, push, items).
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
    // sync, merge, push and items too; their work lands.
    let idx = images::multi_arch(&["amd64", "arm64"], 70, Format::Oci);
    images::push_index(&reg, "pipe/list", Some("1"), &idx);
    let items = f.path("items.yaml");
    common::write(
        &items,
        &format!(
            "- ContainerImagePushItem:\n    name: app\n    dest: [\"pipe/pushed:1\"]\n    pull_info:\n      tag_specs: [{{registry: \"{h}\", repository: pipe/src, tag: \"1\", media_types: []}}]\n      digest_specs: [{{registry: \"{h}\", repository: pipe/src, digest: \"{d}\", media_type: null}}]\n",
            h = reg.host(),
            d = img.digest
        ),
    );
    let settings = f.path("target.yaml");
    common::write(&settings, &format!("registry: \"{}\"\n", reg.host()));
    let synced = format!("{}/pipe/synced", reg.host());
    let list = format!("{}/pipe/list:1", reg.host());
    let merged = format!("{}/pipe/merged:1", reg.host());
    for args in [
        vec!["sync", src.trim_end_matches(":1"), synced.as_str()],
        vec!["merge", list.as_str(), merged.as_str()],
        vec![
            "push",
            "--target",
            settings.to_str().unwrap(),
            items.to_str().unwrap(),
        ],
        vec!["items", items.to_str().unwrap()],
    ] {
        let (code, err) = f.run_closed_stdout(&args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    assert_eq!(skopeo::inspect_raw(&reg, "pipe/synced:1"), img.manifest);
    assert_eq!(skopeo::inspect_raw(&reg, "pipe/merged:1"), idx.manifest);
    assert_eq!(skopeo::inspect_raw(&reg, "pipe/pushed:1"), img.manifest);
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

/// `ferry` in the sandbox with the containers/docker search order of a real user:
/// no $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR set.
fn user_env(f: &Ferry, args: &[&str], xdg: &std::path::Path) -> std::process::Command {
    let mut c = f.bare(args);
    c.env_remove("REGISTRY_AUTH_FILE")
        .env("XDG_RUNTIME_DIR", xdg);
    c
}

fn output(mut c: std::process::Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Login writes the first file reads look in: an old password in
/// $XDG_RUNTIME_DIR/containers/auth.json no longer wins over a fresh login.
#[test]
fn login_writes_where_reads_look_first() {
    let reg = Registry::tls_htpasswd("erin", "new-pw");
    let img = images::simple(74, Format::Oci);
    images::push_image(&reg, "l/app", Some("1"), &img);
    let f = Ferry::new(&[&reg]);
    let xdg = f.path("run");
    std::fs::create_dir_all(xdg.join("containers")).unwrap();
    use base64::Engine as _;
    let old = base64::engine::general_purpose::STANDARD.encode("erin:old-pw");
    common::write(
        &xdg.join("containers/auth.json"),
        &format!(r#"{{"auths":{{"{}":{{"auth":"{old}"}}}}}}"#, reg.host()),
    );
    let certs = f.certs.to_str().unwrap().to_string();
    let r = format!("{}/l/app:1", reg.host());
    let (code, _, err) = output(user_env(&f, &["digest", "--cert-dir", &certs, &r], &xdg));
    assert_ne!(code, 0, "old password accepted: {err}");
    let (code, _, err) = output(user_env(
        &f,
        &[
            "login",
            "--cert-dir",
            &certs,
            "--creds",
            "erin:new-pw",
            &reg.host(),
        ],
        &xdg,
    ));
    assert_eq!(code, 0, "login: {err}");
    let (code, out, err) = output(user_env(&f, &["digest", "--cert-dir", &certs, &r], &xdg));
    assert_eq!(code, 0, "digest after login: {err}");
    assert_eq!(out.trim(), img.digest);
    // --password-stdin, into an explicit file.
    let file = f.path("explicit.json");
    let mut c = user_env(
        &f,
        &[
            "login",
            "--cert-dir",
            &certs,
            "--authfile",
            file.to_str().unwrap(),
            "-u",
            "erin",
            "--password-stdin",
            &reg.host(),
        ],
        &xdg,
    );
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(b"new-pw\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains(&reg.host())
    );
}

/// With `credsStore` set, login, reads and logout go through the helper's
/// store/get/erase (the real helper protocol, a shell script on $PATH).
#[test]
fn credential_helper_store_get_erase() {
    let reg = Registry::tls_htpasswd("fay", "helper-pw");
    let img = images::simple(75, Format::Oci);
    images::push_image(&reg, "h/app", Some("1"), &img);
    let f = Ferry::new(&[&reg]);
    let bin = f.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = f.path("helper.log");
    let saved = f.path("helper.saved");
    let script = format!(
        "#!/bin/sh\nin=$(cat)\necho \"$1 $in\" >> '{log}'\ncase \"$1\" in\n  store) printf '%s' \"$in\" > '{saved}' ;;\n  get) if [ -f '{saved}' ]; then cat '{saved}'; else echo 'credentials not found in native keychain'; exit 1; fi ;;\n  erase) rm -f '{saved}' ;;\nesac\n",
        log = log.display(),
        saved = saved.display()
    );
    let helper = bin.join("docker-credential-test");
    common::write(&helper, &script);
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    common::write(&f.authfile, r#"{"credsStore":"test"}"#);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &[&str]| {
        let mut c = f.command(args);
        c.env("PATH", &path);
        output(c)
    };
    let (code, _, err) = run(&["login", "--creds", "fay:helper-pw", &reg.host()]);
    assert_eq!(code, 0, "login: {err}");
    let file = std::fs::read_to_string(&f.authfile).unwrap();
    assert!(
        !file.contains("auths"),
        "password written to the file: {file}"
    );
    let r = format!("{}/h/app:1", reg.host());
    let (code, out, err) = run(&["digest", &r]);
    assert_eq!(code, 0, "digest: {err}");
    assert_eq!(out.trim(), img.digest);
    let (code, _, err) = run(&["logout", &reg.host()]);
    assert_eq!(code, 0, "logout: {err}");
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("store {") && log.contains("helper-pw"),
        "{log}"
    );
    assert!(log.contains(&format!("get {}", reg.host())), "{log}");
    assert!(log.contains(&format!("erase {}", reg.host())), "{log}");
    assert!(!saved.exists());
}

/// An explicit --authfile that is missing or malformed is a usage error before any work.
#[test]
fn missing_or_malformed_authfile_is_exit_2() {
    let reg = Registry::plain();
    let f = Ferry::new(&[&reg]);
    let r = format!("{}/none/app:1", reg.host());
    let missing = f.path("nope.json");
    let bad = f.path("bad.json");
    common::write(&bad, "{not json");
    for file in [&missing, &bad] {
        let run = f.run(&["digest", "--authfile", file.to_str().unwrap(), &r]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(run.stderr.contains("--authfile"), "{}", run.stderr);
    }
}

/// `oci:DIR` written twice without a tag: the second image replaces the first as the
/// layout's untagged entry, so ferry and skopeo both read `oci:DIR` afterwards (skopeo 1.9.3
/// itself appends a second entry and can read neither); a tagged entry is left alone.
#[test]
fn untagged_layout_writes_replace_the_untagged_entry() {
    let reg = Registry::plain();
    let a = images::simple(76, Format::Oci);
    let b = images::simple(77, Format::Oci);
    images::push_image(&reg, "o/a", Some("1"), &a);
    images::push_image(&reg, "o/b", Some("1"), &b);
    let f = Ferry::new(&[&reg]);
    let dir = f.path("layout");
    let oci = format!("oci:{}", dir.display());
    let sa = format!("{}/o/a:1", reg.host());
    let sb = format!("{}/o/b:1", reg.host());
    let read_back = |want: &TestImage| {
        let raw = skopeo::skopeo_ok(&["inspect", "--raw", &oci]).stdout;
        assert_eq!(raw, want.manifest, "skopeo read another image");
        assert_eq!(f.ok(&["digest", &oci]).trim(), want.digest);
        let index = std::fs::read_to_string(dir.join("index.json")).unwrap();
        assert_eq!(index.matches("\"digest\"").count(), 1, "{index}");
    };
    f.ok(&["copy", "-q", &sa, &oci]);
    read_back(&a);
    f.ok(&["copy", "-q", &sb, &oci]);
    read_back(&b);
    // Back to an image whose manifest the layout already holds.
    f.ok(&["copy", "-q", &sa, &oci]);
    read_back(&a);
    // A tagged entry stays; the untagged one is still replaced, not added to.
    f.ok(&["copy", "-q", &sb, &format!("{oci}:keep")]);
    f.ok(&["copy", "-q", &sb, &oci]);
    let index = std::fs::read_to_string(dir.join("index.json")).unwrap();
    assert_eq!(index.matches("\"digest\"").count(), 2, "{index}");
    let raw = skopeo::skopeo_ok(&["inspect", "--raw", &format!("{oci}:keep")]).stdout;
    assert_eq!(raw, b.manifest);
    assert_eq!(f.ok(&["digest", &format!("{oci}:keep")]).trim(), b.digest);
}

/// Runs `ferry ARGS` on a pseudo-terminal (Python's `pty`: the terminal is ferry's stdin,
/// stdout, stderr and controlling terminal), types `input` and a newline once `Password`
/// appears and the terminal's echo is off (never, if ferry leaves it on: the driver gives
/// up after 60 s), and returns ferry's exit code and everything the terminal showed.
fn on_a_terminal(f: &Ferry, args: &[&str], input: &str) -> (i32, String) {
    const DRIVER: &str = r#"
import os, pty, select, sys, termios, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen, typed, end = b"", False, time.time() + 60
while time.time() < end:
    r, _, _ = select.select([fd], [], [], 0.2)
    if not r:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    if not typed and b"Password" in seen:
        # Type once the terminal no longer echoes, as a person would after the prompt.
        while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < end:
            time.sleep(0.05)
        os.write(fd, os.environ["PTY_INPUT"].encode() + b"\n")
        typed = True
else:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(seen)
sys.exit(os.waitstatus_to_exitcode(status) if typed else 99)
"#;
    let o = std::process::Command::new("python3")
        .arg("-c")
        .arg(DRIVER)
        .arg(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .env("HOME", f.dir.path())
        .env("REGISTRY_AUTH_FILE", &f.authfile)
        .env("PTY_INPUT", input)
        .env_remove("DOCKER_CONFIG")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("FERRY_PASSWORD")
        .env_remove("FERRY_LOG")
        .output()
        .expect("python3 is needed to drive a pseudo-terminal");
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// `ferry login -u USER` with no password given asks on the terminal, without echo; with
/// stdin not a terminal it is a usage error.
#[test]
fn login_asks_for_the_password_on_a_terminal() {
    let reg = Registry::tls_htpasswd("gil", "s3cret-on-tty");
    let img = images::simple(78, Format::Oci);
    images::push_image(&reg, "t/app", Some("1"), &img);
    let f = Ferry::new(&[&reg]);
    let certs = f.certs.to_str().unwrap().to_string();
    let host = reg.host();
    let (code, shown) = on_a_terminal(
        &f,
        &["login", "--cert-dir", &certs, "-u", "gil", &host],
        "s3cret-on-tty",
    );
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains(&format!("Password for gil@{host}")),
        "{shown}"
    );
    assert!(!shown.contains("s3cret"), "password echoed: {shown}");
    let r = format!("{host}/t/app:1");
    assert_eq!(f.ok(&["digest", &r]).trim(), img.digest);
    // A wrong password typed on the terminal fails the login.
    let (code, shown) = on_a_terminal(
        &f,
        &["login", "--cert-dir", &certs, "-u", "gil", &host],
        "wrong",
    );
    assert_eq!(code, 1, "{shown}");
    // No terminal, no password: exit 2, nothing written.
    std::fs::remove_file(&f.authfile).unwrap();
    let run = f.run(&["login", "-u", "gil", &host]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--password-stdin"), "{}", run.stderr);
    assert!(!f.authfile.exists());
}

/// Every key of the `-o json` documents of copy, sync, tag, untag, merge, digest, check,
/// inspect and delete is snake_case and documented in docs/json.md (objects copied from
/// image documents, which keep the specifications' names, are not walked).
#[test]
fn json_keys_are_snake_case_and_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/json.md"))
        .unwrap();
    let reg = Registry::plain();
    let img = images::simple(79, Format::Oci);
    images::push_image(&reg, "j/app", Some("1"), &img);
    let idx = images::multi_arch(&["amd64", "arm64"], 80, Format::Oci);
    images::push_index(&reg, "j/list", Some("1"), &idx);
    let f = Ferry::new(&[&reg]);
    let h = reg.host();
    let r = |s: &str| format!("{h}/{s}");
    let runs: Vec<Vec<String>> = vec![
        vec!["copy".into(), r("j/app:1"), r("j/copy:1")],
        vec!["sync".into(), r("j/app"), r("j/synced")],
        vec!["tag".into(), r("j/app:1"), r("j/tagged:1"), r("j/tagged:2")],
        vec!["untag".into(), r("j/tagged:2")],
        vec!["merge".into(), r("j/list:1"), r("j/merged:1")],
        vec!["digest".into(), r("j/app:1")],
        vec!["check".into(), r("j/app:1")],
        vec!["inspect".into(), r("j/app:1")],
        vec!["inspect".into(), r("j/list:1")],
        vec!["delete".into(), format!("{}@{}", r("j/copy"), img.digest)],
    ];
    fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    let from_image = ["manifests", "layers", "annotations", "labels"];
                    if !from_image.contains(&k.as_str()) {
                        keys(v, out);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }
    for args in runs {
        let mut full = vec!["-o", "json"];
        full.extend(args.iter().map(String::as_str));
        let out = f.ok(&full);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| {
            panic!("{args:?}: not JSON ({e}): {out}");
        });
        let mut found = Vec::new();
        keys(&v, &mut found);
        assert!(!found.is_empty(), "{args:?}: {out}");
        for k in found {
            assert!(
                !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{args:?}: key {k:?} is not snake_case"
            );
            assert!(
                doc.contains(&format!("`{k}`")),
                "{args:?}: key {k:?} is not in docs/json.md"
            );
        }
    }
}

/// A password inside a reference (`https://user:pass@host/...`, `user:pass@host`) is refused
/// with exit 2 and never printed, whatever the command and side.
#[test]
fn a_password_in_a_reference_is_refused_and_never_shown() {
    let f = Ferry::new(&[]);
    let layout = format!("oci:{}", f.path("l").display());
    let cases: Vec<Vec<&str>> = vec![
        vec!["copy", "https://bob:hunter2@127.0.0.1:5000/a:1", &layout],
        vec!["copy", &layout, "https://bob:hunter2@127.0.0.1:5000/a:1"],
        vec!["digest", "bob:hunter2@127.0.0.1:5000/a:1"],
        vec!["sync", "docker://bob:hunter2@127.0.0.1:5000/a", &layout],
        vec!["inspect", "https://bob:hunter2@quay.io/ns/app:1"],
        vec!["login", "-u", "bob", "https://bob:hunter2@127.0.0.1:5000"],
    ];
    for args in cases {
        let r = f.run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            !r.stderr.contains("hunter2") && !r.stdout.contains("hunter2"),
            "{args:?}: the password was shown: {}",
            r.stderr
        );
        assert!(r.stderr.contains("<redacted>"), "{args:?}: {}", r.stderr);
    }
}

/// An item name carrying terminal escapes reaches the push report and the `items` listing
/// escaped: the text is shown, the raw control characters are not.
#[test]
fn item_names_reach_the_terminal_escaped() {
    let reg = Registry::plain();
    let img = images::simple(83, Format::Oci);
    images::push_image(&reg, "esc/src", Some("1"), &img);
    let f = Ferry::new(&[&reg]);
    let items = f.path("items.yaml");
    common::write(
        &items,
        &format!(
            "- ContainerImagePushItem:\n    name: \"app\\e[31mred\\e]0;title\\a\"\n    dest: [\"esc/dst:1\"]\n    pull_info:\n      tag_specs: [{{registry: \"{h}\", repository: esc/src, tag: \"1\", media_types: []}}]\n      digest_specs: [{{registry: \"{h}\", repository: esc/src, digest: \"{d}\", media_type: null}}]\n- ErratumPushItem:\n    name: \"RHBA\\e[2J\"\n    state: PENDING\n",
            h = reg.host(),
            d = img.digest
        ),
    );
    let settings = f.path("target.yaml");
    common::write(&settings, &format!("registry: \"{}\"\n", reg.host()));
    let items = items.to_str().unwrap();
    for args in [
        vec!["push", "--target", settings.to_str().unwrap(), items],
        vec!["items", items],
    ] {
        let r = f.run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(
            !all.contains('\x1b') && !all.contains('\x07'),
            "{args:?}: raw control characters reached the terminal: {all:?}"
        );
        assert!(all.contains("red"), "{args:?}: {all}");
    }
    assert_eq!(skopeo::inspect_raw(&reg, "esc/dst:1"), img.manifest);
}
