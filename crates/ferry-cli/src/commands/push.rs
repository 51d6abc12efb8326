//! `ferry push`: push items to the target registry, merging multi-arch lists.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use ferry_items::{PushItem, PushItemState, SourceUrl, load_file_source_lenient};
use ferry_publish::plan::plan_push;
use ferry_publish::registry_source::load_registry_source;
use ferry_publish::settings::TargetSettings;
use ferry_publish::workflows::push::{
    DestinationAction, ItemReport, PushOptions, PushReport, push,
};
use ferry_publish::workflows::retry::Retry;
use ferry_registry::Credentials;

use crate::cli::{Global, Output};
use crate::commands::items::{parse_sources, source_hosts};
use crate::context::client_with;
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

fn creds(
    c: &Option<ferry_publish::settings::CredentialSettings>,
    field: &str,
) -> Result<Option<Credentials>> {
    match c {
        None => Ok(None),
        Some(c) => {
            let (u, p) = c.resolve(field).map_err(usage)?;
            Ok(Some(Credentials::new(&u, &p)))
        }
    }
}

pub async fn run(g: &Global, a: PushArgs) -> Result<ExitCode> {
    let settings = TargetSettings::load(&a.target).map_err(usage)?;
    let sources = parse_sources(&a.sources)?;
    let dest_creds = creds(&settings.dest_credentials, "dest_credentials")?;
    let src_creds = creds(&settings.source_credentials, "source_credentials")?;

    // Sources are read with the source credentials; the destination with its own.
    let mut src_map = HashMap::new();
    if let Some(c) = &src_creds {
        for h in source_hosts(&sources) {
            src_map.insert(h, c.clone());
        }
    }
    let src_client = client_with(g, src_map.clone())?;

    // Read and validate every item first.
    let mut items: Vec<PushItem> = Vec::new();
    let mut unreadable: Vec<ItemReport> = Vec::new();
    for s in &sources {
        match s {
            SourceUrl::File(path) => {
                for entry in load_file_source_lenient(path).map_err(usage)? {
                    match entry {
                        Ok(item) => items.push(item),
                        Err((name, e)) => unreadable.push(ItemReport {
                            name: name.unwrap_or_else(|| format!("{}", path.display())),
                            kind: "unknown",
                            arch: None,
                            state: PushItemState::Invalid,
                            destinations: Vec::new(),
                            reason: Some(e.to_string()),
                        }),
                    }
                }
            }
            SourceUrl::Registry(params) => items.extend(
                load_registry_source(&src_client, params)
                    .await
                    .context("reading the registry source")?,
            ),
        }
    }
    let plan = plan_push(&items, &settings, a.skip_unsupported);
    let invalid: Vec<String> = unreadable
        .iter()
        .map(|r| format!("{}: {}", r.name, r.reason.as_deref().unwrap_or("")))
        .chain(
            plan.rejected
                .iter()
                .filter(|r| !r.skipped)
                .map(|r| format!("{}: {}", r.name, r.reason)),
        )
        .collect();
    if plan.unsupported().count() > 0 {
        return Err(usage(format!(
            "refusing to push: {} (use --skip-unsupported to push the rest)",
            plan.unsupported()
                .map(|r| format!("{}: {}", r.name, r.reason))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    if a.strict && !invalid.is_empty() {
        return Err(usage(format!(
            "--strict: {} invalid item(s), nothing pushed: {}",
            invalid.len(),
            invalid.join("; ")
        )));
    }

    let mut dest_map = src_map;
    if let Some(c) = dest_creds {
        dest_map.insert(settings.registry.clone(), c);
    }
    let dest_client = client_with(g, dest_map)?;
    let engine = crate::context::engine(g, settings.jobs, Vec::new());
    let opts = PushOptions {
        dry_run: a.dry_run,
        retry: Retry {
            attempts: settings.tag_retries,
            wait: settings.retry_wait,
            ..Retry::default()
        },
        groups_at_once: settings.jobs,
    };
    let mut report = push(&engine, &src_client, &dest_client, &items, &plan, &opts).await;
    report.items.extend(unreadable);
    match g.output {
        Output::Json | Output::Yaml => output::structured(g.output, &report)?,
        Output::Text => print_text(&report),
    }
    Ok(if report.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_text(r: &PushReport) {
    let head = if r.dry_run {
        "plan (dry run: nothing written)"
    } else {
        "push"
    };
    println!(
        "{head}: {} item(s), {} destination(s)",
        r.items.len(),
        r.destinations.len()
    );
    for d in &r.destinations {
        let action = serde_json::to_value(d.action)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let action = if r.dry_run
            && d.action != DestinationAction::Unchanged
            && d.action != DestinationAction::Failed
        {
            format!("would be {action}")
        } else {
            action
        };
        match (&d.digest, &d.error) {
            (_, Some(e)) => println!("  {action:>11}  {}  ({e})", d.destination),
            (Some(dg), None) => println!("  {action:>11}  {}  {dg}", d.destination),
            (None, None) => println!("  {action:>11}  {}", d.destination),
        }
    }
    println!("items:");
    for i in &r.items {
        let state = serde_json::to_value(i.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let arch = i
            .arch
            .as_deref()
            .map(|a| format!(" [{a}]"))
            .unwrap_or_default();
        match &i.reason {
            Some(reason) => println!("  {state:>9}  {}{arch}  ({reason})", i.name),
            None => println!("  {state:>9}  {}{arch}", i.name),
        }
    }
    eprintln!("{}", output::summary(&r.stats));
}
