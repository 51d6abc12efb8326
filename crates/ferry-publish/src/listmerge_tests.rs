use super::*;
use ferry_image::media_types::*;
use ferry_image::{Digest, MediaType, Platform};

fn entry(n: u8, os: &str, arch: &str, variant: Option<&str>, mt: &str) -> Descriptor {
    let mut d = Descriptor::new(mt, 100 + n as u64, Digest::sha256(&[n]));
    d.platform = Some(Platform::new(os, arch, variant));
    d
}

fn list(mt: &str, entries: Vec<Descriptor>) -> RawManifest {
    let mut i = IndexManifest::new(MediaType::new(mt));
    i.manifests = entries;
    i.to_raw().unwrap()
}

fn digests(m: &RawManifest) -> Vec<Digest> {
    match m.parse().unwrap() {
        Manifest::Index(i) => i.manifests.into_iter().map(|d| d.digest).collect(),
        _ => panic!("not a list"),
    }
}

fn d(n: u8) -> Digest {
    Digest::sha256(&[n])
}

const L: &str = DOCKER_LIST;
const M: &str = DOCKER_MANIFEST;

#[test]
fn keeps_destination_only_platforms_after_source_entries() {
    let src = list(
        L,
        vec![
            entry(1, "linux", "amd64", None, M),
            entry(2, "linux", "arm64", None, M),
        ],
    );
    let dest = list(
        L,
        vec![
            entry(3, "linux", "amd64", None, M),
            entry(4, "linux", "s390x", None, M),
        ],
    );
    let p = plan_merge(&src, Some(&dest), MergeKey::Platform, None).unwrap();
    assert_eq!(p.action, MergeAction::Merged);
    assert_eq!(digests(&p.result), vec![d(1), d(2), d(4)]);
    assert_eq!(p.kept_from_destination.len(), 1);
    assert_eq!(p.result.media_type().as_str(), L);
}

#[test]
fn table_of_edge_cases() {
    let src = list(
        L,
        vec![
            entry(1, "linux", "amd64", None, M),
            entry(2, "linux", "arm64", Some("v8"), M),
        ],
    );
    struct Case {
        name: &'static str,
        dest: Option<RawManifest>,
        by: MergeKey,
        archs: Option<Vec<String>>,
        action: MergeAction,
        digests: Vec<Digest>,
    }
    let single = RawManifest::new(
        format!(r#"{{"schemaVersion":2,"mediaType":"{M}","config":{{"mediaType":"{OCI_CONFIG}","size":1,"digest":"{}"}},"layers":[]}}"#, d(9)).into_bytes(),
        None,
    )
    .unwrap();
    let cases = vec![
        Case {
            name: "no destination",
            dest: None,
            by: MergeKey::Platform,
            archs: None,
            action: MergeAction::CopySource,
            digests: vec![d(1), d(2)],
        },
        Case {
            name: "destination is the source",
            dest: Some(src.clone()),
            by: MergeKey::Platform,
            archs: None,
            action: MergeAction::Unchanged,
            digests: vec![d(1), d(2)],
        },
        Case {
            name: "nothing missing: exactly the source",
            dest: Some(list(
                L,
                vec![
                    entry(5, "linux", "amd64", None, M),
                    entry(6, "linux", "arm64", None, M),
                ],
            )),
            by: MergeKey::Platform,
            archs: None,
            action: MergeAction::CopySource,
            digests: vec![d(1), d(2)],
        },
        Case {
            name: "destination a single image",
            dest: Some(single),
            by: MergeKey::Platform,
            archs: None,
            action: MergeAction::OverwriteImage,
            digests: vec![d(1), d(2)],
        },
        Case {
            name: "arm64 without variant equals arm64/v8",
            dest: Some(list(L, vec![entry(6, "linux", "aarch64", None, M)])),
            by: MergeKey::Platform,
            archs: None,
            action: MergeAction::CopySource,
            digests: vec![d(1), d(2)],
        },
        Case {
            name: "other variant is another platform",
            dest: Some(list(
                L,
                vec![
                    entry(7, "linux", "arm", Some("v6"), M),
                    entry(8, "linux", "arm", Some("v7"), M),
                ],
            )),
            by: MergeKey::Platform,
            archs: None,
            action: MergeAction::Merged,
            digests: vec![d(1), d(2), d(7), d(8)],
        },
        Case {
            name: "by arch: variants collapse",
            dest: Some(list(
                L,
                vec![
                    entry(7, "linux", "arm64", Some("v9"), M),
                    entry(8, "linux", "ppc64le", None, M),
                ],
            )),
            by: MergeKey::Arch,
            archs: None,
            action: MergeAction::Merged,
            digests: vec![d(1), d(2), d(8)],
        },
        Case {
            name: "windows os.version distinguishes",
            dest: Some(list(
                L,
                vec![{
                    let mut e = entry(7, "windows", "amd64", None, M);
                    e.platform.as_mut().unwrap().os_version = Some("10.0.1".into());
                    e
                }],
            )),
            by: MergeKey::Platform,
            archs: None,
            action: MergeAction::Merged,
            digests: vec![d(1), d(2), d(7)],
        },
        Case {
            name: "eligible archs: only amd64 from source, arm64 kept from destination",
            dest: Some(list(
                L,
                vec![
                    entry(5, "linux", "arm64", None, M),
                    entry(6, "linux", "s390x", None, M),
                ],
            )),
            by: MergeKey::Platform,
            archs: Some(vec!["amd64".into()]),
            action: MergeAction::Merged,
            digests: vec![d(1), d(5), d(6)],
        },
        Case {
            name: "eligible archs, no destination: filtered source",
            dest: None,
            by: MergeKey::Platform,
            archs: Some(vec!["arm64".into()]),
            action: MergeAction::Merged,
            digests: vec![d(2)],
        },
    ];
    for c in cases {
        let p = plan_merge(&src, c.dest.as_ref(), c.by, c.archs.as_deref())
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_eq!(p.action, c.action, "{}", c.name);
        assert_eq!(digests(&p.result), c.digests, "{}", c.name);
        if c.action == MergeAction::CopySource {
            assert_eq!(
                p.result.bytes(),
                src.bytes(),
                "{}: same bytes as the source",
                c.name
            );
        }
    }
}

#[test]
fn deterministic_and_idempotent() {
    let src = list(
        OCI_INDEX,
        vec![entry(1, "linux", "amd64", None, OCI_MANIFEST)],
    );
    let dest = list(L, vec![entry(4, "linux", "s390x", None, M)]);
    let a = plan_merge(&src, Some(&dest), MergeKey::Platform, None).unwrap();
    let b = plan_merge(&src, Some(&dest), MergeKey::Platform, None).unwrap();
    assert_eq!(a.result.bytes(), b.result.bytes());
    assert_eq!(
        a.result.media_type().as_str(),
        OCI_INDEX,
        "media type from the source"
    );
    // Merging again onto the result changes nothing.
    let again = plan_merge(&src, Some(&a.result), MergeKey::Platform, None).unwrap();
    assert_eq!(again.action, MergeAction::Unchanged);
    assert!(holds_all(
        &a.result,
        &[entry(1, "linux", "amd64", None, OCI_MANIFEST)]
    ));
    assert!(!holds_all(
        &dest,
        &[entry(1, "linux", "amd64", None, OCI_MANIFEST)]
    ));
}

#[test]
fn errors() {
    let single = RawManifest::new(
        format!(r#"{{"schemaVersion":2,"mediaType":"{M}","config":{{"mediaType":"{OCI_CONFIG}","size":1,"digest":"{}"}},"layers":[]}}"#, d(9)).into_bytes(),
        None,
    )
    .unwrap();
    assert!(matches!(
        plan_merge(&single, None, MergeKey::Platform, None),
        Err(MergeError::SourceNotList(_))
    ));
    let src = list(L, vec![entry(1, "linux", "amd64", None, M)]);
    let e = plan_merge(&src, None, MergeKey::Platform, Some(&["s390x".to_string()])).unwrap_err();
    assert!(
        e.to_string().contains("amd64") && e.to_string().contains("s390x"),
        "{e}"
    );
}

#[test]
fn nothing_eligible_onto_a_destination_keeps_it() {
    let src = list(L, vec![entry(1, "linux", "amd64", None, M)]);
    let dest = list(
        L,
        vec![
            entry(5, "linux", "arm64", None, M),
            entry(6, "linux", "s390x", None, M),
        ],
    );
    let p = plan_merge(
        &src,
        Some(&dest),
        MergeKey::Platform,
        Some(&["arm64".into()]),
    )
    .unwrap();
    assert_eq!(p.action, MergeAction::Unchanged);
    assert_eq!(p.result.bytes(), dest.bytes());
    assert!(p.from_source.is_empty());
    assert_eq!(p.kept_from_destination.len(), 2);
    assert_eq!(p.not_eligible.len(), 1);
    let note = p.note.unwrap();
    assert!(
        note.contains("amd64") && note.contains("arm64") && note.contains("keeps"),
        "{note}"
    );
}

#[test]
fn same_entries_in_another_order_is_unchanged() {
    let src = list(L, vec![entry(1, "linux", "amd64", None, M)]);
    let dest = list(
        L,
        vec![
            entry(4, "linux", "s390x", None, M),
            entry(1, "linux", "amd64", None, M),
        ],
    );
    let p = plan_merge(&src, Some(&dest), MergeKey::Platform, None).unwrap();
    assert_eq!(p.action, MergeAction::Unchanged);
    assert_eq!(p.result.bytes(), dest.bytes(), "the tag keeps its bytes");
    // Another media type at the destination is a change.
    let oci = list(
        OCI_INDEX,
        vec![
            entry(4, "linux", "s390x", None, M),
            entry(1, "linux", "amd64", None, M),
        ],
    );
    assert_eq!(
        plan_merge(&src, Some(&oci), MergeKey::Platform, None)
            .unwrap()
            .action,
        MergeAction::Merged
    );
}

#[test]
fn eligible_part_is_what_may_be_copied() {
    let src = list(
        L,
        vec![
            entry(1, "linux", "amd64", None, M),
            entry(2, "linux", "arm64", Some("v8"), M),
        ],
    );
    assert_eq!(
        eligible_part(&src, None).unwrap().unwrap().bytes(),
        src.bytes()
    );
    let both = ["amd64".to_string(), "arm64".to_string()];
    assert_eq!(
        eligible_part(&src, Some(&both)).unwrap().unwrap().bytes(),
        src.bytes()
    );
    let arm = eligible_part(&src, Some(&["arm64".into()]))
        .unwrap()
        .unwrap();
    assert_eq!(digests(&arm), vec![d(2)]);
    assert!(
        eligible_part(&src, Some(&["s390x".into()]))
            .unwrap()
            .is_none()
    );
}
