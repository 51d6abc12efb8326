//! Manifests: HEAD, GET (verified), PUT, DELETE by digest and by tag.

use bytes::Bytes;
use ferry_image::media_types::MANIFEST_TYPES;
use ferry_image::{Descriptor, Digest, MediaType, RawManifest, Target};
use http::Method;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderMap};

use crate::{RegistryError, Repository};

/// Largest manifest read.
pub(crate) const MANIFEST_LIMIT: u64 = 8 * 1024 * 1024;
/// The header registries send the content digest in.
pub(crate) const DIGEST_HEADER: &str = "docker-content-digest";

/// What a `HEAD` of a manifest tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    /// `Docker-Content-Digest`, when sent and valid.
    pub digest: Option<Digest>,
    /// `Content-Type`, when sent.
    pub media_type: Option<MediaType>,
    /// `Content-Length`, when sent.
    pub size: Option<u64>,
}

fn accept() -> String {
    MANIFEST_TYPES.join(", ")
}

pub(crate) fn header_digest(headers: &HeaderMap) -> Option<Digest> {
    headers
        .get(DIGEST_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| Digest::parse(s.trim()).ok())
}

fn header_str(headers: &HeaderMap, name: http::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn what(target: &Target) -> String {
    format!("manifest {target}")
}

impl Repository {
    /// HEADs a manifest; `None` when the registry answers 404.
    pub async fn head_manifest(
        &self,
        target: &Target,
    ) -> Result<Option<ManifestHead>, RegistryError> {
        let host = self.host()?;
        let req = self
            .request(
                Method::HEAD,
                &format!("manifests/{target}"),
                &self.pull_scope(),
            )
            .header(ACCEPT, &accept())
            .what(what(target));
        let resp = match self.inner().send(&host, &req).await {
            Ok(r) => r,
            Err(e) if e.status() == Some(404) => return Ok(None),
            Err(e) => return Err(e),
        };
        let h = resp.headers();
        Ok(Some(ManifestHead {
            digest: header_digest(h),
            media_type: header_str(h, CONTENT_TYPE).map(MediaType::new),
            size: header_str(h, http::header::CONTENT_LENGTH).and_then(|s| s.trim().parse().ok()),
        }))
    }

    /// The digest `target` points at: a HEAD, and a GET when the registry's HEAD answer
    /// has no `Docker-Content-Digest`. `None` when the manifest does not exist.
    pub async fn resolve_digest(&self, target: &Target) -> Result<Option<Digest>, RegistryError> {
        match self.head_manifest(target).await? {
            None => Ok(None),
            Some(ManifestHead {
                digest: Some(d), ..
            }) => Ok(Some(d)),
            Some(_) => Ok(Some(self.get_manifest(target).await?.digest().clone())),
        }
    }

    /// The descriptor of the manifest `target` points at: a HEAD, and a GET when the
    /// registry's HEAD answer lacks the digest, media type or size. `None` when the
    /// manifest does not exist.
    pub async fn resolve_descriptor(
        &self,
        target: &Target,
    ) -> Result<Option<Descriptor>, RegistryError> {
        match self.head_manifest(target).await? {
            None => Ok(None),
            Some(ManifestHead {
                digest: Some(digest),
                media_type: Some(mt),
                size: Some(size),
            }) => Ok(Some(Descriptor::new(mt, size, digest))),
            Some(_) => Ok(Some(self.get_manifest(target).await?.descriptor())),
        }
    }

    /// GETs a manifest, accepting every type ferry parses. By digest, the bytes must have
    /// that digest; by tag, they must match the `Docker-Content-Digest` the registry sent.
    pub async fn get_manifest(&self, target: &Target) -> Result<RawManifest, RegistryError> {
        let host = self.host()?;
        let req = self
            .request(
                Method::GET,
                &format!("manifests/{target}"),
                &self.pull_scope(),
            )
            .header(ACCEPT, &accept())
            .what(what(target));
        let inner = self.inner();
        let resp = inner.send(&host, &req).await?;
        let url = resp.url().clone();
        let declared = header_str(resp.headers(), CONTENT_TYPE).map(str::to_string);
        let sent_digest = header_digest(resp.headers());
        let bytes = inner.body(&host, &req, resp, MANIFEST_LIMIT).await?;
        let context = || Box::new(inner.context(&host, &req, Some(&url)));
        let content_error = |source| {
            if looks_like_json(&bytes) {
                RegistryError::Content {
                    context: context(),
                    source,
                }
            } else {
                RegistryError::InvalidResponse {
                    context: context(),
                    detail: format!("the manifest body is not JSON ({source})"),
                }
            }
        };
        match target {
            Target::Digest(d) => {
                RawManifest::verified(bytes.clone(), declared.as_deref(), d).map_err(content_error)
            }
            Target::Tag(_) => {
                let m =
                    RawManifest::new(bytes.clone(), declared.as_deref()).map_err(content_error)?;
                if let Some(sent) = sent_digest
                    && sent.algorithm() == m.digest().algorithm()
                    && &sent != m.digest()
                {
                    return Err(RegistryError::Content {
                        context: context(),
                        source: ferry_image::ImageError::DigestMismatch {
                            expected: sent.to_string(),
                            actual: m.digest().to_string(),
                        },
                    });
                }
                Ok(m)
            }
        }
    }

    /// PUTs a manifest under a tag or its digest; returns the digest the registry reports
    /// (or the manifest's own when it reports none).
    pub async fn put_manifest(
        &self,
        target: &Target,
        manifest: &RawManifest,
    ) -> Result<Digest, RegistryError> {
        let host = self.host()?;
        let req = self
            .request(
                Method::PUT,
                &format!("manifests/{target}"),
                &self.push_scope(),
            )
            .header(CONTENT_TYPE, manifest.media_type().as_str())
            .body(Bytes::copy_from_slice(manifest.bytes()))
            .what(what(target));
        let resp = self.inner().send(&host, &req).await?;
        Ok(header_digest(resp.headers()).unwrap_or_else(|| manifest.digest().clone()))
    }

    /// DELETEs a manifest by digest (every tag pointing at it goes too).
    pub async fn delete_manifest(&self, digest: &Digest) -> Result<(), RegistryError> {
        self.delete(&format!("manifests/{digest}"), format!("manifest {digest}"))
            .await
    }

    /// DELETEs the manifest `target` names: a digest as is, a tag through the digest it
    /// points at (so every tag of that manifest goes). `None` when the tag does not exist.
    pub async fn delete_image(&self, target: &Target) -> Result<Option<Digest>, RegistryError> {
        let digest = match target {
            Target::Digest(d) => d.clone(),
            t @ Target::Tag(_) => match self.resolve_digest(t).await? {
                Some(d) => d,
                None => return Ok(None),
            },
        };
        self.delete_manifest(&digest).await?;
        Ok(Some(digest))
    }

    /// DELETEs a tag. Registries that only delete by digest (distribution 2.x answers 400
    /// `DIGEST_INVALID`, others 405) give an error whose
    /// [`is_unsupported`](RegistryError::is_unsupported) is true.
    pub async fn delete_tag(&self, tag: &str) -> Result<(), RegistryError> {
        self.delete(&format!("manifests/{tag}"), format!("tag {tag}"))
            .await
    }

    pub(crate) async fn delete(&self, rest: &str, what: String) -> Result<(), RegistryError> {
        let host = self.host()?;
        let scope = format!("repository:{}:delete", self.name);
        let req = self.request(Method::DELETE, rest, &scope).what(what);
        self.inner().send(&host, &req).await?;
        Ok(())
    }
}

fn looks_like_json(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[')
}
