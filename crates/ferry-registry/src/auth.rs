//! Authentication: credentials, `WWW-Authenticate` challenges, bearer scopes and the
//! token cache.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, Instant};

/// A user name and password for a registry. The password never shows in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    password: String,
}

impl Credentials {
    /// Credentials from a user name and a password (or an identity token).
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
        }
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The value of a Basic `Authorization` header.
    pub(crate) fn basic_header(&self) -> String {
        use base64::Engine as _;
        let raw = format!("{}:{}", self.username, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// `Basic realm="..."`.
    Basic,
    /// `Bearer realm="...",service="...",scope="..."`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` header value; `None` for schemes ferry does not speak.
pub(crate) fn parse_challenge(value: &str) -> Option<Challenge> {
    let value = value.trim();
    let (scheme, rest) = match value.find(char::is_whitespace) {
        Some(i) => (&value[..i], &value[i..]),
        None => (value, ""),
    };
    let params = parse_params(rest);
    if scheme.eq_ignore_ascii_case("basic") {
        Some(Challenge::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        })
    } else {
        None
    }
}

/// Parses a `WWW-Authenticate` header value and the scopes it asks for as the client
/// does; the `Debug` form of the outcome (`None` for schemes ferry does not speak): the
/// fuzzing entry point.
#[doc(hidden)]
pub fn parse_challenge_debug(value: &str) -> Option<String> {
    let challenge = parse_challenge(value)?;
    let mut scopes = ScopeSet::default();
    if let Challenge::Bearer {
        scope: Some(scope), ..
    } = &challenge
    {
        for one in scope.split_whitespace() {
            scopes.add(one);
        }
    }
    Some(format!("{challenge:?} {:?}", scopes.to_strings()))
}

/// Parses `key=value, key="quoted, value"` pairs; keys are lower-cased.
fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() && chars.peek().is_none() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            while chars.peek().is_some_and(|c| *c == ' ') {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        let key = key.trim().to_ascii_lowercase();
        if !key.is_empty() {
            out.insert(key, value.trim().to_string());
        }
        if chars.peek().is_none() {
            break;
        }
    }
    out
}

/// A set of bearer scopes (`repository:ns/app:pull,push`), normalized: one entry per
/// resource with its actions merged and sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ScopeSet(BTreeMap<String, BTreeSet<String>>);

impl ScopeSet {
    /// Builds a set from scope strings; several may be space-separated in one string.
    #[cfg(test)]
    pub fn from_strs<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Self {
        let mut set = ScopeSet::default();
        for s in scopes {
            for one in s.split_whitespace() {
                set.add(one);
            }
        }
        set
    }

    /// Adds one scope `type:name:actions` (the name may contain colons, e.g. a port).
    pub fn add(&mut self, scope: &str) {
        let (resource, actions) = match scope.rsplit_once(':') {
            Some((r, a)) if r.contains(':') => (r, a),
            _ => (scope, ""),
        };
        let entry = self.0.entry(resource.to_string()).or_default();
        for a in actions.split(',').filter(|a| !a.is_empty()) {
            entry.insert(a.to_string());
        }
    }

    /// Whether every scope of `other` is granted by this set (`*` grants everything).
    pub fn covers(&self, other: &ScopeSet) -> bool {
        other.0.iter().all(|(r, acts)| {
            self.0
                .get(r)
                .is_some_and(|mine| mine.contains("*") || acts.iter().all(|a| mine.contains(a)))
        })
    }

    /// The scope strings, one per resource.
    pub fn to_strings(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(r, acts)| {
                if acts.is_empty() {
                    r.clone()
                } else {
                    format!("{r}:{}", acts.iter().cloned().collect::<Vec<_>>().join(","))
                }
            })
            .collect()
    }
}

/// A bearer token with the scopes it was issued for. The token never shows in `Debug`.
#[derive(Clone)]
pub(crate) struct Token {
    pub value: String,
    pub scopes: ScopeSet,
    pub expires: Instant,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &"<redacted>")
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Tokens are dropped this long before they expire.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// Lifetime assumed when the realm does not say (the distribution default is 60 s).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

/// The answer of a token realm.
#[derive(serde::Deserialize)]
pub(crate) struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl TokenAnswer {
    /// The token and when to stop using it, or `None` when the answer has no token.
    pub fn into_token(self, scopes: ScopeSet, now: Instant) -> Option<Token> {
        let value = self
            .token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()))?;
        let lifetime = self
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_LIFETIME);
        let usable = lifetime
            .checked_sub(EXPIRY_MARGIN)
            .unwrap_or(lifetime / 2)
            .max(Duration::from_secs(1));
        Some(Token {
            value,
            scopes,
            expires: now + usable,
        })
    }
}

/// Tokens of one registry, looked up by the scopes a request needs.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    tokens: Vec<Token>,
}

impl TokenCache {
    /// A live token whose scopes cover `needed`.
    pub fn find(&self, needed: &ScopeSet, now: Instant) -> Option<Token> {
        self.tokens
            .iter()
            .find(|t| t.expires > now && t.scopes.covers(needed))
            .cloned()
    }

    /// Stores a token, dropping expired ones and those the new token supersedes.
    pub fn insert(&mut self, token: Token, now: Instant) {
        self.tokens
            .retain(|t| t.expires > now && !token.scopes.covers(&t.scopes));
        self.tokens.push(token);
    }

    /// Forgets a token (after the registry refused it).
    pub fn remove(&mut self, value: &str) {
        self.tokens.retain(|t| t.value != value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_with_commas_in_quotes() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:ns/app:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.example.com/token".into(),
                service: Some("registry.example.com".into()),
                scope: Some("repository:ns/app:pull,push".into()),
            }
        );
        let c = parse_challenge(r#"bearer  realm = "r", service=svc , error="insufficient_scope""#)
            .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "r".into(),
                service: Some("svc".into()),
                scope: None
            }
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Basic"), Some(Challenge::Basic));
        assert_eq!(parse_challenge("Negotiate abc"), None);
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge(""), None);
        assert!(parse_challenge(r#"Bearer realm="unterminated"#).is_some());
    }

    #[test]
    fn challenge_debug_shows_the_scopes_asked() {
        let shown = parse_challenge_debug(
            r#"Bearer realm="https://a/t",scope="repository:x/y:pull repository:x/y:push""#,
        )
        .unwrap();
        assert!(
            shown.ends_with(r#"["repository:x/y:pull,push"]"#),
            "{shown}"
        );
        assert!(parse_challenge_debug("Negotiate abc").is_none());
    }

    #[test]
    fn scopes_merge_and_cover() {
        let push = ScopeSet::from_strs(["repository:a:pull,push", "repository:b:pull"]);
        assert_eq!(
            push.to_strings(),
            vec!["repository:a:pull,push", "repository:b:pull"]
        );
        assert!(push.covers(&ScopeSet::from_strs(["repository:a:pull"])));
        assert!(!push.covers(&ScopeSet::from_strs(["repository:b:push"])));
        assert!(push.covers(&ScopeSet::default()));
        let port = ScopeSet::from_strs(["repository:localhost:5000/x:pull"]);
        assert_eq!(port.to_strings(), vec!["repository:localhost:5000/x:pull"]);
        let all = ScopeSet::from_strs(["registry:catalog:*"]);
        assert!(all.covers(&ScopeSet::from_strs(["registry:catalog:search"])));
    }

    #[test]
    fn token_cache_reuses_and_expires() {
        let now = Instant::now();
        let mut cache = TokenCache::default();
        let answer: TokenAnswer =
            serde_json::from_str(r#"{"access_token":"t1","expires_in":300}"#).unwrap();
        let t = answer
            .into_token(ScopeSet::from_strs(["repository:a:pull,push"]), now)
            .unwrap();
        assert!(format!("{t:?}").contains("redacted") && !format!("{t:?}").contains("t1"));
        cache.insert(t, now);
        assert!(
            cache
                .find(&ScopeSet::from_strs(["repository:a:pull"]), now)
                .is_some()
        );
        assert!(
            cache
                .find(&ScopeSet::from_strs(["repository:c:pull"]), now)
                .is_none()
        );
        assert!(
            cache
                .find(
                    &ScopeSet::from_strs(["repository:a:pull"]),
                    now + Duration::from_secs(290)
                )
                .is_none()
        );
        let none: TokenAnswer = serde_json::from_str(r#"{"token":""}"#).unwrap();
        assert!(none.into_token(ScopeSet::default(), now).is_none());
    }

    #[test]
    fn credentials_debug_hides_password() {
        let c = Credentials::new("alice", "s3cret");
        let d = format!("{c:?}");
        assert!(d.contains("alice") && d.contains("<redacted>") && !d.contains("s3cret"));
        assert_eq!(c.basic_header(), "Basic YWxpY2U6czNjcmV0");
    }
}
