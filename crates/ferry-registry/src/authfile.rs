//! Docker and containers auth files (`config.json`, `auth.json`): lookup, login, logout.
//!
//! Lookup honours, per file in order: `credHelpers` for the registry, an `auths` entry
//! (`auth` as base64 `user:password`, or `username` / `password`), then `credsStore`.
//! Keys are normalized: `https://index.docker.io/v1/`, `index.docker.io` and
//! `registry-1.docker.io` all mean `docker.io`; schemes and paths are dropped.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::{Client, ClientConfig, Credentials, RegistryError};

/// The auth files searched by default, in order: `$REGISTRY_AUTH_FILE`,
/// `$XDG_RUNTIME_DIR/containers/auth.json`, `$DOCKER_CONFIG/config.json`,
/// `~/.docker/config.json`.
pub fn default_paths() -> Vec<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let mut paths = Vec::new();
    if let Some(p) = env("REGISTRY_AUTH_FILE") {
        paths.push(p);
    }
    if let Some(d) = env("XDG_RUNTIME_DIR") {
        paths.push(d.join("containers/auth.json"));
    }
    if let Some(d) = env("DOCKER_CONFIG") {
        paths.push(d.join("config.json"));
    }
    if let Some(h) = env("HOME") {
        paths.push(h.join(".docker/config.json"));
    }
    paths
}

/// The registry host an auth-file key names: scheme, path and Docker Hub aliases removed.
pub fn normalize_key(key: &str) -> String {
    let k = key.trim();
    let k = k
        .strip_prefix("https://")
        .or_else(|| k.strip_prefix("http://"))
        .unwrap_or(k);
    let host = k.split('/').next().unwrap_or(k).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => host,
    }
}

fn file_error(
    path: &Path,
    detail: impl Into<String>,
    source: Option<std::io::Error>,
) -> RegistryError {
    RegistryError::AuthFile {
        path: path.to_path_buf(),
        detail: detail.into(),
        source,
    }
}

/// Reads an auth file as JSON; `None` when it does not exist.
fn read_json(path: &Path) -> Result<Option<Map<String, Value>>, RegistryError> {
    let text = match ferry_image::read_bounded(path, ferry_image::MAX_SETTINGS_FILE_SIZE) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(file_error(path, "cannot read", Some(e))),
    };
    parse_json(path, &text).map(Some)
}

/// Parses the bytes of the auth file at `path` (named in errors): a JSON object (after an
/// optional byte-order mark), or nothing but white space (no entries).
fn parse_json(path: &Path, text: &[u8]) -> Result<Map<String, Value>, RegistryError> {
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        // The parser's message may quote file content, which may be a secret: keep only
        // the position.
        Err(e) => Err(file_error(
            path,
            format!("not valid JSON (line {}, column {})", e.line(), e.column()),
            None,
        )),
        Ok(_) => Err(file_error(path, "not a JSON object", None)),
    }
}

/// Credentials of one `auths` entry.
fn entry_credentials(
    path: &Path,
    key: &str,
    entry: &Value,
) -> Result<Option<Credentials>, RegistryError> {
    let field = |name: &str| {
        entry
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(auth) = field("auth") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| file_error(path, format!("auths.{key:?}.auth is not base64"), None))?;
        let text = String::from_utf8(raw)
            .map_err(|_| file_error(path, format!("auths.{key:?}.auth is not UTF-8"), None))?;
        let (user, pass) = text
            .split_once(':')
            .ok_or_else(|| file_error(path, format!("auths.{key:?}.auth lacks a ':'"), None))?;
        return Ok(Some(Credentials::new(user, pass)));
    }
    if let (Some(u), Some(p)) = (field("username"), field("password")) {
        return Ok(Some(Credentials::new(u, p)));
    }
    if let Some(t) = field("identitytoken") {
        return Ok(Some(Credentials::new("<token>", t)));
    }
    Ok(None)
}

/// Reads auth-file bytes for `registry` from their `auths` entries only, running no
/// credential helper (a helper named for `registry` gives `None`): the fuzzing entry point.
#[doc(hidden)]
pub fn lookup_in_text(text: &[u8], registry: &str) -> Result<Option<Credentials>, RegistryError> {
    let path = Path::new("<text>");
    let json = parse_json(path, text)?;
    let wanted = normalize_key(registry);
    let helper = json
        .get("credHelpers")
        .and_then(Value::as_object)
        .is_some_and(|h| h.keys().any(|k| normalize_key(k) == wanted));
    if helper {
        return Ok(None);
    }
    let Some(auths) = json.get("auths").and_then(Value::as_object) else {
        return Ok(None);
    };
    match auths
        .iter()
        .find(|(k, _)| k.as_str() == registry || normalize_key(k) == wanted)
    {
        Some((key, entry)) => entry_credentials(path, key, entry),
        None => Ok(None),
    }
}

/// Looks up credentials for `registry` in `paths`, first match wins.
pub fn lookup(paths: &[PathBuf], registry: &str) -> Result<Option<Credentials>, RegistryError> {
    let wanted = normalize_key(registry);
    for path in paths {
        let Some(json) = read_json(path)? else {
            continue;
        };
        if let Some(helpers) = json.get("credHelpers").and_then(Value::as_object)
            && let Some(helper) = helpers
                .iter()
                .find(|(k, _)| normalize_key(k) == wanted)
                .and_then(|(_, v)| v.as_str())
        {
            return run_helper(helper, registry);
        }
        if let Some(auths) = json.get("auths").and_then(Value::as_object) {
            // An exact key first, then any key naming the same host.
            let found = auths.get(registry).map(|v| (registry, v)).or_else(|| {
                auths
                    .iter()
                    .find(|(k, _)| normalize_key(k) == wanted)
                    .map(|(k, v)| (k.as_str(), v))
            });
            if let Some((key, entry)) = found
                && let Some(c) = entry_credentials(path, key, entry)?
            {
                return Ok(Some(c));
            }
        }
        if let Some(store) = json.get("credsStore").and_then(Value::as_str)
            && let Some(c) = run_helper(store, registry)?
        {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// The server name a credential helper knows `registry` by.
fn helper_server(registry: &str) -> &str {
    if normalize_key(registry) == "docker.io" {
        "https://index.docker.io/v1/"
    } else {
        registry
    }
}

/// Runs `docker-credential-<helper> <action>` with `input` on its stdin.
fn call_helper(
    helper: &str,
    action: &str,
    input: &[u8],
) -> Result<std::process::Output, RegistryError> {
    let err = |detail: String| RegistryError::CredentialHelper {
        helper: helper.to_string(),
        detail,
    };
    if helper.is_empty() || helper.contains(['/', '\\']) {
        return Err(err("invalid helper name".into()));
    }
    let mut child = Command::new(format!("docker-credential-{helper}"))
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(format!("cannot run: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading closes the pipe: its exit status tells.
        let _ = stdin.write_all(input);
    }
    child
        .wait_with_output()
        .map_err(|e| err(format!("cannot run: {e}")))
}

/// The credential helper `json` names for `registry` (`credHelpers`, else `credsStore`).
fn helper_for(json: &Map<String, Value>, registry: &str) -> Option<String> {
    let wanted = normalize_key(registry);
    json.get("credHelpers")
        .and_then(Value::as_object)
        .and_then(|h| h.iter().find(|(k, _)| normalize_key(k) == wanted))
        .and_then(|(_, v)| v.as_str())
        .or_else(|| json.get("credsStore").and_then(Value::as_str))
        .filter(|h| !h.is_empty())
        .map(str::to_string)
}

/// Runs `docker-credential-<helper> store` or `erase` for `registry`; `erase` of absent
/// credentials is `false`.
fn helper_write(
    helper: &str,
    registry: &str,
    creds: Option<&Credentials>,
) -> Result<bool, RegistryError> {
    let server = helper_server(registry);
    let (action, input) = match creds {
        Some(c) => (
            "store",
            serde_json::json!({"ServerURL": server, "Username": c.username, "Secret": c.password()})
                .to_string(),
        ),
        None => ("erase", server.to_string()),
    };
    let out = call_helper(helper, action, input.as_bytes())?;
    if out.status.success() {
        return Ok(true);
    }
    if creds.is_none() && String::from_utf8_lossy(&out.stdout).contains("credentials not found") {
        return Ok(false);
    }
    Err(RegistryError::CredentialHelper {
        helper: helper.to_string(),
        detail: format!("{action} exited with {}", out.status),
    })
}

/// Runs `docker-credential-<helper> get` for `registry`.
fn run_helper(helper: &str, registry: &str) -> Result<Option<Credentials>, RegistryError> {
    let err = |detail: String| RegistryError::CredentialHelper {
        helper: helper.to_string(),
        detail,
    };
    let out = call_helper(helper, "get", helper_server(registry).as_bytes())?;
    if !out.status.success() {
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stdout.contains("credentials not found") {
            return Ok(None);
        }
        return Err(err(format!("exited with {}", out.status)));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let a: Answer = serde_json::from_slice(&out.stdout)
        .map_err(|_| err("answered something other than {Username, Secret} JSON".into()))?;
    if a.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credentials::new(a.username, a.secret)))
}

/// Writes `json` to `path` atomically (a temporary file renamed over it), mode 0600.
fn write_atomic(path: &Path, json: &Map<String, Value>) -> Result<(), RegistryError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| file_error(path, "cannot create its directory", Some(e)))?;
    let mut text = serde_json::to_vec_pretty(json)
        .map_err(|e| file_error(path, format!("cannot serialize: {e}"), None))?;
    text.push(b'\n');
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("auth.json");
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(file_error(path, "cannot write", Some(e)));
    }
    Ok(())
}

/// The file `login` and `logout` write: `explicit` when given, else the first of
/// [`default_paths`], the first file lookup reads, so a login always wins over older
/// credentials further down the list. `None` when there is no candidate (no `HOME`).
pub fn write_path(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => default_paths().into_iter().next(),
    }
}

/// Checks `creds` against `registry`'s API (`GET /v2/`, authenticating when asked) with
/// `config`'s TLS settings: wrong credentials fail here. No auth file is read and no other
/// credentials are used: what is checked is what a login would store.
pub async fn verify_login(
    mut config: ClientConfig,
    registry: &str,
    creds: &Credentials,
) -> Result<(), RegistryError> {
    config.auth_file = None;
    config.credentials.clear();
    config
        .credentials
        .insert(registry.to_string(), creds.clone());
    Client::new(config)?.ping(registry).await
}

/// Stores credentials for `registry` (login): keeps other entries and unknown fields;
/// replaces an entry naming the same host under another spelling.
///
/// When the file names a credential helper for `registry` (`credHelpers`, `credsStore`),
/// the helper stores them (`docker-credential-NAME store`) and the file is left alone.
pub fn store(path: &Path, registry: &str, creds: &Credentials) -> Result<(), RegistryError> {
    let mut json = read_json(path)?.unwrap_or_default();
    if let Some(helper) = helper_for(&json, registry) {
        return helper_write(&helper, registry, Some(creds)).map(|_| ());
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        creds.username,
        creds.password()
    ));
    let slot = json
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    match slot {
        Value::Object(auths) => set_auth(auths, registry, encoded),
        other => {
            let mut auths = Map::new();
            set_auth(&mut auths, registry, encoded);
            *other = Value::Object(auths);
        }
    }
    write_atomic(path, &json)
}

/// Sets the `auth` of `registry` in an `auths` map, reusing a key naming the same host.
fn set_auth(auths: &mut Map<String, Value>, registry: &str, encoded: String) {
    let wanted = normalize_key(registry);
    let key = auths
        .keys()
        .find(|k| normalize_key(k) == wanted)
        .cloned()
        .unwrap_or_else(|| registry.to_string());
    let mut entry = match auths.get(&key) {
        Some(Value::Object(e)) => e.clone(),
        _ => Map::new(),
    };
    entry.remove("username");
    entry.remove("password");
    entry.remove("identitytoken");
    entry.insert("auth".into(), Value::String(encoded));
    auths.insert(key, Value::Object(entry));
}

/// Removes the credentials of `registry` (logout); `false` when there were none. A
/// credential helper the file names for `registry` erases its copy too.
pub fn remove(path: &Path, registry: &str) -> Result<bool, RegistryError> {
    let Some(mut json) = read_json(path)? else {
        return Ok(false);
    };
    let erased = match helper_for(&json, registry) {
        Some(helper) => helper_write(&helper, registry, None)?,
        None => false,
    };
    let wanted = normalize_key(registry);
    let removed = match json.get_mut("auths").and_then(Value::as_object_mut) {
        Some(auths) => {
            let before = auths.len();
            auths.retain(|k, _| normalize_key(k) != wanted);
            before != auths.len()
        }
        None => false,
    };
    if removed {
        write_atomic(path, &json)?;
    }
    Ok(removed || erased)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_writes_the_explicit_file_or_the_first_default() {
        let explicit = Path::new("/tmp/auth.json");
        assert_eq!(write_path(Some(explicit)), Some(explicit.to_path_buf()));
        assert_eq!(write_path(None), default_paths().into_iter().next());
    }

    #[test]
    fn auth_files_are_bounded_and_may_start_with_a_bom() {
        let e = read_json(Path::new("/dev/zero")).unwrap_err();
        let chain = format!(
            "{e}: {}",
            std::error::Error::source(&e)
                .map(|s| s.to_string())
                .unwrap_or_default()
        );
        assert!(
            chain.contains("/dev/zero") && chain.contains("limit of 1 MiB"),
            "{chain}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        std::fs::write(&path, "\u{feff}{\"auths\": {}}").unwrap();
        assert!(read_json(&path).unwrap().unwrap().contains_key("auths"));
    }

    #[test]
    fn normalizes_keys() {
        assert_eq!(normalize_key("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalize_key("docker.io"), "docker.io");
        assert_eq!(normalize_key("registry-1.docker.io"), "docker.io");
        assert_eq!(normalize_key("http://127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(normalize_key("quay.io/ns"), "quay.io");
    }

    #[test]
    fn lookup_store_remove() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        let b = dir.path().join("sub/b.json");
        std::fs::write(
            &a,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dXNlcjpwYTpzcw=="},
                "quay.io":{"username":"q","password":"qp"}},"HttpHeaders":{"X":"y"}}"#,
        )
        .unwrap();
        let paths = vec![b.clone(), a.clone()];
        let c = lookup(&paths, "docker.io").unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.password()), ("user", "pa:ss"));
        let c = lookup(&paths, "quay.io").unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.password()), ("q", "qp"));
        assert!(lookup(&paths, "127.0.0.1:5000").unwrap().is_none());

        // Login writes the new file, 0600, and keeps what was there.
        store(&b, "127.0.0.1:5000", &Credentials::new("me", "pw")).unwrap();
        store(&a, "docker.io", &Credentials::new("new", "np")).unwrap();
        let c = lookup(&paths, "127.0.0.1:5000").unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.password()), ("me", "pw"));
        let c = lookup(std::slice::from_ref(&a), "index.docker.io")
            .unwrap()
            .unwrap();
        assert_eq!(c.username, "new");
        let text = std::fs::read_to_string(&a).unwrap();
        assert!(text.contains("HttpHeaders") && text.contains("https://index.docker.io/v1/"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&b).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        assert!(remove(&a, "docker.io").unwrap());
        assert!(!remove(&a, "docker.io").unwrap());
        assert!(
            lookup(std::slice::from_ref(&a), "docker.io")
                .unwrap()
                .is_none()
        );
        assert!(
            lookup(std::slice::from_ref(&a), "quay.io")
                .unwrap()
                .is_some()
        );
        assert!(!remove(&dir.path().join("missing.json"), "x").unwrap());
    }

    #[test]
    fn bad_files_do_not_leak_content() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        std::fs::write(&a, r#"{"auths":{"x":{"auth":"s3cret!!"}}"#).unwrap();
        let e = lookup(std::slice::from_ref(&a), "x")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret"), "{e}");
        std::fs::write(&a, r#"{"auths":{"x":{"auth":"@@@s3cret"}}}"#).unwrap();
        let e = lookup(&[a], "x").unwrap_err().to_string();
        assert!(!e.contains("s3cret"), "{e}");
    }

    #[test]
    fn credential_helper_missing_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        std::fs::write(&a, r#"{"credHelpers":{"r.example":"ferry-test-none"}}"#).unwrap();
        let e = lookup(&[a], "r.example").unwrap_err();
        assert!(matches!(e, RegistryError::CredentialHelper { .. }), "{e}");
    }

    #[test]
    fn text_lookup_reads_as_a_file_is_read_and_runs_no_helper() {
        let text = br#"{"auths":{"quay.io":{"auth":"cTpxcA=="}},
            "credHelpers":{"r.example":"ferry-test-none"},"credsStore":"ferry-test-none"}"#;
        let c = lookup_in_text(text, "quay.io").unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.password()), ("q", "qp"));
        assert!(lookup_in_text(text, "r.example").unwrap().is_none());
        assert!(lookup_in_text(text, "docker.io").unwrap().is_none());
        assert!(lookup_in_text(b" \n", "quay.io").unwrap().is_none());
        assert!(lookup_in_text(b"[]", "quay.io").is_err());
    }
}
