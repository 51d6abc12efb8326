//! `ferry sync`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use ferry_copy::{Attachments, ImageSource, Location, sync};
use regex::Regex;
use serde_json::json;

use crate::cli::{Global, Output};
use crate::commands::copy::platforms;
use crate::commands::location;
use crate::context::{Role, client};
use crate::output::warn_line;
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

fn repository(what: &str, input: &str) -> Result<Location> {
    let loc = location(what, input)?;
    match &loc {
        Location::Registry(r) if r.is_bare() => Ok(loc),
        Location::Registry(_) => Err(usage(format!(
            "{what} {input:?}: sync takes a repository without tag or digest"
        ))),
        Location::Layout { tag: None, .. } => Ok(loc),
        Location::Layout { .. } => Err(usage(format!(
            "{what} {input:?}: sync takes a layout without tag"
        ))),
        Location::Archive { .. } => Err(usage(format!(
            "{what} {input:?}: sync does not take archives; copy one image with ferry copy"
        ))),
    }
}

pub async fn run(g: &Global, a: SyncArgs) -> Result<ExitCode> {
    let src_loc = repository("source", &a.src)?;
    let dest_loc = repository("destination", &a.dest)?;
    let filter = a
        .tags
        .as_deref()
        .map(Regex::new)
        .transpose()
        .map_err(|e| usage(format!("--tags: {e}")))?;
    let platforms = platforms(&a.platform)?;
    let mut roles = Vec::new();
    if let Some(r) = src_loc.reference() {
        roles.push((r.registry(), Role::Source));
    }
    if let Some(r) = dest_loc.reference() {
        roles.push((r.registry(), Role::Destination));
    }
    let client = client(g, &roles)?;
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
    let stats = engine.stats();
    let failed = results.iter().filter(|r| r.result.is_err()).count();
    match g.output {
        Output::Json | Output::Yaml => {
            let items: Vec<_> = results
                .iter()
                .map(|r| match &r.result {
                    Ok(o) => json!({"tag": r.tag, "digest": o.digest, "changed": o.changed,
                        "attachments": r.attachments}),
                    Err(e) => json!({"tag": r.tag, "error": e.to_string()}),
                })
                .collect();
            output::structured(
                g.output,
                &json!({
                    "source": src_loc.to_string(),
                    "destination": dest_loc.to_string(),
                    "tags": items,
                    "failed": failed,
                    "stats": stats,
                }),
            )?;
        }
        Output::Text => {
            for r in &results {
                match &r.result {
                    Ok(o) => {
                        crate::outln!(
                            "{} {}:{} {}",
                            if o.changed { "copied" } else { "unchanged" },
                            dest_loc,
                            r.tag,
                            o.digest
                        )?;
                        output::attachment_lines(&dest_loc.to_string(), &r.attachments)?;
                    }
                    Err(e) => warn_line!("ferry: error: tag {}: {e}", r.tag),
                }
            }
            if !g.quiet {
                warn_line!("{} tag(s); {}", results.len(), output::summary(&stats));
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} tag(s) failed", results.len());
    }
    Ok(ExitCode::SUCCESS)
}
