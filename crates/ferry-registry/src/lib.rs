//! ferry-registry: a client for the OCI distribution API.
//!
//! One [`Client`] per process holds the per-host HTTP clients (connection pools, the
//! https/http decision for loopback registries), the credentials and the bearer tokens;
//! a [`Repository`] is a cheap handle on one repository of one registry with one method
//! per operation: manifests, blobs, uploads, tags; [`Client::catalog`] lists repositories.
//!
//! - Authentication: anonymous first; on a 401 the `WWW-Authenticate` challenge decides
//!   between Basic credentials and a bearer token fetched for the scopes the request needs
//!   (`pull,push` up front for writes), cached per registry and scope set until shortly
//!   before it expires. Credentials come from [`ClientConfig::credentials`], else from
//!   the auth files ([`authfile`]).
//!   A destination handle made with [`Repository::for_push`] asks `pull,push` for its
//!   reads too, so a push that starts with HEADs costs one token.
//! - Transport: loopback registries (and every registry with `tls_verify = false`) are
//!   probed once with `GET /v2/`, https first, plain http when the TLS handshake fails;
//!   the probe's challenge is kept, so the first real request authenticates up front.
//! - Uploads: `POST` + one monolithic `PUT`; chunked `PATCH`es after a 413 (see
//!   [`Repository::upload_blob`]); a mount that does not mount keeps its session for the
//!   upload that follows.
//! - Retries: [`RetryPolicy`] on connection errors, 5xx and 429 (`Retry-After`).
//! - Errors: [`RegistryError`], structured and classified; no secret ever appears in an
//!   error, a log line or `Debug` output.

mod auth;
pub mod authfile;
mod authorize;
mod blobs;
mod catalog;
mod client;
mod config;
mod error;
mod limits;
mod manifests;
mod request;
mod response;
mod retry;
mod tags;
mod tls;
mod transport;
mod uploads;

pub use auth::Credentials;
#[doc(hidden)]
pub use auth::parse_challenge_debug;
pub use client::{Client, ClientConfig, ClientStats, Repository};
pub use config::{ConfigError, registry_host};
pub use error::{ErrorCode, RegistryError, RequestContext, TransportKind};
pub use limits::LowSpeed;
pub use manifests::ManifestHead;
pub use retry::RetryPolicy;
pub use uploads::{BytesOpener, FileOpener};

/// A stream of blob content.
pub type ByteStream = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send>,
>;

/// Re-openable blob content for uploads: a retried upload re-reads its source.
pub trait BlobOpener: Send + Sync {
    /// Opens the content from its start.
    fn open(&self) -> futures_util::future::BoxFuture<'_, Result<ByteStream, RegistryError>>;
}
