//! Cosign attachments (`sha256-<hex>.sig`, `.att`, `.sbom`) travel with `ferry copy` and
//! `ferry sync`, stay behind with `--no-signatures`, and go with `untag --remove-last`:
//! the real binary, real registries, a cosign key made by openssl.

mod common;

use std::path::{Path, PathBuf};

use common::{Ferry, writes_since};
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format, TestImage};
use ferry_testkit::keys::p256_key;
use ferry_testkit::proxy::FaultProxy;
use ferry_testkit::skopeo::{inspect_raw, list_tags, try_inspect_raw};

/// The identity every signature here is made for, so it verifies in any registry.
const IDENTITY: &str = "registry.example.com/team/app";

fn s(p: &Path) -> String {
    p.display().to_string()
}

struct Signer {
    key: PathBuf,
    public: PathBuf,
    rd: PathBuf,
}

impl Signer {
    fn new(f: &Ferry) -> Signer {
        let (key, public) = p256_key(f.dir.path(), "cosign");
        Signer {
            key,
            public,
            rd: f.dir.path().join("no-registries.d"),
        }
    }

    fn sign(&self, f: &Ferry, image: &str) {
        let r = f.run(&[
            "--registries.d",
            &s(&self.rd),
            "sign",
            "--key",
            &s(&self.key),
            "--identity",
            IDENTITY,
            image,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }

    fn verify(&self, f: &Ferry, image: &str) -> common::Run {
        f.run(&[
            "--registries.d",
            &s(&self.rd),
            "verify",
            "--key",
            &s(&self.public),
            "--identity",
            IDENTITY,
            image,
        ])
    }
}

fn tag(digest: &str, suffix: &str) -> String {
    format!("sha256-{}.{suffix}", digest.trim_start_matches("sha256:"))
}

/// The digest of `repo:tag` in `reg`, `None` when the tag does not exist (skopeo).
fn digest_at(reg: &Registry, repo: &str, tag: &str) -> Option<String> {
    let out = try_inspect_raw(reg, &format!("{repo}:{tag}"));
    out.status.success().then(|| images::digest_of(&out.stdout))
}

/// Lays out a small OCI image as the `.att` or `.sbom` attachment of `subject`.
fn attach(reg: &Registry, repo: &str, subject: &str, suffix: &str, seed: u64) -> TestImage {
    let img = images::simple(seed, Format::Oci);
    images::push_image(reg, repo, Some(&tag(subject, suffix)), &img);
    img
}

#[test]
fn copy_carries_signatures_attestations_and_sboms_once() {
    let a = Registry::plain();
    let b = Registry::plain();
    let proxy = FaultProxy::new(&a);
    let img = images::simple(301, Format::Oci);
    images::push_image(&a, "team/app", Some("1"), &img);
    let f = Ferry::new(&[&a, &b]);
    let signer = Signer::new(&f);
    signer.sign(&f, &format!("{}/team/app:1", a.host()));
    attach(&a, "team/app", &img.digest, "att", 302);
    attach(&a, "team/app", &img.digest, "sbom", 303);
    // Another image's signature in the same repository stays where it is.
    let other = images::simple(304, Format::Oci);
    images::push_image(&a, "team/app", Some("other"), &other);
    signer.sign(&f, &format!("{}/team/app:other", a.host()));

    let src = format!("{}/team/app:1", proxy.host());
    let dest = format!("{}/team/app:1", b.host());
    let r = f.run(&["copy", "-o", "json", &src, &dest]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let carried = v["attachments"].as_array().unwrap();
    assert_eq!(carried.len(), 3, "{}", r.stdout);
    assert!(
        carried
            .iter()
            .all(|c| c["changed"] == true && c["subject"] == img.digest.as_str())
    );
    assert_eq!(v["stats"]["attachments_copied"], 3);
    assert_eq!(proxy.count("GET", "/tags/list"), 1, "one tag-list read");
    for suffix in ["sig", "att", "sbom"] {
        let t = tag(&img.digest, suffix);
        assert_eq!(
            digest_at(&b, "team/app", &t),
            digest_at(&a, "team/app", &t),
            "{t}: same digest at both ends"
        );
    }
    assert_eq!(digest_at(&b, "team/app", &tag(&other.digest, "sig")), None);
    let r = signer.verify(&f, &dest);
    assert_eq!(r.code, 0, "verifies at the destination: {}", r.stderr);

    // Again: nothing written, the attachments said unchanged.
    let mark = b.requests().len();
    let r = f.run(&["copy", &src, &dest]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(writes_since(&b, mark), 0, "a re-run copies nothing twice");
    assert!(
        r.stdout.contains(&format!(
            "unchanged {}/team/app:{}",
            b.host(),
            tag(&img.digest, "sig")
        )),
        "{}",
        r.stdout
    );

    // --no-signatures: the image only.
    let r = f.run(&[
        "copy",
        "--no-signatures",
        &src,
        &format!("{}/team/bare:1", b.host()),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(list_tags(&b, "team/bare"), vec!["1".to_string()]);
    // Only copy and sync take it.
    for cmd in ["tag", "untag", "verify", "inspect"] {
        let r = f.run(&[cmd, "--no-signatures", &dest]);
        assert_eq!(r.code, 2, "{cmd}: {}", r.stderr);
        assert!(r.stderr.contains("--no-signatures"), "{}", r.stderr);
    }

    // A failed attachment fails the command, names it, and the image stays.
    proxy.fail_next("GET", &tag(&img.digest, "sbom"), 400, 1);
    let r = f.run(&["copy", &src, &format!("{}/team/fail:1", b.host())]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&tag(&img.digest, "sbom")),
        "names the attachment: {}",
        r.stderr
    );
    assert_eq!(
        digest_at(&b, "team/fail", "1"),
        Some(img.digest.clone()),
        "the image stays"
    );
    assert_eq!(digest_at(&b, "team/fail", &tag(&img.digest, "sbom")), None);
}

#[test]
fn a_list_carries_its_childrens_attachments_without_a_tag_list() {
    let a = Registry::plain();
    let b = Registry::plain();
    let proxy = FaultProxy::new(&a);
    let idx = images::multi_arch(&["amd64", "arm64"], 311, Format::Oci);
    images::push_index(&a, "team/multi", Some("1"), &idx);
    let f = Ferry::new(&[&a, &b]);
    let signer = Signer::new(&f);
    signer.sign(&f, &format!("{}/team/multi:1", a.host()));
    attach(&a, "team/multi", &idx.images[1].digest, "att", 312);

    // The source refuses to list tags: each candidate is asked for instead.
    proxy.fail_next("GET", "/tags/list", 403, 10);
    let dest = format!("{}/team/multi:1", b.host());
    let r = f.run(&["copy", &format!("{}/team/multi:1", proxy.host()), &dest]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("4 attachment(s)"), "{}", r.stderr);
    for d in std::iter::once(&idx.digest).chain(idx.images.iter().map(|i| &i.digest)) {
        assert!(
            digest_at(&b, "team/multi", &tag(d, "sig")).is_some(),
            "signature of {d}"
        );
    }
    assert!(digest_at(&b, "team/multi", &tag(&idx.images[1].digest, "att")).is_some());
    let r = signer.verify(&f, &dest);
    assert_eq!(r.code, 0, "list and children verify: {}", r.stderr);

    // One platform: that image and its attachments, not the list's.
    let r = f.run(&[
        "copy",
        "--platform",
        "linux/arm64",
        &format!("{}/team/multi:1", a.host()),
        &format!("{}/team/one:1", b.host()),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let child = &idx.images[1].digest;
    let mut tags = list_tags(&b, "team/one");
    tags.sort();
    assert_eq!(
        tags,
        vec!["1".to_string(), tag(child, "att"), tag(child, "sig")]
    );
}

#[test]
fn sync_carries_attachments_of_the_tags_it_copies() {
    let a = Registry::plain();
    let b = Registry::plain();
    let one = images::simple(321, Format::Oci);
    let two = images::simple(322, Format::Oci);
    let untagged = images::simple(323, Format::Oci);
    images::push_image(&a, "team/s", Some("1"), &one);
    images::push_image(&a, "team/s", Some("2"), &two);
    images::push_image(&a, "team/s", None, &untagged);
    let f = Ferry::new(&[&a, &b]);
    let signer = Signer::new(&f);
    signer.sign(&f, &format!("{}/team/s:1", a.host()));
    signer.sign(&f, &format!("{}/team/s@{}", a.host(), untagged.digest));
    attach(&a, "team/s", &one.digest, "sbom", 324);

    let r = f.run(&[
        "sync",
        "-o",
        "json",
        &format!("{}/team/s", a.host()),
        &format!("{}/team/s", b.host()),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let items = v["tags"].as_array().unwrap();
    assert_eq!(items.len(), 2, "attachment tags are not tags of their own");
    assert_eq!(items[0]["attachments"].as_array().unwrap().len(), 2);
    let mut tags = list_tags(&b, "team/s");
    tags.sort();
    let mut want = vec![
        "1".to_string(),
        "2".to_string(),
        tag(&one.digest, "sbom"),
        tag(&one.digest, "sig"),
    ];
    want.sort();
    assert_eq!(tags, want, "the untagged image's signature stays behind");
    let r = signer.verify(&f, &format!("{}/team/s:1", b.host()));
    assert_eq!(r.code, 0, "{}", r.stderr);

    let r = f.run(&[
        "sync",
        "--no-signatures",
        &format!("{}/team/s", a.host()),
        &format!("{}/team/plain", b.host()),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut tags = list_tags(&b, "team/plain");
    tags.sort();
    assert_eq!(tags, vec!["1".to_string(), "2".to_string()]);
}

#[test]
fn untag_remove_last_removes_the_attachments_of_what_lost_its_last_tag() {
    let a = Registry::plain();
    let img = images::simple(331, Format::Oci);
    images::push_image(&a, "team/u", Some("x"), &img);
    images::push_image(&a, "team/u", Some("y"), &img);
    let idx = images::multi_arch(&["amd64", "arm64"], 332, Format::Oci);
    images::push_index(&a, "team/u", Some("list"), &idx);
    // A second list with the first child only: that child stays reachable.
    let small = images::index_of(vec![idx.images[0].clone()], Format::Oci);
    images::push_index(&a, "team/u", Some("small"), &small);
    let f = Ferry::new(&[&a]);
    let signer = Signer::new(&f);
    signer.sign(&f, &format!("{}/team/u:x", a.host()));
    signer.sign(&f, &format!("{}/team/u:list", a.host()));
    attach(&a, "team/u", &img.digest, "att", 333);
    let repo = |t: &str| format!("{}/team/u:{t}", a.host());

    // Still tagged y: the attachments stay.
    let r = f.run(&["untag", &repo("x")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(digest_at(&a, "team/u", &tag(&img.digest, "sig")).is_some());
    assert!(digest_at(&a, "team/u", &tag(&img.digest, "att")).is_some());

    let r = f.run(&["untag", "-o", "json", "--remove-last", &repo("y")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["attachments_removed"].as_array().unwrap().len(), 2);
    assert_eq!(digest_at(&a, "team/u", &tag(&img.digest, "sig")), None);
    assert_eq!(digest_at(&a, "team/u", &tag(&img.digest, "att")), None);
    assert!(
        inspect_raw(&a, &format!("team/u@{}", img.digest)).len() == img.manifest.len(),
        "the image stays, untagged"
    );

    let r = f.run(&["untag", "--remove-last", &repo("list")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("removed attachment"), "{}", r.stdout);
    assert_eq!(digest_at(&a, "team/u", &tag(&idx.digest, "sig")), None);
    assert_eq!(
        digest_at(&a, "team/u", &tag(&idx.images[1].digest, "sig")),
        None
    );
    assert!(
        digest_at(&a, "team/u", &tag(&idx.images[0].digest, "sig")).is_some(),
        "a child another list still names keeps its signature"
    );
}
