//! Tags: every page of `/v2/<name>/tags/list`, following `Link: <...>; rel="next"`.

use http::Method;
use http::header::{HeaderMap, LINK};
use url::Url;

use crate::transport::{Host, Inner, Request};
use crate::{RegistryError, Repository};

/// Tags or repositories asked for per page.
pub(crate) const PAGE_SIZE: usize = 1000;
/// Pages followed at most.
const MAX_PAGES: usize = 100_000;
/// Entries (tags or repositories) listed at most: a registry that pages forever gets an
/// error, not all the memory.
pub(crate) const MAX_ENTRIES: usize = 1_000_000;
/// Largest page read.
const PAGE_LIMIT: u64 = 16 * 1024 * 1024;

/// The `rel="next"` target of `Link` headers, resolved against `base`.
pub(crate) fn next_link(base: &Url, headers: &HeaderMap) -> Option<Url> {
    for value in headers.get_all(LINK).iter().filter_map(|v| v.to_str().ok()) {
        // `<url>; rel="next", <url2>; rel="prev"`: URLs are inside angle brackets, so a
        // comma there does not split links.
        let mut rest = value;
        while let Some(start) = rest.find('<') {
            let Some(end) = rest[start..].find('>') else {
                break;
            };
            let target = &rest[start + 1..start + end];
            let after = &rest[start + end + 1..];
            let params_end = after.find('<').unwrap_or(after.len());
            let params = &after[..params_end];
            let is_next = params.split(';').any(|p| {
                let p = p.trim().trim_end_matches(',').trim();
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("rel")
                        && v.trim()
                            .trim_matches('"')
                            .split_whitespace()
                            .any(|r| r.eq_ignore_ascii_case("next"))
                })
            });
            if is_next {
                return base.join(target).ok();
            }
            rest = &after[params_end..];
        }
    }
    None
}

impl Inner {
    /// GETs every page of a list (`tags` or `repositories`), following `Link` headers.
    pub(crate) async fn list_pages(
        &self,
        host: &Host,
        first: Request<'_>,
        field: &str,
    ) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            tags: Option<Vec<String>>,
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let mut out = Vec::new();
        let mut req = first;
        // Every page URL fetched: a `next` seen before is a loop (pages that alternate).
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let resp = self.send(host, &req).await?;
            let url = resp.url().clone();
            let next = next_link(&url, resp.headers());
            let body = self.body(host, &req, resp, PAGE_LIMIT).await?;
            let page: Page =
                serde_json::from_slice(&body).map_err(|e| RegistryError::InvalidResponse {
                    context: Box::new(self.context(host, &req, Some(&url))),
                    detail: format!("the {field} list is not JSON: {e}"),
                })?;
            let items = if field == "tags" {
                page.tags
            } else {
                page.repositories
            };
            let items = items.unwrap_or_default();
            let empty = items.is_empty();
            if out.len() + items.len() > MAX_ENTRIES {
                return Err(RegistryError::InvalidResponse {
                    context: Box::new(self.context(host, &req, Some(&url))),
                    detail: format!("the {field} list goes on past {MAX_ENTRIES} entries; stopped"),
                });
            }
            out.extend(items);
            seen.insert(url.clone());
            match next {
                Some(n) if !empty && seen.contains(&n) => {
                    return Err(RegistryError::InvalidResponse {
                        context: Box::new(self.context(host, &req, Some(&url))),
                        detail: format!(
                            "the {field} list pages loop: the next page {} was already read",
                            crate::transport::redact_url(&n)
                        ),
                    });
                }
                Some(n) if !empty => {
                    req = Request {
                        target: crate::transport::Target::Url(n),
                        headers: Vec::new(),
                        body: crate::transport::Body::Empty,
                        ..req
                    };
                }
                _ => return Ok(out),
            }
        }
        Err(RegistryError::InvalidResponse {
            context: Box::new(self.context(host, &req, None)),
            detail: format!("the {field} list goes on past {MAX_PAGES} pages; stopped"),
        })
    }
}

impl Repository {
    /// Every tag, across all pages.
    pub async fn tags(&self) -> Result<Vec<String>, RegistryError> {
        let host = self.host()?;
        let req = self
            .request(
                Method::GET,
                &format!("tags/list?n={PAGE_SIZE}"),
                &self.pull_scope(),
            )
            .what("tags");
        self.inner().list_pages(&host, req, "tags").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn link(v: &str) -> Option<String> {
        let base = Url::parse("http://r:5000/v2/ns/app/tags/list?n=2").unwrap();
        let mut h = HeaderMap::new();
        h.insert(LINK, HeaderValue::from_str(v).unwrap());
        next_link(&base, &h).map(|u| u.to_string())
    }

    #[test]
    fn parses_link_headers() {
        assert_eq!(
            link(r#"</v2/ns/app/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("http://r:5000/v2/ns/app/tags/list?last=b&n=2")
        );
        assert_eq!(
            link(r#"<https://other/v2/_catalog?last=a,b&n=1>; rel=next"#).as_deref(),
            Some("https://other/v2/_catalog?last=a,b&n=1")
        );
        assert_eq!(
            link(r#"</p?x=1>; rel="prev", </n?x=2>; rel="next""#).as_deref(),
            Some("http://r:5000/n?x=2")
        );
        assert_eq!(link(r#"</p>; rel="prev""#), None);
        assert_eq!(link("garbage <"), None);
        assert_eq!(link("<unterminated; rel=next"), None);
    }
}
