//! Blobs: HEAD, streamed GET, small verified GET, DELETE.

use ferry_image::Digest;
use http::Method;

use crate::{ByteStream, RegistryError, Repository};

impl Repository {
    /// HEADs a blob: `Some(size)` when present (size 0 if the registry sends no length),
    /// `None` on 404.
    pub async fn blob_exists(&self, digest: &Digest) -> Result<Option<u64>, RegistryError> {
        let host = self.host()?;
        let req = self
            .request(Method::HEAD, &format!("blobs/{digest}"), &self.pull_scope())
            .what(format!("blob {digest}"));
        match self.inner().send(&host, &req).await {
            Ok(resp) => Ok(Some(
                resp.headers()
                    .get(http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0),
            )),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GETs a blob as a stream, with its length when known. Redirects (to storage) are
    /// followed; `Authorization` is not forwarded to another host. The content is NOT
    /// verified here: the caller verifies while streaming.
    pub async fn get_blob(
        &self,
        digest: &Digest,
    ) -> Result<(Option<u64>, ByteStream), RegistryError> {
        let host = self.host()?;
        let req = self
            .request(Method::GET, &format!("blobs/{digest}"), &self.pull_scope())
            .what(format!("blob {digest}"));
        let resp = self.inner().send(&host, &req).await?;
        let len = resp.content_length();
        let stream = crate::response::body_stream(resp, self.inner().config.low_speed);
        Ok((len, stream))
    }

    /// GETs a small blob (a config) whole, refusing more than `max` bytes, and verifies
    /// its digest.
    pub async fn get_blob_bytes(
        &self,
        digest: &Digest,
        max: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let host = self.host()?;
        let req = self
            .request(Method::GET, &format!("blobs/{digest}"), &self.pull_scope())
            .what(format!("blob {digest}"));
        let inner = self.inner();
        let resp = inner.send(&host, &req).await?;
        let url = resp.url().clone();
        let bytes = inner.body(&host, &req, resp, max).await?;
        let mut v = digest.verifier();
        v.update(&bytes);
        v.verify(digest).map_err(|source| RegistryError::Content {
            context: Box::new(inner.context(&host, &req, Some(&url))),
            source,
        })?;
        Ok(bytes)
    }

    /// DELETEs a blob.
    pub async fn delete_blob(&self, digest: &Digest) -> Result<(), RegistryError> {
        self.delete(&format!("blobs/{digest}"), format!("blob {digest}"))
            .await
    }
}
