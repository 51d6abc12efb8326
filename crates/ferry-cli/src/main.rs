//! `ferry`: publish container images between registries.

mod cli;
mod commands;
mod context;
mod error;
mod flags;
mod locate;
mod output;
mod progress;

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

use crate::cli::Cli;
pub use crate::error::usage;
use crate::error::{UsageError, format_chain};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_exit(e),
    };
    context::init_logging(cli.global.verbose, cli.global.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferry: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(interruptible(commands::run(cli))) {
        Ok(code) => code,
        Err(e) => {
            let code = if e.chain().any(|c| c.is::<UsageError>()) {
                2
            } else {
                1
            };
            eprintln!("ferry: error: {}", output::safe(&format_chain(&e)));
            ExitCode::from(code)
        }
    }
}

/// Prints clap's message (help and version included) and exits with its code: 2 for bad
/// usage. A flag that exists, but on other commands, gets a note saying so.
fn usage_exit(e: clap::Error) -> ExitCode {
    let _ = e.print();
    if e.kind() == ErrorKind::UnknownArgument
        && let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg)
    {
        let flag = arg.split('=').next().unwrap_or(arg);
        let users = commands_taking(flag);
        if !users.is_empty() {
            eprintln!(
                "\nnote: {flag} is not an option of this command; these take it: {}",
                users.join(", ")
            );
        }
    }
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
}

/// The commands that take the long or short option `flag` (`--name` or `-c`).
fn commands_taking(flag: &str) -> Vec<String> {
    let long = flag.strip_prefix("--");
    let short = flag
        .strip_prefix('-')
        .filter(|s| !s.starts_with('-'))
        .and_then(|s| s.chars().next());
    Cli::command()
        .get_subcommands()
        .filter(|c| {
            c.get_arguments().any(|a| {
                (long.is_some() && a.get_long() == long)
                    || (short.is_some() && a.get_short() == short)
            })
        })
        .map(|c| c.get_name().to_string())
        .collect()
}

/// Runs the command until it ends or SIGINT/SIGTERM arrives. On a signal the command's
/// work is dropped (no tag is written after that), the upload sessions it left open are
/// deleted, "interrupted" goes to stderr and the exit code is 130 (INT) or 143 (TERM).
async fn interruptible(
    work: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> anyhow::Result<ExitCode> {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return work.await;
    };
    let code = tokio::select! {
        r = work => return r,
        _ = int.recv() => 130,
        _ = term.recv() => 143,
    };
    let cleanup = context::abort_uploads();
    if tokio::time::timeout(std::time::Duration::from_millis(1500), cleanup)
        .await
        .is_err()
    {
        tracing::warn!("interrupted: some upload sessions may stay open");
    }
    eprintln!("ferry: interrupted");
    Ok(ExitCode::from(code))
}
