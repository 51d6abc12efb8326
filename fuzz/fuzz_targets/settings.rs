//! Target settings: ferry's own format and pubtools-quay's (JSON or YAML).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = ferry_publish::TargetSettings::parse(text);
});
