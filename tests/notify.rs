//! Notifications after rounds: the Atom feed (read by a real feed parser), webhooks received by a
//! local server, persistent failures reported once.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::{Behaviour, Server, Workspace, report, stderr};
use serde_json::json;

/// What a receiver got: the authorisation header and the JSON body of each call.
type Received = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

/// A webhook receiver on 127.0.0.1 that keeps the bodies and authorisation headers it receives.
fn receiver() -> (String, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://127.0.0.1:{}/hook",
        listener.local_addr().unwrap().port()
    );
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut length, mut authorization) = (0usize, String::new());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("authorization:") {
                    authorization = line["authorization:".len()..].trim().to_string();
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            if let Ok(json) = serde_json::from_slice(&body) {
                store.lock().unwrap().push((authorization, json));
            }
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        }
    });
    (url, received)
}

#[test]
fn memos_reach_the_feed_and_the_webhook_and_persistent_failures_are_reported_once() {
    let server = Server::start();
    server.set(
        "/privacy",
        Behaviour::html("<main><p>We collect your email.</p></main>"),
    );
    server.set("/terms", Behaviour::status(503, "down"));
    let (hook, received) = receiver();
    let ws = Workspace::new("  retries: 0\n");
    ws.append_config(&format!("notify:\n  failure_streak: 2\n  webhooks:\n    - url: {hook}\n      token_env: POLICYDIFF_TEST_TOKEN\nmemos:\n  commit_url: https://versions.example.org/commit/{{commit}}\n"));
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}, "Terms of Service": {"fetch": server.url("/terms"), "select": "main"}}),
    );
    let track = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .current_dir(ws.path())
            .args(["track", "-q", "--json"])
            .env("POLICYDIFF_TEST_TOKEN", "s3cret")
            .output()
            .unwrap()
    };
    track();
    assert!(
        received.lock().unwrap().is_empty(),
        "nothing to announce after a first record and one failure"
    );
    server.set(
        "/privacy",
        Behaviour::html("<main><p>We collect your email and use it to train AI models.</p></main>"),
    );
    let second = report(&track());
    let commit = second["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["terms_type"] == "Privacy Policy")
        .unwrap()["commit"]
        .as_str()
        .unwrap()
        .to_string();

    let messages = received.lock().unwrap().clone();
    assert_eq!(messages.len(), 1, "one webhook call for the round");
    let (authorization, body) = &messages[0];
    assert_eq!(authorization, "Bearer s3cret");
    assert_eq!(body["memos"][0]["service"], "Example");
    assert_eq!(body["memos"][0]["topics"][0], "ai");
    assert_eq!(body["failures"][0]["event"], "persistent");
    assert_eq!(body["failures"][0]["terms_type"], "Terms of Service");
    assert_eq!(body["round"]["recorded"], 1);

    // The feed, read by a feed parser.
    let xml = std::fs::read(ws.path().join("memos/feed.xml")).unwrap();
    let feed = feed_rs::parser::parse(&xml[..]).expect("valid Atom");
    // One memo, and one changed policy fact (the text now says it trains AI models).
    let is_fact = |e: &&feed_rs::model::Entry| e.categories.iter().any(|c| c.term == "fact");
    assert_eq!(feed.entries.len(), 2);
    let fact = feed.entries.iter().find(is_fact).expect("a fact entry");
    assert!(fact.categories.iter().any(|c| c.term == "ai_training"));
    assert_eq!(
        fact.links[0].href,
        format!("https://versions.example.org/commit/{commit}")
    );
    assert_eq!(body["facts"][0]["id"], "ai_training");
    assert_eq!(body["facts"][0]["to"], "yes");
    let entry = feed.entries.iter().find(|e| !is_fact(e)).unwrap();
    assert!(
        entry.title.as_ref().unwrap().content
            == "Example now says it collects your email and uses it to train AI models"
    );
    assert_eq!(
        entry.links[0].href,
        format!("https://versions.example.org/commit/{commit}")
    );
    assert!(entry.categories.iter().any(|c| c.term == "ai"));
    assert!(
        entry
            .summary
            .as_ref()
            .unwrap()
            .content
            .contains("significance")
    );

    // A third failing round says nothing new; recovery is announced once.
    track();
    assert_eq!(
        received.lock().unwrap().len(),
        1,
        "the persistent failure is not repeated"
    );
    server.set("/terms", Behaviour::html("<main><p>Terms.</p></main>"));
    track();
    let messages = received.lock().unwrap().clone();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].1["failures"][0]["event"], "recovered");
    // Secrets never reach the files policydiff writes.
    let runs = std::fs::read_to_string(ws.path().join(".policydiff/runs.jsonl")).unwrap();
    assert!(!runs.contains("s3cret"));
}

#[test]
fn a_failing_webhook_never_fails_the_round() {
    let server = Server::start();
    server.set("/privacy", Behaviour::html("<main><p>One.</p></main>"));
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ws = Workspace::new("");
    ws.append_config(&format!(
        "notify:\n  webhooks:\n    - url: http://127.0.0.1:{closed}/hook\n"
    ));
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}}),
    );
    assert!(ws.track(&[]).status.success());
    server.set(
        "/privacy",
        Behaviour::html("<main><p>Two, with new advertising partners.</p></main>"),
    );
    let output = ws.track(&[]);
    assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
    assert_eq!(ws.commit_count(), 2);
}

/// The e-mail settings for an SMTP server on this machine.
fn email_config(port: u16) -> String {
    format!(
        "notify:\n  email:\n    host: 127.0.0.1\n    port: {port}\n    security: none\n    from: policydiff <bot@example.org>\n    to: [reviewers@example.org]\n"
    )
}

/// A minimal SMTP server on 127.0.0.1 (no TLS) that keeps the messages it accepts.
fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let store = messages.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut writer = stream.try_clone().unwrap();
            let mut reader = BufReader::new(stream);
            let _ = writer.write_all(b"220 localhost ESMTP test\r\n");
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let command = line.to_ascii_uppercase();
                if command.starts_with("EHLO") || command.starts_with("HELO") {
                    let _ = writer.write_all(b"250-localhost\r\n250 8BITMIME\r\n");
                } else if command.starts_with("DATA") {
                    let _ = writer.write_all(b"354 go ahead\r\n");
                    let mut data = String::new();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == ".\r\n" {
                            break;
                        }
                        data.push_str(&line);
                    }
                    store.lock().unwrap().push(data);
                    let _ = writer.write_all(b"250 queued\r\n");
                } else if command.starts_with("QUIT") {
                    let _ = writer.write_all(b"221 bye\r\n");
                    break;
                } else {
                    let _ = writer.write_all(b"250 ok\r\n");
                }
            }
        }
    });
    (port, messages)
}

#[test]
fn an_email_digest_is_sent_after_a_round_with_news() {
    let server = Server::start();
    server.set(
        "/privacy",
        Behaviour::html("<main><p>We keep your data for a year.</p></main>"),
    );
    let (port, messages) = smtp_server();
    let ws = Workspace::new("");
    ws.append_config(&email_config(port));
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}}),
    );
    assert!(ws.track(&[]).status.success());
    assert!(messages.lock().unwrap().is_empty(), "no news, no mail");
    server.set(
        "/privacy",
        Behaviour::html(
            "<main><p>We keep your data for ten years and share it with partners.</p></main>",
        ),
    );
    assert!(ws.track(&[]).status.success());
    let messages = messages.lock().unwrap().clone();
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert!(
        mail.contains("Subject: policydiff: 1 change to review, 0 persistent failures"),
        "{mail}"
    );
    assert!(mail.contains("To: reviewers@example.org"), "{mail}");
    assert!(
        mail.contains("Example now says it keeps your data for ten years"),
        "{mail}"
    );
}

#[test]
#[ignore = "needs Python's aiosmtpd (pip install aiosmtpd); .ci/run installs it"]
fn the_digest_reaches_a_real_smtp_server_process() {
    let server = Server::start();
    server.set(
        "/privacy",
        Behaviour::html("<main><p>We keep your data for a year.</p></main>"),
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let maildir = tempfile::tempdir().unwrap();
    let mut smtpd = std::process::Command::new("python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(maildir.path().join("Maildir"))
        .spawn()
        .expect("python3 -m aiosmtpd");
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(ready, "aiosmtpd listens");
    let ws = Workspace::new("");
    ws.append_config(&email_config(port));
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}}),
    );
    assert!(ws.track(&[]).status.success());
    server.set(
        "/privacy",
        Behaviour::html(
            "<main><p>We keep your data for ten years and use it to train AI models.</p></main>",
        ),
    );
    assert!(ws.track(&[]).status.success());
    let _ = smtpd.kill();
    let _ = smtpd.wait();
    let new = maildir.path().join("Maildir/new");
    let mails: Vec<String> = std::fs::read_dir(&new)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("Example now says it keeps your data for ten years"),
        "{}",
        mails[0]
    );
}

#[test]
fn with_only_published_webhooks_hear_of_a_memo_when_a_reviewer_publishes_it() {
    let server = Server::start();
    server.set(
        "/privacy",
        Behaviour::html("<main><p>We collect your email.</p></main>"),
    );
    let (hook, received) = receiver();
    let ws = Workspace::new("");
    ws.append_config(&format!(
        "notify:\n  only_published: true\n  webhooks:\n    - url: {hook}\n"
    ));
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}}),
    );
    assert!(ws.track(&["-q"]).status.success());
    server.set(
        "/privacy",
        Behaviour::html("<main><p>We collect your email and sell it to brokers.</p></main>"),
    );
    assert!(ws.track(&["-q"]).status.success());
    assert!(
        received.lock().unwrap().is_empty(),
        "a draft is not announced when only published memos are"
    );
    let listed = ws.run(&["review", "list", "--json"]);
    let drafts: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(drafts.len(), 1);
    let id = drafts[0]["id"].as_str().unwrap();
    let approved = ws.run(&["review", "approve", id, "--by", "Ana"]);
    assert!(approved.status.success(), "{}", stderr(&approved));
    let calls = received.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let memo = &calls[0].1["memos"][0];
    assert_eq!(memo["status"], "published");
    assert_eq!(memo["title"], drafts[0]["title"]);
}
