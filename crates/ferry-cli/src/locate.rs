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

/// A `sync` side: a repository without tag or digest, or a layout without tag.
pub fn repository(what: &str, input: &str) -> Result<Location> {
    let loc = location(what, input)?;
    let why = match &loc {
        Location::Registry(r) if r.is_bare() => return Ok(loc),
        Location::Layout { tag: None, .. } => return Ok(loc),
        Location::Registry(_) => "sync takes a repository without tag or digest",
        Location::Layout { .. } => "sync takes a layout without tag",
        Location::Archive { .. } => "sync does not take archives; copy one image with ferry copy",
    };
    Err(usage(format!("{what} {input:?}: {why}")))
}

/// The tag `tag` or `merge` writes at destination `loc`: an archive is refused, and a
/// location without a tag with "destination LOC: `missing`".
pub fn destination_tag(loc: &Location, missing: &str) -> Result<String> {
    if loc.is_archive() {
        return Err(usage(format!(
            "destination {loc}: an archive is written by ferry copy"
        )));
    }
    loc.destination_tag()
        .ok_or_else(|| usage(format!("destination {loc}: {missing}")))
}

/// Registry references given on the command line (`docker://` allowed, layouts refused).
pub fn references(refs: &[String]) -> Result<Vec<ferry_image::Reference>> {
    refs.iter()
        .map(|r| {
            if r.starts_with("oci:") {
                return Err(usage(format!(
                    "{r}: signatures are for images in registries, not OCI layouts"
                )));
            }
            ferry_image::Reference::parse(r.strip_prefix("docker://").unwrap_or(r))
                .map_err(|e| usage(format!("reference: {e}")))
        })
        .collect()
}

/// The client of a command on several references (`--creds` for each registry).
pub fn references_client(g: &Global, refs: &[ferry_image::Reference]) -> Result<Client> {
    let roles: Vec<_> = refs.iter().map(|r| (r.registry(), Role::Single)).collect();
    client(g, &roles)
}
