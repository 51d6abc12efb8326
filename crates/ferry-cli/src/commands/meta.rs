//! `ferry completion` and `ferry man`: shell completion scripts and manual pages, both
//! generated from the command-line definition so they never drift from it.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;
use crate::usage;

/// Arguments of `ferry completion`.
#[derive(Args, Debug)]
pub struct CompletionArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `ferry man`.
#[derive(Args, Debug)]
pub struct ManArgs {
    /// A command (its page is ferry-COMMAND(1)); without one, the page of ferry(1)
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Writes `bytes` to stdout.
fn print(bytes: &[u8]) -> Result<ExitCode> {
    crate::output::raw(bytes)?;
    Ok(ExitCode::SUCCESS)
}

pub fn completion(a: CompletionArgs) -> Result<ExitCode> {
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut Cli::command(), "ferry", &mut buf);
    print(&buf)
}

pub fn man(a: ManArgs) -> Result<ExitCode> {
    let mut cmd = Cli::command();
    // Building propagates the global options into each command's page.
    cmd.build();
    let page = match &a.command {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(c) => c.clone(),
            None => {
                let known: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                return Err(usage(format!(
                    "man {name}: no such command (one of: {})",
                    known.join(", ")
                )));
            }
        },
    };
    let mut buf = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut buf)
        .context("rendering the manual page")?;
    print(&buf)
}
