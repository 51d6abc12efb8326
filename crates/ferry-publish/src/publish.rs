//! `publish`: everything `ferry push` does, as one library call — load the items of the
//! sources, validate and plan them, refuse what cannot be pushed, run the plan and report.

use std::path::PathBuf;
use std::sync::Arc;

use ferry_copy::{CopyEngine, CopyOptions, Progress};
use ferry_items::{PushItem, PushItemState, SourceUrl};
use ferry_registry::{Client, ClientConfig, Credentials, RegistryError};

use crate::plan::{Rejected, Rejection, plan_push};
use crate::settings::{CredentialSettings, SettingsError, TargetSettings};
use crate::shard::{Shard, ShardError, ShardLoad, shard_loads, shard_plan};
use crate::signing::{self, SigningError};
use crate::sources::{
    LoadError, finish_loading, item_hosts, load_file_sources_lenient, source_hosts,
};
use crate::workflows::push::{ItemReport, PushOptions, PushReport, SkippedReport, execute_plan};
use crate::workflows::retry::Retry;
use ferry_image::{Manifest, Reference, Target};
use futures_util::StreamExt;

/// How [`publish`] runs.
#[derive(Clone, Default)]
pub struct PublishOptions {
    /// Plan and read only: the report says what each destination would get.
    pub dry_run: bool,
    /// Refuse the whole push, writing nothing, when any item is invalid.
    pub strict: bool,
    /// Leave out items ferry cannot push (operator manifests) instead of refusing the push.
    pub skip_unsupported: bool,
    /// The base client configuration (TLS, certificates, auth file, user agent); the
    /// credentials below, else the settings' `source_credentials` and `dest_credentials`,
    /// are added to it for every host the push touches: the hosts of `registry:` sources
    /// and of the file items' pull specs, and the target registry.
    pub client: ClientConfig,
    /// Concurrent transfers into any one registry (`None`: the settings' `jobs`).
    pub jobs_per_registry: Option<usize>,
    /// Where transfer progress goes (`None`: nowhere).
    pub progress: Option<Arc<dyn Progress>>,
    /// Credentials for every source registry (a command line's `--src-creds`); they win
    /// over the settings' `source_credentials`.
    pub source_credentials: Option<Credentials>,
    /// Credentials for the target registry (a command line's `--dest-creds`); they win
    /// over the settings' `dest_credentials`.
    pub dest_credentials: Option<Credentials>,
    /// Carry out only this shard of the push (destinations whose repository it owns).
    pub shard: Option<Shard>,
    /// The containers-registries.d(5) directory naming the lookasides simple signing
    /// signatures go to (`None`: the default one); read only when an item asks for
    /// signing with an OpenPGP key.
    pub registries_d: Option<PathBuf>,
}

impl std::fmt::Debug for PublishOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishOptions")
            .field("dry_run", &self.dry_run)
            .field("strict", &self.strict)
            .field("skip_unsupported", &self.skip_unsupported)
            .field("client", &self.client)
            .field("jobs_per_registry", &self.jobs_per_registry)
            .field("source_credentials", &self.source_credentials)
            .field("dest_credentials", &self.dest_credentials)
            .field("shard", &self.shard)
            .field("registries_d", &self.registries_d)
            .finish_non_exhaustive()
    }
}

/// Why [`publish`] wrote nothing. [`PublishError::is_usage`] tells bad input (a command
/// line tool's exit code 2) from a failure on the way.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The settings' credentials cannot be read.
    #[error(transparent)]
    Credentials(SettingsError),
    /// A source could not be loaded.
    #[error(transparent)]
    Source(LoadError),
    /// The registry client could not be built (certificates).
    #[error(transparent)]
    Client(RegistryError),
    /// Items ferry cannot push, and `skip_unsupported` was not set.
    #[error(
        "refusing to push: {} (use --skip-unsupported to push the rest)",
        list(.0)
    )]
    Unsupported(Vec<Rejected>),
    /// A shard count out of range.
    #[error(transparent)]
    Shard(ShardError),
    /// A source manifest that cannot be parsed (sizing shards).
    #[error("source manifest: {0}")]
    Manifest(String),
    /// A signing key the items name cannot be loaded (see [`SigningError::is_usage`]).
    #[error(transparent)]
    Signing(SigningError),
    /// `strict` and some items are invalid: `NAME: REASON` each.
    #[error("--strict: {} invalid item(s), nothing pushed: {}", .0.len(), .0.join("; "))]
    Strict(Vec<String>),
}

fn list(rejected: &[Rejected]) -> String {
    rejected
        .iter()
        .map(|r| format!("{}: {}", r.name, r.rejection))
        .collect::<Vec<_>>()
        .join("; ")
}

impl PublishError {
    /// Whether the input was bad (settings, sources, items): nothing was written and
    /// running again unchanged cannot help.
    pub fn is_usage(&self) -> bool {
        match self {
            PublishError::Credentials(_)
            | PublishError::Unsupported(_)
            | PublishError::Strict(_) => true,
            // A push-items file that cannot be read is as bad as one that cannot be parsed.
            PublishError::Source(e) => matches!(e, LoadError::File(_)),
            PublishError::Shard(_) => true,
            PublishError::Signing(e) => e.is_usage(),
            PublishError::Client(_) | PublishError::Manifest(_) => false,
        }
    }
}

fn credentials(
    c: &Option<CredentialSettings>,
    field: &str,
) -> Result<Option<Credentials>, PublishError> {
    match c {
        None => Ok(None),
        Some(c) => {
            let (u, p) = c.resolve(field).map_err(PublishError::Credentials)?;
            Ok(Some(Credentials::new(&u, &p)))
        }
    }
}

/// What a push reads before it plans: the items (and the entries that could not be read
/// or are of other classes), with the source client that read them and its configuration.
struct ReadItems {
    src_config: ClientConfig,
    src_client: Client,
    items: Vec<PushItem>,
    unreadable: Vec<ItemReport>,
    skipped: Vec<SkippedReport>,
}

async fn read_items(
    settings: &TargetSettings,
    sources: &[SourceUrl],
    options: &PublishOptions,
) -> Result<ReadItems, PublishError> {
    let settings_src_creds = match &options.source_credentials {
        Some(_) => None,
        None => credentials(&settings.source_credentials, "source_credentials")?,
    };

    // The file items come first: the hosts their pull specs name need the source
    // credentials as much as the hosts of the `registry:` sources do.
    let files = load_file_sources_lenient(sources).map_err(PublishError::Source)?;
    let mut hosts = source_hosts(sources);
    hosts.extend(item_hosts(
        files
            .entries
            .iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.as_ref().ok()),
    ));
    hosts.sort();
    hosts.dedup();
    let mut src_config = options.client.clone();
    for host in hosts {
        let c = match &options.source_credentials {
            Some(c) => Some(c),
            // `source_quay_host`: the settings' source credentials may serve one host only.
            None => settings
                .source_credentials_for(&host)
                .and(settings_src_creds.as_ref()),
        };
        if let Some(c) = c {
            src_config = src_config.with_credentials(host, c.clone());
        }
    }
    let src_client = Client::new(src_config.clone()).map_err(PublishError::Client)?;

    // Read and validate every item first.
    let mut items: Vec<PushItem> = Vec::new();
    let mut unreadable: Vec<ItemReport> = Vec::new();
    let skipped: Vec<SkippedReport> = files
        .skipped
        .iter()
        .map(|(source, k)| SkippedReport {
            name: k
                .name
                .clone()
                .unwrap_or_else(|| format!("{source} item {}", k.index)),
            class: k.class.clone(),
            source: source.clone(),
        })
        .collect();
    let entries = finish_loading(sources, files, &src_client)
        .await
        .map_err(PublishError::Source)?;
    for entry in entries {
        match entry {
            Ok(item) => items.push(item),
            Err((name, reason)) => unreadable.push(ItemReport {
                name,
                kind: "unknown".into(),
                elsewhere: false,
                arch: None,
                state: PushItemState::Invalid,
                destinations: Vec::new(),
                reason: Some(reason.clone()),
                rejection: Some(Rejection::Invalid(reason)),
            }),
        }
    }
    Ok(ReadItems {
        src_config,
        src_client,
        items,
        unreadable,
        skipped,
    })
}

/// Pushes the items of `sources` to the registry of `settings`, merging multi-arch lists
/// as the settings say, and reports every item and destination.
///
/// Nothing is written when an `Err` comes back. An `Ok` report can still hold failed
/// items and destinations: [`PushReport::success`] says whether everything was pushed.
/// Items that cannot be read or planned are reported INVALID (or refuse the whole push
/// with `strict`).
pub async fn publish(
    settings: &TargetSettings,
    sources: &[SourceUrl],
    options: &PublishOptions,
) -> Result<PushReport, PublishError> {
    // Credentials given to the call win; the settings' are only read when needed.
    let dest_creds = match &options.dest_credentials {
        Some(c) => Some(c.clone()),
        None => credentials(&settings.dest_credentials, "dest_credentials")?,
    };
    let ReadItems {
        src_config,
        src_client,
        items,
        unreadable,
        skipped,
    } = read_items(settings, sources, options).await?;
    let plan = plan_push(&items, settings, options.skip_unsupported);
    let plan = signing::reject_unconfigured(plan, &items, settings);
    let plan = match options.shard {
        Some(shard) => shard_plan(&plan, shard),
        None => plan,
    };
    let unsupported: Vec<Rejected> = plan.unsupported().cloned().collect();
    if !unsupported.is_empty() {
        return Err(PublishError::Unsupported(unsupported));
    }
    let invalid: Vec<String> = unreadable
        .iter()
        .map(|r| format!("{}: {}", r.name, r.reason.as_deref().unwrap_or("")))
        .chain(
            plan.rejected
                .iter()
                .filter(|r| !r.rejection.is_skipped())
                .map(|r| format!("{}: {}", r.name, r.rejection)),
        )
        .collect();
    if options.strict && !invalid.is_empty() {
        return Err(PublishError::Strict(invalid));
    }

    let signing = signing::prepare(settings, &items, &plan, options.registries_d.as_deref())
        .map_err(PublishError::Signing)?
        .map(Arc::new);

    let mut dest_config = src_config;
    if let Some(c) = dest_creds {
        dest_config = dest_config.with_credentials(settings.registry.clone(), c);
    }
    let dest_client = Client::new(dest_config).map_err(PublishError::Client)?;
    let copy_options = CopyOptions {
        jobs: settings.jobs,
        jobs_per_registry: options.jobs_per_registry,
        platforms: Vec::new(),
    };
    let engine = match &options.progress {
        Some(p) => CopyEngine::with_progress(copy_options, p.clone()),
        None => CopyEngine::new(copy_options),
    };
    let opts = PushOptions {
        dry_run: options.dry_run,
        retry: Retry {
            attempts: settings.tag_retries,
            wait: settings.retry_wait,
            ..Retry::default()
        },
        groups_at_once: settings.jobs,
        signing,
    };
    let mut report = execute_plan(&engine, &src_client, &dest_client, &items, &plan, &opts).await;
    report.items.extend(unreadable);
    report.skipped = skipped;
    if let Some(shard) = options.shard {
        report.shard = Some(shard.to_string());
        for item in &mut report.items {
            // Planned, not rejected, and no destination here: another shard's work.
            item.elsewhere = item.rejection.is_none()
                && item.destinations.is_empty()
                && item.state == PushItemState::Pending;
        }
    }
    Ok(report)
}

/// How a push of the items of `sources` would split into `count` shards: per shard, the
/// destination repositories, tags, source groups and bytes (each group's image size, read
/// from the source registry, once per destination repository). Writes nothing.
pub async fn plan_shards(
    settings: &TargetSettings,
    sources: &[SourceUrl],
    options: &PublishOptions,
    count: u32,
) -> Result<Vec<ShardLoad>, PublishError> {
    Shard::new(0, count).map_err(PublishError::Shard)?;
    let read = read_items(settings, sources, options).await?;
    let plan = plan_push(&read.items, settings, options.skip_unsupported);
    let sizes: Vec<u64> = futures_util::stream::iter(plan.groups.iter())
        .map(|g| image_size(&read.src_client, &g.source))
        .buffered(8)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    shard_loads(&plan, count, |i| sizes[i]).map_err(PublishError::Shard)
}

/// The bytes of the image at `source`: its manifests, configs and layers, every platform.
async fn image_size(client: &Client, source: &Reference) -> Result<u64, PublishError> {
    let repo = client.repository(source.registry(), source.repository());
    let target = source.target();
    let top = repo
        .get_manifest(&target)
        .await
        .map_err(PublishError::Client)?;
    let mut size = top.size();
    let parsed = top
        .parse()
        .map_err(|e| PublishError::Manifest(e.to_string()))?;
    let mut images = Vec::new();
    match &parsed {
        Manifest::Index(index) => {
            for child in &index.manifests {
                let raw = repo
                    .get_manifest(&Target::Digest(child.digest.clone()))
                    .await
                    .map_err(PublishError::Client)?;
                size += raw.size();
                images.push(
                    raw.parse()
                        .map_err(|e| PublishError::Manifest(e.to_string()))?,
                );
            }
        }
        _ => images.push(parsed),
    }
    for image in &images {
        size += image.blobs().iter().map(|b| b.size).sum::<u64>();
    }
    Ok(size)
}
