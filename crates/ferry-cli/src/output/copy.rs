//! `ferry copy`, `sync`, `tag` and `merge`: their results as text, JSON or YAML.

use anyhow::Result;
use ferry_copy::{CopyReport, Location, StatsSnapshot, SyncItem};
use ferry_publish::{MergeOutcome, TagResult};
use serde_json::json;

use super::{structured, summary, warn_line};
use crate::cli::Output;

/// `ferry copy`: the digest written (or found unchanged), then the summary on stderr.
pub fn copied(
    format: Output,
    quiet: bool,
    (src, dest): (&Location, &Location),
    report: &CopyReport,
    stats: &StatsSnapshot,
) -> Result<()> {
    let outcome = &report.outcome;
    match format {
        Output::Json | Output::Yaml => structured(
            format,
            &json!({
                "source": src.to_string(),
                "destination": dest.to_string(),
                "digest": outcome.digest,
                "media_type": outcome.media_type,
                "changed": outcome.changed,
                "attachments": report.attachments,
                "stats": stats,
            }),
        ),
        Output::Text => {
            let what = if outcome.changed {
                "copied"
            } else {
                "unchanged"
            };
            crate::outln!("{what} {dest} {}", outcome.digest)?;
            if let Some(r) = dest.reference() {
                let repository = format!("{}/{}", r.registry(), r.repository());
                super::attachment_lines(&repository, &report.attachments)?;
            }
            if !quiet {
                warn_line!("{}", summary(stats));
            }
            Ok(())
        }
    }
}

/// `ferry sync`: a line per tag (errors on stderr), then the summary on stderr.
pub fn synced(
    format: Output,
    quiet: bool,
    (src, dest): (&Location, &Location),
    results: &[SyncItem],
    stats: &StatsSnapshot,
) -> Result<()> {
    let failed = results.iter().filter(|r| r.result.is_err()).count();
    match format {
        Output::Json | Output::Yaml => {
            let items: Vec<_> = results
                .iter()
                .map(|r| match &r.result {
                    Ok(o) => json!({"tag": r.tag, "digest": o.digest, "changed": o.changed,
                        "attachments": r.attachments}),
                    Err(e) => json!({"tag": r.tag, "error": e.to_string()}),
                })
                .collect();
            structured(
                format,
                &json!({
                    "source": src.to_string(),
                    "destination": dest.to_string(),
                    "tags": items,
                    "failed": failed,
                    "stats": stats,
                }),
            )
        }
        Output::Text => {
            for r in results {
                match &r.result {
                    Ok(o) => {
                        crate::outln!(
                            "{} {}:{} {}",
                            if o.changed { "copied" } else { "unchanged" },
                            dest,
                            r.tag,
                            o.digest
                        )?;
                        super::attachment_lines(&dest.to_string(), &r.attachments)?;
                    }
                    Err(e) => warn_line!("ferry: error: tag {}: {e}", r.tag),
                }
            }
            if !quiet {
                warn_line!("{} tag(s); {}", results.len(), summary(stats));
            }
            Ok(())
        }
    }
}

/// `ferry tag`: a line per destination (errors on stderr, with the attempts made).
pub fn tagged(
    format: Output,
    src: &Location,
    results: &[TagResult],
    stats: &StatsSnapshot,
) -> Result<()> {
    match format {
        Output::Json | Output::Yaml => structured(
            format,
            &json!({
                "source": src.to_string(),
                "destinations": results.iter().map(|r| match &r.result {
                    Ok(o) => json!({"destination": r.destination, "digest": o.digest, "changed": o.changed, "attempts": r.attempts}),
                    Err(e) => json!({"destination": r.destination, "error": e.to_string(), "attempts": r.attempts}),
                }).collect::<Vec<_>>(),
                "stats": stats,
            }),
        ),
        Output::Text => {
            for r in results {
                match &r.result {
                    Ok(o) => crate::outln!(
                        "{} {} {}",
                        if o.changed { "tagged" } else { "unchanged" },
                        r.destination,
                        o.digest
                    )?,
                    Err(e) => warn_line!(
                        "ferry: error: {} (after {} attempt(s)): {e}",
                        r.destination,
                        r.attempts
                    ),
                }
            }
            Ok(())
        }
    }
}

/// `ferry merge`: what was (or would be) done, the platforms, what was kept.
pub fn merged(
    format: Output,
    dry_run: bool,
    (src, dest): (&Location, &Location),
    outcome: &MergeOutcome,
    stats: &StatsSnapshot,
) -> Result<()> {
    match format {
        Output::Json | Output::Yaml => structured(
            format,
            &json!({
                "source": src.to_string(),
                "destination": dest.to_string(),
                "dry_run": dry_run,
                "action": outcome.action,
                "digest": outcome.digest,
                "platforms": outcome.platforms,
                "kept_from_destination": outcome.kept_from_destination,
                "rounds": outcome.rounds,
                "note": outcome.note,
                "stats": stats,
            }),
        ),
        Output::Text => {
            let action = serde_json::to_value(&outcome.action)?;
            let action = action.as_str().unwrap_or("merged");
            let prefix = if dry_run { "would be " } else { "" };
            crate::outln!("{prefix}{action} {dest} {}", outcome.digest)?;
            crate::outln!("platforms: {}", outcome.platforms.join(", "))?;
            if outcome.kept_from_destination > 0 {
                crate::outln!(
                    "kept {} platform(s) only the destination had",
                    outcome.kept_from_destination
                )?;
            }
            if let Some(note) = &outcome.note {
                crate::outln!("{note}")?;
            }
            Ok(())
        }
    }
}
