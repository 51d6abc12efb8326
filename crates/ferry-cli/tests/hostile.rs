//! Hostile registries: a real registry behind a proxy that answers what no honest
//! registry would (an index of 100,000 entries, a 100 MiB manifest, blob bytes that do
//! not match their digest, a manifest that is not the one asked for, redirect loops, a
//! token realm on another host). Every case: exit 1, an error naming what and where,
//! nothing written at the destination, and a peak resident set under 256 MiB (GNU time
//! around the ferry process alone).

mod common;

use common::{Ferry, Run};
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format, ImageSpec, TestImage};
use ferry_testkit::proxy::{Answer, FaultProxy, huge_index, huge_manifest};

/// The memory bound of the issue: 256 MiB.
const MAX_RSS_KIB: u64 = 256 * 1024;

/// A hostile source (a real registry behind a fault proxy) and a clean real destination.
struct Hostile {
    src: Registry,
    proxy: FaultProxy,
    dst: Registry,
    f: Ferry,
    img: TestImage,
}

impl Hostile {
    fn new(seed: u64, layers: &[usize]) -> Hostile {
        ferry_testkit::ensure_tools();
        assert!(
            std::path::Path::new("/usr/bin/time").exists(),
            "GNU time is needed (scripts/ensure-tools.sh installs it)"
        );
        let src = Registry::plain();
        let img = images::image(&ImageSpec::new("amd64", seed).layers(layers), Format::Oci);
        images::push_image(&src, "app", Some("t"), &img);
        let proxy = FaultProxy::new(&src);
        let dst = Registry::plain();
        let f = Ferry::new(&[&src, &dst]);
        Hostile {
            src,
            proxy,
            dst,
            f,
            img,
        }
    }

    /// `PROXY/app` + `suffix` (`:t`, `@sha256:...`).
    fn source(&self, suffix: &str) -> String {
        format!("{}/app{suffix}", self.proxy.host())
    }

    fn dest(&self) -> String {
        format!("{}/copy/app:t", self.dst.host())
    }

    /// Runs `ferry ARGS` under GNU time: the run and its peak RSS in KiB.
    fn measured(&self, args: &[&str]) -> (Run, u64) {
        let cmd = self.f.command(args);
        let report = self.f.path("rss");
        let out = std::process::Command::new("/usr/bin/time")
            .arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&report)
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .envs(
                cmd.get_envs()
                    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
            )
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let kib = std::fs::read_to_string(&report)
            .unwrap()
            .lines()
            .last()
            .unwrap_or_default()
            .trim()
            .parse()
            .unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            raw_stdout: out.stdout,
        };
        (run, kib)
    }

    /// Runs `ferry ARGS` and asserts a refusal: exit 1, no panic, every word of `words` in
    /// stderr, peak RSS under 256 MiB, nothing written at the destination. Returns the
    /// run and its peak RSS in KiB.
    fn refused(&self, case: &str, args: &[&str], words: &[&str]) -> (Run, u64) {
        let mark = self.dst.mark();
        let (r, kib) = self.measured(args);
        eprintln!("{case}: exit {}, peak RSS {kib} KiB\n{}", r.code, r.stderr);
        assert_eq!(r.code, 1, "{case}: {args:?}\n{}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{case}: {}", r.stderr);
        for w in words {
            assert!(
                r.stderr.to_lowercase().contains(&w.to_lowercase()),
                "{case}: {w:?} not in\n{}",
                r.stderr
            );
        }
        assert!(
            kib < MAX_RSS_KIB,
            "{case}: peak RSS {kib} KiB, more than {MAX_RSS_KIB} KiB"
        );
        self.nothing_written(case, mark);
        (r, kib)
    }

    /// No manifest PUT, no blob committed, no tag at the destination since `mark`.
    fn nothing_written(&self, case: &str, mark: usize) {
        self.dst.settle();
        let committed: Vec<_> = self
            .dst
            .requests_since(mark)
            .into_iter()
            .filter(|q| {
                q.method == "PUT"
                    && (q.path.contains("/manifests/") || (200..300).contains(&q.status))
            })
            .collect();
        assert!(committed.is_empty(), "{case}: written {committed:?}");
        let tags = self
            .dst
            .http_client()
            .get(format!("{}/v2/copy/app/tags/list", self.dst.base_url()))
            .send()
            .unwrap();
        assert_eq!(tags.status().as_u16(), 404, "{case}: the tag list exists");
    }
}

#[test]
fn index_of_100k_entries_is_refused_with_bounded_memory() {
    let h = Hostile::new(301, &[4096]);
    h.proxy
        .answer_next("*", "/app/manifests/t", huge_index(100_000), usize::MAX);
    let src = h.source(":t");
    h.refused(
        "100k-entry index (copy)",
        &["copy", &src, &h.dest()],
        &["manifest t", &h.proxy.host(), "larger than"],
    );
    h.refused(
        "100k-entry index (inspect)",
        &["inspect", "--raw", &src],
        &["manifest t", "larger than"],
    );
}

#[test]
fn manifest_of_100_mib_is_cut_off() {
    let h = Hostile::new(302, &[4096]);
    let src = h.source(":t");
    for declared in [false, true] {
        h.proxy.clear_rules();
        h.proxy.answer_next(
            "*",
            "/app/manifests/t",
            huge_manifest(100 * 1024 * 1024, declared),
            usize::MAX,
        );
        let case = format!("100 MiB manifest (Content-Length sent: {declared})");
        h.refused(
            &case,
            &["copy", &src, &h.dest()],
            &["manifest t", &h.proxy.host(), "larger than"],
        );
        h.refused(
            &format!("{case}, digest"),
            &["digest", &src],
            &["manifest t", "larger than"],
        );
    }
}

#[test]
fn blob_bytes_not_matching_their_digest_are_refused() {
    let h = Hostile::new(303, &[8 * 1024 * 1024, 4096]);
    h.proxy.corrupt_blobs(true);
    h.refused(
        "blob bytes do not match the digest",
        &["copy", &h.source(":t"), &h.dest()],
        &["blob", "sha256:", "digest"],
    );
    assert!(h.proxy.count("GET", "/blobs/sha256:") > 0);
}

#[test]
fn manifest_not_matching_the_asked_digest_is_refused() {
    let h = Hostile::new(304, &[4096]);
    let other = images::image(&ImageSpec::new("arm64", 305).layers(&[4096]), Format::Oci);
    images::push_image(&h.src, "app", Some("other"), &other);
    // Asked for the image's digest, the proxy serves the other image's manifest and claims
    // it is the one asked for.
    let lie = Answer::bytes(
        200,
        "application/vnd.oci.image.manifest.v1+json",
        other.manifest.clone(),
    )
    .header("docker-content-digest", &h.img.digest);
    h.proxy.answer_next(
        "GET",
        &format!("/manifests/{}", h.img.digest),
        lie,
        usize::MAX,
    );
    let src = h.source(&format!("@{}", h.img.digest));
    h.refused(
        "manifest does not match its digest (copy)",
        &["copy", &src, &h.dest()],
        &[&h.img.digest, &other.digest],
    );
    h.refused(
        "manifest does not match its digest (inspect)",
        &["inspect", "--raw", &src],
        &[&h.img.digest, &other.digest],
    );
}

#[test]
fn redirect_loops_end_with_a_clear_error() {
    let h = Hostile::new(306, &[4096]);
    // A manifest redirected to itself.
    h.proxy.answer_next(
        "*",
        "/app/manifests/t",
        Answer::redirect(307, "/v2/app/manifests/t"),
        usize::MAX,
    );
    let src = h.source(":t");
    h.refused(
        "manifest redirected to itself",
        &["copy", &src, &h.dest()],
        &["manifest t", &h.proxy.host(), "redirect"],
    );
    let loops = h.proxy.count("*", "/app/manifests/t");
    eprintln!("{loops} manifest requests in the loop");
    assert!(loops <= 100, "{loops} requests in a redirect loop");

    // Blobs redirected between two paths, one after the other forever.
    h.proxy.clear_rules();
    h.proxy.answer_next(
        "GET",
        "/loop/b",
        Answer::redirect(307, &format!("/v2/app/blobs/{}", h.img.config.digest)),
        usize::MAX,
    );
    h.proxy.answer_next(
        "GET",
        "/app/blobs/sha256:",
        Answer::redirect(302, "/loop/b"),
        usize::MAX,
    );
    let (r, _) = h.refused(
        "blob redirected in a loop",
        &["copy", &src, &h.dest()],
        &[
            "blob sha256:",
            "from the source",
            &h.proxy.host(),
            "redirect",
        ],
    );
    // The source failed, not the destination's upload.
    assert!(!r.stderr.contains("PUT"), "{}", r.stderr);
    let loops = h.proxy.count("GET", "/loop/b");
    eprintln!("{loops} requests to /loop/b");
    assert!(loops <= 200, "{loops} requests in a redirect loop");
}

#[test]
fn token_realm_on_another_host_never_gets_the_secret() {
    let h = Hostile::new(307, &[4096]);
    let secret = "hostile-test-secret-307";
    let creds = format!("alice:{secret}");
    let src = h.source(":t");

    // A realm over plain http on a host that is not this machine: refused before any
    // connection, credentials unsent.
    h.proxy.answer_next(
        "*",
        "/v2/",
        Answer::challenge(
            r#"Bearer realm="http://realm.ferry-hostile.invalid:5999/token",service="evil""#,
        ),
        usize::MAX,
    );
    let (r, _) = h.refused(
        "plain-http realm on another host",
        &["copy", "--src-creds", &creds, &src, &h.dest()],
        &["realm.ferry-hostile.invalid", "not https"],
    );
    assert!(!r.stderr.contains(secret), "{}", r.stderr);

    // A realm over https on another host whose certificate is not trusted: the TLS
    // handshake fails, no request reaches it.
    let other = Registry::tls_htpasswd("realm", "realm-password");
    h.proxy.clear_rules();
    h.proxy.answer_next(
        "*",
        "/v2/",
        Answer::challenge(&format!(
            r#"Bearer realm="https://127.0.0.1:{}/token",service="evil""#,
            other.port()
        )),
        usize::MAX,
    );
    let (r, _) = h.refused(
        "https realm on another host, not verified",
        &["copy", "--src-creds", &creds, &src, &h.dest()],
        &[&format!("127.0.0.1:{}", other.port()), "realm"],
    );
    assert!(!r.stderr.contains(secret), "{}", r.stderr);
    other.settle();
    assert!(other.requests().is_empty(), "{:?}", other.requests());
    // The hostile registry itself never got the secret either: it only ever challenged.
    let sent = h.proxy.authorizations();
    assert!(sent.is_empty(), "credentials sent: {sent:?}");
}

#[test]
fn index_of_38k_missing_children_under_the_size_limit_fails_bounded() {
    // About 7.8 MB: under the 8 MiB manifest limit, so ferry reads it and walks its
    // children, none of which exists.
    let h = Hostile::new(308, &[4096]);
    h.proxy
        .answer_next("*", "/app/manifests/t", huge_index(38_000), usize::MAX);
    let (r, kib) = h.refused(
        "38k-entry index of missing children",
        &["copy", &h.source(":t"), &h.dest()],
        &["manifest sha256:", &h.proxy.host(), "not found"],
    );
    let children = h.proxy.count("*", "/app/manifests/sha256:");
    eprintln!("{children} child manifest requests; {}", r.stderr);
    assert!(
        children < 1000,
        "{children} child requests after the first failure"
    );
    // Reading a manifest at the size limit costs a few times its size, not ten: its
    // members are not built as a JSON tree just to detect its type.
    assert!(kib < 64 * 1024, "peak RSS {kib} KiB for a 7.8 MB index");
}

#[test]
fn blob_redirect_to_another_host_carries_no_credentials() {
    // A source that needs credentials, redirecting its blobs to storage on another host
    // (another port): the copy works and the storage host never sees the Authorization.
    ferry_testkit::ensure_tools();
    let src = Registry::tls_htpasswd("alice", "redirect-secret-309");
    let storage = Registry::plain();
    let img = images::image(&ImageSpec::new("amd64", 309).layers(&[65536]), Format::Oci);
    images::push_image(&src, "app", Some("t"), &img);
    images::push_image(&storage, "app", Some("t"), &img);
    let proxy = FaultProxy::new(&src);
    let store = FaultProxy::new(&storage);
    for blob in img.blobs() {
        proxy.answer_next(
            "GET",
            &format!("/app/blobs/{}", blob.digest),
            Answer::redirect(
                307,
                &format!("{}/v2/app/blobs/{}", store.base_url(), blob.digest),
            ),
            usize::MAX,
        );
    }
    let dst = Registry::plain();
    let f = Ferry::new(&[&src, &dst]);
    let r = f.run(&[
        "copy",
        "--src-creds",
        "alice:redirect-secret-309",
        &format!("{}/app:t", proxy.host()),
        &format!("{}/copy/app:t", dst.host()),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(store.count("GET", "/blobs/") >= 2, "{:?}", store.requests());
    assert!(
        store.authorizations().is_empty(),
        "credentials went to the storage host: {:?}",
        store.authorizations()
    );
    assert!(
        !proxy.authorizations().is_empty(),
        "the registry itself got the credentials"
    );
    f.ok(&["check", "--deep", &format!("{}/copy/app:t", dst.host())]);
}

#[test]
fn index_child_not_matching_its_digest_leaves_no_tag() {
    let h = Hostile::new(310, &[4096]);
    let idx = images::multi_arch(&["amd64", "arm64"], 311, Format::Oci);
    images::push_index(&h.src, "app", Some("list"), &idx);
    let child = &idx.images[1];
    let lie = Answer::bytes(
        200,
        "application/vnd.oci.image.manifest.v1+json",
        h.img.manifest.clone(),
    )
    .header("docker-content-digest", &child.digest);
    h.proxy.answer_next(
        "GET",
        &format!("/manifests/{}", child.digest),
        lie,
        usize::MAX,
    );
    let mark = h.dst.mark();
    let (r, kib) = h.measured(&["copy", &h.source(":list"), &h.dest()]);
    eprintln!(
        "index child does not match its digest: exit {}, peak RSS {kib} KiB\n{}",
        r.code, r.stderr
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    for w in [child.digest.as_str(), &h.img.digest, "digest mismatch"] {
        assert!(r.stderr.contains(w), "{w:?} not in\n{}", r.stderr);
    }
    assert!(kib < MAX_RSS_KIB, "peak RSS {kib} KiB");
    // The other child may be copied by digest; no tag and no index is written.
    h.dst.settle();
    let tagged: Vec<_> = h
        .dst
        .requests_since(mark)
        .into_iter()
        .filter(|q| {
            q.method == "PUT"
                && q.path.contains("/manifests/")
                && !q.path.contains("/manifests/sha256:")
        })
        .collect();
    assert!(tagged.is_empty(), "tag written: {tagged:?}");
    assert_eq!(
        h.dst
            .count_since(mark, "PUT", &format!("/manifests/{}", idx.digest)),
        0,
        "the index was written"
    );
    assert_eq!(
        h.dst
            .count_since(mark, "PUT", &format!("/manifests/{}", child.digest)),
        0,
        "the lying child was written"
    );
}
