//! Platforms (os/architecture/variant), normalized so that equal platforms compare equal.

use std::fmt;
use std::str::FromStr;

use crate::ImageError;

/// A platform as manifest lists describe it.
///
/// Normalization (applied by [`Platform::normalized`] and when parsing) maps common
/// aliases to the conventional names (`x86_64` → `amd64`, `aarch64` → `arm64`), treats
/// `arm64` without a variant as `arm64/v8` and `arm` without a variant as `arm/v7`, and
/// lowercases os and architecture.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct Platform {
    /// CPU architecture, such as `amd64`.
    pub architecture: String,
    /// Operating system, such as `linux`.
    pub os: String,
    /// OS version (Windows images).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// OS features.
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// CPU variant, such as `v8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// CPU features (Docker lists only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

impl Platform {
    /// `os/architecture[/variant]`.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.map(str::to_string),
            ..Platform::default()
        }
    }

    /// The normalized form used to compare platforms.
    pub fn normalized(&self) -> Platform {
        let os = self.os.to_ascii_lowercase();
        let arch = self.architecture.to_ascii_lowercase();
        let (arch, default_variant) = match arch.as_str() {
            "x86_64" | "x86-64" => ("amd64".to_string(), None),
            "aarch64" | "arm64" => ("arm64".to_string(), Some("v8")),
            "armhf" => ("arm".to_string(), Some("v7")),
            "armel" => ("arm".to_string(), Some("v6")),
            "arm" => ("arm".to_string(), Some("v7")),
            "i386" | "i686" => ("386".to_string(), None),
            _ => (arch, None),
        };
        let variant = self
            .variant
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(str::to_ascii_lowercase)
            .or(default_variant.map(str::to_string));
        Platform {
            os,
            architecture: arch,
            variant,
            os_version: self.os_version.clone().filter(|v| !v.is_empty()),
            os_features: self.os_features.clone(),
            features: self.features.clone(),
        }
    }

    /// The key platforms are merged by: normalized (os, architecture, variant, os.version).
    pub fn key(&self) -> (String, String, Option<String>, Option<String>) {
        let n = self.normalized();
        (n.os, n.architecture, n.variant, n.os_version)
    }

    /// The normalized architecture alone (the original merger's key).
    pub fn arch_key(&self) -> String {
        self.normalized().architecture
    }

    /// Whether `self` (a request such as `linux/arm64`) matches `other` (an entry of a list).
    pub fn matches(&self, other: &Platform) -> bool {
        let (a, b) = (self.normalized(), other.normalized());
        a.os == b.os
            && a.architecture == b.architecture
            && (a.variant.is_none() || a.variant == b.variant)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = ImageError;
    /// Parses `OS/ARCH[/VARIANT]`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| ImageError::InvalidPlatform {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let parts: Vec<&str> = s.split('/').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
            return Err(err(
                "expected OS/ARCH or OS/ARCH/VARIANT, such as linux/arm64/v8",
            ));
        }
        if parts.iter().any(|p| {
            !p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        }) {
            return Err(err("only letters, digits, '_', '-' and '.' are allowed"));
        }
        Ok(Platform::new(parts[0], parts[1], parts.get(2).copied()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        let p = |s: &str| s.parse::<Platform>().unwrap();
        assert_eq!(p("linux/arm64").key(), p("linux/arm64/v8").key());
        assert_eq!(p("linux/aarch64").key(), p("linux/arm64/v8").key());
        assert_eq!(p("linux/x86_64").key(), p("linux/amd64").key());
        assert_ne!(p("linux/arm/v6").key(), p("linux/arm/v7").key());
        assert_eq!(p("linux/arm").key(), p("linux/arm/v7").key());
        assert!(p("linux/arm64").matches(&p("linux/arm64/v8")));
        assert!(!p("linux/amd64").matches(&p("linux/arm64")));
        let mut win = p("windows/amd64");
        win.os_version = Some("10.0.17763.1".into());
        assert_ne!(win.key(), p("windows/amd64").key());
    }

    #[test]
    fn refuses_bad() {
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/am d64"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }
}
