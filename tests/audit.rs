//! `log`, `show`, `diff` and `services` over a repository the test builds with `track`.

mod common;

use std::process::Command;

use common::{Behaviour, Server, Workspace, report};
use serde_json::json;

const V1: &str = "<main><h2>Data</h2><p>We collect your email.</p></main>";
const V2: &str = "<main><h2>Data</h2><p>We collect your email and your location.</p></main>";

fn run(ws: &Workspace, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[test]
fn history_of_a_document_can_be_browsed_and_compared() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(V1));
    let ws = Workspace::new("");
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}}),
    );
    let mut commits = Vec::new();
    for page in [V1, V2, V1] {
        server.set("/privacy", Behaviour::html(page));
        let r = report(&ws.track(&["--json"]));
        commits.push(r["documents"][0]["commit"].as_str().unwrap().to_string());
        std::thread::sleep(std::time::Duration::from_millis(1100)); // distinct commit seconds
    }

    let log: serde_json::Value = serde_json::from_str(&stdout(&run(
        &ws,
        &["log", "Example", "Privacy Policy", "--json"],
    )))
    .unwrap();
    let kinds = common::log_kinds(log.to_string().as_bytes());
    assert_eq!(kinds, ["revert", "new_changes", "first_record"]);
    assert_eq!(log[1]["commit"], commits[1].as_str());
    assert_eq!(log[1]["lines_added"], 1);
    assert_eq!(log[1]["lines_removed"], 1);
    assert!(
        log[0]["fetched_at"].is_string(),
        "from the Fetched-At trailer"
    );

    // The text in force at a date, and at a commit.
    let second_date = log[1]["date"].as_str().unwrap().to_string();
    let shown = stdout(&run(
        &ws,
        &["show", "Example", "Privacy Policy", "--at", &second_date],
    ));
    assert_eq!(
        shown,
        "Data\n----\n\nWe collect your email and your location."
    );
    let shown = stdout(&run(
        &ws,
        &["show", "Example", "Privacy Policy", "--commit", &commits[0]],
    ));
    assert_eq!(shown, "Data\n----\n\nWe collect your email.");
    let before_anything = run(
        &ws,
        &["show", "Example", "Privacy Policy", "--at", "2001-01-01"],
    );
    assert_eq!(
        before_anything.status.code(),
        Some(2),
        "nothing was in force then"
    );

    // Changes between two points.
    let diff = stdout(&run(
        &ws,
        &[
            "diff",
            "Example",
            "Privacy Policy",
            "--from",
            &commits[0],
            "--to",
            &commits[1],
        ],
    ));
    assert!(
        diff.contains("-We collect your email.\n")
            && diff.contains("+We collect your email and your location."),
        "{diff}"
    );
    let words = stdout(&run(
        &ws,
        &[
            "diff",
            "Example",
            "Privacy Policy",
            "--from",
            &commits[0],
            "--to",
            &commits[1],
            "--words",
        ],
    ));
    assert!(
        words.contains("{+and+}") && words.contains("{+location.+}"),
        "{words}"
    );
    let html = stdout(&run(
        &ws,
        &[
            "diff",
            "Example",
            "Privacy Policy",
            "--from",
            &commits[0],
            "--to",
            &commits[1],
            "--format",
            "html",
        ],
    ));
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains("<mark>") && html.contains("location"),
        "{html}"
    );

    let services: serde_json::Value =
        serde_json::from_str(&stdout(&run(&ws, &["services", "--json"]))).unwrap();
    assert_eq!(services[0]["versions"], 3);
    assert_eq!(services[0]["service"], "Example");
}

#[test]
#[ignore = "needs ../shared/corpora"]
fn an_ota_versions_repository_can_be_audited() {
    let dir = tempfile::tempdir().unwrap();
    common::clone_corpus_bundle("genai-eu-versions.bundle", &dir.path().join("v"));
    let repo = dir.path().join("v");
    let repo = repo.to_str().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .args(["services", "--json", "--repo", repo])
        .output()
        .unwrap();
    let services: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(services.as_array().unwrap().len() > 50);
    let out = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .args([
            "show",
            "Meta AI",
            "Terms of Service",
            "--at",
            "2026-02-01",
            "--repo",
            repo,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let expected = Command::new("git")
        .args(["-C", repo, "show", "bb1bd257dd:Meta AI/Terms of Service.md"])
        .output()
        .unwrap();
    assert_eq!(
        text.as_bytes(),
        &expected.stdout[..],
        "the version recorded on 2026-01-21 was in force on 2026-02-01"
    );

    // verify: the only irregularities are the two commits of OTA's repository template (the
    // example documents it starts with, then deletes); every recorded version is sound.
    let out = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .args(["verify", "--json", "--repo", repo])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let verification: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let subject = |commit: &str| {
        let out = Command::new("git")
            .args(["-C", repo, "log", "-1", "--format=%s", commit])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let mut subjects: Vec<String> = verification["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| subject(p["commit"].as_str().unwrap()))
        .collect();
    subjects.dedup();
    assert_eq!(
        subjects,
        ["Initial commit", "Adapt template automatically"],
        "{verification}"
    );
    assert!(verification["version_commits"].as_u64().unwrap() > 1000);

    // export: one file per version of every document.
    let versions = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .args(["log", "--json", "--repo", repo])
        .output()
        .unwrap();
    let versions: serde_json::Value = serde_json::from_slice(&versions.stdout).unwrap();
    let zip_path = dir.path().join("dataset.zip");
    let out = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .args([
            "export",
            "--repo",
            repo,
            "--out",
            zip_path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md_files = version_files_in(&zip_path);
    assert_eq!(md_files, versions.as_array().unwrap().len());
}

/// The version files of a dataset archive (`<name>/<service>/<terms type>/<date>.md`).
fn version_files_in(zip_path: &std::path::Path) -> usize {
    let archive = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    archive
        .file_names()
        .filter(|n| n.as_ref().unwrap().matches('/').count() == 3)
        .count()
}

/// A repository with two documents and two versions of one, recorded by `track`.
fn tracked_repository(server: &Server) -> Workspace {
    let ws = Workspace::privacy_and_terms(server, V1);
    report(&ws.track(&["--json"]));
    std::thread::sleep(std::time::Duration::from_millis(1100));
    server.set("/privacy", Behaviour::html(V2));
    report(&ws.track(&["--json"]));
    ws
}

fn verify_json(ws: &Workspace) -> (Option<i32>, serde_json::Value) {
    let output = run(ws, &["verify", "--json"]);
    (
        output.status.code(),
        serde_json::from_slice(&output.stdout).unwrap(),
    )
}

fn problems_of_kind<'a>(
    verification: &'a serde_json::Value,
    kind: &str,
) -> Vec<&'a serde_json::Value> {
    verification["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["kind"] == kind)
        .collect()
}

#[test]
fn a_recorded_repository_verifies_clean_and_tampering_is_found() {
    let server = Server::start();
    let ws = tracked_repository(&server);
    let (code, clean) = verify_json(&ws);
    assert_eq!(code, Some(0), "{clean}");
    assert_eq!(clean["version_commits"], 3);
    assert!(clean["objects"].as_u64().unwrap() >= 9);
    let text = stdout(&run(&ws, &["verify"]));
    assert!(text.ends_with("no problem found\n"), "{text}");

    let repo = git2::Repository::open(ws.path().join("snapshots")).unwrap();
    let signature = git2::Signature::now("someone", "someone@example.org").unwrap();
    let commit_tree = |message: &str, edit: &dyn Fn(&mut git2::build::TreeUpdateBuilder)| {
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        let mut update = git2::build::TreeUpdateBuilder::new();
        edit(&mut update);
        let tree = update.create_updated(&repo, &head.tree().unwrap()).unwrap();
        let tree = repo.find_tree(tree).unwrap();
        repo.commit(
            Some("HEAD"),
            &signature,
            &signature,
            message,
            &tree,
            &[&head],
        )
        .unwrap()
    };
    // A version commit that looks like policydiff's but has no Fetched-At trailer.
    let blob = repo.blob(b"Terms, edited by hand.").unwrap();
    let unsigned = commit_tree(
        "Record new changes of Example Terms of Service\n\nSource-URL: http://127.0.0.1/terms\nDeclaration-SHA256: 0000000000000000000000000000000000000000000000000000000000000000\nEngine: policydiff 0.1.0\n",
        &|update| {
            update.upsert("Example/Terms of Service.md", blob, git2::FileMode::Blob);
        },
    );
    // A commit that deletes a document's text.
    let deleting = commit_tree("Tidy up", &|update| {
        update.remove("Example/Privacy Policy.md");
    });
    // A corrupted object: the first version's text, overwritten on disk. The
    // first round's two documents are committed in the order they finish, so
    // the first version is found by walking the history from its root.
    let mut walk = repo.revwalk().unwrap();
    walk.push_head().unwrap();
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
        .unwrap();
    let first_version = walk
        .map(|id| repo.find_commit(id.unwrap()).unwrap())
        .find_map(|commit| {
            let tree = commit.tree().unwrap();
            let entry = tree.get_path(std::path::Path::new("Example/Privacy Policy.md"));
            entry.ok().map(|entry| entry.id().to_string())
        })
        .unwrap();
    // Its bytes in the pack that holds it (tracking writes packs), overwritten in the middle of
    // its compressed content.
    let pack_dir = ws.path().join("snapshots/.git/objects/pack");
    let (pack, offset) = std::fs::read_dir(&pack_dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "idx"))
        .find_map(|idx| {
            let listing = std::process::Command::new("git")
                .args(["verify-pack", "-v"])
                .arg(&idx)
                .output()
                .unwrap();
            String::from_utf8_lossy(&listing.stdout)
                .lines()
                .find(|line| line.starts_with(&first_version))
                .map(|line| {
                    let fields: Vec<&str> = line.split_whitespace().collect();
                    (
                        idx.with_extension("pack"),
                        fields[4].parse::<usize>().unwrap(),
                    )
                })
        })
        .expect("the first version is in a pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    for byte in &mut bytes[offset + 4..offset + 12] {
        *byte ^= 0x5a;
    }
    let mut permissions = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&pack, permissions).unwrap();
    std::fs::write(&pack, &bytes).unwrap();

    let (code, tampered) = verify_json(&ws);
    assert_eq!(code, Some(1), "{tampered}");
    let missing = problems_of_kind(&tampered, "missing_trailer");
    assert_eq!(missing.len(), 1, "{tampered}");
    assert_eq!(missing[0]["commit"], unsigned.to_string());
    assert!(
        missing[0]["detail"]
            .as_str()
            .unwrap()
            .contains("Fetched-At")
    );
    let deleted = problems_of_kind(&tampered, "deleted_document");
    assert_eq!(deleted.len(), 1, "{tampered}");
    assert_eq!(deleted[0]["commit"], deleting.to_string());
    assert_eq!(deleted[0]["path"], "Example/Privacy Policy.md");
    let corrupt = problems_of_kind(&tampered, "corrupt_object");
    assert!(
        corrupt
            .iter()
            .any(|p| p["detail"].as_str().unwrap().contains(&first_version)),
        "{tampered}"
    );
    let text = String::from_utf8(run(&ws, &["verify"]).stdout).unwrap();
    assert!(
        text.contains("deleted_document:") && text.contains("problems\n"),
        "{text}"
    );
}

#[test]
fn export_writes_a_dataset_of_every_version() {
    let server = Server::start();
    let ws = tracked_repository(&server);
    let log: serde_json::Value =
        serde_json::from_str(&stdout(&run(&ws, &["log", "--json"]))).unwrap();
    let out = ws.path().join("dataset.zip");
    stdout(&run(
        &ws,
        &[
            "export",
            "--out",
            out.to_str().unwrap(),
            "--name",
            "Example collection",
        ],
    ));

    let mut archive = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let names: Vec<String> = archive
        .file_names()
        .map(|name| name.unwrap().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "a README and three versions: {names:?}");
    let mut readme = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("example-collection/README.md").unwrap(),
        &mut readme,
    )
    .unwrap();
    assert!(
        readme.contains("2 documents of 1 services, 3 versions"),
        "{readme}"
    );
    for entry in log.as_array().unwrap() {
        let date: chrono::DateTime<chrono::Utc> = entry["date"].as_str().unwrap().parse().unwrap();
        let name = format!(
            "example-collection/{}/{}/{}",
            entry["service"].as_str().unwrap(),
            entry["terms_type"].as_str().unwrap(),
            date.format("%Y-%m-%dT%H-%M-%SZ.md")
        );
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(&name).unwrap(), &mut text).unwrap();
        let shown = stdout(&run(
            &ws,
            &[
                "show",
                entry["service"].as_str().unwrap(),
                entry["terms_type"].as_str().unwrap(),
                "--commit",
                entry["commit"].as_str().unwrap(),
            ],
        ));
        assert_eq!(text, shown, "{name}");
    }

    // --since keeps only the later versions; the same options give the same bytes.
    let newest = log[0]["date"].as_str().unwrap();
    let since = ws.path().join("since.zip");
    stdout(&run(
        &ws,
        &[
            "export",
            "--out",
            since.to_str().unwrap(),
            "--since",
            newest,
        ],
    ));
    let archive = zip::ZipArchive::new(std::fs::File::open(&since).unwrap()).unwrap();
    assert_eq!(archive.len(), 2, "README and the newest version");
    let again = ws.path().join("again.zip");
    stdout(&run(
        &ws,
        &[
            "export",
            "--out",
            again.to_str().unwrap(),
            "--since",
            newest,
        ],
    ));
    assert_eq!(
        std::fs::read(&since).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

/// An OTA-style versions repository written with git itself, in `<temporary folder>/versions`:
/// `(subject, text, date)` per commit of `Example/Privacy Policy.md`.
fn ota_repository(commits: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("versions");
    std::fs::create_dir_all(repo.join("Example")).unwrap();
    let git = |args: &[&str], date: &str| {
        let output = std::process::Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .env("GIT_AUTHOR_NAME", "OTA-Bot")
            .env("GIT_AUTHOR_EMAIL", "bot@opentermsarchive.org")
            .env("GIT_COMMITTER_NAME", "OTA-Bot")
            .env("GIT_COMMITTER_EMAIL", "bot@opentermsarchive.org")
            .output()
            .unwrap();
        assert!(output.status.success(), "git {args:?}: {output:?}");
    };
    git(&["init", "-q", "-b", "main"], "2024-01-01T00:00:00Z");
    for (subject, text, date) in commits {
        std::fs::write(repo.join("Example/Privacy Policy.md"), text).unwrap();
        git(&["add", "-A"], date);
        // A subject ending in a newline carries its own body (an older engine's signature).
        let message = match subject.split_once('\n') {
            Some((subject, body)) => format!("{subject} Example Privacy Policy\n\n{body}"),
            None => format!("{subject} Example Privacy Policy\n\nX-engine-version: 9.1.0"),
        };
        git(&["commit", "-q", "-m", &message], date);
    }
    dir
}

#[test]
fn export_names_every_version_once_when_dates_repeat_or_go_back() {
    // OTA's engine records several versions within one second, a technical upgrade keeps the
    // date of the version it re-extracts, and dates can go back.
    let repo = ota_repository(&[
        ("First record of", "v1", "2024-05-01T08:00:00Z"),
        ("Record new changes of", "v2", "2024-05-01T08:00:00Z"),
        (
            "Apply technical or declaration upgrade on",
            "v2 upgraded",
            "2024-05-01T08:00:00Z",
        ),
        ("Record new changes of", "v3", "2024-05-01T07:59:00Z"),
        ("Record new changes of", "v4", "2024-05-01T08:00:00Z"),
    ]);
    let out = repo.path().join("dataset.zip");
    let export = |out: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .args(["export", "--repo"])
            .arg(repo.path().join("versions"))
            .arg("--out")
            .arg(out)
            .args(["--name", "repeat"])
            .output()
            .unwrap()
    };
    let output = export(&out);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
    let names: Vec<String> = archive
        .file_names()
        .map(|name| name.unwrap().into_owned())
        .collect();
    let folder = "repeat/Example/Privacy Policy";
    assert_eq!(
        names[1..],
        [
            format!("{folder}/2024-05-01T08-00-00Z.md"),
            format!("{folder}/2024-05-01T08-00-00Z-2.md"),
            format!("{folder}/2024-05-01T08-00-00Z-3.md"),
            format!("{folder}/2024-05-01T07-59-00Z.md"),
            format!("{folder}/2024-05-01T08-00-00Z-4.md"),
        ],
        "in history order, each name once"
    );
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut archive
            .by_name(&format!("{folder}/2024-05-01T08-00-00Z-4.md"))
            .unwrap(),
        &mut text,
    )
    .unwrap();
    assert_eq!(text, "v4");
    let again = repo.path().join("again.zip");
    assert!(export(&again).status.success());
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn versions_of_ota_engines_before_2023_are_attributed_and_named() {
    let snapshot = "This version was recorded after filtering snapshot https://github.com/OpenTermsArchive/pga-snapshots/commit/1dff6490c87a020f24523283fb85d3f464d3cbdc";
    let start = format!("Start tracking\n{snapshot}");
    let update = format!("Update\n{snapshot}");
    let refilter = format!("Refilter\n{snapshot}");
    let repo = ota_repository(&[
        (&start, "We collect data.", "2022-04-20T10:00:00Z"),
        (&update, "We collect more data.", "2022-05-20T10:00:00Z"),
        (&refilter, "We collect more data!", "2022-06-20T10:00:00Z"),
    ]);
    let versions = repo.path().join("versions");
    let run_on = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .args(args)
            .arg("--repo")
            .arg(&versions)
            .output()
            .unwrap()
    };
    let verify = run_on(&["verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let log = run_on(&["log", "--json"]);
    assert_eq!(
        common::log_kinds(&log.stdout),
        ["technical_upgrade", "new_changes", "first_record"]
    );
}

#[test]
#[ignore = "needs ../shared/corpora"]
fn a_large_ota_repository_of_older_engines_is_audited_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    common::clone_corpus_bundle("memo-devset/pga-versions.bundle", &dir.path().join("pga"));
    let repo = dir.path().join("pga");
    let repo = repo.to_str().unwrap();
    let policydiff = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .args(args)
            .args(["--repo", repo])
            .output()
            .unwrap()
    };
    // Every version commit is attributed to an engine (OTA's older ones sign in the body); what
    // remains are facts of this history a reviewer must see: dates that go back within a
    // document, and one document a person deleted.
    let out = policydiff(&["verify", "--json"]);
    let verification: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: std::collections::BTreeSet<&str> = verification["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["date_goes_back", "deleted_document"].into(),
        "{verification}"
    );
    assert!(verification["version_commits"].as_u64().unwrap() > 4000);

    let log = policydiff(&["log", "--json"]);
    assert!(log.status.success());
    let entries: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    let entries = entries.as_array().unwrap();
    let technical = entries
        .iter()
        .filter(|e| e["kind"] == "technical_upgrade")
        .count();
    assert!(
        technical > 250,
        "Refilter and Apply technical… commits: {technical}"
    );

    let zip_path = dir.path().join("pga.zip");
    let out = policydiff(&["export", "--out", zip_path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md_files = version_files_in(&zip_path);
    assert_eq!(md_files, entries.len());

    // Every document can be shown and diffed from its first to its last version.
    let services = policydiff(&["services", "--json"]);
    let services: serde_json::Value = serde_json::from_slice(&services.stdout).unwrap();
    for document in services.as_array().unwrap().iter().step_by(10) {
        let (service, terms) = (
            document["service"].as_str().unwrap(),
            document["terms_type"].as_str().unwrap(),
        );
        let first = document["first"].as_str().unwrap();
        let out = policydiff(&["diff", service, terms, "--from", first]);
        assert!(
            out.status.success(),
            "diff {service} {terms}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = policydiff(&["show", service, terms]);
        assert!(out.status.success(), "show {service} {terms}");
    }
}
