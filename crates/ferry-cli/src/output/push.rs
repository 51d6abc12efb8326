//! `ferry push`: the report and the shard plan as text.

use anyhow::Result;
use ferry_publish::{DestinationAction, PushReport};

use super::{structured, transfers, warn_line};

/// The text report of `ferry push`: destinations, items, then the summary on stderr.
pub fn push_report(r: &PushReport) -> Result<()> {
    let head = if r.dry_run {
        "plan (dry run: nothing written)"
    } else {
        "push"
    };
    crate::outln!(
        "{head}: {} item(s), {} destination(s)",
        r.items.len(),
        r.destinations.len()
    )?;
    for d in &r.destinations {
        let action = serde_json::to_value(d.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let action = if r.dry_run
            && d.action != DestinationAction::Unchanged
            && d.action != DestinationAction::Failed
        {
            format!("would be {action}")
        } else {
            action
        };
        match (&d.digest, &d.error) {
            (_, Some(e)) => crate::outln!("  {action:>11}  {}  ({e})", d.destination)?,
            (Some(dg), None) => crate::outln!("  {action:>11}  {}  {dg}", d.destination)?,
            (None, None) => crate::outln!("  {action:>11}  {}", d.destination)?,
        }
        for sig in &d.signatures {
            signature_line(sig)?;
        }
    }
    crate::outln!("items:")?;
    for i in &r.items {
        let state = serde_json::to_value(i.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let arch = i
            .arch
            .as_deref()
            .map(|a| format!(" [{a}]"))
            .unwrap_or_default();
        match &i.reason {
            Some(reason) => crate::outln!("  {state:>9}  {}{arch}  ({reason})", i.name)?,
            None => crate::outln!("  {state:>9}  {}{arch}", i.name)?,
        }
    }
    if !r.skipped.is_empty() {
        crate::outln!("skipped (not container items):")?;
        for k in &r.skipped {
            crate::outln!(
                "  {:>9}  {}  ({}, {})",
                "SKIPPED",
                k.name,
                k.class,
                k.source
            )?;
        }
    }
    // The counts come from the rows above; the engine adds what the transfers moved.
    warn_line!("{}", r.summary());
    eprintln!("transfers: {}", transfers(&r.stats));
    Ok(())
}

/// `ferry push --plan-shards`: one line per shard, or the list as JSON/YAML.
pub fn shard_loads(format: crate::cli::Output, loads: &[ferry_publish::ShardLoad]) -> Result<()> {
    match format {
        crate::cli::Output::Json | crate::cli::Output::Yaml => structured(format, &loads),
        crate::cli::Output::Text => {
            crate::outln!("shard      repositories  destinations  groups  bytes")?;
            for l in loads {
                crate::outln!(
                    "{:<9}  {:>12}  {:>12}  {:>6}  {}",
                    l.shard,
                    l.repositories,
                    l.destinations,
                    l.groups,
                    l.bytes
                )?;
            }
            Ok(())
        }
    }
}

/// The warnings of the target settings (never a secret), on stderr unless `quiet`; the
/// keys ferry does not use (pubtools-quay's settings for other services) in the log.
pub fn settings_notes(
    settings: &ferry_publish::TargetSettings,
    path: &std::path::Path,
    quiet: bool,
) {
    if !quiet {
        for w in &settings.warnings {
            eprintln!("warning: {w}");
        }
    }
    if !settings.unused_keys.is_empty() {
        tracing::info!(
            "{}: keys ferry does not use: {}",
            path.display(),
            settings.unused_keys.join(", ")
        );
    }
}

/// The report of `ferry push` as JSON/YAML or text.
pub fn report(format: crate::cli::Output, r: &PushReport) -> Result<()> {
    match format {
        crate::cli::Output::Json | crate::cli::Output::Yaml => structured(format, r),
        crate::cli::Output::Text => push_report(r),
    }
}

/// One signature of a destination: its status, what was signed as what, by which key, where.
fn signature_line(sig: &ferry_publish::SignatureReport) -> Result<()> {
    let status = serde_json::to_value(sig.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let digest = sig.digest.as_ref().map(|d| d.as_str()).unwrap_or("-");
    let at = match (&sig.location, &sig.error) {
        (_, Some(e)) => format!("  ({e})"),
        (Some(l), None) => format!("  {l}"),
        (None, None) => String::new(),
    };
    crate::outln!(
        "  {status:>11}  {digest} as {} (key {}, {}){at}",
        sig.identity,
        sig.key_id,
        sig.format
    )
}
