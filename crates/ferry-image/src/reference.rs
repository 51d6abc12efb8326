//! Image references: `[HOST[:PORT]/]REPO[:TAG][@DIGEST]`, parsed with the distribution
//! grammar and Docker's normalization for names without a registry.

use std::fmt;
use std::str::FromStr;

use crate::{Digest, ImageError};

/// The registry Docker assumes for a name without one.
pub const DOCKER_HUB: &str = "docker.io";
const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// Checks a registry host (`HOST[:PORT]`, `[IPv6]:PORT`) as a reference would.
pub fn validate_host(host: &str) -> Result<(), ImageError> {
    check_registry(host).map_err(|reason| name_error("registry host", host, reason))
}

/// Checks a repository path (`ns/app`): lowercase components, at most 255 characters.
pub fn validate_repository(repository: &str) -> Result<(), ImageError> {
    if repository.len() > MAX_NAME_LEN {
        return Err(name_error(
            "repository name",
            repository,
            format!("longer than {MAX_NAME_LEN} characters"),
        ));
    }
    check_repository(repository).map_err(|reason| name_error("repository name", repository, reason))
}

/// Checks a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<(), ImageError> {
    check_tag(tag).map_err(|reason| name_error("tag", tag, reason))
}

fn name_error(what: &'static str, input: &str, reason: String) -> ImageError {
    ImageError::InvalidName {
        what,
        input: input.to_string(),
        reason,
    }
}

/// `input` with the user info of its first component (`user:password@host/...`, after
/// an optional `scheme://`) replaced by `<redacted>@`; unchanged when there is none
/// (`app@sha256:...` is a digest, not user info).
pub fn redact_userinfo(input: &str) -> String {
    let start = input.find("://").map_or(0, |i| i + 3);
    let authority_end = input[start..].find('/').map_or(input.len(), |i| start + i);
    match input[start..authority_end].rfind('@') {
        Some(at) if Digest::parse(&input[start + at + 1..]).is_err() => {
            format!("{}<redacted>@{}", &input[..start], &input[start + at + 1..])
        }
        _ => input.to_string(),
    }
}

/// What a reference points at inside its repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A tag, mutable.
    Tag(String),
    /// A manifest digest, immutable.
    Digest(Digest),
}

impl Target {
    /// The tag or digest as it appears in a registry URL.
    pub fn as_str(&self) -> &str {
        match self {
            Target::Tag(t) => t,
            Target::Digest(d) => d.as_str(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated, normalized image reference.
///
/// `ubuntu` parses as registry `docker.io`, repository `library/ubuntu`, no tag (the
/// [`target`](Reference::target) is then `latest`). Tag and digest may both be given; the
/// digest wins and the tag is kept for display.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference, normalizing a name without a registry as Docker does.
    pub fn parse(input: &str) -> Result<Reference, ImageError> {
        Reference::parse_as(input, false)
    }

    /// Parses a fully qualified reference, as pull specs are written: the first component
    /// is always the registry (`reg/ns/app:1` is registry `reg`), nothing is normalized.
    pub fn parse_qualified(input: &str) -> Result<Reference, ImageError> {
        Reference::parse_as(input, true)
    }

    fn parse_as(input: &str, qualified: bool) -> Result<Reference, ImageError> {
        // Errors show the input with any `user:password@` redacted.
        let shown = redact_userinfo(input);
        let err = |reason: &str| ImageError::reference(&shown, reason);
        if input.is_empty() {
            return Err(err("empty reference"));
        }
        if shown != input {
            return Err(err(
                "credentials (user:password@) are not part of an image reference; \
                 give them with --creds or an auth file",
            ));
        }
        if let Some((scheme, _)) = input.split_once("://") {
            return Err(err(&format!(
                "a URL scheme ({scheme}://) is not part of an image reference; write HOST/REPO[:TAG]"
            )));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("contains white space or control characters"));
        }
        let (name_tag, digest) = match input.split_once('@') {
            Some((n, d)) => (n, Some(Digest::parse(d).map_err(|e| err(&e.to_string()))?)),
            None => (input, None),
        };
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&name_tag[..at], Some(&name_tag[at + 1..]))
            }
            None => (name_tag, None),
        };
        if let Some(tag) = tag {
            check_tag(tag).map_err(|r| err(&r))?;
        }
        let (registry, repository) = if qualified {
            let (r, p) = name.split_once('/').ok_or_else(|| {
                err("a fully qualified reference names its registry: REGISTRY/REPOSITORY[:TAG][@DIGEST]")
            })?;
            (r.to_string(), p.to_string())
        } else {
            split_name(name).map_err(|r| err(&r))?
        };
        Reference::from_parts(&registry, &repository, tag, digest).map_err(|e| match e {
            ImageError::InvalidReference { reason, .. } => err(&reason),
            other => other,
        })
    }

    /// Builds a reference from its parts, validating each.
    pub fn from_parts(
        registry: &str,
        repository: &str,
        tag: Option<&str>,
        digest: Option<Digest>,
    ) -> Result<Reference, ImageError> {
        let shown = format!("{registry}/{repository}");
        check_registry(registry).map_err(|r| ImageError::reference(&shown, r))?;
        check_repository(repository).map_err(|r| ImageError::reference(&shown, r))?;
        if let Some(t) = tag {
            check_tag(t).map_err(|r| ImageError::reference(&shown, r))?;
        }
        if registry.len() + 1 + repository.len() > MAX_NAME_LEN {
            return Err(ImageError::reference(
                &shown,
                format!("name longer than {MAX_NAME_LEN} characters"),
            ));
        }
        Ok(Reference {
            registry: if registry == "index.docker.io" {
                DOCKER_HUB.to_string()
            } else {
                registry.to_string()
            },
            repository: repository.to_string(),
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// The registry host, with its port when one was given.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path inside the registry.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if one was written.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if one was written.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to fetch: the digest when there is one, else the tag, else `latest`.
    pub fn target(&self) -> Target {
        match (&self.digest, &self.tag) {
            (Some(d), _) => Target::Digest(d.clone()),
            (None, Some(t)) => Target::Tag(t.clone()),
            (None, None) => Target::Tag("latest".to_string()),
        }
    }

    /// Whether neither a tag nor a digest was written (a bare repository).
    pub fn is_bare(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// The same repository with this tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ImageError> {
        check_tag(tag).map_err(|r| ImageError::reference(tag, r))?;
        Ok(Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        })
    }

    /// The same repository at this digest, with no tag.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            tag: None,
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The same registry with another repository, same tag and digest.
    pub fn with_repository(&self, repository: &str) -> Result<Reference, ImageError> {
        Reference::from_parts(
            &self.registry,
            repository,
            self.tag.as_deref(),
            self.digest.clone(),
        )
    }

    /// The bare repository, `registry/repository`.
    pub fn repository_ref(&self) -> Reference {
        Reference {
            tag: None,
            digest: None,
            ..self.clone()
        }
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ImageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Splits a name into registry and repository, applying Docker's rule: the first
/// component is a registry when it has a `.` or a `:`, is `localhost`, or has uppercase.
fn split_name(name: &str) -> Result<(String, String), String> {
    if name.is_empty() {
        return Err("missing repository name".into());
    }
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            Ok((first.to_string(), rest.to_string()))
        }
        Some(_) => Ok((DOCKER_HUB.to_string(), name.to_string())),
        None => Ok((DOCKER_HUB.to_string(), format!("library/{name}"))),
    }
}

fn check_registry(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("missing registry host".into());
    }
    let (hostname, port) = if let Some(rest) = host.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or("unclosed '[' in an IPv6 registry address")?;
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("invalid IPv6 address {v6:?}"));
        }
        match after {
            "" => return Ok(()),
            p => (
                "",
                Some(p.strip_prefix(':').ok_or("unexpected text after ']'")?),
            ),
        }
    } else {
        match host.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.parse::<u16>().is_err())
    {
        return Err(format!("invalid registry port {p:?}"));
    }
    if hostname.is_empty() && !host.starts_with('[') {
        return Err("missing registry host".into());
    }
    for label in hostname.split('.').filter(|_| !hostname.is_empty()) {
        let ok = !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!("invalid registry host {hostname:?}"));
        }
    }
    Ok(())
}

fn check_repository(repo: &str) -> Result<(), String> {
    if repo.is_empty() {
        return Err("missing repository name".into());
    }
    if repo.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("repository name must be lowercase".into());
    }
    for component in repo.split('/') {
        validate_path_component(component)
            .map_err(|r| format!("repository component {component:?}: {r}"))?;
    }
    Ok(())
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
fn validate_path_component(c: &str) -> Result<(), &'static str> {
    if c.is_empty() {
        return Err("empty (two slashes, or a leading or trailing slash)");
    }
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return Err("must start and end with a lowercase letter or digit");
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return Err("only '.', '_', '__' or dashes may separate letters and digits");
        }
    }
    Ok(())
}

/// `[\w][\w.-]{0,127}`
fn check_tag(tag: &str) -> Result<(), String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    if tag.is_empty() {
        return Err("empty tag".into());
    }
    if tag.len() > MAX_TAG_LEN {
        return Err(format!("tag longer than {MAX_TAG_LEN} characters"));
    }
    let b = tag.as_bytes();
    if !word(b[0]) {
        return Err(format!(
            "tag {tag:?} must start with a letter, digit or underscore"
        ));
    }
    if !b.iter().all(|&x| word(x) || x == b'.' || x == b'-') {
        return Err(format!(
            "tag {tag:?} may hold only letters, digits, '_', '.' and '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn userinfo_is_refused_and_redacted() {
        for input in [
            "https://bob:hunter2-pw@quay.io/ns/app:1",
            "bob:hunter2-pw@quay.io/ns/app:1",
            "docker://bob:hunter2-pw@quay.io/ns/app",
            "bob:hunter2-pw@quay.io",
            "hunter2-pw@127.0.0.1:5000/ns/app",
        ] {
            for e in [
                Reference::parse(input).unwrap_err(),
                Reference::parse_qualified(input).unwrap_err(),
            ] {
                let text = format!("{e} {e:?}");
                assert!(
                    !text.contains("hunter2") && text.contains("<redacted>"),
                    "{text}"
                );
            }
        }
        assert_eq!(redact_userinfo("https://u:p@h/x"), "https://<redacted>@h/x");
        // Digests are not user info.
        let digested = format!("ubuntu@{D}");
        assert_eq!(redact_userinfo(&digested), digested);
        assert!(Reference::parse(&digested).is_ok());
        assert!(Reference::parse(&format!("quay.io/ns/app@{D}")).is_ok());
    }

    fn parts(s: &str) -> (String, String, Option<String>, Option<String>) {
        let r = Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        (
            r.registry().into(),
            r.repository().into(),
            r.tag().map(Into::into),
            r.digest().map(|d| d.to_string()),
        )
    }

    #[test]
    fn good_references() {
        let t = |s: &str, reg: &str, repo: &str, tag: Option<&str>, dig: Option<&str>| {
            assert_eq!(
                parts(s),
                (
                    reg.into(),
                    repo.into(),
                    tag.map(Into::into),
                    dig.map(Into::into)
                ),
                "{s}"
            );
        };
        t("ubuntu", "docker.io", "library/ubuntu", None, None);
        t(
            "ubuntu:22.04",
            "docker.io",
            "library/ubuntu",
            Some("22.04"),
            None,
        );
        t("org/app", "docker.io", "org/app", None, None);
        t(
            "index.docker.io/org/app",
            "docker.io",
            "org/app",
            None,
            None,
        );
        t("quay.io/org/app:v1", "quay.io", "org/app", Some("v1"), None);
        t(
            "127.0.0.1:5000/a/b/c:tag",
            "127.0.0.1:5000",
            "a/b/c",
            Some("tag"),
            None,
        );
        t("localhost/app", "localhost", "app", None, None);
        t("localhost:5000/app", "localhost:5000", "app", None, None);
        t(
            &format!("reg:5000/ns/app:1.0@{D}"),
            "reg:5000",
            "ns/app",
            Some("1.0"),
            Some(D),
        );
        t(&format!("reg.io/app@{D}"), "reg.io", "app", None, Some(D));
        t("[::1]:5000/app:x", "[::1]:5000", "app", Some("x"), None);
        t("Registry/app", "Registry", "app", None, None);
        t(
            "r.io/a.b_c__d-e---f/g",
            "r.io",
            "a.b_c__d-e---f/g",
            None,
            None,
        );
    }

    #[test]
    fn bad_references() {
        for bad in [
            "",
            "https://quay.io/org/app:1",
            "docker://quay.io/app",
            "quay.io/Org/app",
            "UPPER",
            "quay.io/app:",
            "quay.io/app:-tag",
            "quay.io/app:t@g",
            "quay.io/app@sha256:abc",
            "quay.io/app@",
            "quay.io//app",
            "quay.io/app/",
            "/app",
            "quay.io:port/app",
            "quay.io:99999/app",
            "quay.io/a..b",
            "quay.io/-a",
            "quay.io/a b",
            "quay.io/app:tag with space",
            "bad_host.io/app",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long_tag = format!("r.io/app:{}", "a".repeat(129));
        assert!(Reference::parse(&long_tag).is_err());
        let long_name = format!("r.io/{}", "a".repeat(260));
        assert!(Reference::parse(&long_name).is_err());
    }

    #[test]
    fn qualified_names_their_registry() {
        let r = Reference::parse_qualified("reg/ns/app:1").unwrap();
        assert_eq!((r.registry(), r.repository()), ("reg", "ns/app"));
        let r = Reference::parse_qualified("127.0.0.1:5000/a@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert!(Reference::parse_qualified("app:1").is_err());
        assert!(Reference::parse_qualified("https://reg/app:1").is_err());
    }

    #[test]
    fn errors_name_input_and_reason() {
        let e = Reference::parse("quay.io/Org/app").unwrap_err().to_string();
        assert!(
            e.contains("quay.io/Org/app") && e.contains("lowercase"),
            "{e}"
        );
        let e = Reference::parse("https://q.io/a").unwrap_err().to_string();
        assert!(e.contains("scheme"), "{e}");
    }

    #[test]
    fn target_and_display() {
        let r = Reference::parse("ubuntu").unwrap();
        assert_eq!(r.target(), Target::Tag("latest".into()));
        assert_eq!(r.to_string(), "docker.io/library/ubuntu");
        let r = Reference::parse(&format!("r.io/a:t@{D}")).unwrap();
        assert_eq!(r.target().as_str(), D);
        assert_eq!(r.to_string(), format!("r.io/a:t@{D}"));
        assert_eq!(r.with_tag("u").unwrap().to_string(), "r.io/a:u");
        assert!(r.with_tag("-bad").is_err());
        assert_eq!(r.repository_ref().to_string(), "r.io/a");
    }
}
