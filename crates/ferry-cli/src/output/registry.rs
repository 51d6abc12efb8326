//! `ferry digest`, `tags`, `catalog`, `check` and `delete`: their results as text, JSON
//! or YAML.

use anyhow::Result;
use ferry_copy::{CheckReport, Location};
use ferry_image::{Descriptor, Digest, Reference};
use serde_json::json;

use super::{lines, structured};
use crate::cli::Output;

/// `ferry digest`: the digest alone, or the name, digest and media type.
pub fn digest(format: Output, loc: &Location, desc: &Descriptor) -> Result<()> {
    match format {
        Output::Json | Output::Yaml => structured(
            format,
            &json!({"name": loc.to_string(), "digest": desc.digest, "media_type": desc.media_type}),
        ),
        Output::Text => crate::outln!("{}", desc.digest),
    }
}

/// `ferry tags` and `ferry catalog`: one name a line, or the list.
pub fn names(format: Output, names: &[String]) -> Result<()> {
    match format {
        Output::Json | Output::Yaml => structured(format, names),
        Output::Text => lines(names),
    }
}

/// `ferry check`: each problem, or one `ok` line.
pub fn check(format: Output, loc: &Location, report: &CheckReport) -> Result<()> {
    match format {
        Output::Json | Output::Yaml => structured(
            format,
            &json!({
                "name": loc.to_string(),
                "complete": report.problems.is_empty(),
                "manifests": report.manifests,
                "blobs": report.blobs,
                "problems": report.problems,
            }),
        ),
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
            Ok(())
        }
    }
}

/// `ferry delete`: the manifest deleted.
pub fn deleted(format: Output, r: &Reference, digest: Digest) -> Result<()> {
    match format {
        Output::Json | Output::Yaml => structured(
            format,
            &json!({"deleted": r.repository_ref().with_digest(digest.clone()).to_string(), "digest": digest}),
        ),
        Output::Text => crate::outln!("deleted {}", r.repository_ref().with_digest(digest)),
    }
}
