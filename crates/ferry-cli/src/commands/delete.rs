//! `ferry delete`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use ferry_copy::Location;

use crate::cli::Global;
use crate::commands::RefArg;
use crate::locate::{location, single_client};
use crate::{output, usage};

pub async fn run(g: &Global, a: RefArg) -> Result<ExitCode> {
    let loc = location("image", &a.reference)?;
    let Location::Registry(r) = &loc else {
        return Err(usage("delete works on registry images, not OCI layouts"));
    };
    let client = single_client(g, &loc)?;
    let repo = client.repository(r.registry(), r.repository());
    let Some(digest) = repo.delete_image(&r.target()).await? else {
        bail!("{r}: not found");
    };
    output::registry::deleted(g.output, r, digest)?;
    Ok(ExitCode::SUCCESS)
}
