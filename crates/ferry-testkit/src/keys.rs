//! Signing keys for tests, made by the real tools: gpg (OpenPGP, for simple signing) and
//! openssl (ECDSA P-256, for cosign).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs openssl with `args`; panics with its stderr when it fails.
pub fn openssl(args: &[&str]) -> std::process::Output {
    crate::ensure_tools();
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// An ECDSA P-256 key pair made by openssl in `dir`: (PKCS#8 private PEM `NAME.key`, SPKI
/// public PEM `NAME.pub`), the shape cosign's `import-key-pair` and ferry read.
pub fn p256_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let ec = dir.join(format!("{name}.ec.pem"));
    let key = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    let s = |p: &Path| p.display().to_string();
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        &s(&ec),
    ]);
    openssl(&[
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-in",
        &s(&ec),
        "-out",
        &s(&key),
    ]);
    openssl(&["ec", "-in", &s(&ec), "-pubout", "-out", &s(&public)]);
    (key, public)
}

/// A gpg key in a GNUPGHOME of its own under `dir`, its armored exports beside it. The
/// gpg agent of that home is stopped on drop.
#[derive(Debug)]
pub struct GpgKey {
    /// The GNUPGHOME holding the key (for `skopeo copy --sign-by`, `gpg --verify`).
    pub home: PathBuf,
    /// The key's fingerprint (40 hex digits, upper case).
    pub fingerprint: String,
    /// The armored secret key.
    pub secret: PathBuf,
    /// The armored public key.
    pub public: PathBuf,
}

impl GpgKey {
    /// Makes a key for `NAME <NAME@ferry.test>` protected by `pass` (empty: none), with a
    /// cheap key derivation for its export (each signing run decrypts it).
    pub fn new(dir: &Path, name: &str, pass: &str) -> GpgKey {
        crate::ensure_tools();
        let home = dir.join(format!("gnupg-{name}"));
        std::fs::create_dir_all(&home).expect("create GNUPGHOME");
        std::fs::write(home.join("gpg-agent.conf"), "s2k-count 65536\n").expect("agent conf");
        let gpg = |args: &[&str]| {
            let out = Command::new("gpg")
                .env("GNUPGHOME", &home)
                .args([
                    "--batch",
                    "--pinentry-mode",
                    "loopback",
                    "--passphrase",
                    pass,
                ])
                .args(args)
                .output()
                .expect("run gpg");
            assert!(
                out.status.success(),
                "gpg {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        };
        let uid = format!("{name} <{name}@ferry.test>");
        gpg(&["--quick-gen-key", &uid, "default", "default", "never"]);
        let listing = String::from_utf8(gpg(&["--with-colons", "--list-secret-keys"]))
            .expect("gpg listing is UTF-8");
        let fingerprint = listing
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .expect("a fingerprint in gpg's listing")
            .to_string();
        let secret = dir.join(format!("{name}.sec.asc"));
        let public = dir.join(format!("{name}.pub.asc"));
        std::fs::write(&secret, gpg(&["--armor", "--export-secret-keys", &uid])).expect("write");
        std::fs::write(&public, gpg(&["--armor", "--export", &uid])).expect("write");
        GpgKey {
            home,
            fingerprint,
            secret,
            public,
        }
    }

    /// The 16-hex long key id (the fingerprint's last 16 digits).
    pub fn key_id(&self) -> &str {
        &self.fingerprint[self.fingerprint.len() - 16..]
    }
}

impl Drop for GpgKey {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.home)
            .args(["--kill", "all"])
            .output();
    }
}
