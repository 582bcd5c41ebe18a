//! Declaration parsing and validation: any text as `<service>.json`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let scripts = Default::default();
    let path = std::path::Path::new("declarations/Fuzzed.json");
    let _ = policydiff::declaration::parse_declaration("Fuzzed", text, path, &scripts);
    let _ = policydiff::declaration::parse_history(text, path, &scripts);
});
