use super::*;

fn d(n: u8) -> Digest {
    Digest::sha256(&[n])
}

fn oci_image() -> Vec<u8> {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{OCI_CONFIG}","size":2,"digest":"{}"}},"layers":[{{"mediaType":"{OCI_LAYER_GZIP}","size":3,"digest":"{}"}}]}}"#,
        d(1),
        d(2)
    )
    .into_bytes()
}

#[test]
fn detects_every_kind() {
    let raw = RawManifest::new(oci_image(), None).unwrap();
    assert_eq!(raw.media_type().as_str(), OCI_MANIFEST);
    assert_eq!(raw.digest(), &Digest::sha256(&oci_image()));
    let m = raw.parse().unwrap();
    assert_eq!(m.blobs().len(), 2);
    assert_eq!(m.blobs()[0].digest, d(1));

    // An OCI index without mediaType is recognized by its manifests.
    let idx = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{OCI_MANIFEST}","size":5,"digest":"{}","platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}}]}}"#,
        d(3)
    );
    let raw = RawManifest::new(idx.into_bytes(), Some(OCI_INDEX)).unwrap();
    assert!(raw.media_type().is_index());
    let Manifest::Index(i) = raw.parse().unwrap() else {
        panic!("index expected")
    };
    assert_eq!(
        i.manifests[0].platform.as_ref().unwrap().architecture,
        "arm64"
    );

    let unsigned = br#"{"schemaVersion":1,"name":"a","tag":"t","architecture":"amd64","fsLayers":[{"blobSum":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},{"blobSum":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}],"history":[{"v1Compatibility":"{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{\"a\":\"b\"}}}"}]}"#;
    let raw = RawManifest::new(unsigned.to_vec(), None).unwrap();
    assert_eq!(raw.media_type().as_str(), DOCKER_SCHEMA1);
    let m = raw.parse().unwrap();
    assert_eq!(
        m.blobs().len(),
        1,
        "duplicate schema 1 layers are fetched once"
    );
    let Manifest::Schema1(s1) = m else { panic!() };
    assert_eq!(s1.config().unwrap().labels().unwrap()["a"], "b");
}

#[test]
fn refuses_garbage() {
    for (bytes, declared) in [
        (&b"<html>"[..], Some(DOCKER_MANIFEST)),
        (b"[]", None),
        (b"{}", None),
        (br#"{"schemaVersion":3}"#, None),
        (br#"{"schemaVersion":2}"#, None),
        (br#"{"schemaVersion":2,"mediaType":"text/plain","config":{}}"#, None),
        (
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","config":{}}"#,
            None,
        ),
    ] {
        let r = RawManifest::new(bytes.to_vec(), declared);
        assert!(r.is_err(), "{:?}", String::from_utf8_lossy(bytes));
    }
    // Parse errors name the media type.
    let bad = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"digest":"nope"}}}}"#
    );
    let raw = RawManifest::new(bad.into_bytes(), None).unwrap();
    let e = raw.parse().unwrap_err().to_string();
    assert!(e.contains(OCI_MANIFEST), "{e}");
}

#[test]
fn verifies_digest() {
    let good = Digest::sha256(&oci_image());
    assert!(RawManifest::verified(oci_image(), None, &good).is_ok());
    let e = RawManifest::verified(oci_image(), None, &d(9)).unwrap_err();
    assert!(matches!(e, ImageError::DigestMismatch { .. }));
    let sha512 = Digest::compute(crate::Algorithm::Sha512, &oci_image());
    assert!(RawManifest::verified(oci_image(), None, &sha512).is_ok());
}

#[test]
fn index_serializes_deterministically() {
    let mut i = IndexManifest::new(MediaType::new(DOCKER_LIST));
    let mut e = Descriptor::new(DOCKER_MANIFEST, 10, d(4));
    e.platform = Some(Platform::new("linux", "amd64", None));
    i.manifests.push(e);
    let a = i.to_raw().unwrap();
    let b = i.clone().to_raw().unwrap();
    assert_eq!(a.bytes(), b.bytes());
    assert_eq!(a.media_type().as_str(), DOCKER_LIST);
    let Manifest::Index(back) = a.parse().unwrap() else {
        panic!()
    };
    assert_eq!(back, i);
}
