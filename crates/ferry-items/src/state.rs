//! The state of a push item and the build it came from.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an item stands in a push. Serialized in capitals, as pushsource writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PushItemState {
    /// Not pushed yet (the state of every item a source produces).
    #[default]
    Pending,
    /// Pushed to every destination.
    Pushed,
    /// The content could not be found.
    #[serde(rename = "NOTFOUND")]
    NotFound,
    /// The item is invalid and was not pushed.
    Invalid,
    /// The push failed.
    Failed,
}

impl PushItemState {
    /// The name as serialized: `PENDING`, `PUSHED`, `NOTFOUND`, `INVALID`, `FAILED`.
    pub fn as_str(self) -> &'static str {
        match self {
            PushItemState::Pending => "PENDING",
            PushItemState::Pushed => "PUSHED",
            PushItemState::NotFound => "NOTFOUND",
            PushItemState::Invalid => "INVALID",
            PushItemState::Failed => "FAILED",
        }
    }
}

impl fmt::Display for PushItemState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The build an item came from: pushsource's `KojiBuildInfo` (serialized with its fields in
/// pushsource's sorted order).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildInfo {
    /// The build system's numeric id, when known.
    #[serde(default)]
    pub id: Option<u64>,
    /// Package name (`NAME` of the NVR).
    pub name: String,
    /// Release (`RELEASE` of the NVR).
    pub release: String,
    /// Version (`VERSION` of the NVR).
    pub version: String,
}

impl BuildInfo {
    /// Splits an NVR, `NAME-VERSION-RELEASE`, on its last two dashes: the name may contain
    /// dashes, the version and release may not. Each part must be non-empty.
    ///
    /// ```
    /// # use ferry_items::BuildInfo;
    /// let b = BuildInfo::from_nvr("my-app-container-1.0-3.el9").unwrap();
    /// assert_eq!((b.name.as_str(), b.version.as_str(), b.release.as_str()),
    ///            ("my-app-container", "1.0", "3.el9"));
    /// ```
    pub fn from_nvr(nvr: &str) -> Option<BuildInfo> {
        let (rest, release) = nvr.rsplit_once('-')?;
        let (name, version) = rest.rsplit_once('-')?;
        if name.is_empty() || version.is_empty() || release.is_empty() {
            return None;
        }
        Some(BuildInfo {
            name: name.to_string(),
            version: version.to_string(),
            release: release.to_string(),
            id: None,
        })
    }

    /// The NVR, `NAME-VERSION-RELEASE`.
    pub fn nvr(&self) -> String {
        format!("{}-{}-{}", self.name, self.version, self.release)
    }
}
