//! Pull specs (`REGISTRY/REPOSITORY:TAG`, `REGISTRY/REPOSITORY@DIGEST`) and the pull info of
//! a container image, validated with ferry-image's reference grammar.
//!
//! Unlike pushsource's regex, the grammar takes registry ports (`reg:5000/ns/app`), nested
//! repositories and `REPO:TAG@DIGEST`, and refuses URL schemes, uppercase repositories and
//! malformed digests. A pull spec always names its registry: the first path component is
//! the registry, whatever it looks like (no Docker Hub normalization).

use std::fmt;

use ferry_image::{Digest, MediaType, Reference};
use serde::{Deserialize, Serialize};

use super::ItemsError;

/// Parses a pull-spec string (its first component is always the registry) into a
/// validated reference, with the grammar of `ferry_image`.
pub(crate) fn parse_spec(input: &str) -> Result<Reference, ItemsError> {
    Reference::parse_qualified(input).map_err(|e| match e {
        ferry_image::ImageError::InvalidReference { reason, .. } => {
            ItemsError::pull_spec(input, reason)
        }
        other => ItemsError::pull_spec(input, other.to_string()),
    })
}

fn build_reference(
    shown: &str,
    registry: &str,
    repository: &str,
    tag: Option<&str>,
    digest: Option<Digest>,
) -> Result<Reference, ItemsError> {
    Reference::from_parts(registry, repository, tag, digest).map_err(|e| match e {
        ferry_image::ImageError::InvalidReference { reason, .. } => {
            ItemsError::pull_spec(shown, reason)
        }
        other => ItemsError::pull_spec(shown, other.to_string()),
    })
}

/// A pull spec by tag: pushsource's `ContainerImageTagPullSpec`.
///
/// Constructed only through [`new`](Self::new) or [`parse`](Self::parse), so it is always
/// valid. Displayed as `registry/repository:tag`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawTagSpec", into = "RawTagSpec")]
pub struct ContainerImageTagPullSpec {
    reference: Reference,
    tag: String,
    media_types: Vec<String>,
}

impl ContainerImageTagPullSpec {
    /// Builds a spec from its parts, validating registry (port allowed), repository and tag.
    pub fn new(
        registry: &str,
        repository: &str,
        tag: &str,
        media_types: Vec<String>,
    ) -> Result<Self, ItemsError> {
        let shown = format!("{registry}/{repository}:{tag}");
        let reference = build_reference(&shown, registry, repository, Some(tag), None)?;
        Ok(ContainerImageTagPullSpec {
            reference,
            tag: tag.to_string(),
            media_types,
        })
    }

    /// Parses `REGISTRY/REPOSITORY:TAG`; the tag is required. `REPOSITORY:TAG@DIGEST` is
    /// accepted and gives its tag (the digest belongs to the digest spec of the same string).
    /// The media types are empty.
    pub fn parse(input: &str) -> Result<Self, ItemsError> {
        let parsed = parse_spec(input)?;
        let tag = parsed
            .tag()
            .ok_or_else(|| ItemsError::pull_spec(input, "a tag pull spec needs a tag (:TAG)"))?
            .to_string();
        Ok(ContainerImageTagPullSpec {
            reference: parsed
                .with_tag(&tag)
                .map_err(|e| ItemsError::pull_spec(input, e.to_string()))?,
            tag,
            media_types: Vec::new(),
        })
    }

    /// The same spec with these media types (those the tag is known to serve).
    pub fn with_media_types(&self, media_types: Vec<String>) -> Self {
        ContainerImageTagPullSpec {
            media_types,
            ..self.clone()
        }
    }

    /// The registry host, with its port when one was given.
    pub fn registry(&self) -> &str {
        self.reference.registry()
    }

    /// The repository path.
    pub fn repository(&self) -> &str {
        self.reference.repository()
    }

    /// The tag.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Media types of the manifests the tag is known to serve (may be empty).
    pub fn media_types(&self) -> &[String] {
        &self.media_types
    }

    /// The spec as an image reference, `registry/repository:tag`.
    pub fn reference(&self) -> Reference {
        self.reference.clone()
    }
}

impl fmt::Display for ContainerImageTagPullSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.reference)
    }
}

/// A pull spec by manifest digest: pushsource's `ContainerImageDigestPullSpec`.
///
/// Constructed only through [`new`](Self::new) or [`parse`](Self::parse). Displayed as
/// `registry/repository@digest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawDigestSpec", into = "RawDigestSpec")]
pub struct ContainerImageDigestPullSpec {
    reference: Reference,
    digest: Digest,
    media_type: Option<String>,
}

impl ContainerImageDigestPullSpec {
    /// Builds a spec from its parts, validating registry (port allowed) and repository.
    pub fn new(
        registry: &str,
        repository: &str,
        digest: Digest,
        media_type: Option<String>,
    ) -> Result<Self, ItemsError> {
        let shown = format!("{registry}/{repository}@{digest}");
        let reference = build_reference(&shown, registry, repository, None, Some(digest.clone()))?;
        Ok(ContainerImageDigestPullSpec {
            reference,
            digest,
            media_type,
        })
    }

    /// Parses `REGISTRY/REPOSITORY@DIGEST`; the digest is required and validated.
    /// `REPOSITORY:TAG@DIGEST` is accepted: the digest wins, the tag is dropped. The media
    /// type is unknown.
    pub fn parse(input: &str) -> Result<Self, ItemsError> {
        let parsed = parse_spec(input)?;
        let digest = parsed
            .digest()
            .ok_or_else(|| {
                ItemsError::pull_spec(input, "a digest pull spec needs a digest (@sha256:...)")
            })?
            .clone();
        Ok(ContainerImageDigestPullSpec {
            reference: parsed.with_digest(digest.clone()),
            digest,
            media_type: None,
        })
    }

    /// The same spec with this media type (that of the manifest the digest names).
    pub fn with_media_type(&self, media_type: Option<String>) -> Self {
        ContainerImageDigestPullSpec {
            media_type,
            ..self.clone()
        }
    }

    /// The registry host, with its port when one was given.
    pub fn registry(&self) -> &str {
        self.reference.registry()
    }

    /// The repository path.
    pub fn repository(&self) -> &str {
        self.reference.repository()
    }

    /// The manifest digest.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The media type of the manifest, when known.
    pub fn media_type(&self) -> Option<&str> {
        self.media_type.as_deref()
    }

    /// The spec as an image reference, `registry/repository@digest`.
    pub fn reference(&self) -> Reference {
        self.reference.clone()
    }

    /// Preference rank: lists and indexes 0, schema 2 and OCI manifests 1, schema 1 2,
    /// an unknown media type 3, no media type 4.
    pub fn preference(&self) -> u8 {
        self.media_type
            .as_deref()
            .map_or(4, |m| MediaType::new(m).preference())
    }
}

impl fmt::Display for ContainerImageDigestPullSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.reference)
    }
}

/// How to pull a container image: pushsource's `ContainerImagePullInfo`.
///
/// Constructed only through [`new`](Self::new), which enforces: at least one tag spec; tag
/// specs de-duplicated in their order; digest specs de-duplicated, then stably ordered from
/// most to least preferred media type (manifest list or OCI index, then schema 2 or OCI
/// manifest, then schema 1, then unknown, then absent). pushsource ranked the OCI types
/// after schema 1; ferry ranks them beside their Docker twins.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawPullInfo", into = "RawPullInfo")]
pub struct ContainerImagePullInfo {
    tag_specs: Vec<ContainerImageTagPullSpec>,
    digest_specs: Vec<ContainerImageDigestPullSpec>,
}

impl ContainerImagePullInfo {
    /// Validates, de-duplicates and orders the specs (see the type's documentation).
    pub fn new(
        tag_specs: Vec<ContainerImageTagPullSpec>,
        digest_specs: Vec<ContainerImageDigestPullSpec>,
    ) -> Result<Self, ItemsError> {
        if tag_specs.is_empty() {
            return Err(ItemsError::InvalidPullInfo {
                reason: "at least one tag spec is required".into(),
            });
        }
        let mut tags: Vec<ContainerImageTagPullSpec> = Vec::with_capacity(tag_specs.len());
        for spec in tag_specs {
            if !tags.contains(&spec) {
                tags.push(spec);
            }
        }
        let mut digests: Vec<ContainerImageDigestPullSpec> = Vec::with_capacity(digest_specs.len());
        for spec in digest_specs {
            if !digests.contains(&spec) {
                digests.push(spec);
            }
        }
        digests.sort_by_key(ContainerImageDigestPullSpec::preference);
        Ok(ContainerImagePullInfo {
            tag_specs: tags,
            digest_specs: digests,
        })
    }

    /// Specs by tag; never empty. `tag_specs()[0]` is a fine default.
    pub fn tag_specs(&self) -> &[ContainerImageTagPullSpec] {
        &self.tag_specs
    }

    /// Specs by digest, most preferred first.
    pub fn digest_specs(&self) -> &[ContainerImageDigestPullSpec] {
        &self.digest_specs
    }

    /// The media types reachable through the digest specs, in their order, without
    /// duplicates.
    pub fn media_types(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for m in self.digest_specs.iter().filter_map(|s| s.media_type()) {
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }

    /// The first digest spec of this media type (parameters such as `; charset=` ignored).
    pub fn digest_spec_for_type(&self, media_type: &str) -> Option<&ContainerImageDigestPullSpec> {
        let wanted = MediaType::new(media_type);
        self.digest_specs
            .iter()
            .find(|s| s.media_type().is_some_and(|m| MediaType::new(m) == wanted))
    }
}

/// The serialized form of a tag spec: fields in pushsource's (sorted) order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTagSpec {
    #[serde(default)]
    pub(crate) media_types: Vec<String>,
    pub(crate) registry: String,
    pub(crate) repository: String,
    pub(crate) tag: String,
}

/// The serialized form of a digest spec: fields in pushsource's (sorted) order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDigestSpec {
    pub(crate) digest: String,
    #[serde(default)]
    pub(crate) media_type: Option<String>,
    pub(crate) registry: String,
    pub(crate) repository: String,
}

/// The serialized form of pull info: fields in pushsource's (sorted) order.
///
/// `media_types` is derived from the digest specs (pushsource's default: the media type of
/// every digest spec that has one, in their order); when read, it must name the same media
/// types as the digest specs, or the pull info is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPullInfo {
    #[serde(default)]
    pub(crate) digest_specs: Vec<RawDigestSpec>,
    #[serde(default)]
    pub(crate) media_types: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) tag_specs: Vec<RawTagSpec>,
}

/// Refuses a `media_types` list that names other media types than the digest specs: a
/// type no digest spec has, or a digest spec's type missing from the list. Order and
/// repetitions do not matter, and parameters (`; charset=`) are ignored.
fn check_media_types(
    listed: Option<&[String]>,
    digests: &[ContainerImageDigestPullSpec],
) -> Result<(), String> {
    let Some(listed) = listed else { return Ok(()) };
    let from_specs: Vec<MediaType> = digests
        .iter()
        .filter_map(|d| d.media_type().map(MediaType::new))
        .collect();
    if let Some(extra) = listed
        .iter()
        .find(|m| !from_specs.contains(&MediaType::new(m.as_str())))
    {
        return Err(format!(
            "{extra:?} is listed but no digest spec has that media type"
        ));
    }
    let listed: Vec<MediaType> = listed.iter().map(|m| MediaType::new(m.as_str())).collect();
    if let Some(missing) = digests
        .iter()
        .filter_map(ContainerImageDigestPullSpec::media_type)
        .find(|m| !listed.contains(&MediaType::new(m)))
    {
        return Err(format!(
            "a digest spec has media type {missing:?}, which is not listed"
        ));
    }
    Ok(())
}

impl TryFrom<RawTagSpec> for ContainerImageTagPullSpec {
    type Error = ItemsError;
    fn try_from(r: RawTagSpec) -> Result<Self, ItemsError> {
        ContainerImageTagPullSpec::new(&r.registry, &r.repository, &r.tag, r.media_types)
    }
}

impl From<ContainerImageTagPullSpec> for RawTagSpec {
    fn from(s: ContainerImageTagPullSpec) -> Self {
        let (registry, repository) = (s.registry().to_string(), s.repository().to_string());
        RawTagSpec {
            media_types: s.media_types,
            registry,
            repository,
            tag: s.tag,
        }
    }
}

impl TryFrom<RawDigestSpec> for ContainerImageDigestPullSpec {
    type Error = ItemsError;
    fn try_from(r: RawDigestSpec) -> Result<Self, ItemsError> {
        let shown = format!("{}/{}@{}", r.registry, r.repository, r.digest);
        let digest =
            Digest::parse(&r.digest).map_err(|e| ItemsError::pull_spec(&shown, e.to_string()))?;
        ContainerImageDigestPullSpec::new(&r.registry, &r.repository, digest, r.media_type)
    }
}

impl From<ContainerImageDigestPullSpec> for RawDigestSpec {
    fn from(s: ContainerImageDigestPullSpec) -> Self {
        let (registry, repository) = (s.registry().to_string(), s.repository().to_string());
        RawDigestSpec {
            digest: s.digest.to_string(),
            media_type: s.media_type,
            registry,
            repository,
        }
    }
}

impl TryFrom<RawPullInfo> for ContainerImagePullInfo {
    type Error = ItemsError;
    fn try_from(r: RawPullInfo) -> Result<Self, ItemsError> {
        let tags = r
            .tag_specs
            .into_iter()
            .map(ContainerImageTagPullSpec::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let digests = r
            .digest_specs
            .into_iter()
            .map(ContainerImageDigestPullSpec::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        check_media_types(r.media_types.as_deref(), &digests).map_err(|reason| {
            ItemsError::InvalidPullInfo {
                reason: format!("media_types: {reason}"),
            }
        })?;
        ContainerImagePullInfo::new(tags, digests)
    }
}

impl From<ContainerImagePullInfo> for RawPullInfo {
    fn from(p: ContainerImagePullInfo) -> Self {
        let media_types = p
            .digest_specs
            .iter()
            .filter_map(|d| d.media_type.clone())
            .collect();
        RawPullInfo {
            digest_specs: p
                .digest_specs
                .into_iter()
                .map(RawDigestSpec::from)
                .collect(),
            media_types: Some(media_types),
            tag_specs: p.tag_specs.into_iter().map(RawTagSpec::from).collect(),
        }
    }
}

impl RawPullInfo {
    /// Validates into pull info, naming the failing field for `item`'s error.
    pub(crate) fn validate(
        self,
        item: &str,
        field: &str,
    ) -> Result<ContainerImagePullInfo, ItemsError> {
        let mut tags = Vec::with_capacity(self.tag_specs.len());
        for (i, raw) in self.tag_specs.into_iter().enumerate() {
            tags.push(ContainerImageTagPullSpec::try_from(raw).map_err(|e| {
                ItemsError::field(item, format!("{field}.tag_specs[{i}]"), e.reason())
            })?);
        }
        let mut digests = Vec::with_capacity(self.digest_specs.len());
        for (i, raw) in self.digest_specs.into_iter().enumerate() {
            digests.push(ContainerImageDigestPullSpec::try_from(raw).map_err(|e| {
                ItemsError::field(item, format!("{field}.digest_specs[{i}]"), e.reason())
            })?);
        }
        check_media_types(self.media_types.as_deref(), &digests)
            .map_err(|reason| ItemsError::field(item, format!("{field}.media_types"), reason))?;
        ContainerImagePullInfo::new(tags, digests)
            .map_err(|e| ItemsError::field(item, format!("{field}.tag_specs"), e.reason()))
    }
}
