//! Docker and containers auth files (`auth.json`, `config.json`).
#![no_main]

use libfuzzer_sys::fuzz_target;

const REGISTRIES: [&str; 4] = [
    "quay.io",
    "docker.io",
    "127.0.0.1:5000",
    "registry.example.com",
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the registry looked up.
    let Some((first, text)) = data.split_first() else {
        return;
    };
    let registry = REGISTRIES[usize::from(*first) % REGISTRIES.len()];
    let _ = ferry_registry::authfile::lookup_in_text(text, registry);
    if let Ok(text) = std::str::from_utf8(text) {
        let _ = ferry_registry::authfile::normalize_key(text);
    }
});
