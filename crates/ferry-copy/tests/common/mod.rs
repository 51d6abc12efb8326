//! Shared helpers of the integration tests of ferry-copy and ferry-publish (which includes
//! this file by path): a registry client set up for test-kit registries.
#![allow(dead_code)]

use std::collections::HashMap;

use ferry_copy::{AnyImage, Location, RegistryRepo};
use ferry_registry::{Client, ClientConfig, Credentials};
use ferry_testkit::Registry;

/// A client that trusts every TLS registry's CA and knows every registry's credentials,
/// and reads no auth file of the machine.
pub struct TestClient {
    pub client: Client,
    _dir: tempfile::TempDir,
}

pub fn client_for(regs: &[&Registry]) -> TestClient {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let mut credentials = HashMap::new();
    for (i, r) in regs.iter().enumerate() {
        if let Some(ca) = r.ca_cert_path() {
            std::fs::copy(ca, certs.join(format!("r{i}.crt"))).unwrap();
        }
        if let Some((u, p)) = r.credentials() {
            credentials.insert(r.host(), Credentials::new(&u, &p));
        }
    }
    let auth = dir.path().join("auth.json");
    std::fs::write(&auth, "{}").unwrap();
    let client = Client::new(ClientConfig {
        cert_dir: Some(certs),
        auth_file: Some(auth),
        credentials,
        ..ClientConfig::default()
    })
    .unwrap();
    TestClient { client, _dir: dir }
}

pub fn repo(c: &TestClient, reg: &Registry, name: &str) -> RegistryRepo {
    RegistryRepo::new(c.client.repository(&reg.host(), name))
}

pub fn any(c: &TestClient, location: &str) -> AnyImage {
    Location::parse(location)
        .unwrap()
        .open_destination(&c.client)
        .unwrap()
}
