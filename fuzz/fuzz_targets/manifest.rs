//! Manifests and indexes as a registry serves them (schema 1 included), with or without a
//! declared media type.
#![no_main]

use ferry_image::media_types::{
    DOCKER_LIST, DOCKER_MANIFEST, DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED, OCI_INDEX, OCI_MANIFEST,
};
use libfuzzer_sys::fuzz_target;

const DECLARED: [Option<&str>; 7] = [
    None,
    Some(DOCKER_SCHEMA1),
    Some(DOCKER_SCHEMA1_SIGNED),
    Some(DOCKER_MANIFEST),
    Some(DOCKER_LIST),
    Some(OCI_MANIFEST),
    Some(OCI_INDEX),
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the Content-Type the registry declared.
    let Some((first, bytes)) = data.split_first() else {
        return;
    };
    let declared = DECLARED[usize::from(*first) % DECLARED.len()];
    if let Ok(raw) = ferry_image::RawManifest::new(bytes.to_vec(), declared) {
        let _ = raw.descriptor();
        if let Ok(manifest) = raw.parse() {
            let _ = format!("{manifest:?}");
        }
    }
    let _ = ferry_image::ImageConfig::parse(bytes);
});
