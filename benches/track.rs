//! Tracking 1,000 documents of about 100 KB served from 127.0.0.1: a first round, a round where
//! 10% were edited (a sentence, a word and a list item, the shape of most real changes), and a
//! round where 10% were rewritten from top to bottom (the worst case for analysis), and a round
//! where nothing changed but every page carries a token of its own, so that none is fetched
//! byte for byte as before and every one is extracted again. Prints documents per second, the peak RSS of `policydiff track`, the
//! size of `.git` (and what `git gc --aggressive` makes of the same history), and the floor: the
//! time to fetch and parse the same pages, with nothing recorded. The floor is measured just
//! before and just after each round, and the round compared with their mean: on a shared
//! machine the speed of the cores drifts by half within minutes, and a floor measured once
//! at the start made the ratio follow the drift more than the round.
//!
//! Run: `cargo bench --bench track`; `POLICYDIFF_BENCH_DOCUMENTS=5000 cargo bench --bench track`
//! for the scale of OTA's whole federation (with `POLICYDIFF_BENCH_SKIP_GC=1` to leave out the
//! long `git gc --aggressive` comparison, `POLICYDIFF_BENCH_PROFILE=DIR` to profile each
//! round with `perf`, `POLICYDIFF_BENCH_BINARY=PATH` to measure another build, and
//! `POLICYDIFF_BENCH_ROUNDS=1` to run the first round alone).
//!
//! Pages are sent gzip-compressed to clients that accept it, as web servers send HTML
//! (compressed ahead, at zlib's default level, so that the server's compressing is not
//! measured); `POLICYDIFF_BENCH_ENCODING=identity` sends them uncompressed. The pages of the
//! fourth round, with a token per response, are sent uncompressed.
//!
//! On ext4 without a journal, creating a file within minutes of many being deleted (the last
//! run's temporary folder) scans the freed inodes, which can double a first round: leave a few
//! minutes between runs, or measure without the disk (`TMPDIR=/dev/shm/...`).

use std::sync::{Arc, RwLock};
use std::time::Instant;

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support.rs"]
mod support;

/// The policydiff measured: this build's, or `POLICYDIFF_BENCH_BINARY` (another build of it, to
/// compare two builds on the same machine at the same hour: this VM's speed varies by the hour).
fn binary() -> std::ffi::OsString {
    std::env::var_os("POLICYDIFF_BENCH_BINARY")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_policydiff").into())
}

/// Rounds run: `POLICYDIFF_BENCH_ROUNDS` (1 for the first round alone), default all four.
fn rounds() -> usize {
    std::env::var("POLICYDIFF_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4)
}

/// Documents tracked (10 per service): `POLICYDIFF_BENCH_DOCUMENTS`, default 1,000.
fn documents() -> usize {
    std::env::var("POLICYDIFF_BENCH_DOCUMENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000)
}
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

/// What a running process used, read from `/proc` every 10 ms until it ends.
struct Usage {
    /// Peak resident memory (`VmHWM`), kB.
    peak_kb: u64,
    /// The most of it seen anonymous (`RssAnon`: the process's own memory, without the pages
    /// of files it maps, such as git packs, which the kernel can drop at will), kB.
    anonymous_kb: u64,
    /// CPU time, user and system, of all its threads (s): against the wall time, how much of
    /// the machine's cores the round kept busy.
    cpu_seconds: f64,
}

/// Reads a running process's [`Usage`] until it ends.
/// (Not `getrusage(RUSAGE_CHILDREN)`: a child started by vfork and exec inherits the high-water
/// mark of this process — the pages it serves — which would be counted as the child's.)
fn usage_of(child: &mut std::process::Child) -> Usage {
    let status_path = format!("/proc/{}/status", child.id());
    let stat_path = format!("/proc/{}/stat", child.id());
    // Clock ticks per second of `/proc/<pid>/stat`'s times: 100 on Linux.
    const TICKS: f64 = 100.0;
    let mut usage = Usage {
        peak_kb: 0,
        anonymous_kb: 0,
        cpu_seconds: 0.0,
    };
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            let field = |key| status_field(&status, key).and_then(|v| v.parse::<u64>().ok());
            usage.peak_kb = usage.peak_kb.max(field("VmHWM:").unwrap_or(0));
            usage.anonymous_kb = usage.anonymous_kb.max(field("RssAnon:").unwrap_or(0));
        }
        if let Ok(stat) = std::fs::read_to_string(&stat_path) {
            // After the command's name (in parentheses, which may hold spaces): fields 3…;
            // utime and stime are the 14th and 15th.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().collect())
                .unwrap_or_default();
            let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
            if let (Some(user), Some(system)) = (ticks(11), ticks(12)) {
                usage.cpu_seconds = usage.cpu_seconds.max((user + system) as f64 / TICKS);
            }
        }
        if child.try_wait().ok().flatten().is_some() {
            return usage;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// A field of a `/proc/<pid>/status` file, without its unit (`VmHWM:` → `"12345"`).
fn status_field(status: &str, key: &str) -> Option<String> {
    status.lines().find_map(|l| {
        l.strip_prefix(key)
            .map(|v| v.trim().trim_end_matches(" kB").trim().to_string())
    })
}

/// The largest peak resident memory, in kB, among a running process and those it started whose
/// name is `name` (OTA's `ota track` does its work in a second Node.js process), read until the
/// first one ends.
fn peak_tree_rss_kb(child: &mut std::process::Child, name: &str) -> u64 {
    let mut peak = 0;
    let mut seen: Vec<String> = Vec::new();
    loop {
        let mut tree = vec![child.id().to_string()];
        let statuses: Vec<(String, String)> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let pid = entry.file_name().to_string_lossy().to_string();
                pid.parse::<u32>().ok()?;
                Some((
                    pid,
                    std::fs::read_to_string(entry.path().join("status")).ok()?,
                ))
            })
            .collect();
        // Descendants, found by walking parent links until nothing new is added.
        loop {
            let before = tree.len();
            for (pid, status) in &statuses {
                if !tree.contains(pid)
                    && status_field(status, "PPid:").is_some_and(|parent| tree.contains(&parent))
                {
                    tree.push(pid.clone());
                }
            }
            if tree.len() == before {
                break;
            }
        }
        for (pid, status) in &statuses {
            if tree.contains(pid) && status_field(status, "Name:").as_deref() == Some(name) {
                let hwm = status_field(status, "VmHWM:").and_then(|v| v.parse::<u64>().ok());
                peak = peak.max(hwm.unwrap_or(0));
            }
        }
        for pid in tree {
            if !seen.contains(&pid) {
                seen.push(pid);
            }
        }
        if child.try_wait().ok().flatten().is_some() {
            // What it started (its browser) may still be closing: wait, so that the next round
            // measured does not share the machine with it.
            let deadline = Instant::now() + std::time::Duration::from_secs(60);
            while Instant::now() < deadline
                && seen
                    .iter()
                    .any(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
            {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            return peak;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The size of a folder's files, in bytes.
fn size_of(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => size_of(&e.path()),
                    _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The floor of a round: fetching every page (16 at a time, as the rounds do) and parsing it,
/// selecting the same element; nothing extracted to Markdown, nothing recorded.
fn floor(port: u16, documents: usize) -> f64 {
    use futures_util::StreamExt;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        futures_util::stream::iter(0..documents)
            .map(|index| {
                let client = client.clone();
                async move {
                    let body = client
                        .get(format!("http://127.0.0.1:{port}/doc/{index}"))
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap();
                    tokio::task::spawn_blocking(move || {
                        let html = scraper::Html::parse_document(&body);
                        let main = scraper::Selector::parse("main").unwrap();
                        html.select(&main).count()
                    })
                    .await
                    .unwrap()
                }
            })
            .buffer_unordered(16)
            .for_each(|_| async {})
            .await;
    });
    started.elapsed().as_secs_f64()
}

/// Runs one `policydiff track` round in `dir` on the pages served at `port`, between two
/// measures of their floor; prints and returns its time (s) and peak RSS (kB).
fn round(dir: &std::path::Path, name: &str, documents: usize, port: u16) -> (f64, u64) {
    let floor_before = floor(port, documents);
    let started = Instant::now();
    // `POLICYDIFF_BENCH_PROFILE=DIR`: each round runs under `perf record` (call graphs from
    // DWARF), its profile written to DIR/<first word of the round's name>.perf; the peak RSS is
    // then perf's.
    let mut command = match std::env::var_os("POLICYDIFF_BENCH_PROFILE") {
        Some(profiles) => {
            let mut perf = std::process::Command::new("perf");
            let file = std::path::Path::new(&profiles).join(format!(
                "{}.perf",
                name.split_whitespace().next().unwrap_or("round")
            ));
            perf.args([
                "record",
                "-q",
                "-F",
                "499",
                "--call-graph",
                "dwarf,16384",
                "-o",
            ])
            .arg(file)
            .arg("--")
            .arg(binary());
            perf
        }
        None => std::process::Command::new(binary()),
    };
    let mut child = command
        .current_dir(dir)
        .args(["track", "-q", "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run policydiff");
    // The report is read beside, so that a large one never blocks the child on a full pipe.
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut bytes).map(|_| bytes)
    });
    let usage = usage_of(&mut child);
    let (peak_kb, anonymous_kb) = (usage.peak_kb, usage.anonymous_kb);
    let elapsed = started.elapsed();
    let stdout = reader.join().expect("reader").expect("report");
    let report: serde_json::Value = serde_json::from_slice(&stdout).expect("JSON report");
    let floor_after = floor(port, documents);
    let floor_seconds = (floor_before + floor_after) / 2.0;
    println!(
        "floor: {documents} pages fetched and parsed in {floor_before:.2}s before the round and {floor_after:.2}s after"
    );
    println!(
        "{name}: {} documents in {:.2}s = {:.0} documents/s ({:.1}× the floor); recorded {}, unchanged {}, failed {}; CPU {:.2}s ({:.0}% of a core); peak RSS {} MB (anonymous {} MB); .git {:.1} MB",
        documents,
        elapsed.as_secs_f64(),
        documents as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() / floor_seconds,
        report["recorded"],
        report["unchanged"],
        report["failed"],
        usage.cpu_seconds,
        100.0 * usage.cpu_seconds / elapsed.as_secs_f64(),
        peak_kb / 1024,
        anonymous_kb / 1024,
        size_of(&dir.join("snapshots/.git")) as f64 / 1e6
    );
    (elapsed.as_secs_f64(), peak_kb)
}

/// OTA's engine installed in `POLICYDIFF_BENCH_OTA` (a folder where
/// `npm install --ignore-scripts @opentermsarchive/engine` was run), if set.
fn ota_engine() -> Option<std::path::PathBuf> {
    let dir = std::path::PathBuf::from(std::env::var_os("POLICYDIFF_BENCH_OTA")?);
    let bin = dir.join("node_modules/@opentermsarchive/engine/bin/ota.js");
    bin.exists().then_some(bin)
}

/// Runs one round of OTA's engine (`ota track`) in `dir` over the same declarations, side by
/// side with policydiff's round that took `ours` (seconds, peak kB).
fn ota_round(engine: &std::path::Path, dir: &std::path::Path, name: &str, ours: (f64, u64)) {
    let started = Instant::now();
    let mut child = std::process::Command::new("node")
        .arg(engine)
        .arg("track")
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run OTA's engine");
    let peak_kb = peak_tree_rss_kb(&mut child, "node");
    let elapsed = started.elapsed().as_secs_f64();
    let versions = std::process::Command::new("git")
        .args(["-C"])
        .arg(dir.join("data/versions"))
        .args(["rev-list", "--count", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!(
        "  OTA's engine, {name}: {elapsed:.1}s, peak RSS {} MB (its Node.js processes), {versions} versions recorded in all; policydiff {:.0}× faster with {:.0}% of its memory",
        peak_kb / 1024,
        elapsed / ours.0,
        100.0 * ours.1 as f64 / peak_kb.max(1) as f64
    );
}

/// The pages as the server sends them: gzip-compressed ahead (on every core, before anything
/// is measured) unless `POLICYDIFF_BENCH_ENCODING=identity`.
fn served_pages(pages: Vec<String>) -> Vec<common::ServedPage> {
    if std::env::var("POLICYDIFF_BENCH_ENCODING").as_deref() == Ok("identity") {
        return pages
            .into_iter()
            .map(|html| common::ServedPage {
                html: Arc::new(html),
                gzip: None,
            })
            .collect();
    }
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let chunk = pages.len().div_ceil(threads).max(1);
    let mut pages = pages.into_iter();
    let chunks: Vec<Vec<String>> = std::iter::from_fn(|| {
        let part: Vec<String> = pages.by_ref().take(chunk).collect();
        (!part.is_empty()).then_some(part)
    })
    .collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|part| {
                scope.spawn(move || {
                    part.into_iter()
                        .map(common::ServedPage::gzipped)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    })
}

/// Replaces the pages at `indexes` with what `make(index, page)` gives, made ready to serve
/// ([`served_pages`]) before they replace the old ones.
fn replace_pages(
    pages: &mut [common::ServedPage],
    indexes: impl Iterator<Item = usize>,
    make: impl Fn(usize, &common::ServedPage) -> String,
) {
    let indexes: Vec<usize> = indexes.collect();
    let made = served_pages(
        indexes
            .iter()
            .map(|&index| make(index, &pages[index]))
            .collect(),
    );
    for (index, page) in indexes.into_iter().zip(made) {
        pages[index] = page;
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let documents = documents();
    let services = documents.div_ceil(10);
    let pages: Vec<common::ServedPage> = served_pages(
        (0..documents)
            .map(|i| support::seeded_policy_page(100_000, i as u32))
            .collect(),
    );
    let pages = Arc::new(RwLock::new(pages));
    let served = pages.clone();
    // Once set, every response carries a token of its own (as pages with CSRF tokens or nonces
    // do): the bytes differ at each fetch while the text does not.
    let tokens = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let served_tokens = tokens.clone();
    let port = common::serve_pages(move |path| {
        let index: usize = path.trim_start_matches("/doc/").parse().unwrap_or(0);
        let page = served.read().unwrap()[index.min(documents - 1)].clone();
        match served_tokens.load(std::sync::atomic::Ordering::SeqCst) {
            0 => page,
            _ => {
                let token = served_tokens.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                common::ServedPage {
                    html: Arc::new(page.html.replacen(
                        "</title>",
                        &format!("</title><meta name=\"csrf-token\" content=\"{token:016x}\">"),
                        1,
                    )),
                    gzip: None,
                }
            }
        }
    });
    let declarations: Vec<serde_json::Value> = (0..services)
        .map(|service| {
            let mut terms = serde_json::Map::new();
            for (t, terms_type) in TERMS.iter().enumerate() {
                let index = service * TERMS.len() + t;
                if index >= documents {
                    break;
                }
                terms.insert(
                    terms_type.to_string(),
                    serde_json::json!({"fetch": format!("http://127.0.0.1:{port}/doc/{index}"), "select": "main", "remove": ".cookie-banner"}),
                );
            }
            serde_json::json!({"name": format!("Service {service}"), "terms": terms})
        })
        .collect();
    // `POLICYDIFF_BENCH_WORKING_TREE=false`: record into git only (`record.working_tree`).
    let record = match std::env::var("POLICYDIFF_BENCH_WORKING_TREE").as_deref() {
        Ok("false") => "record:\n  working_tree: false\n",
        _ => "",
    };
    let dir = common::Workspace::with_config(&format!(
        "fetch:\n  allow_private_addresses: true\n  per_host_delay: 0s\n  per_host: 16\n  concurrency: 16\n{record}"
    ));
    for declaration in &declarations {
        dir.declare_value(declaration);
    }
    // OTA's engine, side by side, on the same site and declarations (first and edited rounds).
    let ota = ota_engine().map(|engine| {
        let ota_dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(ota_dir.path().join("declarations")).unwrap();
        for declaration in &declarations {
            let name = declaration["name"].as_str().unwrap();
            std::fs::write(
                ota_dir.path().join(format!("declarations/{name}.json")),
                declaration.to_string(),
            )
            .unwrap();
        }
        (engine, ota_dir)
    });
    let ours = round(dir.path(), "first round", documents, port);
    if let Some((engine, ota_dir)) = &ota {
        ota_round(engine, ota_dir.path(), "first round", ours);
    }
    if rounds() < 2 {
        return;
    }
    {
        let mut pages = pages.write().unwrap();
        replace_pages(&mut pages, (0..documents).step_by(10), |index, page| {
            support::edited_policy_page(&page.html, index as u32)
        });
    }
    let ours = round(dir.path(), "second round (10% edited)", documents, port);
    if let Some((engine, ota_dir)) = &ota {
        ota_round(engine, ota_dir.path(), "second round", ours);
    }
    {
        let mut pages = pages.write().unwrap();
        replace_pages(&mut pages, (5..documents).step_by(10), |index, _| {
            support::seeded_policy_page(100_000, 1_000_000 + index as u32)
        });
    }
    round(dir.path(), "third round (10% rewritten)", documents, port);
    tokens.store(1, std::sync::atomic::Ordering::SeqCst);
    round(
        dir.path(),
        "fourth round (nothing changed, a token in every page: every page extracted)",
        documents,
        port,
    );
    // What a full repack makes of the same history (on a copy); long on large histories, so
    // `POLICYDIFF_BENCH_SKIP_GC=1` leaves it out.
    if std::env::var_os("POLICYDIFF_BENCH_SKIP_GC").is_some() {
        return;
    }
    let copy = tempfile::tempdir().unwrap();
    let cloned = std::process::Command::new("git")
        .args(["clone", "-q", "--mirror"])
        .arg(dir.path().join("snapshots"))
        .arg(copy.path().join("repo.git"))
        .status()
        .unwrap();
    let gc = std::process::Command::new("git")
        .arg("-C")
        .arg(copy.path().join("repo.git"))
        .args(["gc", "-q", "--aggressive", "--prune=now"])
        .status()
        .unwrap();
    if cloned.success() && gc.success() {
        let ours = size_of(&dir.path().join("snapshots/.git")) as f64;
        let packed = size_of(&copy.path().join("repo.git")) as f64;
        println!(
            ".git: {:.1} MB; after git gc --aggressive: {:.1} MB ({:.2}×)",
            ours / 1e6,
            packed / 1e6,
            ours / packed
        );
    }
}
