//! `ferry items`: push items from sources, printed in the serialized form.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use ferry_items::{
    ItemsError, PushItem, SourceUrl, load_file_source, write_items_json, write_items_yaml,
};
use ferry_publish::registry_source::load_registry_source;
use ferry_registry::{Client, Credentials};

use crate::cli::{Global, Output};
use crate::context::{client_with, parse_creds};
use crate::usage;

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

/// The registries the `registry:` sources ask.
pub fn source_hosts(sources: &[SourceUrl]) -> Vec<String> {
    let mut hosts: Vec<String> = sources
        .iter()
        .filter_map(|s| match s {
            SourceUrl::Registry(p) => Some(p.images.iter().map(|i| i.registry().to_string())),
            SourceUrl::File(_) => None,
        })
        .flatten()
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

/// Loads the items of every source, in order.
pub async fn load(client: &Client, sources: &[SourceUrl]) -> Result<Vec<PushItem>> {
    let mut items = Vec::new();
    for s in sources {
        match s {
            SourceUrl::File(path) => items.extend(load_file_source(path).map_err(|e| match e {
                // A file that is not a valid push-item document is bad input.
                e @ (ItemsError::InvalidDocument { .. }
                | ItemsError::InvalidEntry { .. }
                | ItemsError::InvalidField { .. }
                | ItemsError::InvalidPullSpec { .. }
                | ItemsError::InvalidPullInfo { .. }
                | ItemsError::Yaml(_)
                | ItemsError::Json(_)) => usage(e),
                e => anyhow::Error::new(e),
            })?),
            SourceUrl::Registry(params) => items.extend(
                load_registry_source(client, params)
                    .await
                    .context("reading the registry source")?,
            ),
        }
    }
    Ok(items)
}

pub async fn run(g: &Global, a: ItemsArgs) -> Result<ExitCode> {
    let sources = parse_sources(&a.sources)?;
    let mut creds: HashMap<String, Credentials> = HashMap::new();
    if let Some(c) = &g.creds {
        let c = parse_creds("--creds", c.expose(), "FERRY_PASSWORD")?;
        for h in source_hosts(&sources) {
            creds.insert(h, c.clone());
        }
    }
    let client = client_with(g, creds)?;
    let items = load(&client, &sources).await?;
    let text = match g.output {
        Output::Json => write_items_json(&items),
        Output::Text | Output::Yaml => write_items_yaml(&items),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
