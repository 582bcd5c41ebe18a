//! HTML → Markdown: any bytes, as a page with selectors, removals and a range.
//! The check itself is in `fuzz/checks.rs`, shared with the corpus replay in `tests/`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::extract_html(data));
