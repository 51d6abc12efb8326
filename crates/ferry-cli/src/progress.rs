//! Progress on a terminal: one bar of bytes and blobs, a line per finished image.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ferry_copy::{BlobAction, NoProgress, Progress};
use ferry_image::Digest;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress display for a run: a bar on a terminal, nothing otherwise or with -q.
pub fn for_run(quiet: bool) -> Arc<dyn Progress> {
    if quiet || !std::io::stderr().is_terminal() {
        return Arc::new(NoProgress);
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(8));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Arc::new(Bar {
        bar,
        blobs: AtomicU64::new(0),
        images: AtomicU64::new(0),
    })
}

struct Bar {
    bar: ProgressBar,
    blobs: AtomicU64,
    images: AtomicU64,
}

impl Bar {
    fn message(&self) {
        self.bar.set_message(format!(
            "{} blob(s), {} image(s)",
            self.blobs.load(Ordering::Relaxed),
            self.images.load(Ordering::Relaxed)
        ));
    }
}

impl Progress for Bar {
    fn bytes(&self, n: u64) {
        self.bar.inc(n);
    }
    fn blob_started(&self, _digest: &Digest, size: u64) {
        self.bar.inc_length(size);
    }
    fn blob_finished(&self, _digest: &Digest, _action: BlobAction) {
        self.blobs.fetch_add(1, Ordering::Relaxed);
        self.message();
    }
    fn image_finished(&self, name: &str, digest: &Digest, changed: bool) {
        self.images.fetch_add(1, Ordering::Relaxed);
        let what = if changed { "copied" } else { "unchanged" };
        self.bar.println(format!("{what:>9} {name} {digest}"));
        self.message();
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
