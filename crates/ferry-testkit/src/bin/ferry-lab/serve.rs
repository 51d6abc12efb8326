//! `ferry-lab serve`: registries (plain, or TLS and / or a token realm) until SIGTERM /
//! SIGINT / SIGHUP or stdin EOF.

use std::fs;
use std::path::{Path, PathBuf};

use ferry_testkit::Registry;
use serde_json::{Map, Value, json};

use crate::args::Args;

/// One `--name NAME[:PORT]`.
struct Want {
    name: String,
    port: Option<u16>,
}

fn parse_name(s: &str) -> Result<Want, String> {
    let (name, port) = match s.split_once(':') {
        Some((n, p)) => (
            n,
            Some(p.parse().map_err(|_| format!("--name {s}: bad port"))?),
        ),
        None => (s, None),
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        || name.starts_with('.')
    {
        return Err(format!("--name {s}: use letters, digits, '-', '_', '.'"));
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

pub fn run(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(
        argv,
        &["dir", "name", "port-file", "token"],
        &["keep", "no-stdin", "tls"],
    )?;
    let dir = PathBuf::from(a.required("dir")?);
    let tls = a.has("tls");
    let token_user = match a.get("token") {
        None => None,
        Some(t) => match t.split_once(':') {
            Some((u, p)) if !u.is_empty() && !p.is_empty() => Some((u.to_string(), p.to_string())),
            _ => return Err(format!("--token {t:?}: expected USER:PASSWORD")),
        },
    };
    let mut wants: Vec<Want> = a
        .all("name")
        .into_iter()
        .map(parse_name)
        .collect::<Result<_, _>>()?;
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
        if let Some((u, p)) = &token_user {
            builder = builder.token(&[(u.as_str(), p.as_str())]);
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
    if let Some(pf) = a.get("port-file") {
        write_atomic(Path::new(pf), ports.as_bytes())?;
    }
    print!("{text}");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let reason = wait_for_stop(!a.has("no-stdin") && stdin_is_pipe());
    eprintln!(
        "ferry-lab serve: {reason}; stopping {} registries",
        regs.len()
    );

    for (name, mut reg) in regs {
        let _ = fs::remove_file(dir.join(&name));
        if a.has("keep") {
            // Kill the process but leave its directory (data and logs) in place.
            reg.kill();
            eprintln!("ferry-lab serve: kept {}", reg.root_dir().display());
            std::mem::forget(reg);
        } else {
            drop(reg);
        }
    }
    let _ = fs::remove_file(dir.join("registries.json"));
    if let Some(pf) = a.get("port-file") {
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
