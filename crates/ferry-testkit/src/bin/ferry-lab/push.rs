//! Pushing test images to a registry given only its address (the kit's own pusher needs a
//! `Registry` handle from the same process; `ferry-lab seed` talks to one started by
//! `ferry-lab serve` in another process). Anonymous, plain HTTP or https without
//! verification, HEAD before upload, monolithic POST + PUT.

use std::time::Duration;

use ferry_testkit::images::{Blob, TestImage, TestIndex};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{CONTENT_TYPE, LOCATION};

pub struct Pusher {
    client: Client,
    base: String,
}

fn failure(what: &str, resp: Response) -> String {
    let status = resp.status();
    let body = resp.text().unwrap_or_default();
    format!("{what}: HTTP {status}: {}", body.trim())
}

impl Pusher {
    /// `host` is `HOST:PORT` (plain http) or a full `http(s)://HOST:PORT` base URL.
    pub fn new(host: &str) -> Result<Pusher, String> {
        let base = if host.starts_with("http://") || host.starts_with("https://") {
            host.trim_end_matches('/').to_string()
        } else {
            format!("http://{host}")
        };
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(600))
            .no_proxy()
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Pusher { client, base })
    }

    /// Uploads `blob` unless the repository already has it; true when uploaded.
    pub fn blob(&self, repo: &str, blob: &Blob) -> Result<bool, String> {
        let head = format!("{}/v2/{repo}/blobs/{}", self.base, blob.digest);
        let resp = self
            .client
            .head(&head)
            .send()
            .map_err(|e| format!("HEAD {head}: {e}"))?;
        if resp.status() == StatusCode::OK {
            return Ok(false);
        }
        let url = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let resp = self
            .client
            .post(&url)
            .send()
            .map_err(|e| format!("POST {url}: {e}"))?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(failure(&format!("POST {url}"), resp));
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("POST {url}: no Location"))?;
        let mut put = if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{}{location}", self.base)
        };
        put.push(if put.contains('?') { '&' } else { '?' });
        put.push_str(&format!("digest={}", blob.digest.replace(':', "%3A")));
        let resp = self
            .client
            .put(&put)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(blob.bytes.clone())
            .send()
            .map_err(|e| format!("PUT blob {}: {e}", blob.digest))?;
        if resp.status() != StatusCode::CREATED {
            return Err(failure(&format!("PUT blob {}", blob.digest), resp));
        }
        Ok(true)
    }

    /// PUTs manifest bytes under `reference` (tag or digest).
    pub fn manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<(), String> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let resp = self
            .client
            .put(&url)
            .header(CONTENT_TYPE, media_type)
            .body(bytes.to_vec())
            .send()
            .map_err(|e| format!("PUT {url}: {e}"))?;
        if resp.status() != StatusCode::CREATED {
            return Err(failure(&format!("PUT {url}"), resp));
        }
        Ok(())
    }

    /// Blobs, then the manifest under `reference`.
    pub fn image(&self, repo: &str, reference: &str, img: &TestImage) -> Result<(), String> {
        for blob in img.blobs() {
            self.blob(repo, blob)?;
        }
        self.manifest(repo, reference, &img.media_type, &img.manifest)
    }

    /// Every child by digest, then the list under `tag`.
    pub fn index(&self, repo: &str, tag: &str, idx: &TestIndex) -> Result<(), String> {
        for img in &idx.images {
            self.image(repo, &img.digest, img)?;
        }
        self.manifest(repo, tag, &idx.media_type, &idx.manifest)
    }
}
