//! OCI layouts: refused when malformed, written atomically.

mod common;

use ferry_copy::{ImageSource, Location, OciLayout};
use ferry_image::Target;
use ferry_testkit::images::{self, Format};

#[tokio::test]
async fn reads_a_layout_and_refuses_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let idx = images::multi_arch(&["amd64", "arm64"], 31, Format::Oci);
    images::write_oci_layout(dir.path(), "v1", &idx);
    let l = OciLayout::open(dir.path()).unwrap();
    assert_eq!(l.tags().await.unwrap(), vec!["v1".to_string()]);
    let m = l.manifest(&Target::Tag("v1".into())).await.unwrap();
    assert_eq!(m.bytes(), idx.manifest.as_slice());
    assert!(
        l.manifest(&Target::Tag("nope".into()))
            .await
            .unwrap_err()
            .is_not_found()
    );

    let empty = tempfile::tempdir().unwrap();
    let e = OciLayout::open(empty.path()).unwrap_err().to_string();
    assert!(e.contains("oci-layout"), "{e}");

    // A damaged manifest blob is caught by its digest.
    let hex = idx.digest.trim_start_matches("sha256:");
    std::fs::write(
        dir.path().join("blobs/sha256").join(hex),
        b"{\"schemaVersion\":2,\"manifests\":[]}",
    )
    .unwrap();
    let e = l
        .manifest(&Target::Tag("v1".into()))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("digest"), "{e}");
}

#[test]
fn location_without_tag_needs_a_single_image() {
    let dir = tempfile::tempdir().unwrap();
    images::write_oci_layout(dir.path(), "a", &images::simple(32, Format::Oci));
    let c = common::client_for(&[]);
    let loc = Location::parse(&format!("oci:{}", dir.path().display())).unwrap();
    let src = loc.open_source(&c.client).unwrap();
    assert!(loc.source_target(&src).is_ok());
    images::write_oci_layout(dir.path(), "b", &images::simple(33, Format::Oci));
    let e = loc.source_target(&src).unwrap_err().to_string();
    assert!(e.contains("oci:PATH:TAG"), "{e}");
}
