//! `ferry untag`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use ferry_image::Reference;
use ferry_publish::{WorkflowError, untag};

use crate::cli::{Global, Output};
use crate::context::{Role, client};
use crate::{output, usage};

/// Arguments of `ferry untag`.
#[derive(Args, Debug)]
pub struct UntagArgs {
    /// Also remove a tag that is the last one of its image (the image stays, untagged);
    /// the cosign attachments (sha256-<hex>.sig/.att/.sbom) of an image left without a tag,
    /// and of its children no remaining tag reaches, are deleted with it
    #[arg(long)]
    pub remove_last: bool,
    /// Tags to remove (REGISTRY/REPO:TAG)
    #[arg(required = true)]
    pub refs: Vec<String>,
}

pub async fn run(g: &Global, a: UntagArgs) -> Result<ExitCode> {
    let mut refs = Vec::new();
    for r in &a.refs {
        let parsed = Reference::parse(r.strip_prefix("docker://").unwrap_or(r))
            .map_err(|e| usage(format!("reference: {e}")))?;
        if parsed.tag().is_none() || parsed.digest().is_some() {
            return Err(usage(format!(
                "{r}: untag takes REPO:TAG references (no digest)"
            )));
        }
        refs.push(parsed);
    }
    let hosts: Vec<String> = refs.iter().map(|r| r.registry().to_string()).collect();
    let roles: Vec<(&str, Role)> = hosts.iter().map(|h| (h.as_str(), Role::Single)).collect();
    let client = client(g, &roles)?;
    let outcomes = match untag(&client, &refs, a.remove_last).await {
        Ok(o) => o,
        Err(e @ (WorkflowError::LastTag(_) | WorkflowError::Invalid(_))) => {
            return Err(anyhow::Error::new(e).context("nothing was removed"));
        }
        Err(e) => return Err(e.into()),
    };
    match g.output {
        Output::Json | Output::Yaml => output::structured(g.output, &outcomes)?,
        Output::Text => {
            for o in &outcomes {
                let rest = if o.remaining_tags.is_empty() {
                    "no tag left".to_string()
                } else {
                    format!("still tagged {}", o.remaining_tags.join(", "))
                };
                crate::outln!("untagged {} ({}; {rest})", o.reference, o.digest)?;
                for t in &o.attachments_removed {
                    crate::outln!("removed attachment {t} of {}", o.digest)?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
