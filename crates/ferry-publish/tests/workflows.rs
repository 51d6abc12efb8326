//! The publishing workflows against real registries: push with merge and overwrite,
//! idempotent re-runs, missing sources, retries, untag, concurrent merges.

#[path = "../../ferry-copy/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{client_for, repo};
use ferry_copy::{CopyEngine, CopyOptions, ImageDestination, ImageSource};
use ferry_image::{Manifest, RawManifest, Reference, Target};
use ferry_items::{PushItem, PushItemState, SourceUrl, read_items_yaml};
use ferry_publish::{
    DestinationAction, MergeAction, MergeOptions, PushOptions, PushReport, Retry, TargetSettings,
    WorkflowError, execute_plan, load_registry_source, merge, merge_write, plan_push, tag, untag,
};
use ferry_testkit::images::{self, Format, ImageSpec};
use ferry_testkit::{Registry, skopeo};

fn archs_of(raw: &[u8]) -> Vec<String> {
    let m = RawManifest::new(raw.to_vec(), None).unwrap();
    match m.parse().unwrap() {
        Manifest::Index(i) => i
            .manifests
            .iter()
            .map(|d| d.platform.as_ref().unwrap().architecture.clone())
            .collect(),
        _ => panic!("not a list"),
    }
}

async fn items_from(c: &common::TestClient, url: &str) -> Vec<PushItem> {
    let SourceUrl::Registry(p) = SourceUrl::parse(url).unwrap() else {
        panic!()
    };
    load_registry_source(&c.client, &p).await.unwrap()
}

fn opts(dry_run: bool) -> PushOptions {
    PushOptions {
        dry_run,
        retry: Retry {
            attempts: 2,
            wait: Duration::from_millis(50),
            ..Retry::default()
        },
        groups_at_once: 4,
        signing: None,
    }
}

async fn run_push(
    c: &common::TestClient,
    items: &[PushItem],
    settings: &str,
    dry_run: bool,
) -> PushReport {
    let settings = TargetSettings::parse(settings).unwrap();
    let plan = plan_push(items, &settings, false);
    let engine = CopyEngine::new(CopyOptions::default());
    execute_plan(&engine, &c.client, &c.client, items, &plan, &opts(dry_run)).await
}

#[tokio::test]
async fn push_merges_copies_and_is_idempotent() {
    let build = Registry::plain();
    let quay = Registry::tls_htpasswd("robot", "push-pw");
    let (b, q) = (build.host(), quay.host());
    // The new build: amd64, arm64, ppc64le. The destination already has s390x.
    let new = images::multi_arch(&["amd64", "arm64", "ppc64le"], 91, Format::Docker);
    images::push_index(&build, "osbs/app", Some("1.0"), &new);
    let old = images::multi_arch(&["amd64", "s390x"], 92, Format::Docker);
    images::push_index(&quay, "org/product/app", Some("1.0"), &old);
    let single = images::image(&ImageSpec::new("amd64", 93).label("a", "b"), Format::Oci);
    images::push_image(&build, "osbs/tool", Some("2.0"), &single);
    let source = images::source_image(94);
    images::push_image(&build, "osbs/app-source", Some("1.0"), &source);

    let c = client_for(&[&build, &quay]);
    let mut items = items_from(
        &c,
        &format!("registry:?image={b}/osbs/app:1.0&dest=product/app,product/app:latest"),
    )
    .await;
    items.extend(
        items_from(
            &c,
            &format!("registry:?image={b}/osbs/tool:2.0&dest=product/tool"),
        )
        .await,
    );
    items.extend(
        items_from(
            &c,
            &format!("registry:?image={b}/osbs/app-source:1.0&dest=product/app-source"),
        )
        .await,
    );
    let settings = format!("registry: \"{q}\"\nnamespace: org\nmultiarch: merge\n");

    // Dry run: the plan, nothing written.
    let mark = quay.mark();
    let dry = run_push(&c, &items, &settings, true).await;
    assert!(
        dry.items.iter().all(|i| i.state == PushItemState::Pending),
        "{dry:#?}"
    );
    let merged = dry
        .destinations
        .iter()
        .find(|d| d.destination.ends_with("product/app:1.0"))
        .unwrap();
    assert_eq!(merged.action, DestinationAction::Merged);
    quay.settle();
    assert_eq!(quay.count_since(mark, "PUT", ""), 0);
    assert_eq!(quay.count_since(mark, "POST", ""), 0);

    let report = run_push(&c, &items, &settings, false).await;
    assert!(report.success(), "{report:#?}");
    let action = |suffix: &str| {
        report
            .destinations
            .iter()
            .find(|d| d.destination.ends_with(suffix))
            .unwrap()
            .action
    };
    assert_eq!(action("org/product/app:1.0"), DestinationAction::Merged);
    assert_eq!(action("org/product/app:latest"), DestinationAction::Copied);
    assert_eq!(action("org/product/tool:2.0"), DestinationAction::Copied);
    assert_eq!(
        action("org/product/app-source:1.0"),
        DestinationAction::Copied
    );

    let merged = skopeo::inspect_raw(&quay, "org/product/app:1.0");
    assert_eq!(
        archs_of(&merged),
        vec!["amd64", "arm64", "ppc64le", "s390x"],
        "s390x kept"
    );
    assert_eq!(
        skopeo::inspect_raw(&quay, "org/product/app:latest"),
        new.manifest
    );
    assert_eq!(
        skopeo::inspect_raw(&quay, "org/product/tool:2.0"),
        single.manifest
    );
    assert_eq!(
        skopeo::inspect_raw(&quay, "org/product/app-source:1.0"),
        source.manifest
    );
    // skopeo copies every destination out completely.
    for r in [
        "org/product/app:1.0",
        "org/product/app:latest",
        "org/product/tool:2.0",
        "org/product/app-source:1.0",
    ] {
        let out = tempfile::tempdir().unwrap();
        let mut args = vec!["copy".to_string(), "--all".to_string()];
        args.extend(quay.src_args());
        args.push(quay.docker_ref(r));
        args.push(format!("oci:{}:x", out.path().display()));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        skopeo::skopeo_ok(&argv);
    }

    // The same push again writes nothing.
    let mark = quay.mark();
    let again = run_push(&c, &items, &settings, false).await;
    assert!(again.success());
    assert!(
        again
            .destinations
            .iter()
            .all(|d| d.action == DestinationAction::Unchanged),
        "{again:#?}"
    );
    quay.settle();
    assert_eq!(
        quay.count_since(mark, "PUT", ""),
        0,
        "no manifest or blob written"
    );
    assert_eq!(quay.count_since(mark, "POST", ""), 0);
    assert_eq!(quay.count_since(mark, "PATCH", ""), 0);

    // Overwrite: the destination list becomes the source list exactly.
    let over = format!("registry: \"{q}\"\nnamespace: org\nmultiarch: overwrite\n");
    let report = run_push(&c, &items, &over, false).await;
    assert!(report.success());
    assert_eq!(
        skopeo::inspect_raw(&quay, "org/product/app:1.0"),
        new.manifest
    );
}

#[tokio::test]
async fn a_missing_source_is_reported_and_the_rest_pushed() {
    let build = Registry::plain();
    let dst = Registry::plain();
    let img = images::simple(95, Format::Docker);
    images::push_image(&build, "osbs/present", Some("1"), &img);
    let c = client_for(&[&build, &dst]);
    let b = build.host();
    let missing = ferry_image::Digest::sha256(b"not pushed");
    let yaml = format!(
        r#"- ContainerImagePushItem:
    name: present
    dest: ["p/present:1"]
    pull_info:
      tag_specs: [{{registry: "{b}", repository: osbs/present, tag: "1", media_types: []}}]
      digest_specs: [{{registry: "{b}", repository: osbs/present, digest: "{}", media_type: {}}}]
- ContainerImagePushItem:
    name: missing
    dest: ["p/missing:1"]
    pull_info:
      tag_specs: [{{registry: "{b}", repository: osbs/missing, tag: "1", media_types: []}}]
      digest_specs: [{{registry: "{b}", repository: osbs/missing, digest: "{missing}", media_type: null}}]
"#,
        img.digest, img.media_type
    );
    let items = read_items_yaml(&yaml).unwrap();
    let report = run_push(
        &c,
        &items,
        &format!("registry: \"{}\"\n", dst.host()),
        false,
    )
    .await;
    assert!(!report.success());
    let state = |n: &str| report.items.iter().find(|i| i.name == n).unwrap().state;
    assert_eq!(state("present"), PushItemState::Pushed);
    assert_eq!(state("missing"), PushItemState::NotFound);
    assert_eq!(skopeo::inspect_raw(&dst, "p/present:1"), img.manifest);
}

#[tokio::test]
async fn tag_reaches_a_registry_that_comes_up_late() {
    let src = Registry::plain();
    let img = images::simple(96, Format::Oci);
    images::push_image(&src, "t/app", Some("1"), &img);
    let now = Registry::plain();
    let port = ferry_testkit::reserve_port();
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        Registry::builder().port(port).start()
    });
    let c = client_for(&[&src, &now]);
    let engine = CopyEngine::new(CopyOptions::default());
    let dests = vec![
        (repo(&c, &now, "t/app"), "1".to_string()),
        (
            ferry_copy::RegistryRepo::new(
                c.client.repository(&format!("127.0.0.1:{port}"), "t/app"),
            ),
            "1".to_string(),
        ),
    ];
    let retry = Retry {
        attempts: 6,
        wait: Duration::from_millis(500),
        max_wait: Duration::from_secs(2),
    };
    let results = tag(
        &engine,
        repo(&c, &src, "t/app"),
        &Target::Tag("1".into()),
        &dests,
        &retry,
    )
    .await
    .unwrap();
    let late = late.join().unwrap();
    for r in &results {
        assert!(r.result.is_ok(), "{}: {:?}", r.destination, r.result);
    }
    assert!(results[1].attempts > 1, "the late registry needed retries");
    assert_eq!(skopeo::inspect_raw(&late, "t/app:1"), img.manifest);
    assert_eq!(skopeo::inspect_raw(&now, "t/app:1"), img.manifest);
}

#[tokio::test]
async fn untag_keeps_the_sibling_tag() {
    let reg = Registry::plain();
    let img = images::simple(97, Format::Oci);
    images::push_image(&reg, "u/app", Some("keep"), &img);
    images::push_image(&reg, "u/app", Some("drop"), &img);
    let only = images::simple(98, Format::Oci);
    images::push_image(&reg, "u/app", Some("only"), &only);
    let c = client_for(&[&reg]);
    let r = |t: &str| Reference::parse(&format!("{}/u/app:{t}", reg.host())).unwrap();

    let e = untag(&c.client, &[r("only")], false).await.unwrap_err();
    assert!(e.to_string().contains("last tag"), "{e}");
    let e = untag(&c.client, &[r("keep"), r("drop")], false)
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("last tag"),
        "removing both would leave none: {e}"
    );
    assert_eq!(skopeo::list_tags(&reg, "u/app").len(), 3, "nothing removed");

    let out = untag(&c.client, &[r("drop")], false).await.unwrap();
    assert_eq!(out[0].remaining_tags, vec!["keep".to_string()]);
    let mut tags = skopeo::list_tags(&reg, "u/app");
    tags.sort();
    assert_eq!(tags, vec!["keep".to_string(), "only".to_string()]);
    assert_eq!(
        skopeo::inspect_raw(&reg, "u/app:keep"),
        img.manifest,
        "the sibling still points at the image"
    );

    untag(&c.client, &[r("only")], true).await.unwrap();
    assert_eq!(skopeo::list_tags(&reg, "u/app"), vec!["keep".to_string()]);
}

#[tokio::test]
async fn concurrent_merges_keep_every_platform() {
    let reg = Registry::plain();
    let archs = ["amd64", "arm64", "ppc64le", "s390x"];
    for (i, a) in archs.iter().enumerate() {
        let idx = images::multi_arch(&[a], 100 + i as u64, Format::Docker);
        images::push_index(&reg, &format!("b/{a}"), Some("1"), &idx);
    }
    let c = client_for(&[&reg]);
    let dest = repo(&c, &reg, "final/app");
    let futures = archs.iter().map(|a| {
        let src = repo(&c, &reg, &format!("b/{a}"));
        let dest = dest.clone();
        async move {
            let engine = CopyEngine::new(CopyOptions::default());
            let opts = MergeOptions {
                settle: Duration::from_millis(200),
                ..MergeOptions::default()
            };
            merge(
                &engine,
                &src,
                &Target::Tag("1".into()),
                &dest,
                "latest",
                &opts,
            )
            .await
        }
    });
    let results = futures_util::future::join_all(futures).await;
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    let mut got = archs_of(&skopeo::inspect_raw(&reg, "final/app:latest"));
    got.sort();
    assert_eq!(got, archs.to_vec());
    assert!(dest.resolve_tag("latest").await.unwrap().is_some());
    // Merging one again changes nothing.
    let engine = CopyEngine::new(CopyOptions::default());
    let again = merge(
        &engine,
        &repo(&c, &reg, "b/amd64"),
        &Target::Tag("1".into()),
        &dest,
        "latest",
        &MergeOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(again.action, MergeAction::Unchanged);
}

/// A writer that read the tag before this merge wrote puts back the list it read: the
/// confirmation sees this merge's platform gone and merges again. The same holds when the
/// merge found its platform already merged in by another writer (`unchanged`): issue 11's
/// lost platforms came from that path returning without any confirmation.
#[tokio::test]
async fn a_list_replaced_before_confirmation_is_merged_again() {
    let reg = Registry::plain();
    let src_idx = images::multi_arch(&["amd64"], 130, Format::Docker);
    images::push_index(&reg, "b/amd64", Some("1"), &src_idx);
    let old_idx = images::multi_arch(&["s390x"], 131, Format::Docker);
    images::push_index(&reg, "final/app", Some("latest"), &old_idx);
    let old = RawManifest::new(old_idx.manifest.clone(), None).unwrap();
    let c = client_for(&[&reg]);
    let src = repo(&c, &reg, "b/amd64");
    let dest = repo(&c, &reg, "final/app");
    let top = src.manifest(&Target::Tag("1".into())).await.unwrap();
    let engine = CopyEngine::new(CopyOptions::default());
    let opts = MergeOptions {
        settle: Duration::from_millis(50),
        ..MergeOptions::default()
    };
    let latest = Target::Tag("latest".into());
    let stale_write = || dest.put_manifest(&old, &latest);

    // Written, then replaced by the stale list before the confirmation.
    let pending = merge_write(&engine, &src, &top, &dest, "latest", &opts)
        .await
        .unwrap();
    assert_eq!(pending.outcome().action, MergeAction::Merged);
    stale_write().await.unwrap();
    let out = pending.confirm().await.unwrap();
    assert_eq!(out.rounds, 2, "{out:?}");
    let mut got = archs_of(&skopeo::inspect_raw(&reg, "final/app:latest"));
    got.sort();
    assert_eq!(got, vec!["amd64", "s390x"]);

    // Already there (unchanged), then replaced: merged again too.
    let pending = merge_write(&engine, &src, &top, &dest, "latest", &opts)
        .await
        .unwrap();
    assert_eq!(pending.outcome().action, MergeAction::Unchanged);
    stale_write().await.unwrap();
    let out = pending.confirm().await.unwrap();
    assert_eq!((out.action, out.rounds), (MergeAction::Merged, 2));
    let mut got = archs_of(&skopeo::inspect_raw(&reg, "final/app:latest"));
    got.sort();
    assert_eq!(got, vec!["amd64", "s390x"]);

    // Out of rounds: the merge fails and names the platform it could not confirm.
    let one = MergeOptions {
        max_rounds: 1,
        ..opts.clone()
    };
    stale_write().await.unwrap();
    let pending = merge_write(&engine, &src, &top, &dest, "latest", &one)
        .await
        .unwrap();
    stale_write().await.unwrap();
    let e = pending.confirm().await.unwrap_err();
    assert!(matches!(e, WorkflowError::Contended { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "could not confirm linux/amd64 in latest after 1 attempts: concurrent writers"
    );
}
