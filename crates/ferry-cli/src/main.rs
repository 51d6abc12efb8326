//! `ferry`: publish container images between registries.

mod cli;
mod commands;
mod context;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;

/// An error in what the user asked for (a malformed reference, a bad flag value, an invalid
/// settings file): exit code 2, nothing written.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Wraps a user-input error so it exits with 2.
pub fn usage(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::Error::new(UsageError(e.to_string()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
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
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            let code = if e.chain().any(|c| c.is::<UsageError>()) {
                2
            } else {
                1
            };
            eprintln!("ferry: error: {}", format_chain(&e));
            ExitCode::from(code)
        }
    }
}

/// One readable line: each cause once, outermost first.
fn format_chain(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if let Some(last) = parts.last()
            && last.contains(&s)
        {
            continue;
        }
        parts.push(s);
    }
    parts.join(": ")
}
