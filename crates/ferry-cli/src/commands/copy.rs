//! `ferry copy`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ferry_copy::{Attachments, copy_image_carrying};
use ferry_image::Platform;

use crate::cli::Global;
use crate::locate::{location, two_sided_client};
use crate::{error, output, usage};

/// Arguments of `ferry copy`.
#[derive(Args, Debug)]
pub struct CopyArgs {
    /// Copy only this platform (OS/ARCH[/VARIANT]); repeat for a filtered list
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<String>,
    /// Leave cosign signatures, attestations and SBOMs (sha256-<hex>.sig/.att/.sbom tags)
    /// behind; by default they follow each manifest copied, registry to registry
    #[arg(long)]
    pub no_signatures: bool,
    /// Source image
    pub src: String,
    /// Destination image
    pub dest: String,
}

/// Parses `--platform` values.
pub fn platforms(values: &[String]) -> Result<Vec<Platform>> {
    values
        .iter()
        .map(|p| {
            p.parse::<Platform>()
                .map_err(|e| usage(format!("--platform: {e}")))
        })
        .collect()
}

pub async fn run(g: &Global, a: CopyArgs) -> Result<ExitCode> {
    let src_loc = location("source", &a.src)?;
    let dest_loc = location("destination", &a.dest)?;
    let platforms = platforms(&a.platform)?;
    let client = two_sided_client(g, &src_loc, &[&dest_loc])?;
    let platforms = dest_loc.copy_platforms(platforms);
    tracing::info!(source = %src_loc, destination = %dest_loc, platforms = ?platforms, jobs = g.jobs, "copying");
    let engine = crate::context::engine(g, g.jobs as usize, platforms);
    let attachments = (!a.no_signatures).then(Attachments::new);
    let report = copy_image_carrying(&client, &engine, &src_loc, &dest_loc, attachments.as_ref());
    let report = report.await.map_err(error::copy)?;
    let outcome = &report.outcome;
    let stats = engine.stats();
    tracing::info!(digest = %outcome.digest, media_type = %outcome.media_type, changed = outcome.changed,
        blobs_copied = stats.blobs_copied, bytes_copied = stats.bytes_copied, blobs_mounted = stats.blobs_mounted,
        blobs_present = stats.blobs_skipped, manifests_written = stats.manifests_written, "copy done");
    let locs = (&src_loc, &dest_loc);
    output::copy::copied(g.output, g.quiet, locs, &report, &stats)?;
    Ok(ExitCode::SUCCESS)
}
