//! 50 documents rendered with JavaScript (text inserted by a script 200 ms after load), served
//! from 127.0.0.1 and tracked in one round with `browser.concurrency` 2. Prints the round's
//! time, time per document, and the peak memory of policydiff and of the browser's processes
//! (sampled every 100 ms, summed over every browser process). Needs Chromium.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support.rs"]
mod support;

const DOCUMENTS: usize = 50;

/// Summed RSS of the processes whose command line names `mark` (the browser's profile folder).
fn browser_rss_kb(mark: &str) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(mark) {
            total += support::rss_kb(pid);
        }
    }
    total
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if policydiff::fetch::browser::find_executable(None).is_err() {
        println!("no browser found: install chromium to run this benchmark");
        return;
    }
    let page = support::policy_page(20_000);
    let text = page
        .replace('\\', "\\\\")
        .replace('`', "\\`")
        .replace("${", "\\${")
        .replace("</", "<\\/");
    let port = common::serve_fn(move |_| {
        format!(
            "<html><body><main id=\"policy\"></main><script>setTimeout(() => {{ document.getElementById('policy').innerHTML = `{text}`; }}, 200);</script></body></html>"
        )
    });
    let declarations: Vec<serde_json::Value> = (0..DOCUMENTS)
        .map(|service| {
            serde_json::json!({"name": format!("Service {service}"), "terms": {
                "Privacy Policy": {"fetch": format!("http://127.0.0.1:{port}/s{service}"), "select": "#policy",
                                   "executeClientScripts": true}}})
        })
        .collect();
    let dir = common::Workspace::with_config(
        "fetch:\n  allow_private_addresses: true\n  per_host_delay: 0s\n  per_host: 4\nbrowser:\n  concurrency: 2\n",
    );
    for declaration in &declarations {
        dir.declare_value(declaration);
    }
    let mark = dir.path().join("tmp");
    std::fs::create_dir_all(&mark).unwrap();
    let mark = mark.to_str().unwrap().to_string();

    let started = Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(dir.path())
        .args(["track", "-q", "--json"])
        .env("TMPDIR", &mark)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run policydiff");
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let (mut ours, mut browser) = (0, 0);
            while !done.load(Ordering::SeqCst) {
                ours = support::rss_kb(pid).max(ours);
                browser = browser_rss_kb(&mark).max(browser);
                std::thread::sleep(Duration::from_millis(100));
            }
            (ours, browser)
        })
    };
    let output = child.wait_with_output().unwrap();
    let elapsed = started.elapsed();
    done.store(true, Ordering::SeqCst);
    let (ours, browser) = sampler.join().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    if let Some(failure) = report["documents"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["status"] == "failed"))
    {
        println!("first failure: {}", failure["error"]);
    }
    println!(
        "{DOCUMENTS} JS-rendered documents in {:.2}s = {:.0} ms per document; recorded {}, failed {}; \
         peak RSS: policydiff {} MB, browser (all processes) {} MB",
        elapsed.as_secs_f64(),
        elapsed.as_millis() as f64 / DOCUMENTS as f64,
        report["recorded"],
        report["failed"],
        ours / 1024,
        browser / 1024
    );
}
