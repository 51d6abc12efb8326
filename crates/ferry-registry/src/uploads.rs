//! Blob uploads: cross-repository mounts, monolithic uploads, and chunked uploads when
//! a registry or a proxy limits the request body.
//!
//! An upload costs two round trips: `POST /blobs/uploads/`, then one `PUT <Location>
//! ?digest=` carrying the whole blob. When that `PUT` is refused with 413, the blob goes
//! again in `PATCH` chunks (8 MiB, halved after each 413), then an empty `PUT ?digest=`;
//! the size that passed is remembered per registry, so later large blobs go chunked
//! straight away. Retries re-open the [`BlobOpener`] and start a fresh session.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::{Bytes, BytesMut};
use ferry_image::Digest;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use http::{HeaderMap, Method};
use url::Url;

use crate::transport::{Host, Opening, Request};
use crate::{BlobOpener, ByteStream, RegistryError, Repository};

/// The first chunk size of a chunked upload.
const CHUNK_SIZE: u64 = 8 * 1024 * 1024;
/// Chunks are never made smaller than this.
const MIN_CHUNK: u64 = 1024;
const OCTETS: &str = "application/octet-stream";

/// Blob content held in memory.
#[derive(Clone, Debug)]
pub struct BytesOpener(pub Bytes);

impl BlobOpener for BytesOpener {
    fn open(&self) -> BoxFuture<'_, Result<ByteStream, RegistryError>> {
        let b = self.0.clone();
        Box::pin(async move {
            let s: ByteStream = Box::pin(futures_util::stream::once(async move { Ok(b) }));
            Ok(s)
        })
    }
}

/// Blob content in a file, read in 256 KiB pieces.
#[derive(Clone, Debug)]
pub struct FileOpener(pub std::path::PathBuf);

impl BlobOpener for FileOpener {
    fn open(&self) -> BoxFuture<'_, Result<ByteStream, RegistryError>> {
        Box::pin(async move {
            use tokio::io::AsyncReadExt as _;
            let file = tokio::fs::File::open(&self.0)
                .await
                .map_err(|e| RegistryError::Config {
                    detail: format!("opening {}: {e}", self.0.display()),
                })?;
            let s = futures_util::stream::try_unfold(file, |mut f| async move {
                let mut buf = BytesMut::zeroed(256 * 1024);
                let n = f.read(&mut buf).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.truncate(n);
                Ok(Some((buf.freeze(), f)))
            });
            let s: ByteStream = Box::pin(s);
            Ok(s)
        })
    }
}

/// The upload URL a `202` answer points at.
fn location(base: &Url, headers: &HeaderMap) -> Option<Url> {
    let loc = headers.get(LOCATION)?.to_str().ok()?;
    base.join(loc).ok()
}

impl Repository {
    fn invalid(&self, host: &Host, req: &Request<'_>, detail: &str) -> RegistryError {
        RegistryError::InvalidResponse {
            context: Box::new(self.inner().context(host, req, None)),
            detail: detail.to_string(),
        }
    }

    fn pending_key(&self, digest: &Digest) -> (String, String, String) {
        (
            self.registry.to_string(),
            self.name.to_string(),
            digest.to_string(),
        )
    }

    /// Mounts a blob from another repository of the same registry. `true`: mounted.
    /// `false`: the registry opened an upload session instead; it is kept and used by the
    /// next [`upload_blob`](Repository::upload_blob) of this digest here (saving its
    /// `POST`), or left to the registry's stale-upload cleanup.
    pub async fn mount_blob(
        &self,
        digest: &Digest,
        from_repository: &str,
    ) -> Result<bool, RegistryError> {
        // The POST runs to its end even if this call is dropped (interrupted): a session it
        // opens is then recorded for `Client::abort_uploads` instead of being unknown.
        let this = self.clone();
        let (digest, from) = (digest.clone(), from_repository.to_string());
        let opening = Opening::new(Arc::clone(&self.client.inner));
        let task = tokio::spawn(async move {
            let _opening = opening;
            this.mount_now(&digest, &from).await
        });
        task.await.unwrap_or_else(|e| Err(self.task_failed(e)))
    }

    async fn mount_now(
        &self,
        digest: &Digest,
        from_repository: &str,
    ) -> Result<bool, RegistryError> {
        let host = self.host()?;
        let mut url_path = self.path("blobs/uploads/");
        url_path.push_str(&format!("?mount={digest}&from={from_repository}"));
        let req = Request::new(Method::POST, url_path)
            .repo(&self.name)
            .scope(&self.push_scope())
            .scope(&format!("repository:{from_repository}:pull"))
            .what(format!("blob {digest} mount from {from_repository}"));
        let resp = self.inner().send(&host, &req).await?;
        match resp.status().as_u16() {
            201 => Ok(true),
            202 => {
                if let Some(loc) = location(resp.url(), resp.headers()) {
                    self.inner()
                        .pending_uploads
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(self.pending_key(digest), loc);
                }
                Ok(false)
            }
            s => Err(self.invalid(&host, &req, &format!("mount answered {s}"))),
        }
    }

    /// Uploads a blob of `size` bytes read from `source`, retrying per the policy (each
    /// retry re-opens the source).
    pub async fn upload_blob(
        &self,
        digest: &Digest,
        size: u64,
        source: &dyn BlobOpener,
    ) -> Result<(), RegistryError> {
        let host = self.host()?;
        let inner = self.inner();
        let mut attempt = 1;
        let mut reauthenticated = false;
        loop {
            match self.upload_once(&host, digest, size, source).await {
                Ok(()) => return Ok(()),
                // A token that expired between the session's start and the streamed PUT:
                // the next try fetches a fresh one (once).
                Err(e) if e.status() == Some(401) && !reauthenticated => {
                    tracing::debug!(error = %e, "upload refused with 401, trying once more");
                    reauthenticated = true;
                }
                Err(e) => match inner.retry_wait(attempt, &e) {
                    Some(delay) => {
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(e),
                },
            }
        }
    }

    async fn upload_once(
        &self,
        host: &Arc<Host>,
        digest: &Digest,
        size: u64,
        source: &dyn BlobOpener,
    ) -> Result<(), RegistryError> {
        let pending = self
            .inner()
            .pending_uploads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.pending_key(digest));
        let session = match pending {
            Some(u) => u,
            None => self.start_upload(host, digest).await?,
        };
        // Tracked until it ends here; a cancelled (dropped) upload stays listed for
        // `Client::abort_uploads`.
        let inner = self.inner();
        let id = inner.next_upload.fetch_add(1, Ordering::Relaxed);
        let open = || inner.open_uploads.lock().unwrap_or_else(|e| e.into_inner());
        open().insert(id, (host.clone(), self.name.to_string(), session.clone()));
        let result = self
            .upload_in(host, id, session, digest, size, source)
            .await;
        open().remove(&id);
        result
    }

    /// Uploads into `session` (listed as `id` in `open_uploads`), going chunked in a new
    /// session (listed in its place) when a whole-body PUT is refused as too large.
    async fn upload_in(
        &self,
        host: &Arc<Host>,
        id: u64,
        mut session: Url,
        digest: &Digest,
        size: u64,
        source: &dyn BlobOpener,
    ) -> Result<(), RegistryError> {
        let limit = host.body_limit.load(Ordering::Relaxed);
        if limit == 0 || size <= limit {
            match self.put_whole(host, &session, digest, size, source).await {
                Err(e) if e.status() == Some(413) => {
                    let chunk = (size / 2).clamp(MIN_CHUNK, CHUNK_SIZE);
                    lower_limit(host, chunk);
                    tracing::debug!(
                        size,
                        chunk,
                        "monolithic upload refused (413), going chunked"
                    );
                    session = self.start_upload(host, digest).await?;
                    self.inner()
                        .open_uploads
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(id, (host.clone(), self.name.to_string(), session.clone()));
                }
                other => return other,
            }
        }
        self.put_chunked(host, session, digest, size, source).await
    }

    /// Opens an upload session. The POST runs to its end even if this call is dropped
    /// (interrupted): the session is listed in `open_uploads` from the moment its answer
    /// arrives until the caller holds it, so `Client::abort_uploads` deletes it either way.
    async fn start_upload(&self, host: &Arc<Host>, digest: &Digest) -> Result<Url, RegistryError> {
        let inner = Arc::clone(&self.client.inner);
        let id = inner.next_upload.fetch_add(1, Ordering::Relaxed);
        let this = self.clone();
        let (host2, digest) = (Arc::clone(host), digest.clone());
        let opening = Opening::new(Arc::clone(&inner));
        let task = tokio::spawn(async move {
            let _opening = opening;
            let url = this.open_session(&host2, &digest).await?;
            this.inner()
                .open_uploads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, (Arc::clone(&host2), this.name.to_string(), url.clone()));
            Ok(url)
        });
        let url = task.await.unwrap_or_else(|e| Err(self.task_failed(e)))?;
        inner
            .open_uploads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        Ok(url)
    }

    /// A detached request task that did not finish (a panic, or the runtime shutting down).
    fn task_failed(&self, e: tokio::task::JoinError) -> RegistryError {
        RegistryError::TaskEnded {
            what: format!("POST {}/{} blobs/uploads/", self.registry, self.name),
            detail: e.to_string(),
        }
    }

    async fn open_session(&self, host: &Host, digest: &Digest) -> Result<Url, RegistryError> {
        let req = self
            .request(Method::POST, "blobs/uploads/", &self.push_scope())
            .what(format!("blob {digest} upload"));
        let resp = self.inner().send(host, &req).await?;
        if resp.status().as_u16() != 202 {
            return Err(self.invalid(
                host,
                &req,
                &format!("starting an upload answered {}", resp.status().as_u16()),
            ));
        }
        location(resp.url(), resp.headers())
            .ok_or_else(|| self.invalid(host, &req, "upload session without a Location"))
    }

    /// The final `PUT ?digest=` URL of a session.
    fn commit_url(session: &Url, digest: &Digest) -> Url {
        let mut url = session.clone();
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        url
    }

    async fn put_whole(
        &self,
        host: &Host,
        session: &Url,
        digest: &Digest,
        size: u64,
        source: &dyn BlobOpener,
    ) -> Result<(), RegistryError> {
        let mut req = Request::new(Method::PUT, "")
            .url(Self::commit_url(session, digest))
            .repo(&self.name)
            .scope(&self.push_scope())
            .header(CONTENT_TYPE, OCTETS)
            .header(CONTENT_LENGTH, &size.to_string())
            .what(format!("blob {digest}"));
        req.streamed = true;
        let stream = source.open().await?;
        self.inner().send_stream(host, &req, stream).await?;
        Ok(())
    }

    async fn put_chunked(
        &self,
        host: &Host,
        mut session: Url,
        digest: &Digest,
        size: u64,
        source: &dyn BlobOpener,
    ) -> Result<(), RegistryError> {
        let inner = self.inner();
        let mut stream = source.open().await?;
        let mut buf = BytesMut::new();
        let mut done = false;
        let mut offset = 0u64;
        loop {
            let chunk = match host.body_limit.load(Ordering::Relaxed) {
                0 => CHUNK_SIZE,
                n => n,
            };
            while !done && (buf.len() as u64) < chunk {
                match stream.next().await {
                    Some(Ok(b)) => buf.extend_from_slice(&b),
                    Some(Err(source)) => {
                        return Err(RegistryError::Source {
                            context: Box::new(RequestContext::for_blob(self, digest)),
                            source,
                        });
                    }
                    None => done = true,
                }
            }
            if buf.is_empty() {
                break;
            }
            let n = (buf.len() as u64).min(chunk) as usize;
            let body = Bytes::copy_from_slice(&buf[..n]);
            let req = Request::new(Method::PATCH, "")
                .url(session.clone())
                .repo(&self.name)
                .scope(&self.push_scope())
                .header(CONTENT_TYPE, OCTETS)
                .header(
                    http::header::CONTENT_RANGE,
                    &format!("{}-{}", offset, offset + n as u64 - 1),
                )
                .header(CONTENT_LENGTH, &n.to_string())
                .body(body)
                .what(format!("blob {digest} chunk at {offset}"));
            match inner.send_once(host, &req).await {
                Ok(resp) => {
                    session = location(resp.url(), resp.headers()).unwrap_or(session);
                    offset += n as u64;
                    let _ = buf.split_to(n);
                }
                Err(e) if e.status() == Some(413) && n as u64 > MIN_CHUNK => {
                    lower_limit(host, (n as u64 / 2).max(MIN_CHUNK));
                    tracing::debug!(refused = n, "upload chunk refused (413), halving");
                }
                Err(e) => return Err(e),
            }
        }
        if offset != size {
            tracing::debug!(
                offset,
                size,
                "blob source length differs from the expected size"
            );
        }
        let req = Request::new(Method::PUT, "")
            .url(Self::commit_url(&session, digest))
            .repo(&self.name)
            .scope(&self.push_scope())
            .what(format!("blob {digest}"));
        inner.send_once(host, &req).await?;
        Ok(())
    }
}

/// Lowers the body size believed to pass for `host` to `n` (never raises it).
fn lower_limit(host: &Host, n: u64) {
    let _ = host
        .body_limit
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |cur| {
            (cur == 0 || n < cur).then_some(n)
        });
}

use crate::error::RequestContext;

impl RequestContext {
    fn for_blob(repo: &Repository, digest: &Digest) -> RequestContext {
        RequestContext {
            registry: repo.registry().to_string(),
            method: "PATCH".into(),
            repository: Some(repo.name().to_string()),
            what: format!("blob {digest}"),
            url: String::new(),
        }
    }
}
