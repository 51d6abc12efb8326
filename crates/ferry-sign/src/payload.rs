//! The signed payloads: simple signing's and cosign's JSON documents.
//!
//! Both have the same shape:
//! `{"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},"type":T},"optional":{...}}`
//! with `T` = [`SIMPLE_SIGNING_TYPE`] or [`COSIGN_TYPE`]. Parsing is strict about
//! `critical` (an unknown field there means a signature ferry does not understand, so it
//! is refused, as containers/image does) and lenient about `optional`.

use ferry_image::Digest;
use serde_json::{Map, Value, json};

/// `critical.type` of a simple signing (containers-signature(5)) payload.
pub const SIMPLE_SIGNING_TYPE: &str = "atomic container signature";
/// `critical.type` of a cosign payload.
pub const COSIGN_TYPE: &str = "cosign container image signature";

/// A parsed payload: what a signature claims.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Payload {
    /// `critical.type`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `critical.image.docker-manifest-digest`.
    pub digest: String,
    /// `critical.identity.docker-reference`, as written.
    pub identity: String,
    /// `optional.creator`, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// `optional.timestamp` (seconds since the epoch), when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
}

/// The payload bytes for `kind`, `digest` and `identity`, with ferry as creator and the
/// current time.
pub fn build(kind: &str, digest: &Digest, identity: &str) -> Vec<u8> {
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let v = json!({
        "critical": {
            "identity": {"docker-reference": identity},
            "image": {"docker-manifest-digest": digest.as_str()},
            "type": kind,
        },
        "optional": {
            "creator": format!("ferry {}", env!("CARGO_PKG_VERSION")),
            "timestamp": timestamp,
        }
    });
    // Serializing a `Value` cannot fail.
    serde_json::to_vec(&v).unwrap_or_default()
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} is not a JSON object"))
}

fn exactly<'a>(
    m: &'a Map<String, Value>,
    what: &str,
    keys: &[&str],
) -> Result<Vec<&'a Value>, String> {
    for k in m.keys() {
        if !keys.contains(&k.as_str()) {
            return Err(format!("unknown field {what}.{k}"));
        }
    }
    keys.iter()
        .map(|k| m.get(*k).ok_or_else(|| format!("{what}.{k} is missing")))
        .collect()
}

fn string(v: &Value, what: &str) -> Result<String, String> {
    v.as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{what} is not a string"))
}

/// Parses payload bytes, requiring `critical.type` to be `kind`.
pub fn parse(bytes: &[u8], kind: &str) -> Result<Payload, String> {
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the payload is not JSON: {e}"))?;
    let top = object(&v, "the payload")?;
    for k in top.keys() {
        if k != "critical" && k != "optional" {
            return Err(format!("unknown top-level field {k}"));
        }
    }
    let critical = object(
        top.get("critical").ok_or("critical is missing")?,
        "critical",
    )?;
    let fields = exactly(critical, "critical", &["identity", "image", "type"])?;
    let found_kind = string(fields[2], "critical.type")?;
    if found_kind != kind {
        return Err(format!(
            "critical.type is {found_kind:?}, expected {kind:?}"
        ));
    }
    let identity = exactly(
        object(fields[0], "critical.identity")?,
        "critical.identity",
        &["docker-reference"],
    )?;
    let identity = string(identity[0], "critical.identity.docker-reference")?;
    let image = exactly(
        object(fields[1], "critical.image")?,
        "critical.image",
        &["docker-manifest-digest"],
    )?;
    let digest = string(image[0], "critical.image.docker-manifest-digest")?;
    let (mut creator, mut timestamp) = (None, None);
    match top.get("optional") {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => {
            creator = o.get("creator").and_then(Value::as_str).map(str::to_string);
            timestamp = o.get("timestamp").and_then(Value::as_i64);
        }
        Some(_) => return Err("optional is not a JSON object".to_string()),
    }
    Ok(Payload {
        kind: found_kind,
        digest,
        identity,
        creator,
        timestamp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_then_parse() {
        let d = Digest::sha256(b"x");
        let p = build(SIMPLE_SIGNING_TYPE, &d, "reg.io/a/b:1");
        let parsed = parse(&p, SIMPLE_SIGNING_TYPE).unwrap();
        assert_eq!(parsed.digest, d.as_str());
        assert_eq!(parsed.identity, "reg.io/a/b:1");
        assert!(parsed.creator.unwrap().starts_with("ferry "));
        assert!(parse(&p, COSIGN_TYPE).is_err());
    }

    #[test]
    fn unknown_critical_field_is_refused() {
        let p = br#"{"critical":{"identity":{"docker-reference":"a/b"},"image":{"docker-manifest-digest":"sha256:00"},"type":"atomic container signature","extra":1}}"#;
        assert!(parse(p, SIMPLE_SIGNING_TYPE).unwrap_err().contains("extra"));
    }

    #[test]
    fn null_optional_is_accepted() {
        let p = br#"{"critical":{"identity":{"docker-reference":"a/b"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":null}"#;
        assert_eq!(parse(p, COSIGN_TYPE).unwrap().identity, "a/b");
    }
}
