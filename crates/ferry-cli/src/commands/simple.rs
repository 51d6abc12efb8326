//! The small commands: digest, tags, catalog, check, delete.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use ferry_copy::{ImageSource, Location, check as check_image};
use ferry_image::Target;
use regex::Regex;
use serde_json::json;

use crate::cli::{Global, Output};
use crate::commands::{host, location};
use crate::context::{Role, client};
use crate::output::warn_line;
use crate::{output, usage};

/// One image or repository.
#[derive(Args, Debug)]
pub struct RefArg {
    /// The image or repository
    pub reference: String,
}

/// Arguments of `ferry catalog`.
#[derive(Args, Debug)]
pub struct CatalogArgs {
    /// The registry, HOST[:PORT]
    pub registry: String,
    /// Only repositories matching this regular expression
    #[arg(long, value_name = "REGEX")]
    pub filter: Option<String>,
}

/// Arguments of `ferry check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Download every blob and verify its digest (not only its presence)
    #[arg(long)]
    pub deep: bool,
    /// The image
    pub reference: String,
}

async fn open(g: &Global, what: &str, input: &str) -> Result<(Location, ferry_copy::AnyImage)> {
    let loc = location(what, input)?;
    let roles: Vec<_> = host(&loc).map(|h| (h, Role::Single)).into_iter().collect();
    let client = client(g, &roles)?;
    let src = loc.open_source(&client)?;
    Ok((loc, src))
}

pub async fn digest(g: &Global, a: RefArg) -> Result<ExitCode> {
    let (loc, src) = open(g, "image", &a.reference).await?;
    let target = loc.source_target(&src)?;
    tracing::info!(image = %loc, "resolving");
    let Some(desc) = src.resolve(&target).await? else {
        bail!("{loc}: not found");
    };
    tracing::info!(image = %loc, digest = %desc.digest, media_type = %desc.media_type, size = desc.size, "resolved");
    match g.output {
        Output::Json | Output::Yaml => output::structured(
            g.output,
            &json!({"name": loc.to_string(), "digest": desc.digest, "media_type": desc.media_type}),
        )?,
        Output::Text => crate::outln!("{}", desc.digest)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn tags(g: &Global, a: RefArg) -> Result<ExitCode> {
    let (_, src) = open(g, "repository", &a.reference).await?;
    let tags = src.tags().await?;
    match g.output {
        Output::Json | Output::Yaml => output::structured(g.output, &tags)?,
        Output::Text => output::lines(&tags)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn catalog(g: &Global, a: CatalogArgs) -> Result<ExitCode> {
    let registry = a.registry.strip_prefix("docker://").unwrap_or(&a.registry);
    let registry = registry.trim_end_matches('/');
    ferry_image::validate_host(registry)
        .map_err(|_| usage(format!("registry {:?}: expected HOST[:PORT]", a.registry)))?;
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
    match g.output {
        Output::Json | Output::Yaml => output::structured(g.output, &repos)?,
        Output::Text => output::lines(&repos)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn check(g: &Global, a: CheckArgs) -> Result<ExitCode> {
    let (loc, src) = open(g, "image", &a.reference).await?;
    let target = loc.source_target(&src)?;
    let report = check_image(&src, &target, a.deep).await?;
    match g.output {
        Output::Json | Output::Yaml => output::structured(
            g.output,
            &json!({
                "name": loc.to_string(),
                "complete": report.problems.is_empty(),
                "manifests": report.manifests,
                "blobs": report.blobs,
                "problems": report.problems,
            }),
        )?,
        Output::Text => {
            for p in &report.problems {
                let parent = p
                    .parent
                    .as_ref()
                    .map(|d| format!(" (in {d})"))
                    .unwrap_or_default();
                crate::outln!("{} {} {}{parent}", p.kind, p.digest, p.problem)?;
            }
            if report.problems.is_empty() {
                crate::outln!(
                    "ok {loc}: {} manifest(s), {} blob(s) present",
                    report.manifests,
                    report.blobs
                )?;
            }
        }
    }
    if report.problems.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        warn_line!(
            "ferry: error: {loc} is incomplete: {} problem(s)",
            report.problems.len()
        );
        Ok(ExitCode::from(1))
    }
}

pub async fn delete(g: &Global, a: RefArg) -> Result<ExitCode> {
    let loc = location("image", &a.reference)?;
    let Location::Registry(r) = &loc else {
        return Err(usage("delete works on registry images, not OCI layouts"));
    };
    let client = client(g, &[(r.registry(), Role::Single)])?;
    let repo = client.repository(r.registry(), r.repository());
    let digest = match r.target() {
        Target::Digest(d) => d,
        t @ Target::Tag(_) => match repo.resolve_digest(&t).await? {
            Some(d) => d,
            None => bail!("{r}: not found"),
        },
    };
    repo.delete_manifest(&digest).await?;
    match g.output {
        Output::Json | Output::Yaml => output::structured(
            g.output,
            &json!({"deleted": r.repository_ref().with_digest(digest.clone()).to_string(), "digest": digest}),
        )?,
        Output::Text => crate::outln!("deleted {}", r.repository_ref().with_digest(digest))?,
    }
    Ok(ExitCode::SUCCESS)
}
