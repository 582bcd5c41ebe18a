//! Publishing the versions: rounds push to a real remote on this machine — a bare repository
//! by path, and one served by `git daemon` on 127.0.0.1 — and a remote that fails or has
//! diverged never costs a recorded version.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Behaviour, Server, Workspace, report, stderr};
use serde_json::json;

const V1: &str = "<html><body><main><h1>Privacy Policy</h1><p>We collect your email address.</p></main></body></html>";
const V2: &str = "<html><body><main><h1>Privacy Policy</h1><p>We collect your email address.</p><p>We use your conversations with our assistant to train our AI models.</p></main></body></html>";
const V3: &str = "<html><body><main><h1>Privacy Policy</h1><p>We collect your email address and phone number.</p><p>We use your conversations with our assistant to train our AI models.</p></main></body></html>";

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

fn bare_repository(path: &Path) {
    let status = Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// A workspace tracking one page, publishing to `remote`.
fn workspace(server: &Server, remote: &str) -> Workspace {
    server.set("/privacy", Behaviour::html(V1));
    let ws = Workspace::new("");
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}}),
    );
    ws.append_config(&format!("publish:\n  remote: '{remote}'\n  branch: main\n"));
    ws
}

/// The remote's branch is the versions repository's branch, commit for commit.
fn assert_remote_has_the_tip(remote: &Path, ws: &Workspace) {
    assert_eq!(
        git(remote, &["rev-parse", "main"]),
        git(&ws.repo(), &["rev-parse", "HEAD"])
    );
}

fn publish_of(output: &std::process::Output) -> serde_json::Value {
    report(output)["publish"].clone()
}

#[test]
fn rounds_push_their_versions_to_a_bare_repository() {
    let remotes = tempfile::tempdir().unwrap();
    let remote = remotes.path().join("versions.git");
    bare_repository(&remote);
    let server = Server::start();
    let ws = workspace(&server, remote.to_str().unwrap());

    let first = ws.track(&["--json"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let publish = publish_of(&first);
    assert_eq!(publish["status"], "pushed", "{publish}");
    assert_eq!(publish["commits"], 1);
    assert_remote_has_the_tip(&remote, &ws);

    server.set("/privacy", Behaviour::html(V2));
    let second = ws.track(&[]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("publish: pushed 1 commit to"),
        "{}",
        stderr(&second)
    );
    assert_remote_has_the_tip(&remote, &ws);
    assert_eq!(git(&remote, &["rev-list", "--count", "main"]), "2");
    // What the remote holds is the recorded text, as recorded.
    assert_eq!(
        git(&remote, &["show", "main:Example/Privacy Policy.md"]),
        git(&ws.repo(), &["show", "HEAD:Example/Privacy Policy.md"])
    );

    // A round that records nothing has nothing to push, and says nothing of publishing.
    let third = ws.track(&["--json"]);
    assert!(publish_of(&third).is_null(), "{}", publish_of(&third));

    let status = ws.run(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["publish"]["unpushed"], 0, "{status}");
    assert!(status["publish"]["last_push_at"].is_string(), "{status}");
    let text = ws.run(&["status"]);
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(text.contains("0 commits unpushed"), "{text}");

    let by_hand = ws.run(&["publish"]);
    assert_eq!(by_hand.status.code(), Some(0), "{}", stderr(&by_hand));
    assert!(
        String::from_utf8_lossy(&by_hand.stdout).contains("up to date"),
        "{}",
        String::from_utf8_lossy(&by_hand.stdout)
    );
}

#[test]
fn a_failed_push_keeps_every_commit_and_the_next_round_pushes_them_all() {
    let remotes = tempfile::tempdir().unwrap();
    let remote = remotes.path().join("not-yet.git");
    let server = Server::start();
    let ws = workspace(&server, remote.to_str().unwrap());

    let first = ws.track(&["--json"]);
    // The documents were recorded: the round succeeded, whatever the remote did.
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let publish = publish_of(&first);
    assert_eq!(publish["status"], "failed", "{publish}");
    assert_eq!(publish["error_class"], "publish_failed");
    let error = publish["error"].as_str().unwrap();
    assert!(error.contains("not-yet.git"), "{error}");
    assert!(error.contains("policydiff publish"), "{error}");
    assert_eq!(ws.commit_count(), 1);

    let status = ws.run(&["status"]);
    let status = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(
        status.contains("last push never, 1 commit unpushed"),
        "{status}"
    );
    assert!(status.contains("last attempt failed"), "{status}");
    let by_hand = ws.run(&["publish"]);
    assert_eq!(by_hand.status.code(), Some(1), "{}", stderr(&by_hand));

    // The remote appears; the next round with a change pushes both commits.
    bare_repository(&remote);
    server.set("/privacy", Behaviour::html(V2));
    let second = ws.track(&["--json"]);
    let publish = publish_of(&second);
    assert_eq!(publish["status"], "pushed", "{publish}");
    assert_eq!(publish["commits"], 2);
    assert_eq!(git(&remote, &["rev-list", "--count", "main"]), "2");
    assert_remote_has_the_tip(&remote, &ws);
}

#[test]
fn a_round_without_changes_still_pushes_what_a_failed_push_left() {
    let remotes = tempfile::tempdir().unwrap();
    let remote = remotes.path().join("late.git");
    let server = Server::start();
    let ws = workspace(&server, remote.to_str().unwrap());
    let first = ws.track(&["--json"]);
    assert_eq!(publish_of(&first)["status"], "failed");
    bare_repository(&remote);
    let second = ws.track(&["--json"]);
    assert_eq!(report(&second)["recorded"], 0);
    assert_eq!(publish_of(&second)["status"], "pushed");
    assert_remote_has_the_tip(&remote, &ws);
}

#[test]
fn a_diverged_remote_is_reported_and_never_overwritten() {
    let remotes = tempfile::tempdir().unwrap();
    let remote = remotes.path().join("versions.git");
    bare_repository(&remote);
    let server = Server::start();
    let ws = workspace(&server, remote.to_str().unwrap());
    let first = ws.track(&["--json"]);
    assert_eq!(publish_of(&first)["status"], "pushed");

    // Someone else pushes to the remote.
    let other = remotes.path().join("other");
    let cloned = Command::new("git")
        .args(["clone", "-q"])
        .arg(&remote)
        .arg(&other)
        .status()
        .unwrap();
    assert!(cloned.success());
    std::fs::write(other.join("NOTE.md"), "added elsewhere\n").unwrap();
    git(&other, &["add", "NOTE.md"]);
    git(
        &other,
        &[
            "-c",
            "user.name=Someone",
            "-c",
            "user.email=someone@example.com",
            "commit",
            "-qm",
            "Elsewhere",
        ],
    );
    git(&other, &["push", "-q", "origin", "HEAD:main"]);
    let theirs = git(&remote, &["rev-parse", "main"]);

    server.set("/privacy", Behaviour::html(V2));
    let second = ws.track(&["--json"]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let publish = publish_of(&second);
    assert_eq!(publish["status"], "diverged", "{publish}");
    assert_eq!(publish["error_class"], "publish_diverged");
    assert!(
        publish["error"]
            .as_str()
            .unwrap()
            .contains("never overwrites"),
        "{publish}"
    );
    assert_eq!(
        git(&remote, &["rev-parse", "main"]),
        theirs,
        "the remote's history is kept"
    );
    assert_eq!(ws.commit_count(), 2, "the change is recorded all the same");

    let by_hand = ws.run(&["publish", "--json"]);
    assert_eq!(by_hand.status.code(), Some(1));
    let outcome: serde_json::Value = serde_json::from_slice(&by_hand.stdout).unwrap();
    assert_eq!(outcome["status"], "diverged");
    assert_eq!(git(&remote, &["rev-parse", "main"]), theirs);
}

/// `git daemon` serving a folder on 127.0.0.1, pushes allowed; stopped when dropped.
struct GitDaemon {
    child: std::process::Child,
    port: u16,
}

impl GitDaemon {
    fn serve(base: &Path) -> GitDaemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // git-daemon itself (not `git daemon`, a parent that would outlive a kill of its own).
        let exec_path = Command::new("git").arg("--exec-path").output().unwrap();
        let exec_path = String::from_utf8(exec_path.stdout).unwrap();
        let child = Command::new(Path::new(exec_path.trim()).join("git-daemon"))
            .arg("--reuseaddr")
            .arg("--export-all")
            .arg("--enable=receive-pack")
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("git daemon");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "git daemon did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        GitDaemon { child, port }
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn rounds_push_over_the_git_protocol() {
    let remotes = tempfile::tempdir().unwrap();
    let remote: PathBuf = remotes.path().join("versions.git");
    bare_repository(&remote);
    let daemon = GitDaemon::serve(remotes.path());
    let url = format!("git://127.0.0.1:{}/versions.git", daemon.port);
    let server = Server::start();
    let ws = workspace(&server, &url);

    let first = ws.track(&["--json"]);
    assert_eq!(
        publish_of(&first)["status"],
        "pushed",
        "{}",
        publish_of(&first)
    );
    server.set("/privacy", Behaviour::html(V2));
    ws.track(&[]);
    server.set("/privacy", Behaviour::html(V3));
    let third = ws.track(&["--json"]);
    assert_eq!(publish_of(&third)["status"], "pushed");
    assert_eq!(publish_of(&third)["remote"], url.as_str());
    assert_eq!(git(&remote, &["rev-list", "--count", "main"]), "3");
    assert_remote_has_the_tip(&remote, &ws);

    // The server goes away: the round records, the push fails with git's reason, and the
    // versions go out once it is back.
    drop(daemon);
    server.set("/privacy", Behaviour::html(V2));
    let fourth = ws.track(&["--json"]);
    assert_eq!(fourth.status.code(), Some(0), "{}", stderr(&fourth));
    let publish = publish_of(&fourth);
    assert_eq!(publish["status"], "failed", "{publish}");
    assert!(
        publish["error"].as_str().unwrap().contains("127.0.0.1"),
        "{publish}"
    );
    assert_eq!(ws.commit_count(), 4);
    let _back = GitDaemon::serve(remotes.path());
    // Served on another port: the configuration names the new address.
    let config = std::fs::read_to_string(ws.path().join("config.yaml")).unwrap();
    std::fs::write(
        ws.path().join("config.yaml"),
        config.replace(
            &url,
            &format!("git://127.0.0.1:{}/versions.git", _back.port),
        ),
    )
    .unwrap();
    let by_hand = ws.run(&["publish"]);
    assert_eq!(by_hand.status.code(), Some(0), "{}", stderr(&by_hand));
    assert_eq!(git(&remote, &["rev-list", "--count", "main"]), "4");
}

#[test]
fn credentials_stay_out_of_reports_and_messages() {
    let server = Server::start();
    // A remote address with a password in it, on a port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ws = workspace(
        &server,
        &format!("http://bot:s3cr3t-pw@127.0.0.1:{port}/versions.git"),
    );
    let first = ws.run_with_env(&["track", "--json"], &[("PUBLISH_TOKEN", "tok-123456")]);
    let out = String::from_utf8_lossy(&first.stdout).to_string() + &stderr(&first);
    assert_eq!(publish_of(&first)["status"], "failed", "{out}");
    assert!(!out.contains("s3cr3t-pw"), "{out}");
    let state = std::fs::read_to_string(ws.path().join(".policydiff/publish.json")).unwrap();
    assert!(!state.contains("s3cr3t-pw"), "{state}");
    let status = ws.run(&["status", "--json"]);
    assert!(!String::from_utf8_lossy(&status.stdout).contains("s3cr3t-pw"));

    // A token named in the configuration but absent from the environment is said plainly.
    let config = std::fs::read_to_string(ws.path().join("config.yaml")).unwrap();
    std::fs::write(
        ws.path().join("config.yaml"),
        config.replace(
            "  branch: main\n",
            "  branch: main\n  token_env: PUBLISH_TOKEN\n",
        ),
    )
    .unwrap();
    let by_hand = ws.run(&["publish"]);
    assert_eq!(by_hand.status.code(), Some(1));
    let said = String::from_utf8_lossy(&by_hand.stdout);
    assert!(said.contains("PUBLISH_TOKEN"), "{said}");
    assert!(said.contains("is not set"), "{said}");
    let with_token = ws.run_with_env(&["publish"], &[("PUBLISH_TOKEN", "tok-123456")]);
    let said = String::from_utf8_lossy(&with_token.stdout).to_string() + &stderr(&with_token);
    assert_eq!(with_token.status.code(), Some(1), "{said}");
    assert!(
        !said.contains("tok-123456") && !said.contains("s3cr3t-pw"),
        "{said}"
    );
}

#[test]
fn the_daemon_pushes_what_is_unpushed_when_it_starts() {
    let remotes = tempfile::tempdir().unwrap();
    let remote = remotes.path().join("versions.git");
    let server = Server::start();
    let ws = workspace(&server, remote.to_str().unwrap());
    // A schedule that does not fire during the test: only the start pushes.
    ws.append_config("schedule:\n  cron: \"0 0 1 1 *\"\n");
    let first = ws.track(&["--json"]);
    assert_eq!(publish_of(&first)["status"], "failed");
    bare_repository(&remote);

    let mut daemon = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .arg("daemon")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let head = git(&ws.repo(), &["rev-parse", "HEAD"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut pushed = false;
    while std::time::Instant::now() < deadline {
        let tip = Command::new("git")
            .arg("-C")
            .arg(&remote)
            .args(["rev-parse", "--verify", "-q", "main"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&tip.stdout).trim() == head {
            pushed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Command::new("kill")
        .args(["-TERM", &daemon.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(daemon.wait().unwrap().code(), Some(0));
    assert!(pushed, "the daemon pushed the unpushed commit at start");
}
