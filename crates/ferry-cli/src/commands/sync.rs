//! `ferry sync`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use ferry_copy::{Attachments, ImageSource, sync};
use regex::Regex;

use crate::cli::Global;
use crate::commands::copy::platforms;
use crate::locate::{repository, two_sided_client};
use crate::{output, usage};

/// Arguments of `ferry sync`.
#[derive(Args, Debug)]
pub struct SyncArgs {
    /// Only tags matching this regular expression
    #[arg(long, value_name = "REGEX")]
    pub tags: Option<String>,
    /// Copy only these platforms (OS/ARCH[/VARIANT]), as in copy
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<String>,
    /// Images copied at once (default: the number of jobs)
    #[arg(long, value_name = "N")]
    pub images: Option<usize>,
    /// Leave cosign signatures, attestations and SBOMs (sha256-<hex>.sig/.att/.sbom tags)
    /// behind; by default each follows the image it belongs to (never copied as a tag of
    /// its own)
    #[arg(long)]
    pub no_signatures: bool,
    /// Source repository (no tag)
    pub src: String,
    /// Destination repository (no tag)
    pub dest: String,
}

pub async fn run(g: &Global, a: SyncArgs) -> Result<ExitCode> {
    let src_loc = repository("source", &a.src)?;
    let dest_loc = repository("destination", &a.dest)?;
    let filter = a.tags.as_deref().map(Regex::new).transpose();
    let filter = filter.map_err(|e| usage(format!("--tags: {e}")))?;
    let platforms = platforms(&a.platform)?;
    let client = two_sided_client(g, &src_loc, &[&dest_loc])?;
    let src = src_loc.open_source(&client)?;
    let dest = dest_loc.open_destination(&client)?;
    let mut tags = src.tags().await?;
    let attachments = (!a.no_signatures).then(|| Attachments::with_source_tags(&tags));
    if let Some(f) = &filter {
        tags.retain(|t| f.is_match(t));
    }
    let engine = crate::context::engine(g, g.jobs as usize, platforms);
    let images = a.images.unwrap_or(g.jobs as usize);
    let results = sync(&engine, &src, &dest, tags, images, attachments.as_ref()).await;
    let locs = (&src_loc, &dest_loc);
    output::copy::synced(g.output, g.quiet, locs, &results, &engine.stats())?;
    let failed = results.iter().filter(|r| r.result.is_err()).count();
    if failed > 0 {
        bail!("{failed} of {} tag(s) failed", results.len());
    }
    Ok(ExitCode::SUCCESS)
}
