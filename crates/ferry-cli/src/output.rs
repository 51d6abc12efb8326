//! Printing results as text or JSON on stdout.

use std::io::Write;

use anyhow::Result;
use ferry_publish::{DestinationAction, PushReport};
use serde::Serialize;

/// Prints `value` as YAML when asked (`-o yaml`), else as pretty JSON.
pub fn structured<T: Serialize + ?Sized>(format: crate::cli::Output, value: &T) -> Result<()> {
    if format == crate::cli::Output::Yaml {
        let mut out = std::io::stdout().lock();
        out.write_all(serde_norway::to_string(value)?.as_bytes())?;
        return Ok(());
    }
    json(value)
}

/// Prints `value` as pretty JSON with a final newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Text from outside ferry (registry messages, item names, tags) with its control
/// characters written as visible escapes, for printing to a terminal.
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    ferry_image::sanitize_for_terminal(text)
}

/// Prints one line of text on stdout, escaping control characters (see [`safe`]).
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", $crate::output::safe(&format!($($arg)*)))
    };
}
pub(crate) use say;

/// Prints one line of text on stderr, escaping control characters (see [`safe`]).
macro_rules! warn_line {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::output::safe(&format!($($arg)*)))
    };
}
pub(crate) use warn_line;

/// Prints lines, escaping control characters (see [`safe`]).
pub fn lines<I: IntoIterator<Item = S>, S: AsRef<str>>(items: I) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for l in items {
        writeln!(out, "{}", safe(l.as_ref()))?;
    }
    out.flush()?;
    Ok(())
}

/// Formats a byte count for people.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The one-line text summary of a run's counters.
pub fn summary(s: &ferry_copy::StatsSnapshot) -> String {
    format!(
        "{} image(s) copied, {} unchanged; {} manifest(s) written, {} present; blobs: {} copied ({}), {} mounted, {} already present",
        s.images_copied,
        s.images_unchanged,
        s.manifests_written,
        s.manifests_present,
        s.blobs_copied,
        bytes(s.bytes_copied),
        s.blobs_mounted,
        s.blobs_skipped
    )
}

/// The text report of `ferry push`: destinations, items, then the summary on stderr.
pub fn push_report(r: &PushReport) {
    let head = if r.dry_run {
        "plan (dry run: nothing written)"
    } else {
        "push"
    };
    say!(
        "{head}: {} item(s), {} destination(s)",
        r.items.len(),
        r.destinations.len()
    );
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
            (_, Some(e)) => say!("  {action:>11}  {}  ({e})", d.destination),
            (Some(dg), None) => say!("  {action:>11}  {}  {dg}", d.destination),
            (None, None) => say!("  {action:>11}  {}", d.destination),
        }
    }
    say!("items:");
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
            Some(reason) => say!("  {state:>9}  {}{arch}  ({reason})", i.name),
            None => say!("  {state:>9}  {}{arch}", i.name),
        }
    }
    if !r.skipped.is_empty() {
        println!("skipped (not container items):");
        for k in &r.skipped {
            println!(
                "  {:>9}  {}  ({}, {})",
                "SKIPPED", k.name, k.class, k.source
            );
        }
    }
    // The counts come from the rows above; the engine adds what the transfers moved.
    let s = &r.stats;
    eprintln!("{}", r.summary());
    eprintln!(
        "transfers: {} manifest(s) written, {} present; blobs: {} copied ({}), {} mounted, {} already present",
        s.manifests_written,
        s.manifests_present,
        s.blobs_copied,
        bytes(s.bytes_copied),
        s.blobs_mounted,
        s.blobs_skipped
    );
}

/// `ferry push --plan-shards`: one line per shard, or the list as JSON/YAML.
pub fn shard_loads(
    format: crate::cli::Output,
    loads: &[ferry_publish::ShardLoad],
) -> anyhow::Result<()> {
    match format {
        crate::cli::Output::Json | crate::cli::Output::Yaml => structured(format, &loads),
        crate::cli::Output::Text => {
            println!("shard      repositories  destinations  groups  bytes");
            for l in loads {
                println!(
                    "{:<9}  {:>12}  {:>12}  {:>6}  {}",
                    l.shard, l.repositories, l.destinations, l.groups, l.bytes
                );
            }
            Ok(())
        }
    }
}

/// Writes `value` as pretty JSON to `path` (through a temporary file renamed over it).
pub fn write_json_file(
    path: &std::path::Path,
    value: &impl serde::Serialize,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
