//! Docker schema 1: the payload a registry digests, which is the manifest without its
//! JWS signatures.
//!
//! A signed schema 1 manifest carries, in each signature's `protected` header, the length
//! of the payload that was signed (`formatLength`) and the text that closed it
//! (`formatTail`). The payload is the first `formatLength` bytes followed by the decoded
//! tail; its digest is the manifest's digest.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{ImageError, media_types};

#[derive(serde::Deserialize)]
struct Signed {
    #[serde(default)]
    signatures: Vec<Signature>,
}

#[derive(serde::Deserialize)]
struct Signature {
    protected: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Protected {
    format_length: usize,
    format_tail: String,
}

fn bad(reason: impl Into<String>) -> ImageError {
    ImageError::manifest(media_types::DOCKER_SCHEMA1_SIGNED, reason)
}

/// The bytes whose digest is the manifest's digest: the signed payload for a signed
/// manifest, the bytes as they are for an unsigned one.
pub(crate) fn payload(bytes: &[u8]) -> Result<Vec<u8>, ImageError> {
    let signed: Signed =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Some(first) = signed.signatures.first() else {
        return Ok(bytes.to_vec());
    };
    let header = decode(&first.protected).map_err(|e| bad(format!("protected header: {e}")))?;
    let protected: Protected = serde_json::from_slice(&header)
        .map_err(|e| bad(format!("protected header is not the expected JSON: {e}")))?;
    if protected.format_length > bytes.len() {
        return Err(bad(format!(
            "formatLength {} is beyond the manifest's {} bytes",
            protected.format_length,
            bytes.len()
        )));
    }
    let tail = decode(&protected.format_tail).map_err(|e| bad(format!("formatTail: {e}")))?;
    let mut out = Vec::with_capacity(protected.format_length + tail.len());
    out.extend_from_slice(&bytes[..protected.format_length]);
    out.extend_from_slice(&tail);
    Ok(out)
}

fn decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_signatures() {
        let body = "{\n   \"schemaVersion\": 1,\n   \"name\": \"a\",\n   \"tag\": \"t\",\n   \"architecture\": \"amd64\",\n   \"fsLayers\": [],\n   \"history\": []";
        let tail = "\n}";
        let protected = format!(
            "{{\"formatLength\":{},\"formatTail\":\"{}\",\"time\":\"2020-01-01T00:00:00Z\"}}",
            body.len(),
            URL_SAFE_NO_PAD.encode(tail)
        );
        let signed = format!(
            "{body},\n   \"signatures\": [{{\"header\": {{}}, \"signature\": \"x\", \"protected\": \"{}\"}}]\n}}",
            URL_SAFE_NO_PAD.encode(protected)
        );
        let p = payload(signed.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(p).unwrap(), format!("{body}{tail}"));
    }

    #[test]
    fn unsigned_is_itself() {
        let m = br#"{"schemaVersion":1,"name":"a","fsLayers":[]}"#;
        assert_eq!(payload(m).unwrap(), m.to_vec());
    }

    #[test]
    fn refuses_lies() {
        let protected = URL_SAFE_NO_PAD.encode(r#"{"formatLength":99999,"formatTail":"fQ"}"#);
        let m = format!(r#"{{"schemaVersion":1,"signatures":[{{"protected":"{protected}"}}]}}"#);
        assert!(payload(m.as_bytes()).is_err());
        let m = r#"{"schemaVersion":1,"signatures":[{"protected":"!!"}]}"#;
        assert!(payload(m.as_bytes()).is_err());
    }
}
