//! ferry-testkit: real registries, real images and real faults for ferry's integration tests.
//!
//! - [`Registry`]: a Debian `docker-registry` (CNCF distribution 2.8) process on an ephemeral
//!   127.0.0.1 port — plain, TLS + htpasswd, or token authentication against a realm the kit
//!   runs — with request accounting from its access log.
//! - [`images`]: deterministic test images (real gzip'd tar layers, configs, Docker and OCI
//!   manifests, lists and indexes), a minimal independent pusher and an OCI layout writer.
//! - [`skopeo`]: helpers around the `skopeo` CLI as the independent reference client.
//! - [`proxy::FaultProxy`]: a fault-injecting HTTP proxy in front of a registry.
//!
//! Everything is blocking and may be called from inside a tokio runtime (the kit moves its
//! blocking HTTP work to a separate thread there).

pub mod images;
pub mod keys;
mod pki;
pub mod proxy;
pub mod registry;
pub mod skopeo;
mod token;
mod tools;

pub use registry::{LoggedRequest, Registry, RegistryBuilder, reserve_port};
pub use tools::{ensure_tools, ensure_tools_script};

/// Runs `f` on a fresh thread when called from inside a tokio runtime (where blocking
/// reqwest calls would panic), or directly otherwise.
pub(crate) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(f)
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    } else {
        f()
    }
}
