//! Running the real `ferry` binary against real registries.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ferry_testkit::Registry;

/// The commands that take no `--cert-dir` (they talk to no registry).
pub const NO_REGISTRY: &[&str] = &["logout", "completion", "man", "help"];

/// A sandbox for one test: its own HOME, auth file and CA directory, so the machine's
/// credentials never leak in.
pub struct Ferry {
    pub dir: tempfile::TempDir,
    pub certs: PathBuf,
    pub authfile: PathBuf,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub raw_stdout: Vec<u8>,
}

impl Ferry {
    pub fn new(regs: &[&Registry]) -> Ferry {
        let dir = tempfile::tempdir().unwrap();
        let certs = dir.path().join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        for (i, r) in regs.iter().enumerate() {
            if let Some(ca) = r.ca_cert_path() {
                std::fs::copy(ca, certs.join(format!("r{i}.crt"))).unwrap();
            }
        }
        let authfile = dir.path().join("auth.json");
        Ferry {
            dir,
            certs,
            authfile,
        }
    }

    /// `ferry ARGS`, with `--cert-dir` (the sandbox's CAs) added when the command
    /// (the first argument) talks to a registry.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = self.bare(args);
        if args
            .first()
            .is_some_and(|a| !a.starts_with('-') && !NO_REGISTRY.contains(a))
        {
            c.arg("--cert-dir").arg(&self.certs);
        }
        c
    }

    /// `ferry ARGS` in the sandbox, exactly these arguments.
    pub fn bare(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ferry"));
        c.args(args)
            .env("HOME", self.dir.path())
            .env("REGISTRY_AUTH_FILE", &self.authfile)
            .env_remove("DOCKER_CONFIG")
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("FERRY_PASSWORD")
            .env_remove("FERRY_LOG")
            .stdin(Stdio::null());
        c
    }

    /// Runs exactly `ferry ARGS` (no `--cert-dir` added).
    pub fn run_bare(&self, args: &[&str]) -> Run {
        finish(self.bare(args).output().unwrap())
    }

    pub fn run(&self, args: &[&str]) -> Run {
        finish(self.command(args).output().unwrap())
    }

    pub fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        finish(child.wait_with_output().unwrap())
    }

    /// Runs and asserts success, returning stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(r.code, 0, "ferry {args:?} failed:\n{}", r.stderr);
        r.stdout
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
}

fn finish(o: Output) -> Run {
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        raw_stdout: o.stdout,
    }
}

/// `USER:PASS` of a registry.
pub fn creds(r: &Registry) -> String {
    let (u, p) = r.credentials().unwrap();
    format!("{u}:{p}")
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

impl Ferry {
    /// Runs `ferry ARGS` with a stdout pipe whose read end is closed before ferry writes
    /// (as in `ferry ... | true`): exit code and stderr.
    pub fn run_closed_stdout(&self, args: &[&str]) -> (i32, String) {
        let mut child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }
}

/// Writes (PUT, POST, PATCH, DELETE) the registry logged since `mark`.
pub fn writes_since(reg: &Registry, mark: usize) -> usize {
    reg.settle();
    ["PUT", "POST", "PATCH", "DELETE"]
        .iter()
        .map(|m| reg.count_since(mark, m, ""))
        .sum()
}
