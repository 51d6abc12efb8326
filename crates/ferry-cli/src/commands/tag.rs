//! `ferry tag`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use ferry_copy::Location;
use ferry_publish::{Retry, parse_duration, tag};
use serde_json::json;

use crate::cli::{Global, Output};
use crate::context::{Role, client};
use crate::locate::location;
use crate::output::warn_line;
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
        if loc.is_archive() {
            return Err(usage(format!(
                "destination {loc}: an archive is written by ferry copy"
            )));
        }
        let Some(t) = loc.destination_tag() else {
            return Err(usage(format!("destination {loc}: tag needs REPO:TAG")));
        };
        dests.push((loc, t));
    }
    let mut roles = Vec::new();
    if let Location::Registry(r) = &src_loc {
        roles.push((r.registry(), Role::Source));
    }
    for (loc, _) in &dests {
        if let Location::Registry(r) = loc {
            roles.push((r.registry(), Role::Destination));
        }
    }
    let client = client(g, &roles)?;
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
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.result.is_err())
        .map(|r| r.destination.as_str())
        .collect();
    match g.output {
        Output::Json | Output::Yaml => output::structured(
            g.output,
            &json!({
                "source": src_loc.to_string(),
                "destinations": results.iter().map(|r| match &r.result {
                    Ok(o) => json!({"destination": r.destination, "digest": o.digest, "changed": o.changed, "attempts": r.attempts}),
                    Err(e) => json!({"destination": r.destination, "error": e.to_string(), "attempts": r.attempts}),
                }).collect::<Vec<_>>(),
                "stats": engine.stats(),
            }),
        )?,
        Output::Text => {
            for r in &results {
                match &r.result {
                    Ok(o) => crate::outln!(
                        "{} {} {}",
                        if o.changed { "tagged" } else { "unchanged" },
                        r.destination,
                        o.digest
                    )?,
                    Err(e) => warn_line!(
                        "ferry: error: {} (after {} attempt(s)): {e}",
                        r.destination,
                        r.attempts
                    ),
                }
            }
        }
    }
    if !failed.is_empty() {
        bail!(
            "{} destination(s) failed: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
