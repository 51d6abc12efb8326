//! Choosing the `Authorization` of a request: Basic credentials, or a bearer token from
//! the cache or fetched from the realm. Tokens and passwords are never logged.

use std::sync::atomic::Ordering;
use std::time::Instant;

use http::HeaderValue;
use url::Url;

use crate::auth::{Challenge, Credentials, ScopeSet, TokenAnswer};
use crate::error::RequestContext;
use crate::response::read_limited;
use crate::transport::{Host, Inner, Request, redact_url};
use crate::{RegistryError, authfile};

/// Largest token realm answer read.
const TOKEN_BODY_LIMIT: u64 = 1024 * 1024;

/// An `Authorization` value and where it came from.
pub(crate) struct Authz {
    pub header: String,
    /// The bearer token, to forget it if the registry refuses it.
    pub token: Option<String>,
    /// Obtained for this request: a 401 in answer is final.
    pub fresh: bool,
}

impl Inner {
    /// The credentials for `host`: the configured ones, else the auth files.
    pub async fn credentials(&self, host: &Host) -> Result<Option<Credentials>, RegistryError> {
        host.creds
            .get_or_try_init(|| async {
                let wanted = authfile::normalize_key(&host.name);
                if let Some(c) = self
                    .config
                    .credentials
                    .iter()
                    .find(|(k, _)| authfile::normalize_key(k) == wanted)
                    .map(|(_, c)| c.clone())
                {
                    return Ok(Some(c));
                }
                let paths = match &self.config.auth_file {
                    Some(p) => vec![p.clone()],
                    None => authfile::default_paths(),
                };
                let name = host.name.clone();
                tokio::task::spawn_blocking(move || authfile::lookup(&paths, &name))
                    .await
                    .map_err(|e| RegistryError::Config {
                        detail: format!("credential lookup failed: {e}"),
                    })?
            })
            .await
            .cloned()
    }

    /// The `Authorization` for `req`: from the challenge of a 401 just received
    /// (`from_401`, then a new token is fetched), else from the challenge the host sent
    /// before (a cached token when one covers the scopes). `None`: send anonymously.
    pub async fn authorization(
        &self,
        host: &Host,
        req: &Request<'_>,
        from_401: Option<&Challenge>,
        force: bool,
    ) -> Result<Option<Authz>, RegistryError> {
        let challenge = match from_401 {
            Some(c) => c.clone(),
            None => match host
                .challenge
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
            {
                Some(c) => c,
                None => return Ok(None),
            },
        };
        match challenge {
            Challenge::Basic => Ok(self.credentials(host).await?.map(|c| Authz {
                header: c.basic_header(),
                token: None,
                fresh: true,
            })),
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let mut needed = req.scopes.clone();
                if let (Some(s), Some(_)) = (&scope, from_401) {
                    needed.add(s);
                }
                if !force && let Some(t) = self.cached(host, &needed) {
                    return Ok(Some(t));
                }
                let _guard = host.token_lock.lock().await;
                if !force {
                    // Another request may have fetched it while this one waited.
                    if let Some(t) = self.cached(host, &needed) {
                        return Ok(Some(t));
                    }
                }
                let token = self
                    .fetch_token(host, req, &realm, service.as_deref(), &needed)
                    .await?;
                host.tokens
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(token.clone(), Instant::now());
                Ok(Some(Authz {
                    header: format!("Bearer {}", token.value),
                    token: Some(token.value),
                    fresh: true,
                }))
            }
        }
    }

    fn cached(&self, host: &Host, needed: &ScopeSet) -> Option<Authz> {
        let tokens = host.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.find(needed, Instant::now()).map(|t| Authz {
            header: format!("Bearer {}", t.value),
            token: Some(t.value),
            fresh: false,
        })
    }

    async fn fetch_token(
        &self,
        host: &Host,
        req: &Request<'_>,
        realm: &str,
        service: Option<&str>,
        scopes: &ScopeSet,
    ) -> Result<crate::auth::Token, RegistryError> {
        let ctx = |url: &str| {
            Box::new(RequestContext {
                url: url.to_string(),
                ..self.context(host, req, None)
            })
        };
        let mut url = Url::parse(realm).map_err(|e| RegistryError::InvalidResponse {
            context: ctx(""),
            detail: format!("bad token realm {realm:?}: {e}"),
        })?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = service {
                q.append_pair("service", s);
            }
            for s in scopes.to_strings() {
                q.append_pair("scope", &s);
            }
        }
        let shown = redact_url(&url);
        let authority = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            (None, _) => {
                return Err(RegistryError::InvalidResponse {
                    context: ctx(&shown),
                    detail: "token realm without a host".into(),
                });
            }
        };
        let realm_host = self.host(&authority)?;
        let creds = self.credentials(host).await?;
        // Credentials travel to a realm over https only; plain http only to a loopback
        // realm or for a registry whose TLS is not verified.
        if creds.is_some()
            && url.scheme() != "https"
            && !crate::tls::is_loopback(&authority)
            && self.config.verifies_tls(&host.name)
        {
            return Err(RegistryError::Auth {
                context: ctx(&shown),
                status: None,
                detail: format!(
                    "the token realm {} is not https: ferry sends credentials to a realm \
                     over https only (plain http only to a loopback realm, or with \
                     --tls-verify=false for {})",
                    redact_url(&url),
                    host.name
                ),
                errors: Vec::new(),
            });
        }
        let mut rb = realm_host.client.get(url.clone());
        if let Some(left) = self.time_left(|| *ctx(&shown))? {
            rb = rb.timeout(left);
        }
        if let Some(c) = &creds
            && let Ok(mut v) = HeaderValue::from_str(&c.basic_header())
        {
            v.set_sensitive(true);
            rb = rb.header(http::header::AUTHORIZATION, v);
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        self.stats.token_fetches.fetch_add(1, Ordering::Relaxed);
        let start = Instant::now();
        // A realm that cannot be reached is named: the registry itself answered, and an
        // error that names only the registry sends the user to the wrong host.
        let resp = rb.send().await.map_err(|e| {
            let mut c = *ctx(&shown);
            c.what = realm_what(&c.what, &url);
            self.failed(e, c)
        })?;
        let status = resp.status().as_u16();
        tracing::debug!(method = "GET", url = %shown, status, scopes = ?scopes.to_strings(),
            elapsed_ms = start.elapsed().as_millis() as u64, "token");
        if status != 200 {
            let who = match &creds {
                Some(c) => format!("credentials of user {:?}", c.username),
                None => "anonymous access".to_string(),
            };
            let detail = match status {
                401 | 403 => format!("token realm refused {who}"),
                404 => format!(
                    "the token realm URL {} answered 404 Not Found: it is not a token service",
                    redact_url(&url)
                ),
                _ => format!("token realm answered {status}"),
            };
            let body = read_limited(resp, 64 * 1024, self.config.low_speed)
                .await
                .unwrap_or_default();
            return Err(RegistryError::Auth {
                context: ctx(&shown),
                status: Some(status),
                detail,
                errors: crate::error::parse_error_body(&body),
            });
        }
        let body = read_limited(resp, TOKEN_BODY_LIMIT, self.config.low_speed)
            .await
            .map_err(|_| RegistryError::InvalidResponse {
                context: ctx(&shown),
                detail: "token realm answer unreadable or too large".into(),
            })?;
        serde_json::from_slice::<TokenAnswer>(&body)
            .ok()
            .and_then(|a| a.into_token(scopes.clone(), Instant::now()))
            .ok_or_else(|| RegistryError::InvalidResponse {
                context: ctx(&shown),
                detail: "token realm answer holds no token".into(),
            })
    }
}

/// `what` of a request whose token realm could not be reached: `WHAT (token realm
/// SCHEME://HOST[:PORT]/PATH)`, the realm without its query.
fn realm_what(what: &str, realm: &Url) -> String {
    let mut bare = realm.clone();
    bare.set_query(None);
    bare.set_fragment(None);
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    if what.is_empty() {
        format!("token realm {bare}")
    } else {
        format!("{what} (token realm {bare})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_realms_are_named_without_query_or_userinfo() {
        let u = Url::parse("https://bob:pw@auth.example:8443/token?service=s&scope=a").unwrap();
        assert_eq!(
            realm_what("manifest t", &u),
            "manifest t (token realm https://auth.example:8443/token)"
        );
        assert_eq!(
            realm_what("", &u),
            "token realm https://auth.example:8443/token"
        );
    }
}
