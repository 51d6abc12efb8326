//! `ferry-lab serve`: registries (plain, or TLS and / or a token realm) until SIGTERM /
//! SIGINT / SIGHUP or stdin EOF.

use std::fs;
use std::path::{Path, PathBuf};

use ferry_testkit::Registry;

use crate::cli::{UserPassword, parse_user};
use serde_json::{Map, Value, json};

/// Arguments of `ferry-lab serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Directory for registries.json and a symlink per registry
    #[arg(long)]
    dir: PathBuf,
    /// A registry to start, on PORT or an ephemeral port (repeatable; default: src and dst)
    #[arg(long = "name", value_name = "NAME[:PORT]", value_parser = parse_name)]
    names: Vec<Want>,
    /// Also write NAME=PORT lines to this file
    #[arg(long, value_name = "FILE")]
    port_file: Option<PathBuf>,
    /// Leave the registries' directories when stopping
    #[arg(long)]
    keep: bool,
    /// Do not stop at stdin EOF (only at a signal)
    #[arg(long)]
    no_stdin: bool,
    /// HTTPS with a certificate from a fresh test CA (registries.json gets "ca", "cert_dir")
    #[arg(long)]
    tls: bool,
    /// A token realm (plain HTTP) that knows this one user; the registries require its
    /// bearer tokens (registries.json gets "realm")
    #[arg(long, value_name = "USER:PASSWORD", value_parser = parse_user)]
    token: Option<UserPassword>,
}

/// One `--name NAME[:PORT]`.
#[derive(Debug, Clone)]
pub struct Want {
    name: String,
    port: Option<u16>,
}

fn parse_name(s: &str) -> Result<Want, String> {
    let (name, port) = match s.split_once(':') {
        Some((n, p)) => (n, Some(p.parse().map_err(|_| format!("{s}: bad port"))?)),
        None => (s, None),
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        || name.starts_with('.')
    {
        return Err(format!("{s}: use letters, digits, '-', '_', '.'"));
    }
    Ok(Want {
        name: name.to_string(),
        port,
    })
}

/// Writes `bytes` to `path` through a temporary file and a rename, so readers polling for
/// the file never see it half written.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).map_err(|e| format!("write {}: {e}", tmp.display()))?;
    fs::rename(&tmp, path).map_err(|e| format!("rename to {}: {e}", path.display()))
}

/// `DIR/NAME` as a symlink to the registry's own directory (config, `stdout.log` = access
/// log, `stderr.log`, `data/`). A stale symlink is replaced; anything else is an error.
fn link(dir: &Path, name: &str, target: &Path) -> Result<PathBuf, String> {
    let at = dir.join(name);
    if let Ok(meta) = fs::symlink_metadata(&at) {
        if meta.file_type().is_symlink() {
            fs::remove_file(&at).map_err(|e| format!("remove {}: {e}", at.display()))?;
        } else {
            return Err(format!(
                "{} exists and is not a symlink from an earlier run; remove it",
                at.display()
            ));
        }
    }
    std::os::unix::fs::symlink(target, &at)
        .map_err(|e| format!("symlink {}: {e}", at.display()))?;
    Ok(at)
}

/// Whether stdin is a pipe or socket: only then does its EOF mean "stop". (A background job
/// of a script gets /dev/null, which is at EOF at once; a terminal must not be read.)
fn stdin_is_pipe() -> bool {
    use std::os::unix::fs::FileTypeExt;
    fs::metadata("/dev/stdin")
        .map(|m| m.file_type().is_fifo() || m.file_type().is_socket())
        .unwrap_or(false)
}

pub fn run(a: ServeArgs) -> Result<(), String> {
    let dir = a.dir.clone();
    let tls = a.tls;
    let token_user = a.token.clone();
    let mut wants = a.names.clone();
    if wants.is_empty() {
        wants = vec![parse_name("src")?, parse_name("dst")?];
    }
    for (i, w) in wants.iter().enumerate() {
        if wants[..i].iter().any(|o| o.name == w.name) {
            return Err(format!("--name {} given twice", w.name));
        }
    }
    fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let _ = fs::remove_file(dir.join("registries.json"));

    let mut regs: Vec<(String, Registry)> = Vec::new();
    let mut info = Map::new();
    let mut ports = String::new();
    for w in &wants {
        let mut builder = Registry::builder().tls(tls);
        if let Some(t) = &token_user {
            builder = builder.token(&[(t.user.as_str(), t.password.as_str())]);
        }
        if let Some(p) = w.port {
            builder = builder.port(p);
        }
        let reg = builder.start();
        let at = link(&dir, &w.name, &reg.root_dir())?;
        let mut entry = json!({
            "host": reg.host(),
            "url": reg.base_url(),
            "log": at.join("stdout.log"),
            "stderr": at.join("stderr.log"),
            "data": at.join("data"),
            "root": reg.root_dir(),
        });
        if let Some(ca) = reg.ca_cert_path() {
            entry["ca"] = json!(ca);
            entry["cert_dir"] = json!(reg.cert_dir());
        }
        if let Some(realm) = reg.token_realm() {
            entry["realm"] = json!(realm);
        }
        info.insert(w.name.clone(), entry);
        ports.push_str(&format!("{}={}\n", w.name, reg.port()));
        regs.push((w.name.clone(), reg));
    }
    let text = serde_json::to_string_pretty(&Value::Object(info)).expect("json") + "\n";
    write_atomic(&dir.join("registries.json"), text.as_bytes())?;
    if let Some(pf) = &a.port_file {
        write_atomic(pf, ports.as_bytes())?;
    }
    print!("{text}");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let reason = wait_for_stop(!a.no_stdin && stdin_is_pipe());
    eprintln!(
        "ferry-lab serve: {reason}; stopping {} registries",
        regs.len()
    );

    for (name, mut reg) in regs {
        let _ = fs::remove_file(dir.join(&name));
        if a.keep {
            // Kill the process but leave its directory (data and logs) in place.
            reg.kill();
            eprintln!("ferry-lab serve: kept {}", reg.root_dir().display());
            std::mem::forget(reg);
        } else {
            drop(reg);
        }
    }
    let _ = fs::remove_file(dir.join("registries.json"));
    if let Some(pf) = &a.port_file {
        let _ = fs::remove_file(pf);
    }
    Ok(())
}

/// Blocks until a stop signal arrives (or stdin reaches EOF when `watch_stdin`).
fn wait_for_stop(watch_stdin: bool) -> String {
    use tokio::signal::unix::{SignalKind, signal};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // Without a stdin watcher the sender is held here so the receiver never fires.
    let _hold = if watch_stdin {
        // A detached thread: it may stay blocked in read until the process exits.
        std::thread::spawn(move || {
            let mut sink = [0u8; 4096];
            let mut stdin = std::io::stdin();
            while std::io::Read::read(&mut stdin, &mut sink).is_ok_and(|n| n > 0) {}
            let _ = tx.send(());
        });
        None
    } else {
        Some(tx)
    };
    let reason = rt.block_on(async move {
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
        tokio::select! {
            _ = term.recv() => "SIGTERM".to_string(),
            _ = int.recv() => "SIGINT".to_string(),
            _ = hup.recv() => "SIGHUP".to_string(),
            _ = rx => "stdin closed".to_string(),
        }
    });
    rt.shutdown_background();
    reason
}
