//! What each fuzz target checks, in one place for both of their users: the libFuzzer targets
//! in `fuzz_targets/` (`cargo +nightly fuzz run <target>`) and `tests/fuzz_corpus.rs`, which
//! replays the kept corpora and a short run of mutated inputs on stable, in CI.
//!
//! Each function takes any bytes; errors are expected answers, while a panic, a hang or a
//! quotation that is not verbatim is a bug.
#![allow(dead_code)] // each fuzz target uses one of these

use policydiff::analyse::{Taxonomy, analyse as analyse_change};
use policydiff::declaration::{RangeEnd, RangeSelector, Selector, Side, SourceDocument};
use policydiff::memo::{MemoInput, draft};

/// HTML → Markdown: any bytes, as a page with selectors, removals and a range.
pub(crate) fn extract_html(data: &[u8]) {
    let source = SourceDocument {
        fetch: "https://example.com/legal/privacy".into(),
        select: vec![
            Selector::Css("main, body".into()),
            Selector::Range(RangeSelector {
                start: RangeEnd {
                    side: Side::After,
                    css: "h1".into(),
                },
                end: RangeEnd {
                    side: Side::Before,
                    css: "footer".into(),
                },
            }),
        ],
        remove: vec![Selector::Css("nav, .banner".into())],
        filters: vec![],
        execute_client_scripts: None,
        actions: vec![],
    };
    let _ = policydiff::extract::extract(data, Some("text/html"), &source.fetch, &source);
}

/// Declaration parsing and validation: any text as `<service>.json`, and as its history file.
pub(crate) fn declaration(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let scripts = Default::default();
    let path = std::path::Path::new("declarations/Fuzzed.json");
    let _ = policydiff::declaration::parse_declaration("Fuzzed", text, path, &scripts);
    let _ = policydiff::declaration::parse_history(text, path, &scripts);
}

/// config.yaml parsing: any text (alias bombs, wrong types, unknown keys).
pub(crate) fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = policydiff::config::Config::from_yaml(text, std::path::Path::new("/tmp"));
}

/// Change analysis and memo drafting of two texts (split at the first NUL byte); every
/// quotation of the memo must stand verbatim in the text it quotes.
pub(crate) fn analyse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (before, after) = text.split_once('\0').unwrap_or((&text, ""));
    // Built once: compiling the topic patterns dominates a run otherwise.
    static TAXONOMY: std::sync::OnceLock<Taxonomy> = std::sync::OnceLock::new();
    let taxonomy = TAXONOMY.get_or_init(|| Taxonomy::with_additions(&Default::default()));
    let analysis = analyse_change(Some(before), after, None, false, taxonomy);
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
    for quote in &memo.quotes {
        let source = match quote.side {
            policydiff::memo::Side::Before => before,
            policydiff::memo::Side::After => after,
        };
        assert!(
            quote.is_verbatim_in(source),
            "quote not verbatim: {:?}",
            quote.text
        );
    }
    let _ = memo.to_markdown();
}
