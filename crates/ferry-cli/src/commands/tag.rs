//! `ferry tag`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use ferry_copy::Location;
use ferry_publish::{Retry, parse_duration, tag};

use crate::cli::Global;
use crate::locate::{destination_tag, location, two_sided_client};
use crate::{output, usage};

/// Arguments of `ferry tag`.
#[derive(Args, Debug)]
pub struct TagArgs {
    /// Attempts per destination
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub retries: u32,
    /// The wait between attempts grows by this much (e.g. 10s, 500ms)
    #[arg(long, default_value = "10s")]
    pub retry_wait: String,
    /// Source image
    pub src: String,
    /// Destination tags (any registries)
    #[arg(required = true)]
    pub dest: Vec<String>,
}

pub async fn run(g: &Global, a: TagArgs) -> Result<ExitCode> {
    let src_loc = location("source", &a.src)?;
    let wait = parse_duration(&a.retry_wait).map_err(|e| usage(format!("--retry-wait: {e}")))?;
    let mut dests = Vec::new();
    for d in &a.dest {
        let loc = location("destination", d)?;
        let tag = destination_tag(&loc, "tag needs REPO:TAG")?;
        dests.push((loc, tag));
    }
    let dest_locs: Vec<&Location> = dests.iter().map(|(l, _)| l).collect();
    let client = two_sided_client(g, &src_loc, &dest_locs)?;
    let src = src_loc.open_source(&client)?;
    let target = src_loc.source_target(&src)?;
    let mut opened = Vec::new();
    for (loc, t) in &dests {
        opened.push((loc.open_destination(&client)?, t.clone()));
    }
    let engine = crate::context::engine(g, g.jobs as usize, Vec::new());
    let retry = Retry {
        attempts: a.retries,
        wait,
        ..Retry::default()
    };
    let results = tag(&engine, src, &target, &opened, &retry).await?;
    output::copy::tagged(g.output, &src_loc, &results, &engine.stats())?;
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.result.is_err())
        .map(|r| r.destination.as_str())
        .collect();
    if !failed.is_empty() {
        bail!(
            "{} destination(s) failed: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
