//! `ferry tags`.

use std::process::ExitCode;

use anyhow::Result;
use ferry_copy::ImageSource;

use crate::cli::Global;
use crate::commands::RefArg;
use crate::locate::open_single;
use crate::output;

pub async fn run(g: &Global, a: RefArg) -> Result<ExitCode> {
    let (_, src) = open_single(g, "repository", &a.reference)?;
    let tags = src.tags().await?;
    output::registry::names(g.output, &tags)?;
    Ok(ExitCode::SUCCESS)
}
