//! Image references and copy locations: what a user types on the command line or writes in
//! a push-item file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(reference) = ferry_image::Reference::parse(text) {
        // What ferry prints for a reference it accepted must read back.
        let shown = reference.to_string();
        if let Err(e) = ferry_image::Reference::parse(&shown) {
            panic!("{text:?} parsed, its form {shown:?} did not: {e}");
        }
    }
    let _ = ferry_image::Reference::parse_qualified(text);
    let _ = ferry_image::Digest::parse(text);
    let _ = ferry_copy::Location::parse(text);
});
