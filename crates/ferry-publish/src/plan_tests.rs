use super::*;
use ferry_items::read_items_yaml;

const LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const IMAGE: &str = "application/vnd.docker.distribution.manifest.v2+json";

fn digest(n: u8) -> String {
    ferry_image::Digest::sha256(&[n]).to_string()
}

fn item(
    class: &str,
    name: &str,
    dest: &str,
    source_tags: &str,
    arch: &str,
    d: u8,
    mt: &str,
) -> String {
    format!(
        r#"- {class}:
    name: {name}
    dest: {dest}
    source_tags: {source_tags}
    arch: {arch}
    pull_info:
      tag_specs:
        - {{registry: "src.io:5000", repository: ns/app, tag: "1.0", media_types: []}}
      digest_specs:
        - {{registry: "src.io:5000", repository: ns/app, digest: "{}", media_type: {mt}}}
"#,
        digest(d)
    )
}

fn settings(extra: &str) -> TargetSettings {
    TargetSettings::parse(&format!("registry: quay.io\n{extra}")).unwrap()
}

fn refs(g: &PushGroup) -> Vec<String> {
    g.destinations.iter().map(|r| r.to_string()).collect()
}

#[test]
fn groups_per_arch_items_by_their_list_and_expands_tags() {
    let yaml = [
        item(
            "ContainerImagePushItem",
            "app-amd64",
            "[product/app]",
            "[\"1.0\", latest]",
            "amd64",
            1,
            LIST,
        ),
        item(
            "ContainerImagePushItem",
            "app-arm64",
            "[product/app]",
            "[\"1.0\", latest]",
            "arm64",
            1,
            LIST,
        ),
        item(
            "ContainerImagePushItem",
            "single",
            "[\"other/x:v2\"]",
            "[]",
            "amd64",
            2,
            IMAGE,
        ),
        item(
            "SourceContainerImagePushItem",
            "src-img",
            "[product/app-source]",
            "[\"1.0\"]",
            "amd64",
            3,
            IMAGE,
        ),
        item(
            "ContainerImagePushItem",
            "oci",
            "[o/i]",
            "[t]",
            "amd64",
            4,
            OCI_INDEX,
        ),
        item(
            "ContainerImagePushItem",
            "unknown",
            "[u/k]",
            "[t]",
            "amd64",
            5,
            "null",
        ),
    ]
    .concat();
    let items = read_items_yaml(&yaml).unwrap();
    let plan = plan_push(&items, &settings("namespace: org\n"), false);
    assert!(plan.rejected.is_empty(), "{:?}", plan.rejected);
    assert_eq!(plan.groups.len(), 5);
    let g = &plan.groups[0];
    assert_eq!(
        (g.kind, g.items.clone()),
        (GroupKind::MultiArch, vec![0, 1])
    );
    assert_eq!(
        g.source.to_string(),
        format!("src.io:5000/ns/app@{}", digest(1))
    );
    assert_eq!(
        refs(g),
        vec![
            "quay.io/org/product/app:1.0",
            "quay.io/org/product/app:latest"
        ]
    );
    assert_eq!(
        (plan.groups[1].kind, refs(&plan.groups[1])),
        (
            GroupKind::SingleArch,
            vec!["quay.io/org/other/x:v2".to_string()]
        )
    );
    assert_eq!(plan.groups[2].kind, GroupKind::SourceImage);
    assert_eq!(
        plan.groups[3].kind,
        GroupKind::MultiArch,
        "an OCI index ranks with lists"
    );
    assert_eq!(plan.groups[4].kind, GroupKind::Unknown);
}

#[test]
fn flat_layout_and_rejections() {
    let yaml = [
        item(
            "ContainerImagePushItem",
            "flat",
            "[product/app]",
            "[\"1\"]",
            "amd64",
            1,
            IMAGE,
        ),
        item(
            "ContainerImagePushItem",
            "no-tags",
            "[product/app]",
            "[]",
            "amd64",
            2,
            IMAGE,
        ),
        item(
            "ContainerImagePushItem",
            "bad-dest",
            "[\"Product/App:1\"]",
            "[]",
            "amd64",
            3,
            IMAGE,
        ),
        "- OperatorManifestPushItem:\n    name: operators.zip\n    dest: [x]\n".to_string(),
    ]
    .concat();
    let items = read_items_yaml(&yaml).unwrap();
    let plan = plan_push(
        &items,
        &settings("repo_layout: flat\nnamespace: org\n"),
        false,
    );
    assert_eq!(refs(&plan.groups[0]), vec!["quay.io/org/product----app:1"]);
    let reasons: Vec<(&str, bool)> = plan
        .rejected
        .iter()
        .map(|r| (r.name.as_str(), r.rejection.is_skipped()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("no-tags", false),
            ("bad-dest", false),
            ("operators.zip", false)
        ]
    );
    assert!(plan.rejected[0].rejection.reason().contains("source_tags"));
    assert!(plan.rejected[1].rejection.reason().contains("lowercase"));
    assert_eq!(plan.unsupported().count(), 1);
    let skipping = plan_push(&items, &settings(""), true);
    assert_eq!(skipping.unsupported().count(), 0);
    assert!(skipping.rejected.iter().any(|r| r.rejection.is_skipped()));
}

#[test]
fn policy_comes_from_settings() {
    let yaml = item(
        "ContainerImagePushItem",
        "a",
        "[p/a]",
        "[t]",
        "amd64",
        1,
        LIST,
    );
    let items = read_items_yaml(&yaml).unwrap();
    assert_eq!(
        plan_push(&items, &settings(""), false).groups[0].multiarch,
        MultiArch::Merge
    );
    assert_eq!(
        plan_push(&items, &settings("multiarch: overwrite\n"), false).groups[0].multiarch,
        MultiArch::Overwrite
    );
}

#[test]
fn destination_table() {
    let s = settings("namespace: ns\n");
    let t = |d: &[&str], st: &[&str]| {
        destinations(
            &d.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
            &st.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
            &s,
        )
        .map(|v| v.iter().map(|r| r.to_string()).collect::<Vec<_>>())
    };
    assert_eq!(t(&["a/b:1"], &[]).unwrap(), vec!["quay.io/ns/a/b:1"]);
    assert_eq!(
        t(&["a/b", "a/b:1"], &["1", "2"]).unwrap(),
        vec!["quay.io/ns/a/b:1", "quay.io/ns/a/b:2"]
    );
    assert!(t(&[], &["1"]).is_err());
    assert!(t(&[":1"], &[]).is_err());
    assert!(t(&["a/b:-bad"], &[]).is_err());
}
