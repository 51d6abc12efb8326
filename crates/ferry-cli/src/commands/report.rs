//! `ferry report merge`: the reports of the shards of one push, as one report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use ferry_publish::{PushReport, ReportMergeError, merge_shard_reports};

use crate::cli::{Global, Output};
use crate::{output, usage};

/// What `ferry report` does.
#[derive(Subcommand, Debug)]
pub enum ReportCommand {
    /// Combine the JSON reports of `ferry push --shard I/N` into the report of the whole push
    #[command(after_help = "Examples:
  ferry report merge shard-0.json shard-1.json shard-2.json
  ferry report merge --shards 4 -o json reports/*.json > push.json

Exit 0 when every shard's report is there and every item was pushed; 1 when a shard is
missing or an item failed; 2 when a report cannot be read or is not a shard's.")]
    Merge(MergeArgs),
}

/// Arguments of `ferry report merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The number of shards the push was split into (default: the count the reports name)
    #[arg(long, value_name = "COUNT", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub shards: Option<u32>,
    /// Shard reports (`ferry push --shard I/N -o json` output, or its --report file)
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
}

pub fn run(g: &Global, c: ReportCommand) -> Result<ExitCode> {
    let ReportCommand::Merge(a) = c;
    let mut reports = Vec::new();
    for path in &a.reports {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading {}", path.display()))
            .map_err(usage)?;
        let report: PushReport = serde_json::from_str(&text)
            .map_err(|e| usage(format!("{}: not a push report: {e}", path.display())))?;
        reports.push(report);
    }
    let merged = merge_shard_reports(reports, a.shards).map_err(|e| match e {
        ReportMergeError::Missing { .. } | ReportMergeError::DestinationTwice(_) => {
            anyhow::Error::new(e)
        }
        other => usage(other),
    })?;
    match g.output {
        Output::Json | Output::Yaml => output::structured(g.output, &merged)?,
        Output::Text => output::push_report(&merged)?,
    }
    Ok(if merged.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
