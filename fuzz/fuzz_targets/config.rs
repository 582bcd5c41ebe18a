//! config.yaml parsing: any text (alias bombs, wrong types, unknown keys).
//! The check itself is in `fuzz/checks.rs`, shared with the corpus replay in `tests/`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::config(data));
