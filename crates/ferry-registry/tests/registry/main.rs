//! Integration tests of ferry-registry against real registries (Debian's docker-registry,
//! started by ferry-testkit), a fault-injecting proxy and tiny fake servers.

mod auth;
mod basics;
mod fake;
mod faults;
mod hardening;
mod tls_realm;
mod uploads;

use std::collections::HashMap;
use std::time::Duration;

use ferry_image::Digest;
use ferry_registry::{Client, ClientConfig, Credentials, RetryPolicy};

/// A config that ignores the machine's auth files and certs.d, with fast retries.
pub fn config() -> ClientConfig {
    ClientConfig {
        certs_d_roots: Vec::new(),
        auth_file: Some("/nonexistent/ferry-test/auth.json".into()),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
            ..RetryPolicy::default()
        },
        ..ClientConfig::default()
    }
}

/// A client with [`config`].
pub fn client() -> Client {
    Client::new(config()).unwrap()
}

/// A client with credentials for `host`.
pub fn client_with(host: &str, user: &str, pass: &str) -> Client {
    let mut credentials = HashMap::new();
    credentials.insert(host.to_string(), Credentials::new(user, pass));
    Client::new(ClientConfig {
        credentials,
        ..config()
    })
    .unwrap()
}

/// Parses a digest.
pub fn digest(s: &str) -> Digest {
    Digest::parse(s).unwrap()
}
