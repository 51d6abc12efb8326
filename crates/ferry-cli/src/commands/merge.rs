//! `ferry merge`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ferry_copy::Location;
use ferry_publish::{MergeKey, MergeOptions, merge};
use serde_json::json;

use crate::cli::{Global, Output};
use crate::context::{Role, client};
use crate::locate::location;
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
    if dest_loc.is_archive() {
        return Err(usage(format!(
            "destination {dest_loc}: an archive is written by ferry copy"
        )));
    }
    let Some(tag) = dest_loc.destination_tag() else {
        return Err(usage(format!("destination {dest_loc}: merge needs a tag")));
    };
    if let Some(archs) = &a.archs
        && archs.iter().any(|x| x.trim().is_empty())
    {
        return Err(usage("--archs: empty architecture name"));
    }
    let by: MergeKey = a.by.parse().map_err(usage)?;
    let mut roles = Vec::new();
    if let Location::Registry(r) = &src_loc {
        roles.push((r.registry(), Role::Source));
    }
    if let Location::Registry(r) = &dest_loc {
        roles.push((r.registry(), Role::Destination));
    }
    let client = client(g, &roles)?;
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
    match g.output {
        Output::Json | Output::Yaml => output::structured(
            g.output,
            &json!({
                "source": src_loc.to_string(),
                "destination": dest_loc.to_string(),
                "dry_run": a.dry_run,
                "action": outcome.action,
                "digest": outcome.digest,
                "platforms": outcome.platforms,
                "kept_from_destination": outcome.kept_from_destination,
                "rounds": outcome.rounds,
                "note": outcome.note,
                "stats": engine.stats(),
            }),
        )?,
        Output::Text => {
            let action = serde_json::to_value(&outcome.action)?;
            let action = action.as_str().unwrap_or("merged");
            let prefix = if a.dry_run { "would be " } else { "" };
            crate::outln!("{prefix}{action} {dest_loc} {}", outcome.digest)?;
            crate::outln!("platforms: {}", outcome.platforms.join(", "))?;
            if outcome.kept_from_destination > 0 {
                crate::outln!(
                    "kept {} platform(s) only the destination had",
                    outcome.kept_from_destination
                )?;
            }
            if let Some(note) = &outcome.note {
                crate::outln!("{note}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
