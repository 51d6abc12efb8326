//! The reports of the shards of one push, combined into the report one unsharded push
//! would have given (same schema, no `shard` key): every item once, with the destinations
//! of every shard and the worst state any shard gave it; every destination once.

use std::collections::BTreeSet;

use ferry_items::PushItemState;

use crate::shard::Shard;
use crate::workflows::push::{ItemReport, PushReport};

/// Why shard reports cannot be combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportMergeError {
    /// No report was given.
    #[error("no shard report to merge")]
    Empty,
    /// A report names no shard (it is not from `ferry push --shard`).
    #[error("report {position} names no shard: not the report of a sharded push")]
    NotSharded {
        /// 1-based position among the reports given.
        position: usize,
    },
    /// A report's shard cannot be read.
    #[error("report {position}: {reason}")]
    BadShard {
        /// 1-based position among the reports given.
        position: usize,
        /// Why.
        reason: String,
    },
    /// Reports of pushes split into different counts.
    #[error("shard {shard} is of a push split into {found} shards, expected {expected}")]
    CountMismatch {
        /// The shard.
        shard: String,
        /// Its count.
        found: u32,
        /// The count expected.
        expected: u32,
    },
    /// The same shard twice.
    #[error("shard {0} given twice")]
    Duplicate(String),
    /// Shards without a report: the push is incomplete.
    #[error("missing the report of shard(s) {} of {count}: the push is incomplete (run them, or re-run them: a re-run writes only what is missing)", list(.missing))]
    Missing {
        /// The missing indexes.
        missing: Vec<u32>,
        /// The shard count.
        count: u32,
    },
    /// Dry-run and real reports mixed.
    #[error("shard {0} is a dry run and others are not (or the other way round)")]
    DryRunMismatch(String),
    /// The shards did not read the same items.
    #[error("shard {shard}: {reason} (were the shards run on the same items and settings?)")]
    ItemsMismatch {
        /// The shard.
        shard: String,
        /// What differs.
        reason: String,
    },
    /// Two shards wrote the same destination: the partition was not respected.
    #[error("destination {0} is in two shard reports")]
    DestinationTwice(String),
}

fn list(v: &[u32]) -> String {
    v.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// How bad a state is, for combining one item's states across shards.
fn severity(state: PushItemState) -> u8 {
    match state {
        PushItemState::Pushed => 0,
        PushItemState::Pending => 1,
        PushItemState::Invalid => 2,
        PushItemState::NotFound => 3,
        PushItemState::Failed => 4,
    }
}

/// Combines the reports of shards `0..COUNT` of one push. `count`, when given, is the
/// number of shards expected; otherwise the count the reports name.
pub fn merge_shard_reports(
    reports: Vec<PushReport>,
    count: Option<u32>,
) -> Result<PushReport, ReportMergeError> {
    if reports.is_empty() {
        return Err(ReportMergeError::Empty);
    }
    let mut shards: Vec<(Shard, PushReport)> = Vec::new();
    for (i, r) in reports.into_iter().enumerate() {
        let name = r
            .shard
            .clone()
            .ok_or(ReportMergeError::NotSharded { position: i + 1 })?;
        let shard: Shard = name.parse().map_err(|e| ReportMergeError::BadShard {
            position: i + 1,
            reason: format!("{e}"),
        })?;
        shards.push((shard, r));
    }
    let expected = count.unwrap_or(shards[0].0.count());
    let mut seen = BTreeSet::new();
    for (s, _) in &shards {
        if s.count() != expected {
            return Err(ReportMergeError::CountMismatch {
                shard: s.to_string(),
                found: s.count(),
                expected,
            });
        }
        if !seen.insert(s.index()) {
            return Err(ReportMergeError::Duplicate(s.to_string()));
        }
    }
    let missing: Vec<u32> = (0..expected).filter(|i| !seen.contains(i)).collect();
    if !missing.is_empty() {
        return Err(ReportMergeError::Missing {
            missing,
            count: expected,
        });
    }
    shards.sort_by_key(|(s, _)| s.index());

    let (first_shard, first) = &shards[0];
    let dry_run = first.dry_run;
    let n_items = first.items.len();
    for (s, r) in &shards {
        if r.dry_run != dry_run {
            return Err(ReportMergeError::DryRunMismatch(s.to_string()));
        }
        if r.items.len() != n_items {
            return Err(ReportMergeError::ItemsMismatch {
                shard: s.to_string(),
                reason: format!(
                    "{} items where shard {first_shard} has {n_items}",
                    r.items.len()
                ),
            });
        }
    }

    let mut items = Vec::with_capacity(n_items);
    for i in 0..n_items {
        let mut merged: Option<ItemReport> = None;
        for (s, r) in &shards {
            let item = &r.items[i];
            if item.name != first.items[i].name {
                return Err(ReportMergeError::ItemsMismatch {
                    shard: s.to_string(),
                    reason: format!(
                        "item {} is {:?} where shard {first_shard} has {:?}",
                        i + 1,
                        item.name,
                        first.items[i].name
                    ),
                });
            }
            if item.elsewhere {
                continue;
            }
            merged = Some(match merged {
                None => ItemReport {
                    elsewhere: false,
                    ..item.clone()
                },
                Some(mut m) => {
                    if severity(item.state) > severity(m.state) {
                        m.state = item.state;
                    }
                    m.destinations.extend(item.destinations.iter().cloned());
                    m.reason = match (m.reason.take(), &item.reason) {
                        (Some(a), Some(b)) if a != *b => Some(format!("{a}; {b}")),
                        (a, b) => a.or_else(|| b.clone()),
                    };
                    if m.rejection.is_none() {
                        m.rejection = item.rejection.clone();
                    }
                    m
                }
            });
        }
        let merged = merged.ok_or_else(|| ReportMergeError::ItemsMismatch {
            shard: first_shard.to_string(),
            reason: format!(
                "item {} ({:?}) is another shard's in every report",
                i + 1,
                first.items[i].name
            ),
        })?;
        items.push(merged);
    }

    let mut destinations = Vec::new();
    let mut written = BTreeSet::new();
    let mut stats = ferry_copy::StatsSnapshot::default();
    for (_, r) in &shards {
        for d in &r.destinations {
            if !written.insert(d.destination.clone()) {
                return Err(ReportMergeError::DestinationTwice(d.destination.clone()));
            }
            destinations.push(d.clone());
        }
        stats = stats.add(&r.stats);
    }
    Ok(PushReport {
        shard: None,
        dry_run,
        items,
        // Every shard read the same files: the first one's entries of other classes.
        skipped: first.skipped.clone(),
        destinations,
        stats,
    })
}
