//! Push-item files, YAML and JSON (the strict readers read the whole document, entry by
//! entry, then validate every item).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = ferry_items::read_items_yaml(text);
    let _ = ferry_items::read_items_json(text);
});
