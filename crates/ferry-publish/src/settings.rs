//! Target settings of `ferry push --target FILE`: where and how items are pushed.
//!
//! Two shapes are read: ferry's own keys (`registry`, `namespace`, ...), and
//! pubtools-quay's target settings as pub passes them (`quay_host`, `quay_namespace`,
//! `dest_quay_user`, ...; see [`pubtools`] and docs/settings.md for the mapping).

mod pubtools;
mod signing;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use signing::SigningSettings;
use signing::validate_signing;

/// How a repository path maps to the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoLayout {
    /// `product/app` stays `product/app`.
    #[default]
    Nested,
    /// `product/app` becomes `product----app` (Quay organisation layout).
    Flat,
}

/// What a multi-arch push does to a destination tag that holds a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MultiArch {
    /// Keep the destination's platforms that the source lacks.
    #[default]
    Merge,
    /// Replace the destination list with the source list.
    Overwrite,
}

/// Where a password comes from: an environment variable or a file; in ferry's own format
/// never the settings file itself. A pubtools-quay settings file may hold the password
/// inline (`dest_quay_password`), which is kept here without ever being shown.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialSettings {
    /// User name.
    pub username: String,
    /// Environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the password (a trailing newline is dropped).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// The password written in a pubtools-quay settings file; never Debug-printed.
    #[serde(skip)]
    inline_password: Option<String>,
}

impl std::fmt::Debug for CredentialSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSettings")
            .field("username", &self.username)
            .field("password_env", &self.password_env)
            .field("password_file", &self.password_file)
            .field(
                "inline_password",
                &self.inline_password.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl CredentialSettings {
    /// Credentials whose password is read from the environment variable `var`.
    pub fn from_env(username: impl Into<String>, var: impl Into<String>) -> Self {
        CredentialSettings {
            username: username.into(),
            password_env: Some(var.into()),
            password_file: None,
            inline_password: None,
        }
    }

    /// Credentials whose password is read from `path`.
    pub fn from_file(username: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        CredentialSettings {
            username: username.into(),
            password_env: None,
            password_file: Some(path.into()),
            inline_password: None,
        }
    }

    /// Whether the password was written in the settings file (pubtools-quay's
    /// `*_quay_password`).
    pub fn is_inline(&self) -> bool {
        self.inline_password.is_some()
    }

    /// How many places the password is said to come from (exactly one is valid).
    fn password_sources(&self) -> usize {
        usize::from(self.password_env.is_some())
            + usize::from(self.password_file.is_some())
            + usize::from(self.inline_password.is_some())
    }

    /// Reads the password from where the settings say; errors name the setting, never the
    /// password.
    pub fn resolve(&self, field: &str) -> Result<(String, String), SettingsError> {
        let bad = |reason: String| SettingsError::Invalid {
            field: field.to_string(),
            reason,
        };
        if self.password_sources() != 1 {
            return Err(bad(
                "give exactly one of password_env or password_file".into()
            ));
        }
        let password = match (
            &self.password_env,
            &self.password_file,
            &self.inline_password,
        ) {
            (Some(var), _, _) => std::env::var(var)
                .map_err(|_| bad(format!("environment variable {var} is not set")))?,
            (_, Some(path), _) => {
                ferry_image::read_bounded_text(path, ferry_image::MAX_SETTINGS_FILE_SIZE)
                    .map_err(|e| bad(format!("password file {}: {e}", path.display())))?
                    .trim_end_matches(['\n', '\r'])
                    .to_string()
            }
            (_, _, Some(inline)) => inline.clone(),
            (None, None, None) => {
                return Err(bad(
                    "give exactly one of password_env or password_file".into()
                ));
            }
        };
        if password.is_empty() {
            return Err(bad("the password is empty".into()));
        }
        Ok((self.username.clone(), password))
    }
}

fn default_retries() -> u32 {
    4
}

fn default_wait() -> String {
    "10s".into()
}

fn default_jobs() -> usize {
    8
}

/// The settings file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSettings {
    registry: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    repo_layout: RepoLayout,
    #[serde(default)]
    multiarch: MultiArch,
    #[serde(default = "default_retries")]
    tag_retries: u32,
    #[serde(default = "default_wait")]
    retry_wait: String,
    #[serde(default = "default_jobs")]
    jobs: usize,
    #[serde(default)]
    source_credentials: Option<CredentialSettings>,
    #[serde(default)]
    dest_credentials: Option<CredentialSettings>,
    #[serde(default)]
    signing: Vec<SigningSettings>,
}

/// Validated target settings.
#[derive(Debug, Clone)]
pub struct TargetSettings {
    /// Destination registry host\[:port\].
    pub registry: String,
    /// Prefix of every destination repository.
    pub namespace: Option<String>,
    /// Repository layout.
    pub repo_layout: RepoLayout,
    /// Multi-arch policy.
    pub multiarch: MultiArch,
    /// Attempts per destination tag (1 to 100).
    pub tag_retries: u32,
    /// The wait grows by this much each attempt (capped at two minutes).
    pub retry_wait: Duration,
    /// Concurrent transfers.
    pub jobs: usize,
    /// Credentials for the source registries (see [`source_credentials_for`](Self::source_credentials_for)).
    pub source_credentials: Option<CredentialSettings>,
    /// The only source host the source credentials apply to (pubtools-quay's
    /// `source_quay_host`); `None`: every source host.
    pub source_credentials_host: Option<String>,
    /// Credentials for the destination registry.
    pub dest_credentials: Option<CredentialSettings>,
    /// The public registries a signature's identity names (pubtools-quay's
    /// `docker_settings.docker_reference_registry`), in their order; empty when not given.
    pub reference_registries: Vec<String>,
    /// The signing keys items may name in `dest_signing_key` (`signing:`).
    pub signing: Vec<SigningSettings>,
    /// The shape the settings were written in.
    pub format: SettingsFormat,
    /// Keys of the file that ferry accepts but does not use (pubtools-quay's settings for
    /// services ferry does not talk to: `pyxis_server`, `iib_server`, `docker_settings.umb_urls`,
    /// ...), in file order, nested keys as `parent.key`: for the caller to log once.
    pub unused_keys: Vec<String>,
    /// Warnings about the file (an inline password), for the caller to show; the library
    /// prints nothing. They never contain a secret.
    pub warnings: Vec<String>,
}

/// The shape a settings file was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SettingsFormat {
    /// ferry's own keys.
    #[default]
    Ferry,
    /// pubtools-quay's target settings (`quay_host`, `quay_namespace`, ...), possibly with
    /// some of ferry's keys beside them.
    PubtoolsQuay,
}

/// A settings file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The file could not be read.
    #[error("settings file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not YAML of the expected shape (unknown field, wrong type, missing registry).
    #[error("settings file {path}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// What the parser said.
        reason: String,
    },
    /// A key of the file that is unknown, missing, of the wrong type or with a value that
    /// cannot be used.
    #[error("settings file {path}: key {key}: {reason}")]
    Key {
        /// The file.
        path: String,
        /// The key as written in the file (`parent.key` when nested).
        key: String,
        /// Why.
        reason: String,
    },
    /// A field with a value that cannot be used.
    #[error("settings field {field}: {reason}")]
    Invalid {
        /// The field.
        field: String,
        /// Why.
        reason: String,
    },
}

/// Parses `10s`, `500ms`, `2m`, `1h` or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 10s, 500ms or 2m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use ms, s, m or h)")),
    };
    if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl TargetSettings {
    /// Reads and validates a settings file: ferry's own keys, or pubtools-quay's target
    /// settings (JSON or YAML) when the file has any of pubtools-quay's keys. Errors name
    /// the file and the key.
    pub fn load(path: &Path) -> Result<TargetSettings, SettingsError> {
        let shown = path.display().to_string();
        let limit = ferry_image::MAX_SETTINGS_FILE_SIZE;
        let text =
            ferry_image::read_bounded_text(path, limit).map_err(|source| SettingsError::Read {
                path: shown.clone(),
                source,
            })?;
        TargetSettings::parse_named(&text, &shown)
    }

    /// Parses and validates settings text (YAML; JSON is YAML too); errors say `<text>`
    /// where [`load`](Self::load) names the file.
    pub fn parse(text: &str) -> Result<TargetSettings, SettingsError> {
        TargetSettings::parse_named(text, "<text>")
    }

    fn parse_named(text: &str, path: &str) -> Result<TargetSettings, SettingsError> {
        let text = ferry_image::strip_bom(text);
        ferry_image::check_nesting(text, ferry_image::MAX_TEXT_NESTING).map_err(|reason| {
            SettingsError::Parse {
                path: path.to_string(),
                reason,
            }
        })?;
        // JSON is read as JSON (YAML would refuse its tab indentation), the rest as YAML.
        let is_json = text.trim_start().starts_with('{');
        let value = if is_json {
            serde_json::from_str::<serde_json::Value>(text).map_err(|e| e.to_string())
        } else {
            serde_norway::from_str::<serde_json::Value>(text).map_err(|e| e.to_string())
        };
        if let Ok(serde_json::Value::Object(map)) = &value
            && pubtools::is_pubtools(map)
        {
            return pubtools::parse(map, path);
        }
        // YAML reads `registry: 5000` as a number, which the string field would take as
        // the host "5000": refuse it, as the push items refuse numbers for strings.
        if let Ok(serde_json::Value::Object(map)) = &value {
            for key in ["registry", "namespace"] {
                if let Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) =
                    map.get(key)
                {
                    return Err(SettingsError::Key {
                        path: path.to_string(),
                        key: key.to_string(),
                        reason: format!("expected a string, found {v} (quote it)"),
                    });
                }
            }
        }
        let parse_error = |reason: String| SettingsError::Parse {
            path: path.to_string(),
            reason,
        };
        let raw: RawSettings = if is_json {
            serde_json::from_str(text).map_err(|e| parse_error(e.to_string()))?
        } else {
            serde_norway::from_str(text).map_err(|e| parse_error(e.to_string()))?
        };
        let names = |field: &str| field.to_string();
        TargetSettings::from_raw(raw, &names).map_err(|(key, reason)| SettingsError::Key {
            path: path.to_string(),
            key,
            reason,
        })
    }

    /// Validates settings in ferry's terms; an error gives the key, as `key_of` names it in
    /// the file, and the reason.
    fn from_raw(
        raw: RawSettings,
        key_of: &dyn Fn(&str) -> String,
    ) -> Result<TargetSettings, (String, String)> {
        let invalid = |field: &str, reason: String| (key_of(field), reason);
        ferry_image::validate_host(&raw.registry).map_err(|_| {
            invalid(
                "registry",
                format!("{:?} is not a registry host[:port]", raw.registry),
            )
        })?;
        let namespace = match raw.namespace.as_deref().map(|n| n.trim_matches('/')) {
            None | Some("") => None,
            Some(ns) => {
                ferry_image::validate_repository(ns).map_err(|e| {
                    invalid("namespace", format!("{ns:?} is not a repository path: {e}"))
                })?;
                Some(ns.to_string())
            }
        };
        if !(1..=100).contains(&raw.tag_retries) {
            return Err(invalid(
                "tag_retries",
                format!("{} is not within 1..=100", raw.tag_retries),
            ));
        }
        if !(1..=256).contains(&raw.jobs) {
            return Err(invalid(
                "jobs",
                format!("{} is not within 1..=256", raw.jobs),
            ));
        }
        let retry_wait = parse_duration(&raw.retry_wait).map_err(|r| invalid("retry_wait", r))?;
        for (field, c) in [
            ("source_credentials", &raw.source_credentials),
            ("dest_credentials", &raw.dest_credentials),
        ] {
            if let Some(c) = c {
                if c.username.is_empty() {
                    return Err(invalid(field, "empty username".into()));
                }
                if c.password_sources() != 1 {
                    return Err(invalid(
                        field,
                        "give exactly one of password_env or password_file".into(),
                    ));
                }
            }
        }
        validate_signing(&raw.signing).map_err(|(i, reason)| {
            invalid(
                "signing",
                match i {
                    Some(i) => format!("entry {}: {reason}", i + 1),
                    None => reason,
                },
            )
        })?;
        Ok(TargetSettings {
            registry: raw.registry,
            namespace,
            repo_layout: raw.repo_layout,
            multiarch: raw.multiarch,
            tag_retries: raw.tag_retries,
            retry_wait,
            jobs: raw.jobs,
            source_credentials: raw.source_credentials,
            source_credentials_host: None,
            dest_credentials: raw.dest_credentials,
            signing: raw.signing,
            reference_registries: Vec::new(),
            format: SettingsFormat::Ferry,
            unused_keys: Vec::new(),
            warnings: Vec::new(),
        })
    }

    /// The source credentials to use for `host`: none when the settings name another
    /// source host (`source_quay_host`).
    pub fn source_credentials_for(&self, host: &str) -> Option<&CredentialSettings> {
        match &self.source_credentials_host {
            Some(only) if only != host => None,
            _ => self.source_credentials.as_ref(),
        }
    }

    /// The destination repository for an item's `REPO`: namespaced, flattened when the
    /// layout is flat.
    pub fn destination_repository(&self, repo: &str) -> String {
        let repo = repo.trim_matches('/');
        let repo = match self.repo_layout {
            RepoLayout::Nested => repo.to_string(),
            RepoLayout::Flat => repo.replace('/', "----"),
        };
        match &self.namespace {
            Some(ns) => format!("{ns}/{repo}"),
            None => repo,
        }
    }
}

#[cfg(test)]
mod pubtools_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_settings() {
        let s = TargetSettings::parse(
            "registry: quay.io\nnamespace: my-org\nrepo_layout: flat\nmultiarch: overwrite\ntag_retries: 2\nretry_wait: 500ms\njobs: 4\ndest_credentials: {username: u, password_env: X}\n",
        )
        .unwrap();
        assert_eq!(s.registry, "quay.io");
        assert_eq!(
            s.destination_repository("product/app"),
            "my-org/product----app"
        );
        assert_eq!(s.multiarch, MultiArch::Overwrite);
        assert_eq!(s.retry_wait, Duration::from_millis(500));
        let d = TargetSettings::parse("registry: 127.0.0.1:5000\n").unwrap();
        assert_eq!(d.destination_repository("product/app"), "product/app");
        assert_eq!(d.tag_retries, 4);
        assert_eq!(d.multiarch, MultiArch::Merge);
    }

    #[test]
    fn refuses_bad_settings() {
        for (text, needle) in [
            ("namespace: x\n", "registry"),
            ("registry: quay.io\nregistyr: x\n", "registyr"),
            ("registry: 'bad host'\n", "registry"),
            ("registry: quay.io\nnamespace: Bad/NS\n", "namespace"),
            ("registry: quay.io\nrepo_layout: wide\n", "repo_layout"),
            ("registry: quay.io\ntag_retries: 0\n", "tag_retries"),
            (
                "registry: quay.io\ntag_retries: 4000000000\n",
                "tag_retries",
            ),
            ("registry: quay.io\nretry_wait: soon\n", "retry_wait"),
            ("registry: quay.io\njobs: 0\n", "jobs"),
            (
                "registry: quay.io\ndest_credentials: {username: u}\n",
                "dest_credentials",
            ),
            (
                "registry: quay.io\ndest_credentials: {username: u, password: p}\n",
                "password",
            ),
            ("- a\n- b\n", "invalid type"),
            (
                "registry: 5000\n",
                "key registry: expected a string, found 5000",
            ),
            (
                "registry: quay.io\nnamespace: 12\n",
                "key namespace: expected a string",
            ),
            ("registry: quay.io\nregistry: quay.io\n", "duplicate"),
            ("registry: [[[[[[[[[[]]]]]]]]]]\n", "invalid type"),
        ] {
            let e = TargetSettings::parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn settings_files_are_bounded_and_may_start_with_a_bom() {
        let e = TargetSettings::load(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/dev/zero") && e.contains("larger than the limit of 1 MiB"),
            "{e}"
        );
        let s = TargetSettings::parse("\u{feff}registry: quay.io\n").unwrap();
        assert_eq!(s.registry, "quay.io");
        let deep = format!("registry: {}\n", "[".repeat(100_000));
        let e = TargetSettings::parse(&deep).unwrap_err().to_string();
        assert!(e.contains("nested deeper than 1000"), "{e}");
        let c = CredentialSettings::from_file("u", "/dev/zero");
        let e = c.resolve("dest_credentials").unwrap_err().to_string();
        assert!(e.contains("limit of 1 MiB"), "{e}");
    }

    #[test]
    fn credentials_resolve_without_leaking() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret\n").unwrap();
        let c = CredentialSettings::from_file("u", f);
        assert_eq!(c.resolve("dest_credentials").unwrap().1, "s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
        let missing = CredentialSettings::from_env("u", "FERRY_TEST_SURELY_UNSET_VAR");
        let e = missing
            .resolve("source_credentials")
            .unwrap_err()
            .to_string();
        assert!(e.contains("source_credentials") && e.contains("FERRY_TEST_SURELY_UNSET_VAR"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("1d").is_err());
    }
}
