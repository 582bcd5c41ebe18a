//! The fuzz targets' checks on stable Rust, in CI: every input kept in `fuzz/corpus/<target>/`
//! (the minimized corpora of the long libFuzzer runs, which include every crash ever found),
//! then a short run of inputs mutated from them. `POLICYDIFF_FUZZ_ITERATIONS` (default 2,000
//! per target), `POLICYDIFF_FUZZ_SEED` and `POLICYDIFF_FUZZ_TARGET` (one target only) make the
//! mutation run longer, different or narrower; the input in flight is kept in
//! `target/tmp/fuzz-in-flight-<target>`. The real fuzzing is `cargo +nightly fuzz run <target>`
//! (see README).

#[path = "../fuzz/checks.rs"]
mod checks;
mod common;

use std::path::{Path, PathBuf};

use common::Random;

type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 4] = [
    ("extract_html", checks::extract_html),
    ("declaration", checks::declaration),
    ("config", checks::config),
    ("analyse", checks::analyse),
];

/// Largest mutated input: the corpora are minimized, and bigger inputs only slow the run.
const MAX_INPUT: usize = 64 * 1024;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join("corpus")
        .join(target);
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    inputs.sort();
    inputs
}

/// Runs `check` on `input`; on a panic, keeps the input where it can be replayed and fails
/// the test naming it.
fn run(target: &str, check: Check, input: &[u8], origin: &str) {
    if std::panic::catch_unwind(|| check(input)).is_err() {
        let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-failure-{target}"));
        std::fs::write(&kept, input).unwrap();
        panic!(
            "{target} failed on {origin}; the input is kept in {} (replay: cargo +nightly fuzz run {target} {})",
            kept.display(),
            kept.display()
        );
    }
}

#[test]
fn every_kept_fuzz_input_passes_its_check() {
    for (target, check) in TARGETS {
        let inputs = corpus(target);
        assert!(inputs.len() > 100, "{target}: the corpus is missing");
        for (path, bytes) in &inputs {
            run(target, check, bytes, &path.display().to_string());
        }
    }
}

/// Fragments that matter to the parsers: markup, JSON and YAML structure, NUL (the analyse
/// target's separator), invalid UTF-8.
const TOKENS: &[&[u8]] = &[
    b"<div>",
    b"</div>",
    b"<main>",
    b"<h1>",
    b"<footer>",
    b"<!--",
    b"<![CDATA[",
    b"&amp;",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b":",
    b",",
    b"&a",
    b"*a",
    b"- ",
    b"\n  ",
    b"\0",
    b"\xff\xfe",
    b"\"select\"",
    b"\"fetch\"",
    b"\"remove\"",
    b":not(",
    b"~ ",
    b"> ",
    b"1e999",
];

fn mutate(random: &mut Random, inputs: &[(PathBuf, Vec<u8>)]) -> Vec<u8> {
    let mut data = inputs[random.below(inputs.len())].1.clone();
    for _ in 0..1 + random.below(4) {
        let at = random.below(data.len() + 1);
        match random.below(6) {
            0 if !data.is_empty() => {
                let i = random.below(data.len());
                data[i] ^= 1 << random.below(8);
            }
            1 => {
                let token = TOKENS[random.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            2 if !data.is_empty() => {
                let end = (at + random.below(64)).min(data.len());
                data.drain(at..end);
            }
            3 if !data.is_empty() => {
                let start = random.below(data.len());
                let end = (start + random.below(256)).min(data.len());
                let copy: Vec<u8> = data[start..end].to_vec();
                let times = 1 + random.below(8);
                for _ in 0..times {
                    data.splice(at..at, copy.iter().copied());
                }
            }
            4 => {
                let other = &inputs[random.below(inputs.len())].1;
                let from = random.below(other.len() + 1);
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            _ => {
                let byte = random.next() as u8;
                data.insert(at, byte);
            }
        }
    }
    data.truncate(MAX_INPUT);
    data
}

#[test]
fn mutated_inputs_pass_their_checks() {
    let iterations: usize = std::env::var("POLICYDIFF_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let seed: u64 = std::env::var("POLICYDIFF_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED_F022);
    let only = std::env::var("POLICYDIFF_FUZZ_TARGET").ok();
    for (target, check) in TARGETS {
        if only.as_deref().is_some_and(|only| only != target) {
            continue;
        }
        let inputs = corpus(target);
        let mut random = Random(seed | 1);
        // The input in flight, kept where a run killed from outside (out of memory, a hang
        // stopped by hand) leaves it for replay.
        let in_flight =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-in-flight-{target}"));
        for round in 0..iterations {
            let input = mutate(&mut random, &inputs);
            std::fs::write(&in_flight, &input).unwrap();
            run(
                target,
                check,
                &input,
                &format!("mutation {round} of seed {seed}"),
            );
        }
    }
}
