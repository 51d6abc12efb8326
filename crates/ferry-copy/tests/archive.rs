//! oci-archive: and docker-archive: against skopeo, the independent client, and a real
//! registry: what ferry writes skopeo reads with the same digests, and the other way round.

mod common;

use std::path::Path;

use common::{TestClient, client_for};
use ferry_copy::{CopyEngine, CopyOptions, CopyOutcome, ImageSource, Location};
use ferry_image::Platform;
use ferry_testkit::images::{self, Format};
use ferry_testkit::{Registry, skopeo};
use serde_json::Value;

/// `ferry copy SRC DEST` through the library, as the CLI does it.
async fn copy(
    c: &TestClient,
    src: &str,
    dest: &str,
    platforms: &[&str],
) -> ferry_copy::Result<CopyOutcome> {
    let src_loc = Location::parse(src)?;
    let dest_loc = Location::parse(dest)?;
    let s = src_loc.open_source(&c.client)?;
    let target = src_loc.source_target(&s)?;
    let d = dest_loc.open_copy_destination(&c.client)?;
    let engine = CopyEngine::new(CopyOptions {
        platforms: platforms
            .iter()
            .map(|p| p.parse::<Platform>().unwrap())
            .collect(),
        ..CopyOptions::default()
    });
    let out = engine
        .copy(&s, &target, &d, dest_loc.destination_tag().as_deref())
        .await?;
    d.commit().await?;
    Ok(out)
}

fn reg_ref(reg: &Registry, r: &str) -> String {
    format!("{}/{r}", reg.host())
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

fn config_digest(manifest: &[u8]) -> String {
    json(manifest)["config"]["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

/// skopeo copy of a local archive into the registry.
fn skopeo_push(archive: &str, reg: &Registry, dest: &str, extra: &[&str]) {
    let mut flags: Vec<String> = reg.dest_args();
    flags.extend(extra.iter().map(|s| s.to_string()));
    flags.retain(|s| !s.is_empty());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    skopeo::copy(archive, &reg.docker_ref(dest), &flags);
}

/// skopeo copy from the registry into a local archive.
fn skopeo_pull(reg: &Registry, src: &str, archive: &str, extra: &[&str]) {
    let mut flags: Vec<String> = reg.src_args();
    flags.extend(extra.iter().map(|s| s.to_string()));
    flags.retain(|s| !s.is_empty());
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    skopeo::copy(&reg.docker_ref(src), archive, &flags);
}

fn tar_names(path: &Path) -> Vec<String> {
    let mut a = tar::Archive::new(std::fs::File::open(path).unwrap());
    a.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

fn tar_file(path: &Path, name: &str) -> Vec<u8> {
    use std::io::Read;
    let mut a = tar::Archive::new(std::fs::File::open(path).unwrap());
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().display().to_string() == name {
            let mut v = Vec::new();
            e.read_to_end(&mut v).unwrap();
            return v;
        }
    }
    panic!("{name} not in {}", path.display());
}

#[tokio::test]
async fn multi_arch_through_oci_archive_keeps_every_digest() {
    let reg = Registry::plain();
    let idx = images::multi_arch(&["amd64", "arm64"], 61, Format::Oci);
    images::push_index(&reg, "src/app", Some("1"), &idx);
    let c = client_for(&[&reg]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.tar");
    let archive = format!("oci-archive:{}:v1", file.display());

    let out = copy(&c, &reg_ref(&reg, "src/app:1"), &archive, &[])
        .await
        .unwrap();
    assert_eq!(out.digest.as_str(), idx.digest);
    let names = tar_names(&file);
    assert!(names.contains(&"oci-layout".to_string()), "{names:?}");
    assert!(names.contains(&"index.json".to_string()), "{names:?}");
    // Nothing else beside the archive: the temporary file was renamed.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }

    // skopeo reads ferry's archive: the same list and children in the registry.
    skopeo_push(
        &format!("oci-archive:{}:v1", file.display()),
        &reg,
        "by-skopeo/app:1",
        &["--all"],
    );
    assert_eq!(skopeo::inspect_raw(&reg, "by-skopeo/app:1"), idx.manifest);
    for img in &idx.images {
        assert_eq!(
            skopeo::inspect_raw(&reg, &format!("by-skopeo/app@{}", img.digest)),
            img.manifest
        );
    }
    // ferry reads it back too.
    let back = copy(&c, &archive, &reg_ref(&reg, "by-ferry/app:1"), &[])
        .await
        .unwrap();
    assert_eq!(back.digest.as_str(), idx.digest);
    assert_eq!(skopeo::inspect_raw(&reg, "by-ferry/app:1"), idx.manifest);

    // A tag the archive does not hold is an error naming it.
    let e = copy(
        &c,
        &format!("oci-archive:{}:nope", file.display()),
        &reg_ref(&reg, "x/y:1"),
        &[],
    )
    .await
    .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
async fn skopeo_oci_archive_copies_with_skopeos_digests() {
    let reg = Registry::plain();
    let img = images::simple(62, Format::Docker);
    images::push_image(&reg, "src/app", Some("1"), &img);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.tar");
    let archive = format!("oci-archive:{}:v1", file.display());
    skopeo_pull(&reg, "src/app:1", &archive, &[]);
    skopeo_push(&archive, &reg, "by-skopeo/app:1", &[]);
    let theirs = skopeo::inspect_raw(&reg, "by-skopeo/app:1");

    let c = client_for(&[&reg]);
    let out = copy(&c, &archive, &reg_ref(&reg, "by-ferry/app:1"), &[])
        .await
        .unwrap();
    let ours = skopeo::inspect_raw(&reg, "by-ferry/app:1");
    assert_eq!(ours, theirs, "ferry and skopeo push the same manifest");
    assert_eq!(
        out.digest.as_str(),
        ferry_testkit::images::digest_of(&theirs)
    );
    // Without a tag, the archive's only image.
    let untagged = format!("oci-archive:{}", file.display());
    let out = copy(&c, &untagged, &reg_ref(&reg, "by-ferry/app:2"), &[])
        .await
        .unwrap();
    assert_eq!(
        out.digest.as_str(),
        ferry_testkit::images::digest_of(&theirs)
    );
}

#[tokio::test]
async fn docker_archive_round_trip_keeps_the_config() {
    let reg = Registry::plain();
    let img = images::simple(63, Format::Docker);
    images::push_image(&reg, "src/app", Some("1"), &img);
    let c = client_for(&[&reg]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("d.tar");
    let repo_tag = reg_ref(&reg, "named/app:7");
    let archive = format!("docker-archive:{}:{repo_tag}", file.display());
    copy(&c, &reg_ref(&reg, "src/app:1"), &archive, &[])
        .await
        .unwrap();

    // The docker save layout: manifest.json, the config as HEX.json, layers as DIFFID.tar.
    let manifest = json(&tar_file(&file, "manifest.json"));
    let item = &manifest[0];
    assert_eq!(item["RepoTags"][0], repo_tag.as_str());
    let cfg_hex = img.config.digest.trim_start_matches("sha256:");
    assert_eq!(item["Config"], format!("{cfg_hex}.json"));
    let config = json(&img.config.bytes);
    let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap();
    assert_eq!(item["Layers"].as_array().unwrap().len(), diff_ids.len());
    for (layer, diff_id) in item["Layers"].as_array().unwrap().iter().zip(diff_ids) {
        let name = layer.as_str().unwrap();
        let hex = diff_id.as_str().unwrap().trim_start_matches("sha256:");
        assert_eq!(name, format!("{hex}.tar"));
        // Stored uncompressed: the file's digest is its diff_id.
        assert_eq!(
            images::digest_of(&tar_file(&file, name)),
            diff_id.as_str().unwrap()
        );
    }

    // skopeo reads it: inspect works, and its copy into a registry keeps the config.
    let shown = format!("docker-archive:{}", file.display());
    let inspected = json(&skopeo::skopeo_ok(&["inspect", &shown]).stdout);
    assert_eq!(inspected["Architecture"], "amd64");
    skopeo_push(&shown, &reg, "by-skopeo/app:1", &[]);
    let theirs = skopeo::inspect_raw(&reg, "by-skopeo/app:1");
    assert_eq!(config_digest(&theirs), img.config.digest);

    // ferry reads it back: a Docker schema 2 image with the same config and gzip'd layers,
    // the same digest each time.
    let by_ref = format!("docker-archive:{}:{repo_tag}", file.display());
    let a = copy(&c, &by_ref, &reg_ref(&reg, "by-ferry/app:1"), &[])
        .await
        .unwrap();
    let b = copy(
        &c,
        &format!("{shown}:@0"),
        &reg_ref(&reg, "by-ferry/app:2"),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(a.digest, b.digest);
    let ours = json(&skopeo::inspect_raw(&reg, "by-ferry/app:1"));
    assert_eq!(
        ours["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(ours["config"]["digest"], img.config.digest.as_str());
    for l in ours["layers"].as_array().unwrap() {
        assert_eq!(
            l["mediaType"],
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        );
    }
    // The image it names must exist.
    let e = copy(
        &c,
        &format!("{shown}:other/app:1"),
        &reg_ref(&reg, "x/y:1"),
        &[],
    )
    .await
    .unwrap_err();
    assert!(e.is_not_found(), "{e}");
}

#[tokio::test]
async fn skopeo_docker_archive_copies_like_skopeo() {
    let reg = Registry::plain();
    let img = images::simple(64, Format::Oci);
    images::push_image(&reg, "src/app", Some("1"), &img);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sd.tar");
    let archive = format!(
        "docker-archive:{}:{}",
        file.display(),
        reg_ref(&reg, "src/app:1")
    );
    skopeo_pull(&reg, "src/app:1", &archive, &[]);
    let shown = format!("docker-archive:{}", file.display());
    skopeo_push(&shown, &reg, "by-skopeo/app:1", &[]);
    let theirs = json(&skopeo::inspect_raw(&reg, "by-skopeo/app:1"));

    let c = client_for(&[&reg]);
    copy(&c, &archive, &reg_ref(&reg, "by-ferry/app:1"), &[])
        .await
        .unwrap();
    let ours = json(&skopeo::inspect_raw(&reg, "by-ferry/app:1"));
    // Same shape as skopeo's copy: Docker schema 2, the config unchanged, gzip'd layers.
    // Layer digests are each tool's own gzip output.
    assert_eq!(ours["mediaType"], theirs["mediaType"]);
    assert_eq!(ours["config"], theirs["config"]);
    assert_eq!(ours["config"]["digest"], img.config.digest.as_str());
    let (ol, tl) = (
        ours["layers"].as_array().unwrap(),
        theirs["layers"].as_array().unwrap(),
    );
    assert_eq!(ol.len(), tl.len());
    for (o, t) in ol.iter().zip(tl) {
        assert_eq!(o["mediaType"], t["mediaType"]);
    }
    // skopeo pulls ferry's copy and finds the layers match the config's diff_ids.
    let check = dir.path().join("check");
    skopeo_pull(
        &reg,
        "by-ferry/app:1",
        &format!("dir:{}", check.display()),
        &[],
    );
}

#[tokio::test]
async fn docker_archive_takes_one_platform_of_a_list() {
    let reg = Registry::plain();
    let idx = images::multi_arch(&["amd64", "arm64"], 65, Format::Docker);
    images::push_index(&reg, "src/app", Some("1"), &idx);
    let c = client_for(&[&reg]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.tar");
    let archive = format!("docker-archive:{}", file.display());

    // A whole list cannot go into a docker-archive; nothing is written.
    let e = copy(&c, &reg_ref(&reg, "src/app:1"), &archive, &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("--platform"), "{e}");
    assert!(!file.exists());

    copy(&c, &reg_ref(&reg, "src/app:1"), &archive, &["linux/arm64"])
        .await
        .unwrap();
    let inspected = json(&skopeo::skopeo_ok(&["inspect", &archive]).stdout);
    assert_eq!(inspected["Architecture"], "arm64");
    let arm = &idx.images[1];
    let src = Location::parse(&archive)
        .unwrap()
        .open_source(&c.client)
        .unwrap();
    let target = Location::parse(&archive)
        .unwrap()
        .source_target(&src)
        .unwrap();
    let m = src.manifest(&target).await.unwrap();
    assert_eq!(config_digest(m.bytes()), arm.config.digest);
}

#[tokio::test]
async fn archives_are_replaced_whole_and_never_left_half_written() {
    let reg = Registry::plain();
    let a = images::simple(66, Format::Oci);
    let b = images::simple(67, Format::Oci);
    images::push_image(&reg, "src/a", Some("1"), &a);
    images::push_image(&reg, "src/b", Some("1"), &b);
    let c = client_for(&[&reg]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.tar");
    copy(
        &c,
        &reg_ref(&reg, "src/a:1"),
        &format!("oci-archive:{}:a", file.display()),
        &[],
    )
    .await
    .unwrap();
    // A second copy replaces the archive (skopeo does the same): only b is left.
    copy(
        &c,
        &reg_ref(&reg, "src/b:1"),
        &format!("oci-archive:{}:b", file.display()),
        &[],
    )
    .await
    .unwrap();
    let loc = Location::parse(&format!("oci-archive:{}", file.display())).unwrap();
    let src = loc.open_source(&c.client).unwrap();
    assert_eq!(src.tags().await.unwrap(), vec!["b".to_string()]);
    let before = std::fs::read(&file).unwrap();

    // A failed copy (missing source tag) leaves the archive as it was, and no stray file.
    for dest in [
        format!("oci-archive:{}:c", file.display()),
        format!("docker-archive:{}", file.display()),
    ] {
        assert!(
            copy(&c, &reg_ref(&reg, "src/a:missing"), &dest, &[])
                .await
                .is_err()
        );
        assert_eq!(std::fs::read(&file).unwrap(), before);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    // Not archives: refused clearly.
    std::fs::write(dir.path().join("junk.tar"), b"not a tar at all").unwrap();
    for kind in ["oci-archive", "docker-archive"] {
        let loc =
            Location::parse(&format!("{kind}:{}", dir.path().join("junk.tar").display())).unwrap();
        let e = loc.open_source(&c.client).err().unwrap().to_string();
        assert!(e.contains("junk.tar"), "{e}");
        let missing =
            Location::parse(&format!("{kind}:{}", dir.path().join("none.tar").display())).unwrap();
        assert!(missing.open_source(&c.client).err().unwrap().is_not_found());
    }

    // An oci-archive holds files only: a link (here to a file outside) is refused.
    let linked = dir.path().join("link.tar");
    {
        let mut b = tar::Builder::new(std::fs::File::create(&linked).unwrap());
        let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
        let mut h = tar::Header::new_gnu();
        h.set_size(layout.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "oci-layout", &layout[..]).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "blobs/sha256/x", "/etc/passwd")
            .unwrap();
        b.finish().unwrap();
    }
    let loc = Location::parse(&format!("oci-archive:{}", linked.display())).unwrap();
    let e = loc.open_source(&c.client).err().unwrap().to_string();
    assert!(e.contains("blobs/sha256/x") && e.contains("Symlink"), "{e}");
}

/// Writes a docker-archive by hand: `files` as (name, bytes), in order.
fn write_tar(path: &Path, files: &[(&str, &[u8])]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *bytes).unwrap();
    }
    b.finish().unwrap();
}

#[tokio::test]
async fn docker_archive_with_gzipd_layers_keeps_them_and_checks_diff_ids() {
    let reg = Registry::plain();
    let img = images::simple(68, Format::Docker);
    let c = client_for(&[&reg]);
    let dir = tempfile::tempdir().unwrap();
    let manifest = |layers: &[&str]| {
        serde_json::to_vec(&serde_json::json!([{
            "Config": "config.json", "RepoTags": ["docker.io/library/app:1"], "Layers": layers,
        }]))
        .unwrap()
    };
    // Older `docker save` names: ID/layer.tar; here gzip'd, which skopeo accepts on read.
    let names: Vec<String> = (0..img.layers.len())
        .map(|i| format!("l{i}/layer.tar"))
        .collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let m = manifest(&name_refs);
    let mut files: Vec<(&str, &[u8])> =
        vec![("manifest.json", &m), ("config.json", &img.config.bytes)];
    for (n, l) in names.iter().zip(&img.layers) {
        files.push((n, &l.bytes));
    }
    let file = dir.path().join("gz.tar");
    write_tar(&file, &files);
    // Docker Hub names match however they are written.
    let src = format!("docker-archive:{}:app:1", file.display());
    let out = copy(&c, &src, &reg_ref(&reg, "gz/app:1"), &[])
        .await
        .unwrap();
    // The gzip'd layers are kept as they are (same digests), and so is the config; the
    // manifest is ferry's own serialization.
    let pushed = skopeo::inspect_raw(&reg, "gz/app:1");
    assert_eq!(out.digest.as_str(), images::digest_of(&pushed));
    let v = json(&pushed);
    assert_eq!(v["config"]["digest"], img.config.digest.as_str());
    let layers: Vec<&str> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = img.layers.iter().map(|l| l.digest.as_str()).collect();
    assert_eq!(layers, want);

    // A layer whose content is not its diff_id is refused, naming it.
    let other = images::simple(69, Format::Docker);
    let mut files: Vec<(&str, &[u8])> =
        vec![("manifest.json", &m), ("config.json", &img.config.bytes)];
    for (n, l) in names.iter().zip(&other.layers) {
        files.push((n, &l.bytes));
    }
    let bad = dir.path().join("bad.tar");
    write_tar(&bad, &files);
    let loc = Location::parse(&format!("docker-archive:{}", bad.display())).unwrap();
    let e = loc.open_source(&c.client).err().unwrap().to_string();
    assert!(e.contains("diff_id") && e.contains("l0/layer.tar"), "{e}");

    // A layer path leaving the archive is refused.
    let escape = manifest(&["../../../../etc/passwd"]);
    let evil = dir.path().join("evil.tar");
    write_tar(
        &evil,
        &[
            ("manifest.json", &escape),
            ("config.json", &img.config.bytes),
        ],
    );
    let loc = Location::parse(&format!("docker-archive:{}", evil.display())).unwrap();
    let e = loc.open_source(&c.client).err().unwrap().to_string();
    assert!(e.contains("etc/passwd"), "{e}");
}
