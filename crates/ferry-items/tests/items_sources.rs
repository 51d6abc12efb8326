//! Sources: the `file:` backend end to end, and source URLs as a user types them.

use ferry_items::{
    ContainerImagePullInfo, ContainerImagePushItem, ContainerImageTagPullSpec, ItemsError,
    PushItem, SourceUrl, load_file_source, write_items_json, write_items_yaml,
};

fn items() -> Vec<PushItem> {
    let info = ContainerImagePullInfo::new(
        vec![ContainerImageTagPullSpec::parse("127.0.0.1:5000/ns/app:1.0").unwrap()],
        vec![],
    )
    .unwrap();
    vec![
        ContainerImagePushItem::new("127.0.0.1:5000/ns/app:1.0", info)
            .unwrap()
            .with_dest(vec!["product/app:1.0".into()])
            .into(),
    ]
}

#[test]
fn file_source_reads_yaml_and_json_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("items.yaml");
    let yml = dir.path().join("items.yml");
    let json = dir.path().join("items.json");
    std::fs::write(&yaml, write_items_yaml(&items())).unwrap();
    std::fs::write(&yml, write_items_yaml(&items())).unwrap();
    std::fs::write(&json, write_items_json(&items())).unwrap();
    for path in [&yaml, &yml, &json] {
        assert_eq!(
            load_file_source(path).unwrap(),
            items(),
            "{}",
            path.display()
        );
        let url = format!("file:{}", path.display());
        let SourceUrl::File(parsed) = SourceUrl::parse(&url).unwrap() else {
            panic!("{url} is not a file source");
        };
        assert_eq!(&parsed, path);
        let SourceUrl::File(bare) = SourceUrl::parse(&path.display().to_string()).unwrap() else {
            panic!("bare path is not a file source");
        };
        assert_eq!(load_file_source(bare).unwrap(), items());
    }
}

#[test]
fn file_source_errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let err = load_file_source(&missing).unwrap_err();
    assert!(matches!(err, ItemsError::Io { .. }));
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "- ContainerImagePushItem:\n    name: a\n    dets: [x]\n    pull_info: {tag_specs: [{registry: r, repository: a, tag: '1'}]}\n",
    )
    .unwrap();
    let err = load_file_source(&bad).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "push items file {}: item 0 (\"a\")",
            bad.display()
        )),
        "{err}"
    );
    assert!(err.contains("unknown field `dets`"), "{err}");

    // A JSON file is read as JSON: YAML syntax in it is refused.
    let json = dir.path().join("items.json");
    std::fs::write(&json, "- ContainerImagePushItem: {}\n").unwrap();
    let err = load_file_source(&json).unwrap_err().to_string();
    assert!(
        err.contains("items.json") && err.contains("invalid JSON"),
        "{err}"
    );
}

#[test]
fn registry_source_params() {
    let digest = "sha256:0ccb9988abbc72d383258d58a7f519a10b637d472f28fbca6eb5fab79ba82a6b";
    let url = format!(
        "registry:?image=127.0.0.1:5000/ns/app@{digest},registry.example.com/a/b/c:1.0&dest=product/app:1.0,product/app:latest&dest_signing_key=199e2f91fd431d51,fd431d51"
    );
    let SourceUrl::Registry(p) = url.parse::<SourceUrl>().unwrap() else {
        panic!("not a registry source");
    };
    assert_eq!(p.images.len(), 2);
    assert_eq!(p.images[0].registry(), "127.0.0.1:5000");
    assert_eq!(p.images[0].repository(), "ns/app");
    assert_eq!(p.images[0].digest().map(|d| d.as_str()), Some(digest));
    assert_eq!(p.images[1].repository(), "a/b/c");
    assert_eq!(p.images[1].tag(), Some("1.0"));
    assert_eq!(p.dest, ["product/app:1.0", "product/app:latest"]);
    assert_eq!(p.dest_signing_keys, ["199e2f91fd431d51", "fd431d51"]);
    assert_eq!(p.product_name, None);
    // Without the leading `?` too, as pushsource accepts it.
    assert!(matches!(
        SourceUrl::parse("registry:image=reg.example.com/ns/app:1").unwrap(),
        SourceUrl::Registry(_)
    ));
}

#[test]
fn unsupported_backends_are_named() {
    for (url, backend) in [
        (
            "koji:https://koji.example.com/kojihub?container_build=app-1.0-1",
            "koji",
        ),
        (
            "errata:https://errata.example.com?errata=RHSA-2024:0001",
            "errata",
        ),
        ("pub:https://pub.example.com", "pub"),
    ] {
        let err = SourceUrl::parse(url).unwrap_err().to_string();
        assert!(
            err.contains(&format!("unsupported source backend \"{backend}\"")),
            "{err}"
        );
        assert!(
            err.contains("needs a service not available to ferry"),
            "{err}"
        );
        assert!(err.contains("supported: file, registry"), "{err}");
    }
    let err = SourceUrl::parse("s3:bucket/items.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"s3\"") && err.contains("unknown backend"),
        "{err}"
    );
}
