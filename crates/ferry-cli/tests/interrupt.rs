//! SIGINT and SIGTERM in the middle of an upload: the run stops with 130 / 143, says
//! "interrupted", writes no tag and leaves no upload session open at the registry.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::Ferry;
use ferry_testkit::images::{self, Format, ImageSpec};
use ferry_testkit::proxy::FaultProxy;
use ferry_testkit::{Registry, skopeo};

/// Polls `done` every 50 ms; false when it has not become true within `max`.
fn wait_until(max: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < max {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

/// The upload sessions the registry holds open for `repo`: the directories of its
/// storage's `_uploads/` that still have their `startedat` file. (Distribution 2.8 answers
/// a DELETE of a session 204 and forgets it — a later request to it answers 404
/// BLOB_UPLOAD_UNKNOWN — but leaves `_uploads/UUID/hashstates/sha256/0` behind, so an
/// empty `_uploads/` cannot be asked for; `startedat` and `data` are what an open session
/// has and a deleted one has not.)
fn open_uploads(reg: &Registry, repo: &str) -> Vec<String> {
    let dir = reg
        .data_dir()
        .join("docker/registry/v2/repositories")
        .join(repo)
        .join("_uploads");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("startedat").exists() || e.path().join("data").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn kill_now(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Copies a 4 MiB layer from a source the fault proxy trickles (256 KiB every 10 s),
/// sends `signal` once the uploads are under way, and checks what the run left.
fn interrupt_an_upload(signal: &str, expected: i32, seed: u64) {
    let reg = Registry::plain();
    let img = images::image(
        &ImageSpec::new("amd64", seed).layers(&[4 << 20]),
        Format::Oci,
    );
    images::push_image(&reg, "big/src", Some("1"), &img);
    let proxy = FaultProxy::new(&reg);
    proxy.slow_blobs(Some((256 * 1024, Duration::from_secs(10))));
    let f = Ferry::new(&[&reg]);
    let src = format!("{}/big/src:1", proxy.host());
    let dst = format!("{}/big/dst:1", reg.host());
    let mut child = f
        .command(&["copy", &src, &dst])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded waits as safety nets, not timing assertions. The signal goes once both
    // blobs are under way: their sessions open at the destination, their source reads
    // answered (ferry reads a blob after opening its session) and their bodies held back
    // by the proxy, so no byte has reached a session yet.
    if !wait_until(Duration::from_secs(30), || {
        proxy.count("GET", "/blobs/sha256:") >= 2 && open_uploads(&reg, "big/dst").len() >= 2
    }) {
        kill_now(&mut child);
        panic!("the uploads were not under way within 30 s");
    }
    let sent = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal} failed");
    let mut status = None;
    wait_until(Duration::from_secs(10), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if status.is_none() {
        kill_now(&mut child);
        panic!("ferry copy still running 10 s after SIG{signal}");
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(expected), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // No tag written, no upload session left behind.
    let read = skopeo::try_inspect_raw(&reg, "big/dst:1");
    assert!(
        !read.status.success(),
        "a tag was written after SIG{signal}"
    );
    reg.settle();
    let left = open_uploads(&reg, "big/dst");
    assert!(
        left.is_empty(),
        "upload sessions left open: {left:?}\n{stderr}"
    );
    assert!(reg.count("DELETE", "/v2/big/dst/blobs/uploads/") > 0);
}

#[test]
fn sigint_during_an_upload_exits_130_and_cleans_up() {
    interrupt_an_upload("INT", 130, 81);
}

#[test]
fn sigterm_during_an_upload_exits_143_and_cleans_up() {
    interrupt_an_upload("TERM", 143, 82);
}

/// The signal lands while the registry has opened a session but its answer to the POST
/// has not reached ferry yet (the proxy holds every upload-opening answer back for
/// 600 ms): ferry lets that POST finish, learns the session and deletes it.
#[test]
fn a_session_whose_opening_post_is_in_flight_is_deleted_too() {
    // Shorter than the second ferry waits for such POSTs when interrupted.
    const HOLD: Duration = Duration::from_millis(600);
    let reg = Registry::plain();
    let img = images::image(
        &ImageSpec::new("amd64", 83).layers(&[64 * 1024]),
        Format::Oci,
    );
    images::push_image(&reg, "held/src", Some("1"), &img);
    let proxy = FaultProxy::new(&reg);
    proxy.hold_answers("POST", "/v2/held/dst/blobs/uploads/", HOLD, usize::MAX);
    let f = Ferry::new(&[&reg]);
    let src = format!("{}/held/src:1", reg.host());
    let dst = format!("{}/held/dst:1", proxy.host());
    let mut child = f
        .command(&["copy", &src, &dst])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Polled often: the signal must land inside the hold for the case to be the one meant.
    let mut seen = None;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if !open_uploads(&reg, "held/dst").is_empty() {
            seen = Some(Instant::now());
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let Some(seen) = seen else {
        kill_now(&mut child);
        panic!("no upload session was opened within 30 s");
    };
    let sent = std::process::Command::new("kill")
        .arg("-INT")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success(), "kill -INT failed");
    let signalled_after = seen.elapsed();
    assert!(
        signalled_after < HOLD / 2,
        "the signal went {signalled_after:?} after the session opened, too late to land \
         while its answer was held ({HOLD:?}): the case was not exercised"
    );
    let mut status = None;
    wait_until(Duration::from_secs(10), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if status.is_none() {
        kill_now(&mut child);
        panic!("ferry copy still running 10 s after SIGINT");
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    reg.settle();
    let left = open_uploads(&reg, "held/dst");
    assert!(
        left.is_empty(),
        "upload sessions left open: {left:?}\n{stderr}"
    );
    assert!(!skopeo::try_inspect_raw(&reg, "held/dst:1").status.success());
}
