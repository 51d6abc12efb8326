//! The publishing commands as a release engineer runs them: items, push, merge, tag,
//! untag — including bad settings, bad items and refused logins (nothing written).

mod common;

use common::{Ferry, write, writes_since};
use ferry_testkit::images::{self, Format};
use ferry_testkit::{Registry, skopeo};

fn archs(raw: &[u8]) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(raw).unwrap();
    let mut a: Vec<String> = v["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap().to_string())
        .collect();
    a.sort();
    a
}

#[test]
fn items_then_push_with_merge_then_again() {
    let build = Registry::plain();
    let quay = Registry::tls_htpasswd("robot", "quay-pw");
    let new = images::multi_arch(&["amd64", "arm64"], 201, Format::Oci);
    images::push_index(&build, "osbs/app", Some("2.0"), &new);
    let old = images::multi_arch(&["amd64", "s390x"], 202, Format::Oci);
    images::push_index(&quay, "org/product/app", Some("2.0"), &old);
    let f = Ferry::new(&[&build, &quay]);
    let items = f.ok(&[
        "items",
        &format!(
            "registry:?image={}/osbs/app:2.0&dest=product/app",
            build.host()
        ),
    ]);
    assert!(
        items.contains("ContainerImagePushItem") && items.contains("arm64"),
        "{items}"
    );
    let items_file = f.path("items.yaml");
    write(&items_file, &items);
    let pw = f.path("quay-pw");
    write(&pw, "quay-pw\n");
    let settings = f.path("target.yaml");
    write(
        &settings,
        &format!(
            "registry: \"{}\"\nnamespace: org\nmultiarch: merge\ntag_retries: 2\nretry_wait: 100ms\ndest_credentials: {{username: robot, password_file: {}}}\n",
            quay.host(),
            pw.display()
        ),
    );
    let target = settings.to_str().unwrap();
    let file = items_file.to_str().unwrap();

    let mark = quay.mark();
    let plan = f.run(&["push", "--target", target, "--dry-run", "-o", "json", file]);
    assert_eq!(plan.code, 0, "a clean plan: {}", plan.stderr);
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["destinations"][0]["action"], "merged");
    assert_eq!(writes_since(&quay, mark), 0, "a dry run writes nothing");

    let out = f.ok(&["push", "--target", target, file]);
    assert!(out.contains("merged") && out.contains("PUSHED"), "{out}");
    assert_eq!(
        archs(&skopeo::inspect_raw(&quay, "org/product/app:2.0")),
        vec!["amd64", "arm64", "s390x"]
    );

    let mark = quay.mark();
    let again = f.ok(&["push", "--target", target, "-o", "json", file]);
    let v: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert!(
        v["destinations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["action"] == "unchanged")
    );
    assert_eq!(
        writes_since(&quay, mark),
        0,
        "the same push again writes nothing"
    );
}

#[test]
fn bad_settings_bad_items_and_refused_logins_write_nothing() {
    let build = Registry::plain();
    let quay = Registry::tls_htpasswd("robot", "quay-pw");
    let img = images::simple(203, Format::Docker);
    images::push_image(&build, "osbs/tool", Some("1"), &img);
    let f = Ferry::new(&[&build, &quay]);
    let b = build.host();
    let good = format!(
        "- ContainerImagePushItem:\n    name: tool\n    dest: [\"product/tool:1\"]\n    pull_info:\n      tag_specs: [{{registry: \"{b}\", repository: osbs/tool, tag: \"1\", media_types: []}}]\n      digest_specs: [{{registry: \"{b}\", repository: osbs/tool, digest: \"{}\", media_type: null}}]\n",
        img.digest
    );
    let bad = "- ContainerImagePushItem:\n    name: broken\n    dest: [\"product/broken:1\"]\n    sha256sum: abc\n    pull_info:\n      tag_specs: [{registry: \"r.io\", repository: x, tag: \"1\", media_types: []}]\n      digest_specs: []\n";
    let items = f.path("items.yaml");
    write(&items, &format!("{good}{bad}"));
    let items = items.to_str().unwrap().to_string();
    let pw_env = ("QUAY_PW", "quay-pw");
    let settings = |extra: &str| {
        let p = f.path("t.yaml");
        write(&p, &format!("registry: \"{}\"\n{extra}", quay.host()));
        p.to_str().unwrap().to_string()
    };
    let run = |args: &[&str]| {
        let o = f.command(args).env(pw_env.0, pw_env.1).output().unwrap();
        (
            o.status.code().unwrap(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let creds = "dest_credentials: {username: robot, password_env: QUAY_PW}\n";

    let mark = quay.mark();
    // A bad settings file: exit 2, naming the field.
    let t = settings("multiarch: sometimes\n");
    let (code, _, err) = run(&["push", "--target", &t, &items]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("multiarch"), "{err}");
    // --strict with an invalid item: exit 2, nothing written.
    let t = settings(creds);
    let (code, _, err) = run(&["push", "--strict", "--target", &t, &items]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("broken") && err.contains("sha256sum"), "{err}");
    // A refused login: exit 1, no password in the output.
    let t = settings("dest_credentials: {username: robot, password_env: WRONG_PW}\n");
    let o = f
        .command(&["push", "--target", &t, &items])
        .env("WRONG_PW", "n0t-the-pw")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned() + &String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("n0t-the-pw"), "{err}");
    assert!(
        err.to_lowercase().contains("auth") || err.contains("401"),
        "{err}"
    );
    // An operator item is refused unless skipped.
    let op = f.path("op.yaml");
    write(
        &op,
        &format!("{good}- OperatorManifestPushItem:\n    name: operators.zip\n    dest: [x]\n"),
    );
    let t = settings(creds);
    let (code, _, err) = run(&["push", "--target", &t, op.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("operators.zip") && err.contains("skip-unsupported"),
        "{err}"
    );
    assert_eq!(
        writes_since(&quay, mark),
        0,
        "nothing written by any refused push"
    );

    // Without --strict: the invalid item is reported INVALID and the rest is pushed.
    let (code, out, err) = run(&["push", "--target", &t, "-o", "json", &items]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let state = |n: &str| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == n)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state("tool"), "PUSHED");
    assert_eq!(state("broken"), "INVALID");
    assert_eq!(skopeo::inspect_raw(&quay, "product/tool:1"), img.manifest);
    let (code, _, err) = run(&[
        "push",
        "--skip-unsupported",
        "--target",
        &t,
        op.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
}

/// Eight `ferry merge` processes, one platform each, race into one tag, round after round
/// (`FERRY_MERGE_RACE_ROUNDS`, default 3; `make stress` runs hundreds). The contract: every
/// platform whose process exited 0 is on the tag; a process that could not confirm its
/// platform exits non-zero and says so.
#[test]
fn merges_from_several_processes_keep_every_platform() {
    let rounds: usize = std::env::var("FERRY_MERGE_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let reg = Registry::plain();
    let all = [
        "amd64", "arm64", "ppc64le", "s390x", "386", "riscv64", "mips64le", "loong64",
    ];
    for (i, a) in all.iter().enumerate() {
        let idx = images::multi_arch(&[a], 210 + i as u64, Format::Docker);
        images::push_index(&reg, &format!("b/{a}"), Some("1"), &idx);
    }
    let f = Ferry::new(&[&reg]);
    let (mut failed_runs, mut failed_processes, mut max_rounds) = (0, 0, 0);
    for run in 0..rounds {
        let dest = format!("{}/final/app:r{run}", reg.host());
        let children: Vec<_> = all
            .iter()
            .map(|a| {
                f.command(&[
                    "merge",
                    "-q",
                    "-o",
                    "json",
                    &format!("{}/b/{a}:1", reg.host()),
                    &dest,
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        let mut confirmed = Vec::new();
        let mut failures = 0;
        for (a, c) in all.iter().zip(children) {
            let o = c.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            if o.status.success() {
                let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                max_rounds = max_rounds.max(v["rounds"].as_u64().unwrap());
                confirmed.push(a.to_string());
            } else {
                assert!(
                    err.contains("could not confirm") && err.contains(a),
                    "run {run}, {a}: {err}"
                );
                failures += 1;
            }
        }
        let got = archs(&skopeo::inspect_raw(&reg, &format!("final/app:r{run}")));
        for a in &confirmed {
            assert!(
                got.contains(a),
                "run {run}: {a} exited 0 but is not on the tag: {got:?}"
            );
        }
        assert!(!confirmed.is_empty(), "run {run}: every process failed");
        failed_processes += failures;
        failed_runs += usize::from(failures > 0);
    }
    eprintln!(
        "merge race: {rounds} runs x {} processes: 0 silent losses, {failed_runs} runs with \
         {failed_processes} processes failing loudly, up to {max_rounds} merge rounds",
        all.len()
    );
}

/// `--archs` naming no architecture of the source: a destination keeps what it has (exit 0,
/// the report says why); with no destination it is an error and nothing is written.
#[test]
fn merge_with_no_eligible_arch_leaves_the_destination() {
    let reg = Registry::plain();
    let src = images::multi_arch(&["amd64", "s390x"], 230, Format::Docker);
    images::push_index(&reg, "n/src", Some("1"), &src);
    let dst = images::multi_arch(&["amd64", "ppc64le"], 231, Format::Docker);
    images::push_index(&reg, "n/dst", Some("1"), &dst);
    let f = Ferry::new(&[&reg]);
    let h = reg.host();
    let mark = reg.mark();

    let out = f.ok(&[
        "merge",
        "--archs",
        "arm64",
        &format!("{h}/n/src:1"),
        &format!("{h}/n/dst:1"),
    ]);
    assert!(out.starts_with("unchanged "), "{out}");
    assert!(
        out.contains("none of the source's architectures (amd64,s390x)")
            && out.contains("eligible ones (arm64)")
            && out.contains("keeps what it has"),
        "{out}"
    );
    let out = f.ok(&[
        "merge",
        "-o",
        "json",
        "--archs",
        "arm64",
        &format!("{h}/n/src:1"),
        &format!("{h}/n/dst:1"),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["action"], "unchanged");
    assert!(
        v["note"].as_str().unwrap().contains("keeps what it has"),
        "{v}"
    );
    assert_eq!(v["platforms"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(skopeo::inspect_raw(&reg, "n/dst:1"), dst.manifest);
    assert_eq!(writes_since(&reg, mark), 0, "a no-op writes nothing");

    let r = f.run(&[
        "merge",
        "--archs",
        "arm64",
        &format!("{h}/n/src:1"),
        &format!("{h}/n/none:1"),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("amd64,s390x") && r.stderr.contains("arm64"),
        "{}",
        r.stderr
    );
    assert_eq!(writes_since(&reg, mark), 0, "an error writes nothing");
}

#[test]
fn merge_tag_and_untag_commands() {
    let reg = Registry::plain();
    let other = Registry::plain();
    let src = images::multi_arch(&["amd64", "arm64"], 220, Format::Docker);
    images::push_index(&reg, "m/src", Some("1"), &src);
    let dst = images::multi_arch(&["amd64", "s390x"], 221, Format::Docker);
    images::push_index(&reg, "m/dst", Some("1"), &dst);
    let f = Ferry::new(&[&reg, &other]);
    let h = reg.host();

    // --archs: only amd64 from the source; arm64 is not eligible, s390x is kept.
    let out = f.ok(&[
        "merge",
        "-o",
        "json",
        "--archs",
        "amd64",
        &format!("{h}/m/src:1"),
        &format!("{h}/m/dst:1"),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["action"], "merged");
    assert_eq!(
        archs(&skopeo::inspect_raw(&reg, "m/dst:1")),
        vec!["amd64", "s390x"]
    );
    let amd = src.images.iter().find(|i| i.platform.1 == "amd64").unwrap();
    assert!(String::from_utf8_lossy(&skopeo::inspect_raw(&reg, "m/dst:1")).contains(&amd.digest));
    // A source that is not a list: clear failure.
    let single = images::simple(222, Format::Oci);
    images::push_image(&reg, "m/single", Some("1"), &single);
    let r = f.run(&["merge", &format!("{h}/m/single:1"), &format!("{h}/m/dst:1")]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not a manifest list"), "{}", r.stderr);

    // tag to two registries; then untag refuses the last tag and keeps siblings.
    f.ok(&[
        "tag",
        "-q",
        &format!("{h}/m/src:1"),
        &format!("{h}/m/src:stable"),
        &format!("{}/m/src:1", other.host()),
    ]);
    assert_eq!(skopeo::inspect_raw(&other, "m/src:1"), src.manifest);
    let r = f.run(&["untag", &format!("{}/m/src:1", other.host())]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("last tag") && r.stderr.contains("nothing was removed"),
        "{}",
        r.stderr
    );
    let out = f.ok(&["untag", &format!("{h}/m/src:1")]);
    assert!(out.contains("still tagged stable"), "{out}");
    assert_eq!(skopeo::list_tags(&reg, "m/src"), vec!["stable".to_string()]);
    assert_eq!(skopeo::inspect_raw(&reg, "m/src:stable"), src.manifest);
}
