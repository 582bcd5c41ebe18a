//! Hostile input: declarations, configuration and pages written to make the tracker misbehave.
//! Each gets a clear error (or a bounded, sound result), never a panic, and nothing is written
//! outside the versions repository.

mod common;

use std::process::Command;

use common::{Behaviour, Server, Workspace, document, report};
use serde_json::json;

fn validate(dir: &std::path::Path) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .arg("validate")
        .arg(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!text.contains("panicked"), "{text}");
    (output.status.code(), text)
}

#[test]
fn hostile_declarations_get_clear_errors_and_write_nothing_outside() {
    let server = Server::start();
    server.set("/p", Behaviour::html("<main><p>Fine.</p></main>"));
    let ws = Workspace::new("");
    let declarations = ws.path().join("declarations");
    let write = |name: &str, text: &str| std::fs::write(declarations.join(name), text).unwrap();
    // The service id is the file name: a dot-dot name would be a folder outside.
    write("...json", &json!({"name": "Up", "terms": {"Privacy Policy": {"fetch": server.url("/p"), "select": "main"}}}).to_string());
    // A terms type that is a path; a name that forges a trailer.
    write(
        "Traversal.json",
        &json!({"name": "Traversal", "terms": {"../../../tmp/evil": {"fetch": server.url("/p"), "select": "main"}}}).to_string(),
    );
    write(
        "Forger.json",
        &json!({"name": "Forger\nFetched-At: 1999-01-01T00:00:00Z", "terms": {"Privacy Policy": {"fetch": server.url("/p"), "select": "main"}}}).to_string(),
    );
    // Enormous and deeply nested files.
    write(
        "Huge.json",
        &format!("{{\"name\": \"{}\"}}", "x".repeat(5 * 1024 * 1024)),
    );
    write("Nested.json", &"[".repeat(100_000));
    // Selectors: invalid, and built to make matching explode.
    let slow = format!("{}p", "div ".repeat(200));
    let nested = format!("{}p{}", ":not(".repeat(20), ")".repeat(20));
    write(
        "Selectors.json",
        &json!({"name": "Selectors", "terms": {
            "Privacy Policy": {"fetch": server.url("/p"), "select": "main >"},
            "Terms of Service": {"fetch": server.url("/p"), "select": slow},
            "Imprint": {"fetch": server.url("/p"), "select": nested}}})
        .to_string(),
    );
    // One sound declaration beside them.
    write(
        "Fine.json",
        &json!({"name": "Fine", "terms": {"Privacy Policy": {"fetch": server.url("/p"), "select": "main"}}}).to_string(),
    );

    let (code, text) = validate(&declarations);
    assert_eq!(code, Some(1), "{text}");
    for expected in [
        "must not start with a dot",
        "unknown terms type",
        "control character",
        "more than",
        "recursion limit",
        "has no selector after it",
        "too complex to match safely",
    ] {
        assert!(
            text.to_lowercase().contains(&expected.to_lowercase()),
            "{expected:?} in {text}"
        );
    }

    let output = ws.track(&["--json"]);
    let r = report(&output);
    assert_eq!(
        document(&r, "Fine", "Privacy Policy")["status"],
        "first_record"
    );
    // The repository holds the sound entries only (the forger's name is refused, its id is
    // safe), and nothing appeared beside the workspace.
    let tree = ws.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    assert_eq!(
        tree.lines().collect::<Vec<_>>(),
        [
            "Fine/Privacy Policy.html",
            "Fine/Privacy Policy.md",
            "Forger/Privacy Policy.html",
            "Forger/Privacy Policy.md"
        ]
    );
    let log = ws.git(&["log", "--format=%B"]);
    assert!(!log.contains("1999-01-01"), "no forged trailer: {log}");
    assert!(!std::path::Path::new("/tmp/evil.md").exists());
    assert!(!ws.path().join("snapshots/../Up").exists());
}

#[test]
fn hostile_configuration_gets_clear_errors() {
    let ws = Workspace::new("");
    let config = ws.path().join("config.yaml");
    let cases = [
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nmemos:\n  topics:\n    x: *g\n",
            "aliases or nesting expand too much",
        ),
        (
            "fetch:\n  timout: 5s\n",
            "fetch.timout: unknown field `timout`",
        ),
        ("fetch:\n  concurrency: many\n", "fetch.concurrency"),
        (
            "browser:\n  wait_timeout: forever\n",
            "browser.wait_timeout",
        ),
    ];
    for (yaml, expected) in cases {
        std::fs::write(&config, yaml).unwrap();
        let output = ws.track(&[]);
        let text = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(2), "{yaml}: {text}");
        assert!(text.contains(expected), "{expected:?} in {text}");
        assert!(text.contains("config.yaml"), "names the file: {text}");
    }
}

#[test]
fn hostile_pages_are_bounded_and_never_crash() {
    let server = Server::start();
    let million = format!("<main>{}</main>", "<span>a</span>".repeat(1_000_000));
    let attribute = format!(
        "<main><p title=\"{}\">Text with a huge attribute.</p></main>",
        "x".repeat(10 * 1024 * 1024)
    );
    let deep = format!(
        "<main>{}deep{}</main>",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    let malformed =
        "<main><p>Unclosed <b>bold <i>italic</p><table><tr><td>cell</main></td></b><p>after";
    // Headings nested in headings (through an unknown element, which keeps them open): each
    // level's underline is as long as its content, so 40 levels would ask for a terabyte of
    // text. Found by the mutation run of tests/fuzz_corpus.rs.
    let doubling = format!("<main>{}Title</main>", "<h1>T<x>".repeat(40));
    server.set("/million", Behaviour::html(&million));
    server.set("/attribute", Behaviour::html(&attribute));
    server.set("/deep", Behaviour::html(&deep));
    server.set("/malformed", Behaviour::html(malformed));
    server.set("/doubling", Behaviour::html(&doubling));
    let ws = Workspace::new("  max_body: 50MB");
    ws.declare(
        "Hostile",
        json!({
            "Privacy Policy": {"fetch": server.url("/million"), "select": "main"},
            "Terms of Service": {"fetch": server.url("/attribute"), "select": "main"},
            "Imprint": {"fetch": server.url("/deep"), "select": "main"},
            "Trackers Policy": {"fetch": server.url("/malformed"), "select": "main"},
            "Developer Terms": {"fetch": server.url("/doubling"), "select": "main"}
        }),
    );
    let output = ws.track(&["--json"]);
    let r = report(&output);
    assert!(!common::stderr(&output).contains("panicked"));
    assert_eq!(
        document(&r, "Hostile", "Privacy Policy")["status"],
        "first_record"
    );
    let text = String::from_utf8(ws.file("Hostile/Terms of Service.md").unwrap()).unwrap();
    assert_eq!(text, "Text with a huge attribute.");
    assert_eq!(
        document(&r, "Hostile", "Imprint")["error_class"],
        "too_large"
    );
    let doubling = document(&r, "Hostile", "Developer Terms");
    assert_eq!(doubling["error_class"], "too_large", "{doubling}");
    assert!(
        doubling["error"].as_str().unwrap().contains("headings"),
        "{doubling}"
    );
    let malformed = String::from_utf8(ws.file("Hostile/Trackers Policy.md").unwrap()).unwrap();
    assert!(
        malformed.contains("Unclosed") && malformed.contains("cell"),
        "{malformed}"
    );
}

/// Every file under `dir` (the workspace: repository, memos, state, reports).
fn all_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[test]
fn secrets_are_never_logged_nor_written() {
    let server = Server::start();
    server.set(
        "/p",
        Behaviour::html("<main><p>We collect your email.</p></main>"),
    );
    server.set("/hook", Behaviour::status(500, "receiver down"));
    let smtp_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let ws = Workspace::new("");
    ws.append_config(&format!(
        "notify:\n  webhooks:\n    - url: {}\n      token_env: HOOK_TOKEN\n  email:\n    host: 127.0.0.1\n    port: {smtp_port}\n    security: none\n    username: robot\n    password_env: SMTP_PASSWORD\n    from: robot@example.org\n    to: [team@example.org]\n",
        server.url("/hook")
    ));
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/p"), "select": "main"}}),
    );
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .current_dir(ws.path())
            .args(["track", "-v", "--json"])
            .env("HOOK_TOKEN", "hook-secret-4f1d")
            .env("SMTP_PASSWORD", "smtp-secret-9a7c")
            .env("RUST_LOG", "debug")
            .output()
            .unwrap()
    };
    let mut logs = String::from_utf8_lossy(&run().stderr).into_owned();
    server.set(
        "/p",
        Behaviour::html("<main><p>We collect your email and location.</p></main>"),
    );
    let second = run();
    logs.push_str(&String::from_utf8_lossy(&second.stderr));
    assert!(
        server.hits("/hook") > 0,
        "the webhook was called (and failed)"
    );
    assert!(logs.contains("webhook"), "its failure is logged: {logs}");
    // Git objects are compressed: read the history through git.
    let history = ws.git(&["log", "-p", "--all"]);
    for secret in ["hook-secret-4f1d", "smtp-secret-9a7c"] {
        assert!(!logs.contains(secret), "{secret} in the logs");
        assert!(!history.contains(secret), "{secret} in the repository");
        for file in all_files(ws.path()) {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret),
                "{secret} written to {}",
                file.display()
            );
        }
    }
}
