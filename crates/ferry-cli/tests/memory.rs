//! Memory stays bounded whatever the layer size: a 128 MiB layer is copied by a process
//! whose peak resident set is a fraction of it. Measured by GNU time around the ferry
//! process alone (getrusage of this test process's children would also count the pages a
//! forked child shares with this process, which holds the test image).

mod common;

use common::Ferry;
use ferry_testkit::Registry;
use ferry_testkit::images::{self, Format, ImageSpec};

#[test]
fn large_layer_copy_has_bounded_memory() {
    ferry_testkit::ensure_tools();
    assert!(
        std::path::Path::new("/usr/bin/time").exists(),
        "GNU time is needed (scripts/ensure-tools.sh installs it)"
    );
    let src = Registry::plain();
    let dst = Registry::plain();
    let layer = 128 * 1024 * 1024;
    let img = images::image(&ImageSpec::new("amd64", 71).layers(&[layer]), Format::Oci);
    images::push_image(&src, "big/app", Some("t"), &img);
    let f = Ferry::new(&[&src, &dst]);
    let cmd = f.command(&[
        "copy",
        "-q",
        &format!("{}/big/app:t", src.host()),
        &format!("{}/big/app:t", dst.host()),
    ]);
    let ferry = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let report = f.path("rss");
    let out = std::process::Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(ferry)
        .args(args)
        .envs(
            cmd.get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .env("HOME", f.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kib: u64 = std::fs::read_to_string(&report)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    eprintln!("peak RSS {kib} KiB copying a {} MiB layer", layer >> 20);
    assert!(
        kib < 64 * 1024,
        "peak RSS {kib} KiB for a {} MiB layer: memory must not grow with the layer",
        layer >> 20
    );
    f.ok(&["check", "--deep", &format!("{}/big/app:t", dst.host())]);
}

/// Peak RSS (KiB) of `ferry ARGS`, measured by GNU time around the ferry process alone.
fn peak_rss(f: &Ferry, args: &[&str]) -> u64 {
    let cmd = f.command(args);
    let report = f.path("rss-archive");
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
        .env("HOME", f.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&report)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn archives_stream_large_layers() {
    ferry_testkit::ensure_tools();
    assert!(
        std::path::Path::new("/usr/bin/time").exists(),
        "GNU time is needed (scripts/ensure-tools.sh installs it)"
    );
    let reg = Registry::plain();
    let layer = 64 * 1024 * 1024;
    let img = images::image(&ImageSpec::new("amd64", 72).layers(&[layer]), Format::Oci);
    images::push_image(&reg, "big/app", Some("t"), &img);
    let f = Ferry::new(&[&reg]);
    let src = format!("{}/big/app:t", reg.host());
    let oci = format!("oci-archive:{}:t", f.path("big-oci.tar").display());
    let docker = format!("docker-archive:{}", f.path("big-docker.tar").display());
    // Writing (docker-archive: gunzip), then reading (docker-archive: gzip) back.
    for (from, to) in [
        (src.clone(), oci.clone()),
        (src.clone(), docker.clone()),
        (oci, format!("{}/back/oci:t", reg.host())),
        (docker, format!("{}/back/docker:t", reg.host())),
    ] {
        let kib = peak_rss(&f, &["copy", "-q", &from, &to]);
        eprintln!(
            "peak RSS {kib} KiB: {from} -> {to} ({} MiB layer)",
            layer >> 20
        );
        assert!(
            kib < 40 * 1024,
            "peak RSS {kib} KiB copying {from} to {to}: memory must not grow with the layer"
        );
    }
    f.ok(&["check", "--deep", &format!("{}/back/docker:t", reg.host())]);
}

/// Writes an OCI layout at `dir` whose tag `wide` is an index of `entries` entries, all
/// naming one small image (a hostile but valid index), and returns the index's bytes.
fn wide_layout(dir: &std::path::Path, entries: usize) -> Vec<u8> {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let d = ferry_image::Digest::sha256(bytes);
        std::fs::write(blobs.join(d.hex()), bytes).unwrap();
        d.to_string()
    };
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = put(config);
    let image = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config.len()},
        "layers": [],
    }))
    .unwrap();
    let image_digest = put(&image);
    let entry = serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": image_digest, "size": image.len(),
        "platform": {"architecture": "amd64", "os": "linux"},
    });
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": vec![entry; entries],
    }))
    .unwrap();
    let index_digest = put(&index);
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": index_digest, "size": index.len(),
        "annotations": {"org.opencontainers.image.ref.name": "wide"},
    }]});
    std::fs::write(dir.join("index.json"), top.to_string()).unwrap();
    index
}

/// An index of 30,000 entries (6 MB, past the 4 MiB distribution 2.8 accepts, so it lives in
/// OCI layouts) is copied and inspected in memory proportional to it, not to its square.
#[test]
fn a_30000_entry_index_has_bounded_memory() {
    ferry_testkit::ensure_tools();
    let f = Ferry::new(&[]);
    let src = f.path("wide");
    let index = wide_layout(&src, 30_000);
    let from = format!("oci:{}:wide", src.display());
    let to = format!("oci:{}:wide", f.path("copy").display());
    for args in [vec!["copy", "-q", &from, &to], vec!["inspect", &from]] {
        let kib = peak_rss(&f, &args);
        eprintln!("peak RSS {kib} KiB: {args:?} ({} byte index)", index.len());
        assert!(
            kib < 160 * 1024,
            "peak RSS {kib} KiB for {args:?}: a 30,000-entry index must not cost more"
        );
    }
    let copied = f.ok(&["inspect", "--raw", &to]);
    assert_eq!(copied.as_bytes(), index.as_slice());
}
