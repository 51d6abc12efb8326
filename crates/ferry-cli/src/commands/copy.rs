//! `ferry copy`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use ferry_copy::{ArchiveKind, Attachments, Location, copy_image_carrying};
use ferry_image::Platform;
use serde_json::json;

use crate::cli::{Global, Output};
use crate::commands::{host, location};
use crate::context::{Role, client};
use crate::output::warn_line;
use crate::{output, usage};

/// Arguments of `ferry copy`.
#[derive(Args, Debug)]
pub struct CopyArgs {
    /// Copy only this platform (OS/ARCH[/VARIANT]); repeat for a filtered list
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<String>,
    /// Leave cosign signatures, attestations and SBOMs (sha256-<hex>.sig/.att/.sbom tags)
    /// behind; by default they follow each manifest copied, registry to registry
    #[arg(long)]
    pub no_signatures: bool,
    /// Source image
    pub src: String,
    /// Destination image
    pub dest: String,
}

/// Parses `--platform` values.
pub fn platforms(values: &[String]) -> Result<Vec<Platform>> {
    values
        .iter()
        .map(|p| {
            p.parse::<Platform>()
                .map_err(|e| usage(format!("--platform: {e}")))
        })
        .collect()
}

/// The platform ferry runs on, in image terms (`linux/amd64`, `linux/arm64`...).
fn host_platform() -> Platform {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    Platform::new(std::env::consts::OS, arch, None)
}

pub async fn run(g: &Global, a: CopyArgs) -> Result<ExitCode> {
    let src_loc = location("source", &a.src)?;
    let dest_loc = location("destination", &a.dest)?;
    let mut platforms = platforms(&a.platform)?;
    let mut roles = Vec::new();
    if let Some(h) = host(&src_loc) {
        roles.push((h, Role::Source));
    }
    if let Some(h) = host(&dest_loc) {
        roles.push((h, Role::Destination));
    }
    let client = client(g, &roles)?;
    if platforms.is_empty()
        && matches!(
            dest_loc,
            Location::Archive {
                kind: ArchiveKind::Docker,
                ..
            }
        )
    {
        // A docker-archive holds one image: from a list, the host's platform, as skopeo
        // (a single image is copied whatever its platform).
        platforms.push(host_platform());
    }
    tracing::info!(source = %src_loc, destination = %dest_loc, platforms = ?platforms, jobs = g.jobs, "copying");
    let engine = crate::context::engine(g, g.jobs as usize, platforms);
    let attachments = (!a.no_signatures).then(Attachments::new);
    let report = copy_image_carrying(&client, &engine, &src_loc, &dest_loc, attachments.as_ref())
        .await
        .map_err(|e| {
            if e.is_destination_digest() {
                usage(e)
            } else {
                anyhow::Error::new(e)
            }
        })?;
    let outcome = &report.outcome;
    let stats = engine.stats();
    tracing::info!(digest = %outcome.digest, media_type = %outcome.media_type, changed = outcome.changed,
        blobs_copied = stats.blobs_copied, bytes_copied = stats.bytes_copied, blobs_mounted = stats.blobs_mounted,
        blobs_present = stats.blobs_skipped, manifests_written = stats.manifests_written, "copy done");
    match g.output {
        Output::Json | Output::Yaml => output::structured(
            g.output,
            &json!({
                "source": src_loc.to_string(),
                "destination": dest_loc.to_string(),
                "digest": outcome.digest,
                "media_type": outcome.media_type,
                "changed": outcome.changed,
                "attachments": report.attachments,
                "stats": stats,
            }),
        )?,
        Output::Text => {
            let what = if outcome.changed {
                "copied"
            } else {
                "unchanged"
            };
            crate::outln!("{what} {dest_loc} {}", outcome.digest)?;
            if let Some(r) = dest_loc.reference() {
                output::attachment_lines(
                    &format!("{}/{}", r.registry(), r.repository()),
                    &report.attachments,
                )?;
            }
            if !g.quiet {
                warn_line!("{}", output::summary(&stats));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
