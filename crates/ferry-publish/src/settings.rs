//! Target settings of `ferry push --target FILE`: where and how items are pushed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

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

/// Where a password comes from; never the settings file itself.
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
}

impl std::fmt::Debug for CredentialSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSettings")
            .field("username", &self.username)
            .field("password_env", &self.password_env)
            .field("password_file", &self.password_file)
            .finish()
    }
}

impl CredentialSettings {
    /// Reads the password from where the settings say; errors name the setting, never the
    /// password.
    pub fn resolve(&self, field: &str) -> Result<(String, String), SettingsError> {
        let bad = |reason: String| SettingsError::Invalid {
            field: field.to_string(),
            reason,
        };
        let password = match (&self.password_env, &self.password_file) {
            (Some(var), None) => std::env::var(var)
                .map_err(|_| bad(format!("environment variable {var} is not set")))?,
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| bad(format!("password file {}: {e}", path.display())))?
                .trim_end_matches(['\n', '\r'])
                .to_string(),
            _ => {
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
struct RawSettings {
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
    /// Credentials for the source registries.
    pub source_credentials: Option<CredentialSettings>,
    /// Credentials for the destination registry.
    pub dest_credentials: Option<CredentialSettings>,
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
    /// Reads and validates a settings file.
    pub fn load(path: &Path) -> Result<TargetSettings, SettingsError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: shown.clone(),
            source,
        })?;
        TargetSettings::parse(&text).map_err(|e| match e {
            SettingsError::Parse { reason, .. } => SettingsError::Parse {
                path: shown,
                reason,
            },
            other => other,
        })
    }

    /// Parses and validates settings text (YAML; JSON is YAML too).
    pub fn parse(text: &str) -> Result<TargetSettings, SettingsError> {
        let raw: RawSettings = serde_norway::from_str(text).map_err(|e| SettingsError::Parse {
            path: "<text>".into(),
            reason: e.to_string(),
        })?;
        let invalid = |field: &str, reason: String| SettingsError::Invalid {
            field: field.to_string(),
            reason,
        };
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
                if c.password_env.is_some() == c.password_file.is_some() {
                    return Err(invalid(
                        field,
                        "give exactly one of password_env or password_file".into(),
                    ));
                }
            }
        }
        Ok(TargetSettings {
            registry: raw.registry,
            namespace,
            repo_layout: raw.repo_layout,
            multiarch: raw.multiarch,
            tag_retries: raw.tag_retries,
            retry_wait,
            jobs: raw.jobs,
            source_credentials: raw.source_credentials,
            dest_credentials: raw.dest_credentials,
        })
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
        ] {
            let e = TargetSettings::parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn credentials_resolve_without_leaking() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret\n").unwrap();
        let c = CredentialSettings {
            username: "u".into(),
            password_env: None,
            password_file: Some(f),
        };
        assert_eq!(c.resolve("dest_credentials").unwrap().1, "s3cret");
        assert!(!format!("{c:?}").contains("s3cret"));
        let missing = CredentialSettings {
            username: "u".into(),
            password_env: Some("FERRY_TEST_SURELY_UNSET_VAR".into()),
            password_file: None,
        };
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
