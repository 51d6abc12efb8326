use std::path::PathBuf;
use std::time::Duration;

use super::*;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pubtools-quay")
        .join(name)
}

#[test]
fn loads_pubtools_quay_json_as_pub_passes_it() {
    let path = data("target-settings.json");
    let s = TargetSettings::load(&path).unwrap();
    assert_eq!(s.format, SettingsFormat::PubtoolsQuay);
    // quay_host's trailing slash dropped; Quay's flat layout under quay_namespace.
    assert_eq!(s.registry, "quay.io");
    assert_eq!(s.namespace.as_deref(), Some("example-org"));
    assert_eq!(s.repo_layout, RepoLayout::Flat);
    assert_eq!(
        s.destination_repository("product/app"),
        "example-org/product----app"
    );
    assert_eq!((s.jobs, s.tag_retries), (3, 6));
    assert_eq!(s.retry_wait, Duration::from_secs(2));
    assert_eq!(
        s.reference_registries,
        ["registry.example.com", "registry.example.org"]
    );
    // Inline passwords: accepted, resolved, never shown; one warning each.
    let dest = s.dest_credentials.as_ref().unwrap();
    assert!(dest.is_inline());
    assert_eq!(
        dest.resolve("dest_quay_password").unwrap(),
        ("dest-quay-user".to_string(), "dest-quay-pass".to_string())
    );
    let shown = format!("{s:?}");
    assert!(!shown.contains("dest-quay-pass") && !shown.contains("src-quay-pass"));
    assert_eq!(s.warnings.len(), 2, "{:?}", s.warnings);
    for (w, key) in s
        .warnings
        .iter()
        .zip(["dest_quay_password", "source_quay_password"])
    {
        assert!(
            w.contains(key)
                && w.contains(&format!("{key}_env"))
                && w.contains(&format!("{key}_file"))
                && w.contains("target-settings.json"),
            "{w}"
        );
        assert!(!w.contains("-pass"), "{w}");
    }
    // Source credentials apply to source_quay_host only.
    assert_eq!(
        s.source_credentials_host.as_deref(),
        Some("quay.example.com")
    );
    assert!(s.source_credentials_for("quay.example.com").is_some());
    assert!(s.source_credentials_for("registry.example.com").is_none());
    // Every key for another service is listed once, in file order, nested ones by path
    // where their parent stands (docker_settings is first in the file).
    assert_eq!(
        s.unused_keys,
        [
            "docker_settings.docker_container_signing_enabled",
            "docker_settings.docker_reference_registry_connection_attrs",
            "docker_settings.umb_url",
            "docker_settings.umb_urls",
            "iib_index_image",
            "iib_krb_ktfile",
            "iib_krb_principal",
            "iib_organization",
            "iib_server",
            "iib_deprecation_list_url",
            "max_concurrent",
            "pyxis_server",
            "dest_quay_api_token",
            "quay_operator_repository",
            "semaphore_components",
            "semaphore_url",
            "ssl_validation",
            "ssh_remote_host",
            "ssh_user",
            "ssh_password",
            "iib_overwrite_from_index",
            "iib_overwrite_from_index_token",
            "skopeo_image",
            "skopeo_executor_username",
            "skopeo_executor_password",
            "verify_bundle_tries",
            "verify_bundle_wait_time_increase",
            "cosign_private_key_path",
            "cosign_public_key_path",
            "push_security_manifests_enabled",
            "cosign_rekor_url",
            "pyxis_ssl_crtfile",
            "pyxis_ssl_keyfile",
            "signing",
            "retry_sleep_time",
        ]
    );
}

#[test]
fn loads_pubtools_quay_yaml_with_password_sources() {
    let s = TargetSettings::load(&data("target-settings.yaml")).unwrap();
    assert_eq!(s.format, SettingsFormat::PubtoolsQuay);
    assert_eq!(s.registry, "quay.io");
    assert_eq!(s.retry_wait, Duration::from_millis(500));
    assert_eq!((s.jobs, s.tag_retries), (5, 4));
    assert_eq!(s.reference_registries, ["registry.example.com"]);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    let dest = s.dest_credentials.as_ref().unwrap();
    assert_eq!(dest.username, "example-org+robot");
    assert_eq!(dest.password_env.as_deref(), Some("QUAY_ROBOT_PASSWORD"));
    let source = s.source_credentials.as_ref().unwrap();
    assert_eq!(
        source.password_file.as_deref(),
        Some(std::path::Path::new("/run/secrets/source-quay"))
    );
    // No source_quay_host: the source credentials apply to every source host.
    assert_eq!(s.source_credentials_host, None);
    assert!(s.source_credentials_for("any.example.com").is_some());
    assert_eq!(
        s.unused_keys,
        [
            "docker_settings.umb_urls",
            "pyxis_server",
            "pyxis_ssl_cert",
            "pyxis_ssl_key",
            "iib_server",
            "skopeo_image",
            "container_exec",
            "docker_host",
            "docker_timeout",
            "docker_tls_verify",
            "docker_cert_path",
            "retry_sleep_time",
        ]
    );
}

#[test]
fn pubtools_quay_defaults_and_ferry_keys_beside() {
    // pubtools-quay's defaults: quay.io, 4 tries, 10 s; ferry's jobs default.
    let s = TargetSettings::parse("quay_namespace: org\n").unwrap();
    assert_eq!(s.registry, "quay.io");
    assert_eq!(s.tag_retries, 4);
    assert_eq!(s.retry_wait, Duration::from_secs(10));
    assert_eq!(s.repo_layout, RepoLayout::Flat);
    assert!(s.unused_keys.is_empty() && s.warnings.is_empty());
    // ferry's own keys may stand beside pubtools-quay's when they say something else.
    let s = TargetSettings::parse(
        "{\"quay_host\": \"127.0.0.1:5000\", \"quay_namespace\": \"org\", \"multiarch\": \"overwrite\", \"jobs\": 2}",
    )
    .unwrap();
    assert_eq!(s.registry, "127.0.0.1:5000");
    assert_eq!(s.multiarch, MultiArch::Overwrite);
    assert_eq!(s.jobs, 2);
    // A ferry file with one pubtools-quay key keeps ferry's layout.
    let s = TargetSettings::parse("registry: quay.io\nretry_sleep_time: 5\n").unwrap();
    assert_eq!(s.repo_layout, RepoLayout::Nested);
    assert_eq!(s.unused_keys, ["retry_sleep_time"]);
    // JSON indented with tabs, as JSON writers may produce it.
    let s =
        TargetSettings::parse("{\n\t\"quay_namespace\": \"org\",\n\t\"pyxis_server\": \"p\"\n}\n")
            .unwrap();
    assert_eq!(s.unused_keys, ["pyxis_server"]);
    let e = TargetSettings::parse("{\n\t\"registry\": \"quay.io\",\n\t\"jobz\": 1\n}\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("jobz"), "{e}");
    // ferry's own format is untouched.
    let s = TargetSettings::parse("registry: quay.io\n").unwrap();
    assert_eq!(s.format, SettingsFormat::Ferry);
    assert!(s.unused_keys.is_empty());
}

#[test]
fn refuses_typos_bad_types_and_conflicts_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key, needle) in [
        // Typo protection: neither ferry's nor pubtools-quay's.
        (
            "quay_namespace: org\nquay_hots: quay.io\n",
            "quay_hots",
            "unknown key",
        ),
        (
            "quay_namespace: org\npyxis_sever: x\n",
            "pyxis_sever",
            "unknown key",
        ),
        // Types: an integer is not a host name, a string is not a number.
        (
            "quay_host: 5000\nquay_namespace: org\n",
            "quay_host",
            "found a number 5000",
        ),
        (
            "quay_host: 'bad host'\nquay_namespace: org\n",
            "quay_host",
            "registry host",
        ),
        ("quay_namespace: [a, b]\n", "quay_namespace", "found a list"),
        (
            "quay_namespace: Bad/NS\n",
            "quay_namespace",
            "not a repository path",
        ),
        (
            "quay_namespace: org\nnum_thread_container_push: '5'\n",
            "num_thread_container_push",
            "expected an integer",
        ),
        (
            "quay_namespace: org\nnum_thread_container_push: 0\n",
            "num_thread_container_push",
            "within 1..=256",
        ),
        (
            "quay_namespace: org\ntag_images_tries: true\n",
            "tag_images_tries",
            "expected an integer",
        ),
        (
            "quay_namespace: org\ntag_images_tries: 1000\n",
            "tag_images_tries",
            "within 1..=100",
        ),
        (
            "quay_namespace: org\ntag_images_wait_time_increase: -1\n",
            "tag_images_wait_time_increase",
            "number of seconds",
        ),
        (
            "quay_namespace: org\ntag_images_wait_time_increase: soon\n",
            "tag_images_wait_time_increase",
            "number of seconds",
        ),
        (
            "quay_namespace: org\ndocker_settings: [x]\n",
            "docker_settings",
            "expected a map",
        ),
        (
            "quay_namespace: org\ndocker_settings: {docker_reference_registry: [5]}\n",
            "docker_settings.docker_reference_registry",
            "found a number",
        ),
        (
            "quay_namespace: org\ndocker_settings: {docker_reference_registry: 'a b'}\n",
            "docker_settings.docker_reference_registry",
            "registry host",
        ),
        // Missing or half credentials.
        ("quay_host: quay.io\n", "quay_namespace", "missing"),
        (
            "quay_namespace: org\ndest_quay_user: u\n",
            "dest_quay_user",
            "needs a password",
        ),
        (
            "quay_namespace: org\ndest_quay_password: p\n",
            "dest_quay_password",
            "without dest_quay_user",
        ),
        (
            "quay_namespace: org\nsource_quay_user: u\nsource_quay_password: p\nsource_quay_password_env: X\n",
            "source_quay_password",
            "only one",
        ),
        (
            "quay_namespace: org\ndest_quay_user: u\ndest_quay_password: 12345\n",
            "dest_quay_password",
            "expected a password",
        ),
        // The same thing twice.
        (
            "quay_host: quay.io\nregistry: quay.io\nquay_namespace: org\n",
            "registry",
            "quay_host",
        ),
        (
            "quay_namespace: org\njobs: 2\nnum_thread_container_push: 3\n",
            "jobs",
            "num_thread_container_push",
        ),
        (
            "quay_namespace: org\ndest_credentials: {username: u, password_env: X}\ndest_quay_user: u\ndest_quay_password_env: X\n",
            "dest_credentials",
            "dest_quay_user",
        ),
        // ferry's keys keep their own rules in a pubtools-quay file.
        (
            "quay_namespace: org\nmultiarch: sideways\n",
            "multiarch",
            "sideways",
        ),
    ] {
        let path = dir.path().join("target.yaml");
        std::fs::write(&path, text).unwrap();
        let e = TargetSettings::load(&path).unwrap_err();
        assert!(
            matches!(&e, SettingsError::Key { key: k, .. } if k == key),
            "{text:?}: {e}"
        );
        let e = e.to_string();
        assert!(
            e.contains(&path.display().to_string()) && e.contains(needle),
            "{text:?}: {e}"
        );
        assert!(!e.contains("12345"), "a password is never shown: {e}");
    }
}
