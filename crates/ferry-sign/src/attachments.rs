//! Cosign signatures as registry attachments.
//!
//! The signatures of manifest `sha256:<hex>` are the layers of an OCI image manifest
//! tagged `sha256-<hex>.sig` in the same repository: one layer per signature, media type
//! [`COSIGN_LAYER_TYPE`], its blob the payload, its annotation [`SIGNATURE_ANNOTATION`]
//! the base64 of the signature. The config (`application/vnd.oci.image.config.v1+json`)
//! lists the payload digests as `rootfs.diff_ids`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use ferry_image::media_types::{OCI_CONFIG, OCI_MANIFEST};
use ferry_image::{Digest, RawManifest, Target};
use ferry_registry::{BytesOpener, Repository};
use serde_json::{Map, Value, json};

use crate::SignError;

/// Media type of a cosign signature layer.
pub const COSIGN_LAYER_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Largest payload or config read.
const BLOB_LIMIT: u64 = 4 * 1024 * 1024;

/// The attachment tag of `digest`: `sha256-<hex>.sig`.
pub fn attachment_tag(digest: &Digest) -> String {
    format!("{}-{}.sig", digest.algorithm().name(), digest.hex())
}

/// One signature layer, as found.
#[derive(Debug, Clone)]
pub struct CosignSignature {
    /// The payload blob's digest.
    pub layer_digest: Digest,
    /// The payload bytes (verified against `layer_digest`).
    pub payload: Vec<u8>,
    /// The signature annotation, base64 as stored (`None` when absent).
    pub signature_b64: Option<String>,
}

impl CosignSignature {
    /// The decoded signature, if present and base64.
    pub fn signature(&self) -> Option<Vec<u8>> {
        self.signature_b64
            .as_deref()
            .and_then(|s| STANDARD.decode(s.trim()).ok())
    }
}

fn invalid(repo: &Repository, digest: &Digest, reason: impl std::fmt::Display) -> SignError {
    SignError::Invalid(format!(
        "{}/{}:{}: {reason}",
        repo.registry(),
        repo.name(),
        attachment_tag(digest)
    ))
}

/// The attachment manifest of `digest` as JSON, `None` when the tag does not exist.
async fn attachment(repo: &Repository, digest: &Digest) -> Result<Option<Value>, SignError> {
    let target = Target::Tag(attachment_tag(digest));
    if repo.head_manifest(&target).await?.is_none() {
        return Ok(None);
    }
    let raw = repo.get_manifest(&target).await?;
    let v: Value = serde_json::from_slice(raw.bytes())
        .map_err(|e| invalid(repo, digest, format!("not JSON ({e})")))?;
    Ok(Some(v))
}

fn layers(v: &Value) -> Vec<Value> {
    v.get("layers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Every cosign signature layer attached to `digest` (other layers are skipped).
pub async fn read_signatures(
    repo: &Repository,
    digest: &Digest,
) -> Result<Vec<CosignSignature>, SignError> {
    let Some(manifest) = attachment(repo, digest).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for layer in layers(&manifest) {
        if layer.get("mediaType").and_then(Value::as_str) != Some(COSIGN_LAYER_TYPE) {
            continue;
        }
        let d = layer
            .get("digest")
            .and_then(Value::as_str)
            .and_then(|s| Digest::parse(s).ok())
            .ok_or_else(|| invalid(repo, digest, "a signature layer without a valid digest"))?;
        let payload = repo.get_blob_bytes(&d, BLOB_LIMIT).await?;
        let signature_b64 = layer
            .get("annotations")
            .and_then(|a| a.get(SIGNATURE_ANNOTATION))
            .and_then(Value::as_str)
            .map(str::to_string);
        out.push(CosignSignature {
            layer_digest: d,
            payload,
            signature_b64,
        });
    }
    Ok(out)
}

async fn put_blob(repo: &Repository, bytes: &[u8]) -> Result<(Digest, u64), SignError> {
    let d = Digest::sha256(bytes);
    let size = bytes.len() as u64;
    if repo.blob_exists(&d).await?.is_none() {
        repo.upload_blob(&d, size, &BytesOpener(Bytes::copy_from_slice(bytes)))
            .await?;
    }
    Ok((d, size))
}

/// Appends one signature layer (`payload`, `signature` DER) to the attachment of
/// `digest`, creating it when absent; a layer with the same payload and signature is not
/// added twice (`Ok(false)`). Other layers and annotations are kept as they are.
pub async fn append_signature(
    repo: &Repository,
    digest: &Digest,
    payload: &[u8],
    signature: &[u8],
) -> Result<bool, SignError> {
    let existing = attachment(repo, digest).await?;
    let signature_b64 = STANDARD.encode(signature);
    let payload_digest = Digest::sha256(payload);
    let mut layers = existing.as_ref().map(layers).unwrap_or_default();
    if layers.iter().any(|l| {
        l.get("digest").and_then(Value::as_str) == Some(payload_digest.as_str())
            && l.get("annotations")
                .and_then(|a| a.get(SIGNATURE_ANNOTATION))
                .and_then(Value::as_str)
                == Some(signature_b64.as_str())
    }) {
        return Ok(false);
    }
    // The config: the existing one with its diff_ids extended, or a new one as cosign
    // writes it.
    let mut config: Value = match existing
        .as_ref()
        .and_then(|m| m.get("config"))
        .and_then(|c| c.get("digest"))
        .and_then(Value::as_str)
        .and_then(|s| Digest::parse(s).ok())
    {
        Some(cd) => {
            let bytes = repo.get_blob_bytes(&cd, BLOB_LIMIT).await?;
            serde_json::from_slice(&bytes)
                .map_err(|e| invalid(repo, digest, format!("config is not JSON ({e})")))?
        }
        None => json!({
            "architecture": "",
            "created": "0001-01-01T00:00:00Z",
            "history": [{"created": "0001-01-01T00:00:00Z"}],
            "os": "",
            "rootfs": {"type": "layers", "diff_ids": []},
            "config": {}
        }),
    };
    let obj = config
        .as_object_mut()
        .ok_or_else(|| invalid(repo, digest, "config is not a JSON object"))?;
    let rootfs = obj
        .entry("rootfs")
        .or_insert_with(|| json!({"type": "layers", "diff_ids": []}));
    let rootfs = rootfs
        .as_object_mut()
        .ok_or_else(|| invalid(repo, digest, "config rootfs is not a JSON object"))?;
    rootfs.entry("type").or_insert_with(|| json!("layers"));
    let diff_ids = rootfs.entry("diff_ids").or_insert_with(|| json!([]));
    match diff_ids {
        Value::Array(a) => a.push(json!(payload_digest.as_str())),
        Value::Null => *diff_ids = json!([payload_digest.as_str()]),
        _ => {
            return Err(invalid(
                repo,
                digest,
                "config rootfs.diff_ids is not a list",
            ));
        }
    }
    let config_bytes = serde_json::to_vec(&config).unwrap_or_default();

    let (pd, psize) = put_blob(repo, payload).await?;
    let (cd, csize) = put_blob(repo, &config_bytes).await?;
    let mut annotations = Map::new();
    annotations.insert(SIGNATURE_ANNOTATION.to_string(), json!(signature_b64));
    layers.push(json!({
        "mediaType": COSIGN_LAYER_TYPE,
        "size": psize,
        "digest": pd.as_str(),
        "annotations": annotations,
    }));
    let mut manifest = match existing {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    manifest.insert("schemaVersion".to_string(), json!(2));
    manifest.insert("mediaType".to_string(), json!(OCI_MANIFEST));
    manifest.insert(
        "config".to_string(),
        json!({"mediaType": OCI_CONFIG, "size": csize, "digest": cd.as_str()}),
    );
    manifest.insert("layers".to_string(), Value::Array(layers));
    let bytes = serde_json::to_vec(&Value::Object(manifest)).unwrap_or_default();
    let raw = RawManifest::new(bytes, Some(OCI_MANIFEST))
        .map_err(|e| invalid(repo, digest, format!("the new attachment manifest: {e}")))?;
    repo.put_manifest(&Target::Tag(attachment_tag(digest)), &raw)
        .await?;
    Ok(true)
}
