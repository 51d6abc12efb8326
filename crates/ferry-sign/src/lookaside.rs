//! Simple signing signatures in a lookaside: `<base>/<repository>@<algo>=<hex>/signature-N`,
//! N from 1, readers stopping at the first missing index.
//!
//! `file://` lookasides are read and written; `http://` and `https://` ones are read
//! (GET; 404 ends the list) and never written.

use std::path::PathBuf;

use ferry_image::Digest;
use url::Url;

use crate::SignError;

/// Largest signature read.
const SIGNATURE_LIMIT: usize = 4 * 1024 * 1024;
/// Most signatures read for one manifest.
const MAX_SIGNATURES: usize = 128;

/// The lookaside directory of one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookaside {
    base: Url,
}

impl Lookaside {
    /// The lookaside of `repository` (its path in the registry, e.g. `ns/app`) under
    /// `top_level` (a lookaside URL from registries.d).
    pub fn new(top_level: &Url, repository: &str) -> Result<Lookaside, SignError> {
        if repository
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(SignError::Invalid(format!(
                "repository {repository}: not a clean path for a lookaside"
            )));
        }
        let mut base = top_level.clone();
        let path = format!("{}/{repository}", base.path().trim_end_matches('/'));
        base.set_path(&path);
        match base.scheme() {
            "file" | "http" | "https" => Ok(Lookaside { base }),
            s => Err(SignError::Lookaside {
                url: top_level.to_string(),
                reason: format!("scheme {s}: is not supported (file, http, https are)"),
            }),
        }
    }

    /// The URL of signature `index` (from 1) of `digest`.
    pub fn signature_url(&self, digest: &Digest, index: usize) -> Url {
        let mut u = self.base.clone();
        let path = format!(
            "{}@{}={}/signature-{index}",
            u.path(),
            digest.algorithm().name(),
            digest.hex()
        );
        u.set_path(&path);
        u
    }

    fn file_path(&self, url: &Url) -> Result<PathBuf, SignError> {
        url.to_file_path().map_err(|_| SignError::Lookaside {
            url: url.to_string(),
            reason: "not a local file path".to_string(),
        })
    }

    /// Whether this lookaside can be written (a `file://` one).
    pub fn is_writable(&self) -> bool {
        self.base.scheme() == "file"
    }

    /// Every signature of `digest`, in order (index 1 first).
    pub async fn read(&self, digest: &Digest) -> Result<Vec<Vec<u8>>, SignError> {
        let mut out = Vec::new();
        let client = if self.is_writable() {
            None
        } else {
            Some(
                reqwest::Client::builder()
                    .build()
                    .map_err(|e| SignError::Lookaside {
                        url: self.base.to_string(),
                        reason: format!("no HTTP client ({e})"),
                    })?,
            )
        };
        for index in 1..=MAX_SIGNATURES {
            let url = self.signature_url(digest, index);
            let found = match &client {
                None => {
                    let path = self.file_path(&url)?;
                    match tokio::fs::read(&path).await {
                        Ok(b) => Some(b),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                        Err(e) => return Err(SignError::io(&path, e)),
                    }
                }
                Some(c) => http_get(c, &url).await?,
            };
            match found {
                Some(b) if b.len() > SIGNATURE_LIMIT => {
                    return Err(SignError::Lookaside {
                        url: url.to_string(),
                        reason: format!("more than {SIGNATURE_LIMIT} bytes"),
                    });
                }
                Some(b) => out.push(b),
                None => break,
            }
        }
        Ok(out)
    }

    /// Writes `signature` as signature `index` of `digest` (file lookasides only):
    /// written to a temporary file and renamed, so readers never see part of it.
    pub async fn write(
        &self,
        digest: &Digest,
        index: usize,
        signature: &[u8],
    ) -> Result<Url, SignError> {
        let url = self.signature_url(digest, index);
        if !self.is_writable() {
            return Err(SignError::Lookaside {
                url: self.base.to_string(),
                reason: "only file:// lookasides can be written; set lookaside-staging to a file:// URL and publish it".to_string(),
            });
        }
        let path = self.file_path(&url)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| SignError::io(dir, e))?;
        }
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        tokio::fs::write(&tmp, signature)
            .await
            .map_err(|e| SignError::io(&tmp, e))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(|e| SignError::io(&path, e))?;
        Ok(url)
    }
}

async fn http_get(client: &reqwest::Client, url: &Url) -> Result<Option<Vec<u8>>, SignError> {
    let err = |reason: String| SignError::Lookaside {
        url: url.to_string(),
        reason,
    };
    let resp = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| err(format!("GET failed ({})", e.without_url())))?;
    match resp.status().as_u16() {
        200 => {}
        404 => return Ok(None),
        s => return Err(err(format!("GET answered {s}"))),
    }
    if resp
        .content_length()
        .is_some_and(|l| l > SIGNATURE_LIMIT as u64)
    {
        return Err(err(format!("more than {SIGNATURE_LIMIT} bytes")));
    }
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| err(format!("reading the body failed ({})", e.without_url())))?;
    Ok(Some(bytes.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_containers_image() {
        let base = Url::parse("file:///var/sigs/").unwrap();
        let l = Lookaside::new(&base, "ns/app").unwrap();
        let d = Digest::sha256(b"x");
        assert_eq!(
            l.signature_url(&d, 1).as_str(),
            format!("file:///var/sigs/ns/app@sha256={}/signature-1", d.hex())
        );
        assert!(Lookaside::new(&base, "ns/../x").is_err());
        assert!(
            !Lookaside::new(&Url::parse("https://s.io/sigs").unwrap(), "a")
                .unwrap()
                .is_writable()
        );
    }
}
