//! Policy facts, end to end: a local site's privacy policy begins to say that conversations train
//! AI models and that people can opt out; the facts, their history, the feed, the memo and the
//! card follow. Bad rules get clear errors. The card is looked at in Chromium (ignored test).

mod common;

use common::*;
use serde_json::json;

const BEFORE: &str = "<main><h1>Privacy Policy</h1><h2>What we collect</h2><p>We collect your email address.</p><p>We do not sell your personal information.</p></main>";
const AFTER: &str = "<main><h1>Privacy Policy</h1><h2>What we collect</h2><p>We collect your email address and your conversations with Example AI.</p><p>We use your conversations with Example AI to train our AI models. You can opt out of this use in your settings.</p><p>We do not sell your personal information.</p><h2>Your rights in the EEA</h2><p>You have the right to object to the processing of your personal data.</p></main>";

fn facts_json(ws: &Workspace, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["facts", "--json"];
    all.extend_from_slice(args);
    let output = ws.run(&all);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn fact<'a>(service: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    service["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no fact {id}"))
}

/// A workspace whose privacy policy changed once to train AI on conversations.
fn tracked() -> (Server, Workspace, String, String) {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(BEFORE));
    let ws = Workspace::new("");
    ws.append_config("memos:\n  commit_url: https://versions.example.org/commit/{commit}\n");
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"}}),
    );
    assert!(ws.track(&["-q"]).status.success());
    let first = ws.git(&["rev-parse", "HEAD"]).trim().to_string();
    server.set("/privacy", Behaviour::html(AFTER));
    assert!(ws.track(&["-q"]).status.success());
    let second = ws.git(&["rev-parse", "HEAD"]).trim().to_string();
    (server, ws, first, second)
}

#[test]
fn facts_follow_the_text_with_evidence_history_feed_memo_and_card() {
    let (_server, ws, first, second) = tracked();

    let now = facts_json(&ws, &[]);
    let service = &now["services"][0];
    assert_eq!(service["service"], "Example");
    assert!(service["last_verified"].is_string(), "{service}");
    let training = fact(service, "ai_training");
    assert_eq!(training["answer"], "yes");
    assert_eq!(
        training["question"],
        "Does it use people's data to train AI or machine-learning models?"
    );
    assert_eq!(training["since"]["commit"], second.as_str());
    let evidence = &training["evidence"][0];
    assert_eq!(
        evidence["quote"],
        "We use your conversations with Example AI to train our AI models."
    );
    assert_eq!(evidence["terms_type"], "Privacy Policy");
    assert_eq!(evidence["commit"], second.as_str());
    assert_eq!(fact(service, "ai_training_opt_out")["answer"], "yes");
    let selling = fact(service, "sells_personal_data");
    assert_eq!(selling["answer"], "no");
    assert_eq!(
        selling["since"]["commit"],
        first.as_str(),
        "unchanged since the first record"
    );
    assert_eq!(
        fact(service, "ai_chats_human_review")["answer"],
        "not_stated"
    );
    assert!(
        fact(service, "ai_chats_human_review")["evidence"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let objection = fact(service, "objection_right_regions");
    assert_eq!(objection["answer"], "stated");
    assert_eq!(objection["regions"], json!(["EU/EEA"]));

    // At the first commit's date, before the change… (the same day here, so by commit: the
    // history says when it changed).
    let history = facts_json(&ws, &["--history"]);
    let changes = history["services"][0]["history"].as_array().unwrap();
    let training_change = changes
        .iter()
        .find(|c| c["id"] == "ai_training")
        .expect("the change of ai_training is in the history");
    assert_eq!(training_change["commit"], second.as_str());
    assert_eq!(training_change["from"], "not stated");
    assert_eq!(training_change["to"], "yes");

    // The feed has an entry for the changed answer, and the memo says it.
    let xml = std::fs::read(ws.path().join("memos/feed.xml")).unwrap();
    let feed = feed_rs::parser::parse(&xml[..]).expect("valid Atom");
    let entry = feed
        .entries
        .iter()
        .find(|e| e.categories.iter().any(|c| c.term == "ai_training"))
        .expect("a feed entry for the ai_training change");
    assert!(entry.categories.iter().any(|c| c.term == "fact"));
    let title = &entry.title.as_ref().unwrap().content;
    assert!(title.contains("now yes (was not stated)"), "{title}");
    let memo_path = std::fs::read_dir(ws.path().join("memos"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .unwrap();
    let memo = std::fs::read_to_string(&memo_path).unwrap();
    assert!(
        memo.contains("Policy facts: Does it use people's data to train AI or machine-learning models? Now yes, was not stated: it now says it uses your conversations with Example AI to train its AI models (“We use your conversations with Example AI to train our AI models.”)."),
        "{memo}"
    );
    // The memo's quotations, the fact's included, pass the reviewer's verbatim check.
    let id = memo_path.file_stem().unwrap().to_str().unwrap();
    let approve = ws.run(&["review", "approve", id, "--by", "Ana"]);
    assert!(approve.status.success(), "{}", stderr(&approve));

    // The card: badges, answers, evidence linked to the commit, last verified, history.
    let card = ws.path().join("card.html");
    let output = ws.run(&[
        "facts",
        "Example",
        "--history",
        "--format",
        "html",
        "--out",
        card.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let html = std::fs::read_to_string(&card).unwrap();
    assert!(html.contains("Trains on your data") && html.contains("Opt-out available"));
    assert!(html.contains(&format!("https://versions.example.org/commit/{second}")));
    assert!(html.contains("Last verified "));
    assert!(html.contains("History of the answers"));
    let markdown = ws.run(&["facts", "Example", "--format", "markdown"]);
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    assert!(
        markdown.contains("> “We use your conversations with Example AI to train our AI models.”"),
        "{markdown}"
    );
}

#[test]
fn rules_are_data_and_bad_rules_are_named() {
    let (_server, ws, _, _) = tracked();
    // A rule of the user's, beside config.yaml.
    std::fs::write(
        ws.path().join("facts.yaml"),
        "facts:\n  - id: email_collected\n    question: Is the e-mail address collected?\n    yes: ['\\bemail address\\b']\n",
    )
    .unwrap();
    let facts = facts_json(&ws, &["Example"]);
    assert_eq!(
        fact(&facts["services"][0], "email_collected")["answer"],
        "yes"
    );
    // A broken one: the file, the fact, the pattern and why.
    std::fs::write(
        ws.path().join("facts.yaml"),
        "facts:\n  - id: broken\n    question: Q?\n    yes: ['(unclosed']\n",
    )
    .unwrap();
    let output = ws.run(&["facts"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("facts.yaml")
            && message.contains("fact 'broken'")
            && message.contains("(unclosed"),
        "{message}"
    );
    // An unknown service.
    std::fs::remove_file(ws.path().join("facts.yaml")).unwrap();
    let output = ws.run(&["facts", "Nobody"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

#[test]
#[ignore = "needs Chromium"]
fn the_card_renders_in_a_real_browser() {
    let (_server, ws, _, _) = tracked();
    let card = ws.path().join("card.html");
    let output = ws.run(&[
        "facts",
        "Example",
        "--history",
        "--format",
        "html",
        "--out",
        card.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("facts-card");
    std::fs::create_dir_all(&shots).unwrap();
    let png = shots.join("card.png");
    let executable = policydiff::fetch::browser::find_executable(None)
        .unwrap_or_else(|problem| panic!("{problem}: this test drives a real Chromium"));
    let profile = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(executable);
    command.args([
        "--headless=new",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=900,1400",
        &format!("--user-data-dir={}", profile.path().display()),
        &format!("--screenshot={}", png.display()),
    ]);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        command.arg("--no-sandbox");
    }
    let status = command
        .arg(format!("file://{}", card.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&png).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes[..]));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    let greys: Vec<f64> = buffer[..info.buffer_size()]
        .chunks(channels)
        .map(|p| p.iter().take(3).map(|&c| f64::from(c)).sum::<f64>() / 3.0)
        .collect();
    let mean = greys.iter().sum::<f64>() / greys.len() as f64;
    let variance = greys.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / greys.len() as f64;
    assert!(variance > 100.0, "the card is not blank ({variance})");
    // Coloured badges: some pixels are clearly not grey.
    let coloured = buffer[..info.buffer_size()]
        .chunks(channels)
        .filter(|p| {
            let (r, g, b) = (i32::from(p[0]), i32::from(p[1]), i32::from(p[2]));
            (r - g).abs() > 40 || (g - b).abs() > 40
        })
        .count();
    assert!(
        coloured > 200,
        "the badges have their colours ({coloured} pixels)"
    );
}

#[test]
fn changes_across_services_are_listed_newest_first_as_text_json_and_atom() {
    let (_server, ws, _first, second) = tracked();

    let output = ws.run(&["facts", "--changes", "--fact", "ai_training", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let changes = listed["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{listed}");
    assert_eq!(changes[0]["service"], "Example");
    assert_eq!(changes[0]["id"], "ai_training");
    assert_eq!(changes[0]["from"], "not stated");
    assert_eq!(changes[0]["to"], "yes");
    assert_eq!(changes[0]["commit"], second.as_str());
    assert_eq!(
        changes[0]["evidence"][0]["quote"],
        "We use your conversations with Example AI to train our AI models."
    );

    // Every fact: the training change and the first answers, newest first.
    let text = ws.run(&["facts", "--changes"]);
    assert!(text.status.success(), "{}", stderr(&text));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("Example  ai_training: not stated → yes  (Privacy Policy, "),
        "{text}"
    );
    assert!(
        text.contains("“We use your conversations with Example AI to train our AI models.”"),
        "{text}"
    );
    let dates: Vec<&str> = text
        .lines()
        .filter(|line| !line.starts_with(' '))
        .map(|line| &line[..10])
        .collect();
    assert!(dates.len() >= 2, "{text}");
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {text}"
    );

    let feed = ws.run(&[
        "facts",
        "--changes",
        "--format",
        "atom",
        "--fact",
        "ai_training",
    ]);
    assert!(feed.status.success(), "{}", stderr(&feed));
    let feed = String::from_utf8(feed.stdout).unwrap();
    assert!(feed.starts_with("<?xml"), "{feed}");
    assert_eq!(feed.matches("<entry>").count(), 1, "{feed}");
    assert!(feed.contains("term=\"ai_training\""), "{feed}");

    // Nothing since tomorrow; an unknown fact is named with the facts there are.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let none = ws.run(&["facts", "--changes", "--since", &tomorrow]);
    assert!(none.status.success());
    assert!(none.stdout.is_empty());
    let unknown = ws.run(&["facts", "--changes", "--fact", "trains_ai"]);
    assert!(!unknown.status.success());
    let message = stderr(&unknown);
    assert!(
        message.contains("--fact trains_ai: no such fact") && message.contains("ai_training"),
        "{message}"
    );
}

#[test]
fn at_a_date_each_document_is_read_in_its_version_dated_on_or_before_it() {
    // A repository whose commit dates are out of history order: the second commit is dated
    // before the first (an import, a clock set wrong).
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let git = |args: &[&str], date: &str| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
            .args(args)
            .current_dir(repo)
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"], "2026-01-01T00:00:00Z");
    std::fs::create_dir(repo.join("Example")).unwrap();
    let record = |text: &str, date: &str| {
        std::fs::write(repo.join("Example/Privacy Policy.md"), text).unwrap();
        git(&["add", "-A"], date);
        git(
            &["commit", "-q", "-m", "Record Example Privacy Policy"],
            date,
        );
    };
    record(
        "# Privacy Policy\n\nWe use your conversations to train our AI models.\n",
        "2026-03-10T12:00:00Z",
    );
    record(
        "# Privacy Policy\n\nWe do not use your conversations to train our AI models.\n",
        "2026-02-01T12:00:00Z",
    );
    let answer_at = |at: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .args(["facts", "Example", "--json", "--at", at, "--repo"])
            .arg(repo)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let facts: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        fact(&facts["services"][0], "ai_training")["answer"].clone()
    };
    // On 15 February only the version dated 1 February was recorded, though it comes second
    // in history.
    assert_eq!(answer_at("2026-02-15"), "no");
    assert_eq!(answer_at("2026-03-15"), "no", "the latest in history");
}
