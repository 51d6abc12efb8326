//! Picking a platform's manifest from a list, and a single image's config.

use ferry_copy::{OciLayout, PlatformManifest, config_bytes, image_config, platform_manifest};
use ferry_image::{Platform, Target};
use ferry_testkit::images::{self, Format};

#[tokio::test]
async fn picks_a_platform_of_a_list_and_reads_its_config() {
    let dir = tempfile::tempdir().unwrap();
    let idx = images::multi_arch(&["amd64", "arm64"], 7, Format::Oci);
    images::write_oci_layout(dir.path(), "v1", &idx);
    let l = OciLayout::open(dir.path()).unwrap();
    let tag = Target::Tag("v1".into());
    let arm: Platform = "linux/arm64".parse().unwrap();

    let PlatformManifest::Found(list) = platform_manifest(&l, &tag, None).await.unwrap() else {
        panic!("the list itself");
    };
    assert_eq!(list.bytes(), idx.manifest.as_slice());
    assert!(
        config_bytes(&l, &list.parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );

    let PlatformManifest::Found(child) = platform_manifest(&l, &tag, Some(&arm)).await.unwrap()
    else {
        panic!("the arm64 child");
    };
    let config = image_config(&l, &child.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(config.architecture, "arm64");

    let s390: Platform = "linux/s390x".parse().unwrap();
    let r = platform_manifest(&l, &tag, Some(&s390)).await.unwrap();
    assert!(matches!(r, PlatformManifest::NoMatch), "{r:?}");
    let digest = Target::Digest(child.digest().clone());
    let r = platform_manifest(&l, &digest, Some(&arm)).await.unwrap();
    assert!(matches!(r, PlatformManifest::NotAList), "{r:?}");
}
