//! `ferry push`: push items to the target registry, merging multi-arch lists.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use ferry_publish::{PublishOptions, Shard, TargetSettings, plan_shards, publish};

use crate::cli::{Global, Output};
use crate::commands::items::parse_sources;
use crate::context::{Role, client_config, side_creds};
use crate::{output, usage};

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
    // The library prints nothing: its warnings (never a secret) and the keys it does not
    // use (pubtools-quay's settings for other services) are shown here, once.
    if !g.quiet {
        for w in &settings.warnings {
            eprintln!("warning: {w}");
        }
    }
    if !settings.unused_keys.is_empty() {
        tracing::info!(
            "{}: keys ferry does not use: {}",
            a.target.display(),
            settings.unused_keys.join(", ")
        );
    }
    let sources = parse_sources(&a.sources)?;
    let mut client = client_config(g)?;
    if let Some(shard) = a.shard {
        // The shard is in the User-Agent: registry logs tell the shards apart.
        client = client.with_user_agent(format!(
            "ferry/{} (shard {shard})",
            env!("CARGO_PKG_VERSION")
        ));
    }
    let options = PublishOptions {
        dry_run: a.dry_run,
        strict: a.strict,
        skip_unsupported: a.skip_unsupported,
        client,
        shard: a.shard,
        registries_d: g.registries_d.clone(),
        jobs_per_registry: g.jobs_per_registry.map(usize::from),
        source_credentials: side_creds(g, Role::Source)?,
        dest_credentials: side_creds(g, Role::Destination)?,
        progress: Some(crate::progress::for_run(
            g.quiet || g.output != Output::Text,
        )),
    };
    let fail = |e: ferry_publish::PublishError| {
        if e.is_usage() {
            usage(e)
        } else {
            anyhow::Error::new(e)
        }
    };
    if let Some(count) = a.plan_shards {
        let loads = plan_shards(&settings, &sources, &options, count)
            .await
            .map_err(fail)?;
        output::shard_loads(g.output, &loads)?;
        return Ok(ExitCode::SUCCESS);
    }
    let report = publish(&settings, &sources, &options).await.map_err(fail)?;
    if let Some(path) = &a.report {
        output::write_json_file(path, &report)?;
    }
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
