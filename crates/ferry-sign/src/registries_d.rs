//! Where signatures live: containers-registries.d(5).
//!
//! A directory of `*.yaml` files, each with an optional `default-docker:` and a `docker:`
//! map from scopes to settings (`lookaside`, `lookaside-staging`, the older `sigstore`,
//! `sigstore-staging`, and `use-sigstore-attachments`). A scope is `host`, `host/ns`,
//! `host/ns/repo` or `host/ns/repo:tag`; the most specific scope that sets a value wins,
//! then `default-docker`. One directory is read: the one given, else
//! `$HOME/.config/containers/registries.d` when it exists, else
//! `/etc/containers/registries.d` (as containers/image does).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ferry_image::Reference;
use serde::Deserialize;
use url::Url;

use crate::SignError;

/// The system directory.
pub const SYSTEM_DIR: &str = "/etc/containers/registries.d";
/// The per-user directory, under `$HOME`.
pub const USER_DIR: &str = ".config/containers/registries.d";

/// Settings of one scope.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ScopeSettings {
    /// Read (and, without `lookaside-staging`, write) signatures here.
    pub lookaside: Option<String>,
    /// Write signatures here.
    pub lookaside_staging: Option<String>,
    /// Old name of `lookaside`.
    pub sigstore: Option<String>,
    /// Old name of `lookaside-staging`.
    pub sigstore_staging: Option<String>,
    /// Read and write cosign signatures as attachments in the registry.
    pub use_sigstore_attachments: Option<bool>,
}

impl ScopeSettings {
    fn top_level(&self, write: bool) -> Option<&str> {
        let staging = if write {
            self.lookaside_staging
                .as_deref()
                .or(self.sigstore_staging.as_deref())
        } else {
            None
        };
        staging
            .or(self.lookaside.as_deref())
            .or(self.sigstore.as_deref())
            .filter(|s| !s.is_empty())
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct File {
    default_docker: Option<ScopeSettings>,
    docker: Option<BTreeMap<String, ScopeSettings>>,
}

/// The merged configuration of a registries.d directory.
#[derive(Debug, Clone, Default)]
pub struct RegistriesD {
    default_docker: Option<ScopeSettings>,
    docker: BTreeMap<String, ScopeSettings>,
    dir: Option<PathBuf>,
}

impl RegistriesD {
    /// Loads the directory given, or the default one (see the module documentation).
    pub fn load(dir: Option<&Path>) -> Result<RegistriesD, SignError> {
        match dir {
            Some(d) => RegistriesD::from_dir(d),
            None => {
                let user = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(USER_DIR));
                match user {
                    Some(u) if u.is_dir() => RegistriesD::from_dir(&u),
                    _ => RegistriesD::from_dir(Path::new(SYSTEM_DIR)),
                }
            }
        }
    }

    /// Loads every `*.yaml` file of `dir` (a missing directory is an empty configuration).
    /// A scope, or `default-docker`, defined in two files is an error.
    pub fn from_dir(dir: &Path) -> Result<RegistriesD, SignError> {
        let mut out = RegistriesD {
            dir: Some(dir.to_path_buf()),
            ..RegistriesD::default()
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(SignError::io(dir, e)),
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        let mut default_from: Option<PathBuf> = None;
        let mut scope_from: BTreeMap<String, PathBuf> = BTreeMap::new();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| SignError::io(&path, e))?;
            let file: File = if text.trim().is_empty() {
                File::default()
            } else {
                serde_norway::from_str(&text).map_err(|e| SignError::Config {
                    path: path.clone(),
                    reason: e.to_string(),
                })?
            };
            if let Some(d) = file.default_docker {
                if let Some(first) = &default_from {
                    return Err(SignError::Config {
                        path: path.clone(),
                        reason: format!("default-docker is also defined in {}", first.display()),
                    });
                }
                out.default_docker = Some(d);
                default_from = Some(path.clone());
            }
            for (scope, settings) in file.docker.unwrap_or_default() {
                if let Some(first) = scope_from.get(&scope) {
                    return Err(SignError::Config {
                        path: path.clone(),
                        reason: format!("scope {scope} is also defined in {}", first.display()),
                    });
                }
                scope_from.insert(scope.clone(), path.clone());
                out.docker.insert(scope, settings);
            }
        }
        Ok(out)
    }

    /// A configuration with only a default lookaside (for tests and programmatic use).
    pub fn with_default(settings: ScopeSettings) -> RegistriesD {
        RegistriesD {
            default_docker: Some(settings),
            ..RegistriesD::default()
        }
    }

    /// The directory read, if any.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The scopes of `image`, most specific first: `host/repo:tag` (when tagged),
    /// `host/repo`, each parent namespace, `host`.
    fn scopes(image: &Reference) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(t) = image.tag() {
            out.push(format!("{}:{t}", image.name()));
        }
        let mut name = image.name();
        loop {
            out.push(name.clone());
            match name.rfind('/') {
                Some(i) => name.truncate(i),
                None => break,
            }
        }
        out
    }

    fn settings<'a, T>(
        &'a self,
        image: &Reference,
        pick: impl Fn(&'a ScopeSettings) -> Option<T>,
    ) -> Option<T> {
        RegistriesD::scopes(image)
            .iter()
            .filter_map(|s| self.docker.get(s))
            .chain(self.default_docker.iter())
            .find_map(pick)
    }

    /// The lookaside base URL for `image` (before its repository path is appended):
    /// for writing, `lookaside-staging` when set; the built-in default when nothing is
    /// configured (`file:///var/lib/containers/sigstore` for root, else
    /// `file://$HOME/.local/share/containers/sigstore`).
    pub fn lookaside_base(&self, image: &Reference, write: bool) -> Result<Url, SignError> {
        match self.settings(image, |s| s.top_level(write)) {
            Some(u) => Url::parse(u).map_err(|e| SignError::Lookaside {
                url: u.to_string(),
                reason: format!("not a URL ({e})"),
            }),
            None => {
                let dir = if is_root() {
                    PathBuf::from("/var/lib/containers/sigstore")
                } else {
                    let home = std::env::var_os("HOME")
                        .map(PathBuf::from)
                        .unwrap_or_default();
                    home.join(".local/share/containers/sigstore")
                };
                Url::from_directory_path(&dir).map_err(|_| SignError::Lookaside {
                    url: dir.display().to_string(),
                    reason: "not an absolute path".to_string(),
                })
            }
        }
    }

    /// Whether cosign signatures of `image` are attachments in its registry
    /// (`use-sigstore-attachments`, false when not set).
    pub fn use_sigstore_attachments(&self, image: &Reference) -> bool {
        self.settings(image, |s| s.use_sigstore_attachments)
            .unwrap_or(false)
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_scope_wins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.yaml"),
            "default-docker:\n  lookaside: file:///d\ndocker:\n  reg.io:\n    lookaside: file:///host\n    use-sigstore-attachments: true\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b.yaml"),
            "docker:\n  reg.io/ns/app:\n    lookaside: https://sigs.example/app\n    lookaside-staging: file:///staging\n",
        )
        .unwrap();
        let c = RegistriesD::from_dir(dir.path()).unwrap();
        let app = Reference::parse("reg.io/ns/app:1").unwrap();
        assert_eq!(
            c.lookaside_base(&app, false).unwrap().as_str(),
            "https://sigs.example/app"
        );
        assert_eq!(
            c.lookaside_base(&app, true).unwrap().as_str(),
            "file:///staging"
        );
        let other = Reference::parse("reg.io/ns/other").unwrap();
        assert_eq!(
            c.lookaside_base(&other, true).unwrap().as_str(),
            "file:///host"
        );
        assert!(c.use_sigstore_attachments(&app));
        let elsewhere = Reference::parse("quay.io/x").unwrap();
        assert_eq!(
            c.lookaside_base(&elsewhere, false).unwrap().as_str(),
            "file:///d"
        );
        assert!(!c.use_sigstore_attachments(&elsewhere));
    }

    #[test]
    fn a_scope_twice_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.yaml"),
            "docker:\n  reg.io:\n    lookaside: file:///a\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("b.yaml"),
            "docker:\n  reg.io:\n    lookaside: file:///b\n",
        )
        .unwrap();
        let e = RegistriesD::from_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("reg.io") && e.contains("a.yaml"), "{e}");
    }

    #[test]
    fn unknown_field_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.yaml"),
            "docker:\n  reg.io:\n    lookasid: file:///a\n",
        )
        .unwrap();
        let e = RegistriesD::from_dir(dir.path()).unwrap_err().to_string();
        assert!(e.contains("lookasid") && e.contains("a.yaml"), "{e}");
    }
}
