//! `ferry inspect`: the document describing an image or a list.

use anyhow::Result;
use ferry_copy::Location;
use ferry_image::{ImageConfig, Manifest, Platform, RawManifest};
use serde_json::{Value, json};

use super::structured;
use crate::cli::Output;

/// Prints the description of `raw` (parsed as `parsed`; `config` for a single image).
pub fn inspect(
    format: Output,
    loc: &Location,
    raw: &RawManifest,
    parsed: &Manifest,
    config: Option<&ImageConfig>,
) -> Result<()> {
    let mut doc = json!({
        "name": loc.to_string(),
        "digest": raw.digest(),
        "media_type": raw.media_type(),
        "size": raw.size(),
    });
    match parsed {
        Manifest::Index(index) => {
            doc["platforms"] = Value::from(
                index
                    .manifests
                    .iter()
                    .filter_map(|d| d.platform.as_ref().map(Platform::to_string))
                    .collect::<Vec<_>>(),
            );
            doc["manifests"] = serde_json::to_value(&index.manifests)?;
            if !index.annotations.is_empty() {
                doc["annotations"] = serde_json::to_value(&index.annotations)?;
            }
        }
        Manifest::Image(image) => {
            if let Some(config) = config {
                doc["config"] = Value::from(image.config.digest.to_string());
                doc["platform"] = Value::from(config.platform().to_string());
                doc["architecture"] = Value::from(config.architecture.clone());
                doc["os"] = Value::from(config.os.clone());
                if let Some(v) = &config.variant {
                    doc["variant"] = Value::from(v.clone());
                }
                doc["created"] = serde_json::to_value(&config.created)?;
                doc["labels"] = serde_json::to_value(config.labels())?;
            }
            doc["layers"] = serde_json::to_value(&image.layers)?;
            if !image.annotations.is_empty() {
                doc["annotations"] = serde_json::to_value(&image.annotations)?;
            }
        }
        Manifest::Schema1(s1) => {
            let config = s1.config();
            doc["architecture"] = Value::from(s1.architecture.clone());
            doc["labels"] = serde_json::to_value(config.as_ref().and_then(|c| c.labels()))?;
            doc["created"] = serde_json::to_value(config.as_ref().and_then(|c| c.created.clone()))?;
            doc["layers"] = serde_json::to_value(
                parsed
                    .blobs()
                    .iter()
                    .map(|b| b.digest.to_string())
                    .collect::<Vec<_>>(),
            )?;
        }
    }
    structured(format, &doc)
}
