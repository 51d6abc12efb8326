//! One call per command-line verb: copy an image from one location to another.

use ferry_registry::Client;

use crate::{CopyEngine, CopyOutcome, Location, Result};

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
    Ok(outcome)
}
