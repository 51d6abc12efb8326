//! ferry as a library: what the `ferry` command does, as calls a Rust program makes.
//!
//! Every command of the CLI is one call here; the CLI itself only parses flags, makes
//! these calls and prints what they return.
//!
//! | to | call |
//! |----|------|
//! | reach registries | [`Client::new`] with a [`ClientConfig`] (credentials, auth file, certificates, TLS per host) |
//! | copy an image | [`copy`] (registry or OCI layout, each side a [`Location`]) |
//! | copy a repository's tags | [`sync`] |
//! | merge a manifest list onto a tag | [`merge`] |
//! | copy one image to several tags | [`tag`] |
//! | remove tags | [`untag`] |
//! | push push items | [`publish`] with [`TargetSettings`] and [`SourceUrl`]s |
//! | read push items | [`load_items`] |
//!
//! The crates behind it are here whole too: [`image`], [`registry`], [`transfer`],
//! [`items`], [`publishing`].
//!
//! ```no_run
//! use ferry::{Client, ClientConfig, CopyEngine, CopyOptions, Credentials, Location, copy};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ClientConfig::default()
//!     .with_credentials("quay.io", Credentials::parse("robot:secret", None)?);
//! let client = Client::new(config)?;
//! let engine = CopyEngine::new(CopyOptions::default());
//! let src = Location::parse("registry.example.com/team/app:1.0")?;
//! let dest = Location::parse("quay.io/org/app:1.0")?;
//! let outcome = copy(&client, &engine, &src, &dest).await?;
//! println!("{} {}", if outcome.changed { "copied" } else { "unchanged" }, outcome.digest);
//! # Ok(())
//! # }
//! ```
//!
//! Examples that run: `crates/ferry/examples/` (`copy_image`, `merge_list`,
//! `push_from_file`).

/// Image sources and destinations and the copy engine (`ferry-copy`).
pub use ferry_copy as transfer;
/// The image model: references, digests, platforms, manifests (`ferry-image`).
pub use ferry_image as image;
/// Push items: pushsource's model and its serialized form (`ferry-items`).
pub use ferry_items as items;
/// Publishing: settings, push planning and execution, merge, tag, untag (`ferry-publish`).
pub use ferry_publish as publishing;
/// The registry client (`ferry-registry`).
pub use ferry_registry as registry;

pub use ferry_image::{
    Digest, ImageError, Manifest, MediaType, Platform, RawManifest, Reference, Target,
    validate_host, validate_repository, validate_tag,
};
pub use ferry_registry::{Client, ClientConfig, ConfigError, Credentials, RegistryError};

/// Copies one image between locations (`ferry copy`): see [`ferry_copy::copy_image`].
pub use ferry_copy::copy_image as copy;
pub use ferry_copy::{
    AnyImage, CheckReport, CopyEngine, CopyError, CopyOptions, CopyOutcome, ImageDestination,
    ImageSource, Location, NoProgress, OciLayout, Progress, RegistryRepo, StatsSnapshot, SyncItem,
    check, sync,
};

pub use ferry_items::{
    PushItem, PushItemState, SourceUrl, load_file_source, read_items_json, read_items_yaml,
    write_items_json, write_items_yaml,
};
pub use ferry_publish::{
    DestinationAction, DestinationReport, ItemReport, LoadError, MergeAction, MergeKey,
    MergeOptions, MergeOutcome, PublishError, PublishOptions, PushReport, Rejection, Retry,
    SettingsError, SignatureReport, SignatureStatus, SigningSettings, TagResult, TargetSettings,
    UntagOutcome, WorkflowError, load_items, merge, publish, tag, untag,
};
