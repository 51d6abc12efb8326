//! `tag`: one source to many destinations (possibly on several registries), the source
//! read once, every destination copied concurrently and retried on its own.

use ferry_copy::{CachedSource, CopyEngine, CopyOutcome, ImageDestination, ImageSource};
use ferry_image::Target;
use futures_util::future::join_all;

use super::WorkflowError;
use super::retry::Retry;

/// The result for one destination.
#[derive(Debug)]
pub struct TagResult {
    /// The destination as given.
    pub destination: String,
    /// What happened.
    pub result: Result<CopyOutcome, WorkflowError>,
    /// Attempts made.
    pub attempts: u32,
}

/// Copies `src_target` of `src` with all its platforms to each `(destination, tag)`.
pub async fn tag<S: ImageSource, D: ImageDestination>(
    engine: &CopyEngine,
    src: S,
    src_target: &Target,
    destinations: &[(D, String)],
    retry: &Retry,
) -> Result<Vec<TagResult>, WorkflowError> {
    let src = CachedSource::new(src);
    let (top, _) = retry
        .run(|_| async { Ok::<_, WorkflowError>(src.manifest(src_target).await?) })
        .await;
    let top = top?;
    src.remember(&top);
    let src = &src;
    let top = &top;
    Ok(join_all(destinations.iter().map(|(dest, t)| async move {
        let (result, attempts) = retry
            .run(|_| async { Ok(engine.copy_top(src, top.clone(), dest, Some(t)).await?) })
            .await;
        TagResult {
            destination: format!("{}:{t}", dest.describe()),
            result,
            attempts,
        }
    }))
    .await)
}
