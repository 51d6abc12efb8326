//! `ferry inspect`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use ferry_copy::{PlatformManifest, config_bytes, image_config, platform_manifest};
use ferry_image::Platform;

use crate::cli::Global;
use crate::locate::{location, single_client};
use crate::{output, usage};

/// Arguments of `ferry inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Print the exact manifest bytes
    #[arg(long, conflicts_with = "config")]
    pub raw: bool,
    /// Print the config blob of the image
    #[arg(long)]
    pub config: bool,
    /// In a list, describe the image of this platform
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// The image
    pub image: String,
}

pub async fn run(g: &Global, a: InspectArgs) -> Result<ExitCode> {
    let loc = location("image", &a.image)?;
    let platform = a.platform.as_deref().map(str::parse::<Platform>);
    let platform = platform
        .transpose()
        .map_err(|e| usage(format!("--platform: {e}")))?;
    let src = loc.open_source(&single_client(g, &loc)?)?;
    let target = loc.source_target(&src)?;
    let raw = match platform_manifest(&src, &target, platform.as_ref()).await? {
        PlatformManifest::Found(raw) => raw,
        PlatformManifest::NotAList => bail!("{loc} is not a list: --platform does not apply"),
        PlatformManifest::NoMatch => {
            let p = platform.map(|p| p.to_string()).unwrap_or_default();
            bail!("{loc} has no image for platform {p}")
        }
    };
    if a.raw {
        output::raw(raw.bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let parsed = raw.parse()?;
    if a.config {
        let Some(bytes) = config_bytes(&src, &parsed).await? else {
            let kind = raw.media_type();
            bail!("{loc} is a {kind} and has no config; name a platform with --platform");
        };
        output::raw(&bytes)?;
        return Ok(ExitCode::SUCCESS);
    }
    let config = image_config(&src, &parsed).await?;
    output::inspect::inspect(g.output, &loc, &raw, &parsed, config.as_ref())?;
    Ok(ExitCode::SUCCESS)
}
