use super::*;
use crate::plan::plan_push;
use ferry_items::read_items_yaml;

fn item(name: &str, dest: &str, key: &str) -> String {
    format!(
        r#"- ContainerImagePushItem:
    name: {name}
    dest: [{dest}]
    dest_signing_key: {key}
    pull_info:
      tag_specs:
        - {{registry: "src.io:5000", repository: ns/app, tag: "1.0", media_types: []}}
      digest_specs:
        - {{registry: "src.io:5000", repository: ns/app, digest: "{}", media_type: application/vnd.docker.distribution.manifest.v2+json}}
"#,
        Digest::sha256(b"one image")
    )
}

#[test]
fn an_unconfigured_key_takes_its_item_out_of_the_group_and_its_destinations_with_it() {
    let yaml = [
        item("bad", "product/bad:1", "DEADBEEFDEADBEEF"),
        item("good", "product/good:1", "199e2f91fd431d51"),
    ]
    .concat();
    let items = read_items_yaml(&yaml).unwrap();
    let settings = TargetSettings::parse(
        "registry: quay.io\nsigning: [{key_id: 199E2F91FD431D51, key_file: /nonexistent}]\n",
    )
    .unwrap();
    let plan = plan_push(&items, &settings, false);
    assert_eq!(plan.groups.len(), 1);
    assert_eq!(plan.groups[0].destinations.len(), 2);
    let plan = reject_unconfigured(plan, &items, &settings);
    assert_eq!(plan.groups[0].items, [1]);
    let dests: Vec<String> = plan.groups[0]
        .destinations
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(dests, ["quay.io/product/good:1"]);
    assert_eq!(plan.rejected.len(), 1);
    assert_eq!(plan.rejected[0].index, 0);
    assert!(
        plan.rejected[0]
            .rejection
            .reason()
            .contains("dest_signing_key DEADBEEFDEADBEEF: not a key of the target settings' signing (199E2F91FD431D51)"),
        "{:?}",
        plan.rejected[0]
    );
    // The key the good item names is loaded before anything is written: a missing
    // file is a usage error naming the key.
    let e = prepare(&settings, &items, &plan, None).unwrap_err();
    assert!(e.is_usage());
    assert!(
        e.to_string().contains("signing key 199E2F91FD431D51"),
        "{e}"
    );
}

#[test]
fn identities_use_the_reference_registries_and_the_items_repository() {
    let dest = Reference::parse("quay.io/org/product----app:1.0").unwrap();
    let ids = identities(
        &dest,
        "product/app",
        &[
            "registry.example.com".into(),
            "mirror.example.com:5000".into(),
        ],
    );
    let ids: Vec<String> = ids.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        ids,
        [
            "registry.example.com/product/app:1.0",
            "mirror.example.com:5000/product/app:1.0"
        ]
    );
    assert_eq!(identities(&dest, "product/app", &[]), [dest]);
}
