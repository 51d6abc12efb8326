//! `ferry digest`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use ferry_copy::ImageSource;

use crate::cli::Global;
use crate::commands::RefArg;
use crate::locate::open_single;
use crate::output;

pub async fn run(g: &Global, a: RefArg) -> Result<ExitCode> {
    let (loc, src) = open_single(g, "image", &a.reference)?;
    let target = loc.source_target(&src)?;
    tracing::info!(image = %loc, "resolving");
    let Some(desc) = src.resolve(&target).await? else {
        bail!("{loc}: not found");
    };
    tracing::info!(image = %loc, digest = %desc.digest, media_type = %desc.media_type, size = desc.size, "resolved");
    output::registry::digest(g.output, &loc, &desc)?;
    Ok(ExitCode::SUCCESS)
}
