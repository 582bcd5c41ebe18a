//! Soak: the daemon runs rounds every second against a local server whose pages change now and
//! then; prints the daemon's resident memory after the first rounds and at the end, to show it
//! stays flat. `POLICYDIFF_SOAK_ROUNDS` (default 500) sets the length (one round per second).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support.rs"]
mod support;

fn rounds(dir: &std::path::Path) -> usize {
    std::fs::read_to_string(dir.join(".policydiff/runs.jsonl"))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let wanted: usize = std::env::var("POLICYDIFF_SOAK_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    // POLICYDIFF_SOAK_STATIC=1: pages never change (no commits), to tell growth of the repository
    // from growth of the process.
    let changing = std::env::var_os("POLICYDIFF_SOAK_STATIC").is_none();
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let port = common::serve_fn(move |_| {
        let n = if changing {
            counter.fetch_add(1, Ordering::SeqCst)
        } else {
            0
        };
        // The text changes every 20 requests: new versions, memos and feed updates happen.
        format!(
            "<main><h1>Policy</h1><p>Version {} of our data practices with partners.</p>{}</main>",
            n / 20,
            "<p>Clause about retention and advertising.</p>".repeat(50)
        )
    });
    let declarations: Vec<serde_json::Value> = (0..5)
        .map(|service| {
            serde_json::json!({"name": format!("Service {service}"), "terms": {
                "Privacy Policy": {"fetch": format!("http://127.0.0.1:{port}/s{service}/privacy"), "select": "main"},
                "Terms of Service": {"fetch": format!("http://127.0.0.1:{port}/s{service}/terms"), "select": "main"}}})
        })
        .collect();
    let dir = common::Workspace::with_config(
        "fetch:\n  allow_private_addresses: true\n  per_host_delay: 0s\n  per_host: 4\nschedule:\n  cron: \"* * * * * *\"\n",
    );
    for declaration in &declarations {
        dir.declare_value(declaration);
    }
    // POLICYDIFF_SOAK_WRAPPER=heaptrack runs the daemon under a heap profiler (RSS figures are
    // then the wrapper's).
    let mut command = match std::env::var("POLICYDIFF_SOAK_WRAPPER") {
        Ok(wrapper) => {
            let mut command = std::process::Command::new(wrapper);
            command.arg(env!("CARGO_BIN_EXE_policydiff"));
            command
        }
        Err(_) => std::process::Command::new(env!("CARGO_BIN_EXE_policydiff")),
    };
    let mut daemon = command
        .current_dir(dir.path())
        .args(["daemon", "-q"])
        .spawn()
        .expect("start the daemon");
    while rounds(dir.path()) < 10 {
        std::thread::sleep(Duration::from_millis(200));
    }
    let early = support::rss_kb(daemon.id());
    println!("after {} rounds: RSS {} kB", rounds(dir.path()), early);
    let mut reported = 10;
    while rounds(dir.path()) < wanted {
        std::thread::sleep(Duration::from_secs(1));
        // The trend matters more than the end: growth that levels off is caches filling.
        if rounds(dir.path()) >= reported + 50 {
            reported = rounds(dir.path());
            println!(
                "after {reported} rounds: RSS {} kB",
                support::rss_kb(daemon.id())
            );
        }
    }
    let late = support::rss_kb(daemon.id());
    println!(
        "after {} rounds: RSS {} kB ({} requests served)",
        rounds(dir.path()),
        late,
        served.load(Ordering::SeqCst)
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status();
    let _ = daemon.wait();
}
