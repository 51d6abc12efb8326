//! Locating (and if needed installing) the external tools the kit drives.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

/// The binaries every test registry or skopeo helper needs.
pub const TOOLS: &[&str] = &[
    "docker-registry",
    "skopeo",
    "htpasswd",
    "openssl",
    "gpg",
    "gpgconf",
];

/// Returns true when `name` is an executable file in one of the `PATH` directories.
pub fn on_path(name: &str) -> bool {
    find_on_path(name).is_some()
}

/// Full path of `name` found on `PATH`, if any.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn missing_tools() -> Vec<&'static str> {
    TOOLS.iter().copied().filter(|t| !on_path(t)).collect()
}

/// Path of `scripts/ensure-tools.sh` at the workspace root.
pub fn ensure_tools_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/ensure-tools.sh")
}

/// Makes sure `docker-registry`, `skopeo`, `htpasswd`, `openssl` and `gpg` are installed.
///
/// When one is missing, runs `scripts/ensure-tools.sh` (apt-get) once per process.
///
/// # Panics
/// When a tool is still missing afterwards, with the script's output in the message.
pub fn ensure_tools() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if missing_tools().is_empty() {
            return;
        }
        let script = ensure_tools_script();
        match Command::new("bash").arg(&script).output() {
            Ok(out) if !out.status.success() => eprintln!(
                "ferry-testkit: {} failed ({}):\n{}{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            Ok(_) => {}
            Err(e) => eprintln!("ferry-testkit: cannot run {}: {e}", script.display()),
        }
    });
    let missing = missing_tools();
    assert!(
        missing.is_empty(),
        "ferry-testkit: required tools missing: {missing:?}; run scripts/ensure-tools.sh \
         (apt-get install docker-registry skopeo apache2-utils openssl gnupg) and retry"
    );
}
