//! Pushing test images to a registry given only its address (the kit's own pusher needs a
//! `Registry` handle from the same process; `ferry-lab seed` talks to one started by
//! `ferry-lab serve` in another process). Plain HTTP or https without verification,
//! anonymous or with one user (Basic, or bearer tokens from the registry's token realm),
//! HEAD before upload, monolithic POST + PUT.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use ferry_testkit::images::{Blob, TestImage, TestIndex};
use reqwest::StatusCode;
use reqwest::blocking::RequestBuilder;
use reqwest::blocking::{Client, Response};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};

pub struct Pusher {
    client: Client,
    base: String,
    creds: Option<(String, String)>,
    /// How the registry wants to be spoken to, learnt from `GET /v2/` once.
    challenge: Mutex<Option<Challenge>>,
    /// Bearer tokens per repository.
    tokens: Mutex<HashMap<String, String>>,
}

#[derive(Clone)]
enum Challenge {
    None,
    Basic,
    Bearer { realm: String, service: String },
}

/// `key="value"` out of a `WWW-Authenticate` header.
fn param(header: &str, key: &str) -> Option<String> {
    let at = header.find(&format!("{key}=\""))? + key.len() + 2;
    let end = header[at..].find('"')? + at;
    Some(header[at..end].to_string())
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
        Ok(Pusher {
            client,
            base,
            creds: None,
            challenge: Mutex::new(None),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// Authenticate as `user` (Basic, or bearer tokens when the registry has a realm).
    pub fn with_creds(mut self, user: &str, password: &str) -> Pusher {
        self.creds = Some((user.to_string(), password.to_string()));
        self
    }

    fn challenge(&self) -> Result<Challenge, String> {
        let mut slot = self.challenge.lock().map_err(|_| "lock poisoned")?;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let url = format!("{}/v2/", self.base);
        let resp = self
            .client
            .get(&url)
            .send()
            .map_err(|e| format!("GET {url}: {e}"))?;
        let header = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let c = if resp.status() != StatusCode::UNAUTHORIZED {
            Challenge::None
        } else if header.to_ascii_lowercase().starts_with("bearer") {
            Challenge::Bearer {
                realm: param(&header, "realm").ok_or_else(|| format!("GET {url}: no realm"))?,
                service: param(&header, "service").unwrap_or_default(),
            }
        } else {
            Challenge::Basic
        };
        *slot = Some(c.clone());
        Ok(c)
    }

    /// `req` with the credentials `repo` needs attached.
    fn auth(&self, repo: &str, req: RequestBuilder) -> Result<RequestBuilder, String> {
        let Some((user, password)) = &self.creds else {
            return Ok(req);
        };
        match self.challenge()? {
            Challenge::None => Ok(req),
            Challenge::Basic => Ok(req.basic_auth(user, Some(password))),
            Challenge::Bearer { realm, service } => {
                let mut tokens = self.tokens.lock().map_err(|_| "lock poisoned")?;
                if let Some(t) = tokens.get(repo) {
                    return Ok(req.header(AUTHORIZATION, format!("Bearer {t}")));
                }
                let scope = format!("repository:{repo}:pull,push");
                let resp = self
                    .client
                    .get(&realm)
                    .query(&[("service", service.as_str()), ("scope", scope.as_str())])
                    .basic_auth(user, Some(password))
                    .send()
                    .map_err(|e| format!("token for {repo}: {e}"))?;
                if !resp.status().is_success() {
                    return Err(failure(&format!("token for {repo}"), resp));
                }
                let bytes = resp.bytes().map_err(|e| format!("token for {repo}: {e}"))?;
                let body: serde_json::Value = serde_json::from_slice(&bytes)
                    .map_err(|e| format!("token for {repo}: not JSON: {e}"))?;
                let token = body["token"]
                    .as_str()
                    .or(body["access_token"].as_str())
                    .ok_or_else(|| format!("token for {repo}: no token in the answer"))?
                    .to_string();
                tokens.insert(repo.to_string(), token.clone());
                Ok(req.header(AUTHORIZATION, format!("Bearer {token}")))
            }
        }
    }

    /// Uploads `blob` unless the repository already has it; true when uploaded.
    pub fn blob(&self, repo: &str, blob: &Blob) -> Result<bool, String> {
        let head = format!("{}/v2/{repo}/blobs/{}", self.base, blob.digest);
        let resp = self
            .auth(repo, self.client.head(&head))?
            .send()
            .map_err(|e| format!("HEAD {head}: {e}"))?;
        if resp.status() == StatusCode::OK {
            return Ok(false);
        }
        let url = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let resp = self
            .auth(repo, self.client.post(&url))?
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
            .auth(repo, self.client.put(&put))?
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
            .auth(repo, self.client.put(&url))?
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
