//! Locations from the command line, and the client that opens them with the credentials
//! of their side (`--creds`, `--src-creds`, `--dest-creds`).

use anyhow::Result;
use ferry_copy::{AnyImage, Location};
use ferry_registry::Client;

use crate::cli::Global;
use crate::context::{Role, client};
use crate::usage;

/// Parses a location given on the command line (a usage error when malformed).
pub fn location(what: &str, input: &str) -> Result<Location> {
    Location::parse(input).map_err(|e| usage(format!("{what}: {e}")))
}

/// The host of a registry location, for credentials.
pub fn host(l: &Location) -> Option<&str> {
    l.reference().map(|r| r.registry())
}

/// The client of a one-location command (`--creds` for its registry).
pub fn single_client(g: &Global, loc: &Location) -> Result<Client> {
    let roles: Vec<_> = host(loc).map(|h| (h, Role::Single)).into_iter().collect();
    client(g, &roles)
}

/// Parses `input` and opens it as a source with the client of a one-location command.
pub fn open_single(g: &Global, what: &str, input: &str) -> Result<(Location, AnyImage)> {
    let loc = location(what, input)?;
    let src = loc.open_source(&single_client(g, &loc)?)?;
    Ok((loc, src))
}

/// The client of a command reading `src` and writing each of `dests`.
pub fn two_sided_client(g: &Global, src: &Location, dests: &[&Location]) -> Result<Client> {
    let mut roles = Vec::new();
    if let Some(h) = host(src) {
        roles.push((h, Role::Source));
    }
    roles.extend(
        dests
            .iter()
            .filter_map(|d| host(d))
            .map(|h| (h, Role::Destination)),
    );
    client(g, &roles)
}
