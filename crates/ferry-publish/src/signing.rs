//! Signing in a push: the items whose `dest_signing_key` names a key of the settings'
//! `signing:` get every manifest pushed for them signed, once per destination tag.
//!
//! - Keys: each `signing:` entry an item names is loaded before anything is written (its
//!   passphrase from `passphrase_env` or `passphrase_file`); an item naming a key the
//!   settings do not have is INVALID and never pushed. Keys no item names are not read.
//! - Identities: the destination reference (`REGISTRY/NS/REPO:TAG`), or, when the settings
//!   name reference registries (pubtools-quay's `docker_settings.docker_reference_registry`),
//!   `REF_REGISTRY/REPO:TAG` for each, REPO as the item names it (`product/app`, not Quay's
//!   flat `ns/product----app`).
//! - Where: an OpenPGP key signs in the simple signing format, into the lookaside that
//!   registries.d names for the identity's repository (where a reader of that name looks);
//!   an ECDSA key appends a cosign signature to the `sha256-<hex>.sig` attachment in the
//!   destination repository.
//! - When: after the tag is written and the registry confirms the tag holds the digest
//!   pushed; the manifest and, for a list, each child are signed. A signature already
//!   there is reported present and not written again. Signing failures fail the item;
//!   nothing signed before is removed. A dry run reports what it would sign.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ferry_image::{Digest, RawManifest, Reference, Target};
use ferry_items::PushItem;
use ferry_registry::Client;
use ferry_sign::{RegistriesD, SignError, SignatureFormat, SigningKey};
use serde::{Deserialize, Serialize};

use crate::plan::{PushPlan, Rejected, Rejection, destinations_with_repos};
use crate::settings::TargetSettings;

/// What happened to one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureStatus {
    /// Written by this push.
    Signed,
    /// A valid signature by the key for this digest and identity was already there:
    /// nothing written.
    Present,
    /// A dry run: would be written.
    WouldSign,
    /// Signing failed (see `error`).
    Failed,
}

/// One signature of a destination: a manifest, an identity, a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureReport {
    /// The manifest signed (the tag's, or a child of the list it holds); `None` when the
    /// failure came before the manifests were known.
    pub digest: Option<Digest>,
    /// The identity signed (`docker-reference`).
    pub identity: String,
    /// The `key_id` of the settings' key.
    pub key_id: String,
    /// `simple-signing` or `cosign`.
    pub format: SignatureFormat,
    /// What happened.
    pub status: SignatureStatus,
    /// Where the signature is (a lookaside URL, or `REGISTRY/REPO:sha256-<hex>.sig`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why the signing part of a push cannot start (nothing was written).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// A key of the settings cannot be used as configured (file, passphrase source,
    /// key ID).
    #[error("settings signing key {key_id}: {reason}")]
    Key {
        /// The `key_id`.
        key_id: String,
        /// Why.
        reason: String,
    },
    /// The passphrase given does not open the key.
    #[error("settings signing key {key_id}: {source}")]
    WrongPassphrase {
        /// The `key_id`.
        key_id: String,
        /// The error, naming the key file (never the passphrase).
        #[source]
        source: SignError,
    },
    /// The registries.d configuration cannot be read.
    #[error(transparent)]
    RegistriesD(SignError),
}

impl SigningError {
    /// Whether the settings (or registries.d) are at fault, not the passphrase given.
    pub fn is_usage(&self) -> bool {
        !matches!(self, SigningError::WrongPassphrase { .. })
    }
}

/// The `dest_signing_key` of an item, when it asks for signing.
fn requested_key(item: &PushItem) -> Option<&str> {
    let key = match item {
        PushItem::ContainerImage(i) => i.dest_signing_key(),
        PushItem::SourceContainerImage(i) => i.dest_signing_key(),
        PushItem::OperatorManifest(_) => None,
    }?;
    let key = key.trim();
    (!key.is_empty()).then_some(key)
}

/// The index of the settings' key `name` names.
fn key_index(settings: &TargetSettings, name: &str) -> Option<usize> {
    settings.signing.iter().position(|k| k.is_named_by(name))
}

/// Refuses, as INVALID, the planned items whose `dest_signing_key` names no key of the
/// settings: they leave their groups (a group left with no item goes; the others keep
/// the destinations of their remaining items).
pub(crate) fn reject_unconfigured(
    plan: PushPlan,
    items: &[PushItem],
    settings: &TargetSettings,
) -> PushPlan {
    let mut bad: BTreeSet<usize> = BTreeSet::new();
    let mut rejected = plan.rejected;
    for g in &plan.groups {
        for &i in &g.items {
            if let Some(name) = requested_key(&items[i])
                && key_index(settings, name).is_none()
            {
                bad.insert(i);
                let configured: Vec<&str> =
                    settings.signing.iter().map(|k| k.key_id.as_str()).collect();
                rejected.push(Rejected {
                    index: i,
                    name: items[i].name().to_string(),
                    rejection: Rejection::Invalid(format!(
                        "dest_signing_key {name}: not a key of the target settings' signing ({})",
                        if configured.is_empty() {
                            "none configured".to_string()
                        } else {
                            configured.join(", ")
                        }
                    )),
                });
            }
        }
    }
    if bad.is_empty() {
        return PushPlan {
            groups: plan.groups,
            rejected,
        };
    }
    rejected.sort_by_key(|r| r.index);
    let mut groups = Vec::new();
    for mut g in plan.groups {
        g.items.retain(|i| !bad.contains(i));
        if g.items.is_empty() {
            continue;
        }
        let mut dests: Vec<Reference> = Vec::new();
        for &i in &g.items {
            for (d, _) in item_destinations(&items[i], settings) {
                if !dests.contains(&d) {
                    dests.push(d);
                }
            }
        }
        g.destinations = dests;
        groups.push(g);
    }
    PushPlan { groups, rejected }
}

/// An item's destinations with the repository as it names them (none for items that
/// cannot be planned: the planner rejected those already).
fn item_destinations(item: &PushItem, settings: &TargetSettings) -> Vec<(Reference, String)> {
    let tags = match item {
        PushItem::ContainerImage(i) => i.source_tags(),
        PushItem::SourceContainerImage(i) => i.source_tags(),
        PushItem::OperatorManifest(_) => &[],
    };
    destinations_with_repos(item.dest(), tags, settings).unwrap_or_default()
}

/// A loaded key.
struct LoadedKey {
    key_id: String,
    key: SigningKey,
}

/// What to sign at one destination with one key.
#[derive(Debug, Clone)]
struct Job {
    key: usize,
    identities: Vec<Reference>,
}

/// The signing part of a push: the keys the items name, loaded, and per group and
/// destination what to sign. Built by [`prepare`] before anything is written.
pub struct PushSigning {
    keys: Vec<LoadedKey>,
    config: RegistriesD,
    jobs: BTreeMap<(usize, String), Vec<Job>>,
    /// One signature written at a time: two tags of one image would otherwise both take
    /// the same free `signature-N` or both rewrite the same attachment.
    lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for PushSigning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSigning")
            .field(
                "keys",
                &self
                    .keys
                    .iter()
                    .map(|k| format!("{} {:?}", k.key_id, k.key))
                    .collect::<Vec<_>>(),
            )
            .field("destinations", &self.jobs.len())
            .finish_non_exhaustive()
    }
}

/// Loads the keys the planned items name and plans the signatures: `None` when no item
/// asks for signing. `registries_d` is the directory to read (else the default one, read
/// only when an OpenPGP key is used).
pub(crate) fn prepare(
    settings: &TargetSettings,
    items: &[PushItem],
    plan: &PushPlan,
    registries_d: Option<&Path>,
) -> Result<Option<PushSigning>, SigningError> {
    // Per group, per destination: the keys and identities.
    let mut wanted: BTreeMap<usize, usize> = BTreeMap::new(); // settings index -> loaded index
    let mut jobs: BTreeMap<(usize, String), Vec<Job>> = BTreeMap::new();
    for (gi, g) in plan.groups.iter().enumerate() {
        for &i in &g.items {
            let Some(k) = requested_key(&items[i]).and_then(|n| key_index(settings, n)) else {
                continue;
            };
            let next = wanted.len();
            let loaded = *wanted.entry(k).or_insert(next);
            for (dest, repo) in item_destinations(&items[i], settings) {
                if !g.destinations.contains(&dest) {
                    continue;
                }
                let ids = identities(&dest, &repo, &settings.reference_registries);
                let list = jobs.entry((gi, dest.to_string())).or_default();
                match list.iter_mut().find(|j| j.key == loaded) {
                    Some(j) => {
                        for id in ids {
                            if !j.identities.contains(&id) {
                                j.identities.push(id);
                            }
                        }
                    }
                    None => list.push(Job {
                        key: loaded,
                        identities: ids,
                    }),
                }
            }
        }
    }
    if wanted.is_empty() {
        return Ok(None);
    }
    let mut order: Vec<(usize, usize)> = wanted.into_iter().collect();
    order.sort_by_key(|(_, loaded)| *loaded);
    let mut keys = Vec::new();
    for (k, _) in order {
        keys.push(load_key(settings, k)?);
    }
    let config = if keys
        .iter()
        .any(|k| k.key.format() == SignatureFormat::SimpleSigning)
    {
        RegistriesD::load(registries_d).map_err(SigningError::RegistriesD)?
    } else {
        RegistriesD::default()
    };
    Ok(Some(PushSigning {
        keys,
        config,
        jobs,
        lock: tokio::sync::Mutex::new(()),
    }))
}

/// The identities of a destination: itself, or its tag on each reference registry.
fn identities(dest: &Reference, repo: &str, reference_registries: &[String]) -> Vec<Reference> {
    if reference_registries.is_empty() {
        return vec![dest.clone()];
    }
    reference_registries
        .iter()
        .filter_map(|r| Reference::from_parts(r, repo, dest.tag(), None).ok())
        .collect()
}

fn load_key(settings: &TargetSettings, index: usize) -> Result<LoadedKey, SigningError> {
    let s = &settings.signing[index];
    let key_err = |reason: String| SigningError::Key {
        key_id: s.key_id.clone(),
        reason,
    };
    let passphrase = s.passphrase().map_err(key_err)?;
    let key = match SigningKey::from_file(&s.key_file, passphrase.as_ref()) {
        Ok(k) => k,
        Err(e @ SignError::WrongPassphrase { .. }) => {
            return Err(SigningError::WrongPassphrase {
                key_id: s.key_id.clone(),
                source: e,
            });
        }
        Err(SignError::PassphraseNeeded { path }) => {
            return Err(key_err(format!(
                "key {}: the key is protected by a passphrase; give passphrase_env or \
                 passphrase_file",
                path.display()
            )));
        }
        Err(e) => return Err(key_err(e.to_string())),
    };
    if key.format() == SignatureFormat::SimpleSigning
        && !key
            .fingerprint()
            .to_ascii_uppercase()
            .ends_with(&s.key_id.trim().to_ascii_uppercase())
    {
        return Err(key_err(format!(
            "key_file {} holds key {}, whose ID is not {}",
            s.key_file.display(),
            key.fingerprint(),
            s.key_id
        )));
    }
    Ok(LoadedKey {
        key_id: s.key_id.clone(),
        key,
    })
}

/// The manifests a dry run would sign: the digest the tag would hold and the children of
/// the source list (a merged list's children from the destination are not listed).
pub(crate) fn dry_run_digests(digest: &Digest, top: &RawManifest) -> Vec<Digest> {
    let mut out = vec![digest.clone()];
    if let Ok(m) = top.parse() {
        for c in m.children() {
            if !out.contains(&c.digest) {
                out.push(c.digest.clone());
            }
        }
    }
    out
}

impl PushSigning {
    /// Whether the destination `dest` of group `group` has something to sign.
    pub(crate) fn wants(&self, group: usize, dest: &Reference) -> bool {
        self.jobs.contains_key(&(group, dest.to_string()))
    }

    /// Signs what group `group` pushed to `dest`, now holding `digest`: first confirms
    /// that the tag holds `digest`, then signs it and, for a list, each child. A dry run
    /// (`dry_run` = the manifests it would push) only reads.
    pub(crate) async fn sign_destination(
        &self,
        client: &Client,
        group: usize,
        dest: &Reference,
        digest: &Digest,
        dry_run: Option<Vec<Digest>>,
    ) -> Vec<SignatureReport> {
        let Some(jobs) = self.jobs.get(&(group, dest.to_string())) else {
            return Vec::new();
        };
        let repo = client
            .repository(dest.registry(), dest.repository())
            .for_push();
        let all_failed = |error: String| -> Vec<SignatureReport> {
            jobs.iter()
                .flat_map(|j| {
                    let k = &self.keys[j.key];
                    let error = error.clone();
                    j.identities.iter().map(move |id| SignatureReport {
                        digest: None,
                        identity: id.to_string(),
                        key_id: k.key_id.clone(),
                        format: k.key.format(),
                        status: SignatureStatus::Failed,
                        location: None,
                        error: Some(error.clone()),
                    })
                })
                .collect()
        };
        let dry = dry_run.is_some();
        let digests = match dry_run {
            Some(d) => d,
            None => {
                // The tag must hold what was pushed: no signature for a digest that did
                // not land.
                let tag = Target::Tag(dest.tag().unwrap_or("latest").to_string());
                match repo.resolve_digest(&tag).await {
                    Ok(Some(d)) if &d == digest => {}
                    Ok(Some(d)) => {
                        return all_failed(format!(
                            "not signed: the tag holds {d}, not the {digest} pushed"
                        ));
                    }
                    Ok(None) => {
                        return all_failed(format!(
                            "not signed: the tag is gone (expected {digest})"
                        ));
                    }
                    Err(e) => return all_failed(format!("not signed: reading the tag: {e}")),
                }
                match ferry_sign::manifests_to_sign(&repo, &Target::Digest(digest.clone())).await {
                    Ok(d) => d,
                    Err(e) => return all_failed(format!("not signed: {e}")),
                }
            }
        };
        let mut out = Vec::new();
        for job in jobs {
            let k = &self.keys[job.key];
            for identity in &job.identities {
                // Simple signing goes to the lookaside of the identity's repository (only
                // its name is used: no request goes to the identity's registry); cosign
                // to the attachment in the destination repository.
                let at = match k.key.format() {
                    SignatureFormat::SimpleSigning => {
                        client.repository(identity.registry(), identity.repository())
                    }
                    SignatureFormat::Cosign => repo.clone(),
                };
                for d in &digests {
                    out.push(self.one(&at, d, identity, k, dry).await);
                }
            }
        }
        out
    }

    async fn one(
        &self,
        at: &ferry_registry::Repository,
        digest: &Digest,
        identity: &Reference,
        k: &LoadedKey,
        dry: bool,
    ) -> SignatureReport {
        let result = if dry {
            ferry_sign::find_signature(at, digest, identity, &k.key, &self.config)
                .await
                .map(|found| match found {
                    Some(o) => (SignatureStatus::Present, Some(o.location)),
                    None => (SignatureStatus::WouldSign, None),
                })
        } else {
            let _one_at_a_time = self.lock.lock().await;
            ferry_sign::sign(at, digest, identity, &k.key, &self.config)
                .await
                .map(|o| {
                    let status = if o.added {
                        SignatureStatus::Signed
                    } else {
                        SignatureStatus::Present
                    };
                    (status, Some(o.location))
                })
        };
        let (status, location, error) = match result {
            Ok((s, l)) => (s, l, None),
            Err(e) => (SignatureStatus::Failed, None, Some(e.to_string())),
        };
        SignatureReport {
            digest: Some(digest.clone()),
            identity: identity.to_string(),
            key_id: k.key_id.clone(),
            format: k.key.format(),
            status,
            location,
            error,
        }
    }
}

#[cfg(test)]
#[path = "signing_tests.rs"]
mod tests;
