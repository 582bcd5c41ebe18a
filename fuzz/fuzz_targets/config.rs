//! config.yaml parsing: any text (alias bombs, wrong types, unknown keys).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = policydiff::config::Config::from_yaml(text, std::path::Path::new("/tmp"));
});
