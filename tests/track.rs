//! `policydiff track` against a local HTTP server and a real git repository.

mod common;

use common::{Behaviour, Server, Workspace, document, report, stderr};
use serde_json::json;

const V1: &str = "<html><body><nav>Menu</nav><main><h1>Privacy Policy</h1><p>We collect your email address.</p><p>We keep it for one year.</p></main></body></html>";
const V2: &str = "<html><body><nav>Menu</nav><main><h1>Privacy Policy</h1><p>We collect your email address and your interactions with AI features.</p><p>We keep it for one year.</p></main></body></html>";

fn policy(server: &Server, path: &str) -> serde_json::Value {
    json!({"Privacy Policy": {"fetch": server.url(path), "select": "main"}})
}

#[test]
fn first_record_unchanged_and_new_changes() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(V1));
    let ws = Workspace::new("");
    ws.declare("Example", policy(&server, "/privacy"));

    let first = ws.track(&["--json"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let r = report(&first);
    assert_eq!(
        document(&r, "Example", "Privacy Policy")["status"],
        "first_record"
    );
    assert_eq!(
        String::from_utf8(ws.file("Example/Privacy Policy.md").unwrap()).unwrap(),
        "Privacy Policy\n==============\n\nWe collect your email address.\n\nWe keep it for one year."
    );
    assert_eq!(
        ws.file("Example/Privacy Policy.html").unwrap(),
        V1.as_bytes()
    );
    let message = ws.git(&["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("First record of Example Privacy Policy\n\n"),
        "{message}"
    );
    assert!(
        message.contains(&format!("Source-URL: {}\n", server.url("/privacy"))),
        "{message}"
    );
    assert!(message.contains("Fetched-At: "), "{message}");
    assert!(
        message.contains("Content-Type: text/html; charset=utf-8"),
        "{message}"
    );
    assert!(message.contains("Declaration-SHA256: "), "{message}");
    assert!(message.contains("Engine: policydiff "), "{message}");
    let trailers = ws.git(&["log", "-1", "--format=%(trailers:key=Fetched-At,valueonly)"]);
    assert!(
        trailers.trim().ends_with('Z'),
        "trailer parsed by git: {trailers:?}"
    );
    assert_eq!(
        ws.git(&["log", "-1", "--format=%an <%ae>"]).trim(),
        "Test Bot <bot@example.com>"
    );

    let again = ws.track(&["--json"]);
    assert_eq!(
        document(&report(&again), "Example", "Privacy Policy")["status"],
        "unchanged"
    );
    assert_eq!(ws.commit_count(), 1, "no commit when the text is unchanged");

    server.set("/privacy", Behaviour::html(V2));
    let changed = ws.track(&["--json"]);
    let r = report(&changed);
    let doc = document(&r, "Example", "Privacy Policy");
    assert_eq!(doc["status"], "new_changes");
    assert_eq!(
        doc["commit"].as_str().unwrap(),
        ws.git(&["rev-parse", "HEAD"]).trim()
    );
    assert!(
        ws.git(&["log", "-1", "--format=%s"])
            .starts_with("Record new changes of Example Privacy Policy")
    );
    assert_eq!(ws.commit_count(), 2);
    // The working tree follows the branch, and git sees nothing to commit.
    assert!(ws.git(&["status", "--porcelain"]).is_empty());

    let runs = std::fs::read_to_string(ws.path().join(".policydiff/runs.jsonl")).unwrap();
    assert_eq!(runs.lines().count(), 3);
    let last: serde_json::Value = serde_json::from_str(runs.lines().last().unwrap()).unwrap();
    assert_eq!(last["recorded"], 1);
}

#[test]
fn a_changed_declaration_is_a_technical_upgrade() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(V1));
    let ws = Workspace::new("");
    ws.declare("Example", policy(&server, "/privacy"));
    assert!(ws.track(&[]).status.success());
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main p"}}),
    );
    let r = report(&ws.track(&["--json"]));
    assert_eq!(
        document(&r, "Example", "Privacy Policy")["status"],
        "technical_upgrade"
    );
    assert!(
        ws.git(&["log", "-1", "--format=%s"])
            .starts_with("Apply technical or declaration upgrade on Example Privacy Policy")
    );
}

#[test]
fn combined_documents_and_pdf() {
    let server = Server::start();
    server.set(
        "/terms/main",
        Behaviour::html("<article><p>Main terms.</p></article>"),
    );
    server.set(
        "/terms/ai",
        Behaviour::html("<article><p>AI terms.</p></article>"),
    );
    let pdf = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pdf/policy.pdf"
    ))
    .unwrap();
    server.set(
        "/legal/commercial.pdf",
        Behaviour::Respond {
            status: 200,
            headers: vec![("Content-Type".into(), "application/pdf".into())],
            body: pdf.clone(),
        },
    );
    let ws = Workspace::new("");
    ws.declare(
        "Example",
        json!({
            "Terms of Service": {"combine": [{"fetch": server.url("/terms/main")}, {"fetch": server.url("/terms/ai")}], "select": "article"},
            "Commercial Terms": {"fetch": server.url("/legal/commercial.pdf")}
        }),
    );
    let output = ws.track(&["--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8(ws.file("Example/Terms of Service.md").unwrap()).unwrap(),
        "Main terms.\n\n- - -\n\nAI terms."
    );
    assert!(
        ws.file("Example/Terms of Service #terms-main.html")
            .is_some()
    );
    assert!(ws.file("Example/Terms of Service #terms-ai.html").is_some());
    assert_eq!(ws.file("Example/Commercial Terms.pdf").unwrap(), pdf);
    assert!(
        String::from_utf8(ws.file("Example/Commercial Terms.md").unwrap())
            .unwrap()
            .starts_with("Privacy Policy\n\nWe collect")
    );
}

#[test]
fn each_failure_is_classified_and_records_nothing() {
    let server = Server::start();
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    server.set("/gone", Behaviour::status(404, "gone"));
    server.set("/hang", Behaviour::Hang);
    server.set("/reset", Behaviour::Reset);
    server.set(
        "/challenge",
        Behaviour::status(403, "<html><head><title>Just a moment...</title></head><body><script src=\"/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1\"></script></body></html>"),
    );
    server.set("/nomatch", Behaviour::html("<div>No main here</div>"));
    server.set("/empty", Behaviour::html("  "));
    server.set(
        "/big",
        Behaviour::html(&format!("<main>{}</main>", "x".repeat(200_000))),
    );
    server.set("/loop", Behaviour::redirect("/loop"));
    server.set("/to-file", Behaviour::redirect("file:///etc/passwd"));
    let ws = Workspace::new("  max_body: 100KB\n  retries: 0\n  timeout: 2s\n");
    let mut terms = serde_json::Map::new();
    let cases = [
        ("Privacy Policy", server.url("/gone"), "http_status"),
        ("Terms of Service", server.url("/hang"), "timeout"),
        ("Imprint", server.url("/reset"), "connect"),
        ("Trackers Policy", server.url("/challenge"), "blocked"),
        ("Developer Terms", server.url("/nomatch"), "no_match"),
        ("Community Guidelines", server.url("/empty"), "empty"),
        ("Acceptable Use Policy", server.url("/big"), "too_large"),
        (
            "Commercial Terms",
            server.url("/loop"),
            "too_many_redirects",
        ),
        (
            "Copyright Claims Policy",
            server.url("/to-file"),
            "forbidden_address",
        ),
        (
            "Law Enforcement Guidelines",
            format!("http://127.0.0.1:{closed_port}/x"),
            "connect",
        ),
        (
            "Human Rights Policy",
            "http://policy.invalid/privacy".to_string(),
            "dns",
        ),
    ];
    for (terms_type, url, _) in &cases {
        terms.insert(
            terms_type.to_string(),
            json!({"fetch": url, "select": "main"}),
        );
    }
    terms.insert(
        "Review Guidelines".into(),
        json!({"fetch": server.url("/js"), "select": "main", "executeClientScripts": true}),
    );
    ws.declare("Faulty", serde_json::Value::Object(terms));
    // No browser on this run: the document that needs one fails as `needs_browser`.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .args(["track", "--json"])
        .env("CHROME", ws.path().join("no-browser-here"))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "some documents failed: {}",
        stderr(&output)
    );
    let r = report(&output);
    for (terms_type, _, class) in
        cases
            .iter()
            .chain(&[("Review Guidelines", String::new(), "needs_browser")])
    {
        let doc = document(&r, "Faulty", terms_type);
        assert_eq!(doc["status"], "failed", "{terms_type}: {doc}");
        assert_eq!(doc["error_class"], *class, "{terms_type}: {doc}");
        assert!(!doc["error"].as_str().unwrap().is_empty());
    }
    assert_eq!(ws.commit_count(), 0, "nothing recorded");
    assert_eq!(
        server.hits("/js"),
        0,
        "no plain fetch of a page that needs a browser"
    );
    assert!(
        stderr(&output).contains("failed        12"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn transient_failures_are_retried_and_permanent_ones_are_not() {
    let server = Server::start();
    server.set(
        "/flaky",
        Behaviour::Sequence(vec![
            Behaviour::status(503, "busy"),
            Behaviour::html("<main><p>Finally.</p></main>"),
        ]),
    );
    server.set(
        "/limited",
        Behaviour::Sequence(vec![
            Behaviour::Respond {
                status: 429,
                headers: vec![("Retry-After".into(), "1".into())],
                body: b"slow down".to_vec(),
            },
            Behaviour::html("<main><p>Served.</p></main>"),
        ]),
    );
    server.set("/missing", Behaviour::status(404, "no"));
    let ws = Workspace::new("  retries: 2\n");
    ws.declare(
        "Example",
        json!({
            "Privacy Policy": {"fetch": server.url("/flaky"), "select": "main"},
            "Terms of Service": {"fetch": server.url("/limited"), "select": "main"},
            "Imprint": {"fetch": server.url("/missing"), "select": "main"}
        }),
    );
    let r = report(&ws.track(&["--json"]));
    assert_eq!(
        document(&r, "Example", "Privacy Policy")["status"],
        "first_record"
    );
    assert_eq!(
        document(&r, "Example", "Terms of Service")["status"],
        "first_record"
    );
    assert_eq!(
        document(&r, "Example", "Imprint")["error_class"],
        "http_status"
    );
    assert_eq!(server.hits("/flaky"), 2);
    assert_eq!(server.hits("/limited"), 2);
    assert_eq!(server.hits("/missing"), 1, "a 404 is not retried");
}

#[test]
fn waiting_for_the_host_s_turn_does_not_count_toward_the_timeout() {
    // Each page takes 0.7 s, within the 1 s timeout; one at a time, the last waits 1.4 s for
    // its turn, and must still be recorded.
    let server = Server::start();
    let ws = Workspace::new("  per_host: 1\n  per_host_delay: 0s\n  timeout: 1s\n  retries: 0\n");
    let mut terms = serde_json::Map::new();
    for (i, terms_type) in ["Privacy Policy", "Terms of Service", "Imprint"]
        .iter()
        .enumerate()
    {
        let path = format!("/slow{i}");
        server.set(
            &path,
            Behaviour::Delayed(
                700,
                Box::new(Behaviour::html(&format!(
                    "<main><p>Document {i}</p></main>"
                ))),
            ),
        );
        terms.insert(
            terms_type.to_string(),
            json!({"fetch": server.url(&path), "select": "main"}),
        );
    }
    ws.declare("Example", serde_json::Value::Object(terms));
    let output = ws.track(&["--json"]);
    let r = report(&output);
    for terms_type in ["Privacy Policy", "Terms of Service", "Imprint"] {
        assert_eq!(
            document(&r, "Example", terms_type)["status"],
            "first_record",
            "{terms_type}: {}",
            document(&r, "Example", terms_type)
        );
    }
    assert_eq!(server.max_in_flight(), 1);
}

#[test]
fn one_request_at_a_time_per_host_with_a_pause() {
    let server = Server::start();
    let ws = Workspace::new("  concurrency: 8\n  per_host: 1\n  per_host_delay: 150ms\n");
    let mut terms = serde_json::Map::new();
    for (i, terms_type) in [
        "Privacy Policy",
        "Terms of Service",
        "Imprint",
        "Trackers Policy",
        "Developer Terms",
    ]
    .iter()
    .enumerate()
    {
        let path = format!("/doc{i}");
        server.set(
            &path,
            Behaviour::html(&format!("<main><p>Document {i}</p></main>")),
        );
        terms.insert(
            terms_type.to_string(),
            json!({"fetch": server.url(&path), "select": "main"}),
        );
    }
    ws.declare("Example", serde_json::Value::Object(terms));
    let output = ws.track(&[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(server.max_in_flight(), 1);
    let mut starts: Vec<_> = server
        .request_starts()
        .into_iter()
        .map(|(_, at)| at)
        .collect();
    starts.sort();
    for pair in starts.windows(2) {
        // The client spaces request starts by 150 ms. The server notes a request when its thread
        // reads it, which a loaded machine can delay by tens of milliseconds; without the pause
        // the gaps would be ~20 ms (the server's own hold), so 100 ms still tells them apart.
        let gap = pair[1] - pair[0];
        assert!(
            gap >= std::time::Duration::from_millis(100),
            "requests to one host are spaced, got {gap:?}"
        );
    }
}

#[test]
fn private_addresses_are_refused_by_default() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(V1));
    let ws = Workspace::new("  allow_private_addresses: false\n");
    ws.declare(
        "Example",
        json!({
            "Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"},
            "Terms of Service": {"fetch": format!("http://localhost:{}/privacy", server.port), "select": "main"}
        }),
    );
    let r = report(&ws.track(&["--json"]));
    assert_eq!(
        document(&r, "Example", "Privacy Policy")["error_class"],
        "forbidden_address"
    );
    assert_eq!(
        document(&r, "Example", "Terms of Service")["error_class"],
        "forbidden_address"
    );
    assert_eq!(server.hits("/privacy"), 0, "the server was never reached");
}

#[test]
fn listed_private_addresses_are_allowed_and_nothing_else() {
    let intranet = Server::start();
    let elsewhere = Server::start();
    intranet.set("/privacy", Behaviour::html(V1));
    intranet.set("/moved", Behaviour::redirect(&elsewhere.url("/privacy")));
    elsewhere.set("/privacy", Behaviour::html(V1));
    let ws = Workspace::new(&format!(
        "  allow_private_addresses: [\"127.0.0.1:{}\"]\n",
        intranet.port
    ));
    ws.declare(
        "Example",
        json!({
            "Privacy Policy": {"fetch": intranet.url("/privacy"), "select": "main"},
            "Terms of Service": {"fetch": intranet.url("/moved"), "select": "main"},
            "Trackers Policy": {"fetch": elsewhere.url("/privacy"), "select": "main"}
        }),
    );
    let r = report(&ws.track(&["--json"]));
    assert_eq!(
        document(&r, "Example", "Privacy Policy")["status"],
        "first_record"
    );
    for refused in ["Terms of Service", "Trackers Policy"] {
        let doc = document(&r, "Example", refused);
        assert_eq!(doc["error_class"], "forbidden_address", "{doc}");
        assert!(
            doc["error"]
                .as_str()
                .unwrap()
                .contains(&elsewhere.url("/privacy")),
            "{doc}"
        );
    }
    assert_eq!(
        elsewhere.hits("/privacy"),
        0,
        "never reached, even by a redirect"
    );
}

#[test]
fn a_page_fetched_byte_for_byte_again_is_not_extracted_again_unless_its_reading_could_differ() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(V1));
    let ws = Workspace::new("");
    ws.declare("Example", policy(&server, "/privacy"));
    let same_source = |r: &serde_json::Value| {
        (
            document(r, "Example", "Privacy Policy")["status"].clone(),
            document(r, "Example", "Privacy Policy")["same_source"].as_bool() == Some(true),
            r["same_sources"].as_u64().unwrap(),
        )
    };
    let first = report(&ws.track(&["--json"]));
    assert_eq!(same_source(&first), (json!("first_record"), false, 0));
    // The same bytes: unchanged, without extracting.
    let again = report(&ws.track(&["--json"]));
    assert_eq!(same_source(&again), (json!("unchanged"), true, 1));
    // Same bytes, another declaration: read again, and the upgrade is recorded.
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main p"}}),
    );
    let upgraded = report(&ws.track(&["--json"]));
    assert_eq!(
        same_source(&upgraded),
        (json!("technical_upgrade"), false, 0)
    );
    let again = report(&ws.track(&["--json"]));
    assert_eq!(same_source(&again), (json!("unchanged"), true, 1));
    // Same bytes under another content type: read again (the text happens to be the same).
    server.set(
        "/privacy",
        Behaviour::Respond {
            status: 200,
            headers: vec![(
                "Content-Type".into(),
                "text/html; charset=windows-1252".into(),
            )],
            body: V1.as_bytes().to_vec(),
        },
    );
    let retyped = report(&ws.track(&["--json"]));
    assert_eq!(same_source(&retyped), (json!("unchanged"), false, 0));
    // The memory is a cache: without it, pages are read again, and nothing is recorded.
    std::fs::remove_file(ws.path().join(".policydiff/sources-seen.json")).unwrap();
    let forgotten = report(&ws.track(&["--json"]));
    assert_eq!(same_source(&forgotten), (json!("unchanged"), false, 0));
    // A recorded text that is no longer the one extracted from these bytes (edited by hand in
    // the repository) is not trusted: the page is read again and its text recorded (as an
    // upgrade: the recorded source gives it too).
    std::fs::write(
        ws.repo().join("Example/Privacy Policy.md"),
        "Edited by hand.",
    )
    .unwrap();
    ws.git(&["commit", "-q", "-am", "Edit by hand"]);
    let checked = report(&ws.track(&["--json"]));
    assert_eq!(
        same_source(&checked),
        (json!("technical_upgrade"), false, 0)
    );
    assert_eq!(
        String::from_utf8(ws.file("Example/Privacy Policy.md").unwrap()).unwrap(),
        "We collect your email address.\n\nWe keep it for one year."
    );
    let changed = ws.track(&["--json"]);
    assert_eq!(
        same_source(&report(&changed)),
        (json!("unchanged"), true, 1)
    );
    server.set("/privacy", Behaviour::html(V2));
    let changed = report(&ws.track(&["--json"]));
    assert_eq!(same_source(&changed), (json!("new_changes"), false, 0));
}

#[test]
fn a_large_deletion_is_held_back_until_seen_twice() {
    let server = Server::start();
    let long = format!(
        "<main>{}</main>",
        "<p>A long clause about your rights.</p>".repeat(50)
    );
    server.set("/privacy", Behaviour::html(&long));
    let ws = Workspace::new("");
    ws.declare("Example", policy(&server, "/privacy"));
    assert!(ws.track(&[]).status.success());
    server.set(
        "/privacy",
        Behaviour::html("<main><p>Maintenance.</p></main>"),
    );
    let r = report(&ws.track(&["--json"]));
    let doc = document(&r, "Example", "Privacy Policy");
    assert_eq!(doc["status"], "held_back");
    assert!(doc["error"].as_str().unwrap().contains("suspicious_shrink"));
    assert_eq!(ws.commit_count(), 1);
    let r = report(&ws.track(&["--json"]));
    assert_eq!(
        document(&r, "Example", "Privacy Policy")["status"],
        "new_changes"
    );
    assert_eq!(ws.commit_count(), 2);
}

#[test]
fn a_held_lock_stops_a_second_run_with_exit_3() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(V1));
    let ws = Workspace::new("");
    ws.declare("Example", policy(&server, "/privacy"));
    assert!(ws.track(&[]).status.success());
    let repo =
        policydiff::record::VersionsRepository::open_or_create(&ws.repo(), "a", "b@c").unwrap();
    let lock = repo.lock().unwrap();
    let output = ws.track(&[]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("in use by another policydiff run"),
        "{}",
        stderr(&output)
    );
    drop(lock);
    assert!(ws.track(&[]).status.success(), "the lock is free again");
}

#[test]
fn selection_and_usage_errors() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(V1));
    server.set("/terms", Behaviour::html(V1));
    let ws = Workspace::new("");
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}, "Terms of Service": {"fetch": server.url("/terms"), "select": "main"}}),
    );
    let r = report(&ws.track(&["--json", "Example/Terms of Service"]));
    assert_eq!(r["documents"].as_array().unwrap().len(), 1);
    assert_eq!(server.hits("/privacy"), 0);
    assert_eq!(ws.track(&["Nope"]).status.code(), Some(2));
    std::fs::write(ws.path().join("config.yaml"), "fetch:\n  timeout: soon\n").unwrap();
    let output = ws.track(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("fetch.timeout"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_invalid_entry_fails_alone() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(V1));
    let ws = Workspace::new("");
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}, "Terms of Service": {"fetch": server.url("/terms"), "select": "div[["}}),
    );
    let output = ws.track(&["--json"]);
    assert_eq!(output.status.code(), Some(1));
    let r = report(&output);
    assert_eq!(
        document(&r, "Example", "Privacy Policy")["status"],
        "first_record"
    );
    assert_eq!(
        document(&r, "Example", "Terms of Service")["error_class"],
        "invalid_declaration"
    );
}

#[test]
fn demo_runs_offline_and_shows_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .args(["demo", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("First record of Demo Social Privacy Policy"),
        "{text}"
    );
    assert!(
        text.contains("Record new changes of Demo Social Privacy Policy"),
        "{text}"
    );
    assert!(
        text.contains("+*   Your interactions with AI features"),
        "{text}"
    );
    let kept = std::fs::read_to_string(dir.path().join("snapshots/Demo Social/Privacy Policy.md"))
        .unwrap();
    assert!(
        kept.contains("You cannot opt out of the use of your AI interactions for personalisation.")
    );
    // Statuses in words, and the memo — the product's main output — with its front matter.
    assert!(
        text.contains("round 1: Demo Social / Privacy Policy: first record"),
        "{text}"
    );
    assert!(
        text.contains("round 2: Demo Social / Privacy Policy: new changes"),
        "{text}"
    );
    assert!(
        !text.contains("FirstRecord") && !text.contains("NewChanges"),
        "{text}"
    );
    let memo_start = text
        .find("---\ntitle: Demo Social")
        .expect("the memo is shown");
    let memo = &text[memo_start..];
    assert!(memo.contains("status: draft"), "{memo}");
    assert!(memo.contains("- ai\n"), "{memo}");
    assert!(
        memo.contains(
            "“You cannot opt out of the use of your AI interactions for personalisation.”"
        ),
        "{memo}"
    );
    let written = std::fs::read_dir(dir.path().join("memos"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .unwrap();
    assert!(text.contains(std::fs::read_to_string(written).unwrap().trim_end()));
}

#[test]
fn killing_a_run_at_any_moment_leaves_a_valid_repository() {
    let server = Server::start();
    let ws = Workspace::new("  concurrency: 4\n  per_host: 4\n");
    let mut terms = serde_json::Map::new();
    let types = [
        "Privacy Policy",
        "Terms of Service",
        "Imprint",
        "Trackers Policy",
        "Developer Terms",
        "Community Guidelines",
        "Acceptable Use Policy",
        "Commercial Terms",
    ];
    for service in 0..5 {
        terms.clear();
        for (i, terms_type) in types.iter().enumerate() {
            let path = format!("/s{service}/d{i}");
            terms.insert(
                terms_type.to_string(),
                json!({"fetch": server.url(&path), "select": "main"}),
            );
        }
        ws.declare(
            &format!("Service {service}"),
            serde_json::Value::Object(terms.clone()),
        );
    }
    let serve_round = |round: usize| {
        for service in 0..5 {
            for i in 0..types.len() {
                let body = format!(
                    "<main><h2>Round {round}</h2><p>{}</p></main>",
                    format!("Clause {i} of service {service}. ").repeat(200)
                );
                server.set(&format!("/s{service}/d{i}"), Behaviour::html(&body));
            }
        }
    };
    // POLICYDIFF_KILL_ROUNDS=200 runs the long version by hand.
    let rounds: usize = std::env::var("POLICYDIFF_KILL_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(12);
    let mut random = common::Random(0x1234_5678);
    for round in 0..rounds {
        serve_round(round);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .current_dir(ws.path())
            .args(["track", "-q"])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(
            20 + random.below(250) as u64,
        ));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if ws.repo().join(".git").exists() {
            let fsck = std::process::Command::new("git")
                .arg("-C")
                .arg(ws.repo())
                .args(["fsck", "--full", "--no-dangling"])
                .output()
                .unwrap();
            assert!(
                fsck.status.success(),
                "git fsck after a kill: {}",
                String::from_utf8_lossy(&fsck.stderr)
            );
            let head = std::process::Command::new("git")
                .arg("-C")
                .arg(ws.repo())
                .args(["rev-parse", "--verify", "HEAD"])
                .output()
                .unwrap();
            assert!(
                head.status.success() || ws.commit_count() == 0,
                "HEAD is valid"
            );
        }
    }
    // On a slow machine every kill may come before the repository is made: one round makes it,
    // for the leftovers below need its folders.
    if !ws.repo().join(".git").exists() {
        let output = ws.track(&["-q"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    // A killed round leaves its batch's unfinished pack behind (no index: invisible to git);
    // the next round removes ours, and leaves git's own temporary files alone.
    let pack_dir = ws.repo().join(".git/objects/pack");
    assert!(pack_dir.is_dir(), "a repository without a pack folder");
    std::fs::write(pack_dir.join("tmp_pack_policydiff_left"), b"PACK").unwrap();
    std::fs::write(pack_dir.join("tmp_pack_git0"), b"PACK").unwrap();
    // One clean run records whatever is still new: every document holds the last served text.
    let output = ws.track(&["--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let left: Vec<String> = std::fs::read_dir(&pack_dir)
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("tmp_"))
        .collect();
    assert_eq!(left, ["tmp_pack_git0"]);
    std::fs::remove_file(pack_dir.join("tmp_pack_git0")).unwrap();
    for service in 0..5 {
        for terms_type in types {
            let text = String::from_utf8(
                ws.file(&format!("Service {service}/{terms_type}.md"))
                    .unwrap(),
            )
            .unwrap();
            let expected = format!("Round {}\n", rounds - 1);
            assert!(
                text.starts_with(&expected),
                "{service} {terms_type}: {}",
                &text[..20.min(text.len())]
            );
        }
    }
    assert!(ws.git(&["status", "--porcelain"]).is_empty());
    // What was recorded is in the order it was served, and the repository verifies.
    for service in 0..5 {
        for terms_type in types {
            let path = format!("Service {service}/{terms_type}.md");
            let subjects = ws.git(&["log", "--reverse", "--format=%H", "--", &path]);
            let rounds_recorded: Vec<usize> = subjects
                .lines()
                .map(|commit| {
                    let text = ws.git(&["show", &format!("{commit}:{path}")]);
                    text.trim_start_matches("Round ")
                        .split('\n')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap()
                })
                .collect();
            assert!(
                rounds_recorded.windows(2).all(|w| w[0] < w[1]),
                "{path}: {rounds_recorded:?}"
            );
        }
    }
    ws.assert_verifies();
}

#[test]
fn every_change_of_a_round_gets_its_own_memo_even_when_file_names_collide() {
    let server = Server::start();
    let ws = Workspace::new("");
    // "Service A" and "Service-A" give memos the same file name: the second is numbered.
    // Forty changes in one round: more than one drafting thread's backlog, so that several
    // threads draft at once.
    let services: Vec<String> = (0..38)
        .map(|i| format!("Service {i}"))
        .chain(["Service A".to_string(), "Service-A".to_string()])
        .collect();
    for (i, service) in services.iter().enumerate() {
        server.set(&format!("/p{i}"), Behaviour::html(V1));
        ws.declare(service, policy(&server, &format!("/p{i}")));
    }
    assert!(ws.track(&[]).status.success());
    for i in 0..services.len() {
        server.set(&format!("/p{i}"), Behaviour::html(V2));
    }
    let r = report(&ws.track(&["--json"]));
    let mut memos: Vec<String> = services
        .iter()
        .map(|service| {
            let doc = document(&r, service, "Privacy Policy");
            assert_eq!(doc["status"], "new_changes", "{service}");
            doc["memo"].as_str().expect("a memo").to_string()
        })
        .collect();
    for memo in &memos {
        let text = std::fs::read_to_string(memo).unwrap();
        assert!(text.contains("status: draft"), "{memo}: {text}");
    }
    memos.sort();
    memos.dedup();
    assert_eq!(memos.len(), services.len(), "one memo file per change");
    let written = std::fs::read_dir(ws.path().join("memos"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .count();
    assert_eq!(written, services.len());
}

#[test]
fn a_recorded_change_gets_a_memo_and_the_memo_command_redrafts_it() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(V1));
    let ws = Workspace::new("");
    ws.declare("Example", policy(&server, "/privacy"));
    assert!(ws.track(&[]).status.success());
    assert!(
        !ws.path().join("memos").exists(),
        "no memo for a first record"
    );
    server.set("/privacy", Behaviour::html(V2));
    let r = report(&ws.track(&["--json"]));
    let memo_path = document(&r, "Example", "Privacy Policy")["memo"]
        .as_str()
        .unwrap()
        .to_string();
    let memo = std::fs::read_to_string(&memo_path).unwrap_or_else(|e| panic!("{memo_path}: {e}"));
    assert!(
        memo.starts_with(
            "---\ntitle: Example now says it collects your email address and your interactions with AI features\n"
        ),
        "{memo}"
    );
    assert!(
        memo.contains("status: draft") && memo.contains("change_kind: substantive"),
        "{memo}"
    );
    assert!(
        memo.contains("“We collect your email address and your interactions with AI features.”"),
        "{memo}"
    );
    let sidecar: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(std::path::Path::new(&memo_path).with_extension("json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        sidecar["commit"].as_str().unwrap(),
        ws.git(&["rev-parse", "HEAD"]).trim()
    );
    assert_eq!(sidecar["topics"][0], "ai");

    // Regenerating the memo of the latest change gives the same file, not a second one.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .args(["memo", "Example", "Privacy Policy"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), memo);
    let memo_files = std::fs::read_dir(ws.path().join("memos"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "md")
        })
        .count();
    assert_eq!(memo_files, 1, "the same memo, not a second one");
}

#[test]
fn memo_of_two_files_as_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.md"),
        "Terms\n=====\n\nDisputes go to the courts of Paris.",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.md"),
        "Terms\n=====\n\nDisputes go to binding arbitration.",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(dir.path())
        .args([
            "memo",
            "--before",
            "a.md",
            "--after",
            "b.md",
            "--service",
            "Example",
            "--terms",
            "Terms of Service",
            "--date",
            "2025-03-01",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let memo: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(memo["change_kind"], "substantive");
    assert_eq!(memo["date"], "2025-03-01");
    assert_eq!(memo["topics"][0], "disputes");
    assert_eq!(memo["changes"][0]["kind"], "modified");
    assert!(
        memo["body"]
            .as_str()
            .unwrap()
            .contains("“Disputes go to binding arbitration.”"),
        "{memo}"
    );
    for key in [
        "title",
        "html_description",
        "significance",
        "effective_date",
        "announced_change",
        "previous_commit",
        "reverts_to",
    ] {
        assert!(memo.get(key).is_some(), "{key}");
    }
}

/// A workspace whose Example/Privacy Policy was tracked once per page, in order; the server
/// serves the last page.
fn tracked_through(pages: &[&str]) -> (Server, Workspace) {
    let server = Server::start();
    let ws = Workspace::new("");
    ws.declare("Example", policy(&server, "/privacy"));
    for page in pages {
        server.set("/privacy", Behaviour::html(page));
        let output = ws.track(&[]);
        assert!(output.status.success(), "{}", stderr(&output));
    }
    (server, ws)
}

#[test]
fn a_page_that_flips_back_is_recorded_as_a_revert_in_one_vocabulary() {
    let (server, ws) = tracked_through(&[V1, V2]);
    server.set("/privacy", Behaviour::html(V1));
    let flipped = ws.track(&["--json"]);
    assert!(flipped.status.success(), "{}", stderr(&flipped));
    let r = report(&flipped);
    let doc = document(&r, "Example", "Privacy Policy");
    // Recorded (nothing is lost), with OTA's subject, but named for what it is.
    assert_eq!(doc["status"], "revert", "{doc}");
    assert_eq!(r["recorded"], 1);
    assert!(
        ws.git(&["log", "-1", "--format=%s"])
            .starts_with("Record new changes of Example Privacy Policy"),
    );
    let memo: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(doc["memo"].as_str().unwrap()).with_extension("json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(memo["change_kind"], "revert");
    assert_eq!(
        memo["reverts_to"].as_str().unwrap(),
        ws.git(&["rev-list", "--max-parents=0", "HEAD"]).trim()
    );
    // The audit log says the same word.
    let log = std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .args(["log", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        common::log_kinds(&log.stdout),
        ["revert", "new_changes", "first_record"]
    );
    // The summary on standard error counts it.
    let summary = stderr(&ws.track(&[]));
    assert!(summary.contains("unchanged      1"), "{summary}");
}

#[test]
fn memo_all_drafts_every_change_once_and_keeps_reviewed_memos() {
    let third = V2.replace("one year", "two years");
    let (_server, ws) = tracked_through(&[V1, V2, &third]);

    let out = ws.path().join("drafts");
    let memo_all = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .current_dir(ws.path())
            .args(["memo", "--all", "--out"])
            .arg(&out)
            .output()
            .unwrap()
    };
    let first = memo_all();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("2 memos written"),
        "{}",
        stderr(&first)
    );
    let read_all = || {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files
    };
    let drafted = read_all();
    assert_eq!(drafted.len(), 4, "two memos and their sidecars");
    for (name, bytes) in drafted.iter().filter(|(n, _)| n.ends_with(".json")) {
        let record: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(record["service"], "Example", "{name}");
        assert!(
            record["significance_factors"].as_array().is_some(),
            "{name}"
        );
    }
    // Again: the same bytes.
    assert!(memo_all().status.success());
    assert_eq!(read_all(), drafted);
    // A memo someone published is left as it is.
    let (name, _) = drafted.iter().find(|(n, _)| n.ends_with(".md")).unwrap();
    let path = out.join(name);
    let published = std::fs::read_to_string(&path)
        .unwrap()
        .replace("status: draft", "status: published");
    std::fs::write(&path, &published).unwrap();
    let again = memo_all();
    assert!(
        stderr(&again).contains("1 reviewed memo kept as it is"),
        "{}",
        stderr(&again)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), published);
}

#[test]
fn without_a_working_tree_versions_are_recorded_in_git_only() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(V1));
    let ws = Workspace::new("");
    ws.append_config("record:\n  working_tree: false\n");
    ws.declare("Example", policy(&server, "/privacy"));
    let first = ws.track(&["--json"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    server.set("/privacy", Behaviour::html(V2));
    let second = ws.track(&["--json"]);
    assert_eq!(
        document(&report(&second), "Example", "Privacy Policy")["status"],
        "new_changes"
    );
    assert_eq!(ws.commit_count(), 2);
    assert!(
        ws.file("Example/Privacy Policy.md").is_none(),
        "no file is written beside the repository"
    );
    let recorded = ws.git(&["show", "HEAD:Example/Privacy Policy.md"]);
    assert!(
        recorded.contains("interactions with AI features"),
        "{recorded}"
    );
    let shown = ws.run(&["show", "Example", "Privacy Policy"]);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("interactions with AI features"),
        "{}",
        stderr(&shown)
    );
    ws.assert_verifies();
}

/// The types of the repository's loose objects (one file each under `.git/objects/xx/`).
fn loose_object_types(ws: &Workspace) -> Vec<String> {
    let objects = ws.repo().join(".git/objects");
    let mut types = Vec::new();
    for folder in std::fs::read_dir(&objects).unwrap().flatten() {
        let name = folder.file_name().to_string_lossy().into_owned();
        if name.len() != 2 || !name.chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        for file in std::fs::read_dir(folder.path()).unwrap().flatten() {
            let id = format!("{name}{}", file.file_name().to_string_lossy());
            types.push(ws.git(&["cat-file", "-t", &id]).trim().to_string());
        }
    }
    types
}

fn pack_count(ws: &Workspace) -> usize {
    std::fs::read_dir(ws.repo().join(".git/objects/pack"))
        .unwrap()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".pack"))
        .count()
}

#[test]
fn a_round_writes_its_commits_in_a_pack_and_git_packs_the_rest_when_it_should() {
    let server = Server::start();
    let ws = Workspace::privacy_and_terms(&server, V1);
    let first = ws.track(&["--json"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(ws.commit_count(), 2);
    // The round's objects (texts, sources, trees, commits) are in one pack, none loose.
    assert_eq!(pack_count(&ws), 1);
    assert_eq!(loose_object_types(&ws), Vec::<String>::new());
    ws.assert_verifies();

    // With git's threshold at one pack, the next round that records has git gather all.
    ws.git(&["config", "gc.autoPackLimit", "1"]);
    server.set("/privacy", Behaviour::html(V2));
    let second = ws.track(&["--json"]);
    assert_eq!(
        document(&report(&second), "Example", "Privacy Policy")["status"],
        "new_changes"
    );
    assert_eq!(pack_count(&ws), 1, "one pack after git's packing");
    assert_eq!(loose_object_types(&ws), Vec::<String>::new());
    assert_eq!(ws.commit_count(), 3);
    ws.assert_verifies();

    // Without maintenance, packs are left as written.
    ws.append_config("record:\n  maintenance: false\n");
    server.set("/privacy", Behaviour::html(V1));
    let third = ws.track(&["--json"]);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert_eq!(pack_count(&ws), 2);
    ws.assert_verifies();
}

/// `page` gzip-compressed as a web server would (the strongest level, unlike the recorder's).
fn gzipped(page: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(page).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn a_page_served_gzip_compressed_is_recorded_with_the_servers_compressed_bytes() {
    let server = Server::start();
    let page: String = std::iter::once("<html><body><main><h1>Privacy Policy</h1>".to_string())
        .chain((0..400).map(|i| {
            format!(
                "<p>Clause {i}: we keep category {} for {} days.</p>",
                i % 13,
                i * 7 % 365
            )
        }))
        .chain(std::iter::once("</main></body></html>".to_string()))
        .collect();
    let gzip = gzipped(page.as_bytes());
    server.set("/privacy", Behaviour::gzip_html(gzip.clone()));
    // Announced as gzip, cut short: a failure of its own, nothing recorded for it.
    let cut = gzipped(b"<main><p>Be nice.</p></main>");
    server.set(
        "/terms",
        Behaviour::gzip_html(cut[..cut.len() - 6].to_vec()),
    );
    // A block page sent compressed is recognised once inflated; an error announced as gzip
    // with nothing in it fails by its status.
    let block = gzipped(b"<html><head><title>Just a moment...</title></head><body><main>Checking your browser. Cloudflare</main><script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1\"></script></body></html>");
    server.set(
        "/imprint",
        Behaviour::Respond {
            status: 403,
            headers: vec![("Content-Encoding".into(), "gzip".into())],
            body: block,
        },
    );
    server.set(
        "/guidelines",
        Behaviour::Respond {
            status: 404,
            headers: vec![("Content-Encoding".into(), "gzip".into())],
            body: Vec::new(),
        },
    );
    let ws = Workspace::new("  retries: 0");
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"},
               "Terms of Service": {"fetch": server.url("/terms"), "select": "main"},
               "Imprint": {"fetch": server.url("/imprint"), "select": "main"},
               "Community Guidelines": {"fetch": server.url("/guidelines"), "select": "main"}}),
    );
    let first = ws.track(&["--json"]);
    let r = report(&first);
    assert_eq!(
        document(&r, "Example", "Privacy Policy")["status"],
        "first_record",
        "{}",
        stderr(&first)
    );
    let terms = document(&r, "Example", "Terms of Service");
    assert_eq!(terms["status"], "failed");
    assert_eq!(terms["error_class"], "connect", "{terms}");
    assert!(terms["error"].as_str().unwrap().contains("gzip"), "{terms}");
    assert!(ws.file("Example/Terms of Service.html").is_none());
    let imprint = document(&r, "Example", "Imprint");
    assert_eq!(imprint["error_class"], "blocked", "{imprint}");
    let guidelines = document(&r, "Example", "Community Guidelines");
    assert_eq!(guidelines["error_class"], "http_status", "{guidelines}");

    // The request asks for gzip; the snapshot is the page itself, inflated.
    let accepted = server
        .request_header("/privacy", "accept-encoding")
        .unwrap();
    assert!(accepted.contains("gzip"), "{accepted}");
    assert_eq!(
        ws.file("Example/Privacy Policy.html").unwrap(),
        page.as_bytes()
    );
    let text = String::from_utf8(ws.file("Example/Privacy Policy.md").unwrap()).unwrap();
    assert!(text.contains("Clause 399: we keep category 9"), "{text}");
    // The repository holds the server's DEFLATE stream as it came (between gzip's 10-byte
    // header and 8-byte trailer): nothing compressed again, and git reads it back.
    let stream = &gzip[10..gzip.len() - 8];
    let pack_holds_stream = std::fs::read_dir(ws.repo().join(".git/objects/pack"))
        .unwrap()
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".pack"))
        .any(|entry| {
            let bytes = std::fs::read(entry.path()).unwrap();
            bytes.windows(stream.len()).any(|window| window == stream)
        });
    assert!(pack_holds_stream, "the server's stream is not in the pack");
    let shown = ws.git(&["show", "HEAD:Example/Privacy Policy.html"]);
    assert_eq!(shown, page);
    ws.git(&["fsck", "--full", "--strict"]);
    ws.assert_verifies();
}

/// Every file of the branch's tip, as `git ls-tree` lists it, with its bytes at the tip.
fn files_at_tip(ws: &Workspace) -> Vec<(String, Vec<u8>)> {
    ws.git(&["ls-tree", "-r", "--name-only", "-z", "HEAD"])
        .split('\0')
        .filter(|path| !path.is_empty())
        .map(|path| {
            let bytes = std::process::Command::new("git")
                .arg("-C")
                .arg(ws.repo())
                .args(["cat-file", "blob", &format!("HEAD:{path}")])
                .output()
                .unwrap()
                .stdout;
            (path.to_string(), bytes)
        })
        .collect()
}

/// Every file of the branch's tip stands in the working tree with the bytes recorded.
fn assert_working_tree_shows_the_tip(ws: &Workspace) {
    for (path, bytes) in files_at_tip(ws) {
        assert_eq!(ws.file(&path), Some(bytes), "{path} as recorded");
    }
}

#[test]
fn the_working_tree_shows_the_branch_and_never_follows_a_link_out_of_it() {
    let server = Server::start();
    let ws = Workspace::privacy_and_terms(&server, V1);
    let first = ws.track(&["--json"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let tip = files_at_tip(&ws);
    assert_eq!(tip.len(), 4, "two texts and their two sources: {tip:?}");
    assert_working_tree_shows_the_tip(&ws);
    assert_eq!(ws.git(&["status", "--porcelain"]), "");

    // Someone put a link where the version file belongs, to a file outside the repository.
    let outside = ws.path().join("outside.md");
    std::fs::write(&outside, "not policydiff's").unwrap();
    let version = ws.repo().join("Example/Privacy Policy.md");
    std::fs::remove_file(&version).unwrap();
    std::os::unix::fs::symlink(&outside, &version).unwrap();
    server.set("/privacy", Behaviour::html(V2));
    let second = ws.track(&["--json"]);
    assert_eq!(
        document(&report(&second), "Example", "Privacy Policy")["status"],
        "new_changes"
    );
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "not policydiff's",
        "the link is replaced, never written through"
    );
    assert!(!std::fs::symlink_metadata(&version).unwrap().is_symlink());
    assert_working_tree_shows_the_tip(&ws);
    assert!(
        String::from_utf8(ws.file("Example/Privacy Policy.md").unwrap())
            .unwrap()
            .contains("interactions with AI features")
    );
    assert_eq!(ws.git(&["status", "--porcelain"]), "");
    // Nothing but the versions and their sources beside them.
    let mut beside: Vec<_> = std::fs::read_dir(ws.repo().join("Example"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    assert_eq!(
        beside,
        [
            "Privacy Policy.html",
            "Privacy Policy.md",
            "Terms of Service.html",
            "Terms of Service.md"
        ]
    );

    // A link where the service's folder belongs, to a folder outside: left alone too.
    let outside_folder = ws.path().join("outside-folder");
    std::fs::rename(ws.repo().join("Example"), &outside_folder).unwrap();
    std::os::unix::fs::symlink(&outside_folder, ws.repo().join("Example")).unwrap();
    let before = std::fs::read(outside_folder.join("Privacy Policy.md")).unwrap();
    server.set("/privacy", Behaviour::html(V1));
    let third = ws.track(&["--json"]);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert_eq!(
        std::fs::read(outside_folder.join("Privacy Policy.md")).unwrap(),
        before
    );
    let folder = std::fs::symlink_metadata(ws.repo().join("Example")).unwrap();
    assert!(folder.is_dir() && !folder.is_symlink());
    assert_working_tree_shows_the_tip(&ws);
    assert_eq!(ws.git(&["status", "--porcelain"]), "");
}
