//! Extraction throughput on realistic policy pages of about 1 MB and 10 MB.
//!
//! Peak memory is measured on the command line (see the closing notes):
//! `/usr/bin/time -v target/release/policydiff extract page.html --location URL --select main`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use policydiff::declaration::{Selector, SourceDocument};
use policydiff::extract::extract;

#[path = "support.rs"]
mod support;
use support::policy_page;

fn source() -> SourceDocument {
    SourceDocument {
        fetch: "https://www.example.com/privacy/policy".into(),
        select: vec![Selector::Css("main".into())],
        remove: vec![Selector::Css(".cookie-banner".into())],
        filters: vec![],
        execute_client_scripts: None,
        actions: vec![],
    }
}

fn bench_extraction(c: &mut Criterion) {
    let source = source();
    let mut group = c.benchmark_group("extract");
    for (name, size) in [("1MB", 1_000_000), ("10MB", 10_000_000)] {
        let page = policy_page(size);
        if std::env::var_os("POLICYDIFF_BENCH_WRITE").is_some() {
            std::fs::write(format!("target/bench-page-{name}.html"), &page).expect("write page");
        }
        group.throughput(Throughput::Bytes(page.len() as u64));
        group.sample_size(if size > 5_000_000 { 10 } else { 20 });
        group.bench_function(name, |b| {
            b.iter(|| {
                extract(
                    page.as_bytes(),
                    Some("text/html; charset=utf-8"),
                    &source.fetch,
                    &source,
                )
                .expect("extracts")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_extraction);
criterion_main!(benches);
