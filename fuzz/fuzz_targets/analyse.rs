//! Change analysis and memo drafting of two texts (split at the first NUL byte).
//! The check itself is in `fuzz/checks.rs`, shared with the corpus replay in `tests/`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::analyse(data));
