//! `ferry merge`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ferry_publish::{MergeKey, MergeOptions, merge};

use crate::cli::Global;
use crate::locate::{destination_tag, location, two_sided_client};
use crate::{output, usage};

/// Arguments of `ferry merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Only these architectures of the source (comma-separated); the destination keeps
    /// its entries for the others
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub archs: Option<Vec<String>>,
    /// Match entries by full platform (os, arch, variant, os.version) or by arch alone
    #[arg(long, default_value = "platform", value_parser = ["platform", "arch"])]
    pub by: String,
    /// Show what would happen; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Source list (the newer build)
    pub src: String,
    /// Destination tag (keeps the platforms only it has)
    pub dest: String,
}

pub async fn run(g: &Global, a: MergeArgs) -> Result<ExitCode> {
    let src_loc = location("source", &a.src)?;
    let dest_loc = location("destination", &a.dest)?;
    let tag = destination_tag(&dest_loc, "merge needs a tag")?;
    if let Some(archs) = &a.archs
        && archs.iter().any(|x| x.trim().is_empty())
    {
        return Err(usage("--archs: empty architecture name"));
    }
    let by: MergeKey = a.by.parse().map_err(usage)?;
    let client = two_sided_client(g, &src_loc, &[&dest_loc])?;
    let src = src_loc.open_source(&client)?;
    let target = src_loc.source_target(&src)?;
    let dest = dest_loc.open_destination(&client)?;
    let engine = crate::context::engine(g, g.jobs as usize, Vec::new());
    let opts = MergeOptions {
        by,
        archs: a.archs.clone(),
        dry_run: a.dry_run,
        ..MergeOptions::default()
    };
    let outcome = merge(&engine, &src, &target, &dest, &tag, &opts).await?;
    let locs = (&src_loc, &dest_loc);
    output::copy::merged(g.output, a.dry_run, locs, &outcome, &engine.stats())?;
    Ok(ExitCode::SUCCESS)
}
