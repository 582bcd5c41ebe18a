//! Tracking 1,000 documents of about 100 KB served from 127.0.0.1: a first round, then a
//! round where 10% changed. Prints documents per second and the peak RSS of `policydiff track`.
//!
//! Run: `cargo bench --bench track`.

use std::sync::{Arc, RwLock};
use std::time::Instant;

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support.rs"]
mod support;

const DOCUMENTS: usize = 1000;
const SERVICES: usize = 100;
const TERMS: [&str; 10] = [
    "Privacy Policy",
    "Terms of Service",
    "Imprint",
    "Trackers Policy",
    "Developer Terms",
    "Community Guidelines",
    "Acceptable Use Policy",
    "Commercial Terms",
    "Copyright Claims Policy",
    "Law Enforcement Guidelines",
];

fn peak_rss_of_children_kb() -> i64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss
}

fn round(dir: &std::path::Path, name: &str) {
    let started = Instant::now();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(dir)
        .args(["track", "-q", "--json"])
        .output()
        .expect("run policydiff");
    let elapsed = started.elapsed();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    println!(
        "{name}: {} documents in {:.2}s = {:.0} documents/s; recorded {}, unchanged {}, failed {}; peak RSS so far {} MB",
        DOCUMENTS,
        elapsed.as_secs_f64(),
        DOCUMENTS as f64 / elapsed.as_secs_f64(),
        report["recorded"],
        report["unchanged"],
        report["failed"],
        peak_rss_of_children_kb() / 1024
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let pages: Vec<String> = (0..DOCUMENTS)
        .map(|i| support::seeded_policy_page(100_000, i as u32))
        .collect();
    let pages = Arc::new(RwLock::new(pages));
    let served = pages.clone();
    let port = common::serve_fn(move |path| {
        let index: usize = path.trim_start_matches("/doc/").parse().unwrap_or(0);
        served.read().unwrap()[index.min(DOCUMENTS - 1)].clone()
    });
    let declarations: Vec<serde_json::Value> = (0..SERVICES)
        .map(|service| {
            let mut terms = serde_json::Map::new();
            for (t, terms_type) in TERMS.iter().enumerate() {
                let index = service * TERMS.len() + t;
                terms.insert(
                    terms_type.to_string(),
                    serde_json::json!({"fetch": format!("http://127.0.0.1:{port}/doc/{index}"), "select": "main", "remove": ".cookie-banner"}),
                );
            }
            serde_json::json!({"name": format!("Service {service}"), "terms": terms})
        })
        .collect();
    let dir = common::Workspace::with_config(
        "fetch:\n  allow_private_addresses: true\n  per_host_delay: 0s\n  per_host: 16\n  concurrency: 16\n",
    );
    for declaration in &declarations {
        dir.declare_value(declaration);
    }
    round(dir.path(), "first round");
    {
        let mut pages = pages.write().unwrap();
        for index in (0..DOCUMENTS).step_by(10) {
            pages[index] = support::seeded_policy_page(100_000, 1_000_000 + index as u32);
        }
    }
    round(dir.path(), "second round (10% changed)");
}
