//! A minimal raw-HTTP pusher, independent of ferry's own client, to seed registries.
//!
//! Blobs: `POST /v2/<repo>/blobs/uploads/` then a monolithic `PUT <location>?digest=`.
//! Manifests: `PUT /v2/<repo>/manifests/<ref>` with the manifest's Content-Type.
//! Authentication: whatever `GET /v2/` challenges with — Basic with the registry's
//! credentials, or a Bearer token fetched from the realm for `repository:<repo>:pull,push`.
//! A registry of this process is an [`Endpoint::of`]; one known only by address (started
//! by `ferry-lab serve` in another process) is an [`Endpoint::at`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};

use super::{Artifact, Blob, TestImage, TestIndex};
use crate::Registry;

/// Where [`try_push_to`] pushes: a registry's base URL, the HTTP client to reach it, the
/// credentials it may ask for, and whether blobs it already has are skipped.
#[derive(Clone)]
pub struct Endpoint {
    client: Client,
    base: String,
    credentials: Option<(String, String)>,
    skip_existing: bool,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base", &self.base)
            .field("credentials", &self.credentials.as_ref().map(|(u, _)| u))
            .field("skip_existing", &self.skip_existing)
            .finish()
    }
}

impl Endpoint {
    /// A registry this process started (its client trusts its CA; its credentials).
    pub fn of(reg: &Registry) -> Endpoint {
        Endpoint {
            client: reg.http_client(),
            base: reg.base_url(),
            credentials: reg.credentials(),
            skip_existing: false,
        }
    }

    /// A registry known only by address: `HOST:PORT` (plain http) or an `http(s)://` base
    /// URL (https without certificate verification), anonymous.
    pub fn at(address: &str) -> Result<Endpoint, String> {
        let base = if address.starts_with("http://") || address.starts_with("https://") {
            address.trim_end_matches('/').to_string()
        } else {
            format!("http://{address}")
        };
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(true)
            .timeout(std::time::Duration::from_secs(600))
            .no_proxy()
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Endpoint {
            client,
            base,
            credentials: None,
            skip_existing: false,
        })
    }

    /// Authenticates as `user`: Basic when the registry challenges with Basic, otherwise a
    /// Bearer token fetched from the challenge's realm with these credentials.
    pub fn with_credentials(mut self, user: &str, password: &str) -> Endpoint {
        self.credentials = Some((user.to_string(), password.to_string()));
        self
    }

    /// Asks (HEAD) before each blob upload and skips blobs the repository has.
    pub fn skip_existing(mut self) -> Endpoint {
        self.skip_existing = true;
        self
    }
}

struct Session {
    client: Client,
    base: String,
    repo: String,
    auth: Option<String>,
    skip_existing: bool,
}

impl Session {
    fn open(ep: &Endpoint, repo: &str) -> Result<Session, String> {
        let client = ep.client.clone();
        let base = ep.base.clone();
        let resp = client
            .get(format!("{base}/v2/"))
            .send()
            .map_err(|e| format!("GET /v2/: {e}"))?;
        let mut auth = None;
        if resp.status() == StatusCode::UNAUTHORIZED {
            let challenge = resp
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let basic = ep
                .credentials
                .as_ref()
                .map(|(u, p)| format!("Basic {}", STANDARD.encode(format!("{u}:{p}"))));
            if challenge.to_ascii_lowercase().starts_with("bearer") {
                auth = Some(fetch_token(&client, &challenge, repo, basic.as_deref())?);
            } else {
                auth = basic;
            }
        }
        Ok(Session {
            client,
            base,
            repo: repo.to_string(),
            auth,
            skip_existing: ep.skip_existing,
        })
    }

    fn with_auth(&self, rb: RequestBuilder) -> RequestBuilder {
        match &self.auth {
            Some(a) => rb.header(AUTHORIZATION, a),
            None => rb,
        }
    }

    fn put_blob(&self, blob: &Blob) -> Result<(), String> {
        if self.skip_existing {
            let head = format!("{}/v2/{}/blobs/{}", self.base, self.repo, blob.digest);
            let resp = self
                .with_auth(self.client.head(&head))
                .send()
                .map_err(|e| format!("HEAD {head}: {e}"))?;
            if resp.status() == StatusCode::OK {
                return Ok(());
            }
        }
        let url = format!("{}/v2/{}/blobs/uploads/", self.base, self.repo);
        let resp = self
            .with_auth(self.client.post(&url))
            .send()
            .map_err(|e| format!("POST {url}: {e}"))?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(failure("POST", &url, resp));
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("POST {url}: no Location"))?;
        let mut put_url = if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{}{location}", self.base)
        };
        put_url.push(if put_url.contains('?') { '&' } else { '?' });
        put_url.push_str(&format!("digest={}", blob.digest.replace(':', "%3A")));
        let resp = self
            .with_auth(self.client.put(&put_url))
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(blob.bytes.clone())
            .send()
            .map_err(|e| format!("PUT blob {}: {e}", blob.digest))?;
        if resp.status() != StatusCode::CREATED {
            return Err(failure("PUT", &format!("blob {}", blob.digest), resp));
        }
        Ok(())
    }

    fn put_manifest(&self, reference: &str, media_type: &str, bytes: &[u8]) -> Result<(), String> {
        let url = format!("{}/v2/{}/manifests/{reference}", self.base, self.repo);
        let resp = self
            .with_auth(self.client.put(&url))
            .header(CONTENT_TYPE, media_type)
            .body(bytes.to_vec())
            .send()
            .map_err(|e| format!("PUT {url}: {e}"))?;
        if resp.status() != StatusCode::CREATED {
            return Err(failure("PUT", &url, resp));
        }
        Ok(())
    }

    fn put_image(&self, img: &TestImage, reference: &str) -> Result<(), String> {
        for blob in img.blobs() {
            self.put_blob(blob)?;
        }
        self.put_manifest(reference, &img.media_type, &img.manifest)
    }
}

fn failure(method: &str, what: &str, resp: reqwest::blocking::Response) -> String {
    let status = resp.status();
    let body = resp.text().unwrap_or_default();
    format!("{method} {what}: HTTP {status}: {body}")
}

/// Extracts `key="value"` from a `WWW-Authenticate` challenge.
fn challenge_param(challenge: &str, key: &str) -> Option<String> {
    let needle = format!("{key}=\"");
    let start = challenge.find(&needle)? + needle.len();
    let end = challenge[start..].find('"')? + start;
    Some(challenge[start..end].to_string())
}

fn fetch_token(
    client: &Client,
    challenge: &str,
    repo: &str,
    basic: Option<&str>,
) -> Result<String, String> {
    let realm = challenge_param(challenge, "realm").ok_or("Bearer challenge without realm")?;
    let service = challenge_param(challenge, "service").unwrap_or_default();
    let mut rb = client.get(&realm).query(&[
        ("service", service.as_str()),
        ("scope", &format!("repository:{repo}:pull,push")),
    ]);
    if let Some(b) = basic {
        rb = rb.header(AUTHORIZATION, b);
    }
    let resp = rb.send().map_err(|e| format!("GET {realm}: {e}"))?;
    if !resp.status().is_success() {
        return Err(failure("GET", &realm, resp));
    }
    let body = resp.bytes().map_err(|e| format!("token body: {e}"))?;
    let v: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("token JSON: {e}"))?;
    let token = v["token"]
        .as_str()
        .or_else(|| v["access_token"].as_str())
        .ok_or("token response without token")?;
    Ok(format!("Bearer {token}"))
}

/// Pushes an image or a list (children, by digest, first) into `repo`, tagged `tag` or
/// by digest only when `tag` is `None`.
pub fn try_push<'a>(
    reg: &Registry,
    repo: &str,
    tag: Option<&str>,
    what: impl Into<Artifact<'a>>,
) -> Result<(), String> {
    try_push_to(&Endpoint::of(reg), repo, tag, what)
}

/// [`try_push`] to any [`Endpoint`].
pub fn try_push_to<'a>(
    ep: &Endpoint,
    repo: &str,
    tag: Option<&str>,
    what: impl Into<Artifact<'a>>,
) -> Result<(), String> {
    let what = what.into();
    crate::off_runtime(|| {
        let s = Session::open(ep, repo)?;
        let (media_type, digest, bytes) = what.top();
        let reference = tag.unwrap_or(digest);
        match what {
            Artifact::Image(img) => s.put_image(img, reference),
            Artifact::Index(idx) => {
                for img in &idx.images {
                    s.put_image(img, &img.digest)?;
                }
                s.put_manifest(reference, media_type, bytes)
            }
        }
    })
}

/// [`try_push`], panicking with the failing request on error.
pub fn push<'a>(reg: &Registry, repo: &str, tag: Option<&str>, what: impl Into<Artifact<'a>>) {
    if let Err(e) = try_push(reg, repo, tag, what) {
        panic!("ferry-testkit: push to {}/{repo} failed: {e}", reg.host());
    }
}

/// Pushes an image's blobs and manifest; tags it `tag` (or pushes by digest).
pub fn push_image(reg: &Registry, repo: &str, tag: Option<&str>, img: &TestImage) {
    push(reg, repo, tag, img);
}

/// Pushes every child image by digest, then the list under `tag` (or by digest).
pub fn push_index(reg: &Registry, repo: &str, tag: Option<&str>, idx: &TestIndex) {
    push(reg, repo, tag, idx);
}

/// Pushes one blob.
pub fn push_blob(reg: &Registry, repo: &str, blob: &Blob) {
    let r = crate::off_runtime(|| Session::open(&Endpoint::of(reg), repo)?.put_blob(blob));
    if let Err(e) = r {
        panic!(
            "ferry-testkit: blob push to {}/{repo} failed: {e}",
            reg.host()
        );
    }
}

/// PUTs raw manifest bytes under `reference` (a tag or a digest) with `media_type`.
pub fn push_manifest(reg: &Registry, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) {
    let r = crate::off_runtime(|| {
        Session::open(&Endpoint::of(reg), repo)?.put_manifest(reference, media_type, bytes)
    });
    if let Err(e) = r {
        panic!(
            "ferry-testkit: manifest push to {}/{repo} failed: {e}",
            reg.host()
        );
    }
}
