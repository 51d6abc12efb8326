//! Sharding: one push split into `COUNT` parts that separate processes run with no
//! coordination beyond the registry, and that together do exactly what one process does.
//!
//! The unit of partition is the destination repository (its final name, after the
//! namespace and the repository layout): every write to one tag — copies, overwrites and
//! merges — lands in one shard, and two shards never write the same tag. A group whose
//! destinations span repositories is split by destination, not duplicated. The shard of a
//! repository is a stable hash of its name (the first 8 bytes of its SHA-256, big-endian,
//! modulo `COUNT`), so the partition depends only on the items and settings: never on the
//! order of arrival, the machine, or the process.
//!
//! ```
//! use ferry_publish::{Shard, shard_of};
//! let shard: Shard = "1/3".parse().unwrap();
//! assert_eq!((shard.index(), shard.count()), (1, 3));
//! // Always the same answer for the same repository and count.
//! assert_eq!(shard_of("org/app", 3), shard_of("org/app", 3));
//! ```

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::plan::PushPlan;

/// The largest shard count accepted.
pub const MAX_SHARDS: u32 = 1024;

/// One part of a sharded push: `INDEX/COUNT`, 0-based, `1 <= COUNT <= 1024`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// A `--shard` value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid shard {value:?}: {reason} (expected INDEX/COUNT, 0 <= INDEX < COUNT <= {MAX_SHARDS})"
)]
pub struct ShardError {
    value: String,
    reason: &'static str,
}

impl Shard {
    /// Shard `index` of `count`.
    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        let err = |reason| ShardError {
            value: format!("{index}/{count}"),
            reason,
        };
        if count == 0 || count > MAX_SHARDS {
            return Err(err("COUNT out of range"));
        }
        if index >= count {
            return Err(err("INDEX must be less than COUNT"));
        }
        Ok(Shard { index, count })
    }

    /// The `User-Agent` of a process doing this shard: `program` followed by
    /// `(shard INDEX/COUNT)`, so registry logs tell the shards apart.
    pub fn user_agent(&self, program: &str) -> String {
        format!("{program} (shard {self})")
    }

    /// The whole push as one shard (`0/1`).
    pub fn whole() -> Shard {
        Shard { index: 0, count: 1 }
    }

    /// The 0-based index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many shards the push is split into.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Whether this shard writes to `repository` (a destination repository's final name).
    pub fn owns(&self, repository: &str) -> bool {
        shard_of(repository, self.count) == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let err = |reason| ShardError {
            value: s.to_string(),
            reason,
        };
        let (i, n) = s.split_once('/').ok_or_else(|| err("no '/'"))?;
        let number = |t: &str| -> Option<u32> {
            if t.is_empty() || t.len() > 5 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            t.parse().ok()
        };
        let index = number(i).ok_or_else(|| err("INDEX is not a number"))?;
        let count = number(n).ok_or_else(|| err("COUNT is not a number"))?;
        Shard::new(index, count).map_err(|e| ShardError {
            value: s.to_string(),
            reason: e.reason,
        })
    }
}

/// The shard (of `count`) that writes to `repository`.
pub fn shard_of(repository: &str, count: u32) -> u32 {
    if count <= 1 {
        return 0;
    }
    let hash = Sha256::digest(repository.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    (u64::from_be_bytes(first) % u64::from(count)) as u32
}

/// The part of `plan` that `shard` carries out: every group keeps only the destinations
/// whose repository the shard owns, and groups left with none are dropped. Rejected items
/// are kept in every shard (each shard validates every item the same way), so that any
/// one shard's report, and the merged report, names them.
pub fn shard_plan(plan: &PushPlan, shard: Shard) -> PushPlan {
    let mut out = plan.clone();
    for group in &mut out.groups {
        group.destinations.retain(|d| shard.owns(d.repository()));
    }
    out.groups.retain(|g| !g.destinations.is_empty());
    out
}

/// How much of a push one shard gets (for choosing `COUNT`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardLoad {
    /// The shard.
    pub shard: String,
    /// Destination repositories it writes to.
    pub repositories: usize,
    /// Destination tags it writes.
    pub destinations: usize,
    /// Source groups it copies from.
    pub groups: usize,
    /// Bytes it copies: each group's image size (manifests, configs and layers of every
    /// platform) once per destination repository, since blobs are linked per repository
    /// (a mount from another repository of the registry costs no transfer, so this is the
    /// upper bound).
    pub bytes: u64,
}

/// The load of each of `count` shards of `plan`, in shard order; `size` gives a group's
/// image size in bytes (by its index in `plan.groups`).
pub fn shard_loads(
    plan: &PushPlan,
    count: u32,
    size: impl Fn(usize) -> u64,
) -> Result<Vec<ShardLoad>, ShardError> {
    let mut loads = Vec::new();
    for index in 0..count {
        let shard = Shard::new(index, count)?;
        let mut all_repos: Vec<&str> = Vec::new();
        let (mut destinations, mut groups, mut bytes) = (0, 0, 0u64);
        for (i, group) in plan.groups.iter().enumerate() {
            let mut repos: Vec<&str> = group
                .destinations
                .iter()
                .map(|d| d.repository())
                .filter(|r| shard.owns(r))
                .collect();
            if repos.is_empty() {
                continue;
            }
            groups += 1;
            destinations += group
                .destinations
                .iter()
                .filter(|d| shard.owns(d.repository()))
                .count();
            repos.sort_unstable();
            repos.dedup();
            bytes = bytes.saturating_add(size(i).saturating_mul(repos.len() as u64));
            all_repos.extend(repos);
        }
        all_repos.sort_unstable();
        all_repos.dedup();
        loads.push(ShardLoad {
            shard: shard.to_string(),
            repositories: all_repos.len(),
            destinations,
            groups,
            bytes,
        });
    }
    Ok(loads)
}

#[cfg(test)]
#[path = "shard_tests.rs"]
mod tests;
