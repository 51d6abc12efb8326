//! `ferry items`: push items from sources, printed in the serialized form.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ferry_items::{SourceUrl, write_items_json, write_items_yaml};
use ferry_publish::{load_items_and_skipped, source_hosts};
use ferry_registry::Client;

use crate::cli::{Global, Output};
use crate::context::{client_config, parse_creds};
use crate::{output, usage};

/// Arguments of `ferry items`.
#[derive(Args, Debug)]
pub struct ItemsArgs {
    /// Sources: file:PATH (or a .yaml/.yml/.json path), or
    /// registry:?image=HOST/REPO:TAG[,...]&dest=REPO[,...]&dest_signing_key=KEY&product_name=NAME
    #[arg(required = true)]
    pub sources: Vec<String>,
}

/// Parses every source URL first (a usage error names the bad one).
pub fn parse_sources(sources: &[String]) -> Result<Vec<SourceUrl>> {
    sources
        .iter()
        .map(|s| SourceUrl::parse(s).map_err(usage))
        .collect()
}

pub async fn run(g: &Global, a: ItemsArgs) -> Result<ExitCode> {
    let sources = parse_sources(&a.sources)?;
    let mut config = client_config(g)?;
    if let Some(c) = &g.creds {
        let c = parse_creds("--creds", c.expose(), "FERRY_PASSWORD")?;
        config = config.with_credentials_for(source_hosts(&sources), &c);
    }
    let (items, skipped) = load_items_and_skipped(&sources, &Client::new(config)?)
        .await
        .map_err(|e| {
            if e.is_bad_input() {
                usage(e)
            } else {
                anyhow::Error::new(e)
            }
        })?;
    let text = match g.output {
        Output::Json => write_items_json(&items),
        Output::Text | Output::Yaml => write_items_yaml(&items),
    };
    output::raw(text.as_bytes())?;
    // stdout stays a push-items document; the entries of other classes are listed aside.
    for (source, k) in &skipped {
        crate::output::warn_line!(
            "SKIPPED {} ({}, {source} item {}): not a container item",
            k.name.as_deref().unwrap_or("-"),
            k.class,
            k.index
        );
    }
    Ok(ExitCode::SUCCESS)
}
