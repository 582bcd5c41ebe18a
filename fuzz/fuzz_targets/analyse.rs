//! Change analysis and memo drafting of two texts (split at the first NUL byte).
#![no_main]

use libfuzzer_sys::fuzz_target;
use policydiff::analyse::{Taxonomy, analyse};
use policydiff::memo::{MemoInput, draft};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (before, after) = text.split_once('\0').unwrap_or((&text, ""));
    // Built once: compiling the topic patterns dominates a run otherwise.
    static TAXONOMY: std::sync::OnceLock<Taxonomy> = std::sync::OnceLock::new();
    let taxonomy = TAXONOMY.get_or_init(|| Taxonomy::with_additions(&Default::default()));
    let analysis = analyse(Some(before), after, None, false, taxonomy);
    let input = MemoInput {
        service: "Fuzzed",
        terms_type: "Privacy Policy",
        date: "2026-01-01",
        commit: Some("0000000"),
        previous_commit: Some("1111111"),
        before: Some(before),
        after,
    };
    let memo = draft(&input, &analysis, &Default::default(), taxonomy);
    // Every quotation must stand verbatim in the text it quotes.
    for quote in &memo.quotes {
        let source = match quote.side {
            policydiff::memo::Side::Before => before,
            policydiff::memo::Side::After => after,
        };
        assert!(source.contains(&quote.text), "quote not verbatim: {:?}", quote.text);
    }
    let _ = memo.to_markdown();
});
