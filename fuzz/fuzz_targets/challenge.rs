//! `WWW-Authenticate` challenges a registry answers 401 with.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = ferry_registry::parse_challenge_debug(text);
});
