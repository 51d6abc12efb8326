//! `ferry push`: push items to the target registry, merging multi-arch lists.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use ferry_publish::{Shard, TargetSettings, plan_shards, publish};

use crate::cli::Global;
use crate::commands::items::parse_sources;
use crate::{error, output, usage};

/// Arguments of `ferry push`.
#[derive(Args, Debug)]
pub struct PushArgs {
    /// Target settings (YAML): registry, namespace, repo_layout, multiarch, tag_retries,
    /// retry_wait, jobs, source_credentials, dest_credentials, signing (keys for items'
    /// dest_signing_key; simple signing goes to the lookaside --registries.d names)
    #[arg(long, value_name = "FILE")]
    pub target: PathBuf,
    /// Print the plan and what each destination would get; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Stop before any write when any item is invalid
    #[arg(long)]
    pub strict: bool,
    /// Skip items ferry cannot push (operator manifests) instead of refusing the push
    #[arg(long)]
    pub skip_unsupported: bool,
    /// Carry out only shard INDEX of COUNT (0-based): the destinations whose repository it
    /// owns; COUNT processes together do what one push does
    #[arg(long, value_name = "INDEX/COUNT", conflicts_with = "plan_shards")]
    pub shard: Option<Shard>,
    /// Print how the push would split into COUNT shards (destinations and bytes of each);
    /// writes nothing
    #[arg(long, value_name = "COUNT", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub plan_shards: Option<u32>,
    /// Also write the report as JSON to FILE (for `ferry report merge`)
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Sources of push items (file:PATH, a .yaml/.json path, registry:?image=...)
    #[arg(required = true)]
    pub sources: Vec<String>,
    /// `--creds`, `--src-creds`, `--dest-creds`: for every source registry (those of
    /// `registry:` sources and of the items' pull specs) and the target registry; they win
    /// over the target settings' `source_credentials` and `dest_credentials`.
    #[command(flatten)]
    pub creds: crate::flags::TwoCreds,
}

pub async fn run(g: &Global, a: PushArgs) -> Result<ExitCode> {
    let settings = TargetSettings::load(&a.target).map_err(usage)?;
    // The library prints nothing: its notes are shown here, once.
    output::push::settings_notes(&settings, &a.target, g.quiet);
    let sources = parse_sources(&a.sources)?;
    let options = crate::context::publish_options(g, &a)?;
    if let Some(count) = a.plan_shards {
        let loads = plan_shards(&settings, &sources, &options, count).await;
        output::shard_loads(g.output, &loads.map_err(error::publish)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let report = publish(&settings, &sources, &options).await;
    let report = report.map_err(error::publish)?;
    if let Some(path) = &a.report {
        output::write_json_file(path, &report)?;
    }
    output::push::report(g.output, &report)?;
    Ok(ExitCode::from(u8::from(!report.success())))
}
