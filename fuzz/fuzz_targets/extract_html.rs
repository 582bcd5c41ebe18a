//! HTML → Markdown: any bytes, as a page with selectors, removals and a range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use policydiff::declaration::{RangeEnd, RangeSelector, Selector, Side, SourceDocument};

fuzz_target!(|data: &[u8]| {
    let source = SourceDocument {
        fetch: "https://example.com/legal/privacy".into(),
        select: vec![
            Selector::Css("main, body".into()),
            Selector::Range(RangeSelector {
                start: RangeEnd { side: Side::After, css: "h1".into() },
                end: RangeEnd { side: Side::Before, css: "footer".into() },
            }),
        ],
        remove: vec![Selector::Css("nav, .banner".into())],
        filters: vec![],
        execute_client_scripts: None,
        actions: vec![],
    };
    // Errors (no match, too large…) are fine; panics and hangs are not.
    let _ = policydiff::extract::extract(data, Some("text/html"), &source.fetch, &source);
});
