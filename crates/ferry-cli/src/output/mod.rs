//! Printing results as text or JSON on stdout.
//!
//! Everything goes through [`raw`] (or [`outln!`](crate::outln)): a reader that closes
//! stdout (`ferry copy A B | head -0`) only stops the printing; the command's work stands
//! and its exit code is the one it would have had.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use serde::Serialize;

pub mod copy;
pub mod inspect;
pub mod login;
pub mod push;
pub mod registry;
pub mod sign;

pub use push::{push_report, shard_loads};

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
    let attachments = if s.attachments_copied > 0 {
        format!(", {} attachment(s)", s.attachments_copied)
    } else {
        String::new()
    };
    format!(
        "{} image(s) copied{attachments}, {} unchanged; {}",
        s.images_copied,
        s.images_unchanged,
        transfers(s)
    )
}

/// One line per cosign attachment carried to `repository`, as the image lines:
/// `copied|unchanged REPOSITORY:TAG DIGEST`.
pub fn attachment_lines(repository: &str, carried: &[ferry_copy::AttachmentCopy]) -> Result<()> {
    lines(carried.iter().map(|a| {
        let what = if a.changed { "copied" } else { "unchanged" };
        safe(&format!("{what} {repository}:{} {}", a.tag, a.digest)).into_owned()
    }))
}

/// What a run's transfers moved: manifests and blobs.
pub fn transfers(s: &ferry_copy::StatsSnapshot) -> String {
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

/// Writes `value` as pretty JSON to `path` (through a temporary file renamed over it).
pub fn write_json_file(path: &std::path::Path, value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
