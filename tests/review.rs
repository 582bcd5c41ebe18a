//! The reviewer's loop, end to end: a local site tracked twice drafts memos, which are listed,
//! edited, refused when they misquote, approved, rejected, published in the feeds and exported;
//! and the review page answers over HTTP (the browser drives it in tests/review_browser.rs).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::*;
use serde_json::json;

const PRIVACY_V1: &str = "<main><h1>Privacy</h1><p>We collect your email.</p></main>";
const PRIVACY_V2: &str = "<main><h1>Privacy</h1><p>We collect your email and your conversations with our AI features.</p><p>We use your conversations to train our models.</p></main>";
const TERMS_V1: &str = "<main><h1>Terms</h1><p>You may use the service.</p></main>";
const TERMS_V2: &str =
    "<main><h1>Terms</h1><p>You may use the service for personal purposes only.</p></main>";

/// A workspace where two documents changed once: two draft memos.
fn two_drafts() -> (Server, Workspace) {
    let server = Server::start();
    server.set("/privacy", Behaviour::html(PRIVACY_V1));
    server.set("/terms", Behaviour::html(TERMS_V1));
    let ws = Workspace::new("");
    ws.declare(
        "Example",
        json!({
            "Privacy Policy": {"fetch": server.url("/privacy"), "select": "main"},
            "Terms of Service": {"fetch": server.url("/terms"), "select": "main"},
        }),
    );
    assert!(ws.track(&[]).status.success());
    server.set("/privacy", Behaviour::html(PRIVACY_V2));
    server.set("/terms", Behaviour::html(TERMS_V2));
    assert!(ws.track(&[]).status.success());
    (server, ws)
}

fn queue(ws: &Workspace, status: &str) -> Vec<serde_json::Value> {
    let output = ws.run(&["review", "list", "--status", status, "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn memo_file(entry: &serde_json::Value) -> String {
    std::fs::read_to_string(entry["file"].as_str().unwrap()).unwrap()
}

fn id_of<'a>(entries: &'a [serde_json::Value], terms_type: &str) -> &'a str {
    entries
        .iter()
        .find(|e| e["terms_type"] == terms_type)
        .and_then(|e| e["id"].as_str())
        .unwrap_or_else(|| panic!("no memo of {terms_type} in {entries:?}"))
}

#[test]
fn drafts_are_listed_edited_refused_when_misquoting_approved_rejected_and_published() {
    let (_server, ws) = two_drafts();

    // The queue: both drafts, most significant first, with what a script needs.
    let drafts = queue(&ws, "draft");
    assert_eq!(drafts.len(), 2, "{drafts:?}");
    for key in [
        "id",
        "title",
        "status",
        "significance",
        "service",
        "terms_type",
        "topics",
        "date",
        "file",
    ] {
        assert!(drafts[0].get(key).is_some(), "{key} missing: {drafts:?}");
    }
    assert!(drafts[0]["significance"].as_f64() >= drafts[1]["significance"].as_f64());
    assert_eq!(drafts[0]["terms_type"], "Privacy Policy", "{drafts:?}");
    assert!(drafts.iter().all(|d| d["status"] == "draft"));
    let privacy = id_of(&drafts, "Privacy Policy").to_string();
    let terms = id_of(&drafts, "Terms of Service").to_string();
    let topic_filtered = ws.run(&["review", "list", "--topic", "ai", "--json"]);
    let by_topic: Vec<serde_json::Value> = serde_json::from_slice(&topic_filtered.stdout).unwrap();
    assert_eq!(by_topic.len(), 1, "only the privacy memo is about AI");
    assert_eq!(by_topic[0]["id"], privacy.as_str());

    // Editing the title from the command line: still a draft, and kept from redrafting.
    let output = ws.run(&[
        "review",
        "edit",
        &privacy,
        "--title",
        "Example trains its models on AI conversations",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let path = drafts[0]["file"].as_str().unwrap().to_string();
    let edited = std::fs::read_to_string(&path).unwrap();
    assert!(edited.contains("title: Example trains its models on AI conversations"));
    assert!(edited.contains("status: draft"), "{edited}");
    let redraft = ws.run(&["memo", "--all"]);
    assert!(redraft.status.success(), "{}", stderr(&redraft));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);

    // An edit in $EDITOR that puts words in the policy's mouth: approval is refused, naming
    // the quotation, and the memo stays a draft.
    let script = ws.path().join("misquote.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nsed -i 's/We use your conversations/We never use your conversations/' \"$1\"\n",
    )
    .unwrap();
    let editor = format!("sh {}", script.display());
    let output = ws.run_with_env(&["review", "edit", &privacy], &[("EDITOR", &editor)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("We never use")
    );
    let refused = ws.run(&["review", "approve", &privacy, "--by", "Ana"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let message = stderr(&refused);
    assert!(
        message.contains("“We never use your conversations to train our models.”"),
        "{message}"
    );
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("status: draft")
    );

    // Put right, it is approved: published, by whom, when.
    let fix = ws.path().join("fix.sh");
    std::fs::write(
        &fix,
        "#!/bin/sh\nsed -i 's/We never use your conversations/We use your conversations/' \"$1\"\n",
    )
    .unwrap();
    let editor = format!("sh {}", fix.display());
    assert!(
        ws.run_with_env(&["review", "edit", &privacy], &[("EDITOR", &editor)])
            .status
            .success()
    );
    let approved = ws.run(&["review", "approve", &privacy, "--by", "Ana"]);
    assert!(approved.status.success(), "{}", stderr(&approved));
    let published = std::fs::read_to_string(&path).unwrap();
    assert!(published.contains("status: published"), "{published}");
    assert!(published.contains("reviewed_by: Ana"), "{published}");
    assert!(published.contains("reviewed_at: "), "{published}");

    // Rejected with a reason: kept, with the reason.
    let rejected = ws.run(&[
        "review",
        "reject",
        &terms,
        "--reason",
        "wording only",
        "--by",
        "Ana",
    ]);
    assert!(rejected.status.success(), "{}", stderr(&rejected));
    let all = queue(&ws, "all");
    let terms_entry = all.iter().find(|e| e["id"] == terms.as_str()).unwrap();
    assert_eq!(terms_entry["status"], "rejected");
    assert_eq!(terms_entry["rejection_reason"], "wording only");
    assert!(memo_file(terms_entry).contains("status: rejected"));
    assert!(queue(&ws, "draft").is_empty());
    assert_eq!(queue(&ws, "published").len(), 1);

    // Reviewed memos are never redrafted over, and the command says so.
    let snapshot: Vec<String> = all.iter().map(memo_file).collect();
    let redraft = ws.run(&["memo", "--all"]);
    assert!(redraft.status.success(), "{}", stderr(&redraft));
    assert_eq!(all.iter().map(memo_file).collect::<Vec<_>>(), snapshot);
    assert!(
        stderr(&redraft).contains("2 reviewed"),
        "{}",
        stderr(&redraft)
    );

    // Status counts only drafts as to review.
    let status = ws.run(&["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["memos_to_review"].as_array().unwrap().len(), 0);

    // The feeds: every memo with its status; the public one with the published memo only.
    let all_feed = std::fs::read(ws.path().join("memos/feed.xml")).unwrap();
    let all_feed = feed_rs::parser::parse(&all_feed[..]).expect("valid Atom");
    let memo_entries: Vec<_> = all_feed
        .entries
        .iter()
        .filter(|e| !e.categories.iter().any(|c| c.term == "fact"))
        .collect();
    assert_eq!(memo_entries.len(), 2);
    let statuses: Vec<String> = memo_entries
        .iter()
        .flat_map(|e| &e.categories)
        .filter(|c| c.scheme.as_deref() == Some("urn:policydiff:status"))
        .map(|c| c.term.clone())
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&"published".to_string()));
    assert!(statuses.contains(&"rejected".to_string()));
    let public = std::fs::read(ws.path().join("memos/published.xml")).unwrap();
    let public = feed_rs::parser::parse(&public[..]).expect("valid Atom");
    assert_eq!(public.entries.len(), 1);
    assert_eq!(
        public.entries[0].title.as_ref().unwrap().content,
        "Example trains its models on AI conversations"
    );

    // Export in OTA's website layout.
    let site = tempfile::tempdir().unwrap();
    let exported = ws.run(&["review", "export", "--ota", site.path().to_str().unwrap()]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let index = site
        .path()
        .join("content/memos/example-trains-its-models-on-ai-conversations/index.md");
    let text = std::fs::read_to_string(&index).unwrap_or_else(|e| panic!("{index:?}: {e}"));
    assert!(text.starts_with("---\ntitle: Example trains its models on AI conversations\n"));
    assert!(text.contains("terms_types:\n- Privacy Policy"), "{text}");
    assert!(text.contains("“We use your conversations to train our models.”"));
    assert!(
        !text.contains("status:"),
        "OTA's front matter has no review status"
    );
}

#[test]
fn an_unknown_memo_id_is_a_clear_usage_error() {
    let ws = Workspace::new("");
    let output = ws.run(&["review", "approve", "2020-01-01-nobody", "--by", "Ana"]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("no memo with id '2020-01-01-nobody'")
            && message.contains("review list --status all"),
        "{message}"
    );
    let output = ws.run(&["review", "reject", "../config", "--reason", "x"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

/// The review page, started on a free port; its address is the first line it prints.
struct ReviewServer {
    child: Child,
    address: String,
}

impl ReviewServer {
    fn start(ws: &Workspace, extra: &[&str], env: &[(&str, &str)]) -> ReviewServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .current_dir(ws.path())
            .args(["review", "serve", "--port", "0", "--by", "Ana"])
            .args(extra)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(
            address.starts_with("http://127.0.0.1:") && address.ends_with('/'),
            "{address:?}"
        );
        ReviewServer { child, address }
    }
}

impl Drop for ReviewServer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A plain HTTP client that does not follow redirects (to see the 303 after a write).
struct Http {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
}

impl Http {
    fn new() -> Http {
        Http {
            runtime: tokio::runtime::Runtime::new().unwrap(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    fn get(&self, url: &str) -> String {
        self.runtime.block_on(async {
            let response = self.client.get(url).send().await.unwrap();
            assert!(
                response.status().is_success(),
                "{url}: {}",
                response.status()
            );
            response.text().await.unwrap()
        })
    }

    fn post(&self, url: &str, form: &[(&str, &str)]) -> u16 {
        let body = serde_urlencoded::to_string(form).unwrap();
        self.runtime.block_on(async {
            self.client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    }
}

#[test]
fn the_page_lists_shows_and_acts_only_with_its_token() {
    let (_server, ws) = two_drafts();
    let drafts = queue(&ws, "draft");
    let privacy = id_of(&drafts, "Privacy Policy").to_string();
    let path = drafts.iter().find(|d| d["id"] == privacy.as_str()).unwrap()["file"]
        .as_str()
        .unwrap()
        .to_string();
    let page = ReviewServer::start(&ws, &[], &[]);
    let client = Http::new();

    let queue_html = client.get(&page.address);
    assert!(queue_html.contains(&format!("href=\"/memos/{privacy}\"")));
    let token = queue_html
        .split("name=\"policydiff-token\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    assert_eq!(token.len(), 32);

    let memo_html = client.get(&format!("{}memos/{privacy}", page.address));
    assert!(
        memo_html.contains("<mark>"),
        "the diff highlights words: {memo_html}"
    );
    assert!(
        memo_html.contains("class=\"quote\" href=\"#q"),
        "quotations link to the diff"
    );

    // Without the token (another site posting a form): 403, nothing changes.
    let before = std::fs::read_to_string(&path).unwrap();
    let approve = format!("{}memos/{privacy}/approve", page.address);
    assert_eq!(client.post(&approve, &[("by", "Mallory")]), 403);
    assert_eq!(
        client.post(&approve, &[("token", "0000"), ("by", "Mallory")]),
        403
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);

    // With it: published, and back to the memo's page.
    assert_eq!(
        client.post(&approve, &[("token", token.as_str()), ("by", "Ana")]),
        303
    );
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(after.contains("status: published") && after.contains("reviewed_by: Ana"));
}

#[test]
fn listening_beyond_this_machine_needs_a_password() {
    let ws = Workspace::new("");
    let output = ws.run(&["review", "serve", "--bind", "0.0.0.0", "--port", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("POLICYDIFF_REVIEW_PASSWORD"),
        "{}",
        stderr(&output)
    );
}

/// Starts Chromium (headless) and connects to it.
async fn chromium() -> (
    chromiumoxide::Browser,
    tokio::task::JoinHandle<()>,
    tokio::process::Child,
    tempfile::TempDir,
) {
    use futures_util::StreamExt;
    use tokio::io::AsyncBufReadExt;
    let executable = policydiff::fetch::browser::find_executable(None).unwrap_or_else(|problem| {
        panic!("{problem}: this test drives a real Chromium (apt-get install chromium)")
    });
    let profile = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(executable);
    command
        .args([
            "--headless=new",
            "--remote-debugging-port=0",
            "--no-first-run",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        command.arg("--no-sandbox");
    }
    let mut process = command.arg("about:blank").spawn().unwrap();
    let mut lines = tokio::io::BufReader::new(process.stderr.take().unwrap()).lines();
    let endpoint = loop {
        let line = lines.next_line().await.unwrap().expect("Chromium started");
        if let Some(endpoint) = line.strip_prefix("DevTools listening on ") {
            break endpoint.trim().to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let (browser, mut handler) = chromiumoxide::Browser::connect(endpoint).await.unwrap();
    let handler = tokio::spawn(async move { while handler.next().await.is_some() {} });
    (browser, handler, process, profile)
}

/// Polls a JavaScript condition until it holds (10 s at most): a navigation may not have begun,
/// or may have replaced the document, when the previous step returns.
async fn wait_until(page: &chromiumoxide::Page, condition: &str) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if let Ok(value) = page.evaluate(condition).await
            && value.into_value::<bool>().unwrap_or(false)
        {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// The variance of a PNG's grey levels: 0 for a blank page.
fn pixel_variance(png_bytes: &[u8]) -> f64 {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    let greys: Vec<f64> = buffer[..info.buffer_size()]
        .chunks(channels)
        .map(|p| p.iter().take(3).map(|&c| f64::from(c)).sum::<f64>() / 3.0)
        .collect();
    let mean = greys.iter().sum::<f64>() / greys.len() as f64;
    greys.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / greys.len() as f64
}

#[test]
#[ignore = "needs Chromium"]
fn a_reviewer_approves_a_memo_with_the_keyboard_in_a_real_browser() {
    use chromiumoxide::page::ScreenshotParams;
    let (_server, ws) = two_drafts();
    let drafts = queue(&ws, "draft");
    let first = drafts[0]["id"].as_str().unwrap().to_string();
    let path = drafts[0]["file"].as_str().unwrap().to_string();
    let page_server = ReviewServer::start(&ws, &[], &[]);
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("review-screenshots");
    std::fs::create_dir_all(&shots).unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (mut browser, handler, _process, _profile) = chromium().await;
        let page = browser
            .new_page(page_server.address.as_str())
            .await
            .unwrap();
        page.wait_for_navigation().await.unwrap();
        let queue_png = page
            .screenshot(ScreenshotParams::builder().full_page(true).build())
            .await
            .unwrap();
        std::fs::write(shots.join("queue.png"), &queue_png).unwrap();
        assert!(pixel_variance(&queue_png) > 100.0, "the queue is not blank");
        let rows = page.find_elements("tbody tr[data-id]").await.unwrap();
        assert_eq!(rows.len(), 2);

        // j selects the first (most significant) memo, Enter opens it.
        let body = page.find_element("body").await.unwrap();
        body.press_key("j").await.unwrap();
        let focused = page
            .evaluate("document.activeElement.closest('tr').dataset.id")
            .await
            .unwrap()
            .into_value::<String>()
            .unwrap();
        assert_eq!(focused, first);
        page.find_element("tr.current a.open")
            .await
            .unwrap()
            .press_key("Enter")
            .await
            .unwrap();
        assert!(
            wait_until(
                &page,
                &format!(
                    "document.readyState === 'complete' && location.pathname === '/memos/{first}'"
                )
            )
            .await,
            "Enter opens the memo"
        );
        let title = page
            .find_element("#memo-title")
            .await
            .unwrap()
            .inner_text()
            .await
            .unwrap()
            .unwrap_or_default();
        assert_eq!(title, drafts[0]["title"].as_str().unwrap());
        assert!(!page.find_elements("td.new mark").await.unwrap().is_empty());

        // a approves; the page comes back saying so, and the file says so.
        page.find_element("body")
            .await
            .unwrap()
            .press_key("a")
            .await
            .unwrap();
        // The form's submission navigates; wait for the page that comes back.
        assert!(
            wait_until(
                &page,
                "document.readyState === 'complete' && document.querySelector('p.muted .badge')?.textContent === 'published'"
            )
            .await,
            "the memo page says published"
        );
        let memo_png = page
            .screenshot(ScreenshotParams::builder().full_page(true).build())
            .await
            .unwrap();
        std::fs::write(shots.join("memo.png"), &memo_png).unwrap();
        assert!(
            pixel_variance(&memo_png) > 100.0,
            "the memo page is not blank"
        );
        browser.close().await.ok();
        handler.abort();
    });
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("status: published"), "{text}");
    assert!(text.contains("reviewed_by: Ana"), "{text}");
}
