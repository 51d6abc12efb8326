//! A push split into shards run as separate processes against real registries: the same
//! tags and digests as one unsharded push, no tag written by two shards (from the
//! registry's own log: each shard names itself in its User-Agent), a re-run of a shard
//! writes nothing, and the shard reports combine into one.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{Ferry, write, writes_since};
use ferry_testkit::images::{self, Format};
use ferry_testkit::{Registry, skopeo};

const BUILDS: u8 = 8;

/// Items for `BUILDS` multi-arch builds, each to two repositories (split across shards).
fn items(build: &Registry, digests: &[String]) -> String {
    let mut yaml = String::new();
    for (k, digest) in digests.iter().enumerate() {
        yaml.push_str(&format!(
            r#"- ContainerImagePushItem:
    name: {host}/osbs/app{k}:1.0
    dest: ["product/app{k}:1.0", "product/app{k}:latest", "mirror/app{k}:1.0"]
    pull_info:
      tag_specs:
        - {{registry: "{host}", repository: osbs/app{k}, tag: "1.0", media_types: []}}
      digest_specs:
        - {{registry: "{host}", repository: osbs/app{k}, digest: "{digest}", media_type: application/vnd.oci.image.index.v1+json}}
"#,
            host = build.host()
        ));
    }
    yaml
}

fn tags_and_digests(quay: &Registry, namespace: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for k in 0..BUILDS {
        for (repo, tag) in [("product", "1.0"), ("product", "latest"), ("mirror", "1.0")] {
            let r = format!("{namespace}/{repo}/app{k}:{tag}");
            let raw = skopeo::inspect_raw(quay, &r);
            out.insert(
                format!("{repo}/app{k}:{tag}"),
                ferry_image::Digest::sha256(&raw).to_string(),
            );
        }
    }
    out
}

#[test]
fn three_shards_do_what_one_push_does() {
    let build = Registry::plain();
    let quay = Registry::plain();
    let digests: Vec<String> = (0..BUILDS)
        .map(|k| {
            let idx = images::multi_arch(&["amd64", "arm64"], 300 + u64::from(k), Format::Oci);
            images::push_index(&build, &format!("osbs/app{k}"), Some("1.0"), &idx);
            idx.digest.clone()
        })
        .collect();
    let f = Ferry::new(&[&build, &quay]);
    let items_file = f.path("items.yaml");
    write(&items_file, &items(&build, &digests));
    let file = items_file.to_str().unwrap();
    let settings = |ns: &str| {
        let p = f.path(&format!("{ns}.yaml"));
        write(
            &p,
            &format!(
                "registry: \"{}\"\nnamespace: {ns}\nmultiarch: merge\n",
                quay.host()
            ),
        );
        p.to_str().unwrap().to_string()
    };
    let (one, many) = (settings("one"), settings("many"));

    // Bad shards are usage errors, before anything is read.
    for bad in ["3/3", "0/0", "1", "a/3", "0/1025"] {
        let r = f.run(&["push", "--shard", bad, "--target", &many, file]);
        assert_eq!(r.code, 2, "--shard {bad}: {}", r.stderr);
        assert!(r.stderr.contains("INDEX/COUNT"), "{}", r.stderr);
    }

    // The plan of 3 shards covers every destination once.
    let plan = f.ok(&[
        "push",
        "--plan-shards",
        "3",
        "-o",
        "json",
        "--target",
        &many,
        file,
    ]);
    let loads: serde_json::Value = serde_json::from_str(&plan).unwrap();
    let loads = loads.as_array().unwrap();
    assert_eq!(loads.len(), 3);
    let total: u64 = loads
        .iter()
        .map(|l| l["destinations"].as_u64().unwrap())
        .sum();
    assert_eq!(total, u64::from(BUILDS) * 3);
    assert!(
        loads
            .iter()
            .all(|l| l["bytes"].as_u64().unwrap() > 0 || l["groups"] == 0)
    );

    // A dry run of one shard prints that shard's plan, and writes nothing.
    let mark = quay.mark();
    let dry = f.ok(&[
        "push",
        "--dry-run",
        "--shard",
        "2/3",
        "-o",
        "json",
        "--target",
        &many,
        file,
    ]);
    assert_eq!(writes_since(&quay, mark), 0, "a dry run writes nothing");
    let dry: serde_json::Value = serde_json::from_str(&dry).unwrap();
    assert_eq!(dry["shard"], "2/3");
    for d in dry["destinations"].as_array().unwrap() {
        let dest = d["destination"].as_str().unwrap();
        let repo = dest.split_once('/').unwrap().1.rsplit_once(':').unwrap().0;
        assert_eq!(ferry_publish::shard_of(repo, 3), 2, "{dest}");
    }

    // One process.
    let whole = f.run(&["push", "-o", "json", "--target", &one, file]);
    assert_eq!(whole.code, 0, "{}", whole.stderr);

    // Three processes at once.
    let mark = quay.mark();
    let children: Vec<_> = (0..3)
        .map(|i| {
            let report = f.path(&format!("shard-{i}.json"));
            f.command(&[
                "push",
                "--shard",
                &format!("{i}/3"),
                "--report",
                report.to_str().unwrap(),
                "-q",
                "--target",
                &many,
                file,
            ])
            .spawn()
            .unwrap()
        })
        .collect();
    for (i, c) in children.into_iter().enumerate() {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "shard {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        tags_and_digests(&quay, "one"),
        tags_and_digests(&quay, "many"),
        "the shards land the same tags with the same digests"
    );

    // From the registry's log: every tag written by exactly one shard, the one that owns it.
    quay.settle();
    let mut writers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in quay.requests_since(mark) {
        let Some((repo, reference)) = r.path.split_once("/manifests/") else {
            continue;
        };
        if r.method == "PUT" && !reference.contains(':') {
            writers
                .entry(format!("{repo}:{reference}"))
                .or_default()
                .insert(r.user_agent.clone());
        }
    }
    assert_eq!(writers.len(), usize::from(BUILDS) * 3, "{writers:?}");
    for (tag, agents) in &writers {
        assert_eq!(agents.len(), 1, "{tag} written by {agents:?}");
        let repo = tag.trim_start_matches("/v2/").split(':').next().unwrap();
        let owner = ferry_publish::shard_of(repo, 3);
        let agent = agents.iter().next().unwrap();
        assert!(
            agent.contains(&format!("(shard {owner}/3)")),
            "{tag}: {agent}"
        );
    }

    // A re-run of one shard writes nothing.
    let mark = quay.mark();
    f.ok(&["push", "--shard", "1/3", "-q", "--target", &many, file]);
    assert_eq!(
        writes_since(&quay, mark),
        0,
        "a re-run of shard 1 writes nothing"
    );

    // The reports combine into the report of the whole push, same schema.
    let reports: Vec<String> = (0..3)
        .map(|i| {
            f.path(&format!("shard-{i}.json"))
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut args = vec!["report", "merge", "-o", "json"];
    args.extend(reports.iter().map(String::as_str));
    let run = f.run_bare(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let merged: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let whole: serde_json::Value = serde_json::from_str(&whole.stdout).unwrap();
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&merged), keys(&whole));
    assert_eq!(
        merged["destinations"].as_array().unwrap().len(),
        whole["destinations"].as_array().unwrap().len()
    );
    for item in merged["items"].as_array().unwrap() {
        assert_eq!(item["state"], "PUSHED", "{item}");
        assert_eq!(item["destinations"].as_array().unwrap().len(), 3, "{item}");
    }

    // A missing shard fails the merge; so does a report that is not a shard's.
    let r = f.run_bare(&["report", "merge", &reports[0], &reports[2]]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("missing the report of shard(s) 1 of 3"),
        "{}",
        r.stderr
    );
    let not_shard = f.path("whole.json");
    write(&not_shard, &whole.to_string());
    let r = f.run_bare(&["report", "merge", not_shard.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}
