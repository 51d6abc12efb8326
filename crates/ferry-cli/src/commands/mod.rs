//! One file per command.

pub mod copy;
pub mod inspect;
pub mod items;
pub mod login;
pub mod merge;
pub mod push;
pub mod sign;
pub mod simple;
pub mod sync;
pub mod tag;
pub mod untag;
pub mod verify;

use std::process::ExitCode;

use anyhow::Result;
use ferry_copy::Location;

use crate::cli::{Cli, Command};
use crate::usage;

/// Runs the command; `Ok` carries the exit code of a command that finished (0, or 1 when
/// it reports a failure it already printed).
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let g = &cli.global;
    match cli.command {
        Command::Copy(a) => copy::run(g, a).await,
        Command::Sync(a) => sync::run(g, a).await,
        Command::Inspect(a) => inspect::run(g, a).await,
        Command::Digest(a) => simple::digest(g, a).await,
        Command::Tags(a) => simple::tags(g, a).await,
        Command::Catalog(a) => simple::catalog(g, a).await,
        Command::Check(a) => simple::check(g, a).await,
        Command::Delete(a) => simple::delete(g, a).await,
        Command::Login(a) => login::login(g, a).await,
        Command::Logout(a) => login::logout(g, a).await,
        Command::Merge(a) => merge::run(g, a).await,
        Command::Tag(a) => tag::run(g, a).await,
        Command::Untag(a) => untag::run(g, a).await,
        Command::Items(a) => items::run(g, a).await,
        Command::Push(a) => push::run(g, a).await,
        Command::Sign(a) => sign::run(g, a).await,
        Command::Verify(a) => verify::run(g, a).await,
    }
}

/// Parses a location given on the command line (a usage error when malformed).
pub fn location(what: &str, input: &str) -> Result<Location> {
    Location::parse(input).map_err(|e| usage(format!("{what}: {e}")))
}

/// The host of a registry location, for credentials.
pub fn host(l: &Location) -> Option<&str> {
    l.reference().map(|r| r.registry())
}
