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
