//! `ferry push`: push items to the target registry, merging multi-arch lists.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use ferry_publish::{PublishOptions, TargetSettings, publish};

use crate::cli::{Global, Output};
use crate::commands::items::parse_sources;
use crate::context::client_config;
use crate::{output, usage};

/// Arguments of `ferry push`.
#[derive(Args, Debug)]
pub struct PushArgs {
    /// Target settings (YAML): registry, namespace, repo_layout, multiarch, tag_retries,
    /// retry_wait, jobs, source_credentials, dest_credentials
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
    /// Sources of push items (file:PATH, a .yaml/.json path, registry:?image=...)
    #[arg(required = true)]
    pub sources: Vec<String>,
    /// `--creds`, `--src-creds`, `--dest-creds`: for the source registries and the target
    /// registry. Parsed, but not wired yet: `run` still takes the credentials of the target
    /// settings (`source_credentials`, `dest_credentials`) only.
    #[command(flatten)]
    pub creds: crate::flags::TwoCreds,
}

pub async fn run(g: &Global, a: PushArgs) -> Result<ExitCode> {
    let settings = TargetSettings::load(&a.target).map_err(usage)?;
    let sources = parse_sources(&a.sources)?;
    let options = PublishOptions {
        dry_run: a.dry_run,
        strict: a.strict,
        skip_unsupported: a.skip_unsupported,
        client: client_config(g)?,
        jobs_per_registry: g.jobs_per_registry.map(usize::from),
        progress: Some(crate::progress::for_run(
            g.quiet || g.output != Output::Text,
        )),
    };
    let report = publish(&settings, &sources, &options).await.map_err(|e| {
        if e.is_usage() {
            usage(e)
        } else {
            anyhow::Error::new(e)
        }
    })?;
    match g.output {
        Output::Json | Output::Yaml => output::structured(g.output, &report)?,
        Output::Text => output::push_report(&report)?,
    }
    Ok(if report.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
