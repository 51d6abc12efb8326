//! Publishing: target settings, the sources of push items, the push planner and executor,
//! manifest-list merge, tag and untag. The push-item model is `ferry-items`.
//!
//! The whole of `ferry push` is one call, [`publish`]; `ferry items` is [`load_items`].
//! The pieces are public too: [`plan_push`] (pure) and [`execute_plan`] for a push from
//! items already in hand, [`plan_merge`] (pure) and [`merge`] for a manifest-list merge,
//! [`tag`] and [`untag`].
//!
//! ```no_run
//! use ferry_publish::{PublishOptions, SourceUrl, TargetSettings, publish};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = TargetSettings::parse("registry: quay.io\nnamespace: org\n")?;
//! let sources = vec![SourceUrl::parse("file:items.yaml")?];
//! let report = publish(&settings, &sources, &PublishOptions::default()).await?;
//! for item in &report.items {
//!     println!("{} {:?}", item.name, item.state);
//! }
//! assert!(report.success());
//! # Ok(())
//! # }
//! ```

mod listmerge;
mod plan;
mod publish;
mod registry_source;
mod report_merge;
mod settings;
mod shard;
mod signing;
mod sources;
mod workflows;

pub use listmerge::{MergeAction, MergeError, MergeKey, MergePlan, holds_all, plan_merge};
pub use plan::{GroupKind, PushGroup, PushPlan, Rejected, Rejection, destinations, plan_push};
pub use publish::{PublishError, PublishOptions, plan_shards, publish};
pub use registry_source::{RegistrySourceError, load_registry_source};
pub use report_merge::{ReportMergeError, merge_shard_reports};
pub use settings::{
    CredentialSettings, MultiArch, RepoLayout, SettingsError, SigningSettings, TargetSettings,
    parse_duration,
};
pub use shard::{MAX_SHARDS, Shard, ShardError, ShardLoad, shard_loads, shard_of, shard_plan};
pub use signing::{PushSigning, SignatureReport, SignatureStatus, SigningError};
pub use sources::{
    FileEntries, LenientItem, LoadError, finish_loading, item_hosts, load_file_sources_lenient,
    load_items, load_items_and_skipped, load_items_lenient, source_hosts,
};
pub use workflows::WorkflowError;
pub use workflows::merge::{
    MergeOptions, MergeOutcome, PendingMerge, merge, merge_onto, merge_write,
};
pub use workflows::push::{
    DestinationAction, DestinationReport, ItemReport, PushOptions, PushReport, PushSummary,
    SkippedReport, execute_plan,
};
pub use workflows::retry::Retry;
pub use workflows::tag::{TagResult, tag};
pub use workflows::untag::{UntagMethod, UntagOutcome, untag};

pub use ferry_items::{
    BuildInfo, ContainerImageDigestPullSpec, ContainerImagePullInfo, ContainerImagePushItem,
    ContainerImageTagPullSpec, ItemsError, OperatorManifestPushItem, PushItem, PushItemState,
    RegistrySourceParams, SourceContainerImagePushItem, SourceUrl,
};
