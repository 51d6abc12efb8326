//! A document of push items as read: the items ferry pushes, and the items of pushsource's
//! other classes (errata, files, RPMs, ...), kept aside as skipped instead of failing it.

use std::fmt;

use super::{ItemsError, PushItem};

/// pushsource's item classes that ferry reads but does not push: an entry of one of these
/// classes becomes a [`SkippedItem`]. Any other class that is not in
/// [`ITEM_CLASSES`](crate::ITEM_CLASSES) is refused (a misspelt class is an error, not a skip).
pub const SKIPPED_CLASSES: &[&str] = &[
    "PushItem",
    "ErratumPushItem",
    "FilePushItem",
    "RpmPushItem",
    "ModuleMdPushItem",
    "ModuleMdSourcePushItem",
    "CompsXmlPushItem",
    "ProductIdPushItem",
    "CGWPushItem",
    "DirectoryPushItem",
    "AmiPushItem",
    "VHDPushItem",
    "VMIPushItem",
];

/// An entry of a pushsource class that ferry does not push (see [`SKIPPED_CLASSES`]): kept
/// with its class and fields so that a caller can list it as skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedItem {
    /// Position of the entry in the document, from 0.
    pub index: usize,
    /// The class, as written (`ErratumPushItem`, `FilePushItem`, ...).
    pub class: String,
    /// The entry's `name`, when it has a string one.
    pub name: Option<String>,
    /// The entry's `state`, when it has a string one (pushsource's states, not only ferry's).
    pub state: Option<String>,
    /// Every field as read, unvalidated.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Display for SkippedItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item {}", self.index)?;
        if let Some(name) = &self.name {
            write!(f, " ({name:?})")?;
        }
        write!(f, ": {} is not a container item; skipped", self.class)
    }
}

/// One entry of a document read leniently: the item, or why it is invalid together with
/// the entry's `name` when it has one.
pub type LenientEntry = Result<PushItem, (Option<String>, ItemsError)>;

/// A push-items document read entry by entry.
#[derive(Debug, Default)]
pub struct ItemsDocument {
    /// The entries of the classes ferry pushes, in document order: each an item or the
    /// reason it is invalid.
    pub entries: Vec<LenientEntry>,
    /// The entries of pushsource's other classes, in document order.
    pub skipped: Vec<SkippedItem>,
}

impl ItemsDocument {
    /// The items and the skipped entries, or the first invalid entry's error.
    pub fn into_items(self) -> Result<(Vec<PushItem>, Vec<SkippedItem>), ItemsError> {
        let items = strict(self.entries)?;
        Ok((items, self.skipped))
    }
}

/// The items of a leniently read document, or its first invalid entry's error.
pub(crate) fn strict(entries: Vec<LenientEntry>) -> Result<Vec<PushItem>, ItemsError> {
    entries.into_iter().map(|e| e.map_err(|(_, e)| e)).collect()
}
