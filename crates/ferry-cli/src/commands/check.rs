//! `ferry check`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::cli::Global;
use crate::locate::open_single;
use crate::output::{self, warn_line};

/// Arguments of `ferry check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Download every blob and verify its digest (not only its presence)
    #[arg(long)]
    pub deep: bool,
    /// The image
    pub reference: String,
}

pub async fn run(g: &Global, a: CheckArgs) -> Result<ExitCode> {
    let (loc, src) = open_single(g, "image", &a.reference)?;
    let target = loc.source_target(&src)?;
    let report = ferry_copy::check(&src, &target, a.deep).await?;
    output::registry::check(g.output, &loc, &report)?;
    if report.problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    warn_line!(
        "ferry: error: {loc} is incomplete: {} problem(s)",
        report.problems.len()
    );
    Ok(ExitCode::from(1))
}
