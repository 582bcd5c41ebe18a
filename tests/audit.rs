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
    let kinds: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
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
    let bundle = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora/genai-eu-versions.bundle");
    assert!(
        Command::new("git")
            .args(["clone", "-q"])
            .arg(bundle)
            .arg(dir.path().join("v"))
            .status()
            .unwrap()
            .success()
    );
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
}
