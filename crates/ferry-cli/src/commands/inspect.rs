//! `ferry inspect`.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use ferry_copy::ImageSource;
use ferry_image::{ImageConfig, Manifest, Platform, Target};
use serde_json::{Value, json};

use crate::cli::Global;
use crate::context::{Role, client};
use crate::locate::{host, location};
use crate::{output, usage};

/// Arguments of `ferry inspect`.
#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Print the exact manifest bytes
    #[arg(long, conflicts_with = "config")]
    pub raw: bool,
    /// Print the config blob of the image
    #[arg(long)]
    pub config: bool,
    /// In a list, describe the image of this platform
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// The image
    pub image: String,
}

pub async fn run(g: &Global, a: InspectArgs) -> Result<ExitCode> {
    let loc = location("image", &a.image)?;
    let platform = a
        .platform
        .as_deref()
        .map(|p| {
            p.parse::<Platform>()
                .map_err(|e| usage(format!("--platform: {e}")))
        })
        .transpose()?;
    let roles: Vec<_> = host(&loc).map(|h| (h, Role::Single)).into_iter().collect();
    let client = client(g, &roles)?;
    let src = loc.open_source(&client)?;
    let target = loc.source_target(&src)?;
    let mut raw = src.manifest(&target).await?;
    if let Some(p) = &platform {
        let Manifest::Index(index) = raw.parse()? else {
            bail!("{loc} is not a list: --platform does not apply");
        };
        let Some(entry) = index
            .manifests
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|q| p.matches(q)))
        else {
            bail!("{loc} has no image for platform {p}");
        };
        raw = src.manifest(&Target::Digest(entry.digest.clone())).await?;
    }
    if a.raw {
        crate::output::raw(raw.bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let parsed = raw.parse()?;
    if a.config {
        let Manifest::Image(image) = &parsed else {
            bail!(
                "{loc} is a {} and has no config; name a platform with --platform",
                raw.media_type()
            );
        };
        let bytes = src
            .blob_bytes(&image.config.digest, ferry_image::MAX_CONFIG_SIZE)
            .await?;
        crate::output::raw(&bytes)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut doc = json!({
        "name": loc.to_string(),
        "digest": raw.digest(),
        "media_type": raw.media_type(),
        "size": raw.size(),
    });
    match &parsed {
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
            let config = ImageConfig::parse(
                &src.blob_bytes(&image.config.digest, ferry_image::MAX_CONFIG_SIZE)
                    .await?,
            )?;
            doc["config"] = Value::from(image.config.digest.to_string());
            doc["platform"] = Value::from(config.platform().to_string());
            doc["architecture"] = Value::from(config.architecture.clone());
            doc["os"] = Value::from(config.os.clone());
            if let Some(v) = &config.variant {
                doc["variant"] = Value::from(v.clone());
            }
            doc["created"] = serde_json::to_value(&config.created)?;
            doc["labels"] = serde_json::to_value(config.labels())?;
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
    output::structured(g.output, &doc)?;
    Ok(ExitCode::SUCCESS)
}
