//! `ferry copy`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use ferry_copy::{ArchiveKind, ImageSource, Location};
use ferry_image::Platform;
use serde_json::json;

use crate::cli::{Global, Output};
use crate::commands::{host, location};
use crate::context::{Role, client};
use crate::{output, usage};

/// Arguments of `ferry copy`.
#[derive(Args, Debug)]
pub struct CopyArgs {
    /// Copy only this platform (OS/ARCH[/VARIANT]); repeat for a filtered list
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Vec<String>,
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
    let src = src_loc
        .open_source(&client)
        .with_context(|| format!("opening {src_loc}"))?;
    let target = src_loc.source_target(&src)?;
    let dest = dest_loc
        .open_copy_destination(&client)
        .with_context(|| format!("opening {dest_loc}"))?;
    if platforms.is_empty()
        && matches!(
            dest_loc,
            Location::Archive {
                kind: ArchiveKind::Docker,
                ..
            }
        )
        && src
            .resolve(&target)
            .await?
            .is_some_and(|d| d.media_type.is_index())
    {
        // A docker-archive holds one image: from a list, the host's platform, as skopeo.
        platforms.push(host_platform());
    }
    let engine = crate::context::engine(g, g.jobs as usize, platforms);
    let tag = dest_loc.destination_tag();
    let outcome = engine.copy(&src, &target, &dest, tag.as_deref()).await?;
    dest.commit()
        .await
        .with_context(|| format!("writing {dest_loc}"))?;
    let stats = engine.stats();
    match g.output {
        Output::Json | Output::Yaml => output::structured(
            g.output,
            &json!({
                "source": src_loc.to_string(),
                "destination": dest_loc.to_string(),
                "digest": outcome.digest,
                "mediaType": outcome.media_type,
                "changed": outcome.changed,
                "stats": stats,
            }),
        )?,
        Output::Text => {
            let what = if outcome.changed {
                "copied"
            } else {
                "unchanged"
            };
            println!("{what} {dest_loc} {}", outcome.digest);
            if !g.quiet {
                eprintln!("{}", output::summary(&stats));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
