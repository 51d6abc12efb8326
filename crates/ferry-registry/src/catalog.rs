//! The catalog: every repository of a registry, across all pages.

use http::Method;

use crate::tags::PAGE_SIZE;
use crate::transport::Request;
use crate::{Client, RegistryError};

impl Client {
    /// Every repository of `registry` (`GET /v2/_catalog`, following `Link` pages).
    pub async fn catalog(&self, registry: &str) -> Result<Vec<String>, RegistryError> {
        self.catalog_paged(registry, PAGE_SIZE).await
    }

    /// Like [`Client::catalog`], asking for `page_size` repositories per page.
    pub async fn catalog_paged(
        &self,
        registry: &str,
        page_size: usize,
    ) -> Result<Vec<String>, RegistryError> {
        let host = self.inner.host(registry)?;
        let req = Request::new(Method::GET, format!("/v2/_catalog?n={}", page_size.max(1)))
            .scope("registry:catalog:*")
            .what("catalog");
        self.inner.list_pages(&host, req, "repositories").await
    }
}
