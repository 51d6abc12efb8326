//! Canned answers the proxy serves itself instead of forwarding: what a hostile registry
//! would send (redirect loops, a lying manifest, an endless body, a foreign token realm).

use std::sync::Arc;

use bytes::Bytes;

/// Makes the chunks of a generated body, anew for every answer served.
pub type ChunkMaker = Arc<dyn Fn() -> Box<dyn Iterator<Item = Bytes> + Send> + Send + Sync>;

/// The body of an [`Answer`].
#[derive(Clone)]
pub enum AnswerBody {
    /// These bytes, with a `Content-Length`.
    Bytes(Bytes),
    /// Chunks generated while they are sent (never held whole), with `Content-Length:
    /// len` when given, else chunked.
    Generated {
        /// The declared length, if any.
        len: Option<u64>,
        /// The chunk generator.
        chunks: ChunkMaker,
    },
}

impl std::fmt::Debug for AnswerBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnswerBody::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            AnswerBody::Generated { len, .. } => write!(f, "Generated(len {len:?})"),
        }
    }
}

/// An answer the proxy gives itself to matching requests.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// Extra headers (`Content-Length` is set from the body).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: AnswerBody,
}

impl Answer {
    /// `status` with `body` of `content_type`.
    pub fn bytes(status: u16, content_type: &str, body: impl Into<Bytes>) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: AnswerBody::Bytes(body.into()),
        }
    }

    /// A redirect (`status` 301, 302, 307 or 308) to `location` (a path on the proxy, or
    /// a URL).
    pub fn redirect(status: u16, location: &str) -> Answer {
        Answer {
            status,
            headers: vec![("location".into(), location.into())],
            body: AnswerBody::Bytes(Bytes::new()),
        }
    }

    /// `401 Unauthorized` with `WWW-Authenticate: challenge`.
    pub fn challenge(challenge: &str) -> Answer {
        Answer {
            status: 401,
            headers: vec![
                ("www-authenticate".into(), challenge.into()),
                ("content-type".into(), "application/json".into()),
            ],
            body: AnswerBody::Bytes(Bytes::from_static(
                br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            )),
        }
    }

    /// `200 OK` with a body of `content_type` generated chunk by chunk by `chunks`,
    /// declared `len` long (`None`: chunked, no length).
    pub fn generated(
        content_type: &str,
        len: Option<u64>,
        chunks: impl Fn() -> Box<dyn Iterator<Item = Bytes> + Send> + Send + Sync + 'static,
    ) -> Answer {
        Answer {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            body: AnswerBody::Generated {
                len,
                chunks: Arc::new(chunks),
            },
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// An OCI image index of `entries` manifest descriptors (distinct made-up digests),
/// generated 1,000 entries per chunk: about 205 bytes an entry.
pub fn huge_index(entries: usize) -> Answer {
    Answer::generated("application/vnd.oci.image.index.v1+json", None, move || {
        let head = Bytes::from_static(
                br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":["#,
            );
        let body = (0..entries.div_ceil(1000)).map(move |block| {
                let mut s = String::with_capacity(1000 * 160);
                for i in block * 1000..((block + 1) * 1000).min(entries) {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(&format!(
                        r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{i:064x}","size":{},"platform":{{"architecture":"amd64","os":"linux"}}}}"#,
                        500 + i % 100
                    ));
                }
                Bytes::from(s)
            });
        let tail = std::iter::once(Bytes::from_static(b"]}"));
        Box::new(std::iter::once(head).chain(body).chain(tail))
    })
}

/// An OCI image manifest `total` bytes long (a JSON annotation padded with spaces),
/// generated 1 MiB per chunk; with `Content-Length` when `declare_length`.
pub fn huge_manifest(total: u64, declare_length: bool) -> Answer {
    const HEAD: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[],"annotations":{"pad":""#;
    const TAIL: &str = r#""}}"#;
    let pad = total.saturating_sub((HEAD.len() + TAIL.len()) as u64);
    Answer::generated(
        "application/vnd.oci.image.manifest.v1+json",
        declare_length.then_some(total),
        move || {
            const PIECE: u64 = 1024 * 1024;
            let spaces = Bytes::from(vec![b' '; PIECE as usize]);
            let pieces = (0..pad.div_ceil(PIECE)).map(move |i| {
                let n = PIECE.min(pad - i * PIECE) as usize;
                spaces.slice(..n)
            });
            Box::new(
                std::iter::once(Bytes::from_static(HEAD.as_bytes()))
                    .chain(pieces)
                    .chain(std::iter::once(Bytes::from_static(TAIL.as_bytes()))),
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(a: &Answer) -> Vec<u8> {
        let AnswerBody::Generated { chunks, .. } = &a.body else {
            panic!("generated")
        };
        chunks().flat_map(|b| b.to_vec()).collect()
    }

    #[test]
    fn generated_bodies_are_valid_json_of_the_asked_size() {
        let idx = collect(&huge_index(2500));
        let v: serde_json::Value = serde_json::from_slice(&idx).unwrap();
        assert_eq!(v["manifests"].as_array().unwrap().len(), 2500);
        let m = collect(&huge_manifest(3 * 1024 * 1024 + 7, true));
        assert_eq!(m.len(), 3 * 1024 * 1024 + 7);
        let v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        assert_eq!(v["schemaVersion"], 2);
    }
}
