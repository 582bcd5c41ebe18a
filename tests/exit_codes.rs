//! The class of a failure reaches the exit status: 2 for what the user must correct in the
//! command or the configuration, 1 for what went wrong while working (I/O, a page), and the
//! message says which file or argument and what to do, never a Rust debug form.

mod common;

use std::process::{Command, Output};

fn policydiff(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// A versions repository with two versions of one document, made by `policydiff demo`.
fn demo_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = policydiff(dir.path(), &["demo", "--dir", dir.path().to_str().unwrap()]);
    assert!(output.status.success(), "{}", common::stderr(&output));
    dir
}

fn assert_clear(output: &Output, code: i32, command: &str, words: &str) {
    let stderr = common::stderr(output);
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(
        stderr.starts_with(&format!("policydiff {command}: ")),
        "{stderr}"
    );
    assert!(stderr.contains(words), "{stderr}");
    assert!(
        !stderr.contains("{ ..") && !stderr.contains("panicked"),
        "{stderr}"
    );
}

#[test]
fn an_export_that_cannot_be_written_is_an_io_failure_not_a_usage_error() {
    let dir = demo_repository();
    let repo = dir.path().join("snapshots");
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, "a file where a folder should be").unwrap();
    let export = |out: &std::path::Path| {
        policydiff(
            dir.path(),
            &[
                "export",
                "--repo",
                repo.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        )
    };
    assert_clear(
        &export(&blocker.join("dataset.zip")),
        1,
        "export",
        "cannot write the archive",
    );
    // The same export to a writable place works.
    let output = export(&dir.path().join("dataset.zip"));
    assert!(output.status.success(), "{}", common::stderr(&output));
}

#[test]
fn wrong_arguments_and_configuration_exit_2_naming_what_to_correct() {
    let dir = demo_repository();
    let repo = dir.path().join("snapshots");
    let repo = repo.to_str().unwrap();

    let output = policydiff(dir.path(), &["log", "--repo", repo, "--since", "yesterday"]);
    assert_clear(&output, 2, "log", "--since \"yesterday\" is not a date");

    let missing = dir.path().join("nowhere");
    let output = policydiff(
        dir.path(),
        &[
            "show",
            "Demo Social",
            "Privacy Policy",
            "--repo",
            missing.to_str().unwrap(),
        ],
    );
    assert_clear(&output, 2, "show", "there is no versions repository at");

    let output = policydiff(
        dir.path(),
        &["show", "Nobody", "Privacy Policy", "--repo", repo],
    );
    assert_clear(
        &output,
        2,
        "show",
        "holds no document Nobody / Privacy Policy",
    );

    let output = policydiff(
        dir.path(),
        &[
            "memo",
            "--repo",
            repo,
            "Demo Social",
            "Privacy Policy",
            "--commit",
            "HEAD~1",
        ],
    );
    assert_clear(&output, 2, "memo", "first record");

    let config = dir.path().join("bad.yaml");
    std::fs::write(&config, "schedule:\n  cron: \"every day\"\n").unwrap();
    let output = policydiff(dir.path(), &["track", "--config", config.to_str().unwrap()]);
    assert_clear(&output, 2, "track", "schedule[0]");
}

#[test]
fn a_repository_held_by_another_run_exits_3() {
    let dir = demo_repository();
    let repo = dir.path().join("snapshots");
    // Hold the repository's lock as a running `track` would.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(repo.join(".git/policydiff.lock"))
        .unwrap();
    lock.lock().unwrap();
    std::fs::create_dir_all(dir.path().join("declarations")).unwrap();
    std::fs::write(
        dir.path().join("declarations/Example.json"),
        r#"{"name": "Example", "terms": {"Privacy Policy": {"fetch": "http://127.0.0.1:9/p", "select": "main"}}}"#,
    )
    .unwrap();
    let output = policydiff(dir.path(), &["track"]);
    assert_clear(&output, 3, "track", "in use by another policydiff run");
}
