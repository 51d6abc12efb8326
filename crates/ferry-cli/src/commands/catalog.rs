//! `ferry catalog`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use regex::Regex;

use crate::cli::Global;
use crate::context::{Role, client};
use crate::{output, usage};

/// Arguments of `ferry catalog`.
#[derive(Args, Debug)]
pub struct CatalogArgs {
    /// The registry, HOST[:PORT]
    pub registry: String,
    /// Only repositories matching this regular expression
    #[arg(long, value_name = "REGEX")]
    pub filter: Option<String>,
}

pub async fn run(g: &Global, a: CatalogArgs) -> Result<ExitCode> {
    let registry = ferry_registry::registry_host(&a.registry).map_err(usage)?;
    let filter = a
        .filter
        .as_deref()
        .map(Regex::new)
        .transpose()
        .map_err(|e| usage(format!("--filter: {e}")))?;
    let client = client(g, &[(registry, Role::Single)])?;
    let mut repos = client.catalog(registry).await?;
    if let Some(f) = &filter {
        repos.retain(|r| f.is_match(r));
    }
    output::registry::names(g.output, &repos)?;
    Ok(ExitCode::SUCCESS)
}
