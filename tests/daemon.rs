//! `policydiff daemon` with a seconds-level schedule against a local server.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Behaviour, Server, Workspace};
use serde_json::json;

fn start_daemon(ws: &Workspace) -> Child {
    Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .arg("daemon")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn terminate(child: &Child) {
    // SIGTERM, as systemd and `kill` send it.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

fn rounds(ws: &Workspace) -> Vec<serde_json::Value> {
    std::fs::read_to_string(ws.path().join(".policydiff/runs.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn wait_until(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn workspace_with_schedule(server: &Server, cron: &str) -> Workspace {
    let ws = Workspace::new("");
    ws.append_config(&format!(
        "schedule:\n  cron: \"{cron}\"\ndaemon:\n  stop_timeout: 10s\n"
    ));
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}}),
    );
    ws
}

#[test]
fn rounds_run_on_schedule_and_sigterm_exits_cleanly() {
    let server = Server::start();
    server.set(
        "/privacy",
        Behaviour::html("<main><p>Version one.</p></main>"),
    );
    let ws = workspace_with_schedule(&server, "* * * * * *");
    let mut daemon = start_daemon(&ws);
    assert!(
        wait_until(Duration::from_secs(20), || rounds(&ws).len() >= 2),
        "two rounds ran"
    );
    server.set(
        "/privacy",
        Behaviour::html("<main><p>Version two.</p></main>"),
    );
    assert!(
        wait_until(Duration::from_secs(20), || ws.commit_count() >= 2),
        "the change was recorded by a later round"
    );
    terminate(&daemon);
    let status = daemon.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join(".policydiff/daemon.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["in_round"], false);
    // Between rounds the repository is free: a manual run works while the daemon is gone or idle.
    assert!(ws.track(&[]).status.success());
}

#[test]
fn sigterm_during_a_round_records_what_is_fetched_and_exits_0() {
    let server = Server::start();
    server.set(
        "/privacy",
        Behaviour::Delayed(
            1500,
            Box::new(Behaviour::html("<main><p>Slow page.</p></main>")),
        ),
    );
    let ws = workspace_with_schedule(&server, "* * * * * *");
    let mut daemon = start_daemon(&ws);
    assert!(
        wait_until(Duration::from_secs(20), || server.hits("/privacy") >= 1),
        "a round started fetching"
    );
    terminate(&daemon);
    let status = daemon.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "{:?}",
        daemon.stderr.take().map(|mut e| {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut e, &mut s).ok();
            s
        })
    );
    assert_eq!(
        ws.commit_count(),
        1,
        "the document fetched when the signal came was recorded"
    );
    let runs = rounds(&ws);
    assert_eq!(runs.last().unwrap()["interrupted"], true);
    let fsck = Command::new("git")
        .arg("-C")
        .arg(ws.repo())
        .args(["fsck", "--full"])
        .output()
        .unwrap();
    assert!(fsck.status.success());
}

#[test]
fn a_second_daemon_refuses_to_start() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html("<main><p>Text.</p></main>"));
    let ws = workspace_with_schedule(&server, "0 0 1 1 *");
    let mut first = start_daemon(&ws);
    assert!(wait_until(Duration::from_secs(20), || ws
        .path()
        .join(".policydiff/daemon.json")
        .exists()));
    let second = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .arg("daemon")
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already runs"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    terminate(&first);
    assert_eq!(
        first.wait().unwrap().code(),
        Some(0),
        "a daemon waiting for its next round stops at once"
    );
}

#[test]
fn status_reports_streaks_held_changes_and_memos_to_review() {
    let server = Server::start();
    server.set(
        "/privacy",
        Behaviour::html("<main><p>We collect your email.</p></main>"),
    );
    server.set("/terms", Behaviour::status(404, "gone"));
    let ws = Workspace::new("  retries: 0\n");
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}, "Terms of Service": {"fetch": server.url("/terms"), "select": "main"}}),
    );
    for round in 0..3 {
        if round == 2 {
            server.set("/privacy", Behaviour::html("<main><p>We collect your email and share it with advertising partners.</p></main>"));
        }
        ws.track(&["-q"]);
    }
    let output = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["last_round"]["recorded"], 1);
    assert_eq!(status["last_round"]["failed"], 1);
    assert_eq!(status["daemon_running"], false);
    assert!(
        status["next_round"].is_string(),
        "computed from the default schedule"
    );
    let failing = &status["failing"][0];
    assert_eq!(failing["terms_type"], "Terms of Service");
    assert_eq!(failing["error_class"], "http_status");
    assert_eq!(failing["streak"], 3);
    let memos = status["memos_to_review"].as_array().unwrap();
    assert_eq!(memos.len(), 1);
    assert_eq!(
        memos[0]["title"],
        "Example now says it collects your email and shares it with advertising partners"
    );

    let text = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .arg("status")
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("Example / Terms of Service: http_status for 3 rounds"),
        "{text}"
    );
}
