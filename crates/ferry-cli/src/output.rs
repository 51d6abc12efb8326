//! Printing results as text or JSON on stdout.
//!
//! Everything goes through [`raw`] (or [`outln!`](crate::outln)): a reader that closes
//! stdout (`ferry copy A B | head -0`) only stops the printing; the command's work stands
//! and its exit code is the one it would have had.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use ferry_publish::{DestinationAction, PushReport};
use serde::Serialize;

/// Set once stdout is found closed: nothing more is printed.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `bytes` to stdout and flushes. A closed stdout (broken pipe) is not an error:
/// printing stops for the rest of the run. Other write errors are.
pub fn raw(bytes: &[u8]) -> Result<()> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(e).context("writing to stdout"),
    }
}

/// `println!` through [`raw`], control characters escaped (see [`safe`]): evaluates to
/// `anyhow::Result<()>`.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::raw(
            format!("{}\n", $crate::output::safe(&format!($($arg)*))).as_bytes(),
        )
    };
}

/// Prints `value` as YAML when asked (`-o yaml`), else as pretty JSON.
pub fn structured<T: Serialize + ?Sized>(format: crate::cli::Output, value: &T) -> Result<()> {
    if format == crate::cli::Output::Yaml {
        return raw(serde_norway::to_string(value)?.as_bytes());
    }
    json(value)
}

/// Prints `value` as pretty JSON with a final newline.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    raw(&text)
}

/// Text from outside ferry (registry messages, item names, tags) with its control
/// characters written as visible escapes, for printing to a terminal.
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    ferry_image::sanitize_for_terminal(text)
}

/// Prints one line of text on stderr, escaping control characters (see [`safe`]).
macro_rules! warn_line {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::output::safe(&format!($($arg)*)))
    };
}
pub(crate) use warn_line;

/// Prints lines, escaping control characters (see [`safe`]).
pub fn lines<I: IntoIterator<Item = S>, S: AsRef<str>>(items: I) -> Result<()> {
    let mut text = String::new();
    for l in items {
        text.push_str(l.as_ref());
        text.push('\n');
    }
    raw(text.as_bytes())
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
        "{} image(s) copied, {} unchanged; {}",
        s.images_copied,
        s.images_unchanged,
        transfers(s)
    )
}

/// What a run's transfers moved: manifests and blobs.
fn transfers(s: &ferry_copy::StatsSnapshot) -> String {
    format!(
        "{} manifest(s) written, {} present; blobs: {} copied ({}), {} mounted, {} already present",
        s.manifests_written,
        s.manifests_present,
        s.blobs_copied,
        bytes(s.bytes_copied),
        s.blobs_mounted,
        s.blobs_skipped
    )
}

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
            )?;
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

/// Writes `value` as pretty JSON to `path` (through a temporary file renamed over it).
pub fn write_json_file(path: &std::path::Path, value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
