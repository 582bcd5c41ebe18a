//! Analysis and memo of a 1,000-block document with 100 changed blocks.
//!
//! `memo --all` over the genai-eu-versions corpus is measured with the binary (see the notes).

use criterion::{Criterion, criterion_group, criterion_main};
use policydiff::analyse::{Taxonomy, analyse};
use policydiff::config::MemoConfig;
use policydiff::memo::{MemoInput, draft};

fn documents() -> (String, String) {
    let words = [
        "we",
        "collect",
        "information",
        "about",
        "your",
        "use",
        "of",
        "the",
        "services",
        "and",
        "share",
        "it",
        "with",
        "partners",
        "for",
        "advertising",
        "security",
        "retention",
        "purposes",
        "AI",
    ];
    let mut state = 0x2545_F491_u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as usize
    };
    let mut before = Vec::new();
    let mut after = Vec::new();
    for block in 0..1000 {
        let text = if block % 10 == 0 {
            format!("### Section {block}")
        } else {
            let sentence: Vec<&str> = (0..40).map(|_| words[next() % words.len()]).collect();
            format!("{}.", sentence.join(" "))
        };
        before.push(text.clone());
        match block % 10 {
            3 => after.push(format!(
                "{text} This clause now also covers model training."
            )), // modified
            7 if block % 20 == 7 => {} // removed
            7 => {
                after.push(text);
                after.push("A new clause about retention of your data for two years.".into()); // added
            }
            _ => after.push(text),
        }
    }
    (before.join("\n\n"), after.join("\n\n"))
}

fn bench(c: &mut Criterion) {
    let (before, after) = documents();
    let taxonomy = Taxonomy::default();
    let config = MemoConfig::default();
    c.bench_function("analyse+memo 1000 blocks, 100 changed", |b| {
        b.iter(|| {
            let analysis = analyse(Some(&before), &after, None, false, &taxonomy);
            let input = MemoInput {
                service: "Example",
                terms_type: "Privacy Policy",
                date: "2025-12-16",
                commit: Some("0123456789ab"),
                previous_commit: None,
                before: Some(&before),
                after: &after,
            };
            draft(&input, &analysis, &config, &taxonomy)
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
