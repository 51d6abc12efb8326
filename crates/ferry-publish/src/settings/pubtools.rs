//! pubtools-quay's target settings, read as they are (the mapping is in docs/settings.md).
//!
//! - `quay_host` (default `quay.io`, a trailing `/` dropped) is the registry,
//!   `quay_namespace` the namespace, and the layout is Quay's flat `ns----repo`.
//! - `dest_quay_user` + `dest_quay_password` are the destination credentials,
//!   `source_quay_user` + `source_quay_password` the source ones, for `source_quay_host`
//!   only when given. ferry adds `*_quay_password_env` and `*_quay_password_file`; an inline
//!   password is accepted with a warning.
//! - `num_thread_container_push` is `jobs`, `tag_images_tries` is `tag_retries`,
//!   `tag_images_wait_time_increase` (seconds) is `retry_wait`.
//! - `docker_settings.docker_reference_registry` (a list or a string) gives the registries a
//!   signature's identity names.
//! - The keys of services ferry does not talk to are accepted and listed as unused; ferry's
//!   own keys may be given beside pubtools-quay's unless they say the same thing twice; any
//!   other key is refused.

use std::collections::HashMap;

use ferry_image::Reference;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{
    CredentialSettings, RawSettings, RepoLayout, SettingsError, SettingsFormat, TargetSettings,
    default_jobs, default_retries, default_wait,
};

/// pubtools-quay's keys that ferry maps to its settings.
const MAPPED: &[&str] = &[
    "quay_host",
    "quay_namespace",
    "dest_quay_user",
    "dest_quay_password",
    "source_quay_host",
    "source_quay_user",
    "source_quay_password",
    "num_thread_container_push",
    "tag_images_tries",
    "tag_images_wait_time_increase",
    "docker_settings",
];

/// ferry's additions to pubtools-quay's keys: where a password comes from instead of the
/// file itself.
const EXTENSIONS: &[&str] = &[
    "dest_quay_password_env",
    "dest_quay_password_file",
    "source_quay_password_env",
    "source_quay_password_file",
];

/// pubtools-quay's keys (read by its code, or passed by pub in its target settings) for
/// services and steps ferry does not have: accepted, listed as unused.
pub(crate) const UNUSED: &[&str] = &[
    // Pyxis (image metadata, signatures store).
    "pyxis_server",
    "pyxis_ssl_cert",
    "pyxis_ssl_key",
    "pyxis_ssl_crtfile",
    "pyxis_ssl_keyfile",
    "num_thread_pyxis",
    // IIB (operator index images) and operator bundles.
    "iib_server",
    "iib_index_image",
    "iib_krb_principal",
    "iib_krb_ktfile",
    "iib_organization",
    "iib_overwrite_from_index",
    "iib_overwrite_from_index_token",
    "iib_deprecation_list_url",
    "iib_build_timeout",
    "num_thread_build_index_images",
    "quay_operator_repository",
    "quay_operator_namespace",
    "check_related_images",
    "do_repo_deprecation_check",
    "verify_bundle_tries",
    "verify_bundle_wait_time_increase",
    // skopeo in a container, over Docker or SSH.
    "skopeo_image",
    "skopeo_executor_username",
    "skopeo_executor_password",
    "container_exec",
    "docker_host",
    "docker_timeout",
    "docker_tls_verify",
    "docker_cert_path",
    "ssh_remote_host",
    "ssh_remote_host_port",
    "ssh_user",
    "ssh_username",
    "ssh_password",
    "ssh_key_filename",
    // Signing through pubtools-sign (`signing` in its own shape, a list of signer
    // configurations, is listed as unused too: see `is_pubtools_signing`) and security
    // manifests.
    "cosign_private_key_path",
    "cosign_public_key_path",
    "cosign_rekor_url",
    "cosign_sbom_skip_verify_rekor",
    "cosign_sbom_skip_upload_rekor",
    "aws_kms_credentials",
    "push_security_manifests_enabled",
    "num_thread_security_manifest_push",
    // Quay's API and pub's own settings.
    "dest_quay_api_token",
    "quay_parallelism",
    "retry_sleep_time",
    "propagated_from",
    "allow_v1_containers",
    "max_concurrent",
    "semaphore_components",
    "semaphore_url",
    "ssl_validation",
];

/// ferry's own keys.
const FERRY: &[&str] = &[
    "registry",
    "namespace",
    "repo_layout",
    "multiarch",
    "tag_retries",
    "retry_wait",
    "jobs",
    "source_credentials",
    "dest_credentials",
    "signing",
];

/// A ferry key and the pubtools-quay keys that say the same thing.
const SAME_THING: &[(&str, &[&str])] = &[
    ("registry", &["quay_host"]),
    ("namespace", &["quay_namespace"]),
    ("tag_retries", &["tag_images_tries"]),
    ("retry_wait", &["tag_images_wait_time_increase"]),
    ("jobs", &["num_thread_container_push"]),
    (
        "dest_credentials",
        &[
            "dest_quay_user",
            "dest_quay_password",
            "dest_quay_password_env",
            "dest_quay_password_file",
        ],
    ),
    (
        "source_credentials",
        &[
            "source_quay_user",
            "source_quay_password",
            "source_quay_password_env",
            "source_quay_password_file",
        ],
    ),
];

/// Whether a settings map is pubtools-quay's: it has any of pubtools-quay's keys.
pub(super) fn is_pubtools(map: &Map<String, Value>) -> bool {
    map.keys().any(|k| {
        let k = k.as_str();
        MAPPED.contains(&k) || EXTENSIONS.contains(&k) || UNUSED.contains(&k)
    })
}

/// Parses pubtools-quay's target settings (with ferry's keys, if any, beside them).
pub(super) fn parse(map: &Map<String, Value>, path: &str) -> Result<TargetSettings, SettingsError> {
    let p = Parser { map, path };
    p.run()
}

struct Parser<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

/// A JSON value's kind, for error messages (never the value of a secret).
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

impl Parser<'_> {
    fn err(&self, key: &str, reason: impl Into<String>) -> SettingsError {
        SettingsError::Key {
            path: self.path.to_string(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    /// The value of `key`, `null` counting as absent.
    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A string value; other types are refused (a number is not taken as a host name).
    /// `secret` keeps the value out of the message.
    fn string(&self, key: &str, what: &str, secret: bool) -> Result<Option<String>, SettingsError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => {
                Err(self.err(key, format!("expected {what}, found an empty string")))
            }
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v) if secret => Err(self.err(key, format!("expected {what}, found {}", kind(v)))),
            Some(v) => Err(self.err(
                key,
                format!("expected {what} (a string), found {} {v}", kind(v)),
            )),
        }
    }

    /// A non-negative integer value within `range`.
    fn integer(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, SettingsError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(v) if range.contains(&v) => Ok(Some(v)),
                _ => Err(self.err(
                    key,
                    format!(
                        "{n} is not an integer within {}..={}",
                        range.start(),
                        range.end()
                    ),
                )),
            },
            Some(v) => Err(self.err(key, format!("expected an integer, found {} {v}", kind(v)))),
        }
    }

    /// A host\[:port\], a trailing `/` dropped as pubtools-quay drops it.
    fn host(&self, key: &str) -> Result<Option<String>, SettingsError> {
        let Some(host) = self.string(key, "a registry host[:port]", false)? else {
            return Ok(None);
        };
        let host = host.trim_end_matches('/').to_string();
        Reference::from_parts(&host, "x", None, None)
            .map_err(|_| self.err(key, format!("{host:?} is not a registry host[:port]")))?;
        Ok(Some(host))
    }

    /// A ferry key's value, deserialized as ferry reads it.
    fn ferry<T: DeserializeOwned>(&self, key: &str, v: &Value) -> Result<T, SettingsError> {
        serde_json::from_value(v.clone()).map_err(|e| self.err(key, e.to_string()))
    }

    fn run(&self) -> Result<TargetSettings, SettingsError> {
        let mut unused = Vec::new();
        for key in self.map.keys() {
            let k = key.as_str();
            if UNUSED.contains(&k) || (k == "signing" && self.is_pubtools_signing()?) {
                unused.push(key.clone());
            } else if k == "docker_settings" {
                // Its keys other than the reference registries, where it stands.
                if let Some(Value::Object(sub)) = self.get(k) {
                    unused.extend(
                        sub.keys()
                            .filter(|s| *s != "docker_reference_registry")
                            .map(|s| format!("docker_settings.{s}")),
                    );
                }
            } else if !(MAPPED.contains(&k) || EXTENSIONS.contains(&k) || FERRY.contains(&k)) {
                return Err(self.err(
                    key,
                    "unknown key: neither one of ferry's settings nor one of pubtools-quay's \
                     (see docs/settings.md)",
                ));
            }
        }
        for (ferry_key, theirs) in SAME_THING {
            if self.get(ferry_key).is_some()
                && let Some(other) = theirs.iter().find(|k| self.get(k).is_some())
            {
                return Err(self.err(
                    ferry_key,
                    format!("says what pubtools-quay's {other} says; give one of them"),
                ));
            }
        }

        // Which key of the file each of ferry's settings comes from, for errors.
        let mut origin: HashMap<&str, &str> = HashMap::new();
        let mut raw = RawSettings {
            registry: "quay.io".into(),
            namespace: None,
            // Quay's flat layout comes with Quay's keys; `repo_layout` overrides it.
            repo_layout: if self.get("quay_host").is_some() || self.get("quay_namespace").is_some()
            {
                RepoLayout::Flat
            } else {
                RepoLayout::Nested
            },
            multiarch: Default::default(),
            tag_retries: default_retries(),
            retry_wait: default_wait(),
            jobs: default_jobs(),
            source_credentials: None,
            dest_credentials: None,
            signing: Vec::new(),
        };
        for (key, v) in self
            .map
            .iter()
            .filter(|(k, v)| FERRY.contains(&k.as_str()) && !v.is_null())
        {
            match key.as_str() {
                "registry" => raw.registry = self.ferry(key, v)?,
                "namespace" => raw.namespace = self.ferry(key, v)?,
                "repo_layout" => raw.repo_layout = self.ferry(key, v)?,
                "multiarch" => raw.multiarch = self.ferry(key, v)?,
                "tag_retries" => raw.tag_retries = self.ferry(key, v)?,
                "retry_wait" => raw.retry_wait = self.ferry(key, v)?,
                "jobs" => raw.jobs = self.ferry(key, v)?,
                "source_credentials" => raw.source_credentials = self.ferry(key, v)?,
                "dest_credentials" => raw.dest_credentials = self.ferry(key, v)?,
                "signing" if !self.is_pubtools_signing()? => raw.signing = self.ferry(key, v)?,
                _ => {}
            }
        }
        if let Some(host) = self.host("quay_host")? {
            raw.registry = host;
            origin.insert("registry", "quay_host");
        }
        match self.string("quay_namespace", "a Quay organisation", false)? {
            Some(ns) => {
                raw.namespace = Some(ns);
                origin.insert("namespace", "quay_namespace");
            }
            None if raw.namespace.is_none() && self.get("registry").is_none() => {
                return Err(self.err(
                    "quay_namespace",
                    "missing: pubtools-quay's settings name the Quay organisation to push to",
                ));
            }
            None => {}
        }
        if let Some(n) = self.integer("num_thread_container_push", 1..=256)? {
            raw.jobs = usize::try_from(n).unwrap_or(usize::MAX);
            origin.insert("jobs", "num_thread_container_push");
        }
        if let Some(n) = self.integer("tag_images_tries", 1..=100)? {
            raw.tag_retries = u32::try_from(n).unwrap_or(u32::MAX);
            origin.insert("tag_retries", "tag_images_tries");
        }
        if let Some(v) = self.get("tag_images_wait_time_increase") {
            let key = "tag_images_wait_time_increase";
            let secs = v
                .as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| {
                    self.err(
                        key,
                        format!(
                            "expected a number of seconds (0 or more), found {} {v}",
                            kind(v)
                        ),
                    )
                })?;
            raw.retry_wait = format!("{secs}s");
            origin.insert("retry_wait", key);
        }

        let mut warnings = Vec::new();
        if let Some(c) = self.credentials("dest", &mut warnings)? {
            raw.dest_credentials = Some(c);
            origin.insert("dest_credentials", "dest_quay_user");
        }
        if let Some(c) = self.credentials("source", &mut warnings)? {
            raw.source_credentials = Some(c);
            origin.insert("source_credentials", "source_quay_user");
        }
        let source_host = self.host("source_quay_host")?;
        let reference_registries = self.docker_settings()?;

        let key_of = |field: &str| origin.get(field).copied().unwrap_or(field).to_string();
        let mut settings = TargetSettings::from_raw(raw, &key_of)
            .map_err(|(key, reason)| self.err(&key, reason))?;
        settings.source_credentials_host = source_host;
        settings.reference_registries = reference_registries;
        settings.format = SettingsFormat::PubtoolsQuay;
        settings.unused_keys = unused;
        settings.warnings = warnings;
        Ok(settings)
    }

    /// Whether `signing` is pubtools-quay's (a list of pubtools-sign signer
    /// configurations, which ferry does not use) rather than ferry's (entries with a
    /// `key_file`). A list mixing both is refused.
    fn is_pubtools_signing(&self) -> Result<bool, SettingsError> {
        let Some(Value::Array(list)) = self.get("signing") else {
            return Ok(false);
        };
        let ferry = list.iter().filter(|e| e.get("key_file").is_some()).count();
        match ferry {
            0 if !list.is_empty() => Ok(true),
            n if n == list.len() => Ok(false),
            _ => Err(self.err(
                "signing",
                "mixes ferry's entries ({key_id, key_file, ...}) with pubtools-quay's signer \
                 configurations; give one kind",
            )),
        }
    }

    /// `{side}_quay_user` with exactly one of `{side}_quay_password` (inline, with a
    /// warning), `{side}_quay_password_env` or `{side}_quay_password_file`.
    fn credentials(
        &self,
        side: &str,
        warnings: &mut Vec<String>,
    ) -> Result<Option<CredentialSettings>, SettingsError> {
        let user_key = format!("{side}_quay_user");
        let inline_key = format!("{side}_quay_password");
        let env_key = format!("{side}_quay_password_env");
        let file_key = format!("{side}_quay_password_file");
        let user = self.string(&user_key, "a user name", false)?;
        let inline = self.string(&inline_key, "a password", true)?;
        let env = self.string(&env_key, "an environment variable name", false)?;
        let file = self.string(&file_key, "a file path", false)?;
        let given: Vec<&str> = [(&inline, &inline_key), (&env, &env_key), (&file, &file_key)]
            .into_iter()
            .filter(|(v, _)| v.is_some())
            .map(|(_, k)| k.as_str())
            .collect();
        let Some(username) = user else {
            return match given.first() {
                Some(k) => Err(self.err(k, format!("given without {user_key}"))),
                None => Ok(None),
            };
        };
        match given.as_slice() {
            [] => {
                return Err(self.err(
                    &user_key,
                    format!("needs a password: {env_key}, {file_key} or {inline_key}"),
                ));
            }
            [_] => {}
            [a, b, ..] => return Err(self.err(a, format!("give only one of {a} and {b}"))),
        }
        if inline.is_some() {
            warnings.push(format!(
                "settings file {}: {inline_key} holds a password in the file; ferry also reads \
                 it from an environment variable ({env_key}) or a file ({file_key})",
                self.path
            ));
        }
        Ok(Some(CredentialSettings {
            username,
            password_env: env,
            password_file: file.map(Into::into),
            inline_password: inline,
        }))
    }

    /// `docker_settings.docker_reference_registry`: the reference registries (the other
    /// keys of `docker_settings` are listed as unused by [`run`](Self::run)).
    fn docker_settings(&self) -> Result<Vec<String>, SettingsError> {
        let Some(v) = self.get("docker_settings") else {
            return Ok(Vec::new());
        };
        let Value::Object(map) = v else {
            return Err(self.err(
                "docker_settings",
                format!("expected a map, found {} {v}", kind(v)),
            ));
        };
        let key = "docker_settings.docker_reference_registry";
        let mut registries = Vec::new();
        if let Some(v) = map.get("docker_reference_registry") {
            let list: Vec<&Value> = match v {
                Value::Null => Vec::new(),
                Value::Array(list) => list.iter().collect(),
                other => vec![other],
            };
            for item in list {
                let Value::String(host) = item else {
                    return Err(self.err(
                        key,
                        format!(
                            "expected a registry host or a list of them, found {} {item}",
                            kind(item)
                        ),
                    ));
                };
                let host = host.trim_end_matches('/');
                Reference::from_parts(host, "x", None, None).map_err(|_| {
                    self.err(key, format!("{host:?} is not a registry host[:port]"))
                })?;
                registries.push(host.to_string());
            }
        }
        Ok(registries)
    }
}
