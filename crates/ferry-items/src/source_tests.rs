//! Unit tests of source URL parsing.

use super::*;

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

#[test]
fn source_urls() {
    assert_eq!(
        SourceUrl::parse("file:/tmp/items.yaml").unwrap(),
        SourceUrl::File("/tmp/items.yaml".into())
    );
    assert_eq!(
        SourceUrl::parse("file:relative/items").unwrap(),
        SourceUrl::File("relative/items".into())
    );
    for bare in ["items.yaml", "./dir/items.yml", "/abs/path/items.json"] {
        assert_eq!(
            SourceUrl::parse(bare).unwrap(),
            SourceUrl::File(bare.into())
        );
    }
    let url = format!(
        "registry:?image=reg.example.com/ns/app:1.0,127.0.0.1:5000/ns/app@{D1}&image=reg/x/y:2&dest=p/app:1.0,p/app:latest&dest_signing_key=key1,key2&dest_signing_key=key3&product_name=My%20Product"
    );
    let SourceUrl::Registry(p) = SourceUrl::parse(&url).unwrap() else {
        panic!("not a registry source")
    };
    let images: Vec<String> = p.images.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        images,
        vec![
            "reg.example.com/ns/app:1.0".to_string(),
            format!("127.0.0.1:5000/ns/app@{D1}"),
            "docker.io/reg/x/y:2".to_string(),
        ]
    );
    assert_eq!(p.images[1].registry(), "127.0.0.1:5000");
    assert_eq!(p.dest, vec!["p/app:1.0", "p/app:latest"]);
    assert_eq!(p.dest_signing_keys, vec!["key1", "key2", "key3"]);
    assert_eq!(p.product_name.as_deref(), Some("My Product"));
    let again = SourceUrl::parse(&SourceUrl::Registry(p.clone()).to_string()).unwrap();
    assert_eq!(again, SourceUrl::Registry(p));
}

#[test]
fn bad_source_urls() {
    let cases = [
        (
            "koji:https://koji.example.com?container_build=app-1-1",
            "\"koji\"",
            "needs a service not available to ferry",
        ),
        (
            "errata:https://errata.example.com?errata=RHBA-2024:1",
            "\"errata\"",
            "needs a service not available",
        ),
        (
            "pub:https://pub.example.com",
            "\"pub\"",
            "needs a service not available",
        ),
        ("staged:/srv/staged", "\"staged\"", "unknown backend"),
        ("registry:?dest=p/app", "needs image=", "invalid source"),
        (
            "registry:?image=https://reg/ns/app:1",
            "URL scheme",
            "image=",
        ),
        ("registry:?image=reg/NS/app:1", "lowercase", "image="),
        (
            "registry:?image=reg/ns/app:1&colour=red",
            "unknown option \"colour\"",
            "invalid source",
        ),
        (
            "registry:?image=reg/ns/app:1&product_name=a,b",
            "single value",
            "product_name",
        ),
        (
            "registry:?image=reg/ns/app%zz",
            "percent escape",
            "invalid source",
        ),
        (
            "registry:remote?image=reg/ns/app:1",
            "takes no remote",
            "invalid source",
        ),
        ("file:", "needs a path", "invalid source"),
        ("items.txt", "expected BACKEND:", "invalid source"),
    ];
    for (url, a, b) in cases {
        let err = SourceUrl::parse(url).expect_err(url).to_string();
        assert!(err.contains(a) && err.contains(b), "{url}: {err}");
    }
    let err = SourceUrl::parse("koji:x").unwrap_err().to_string();
    assert!(err.contains("supported: file, registry"), "{err}");
}
