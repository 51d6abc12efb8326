//! One file per command.

pub mod catalog;
pub mod check;
pub mod copy;
pub mod delete;
pub mod digest;
pub mod inspect;
pub mod items;
pub mod login;
pub mod merge;
pub mod meta;
pub mod push;
pub mod report;
pub mod sign;
pub mod sync;
pub mod tag;
pub mod tags;
pub mod untag;
pub mod verify;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command, Global};
use crate::flags::Apply;

/// Runs the command; `Ok` carries the exit code of a command that finished (0, or 1 when
/// it reports a failure it already printed).
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let mut g = Global::from(&cli.global);
    let g = &mut g;
    match cli.command {
        Command::Copy { args, access } => copy::run(with(g, &access), args).await,
        Command::Sync { args, access } => sync::run(with(g, &access), args).await,
        Command::Inspect { args, access } => inspect::run(with(g, &access), args).await,
        Command::Digest { args, access } => digest::run(with(g, &access), args).await,
        Command::Tags { args, access } => tags::run(with(g, &access), args).await,
        Command::Catalog { args, access } => catalog::run(with(g, &access), args).await,
        Command::Check { args, access } => check::run(with(g, &access), args).await,
        Command::Delete { args, access } => delete::run(with(g, &access), args).await,
        Command::Login { args, access } => login::login(with(g, &access), args).await,
        Command::Logout { args, access } => login::logout(with(g, &access), args).await,
        Command::Merge { args, access } => merge::run(with(g, &access), args).await,
        Command::Tag { args, access } => tag::run(with(g, &access), args).await,
        Command::Untag { args, access } => untag::run(with(g, &access), args).await,
        Command::Items { args, access } => items::run(with(g, &access), args).await,
        Command::Push { args, access } => {
            args.creds.apply(g);
            push::run(with(g, &access), args).await
        }
        Command::Report(c) => report::run(g, c),
        Command::Sign { args, access } => sign::run(with(g, &access), args).await,
        Command::Verify { args, access } => verify::run(with(g, &access), args).await,
        Command::Completion(args) => meta::completion(args),
        Command::Man(args) => meta::man(args),
    }
}

/// `g` with the values of a command's flag groups.
fn with<'g>(g: &'g mut Global, group: &impl Apply) -> &'g Global {
    group.apply(g);
    g
}

/// One image or repository.
#[derive(clap::Args, Debug)]
pub struct RefArg {
    /// The image or repository
    pub reference: String,
}
