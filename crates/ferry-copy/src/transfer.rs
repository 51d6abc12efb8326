//! One call per command-line verb: copy an image from one location to another.

use ferry_registry::Client;
use serde::Serialize;

use crate::{AttachmentCopy, Attachments, CopyEngine, CopyOutcome, Location, Result};

/// What [`copy_image_carrying`] did: the image, then the attachments carried with it.
#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    /// The image.
    #[serde(flatten)]
    pub outcome: CopyOutcome,
    /// The cosign attachments carried (empty when none exist or none were asked for).
    pub attachments: Vec<AttachmentCopy>,
}

/// Copies the image at `src` to `dest` (each a registry reference, an OCI layout or an
/// archive), with
/// `engine`'s platforms and concurrency: the whole of `ferry copy`. A destination
/// reference with a tag (or none: `latest`) is tagged once the image is complete; a digest
/// reference or an untagged layout gets the image without a tag.
///
/// ```no_run
/// use ferry_copy::{CopyEngine, CopyOptions, Location, copy_image};
/// use ferry_registry::{Client, ClientConfig};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::new(ClientConfig::default())?;
/// let engine = CopyEngine::new(CopyOptions::default());
/// let src = Location::parse("quay.io/org/app:1.0")?;
/// let dest = Location::parse("oci:/tmp/app:1.0")?;
/// let outcome = copy_image(&client, &engine, &src, &dest).await?;
/// println!("{}", outcome.digest);
/// # Ok(())
/// # }
/// ```
pub async fn copy_image(
    client: &Client,
    engine: &CopyEngine,
    src: &Location,
    dest: &Location,
) -> Result<CopyOutcome> {
    Ok(copy_image_carrying(client, engine, src, dest, None)
        .await?
        .outcome)
}

/// [`copy_image`], then, with `attachments`, the cosign attachments (`sha256-<hex>.sig`,
/// `.att`, `.sbom`) of every manifest copied, once the image has landed (registry to
/// registry only; see [`Attachments`]). A failed attachment fails the call, naming the
/// attachment; the image stays.
pub async fn copy_image_carrying(
    client: &Client,
    engine: &CopyEngine,
    src: &Location,
    dest: &Location,
    attachments: Option<&Attachments>,
) -> Result<CopyReport> {
    let source = src
        .open_source(client)
        .map_err(|e| e.context(format!("opening {src}")))?;
    let target = src.source_target(&source)?;
    let destination = dest
        .open_copy_destination(client)
        .map_err(|e| e.context(format!("opening {dest}")))?;
    let tag = dest.destination_tag();
    let outcome = engine
        .copy_expecting(
            &source,
            &target,
            &destination,
            tag.as_deref(),
            dest.reference().and_then(|r| r.digest()),
        )
        .await?;
    // An archive is written only now, whole, once the copy succeeded.
    destination
        .commit()
        .await
        .map_err(|e| e.context(format!("writing {dest}")))?;
    let attachments = match attachments {
        Some(a) => a
            .carry(engine, &source, &target, &destination, &outcome)
            .await
            .map_err(|e| {
                e.context(format!(
                    "{dest} holds {} now, but its attachments did not follow",
                    outcome.digest
                ))
            })?,
        None => Vec::new(),
    };
    Ok(CopyReport {
        outcome,
        attachments,
    })
}
