//! One cell of the fault matrix: an operation run by the real `ferry` binary while a fault
//! is injected, then audited, then run again with the fault removed.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ferry_testkit::images::{self, Format, ImageSpec, TestIndex};
use ferry_testkit::proxy::FaultProxy;
use ferry_testkit::{Registry, reserve_port};

use super::audit::{Audit, audit};

/// Layer size of the cell's images (one layer per platform).
const LAYER: usize = 256 * 1024;
const USER: &str = "robot";
const PASSWORD: &str = "matrix-pw";
/// The destination repository every operation writes.
const REPO: &str = "org/app";

/// A fault injected during the first run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 503 to the next 6 requests on each side.
    Storm5xx,
    /// 429 with `Retry-After: 1` to the next 3 requests on each side.
    TooMany,
    /// Connections broken: 2 source blob reads aborted mid-body, 2 destination upload
    /// requests closed unanswered.
    Reset,
    /// Every blob body cut at half its length, then the connection aborted.
    Truncate,
    /// One byte flipped in every blob body read.
    Corrupt,
    /// The destination registry killed (SIGKILL) at ferry's first write, then restarted on
    /// the same port and storage.
    KillRestart,
    /// Nothing listening at the destination's token realm.
    RealmDown,
    /// Blob bodies trickled 8 KiB every 40 ms.
    SlowLoris,
}

impl Fault {
    /// Every fault, in table order.
    pub const ALL: [Fault; 8] = [
        Fault::Storm5xx,
        Fault::TooMany,
        Fault::Reset,
        Fault::Truncate,
        Fault::Corrupt,
        Fault::KillRestart,
        Fault::RealmDown,
        Fault::SlowLoris,
    ];

    /// Short name for the table.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Storm5xx => "5xx storm",
            Fault::TooMany => "429 + Retry-After",
            Fault::Reset => "connection reset",
            Fault::Truncate => "truncated body",
            Fault::Corrupt => "wrong blob bytes",
            Fault::KillRestart => "registry killed + restarted",
            Fault::RealmDown => "token realm down",
            Fault::SlowLoris => "slow loris",
        }
    }

    /// What exactly is injected.
    pub fn detail(self) -> &'static str {
        match self {
            Fault::Storm5xx => "503 to the next 6 requests to each registry",
            Fault::TooMany => "429 with `Retry-After: 1` to the next 3 requests to each registry",
            Fault::Reset => {
                "connection aborted mid-body on 2 source blob reads (half the bytes sent), and \
                 closed unanswered on 2 destination upload requests"
            }
            Fault::Truncate => {
                "every source blob body cut at half its length, connection aborted (all run long)"
            }
            Fault::Corrupt => "one byte flipped in every source blob body (all run long)",
            Fault::KillRestart => {
                "destination registry SIGKILLed at ferry's first write, restarted on the same port and storage"
            }
            Fault::RealmDown => "nothing listening at the destination's token realm (all run long)",
            Fault::SlowLoris => "source blob bodies trickled 8 KiB every 40 ms (all run long)",
        }
    }
}

/// A ferry command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Copy,
    Sync,
    Push,
    Merge,
    Tag,
    Untag,
}

impl Op {
    /// Every operation, in table order.
    pub const ALL: [Op; 6] = [Op::Copy, Op::Sync, Op::Push, Op::Merge, Op::Tag, Op::Untag];

    /// The command name.
    pub fn name(self) -> &'static str {
        match self {
            Op::Copy => "copy",
            Op::Sync => "sync",
            Op::Push => "push",
            Op::Merge => "merge",
            Op::Tag => "tag",
            Op::Untag => "untag",
        }
    }
}

/// The measured outcome of one cell.
#[derive(Debug)]
pub struct Cell {
    pub fault: Fault,
    pub op: Op,
    /// Exit code of the faulted run.
    pub code: i32,
    /// Wall time of the faulted run, seconds (reported, never asserted).
    pub secs: f64,
    /// Retries ferry logged in the faulted run.
    pub retries: usize,
    /// Requests the proxies answered with an injected status, reset or 502 (upstream down).
    pub faulted: usize,
    /// Whether the kill landed while ferry was running (KillRestart only).
    pub killed_mid_run: Option<bool>,
    /// After the faulted run.
    pub dangling: usize,
    pub corrupted: usize,
    /// Exit code of the re-run without the fault.
    pub rerun_code: i32,
    /// Blob uploads completed on the destination during the re-run.
    pub rerun_uploads: usize,
    /// Of those, blobs the repository already held (or uploaded twice in the re-run).
    pub copied_twice: usize,
    /// After the re-run.
    pub final_dangling: usize,
    pub final_corrupted: usize,
    /// The re-run left the expected tags (`None`), or why not.
    pub final_wrong: Option<String>,
    /// Problems found, and ferry's last stderr lines when it failed, for the failure message.
    pub notes: Vec<String>,
}

impl Cell {
    /// True when the invariants hold: no dangling tag, no corrupted image (after either
    /// run), the re-run reached the expected state and copied nothing twice.
    pub fn sound(&self) -> bool {
        self.dangling == 0
            && self.corrupted == 0
            && self.final_dangling == 0
            && self.final_corrupted == 0
            && self.copied_twice == 0
            && self.final_wrong.is_none()
    }

    /// Panics with the details unless [`Cell::sound`].
    pub fn assert_sound(&self) {
        assert!(self.sound(), "fault matrix cell failed: {self:#?}");
    }
}

struct Run {
    code: i32,
    secs: f64,
    stderr: String,
}

/// Everything one cell needs: registries, proxies, the ferry sandbox.
struct Bench {
    /// Kept alive for the cell (read through `sp`).
    _src: Registry,
    dst: Registry,
    sp: FaultProxy,
    dp: FaultProxy,
    realm_port: u16,
    realm_upstream: String,
    realm: Option<FaultProxy>,
    home: tempfile::TempDir,
    idx: TestIndex,
}

fn platforms(archs: &[&str], seed: u64) -> TestIndex {
    let specs: Vec<ImageSpec> = archs
        .iter()
        .enumerate()
        .map(|(i, a)| ImageSpec::new(a, seed + i as u64).layers(&[LAYER]))
        .collect();
    images::index(&specs, Format::Oci)
}

impl Bench {
    fn new(op: Op) -> Bench {
        let src = Registry::plain();
        // The realm proxy listens on a port the registry is told about before the proxy
        // exists; when another process (or the registry itself) took that port meanwhile,
        // start again with another.
        let (dst, realm_port, realm_upstream, realm) = (0..5)
            .find_map(|_| {
                let realm_port = reserve_port();
                let dst = Registry::builder()
                    .token(&[(USER, PASSWORD)])
                    .realm(&format!("http://127.0.0.1:{realm_port}/token"))
                    .start();
                let kit_realm = dst.token_realm().expect("token realm");
                let upstream = kit_realm.trim_end_matches("/token").to_string();
                let proxy = FaultProxy::try_to_url_on(realm_port, &upstream, None).ok()?;
                Some((dst, realm_port, upstream, proxy))
            })
            .expect("a free port for the realm proxy in 5 attempts");
        let realm = Some(realm);
        let idx = platforms(&["amd64", "arm64"], 500);
        images::push_index(&src, "src/app", Some("1"), &idx);
        match op {
            Op::Sync => {
                images::push_manifest(&src, "src/app", "2", &idx.media_type, &idx.manifest);
            }
            Op::Merge => {
                let old = platforms(&["amd64", "s390x"], 600);
                images::push_index(&dst, REPO, Some("1"), &old);
            }
            Op::Untag => {
                images::push_index(&dst, REPO, Some("a"), &idx);
                images::push_manifest(&dst, REPO, "b", &idx.media_type, &idx.manifest);
            }
            _ => {}
        }
        let sp = FaultProxy::new(&src);
        let dp = FaultProxy::new(&dst);
        Bench {
            _src: src,
            dst,
            sp,
            dp,
            realm_port,
            realm_upstream,
            realm,
            home: tempfile::tempdir().expect("tempdir"),
            idx,
        }
    }

    fn args(&self, op: Op) -> Vec<String> {
        let s = self.sp.host();
        let d = self.dp.host();
        let creds = format!("{USER}:{PASSWORD}");
        let v: Vec<String> = match op {
            Op::Copy => vec![
                "copy".into(),
                "--dest-creds".into(),
                creds,
                format!("{s}/src/app:1"),
                format!("{d}/{REPO}:1"),
            ],
            Op::Sync => vec![
                "sync".into(),
                "--dest-creds".into(),
                creds,
                format!("{s}/src/app"),
                format!("{d}/{REPO}"),
            ],
            Op::Push => {
                let items = self.home.path().join("items.yaml");
                let target = self.home.path().join("target.yaml");
                vec![
                    "push".into(),
                    "--target".into(),
                    target.display().to_string(),
                    items.display().to_string(),
                ]
            }
            Op::Merge => vec![
                "merge".into(),
                "--dest-creds".into(),
                creds,
                format!("{s}/src/app:1"),
                format!("{d}/{REPO}:1"),
            ],
            Op::Tag => vec![
                "tag".into(),
                "--dest-creds".into(),
                creds,
                format!("{s}/src/app:1"),
                format!("{d}/{REPO}:a"),
                format!("{d}/{REPO}:b"),
            ],
            Op::Untag => vec![
                "untag".into(),
                "--creds".into(),
                creds,
                format!("{d}/{REPO}:a"),
            ],
        };
        v
    }

    fn command(&self, args: &[String]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ferry"));
        c.args(args)
            .env("HOME", self.home.path())
            .env("REGISTRY_AUTH_FILE", self.home.path().join("auth.json"))
            .env("FERRY_LOG", "warn,ferry_registry::retry=debug")
            .env_remove("DOCKER_CONFIG")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("FERRY_PASSWORD")
            .stdin(Stdio::null());
        c
    }

    /// Writes the push item and target files (the item is listed through the source proxy
    /// before any fault is set).
    fn prepare_push(&self) -> Result<(), String> {
        let out = self
            .command(&[
                "items".into(),
                format!("registry:?image={}/src/app:1&dest=app", self.sp.host()),
            ])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let dir = self.home.path();
        std::fs::write(dir.join("items.yaml"), &out.stdout).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("pw"), format!("{PASSWORD}\n")).map_err(|e| e.to_string())?;
        std::fs::write(
            dir.join("target.yaml"),
            format!(
                "registry: \"{}\"\nnamespace: org\nmultiarch: merge\ntag_retries: 2\nretry_wait: 100ms\ndest_credentials: {{username: {USER}, password_file: {}}}\n",
                self.dp.host(),
                dir.join("pw").display()
            ),
        )
        .map_err(|e| e.to_string())
    }

    /// Runs ferry to the end; with `kill_at_write`, kills the destination registry at the
    /// first write the destination proxy sees and restarts it. Returns the run and whether
    /// the kill landed while ferry was still running.
    fn run(&mut self, args: &[String], kill_at_write: bool) -> (Run, Option<bool>) {
        let err_path = self.home.path().join("stderr.log");
        let err = std::fs::File::create(&err_path).expect("stderr file");
        let started = std::time::Instant::now();
        let mut child = self
            .command(args)
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn ferry");
        let mut killed = None;
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait ferry") {
                break st;
            }
            if kill_at_write && killed.is_none() && self.dp.requests().iter().any(is_write) {
                let running = child.try_wait().expect("wait ferry").is_none();
                self.dst.kill();
                self.dst.restart();
                killed = Some(running);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if kill_at_write && killed.is_none() {
            killed = Some(false);
        }
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        (
            Run {
                code: status.code().unwrap_or(-1),
                secs: started.elapsed().as_secs_f64(),
                stderr,
            },
            killed,
        )
    }

    fn inject(&mut self, fault: Fault) {
        match fault {
            Fault::Storm5xx => {
                self.sp.fail_next("*", "/v2/", 503, 6);
                self.dp.fail_next("*", "/v2/", 503, 6);
            }
            Fault::TooMany => {
                self.sp.fail_next_retry_after("*", "/v2/", 429, 1, 3);
                self.dp.fail_next_retry_after("*", "/v2/", 429, 1, 3);
            }
            Fault::Reset => {
                self.sp.truncate_next(2);
                self.dp.reset_next("*", "/blobs/uploads/", 2);
            }
            Fault::Truncate => self.sp.truncate_blobs(true),
            Fault::Corrupt => self.sp.corrupt_blobs(true),
            Fault::KillRestart => {}
            Fault::RealmDown => self.realm = None,
            Fault::SlowLoris => self
                .sp
                .slow_blobs(Some((8 * 1024, Duration::from_millis(40)))),
        }
    }

    fn clear(&mut self) {
        self.sp.clear_rules();
        self.dp.clear_rules();
        if self.realm.is_none() {
            self.realm = Some(FaultProxy::to_url_on(
                self.realm_port,
                &self.realm_upstream,
                None,
            ));
        }
    }

    fn faulted(&self) -> usize {
        self.sp
            .requests()
            .iter()
            .chain(self.dp.requests().iter())
            .filter(|r| matches!(r.status, 0 | 429 | 502 | 503))
            .count()
    }

    /// What the destination must hold after a successful operation, or why it does not.
    fn expect_final(&self, op: Op, a: &Audit) -> Option<String> {
        let want = &self.idx.digest;
        let tag_is = |t: &str| a.tags.get(t) == Some(want);
        let ok = match op {
            Op::Copy => tag_is("1"),
            Op::Sync => tag_is("1") && tag_is("2"),
            Op::Tag => tag_is("a") && tag_is("b"),
            Op::Untag => !a.tags.contains_key("a") && tag_is("b"),
            Op::Push | Op::Merge => {
                let archs = a.tags.get("1").map(|d| self.list_archs(d));
                let need: &[&str] = if op == Op::Merge {
                    &["amd64", "arm64", "s390x"]
                } else {
                    &["amd64", "arm64"]
                };
                archs.is_some_and(|got| need.iter().all(|n| got.contains(*n)))
            }
        };
        (!ok).then(|| format!("tags after re-run: {:?}", a.tags))
    }

    fn list_archs(&self, digest: &str) -> BTreeSet<String> {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        let p = self
            .dst
            .data_dir()
            .join("docker/registry/v2/blobs/sha256")
            .join(hex.get(..2).unwrap_or("00"))
            .join(hex)
            .join("data");
        let v: serde_json::Value = std::fs::read(p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        v["manifests"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|e| e["platform"]["architecture"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn is_write(r: &ferry_testkit::LoggedRequest) -> bool {
    matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
}

/// The digest a completed upload request carries (`?digest=sha256%3A...`).
fn upload_digest(path: &str) -> Option<String> {
    let q = path.split_once('?')?.1;
    let v = q.split('&').find_map(|p| p.strip_prefix("digest="))?;
    Some(v.replace("%3A", ":").replace("%3a", ":"))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs one cell end to end.
pub fn run_cell(fault: Fault, op: Op) -> Cell {
    let mut b = Bench::new(op);
    let mut notes = Vec::new();
    if op == Op::Push
        && let Err(e) = b.prepare_push()
    {
        notes.push(format!("listing the push item failed: {e}"));
    }
    let args = b.args(op);
    b.inject(fault);
    let (first, killed) = b.run(&args, fault == Fault::KillRestart);
    let retries = first.stderr.matches("retrying").count();
    if first.code != 0 {
        notes.push(format!("faulted run stderr:\n{}", tail(&first.stderr, 6)));
    }
    let faulted = b.faulted();
    let after = audit(&b.dst, REPO);
    notes.extend(after.problems.iter().cloned());

    b.clear();
    let before: BTreeSet<String> = after.blobs.clone();
    let mark = b.dst.mark();
    let (second, _) = b.run(&args, false);
    if second.code != 0 {
        notes.push(format!("re-run stderr:\n{}", tail(&second.stderr, 6)));
    }
    let mut seen = BTreeSet::new();
    let mut uploads = 0;
    let mut twice = 0;
    for r in b.dst.requests_since(mark) {
        let completes = (r.method == "PUT" || r.method == "POST")
            && r.path.contains("/blobs/uploads/")
            && r.status == 201;
        let Some(d) = upload_digest(&r.path).filter(|_| completes) else {
            continue;
        };
        uploads += 1;
        if before.contains(&d) || !seen.insert(d.clone()) {
            twice += 1;
            notes.push(format!("re-run uploaded {d} again"));
        }
    }
    let fin = audit(&b.dst, REPO);
    notes.extend(fin.problems.iter().cloned());
    let final_wrong = b.expect_final(op, &fin);
    Cell {
        fault,
        op,
        code: first.code,
        secs: first.secs,
        retries,
        faulted,
        killed_mid_run: killed,
        dangling: after.dangling,
        corrupted: after.corrupted,
        rerun_code: second.code,
        rerun_uploads: uploads,
        copied_twice: twice,
        final_dangling: fin.dangling,
        final_corrupted: fin.corrupted,
        final_wrong,
        notes,
    }
}

/// Path of the repository root (two levels above this crate).
pub fn repo_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}
