//! Audit commands on large histories: a generated repository of 100,000 commits (1,000 documents
//! of 100 services, 100 versions each, one document changed per commit, in OTA's layout) and,
//! when `../shared` is there, the genai-eu-versions corpus.
//!
//! Prints, for one document: the first read of history (the history index is built), a read by
//! a new process once the index exists, and the wall time of `policydiff log`, `show --at` and
//! `diff` run as commands. `POLICYDIFF_AUDIT_COMMITS` changes the size (default 100,000); the
//! generated repository is kept in `target/` and reused. `POLICYDIFF_BENCH_BINARY=PATH` runs the
//! commands of another build of policydiff (to compare two builds at the same hour).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use policydiff::audit::History;
use policydiff::record::VersionsRepository;

const SERVICES: usize = 100;
const TERMS: [&str; 10] = [
    "Privacy Policy",
    "Terms of Service",
    "Cookies Policy",
    "Community Guidelines",
    "Data Processing Agreement",
    "Copyright Claims Policy",
    "Acceptable Use Policy",
    "Developer Terms",
    "Commercial Terms",
    "Law Enforcement Guidelines",
];

fn text(document: usize, version: usize) -> String {
    let mut out = format!("# Policy of document {document}\n\n");
    for line in 0..40 {
        // Each version rewrites one clause; the others stay.
        let revision = if line == version % 40 { version } else { 0 };
        out.push_str(&format!(
            "Clause {line}: we process information about you for purpose {line} (revision {revision}).\n\n"
        ));
    }
    out
}

/// Writes `commits` commits into a new repository, packing objects in memory as it goes
/// (loose objects would take minutes and gigabytes).
fn generate(path: &Path, commits: usize) -> Result<(), git2::Error> {
    let repo = git2::Repository::init(path)?;
    let odb = repo.odb()?;
    let mempack = odb.add_new_mempack_backend(1000)?;
    let signature_at = |seconds: i64| {
        git2::Signature::new("bench", "bench@localhost", &git2::Time::new(seconds, 0))
    };
    let documents = SERVICES * TERMS.len();
    let mut service_trees: Vec<Option<git2::Oid>> = vec![None; SERVICES];
    let mut root: Option<git2::Oid> = None;
    let mut parent: Option<git2::Oid> = None;
    let start = 1_500_000_000i64;
    for n in 0..commits {
        let document = n % documents;
        let version = n / documents;
        let (service, terms) = (document / TERMS.len(), TERMS[document % TERMS.len()]);
        let blob = repo.blob(text(document, version).as_bytes())?;
        let existing = service_trees[service]
            .map(|id| repo.find_tree(id))
            .transpose()?;
        let mut builder = repo.treebuilder(existing.as_ref())?;
        builder.insert(format!("{terms}.md"), blob, 0o100644)?;
        let service_tree = builder.write()?;
        service_trees[service] = Some(service_tree);
        let existing_root = root.map(|id| repo.find_tree(id)).transpose()?;
        let mut builder = repo.treebuilder(existing_root.as_ref())?;
        builder.insert(format!("Service {service:03}"), service_tree, 0o040000)?;
        let root_id = builder.write()?;
        root = Some(root_id);
        let subject = if version == 0 {
            format!("First record of Service {service:03} {terms}")
        } else {
            format!("Record new changes of Service {service:03} {terms}")
        };
        let message = format!(
            "{subject}\n\nThis version was generated for a benchmark.\n\nX-engine-version: 0.0.0\n"
        );
        let signature = signature_at(start + n as i64 * 600)?;
        let parents: Vec<git2::Commit<'_>> = parent
            .map(|id| repo.find_commit(id))
            .transpose()?
            .into_iter()
            .collect();
        let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let tree = repo.find_tree(root_id)?;
        parent = Some(repo.commit(None, &signature, &signature, &message, &tree, &parent_refs)?);
        if (n + 1) % 20_000 == 0 || n + 1 == commits {
            let mut pack = git2::Buf::new();
            mempack.dump(&repo, &mut pack)?;
            let mut writer = odb.packwriter()?;
            writer
                .write_all(&pack)
                .map_err(|e| git2::Error::from_str(&e.to_string()))?;
            writer.commit()?;
            mempack.reset()?;
        }
    }
    if let Some(tip) = parent {
        repo.reference("refs/heads/generated", tip, true, "bench")?;
        repo.set_head("refs/heads/generated")?;
    }
    Ok(())
}

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed())
}

fn command(args: &[&str]) -> Duration {
    let started = Instant::now();
    let binary = std::env::var_os("POLICYDIFF_BENCH_BINARY")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_policydiff").into());
    let output = Command::new(binary)
        .args(args)
        .output()
        .expect("run policydiff");
    let elapsed = started.elapsed();
    assert!(
        // verify says 1 when it finds problems (the genai corpus has two template commits).
        matches!(output.status.code(), Some(0 | 1)),
        "policydiff {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

fn measure(label: &str, path: &Path, service: &str, terms: &str) {
    let index = path.join(".git/policydiff-history.jsonl");
    let _ = std::fs::remove_file(&index);
    let repository = VersionsRepository::open(path).unwrap();
    let (history, cold) = time(|| History::read(&repository, None, Some((service, Some(terms)))));
    let versions = history.unwrap().log(None, None).len();
    let repository = VersionsRepository::open(path).unwrap();
    let (history, warm) = time(|| History::read(&repository, None, Some((service, Some(terms)))));
    let history = history.unwrap();
    let log = history.log(None, None);
    let (newest, oldest) = (log[0].date, log[log.len() - 1].date);
    let middle = oldest + (newest - oldest) / 2;
    let at = middle.format("%Y-%m-%d").to_string();
    let (_, show_in_process) = time(|| {
        let version = history.in_force_at(service, terms, middle).unwrap();
        history.text(version).unwrap()
    });
    let repo = path.to_str().unwrap();
    let log = command(&["log", service, terms, "--repo", repo]);
    let show = command(&["show", service, terms, "--at", &at, "--repo", repo]);
    let diff = command(&[
        "diff", service, terms, "--from", &at, "--to", "HEAD", "--repo", repo,
    ]);
    let json = command(&["log", "--json", "--repo", repo]);
    let verify = command(&["verify", "--repo", repo]);
    println!(
        "{label}: {service} / {terms} ({versions} versions)\n  \
         first read (builds the index): {cold:.2?}\n  \
         read with the index: {warm:.2?}; text in force at {at}: {show_in_process:.2?}\n  \
         commands: log {log:.2?}, show --at {show:.2?}, diff {diff:.2?}; log --json of every document {json:.2?}; verify {verify:.2?}"
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let commits: usize = std::env::var("POLICYDIFF_AUDIT_COMMITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("audit-{commits}"));
    if !path.join(".git/refs/heads/generated").exists() {
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        let (result, took) = time(|| generate(&path, commits));
        result.unwrap();
        println!("generated {commits} commits in {took:.1?}");
    }
    measure(
        &format!("generated, {commits} commits"),
        &path,
        "Service 042",
        "Privacy Policy",
    );

    let bundle =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/genai-eu-versions.bundle");
    if bundle.exists() {
        let corpus = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("genai-eu-versions");
        if !corpus.exists() {
            let status = Command::new("git")
                .args(["clone", "--quiet"])
                .arg(&bundle)
                .arg(&corpus)
                .stderr(std::process::Stdio::null())
                .status()
                .expect("git clone");
            assert!(status.success());
        }
        measure("genai-eu-versions", &corpus, "ChatGPT", "Privacy Policy");
    }
}
