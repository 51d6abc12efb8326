//! `signing:` in the target settings: the keys items may name in `dest_signing_key`.

use std::path::PathBuf;

use ferry_sign::Passphrase;
use serde::Deserialize;

/// One signing key of the settings:
/// `{key_id, key_file, passphrase_env | passphrase_file}`.
///
/// `key_id` is what items name in `dest_signing_key` (compared without regard to case):
/// an OpenPGP key's 16-hex-digit key ID (or its fingerprint), or, for an ECDSA key, any
/// hex name of 8 to 40 digits. The key file decides the format (an OpenPGP secret key:
/// simple signing into the lookaside; a PEM or cosign encrypted ECDSA P-256 key: a cosign
/// attachment). The passphrase, when the key has one, comes from an environment variable
/// or the first line of a file, never from the settings file itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningSettings {
    /// The key's ID, as items name it.
    pub key_id: String,
    /// The secret key file.
    pub key_file: PathBuf,
    /// Environment variable holding the key's passphrase.
    #[serde(default)]
    pub passphrase_env: Option<String>,
    /// File whose first line is the key's passphrase.
    #[serde(default)]
    pub passphrase_file: Option<PathBuf>,
}

impl SigningSettings {
    /// Whether `key` (an item's `dest_signing_key`) names this key.
    pub fn is_named_by(&self, key: &str) -> bool {
        self.key_id.eq_ignore_ascii_case(key.trim())
    }

    /// The passphrase, read from where the settings say (`None` when none is set). The
    /// error names the setting, never the passphrase.
    pub fn passphrase(&self) -> Result<Option<Passphrase>, String> {
        match (&self.passphrase_env, &self.passphrase_file) {
            (Some(var), _) => std::env::var(var)
                .map(|p| Some(Passphrase::new(p)))
                .map_err(|_| format!("passphrase_env: environment variable {var} is not set")),
            (None, Some(path)) => Passphrase::from_file(path)
                .map(Some)
                .map_err(|e| format!("passphrase_file: {e}")),
            (None, None) => Ok(None),
        }
    }
}

/// Checks the `signing:` entries: hex key IDs, each once, a key file, at most one
/// passphrase source. The error gives the entry's index when it is about one entry.
pub(super) fn validate_signing(entries: &[SigningSettings]) -> Result<(), (Option<usize>, String)> {
    for (i, e) in entries.iter().enumerate() {
        let err = |reason: String| Err((Some(i), reason));
        let id = e.key_id.trim();
        if !(8..=40).contains(&id.len()) || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return err(format!(
                "key_id {:?} is not a key ID (8 to 40 hex digits, e.g. 199e2f91fd431d51)",
                e.key_id
            ));
        }
        if e.key_file.as_os_str().is_empty() {
            return err("key_file is empty".into());
        }
        if e.passphrase_env.is_some() && e.passphrase_file.is_some() {
            return err("give at most one of passphrase_env and passphrase_file".into());
        }
        if e.passphrase_env.as_deref().is_some_and(str::is_empty) {
            return err("passphrase_env is empty".into());
        }
        if let Some(j) = entries[..i].iter().position(|o| o.is_named_by(id)) {
            return err(format!("key_id {id} is also entry {}", j + 1));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::TargetSettings;

    #[test]
    fn signing_entries_are_read_and_checked() {
        let s = TargetSettings::parse(
            "registry: quay.io\nsigning:\n  - {key_id: 199E2F91FD431D51, key_file: /k.asc, passphrase_env: PW}\n  - {key_id: 0011223344556677, key_file: /c.pem}\n",
        )
        .unwrap();
        assert_eq!(s.signing.len(), 2);
        assert!(s.signing[0].is_named_by("199e2f91fd431d51"));
        assert!(!s.signing[1].is_named_by("199e2f91fd431d51"));
        for (text, needle) in [
            (
                "signing: [{key_id: xyz, key_file: /k}]",
                "entry 1: key_id \"xyz\"",
            ),
            ("signing: [{key_id: 0011223344556677}]", "key_file"),
            (
                "signing: [{key_id: 0011223344556677, key_file: /k, passphrase_env: A, passphrase_file: /p}]",
                "at most one",
            ),
            (
                "signing: [{key_id: 0011223344556677, key_file: /k}, {key_id: 0011223344556677, key_file: /j}]",
                "entry 2: key_id 0011223344556677 is also entry 1",
            ),
            (
                "signing: [{key_id: 0011223344556677, key_file: /k, passphrase: x}]",
                "passphrase",
            ),
        ] {
            let text = format!("registry: quay.io\n{text}\n");
            let e = TargetSettings::parse(&text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
