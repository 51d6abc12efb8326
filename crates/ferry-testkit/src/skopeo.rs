//! skopeo as the independent reference client.
//!
//! Every invocation gets a private `--policy` (insecureAcceptAnything), an empty
//! `--registries-conf` and an empty auth file (`REGISTRY_AUTH_FILE`), so the machine's
//! `/etc/containers` and any logged-in credentials never matter.
//!
//! Blob-info cache: as root, skopeo always uses
//! `/var/lib/containers/cache/blob-info-cache-v1.boltdb` (there is no flag or variable to
//! move it). It only makes skopeo *try* mounts or HEADs for blobs it saw before on the same
//! `host:port`; failures fall back to uploads, so results are unaffected, but request counts
//! of skopeo copies can be. Call [`clear_blob_info_cache`] before counting skopeo's requests.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::Registry;
use crate::images::{self, TestImage};

/// The root-user location of skopeo's blob-info cache.
pub const ROOT_BLOB_INFO_CACHE: &str = "/var/lib/containers/cache/blob-info-cache-v1.boltdb";

struct Conf {
    policy: PathBuf,
    registries: PathBuf,
    auth: PathBuf,
}

fn conf() -> &'static Conf {
    static CONF: OnceLock<Conf> = OnceLock::new();
    CONF.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("ferry-testkit-skopeo-")
            .tempdir()
            .expect("skopeo conf dir")
            .keep();
        let policy = dir.join("policy.json");
        std::fs::write(
            &policy,
            br#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
        )
        .expect("write policy.json");
        let registries = dir.join("registries.conf");
        std::fs::write(&registries, b"").expect("write registries.conf");
        let auth = dir.join("auth.json");
        std::fs::write(&auth, br#"{"auths":{}}"#).expect("write auth.json");
        Conf {
            policy,
            registries,
            auth,
        }
    })
}

/// Runs `skopeo --policy P --registries-conf R ARGS...` and returns its output.
pub fn skopeo(args: &[&str]) -> Output {
    crate::ensure_tools();
    let c = conf();
    Command::new("skopeo")
        .arg("--policy")
        .arg(&c.policy)
        .arg("--registries-conf")
        .arg(&c.registries)
        .args(args)
        .env("REGISTRY_AUTH_FILE", &c.auth)
        .output()
        .expect("run skopeo")
}

/// Runs skopeo and panics (with the command line and stderr) unless it succeeds.
pub fn skopeo_ok(args: &[&str]) -> Output {
    let out = skopeo(args);
    assert!(
        out.status.success(),
        "skopeo {} failed ({}):\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn with_strings<'a>(strings: &'a [String], rest: &[&'a str]) -> Vec<&'a str> {
    strings
        .iter()
        .map(String::as_str)
        .chain(rest.iter().copied())
        .collect()
}

/// Exact manifest bytes of `reference` (`repo:tag` or `repo@digest`) in `reg`
/// (`skopeo inspect --raw`).
pub fn inspect_raw(reg: &Registry, reference: &str) -> Vec<u8> {
    let tls = reg.skopeo_tls_args();
    let target = reg.docker_ref(reference);
    let mut args = vec!["inspect", "--raw"];
    args.extend(with_strings(&tls, &[&target]));
    skopeo_ok(&args).stdout
}

/// Like [`inspect_raw`] but returns the failed output instead of panicking.
pub fn try_inspect_raw(reg: &Registry, reference: &str) -> Output {
    let tls = reg.skopeo_tls_args();
    let target = reg.docker_ref(reference);
    let mut args = vec!["inspect", "--raw"];
    args.extend(with_strings(&tls, &[&target]));
    skopeo(&args)
}

/// Tags of `repo` in `reg` (`skopeo list-tags`).
pub fn list_tags(reg: &Registry, repo: &str) -> Vec<String> {
    let tls = reg.skopeo_tls_args();
    let target = reg.docker_ref(repo);
    let mut args = vec!["list-tags"];
    args.extend(with_strings(&tls, &[&target]));
    let out = skopeo_ok(&args);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("list-tags JSON");
    v["Tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `skopeo copy EXTRA... SRC DEST`, panicking with stderr on failure. Pass
/// [`Registry::src_args`] / [`Registry::dest_args`] in `extra` for TLS and credentials.
pub fn copy(src: &str, dest: &str, extra: &[&str]) -> Output {
    let mut args = vec!["copy"];
    args.extend_from_slice(extra);
    args.push(src);
    args.push(dest);
    skopeo_ok(&args)
}

/// Copies between two registries (or within one) with the right flags for both sides.
pub fn copy_between(
    src: &Registry,
    src_ref: &str,
    dest: &Registry,
    dest_ref: &str,
    extra: &[&str],
) -> Output {
    let flags: Vec<String> = src.src_args().into_iter().chain(dest.dest_args()).collect();
    let mut all = with_strings(&flags, extra);
    all.retain(|s| !s.is_empty());
    copy(&src.docker_ref(src_ref), &dest.docker_ref(dest_ref), &all)
}

/// Stores a signed Docker schema 1 manifest at `repo:tag`: pushes `img` (a Docker schema 2
/// image) by digest, then converts it with `skopeo copy --format v2s1`. Returns the schema 1
/// bytes as the registry serves them.
pub fn push_schema1(reg: &Registry, repo: &str, tag: &str, img: &TestImage) -> Vec<u8> {
    images::push_image(reg, repo, None, img);
    copy_between(
        reg,
        &format!("{repo}@{}", img.digest),
        reg,
        &format!("{repo}:{tag}"),
        &["--format", "v2s1"],
    );
    inspect_raw(reg, &format!("{repo}:{tag}"))
}

/// Deletes skopeo's root blob-info cache (see the module docs). Harmless if absent.
pub fn clear_blob_info_cache() {
    let _ = std::fs::remove_file(ROOT_BLOB_INFO_CACHE);
}

/// The signed payload of a Docker schema 1 manifest (the JWS payload: the bytes without the
/// `signatures`, rebuilt from `formatLength` / `formatTail`). Its sha256 is the manifest digest.
///
/// distribution 2.8 re-signs schema 1 manifests with its own key on every GET, so the served
/// bytes differ between requests; compare this payload (or [`schema1_digest`]) instead.
pub fn schema1_payload(bytes: &[u8]) -> Vec<u8> {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let v: serde_json::Value = serde_json::from_slice(bytes).expect("schema 1 JSON");
    let protected = v["signatures"][0]["protected"]
        .as_str()
        .expect("schema 1 manifest without a signature");
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(protected.trim_end_matches('='))
            .expect("protected header base64"),
    )
    .expect("protected header JSON");
    let len = header["formatLength"].as_u64().expect("formatLength") as usize;
    let tail = URL_SAFE_NO_PAD
        .decode(header["formatTail"].as_str().expect("formatTail"))
        .expect("formatTail base64");
    let mut payload = bytes[..len].to_vec();
    payload.extend_from_slice(&tail);
    payload
}

/// `sha256:` digest of a schema 1 manifest (over [`schema1_payload`]).
pub fn schema1_digest(bytes: &[u8]) -> String {
    images::digest_of(&schema1_payload(bytes))
}
