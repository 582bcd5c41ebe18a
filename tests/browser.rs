//! Pages that need JavaScript, rendered in a real headless Chromium, against pages served from
//! 127.0.0.1. The tests that drive Chromium are ignored by a plain `cargo test` (listed as
//! ignored, never passed without running); `cargo test --test browser -- --ignored` runs them
//! and fails when no browser is installed. `.ci/run` installs Debian's chromium and runs them.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Behaviour, Server, Workspace, document, report};
use serde_json::json;

/// Fails, saying what to install, when there is no browser: an ignored test that is asked for
/// must run.
fn require_browser() {
    if let Err(problem) = policydiff::fetch::browser::find_executable(None) {
        panic!("{problem}: these tests drive a real Chromium (apt-get install chromium)");
    }
}

/// A mark for one policydiff run: its own temporary folder (`TMPDIR`), which is in the
/// environment of the browser it starts and in the command line of every browser process
/// (their profile folder lives there).
fn mark() -> String {
    let dir = std::env::temp_dir().join(format!(
        "policydiff-browser-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.to_str().unwrap().to_string()
}

/// Processes still alive started by the run marked `mark` (zombies aside).
fn marked_processes(mark: &str) -> Vec<u32> {
    let in_environment = format!("TMPDIR={mark}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(true);
        let marked = environ
            .split(|b| *b == 0)
            .any(|v| v == in_environment.as_bytes())
            || String::from_utf8_lossy(&cmdline).contains(mark);
        if !zombie && marked {
            found.push(pid);
        }
    }
    found
}

fn no_marked_process_left(mark: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !marked_processes(mark).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let left = marked_processes(mark);
    assert!(left.is_empty(), "browser processes left behind: {left:?}");
}

fn track(ws: &Workspace, mark: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .args(["track", "--json"])
        .env("TMPDIR", mark)
        .output()
        .unwrap()
}

const DELAYED: &str = r#"<html><body><main id="policy"></main><script>
setTimeout(function () {
  document.getElementById('policy').innerHTML = '<h2>Your data</h2><p>We use your chats with our AI to personalise ads. Language: ' + navigator.language + '.</p>';
}, 700);
</script></body></html>"#;

const CLICK: &str = r#"<html><body><button id="more" onclick="document.getElementById('rest').hidden = false; document.getElementById('rest').textContent = 'Hidden clause: we keep data for ten years.';">Read more</button>
<main><p>Summary.</p><div id="rest" hidden></div></main></body></html>"#;

const NEVER: &str = r#"<html><body><div id="app">Loading…</div></body></html>"#;

#[test]
#[ignore = "needs Chromium"]
fn scripts_render_the_text_clicks_reveal_more_and_missing_content_times_out() {
    require_browser();
    let server = Server::start();
    server.set("/delayed", Behaviour::html(DELAYED));
    server.set("/click", Behaviour::html(CLICK));
    server.set("/never", Behaviour::html(NEVER));
    server.set(
        "/plain",
        Behaviour::html("<main><p>Plain terms.</p></main>"),
    );
    let ws = Workspace::new("  accept_language: fr-FR");
    ws.append_config("browser:\n  wait_timeout: 3s\n");
    ws.declare(
        "Scripted",
        json!({
            "Privacy Policy": {"fetch": server.url("/delayed"), "select": "#policy", "executeClientScripts": true},
            "Terms of Service": {"fetch": server.url("/click"), "select": "main", "executeClientScripts": true,
                                 "actions": [{"click": "#more"}, {"waitFor": "#rest"}]},
            "Trackers Policy": {"fetch": server.url("/never"), "select": "#policy-text", "executeClientScripts": true},
            "Imprint": {"fetch": server.url("/plain"), "select": "main"}
        }),
    );
    let mark = mark();
    let output = track(&ws, &mark);
    let r = report(&output);
    assert_eq!(r["browser_started"], true);

    let privacy = String::from_utf8(ws.file("Scripted/Privacy Policy.md").unwrap()).unwrap();
    assert!(
        privacy.contains("We use your chats with our AI to personalise ads."),
        "{privacy}"
    );
    assert!(
        privacy.contains("Language: fr-FR."),
        "navigator.language follows accept_language: {privacy}"
    );
    let terms = String::from_utf8(ws.file("Scripted/Terms of Service.md").unwrap()).unwrap();
    assert!(
        terms.contains("Hidden clause: we keep data for ten years."),
        "{terms}"
    );

    let never = document(&r, "Scripted", "Trackers Policy");
    assert_eq!(never["status"], "failed");
    assert_eq!(never["error_class"], "timeout");
    let message = never["error"].as_str().unwrap();
    assert!(
        message.contains("#policy-text") && message.contains("wait_timeout"),
        "{message}"
    );
    assert_eq!(
        document(&r, "Scripted", "Imprint")["status"],
        "first_record"
    );
    // The rendered DOM is kept as the source of the version.
    let source = String::from_utf8(ws.file("Scripted/Privacy Policy.html").unwrap()).unwrap();
    assert!(source.contains("personalise ads"));

    no_marked_process_left(&mark);
}

#[test]
#[ignore = "needs Chromium"]
fn plain_http_runs_never_start_a_browser() {
    require_browser();
    let server = Server::start();
    server.set(
        "/plain",
        Behaviour::html("<main><p>Plain terms.</p></main>"),
    );
    let ws = Workspace::new("");
    ws.declare(
        "Plain",
        json!({"Terms of Service": {"fetch": server.url("/plain"), "select": "main"},
               "Privacy Policy": {"fetch": server.url("/plain"), "select": "main", "executeClientScripts": false}}),
    );
    let mark = mark();
    let r = report(&track(&ws, &mark));
    assert_eq!(r["browser_started"], false);
    assert_eq!(r["recorded"], 2);
    assert!(marked_processes(&mark).is_empty());
}

#[test]
fn without_a_browser_only_the_documents_that_need_one_fail() {
    let server = Server::start();
    server.set("/delayed", Behaviour::html(DELAYED));
    server.set(
        "/plain",
        Behaviour::html("<main><p>Plain terms.</p></main>"),
    );
    let ws = Workspace::new("");
    ws.declare(
        "Mixed",
        json!({"Privacy Policy": {"fetch": server.url("/delayed"), "select": "#policy", "executeClientScripts": true},
               "Terms of Service": {"fetch": server.url("/plain"), "select": "main"}}),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .args(["track", "--json"])
        .env("CHROME", ws.path().join("no-such-browser"))
        .output()
        .unwrap();
    let r = report(&output);
    let needs = document(&r, "Mixed", "Privacy Policy");
    assert_eq!(needs["error_class"], "needs_browser");
    let message = needs["error"].as_str().unwrap();
    assert!(
        message.contains("no-such-browser") && message.contains("apt-get install chromium"),
        "{message}"
    );
    assert_eq!(
        document(&r, "Mixed", "Terms of Service")["status"],
        "first_record"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
#[ignore = "needs Chromium"]
fn a_challenge_page_is_retried_in_the_browser_when_undeclared() {
    require_browser();
    let server = Server::start();
    // Plain HTTP gets a challenge page; the browser (which runs the script) gets the text.
    server.set(
        "/guarded",
        Behaviour::Respond {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: br#"<html><head><title>Just a moment...</title></head><body><div id="cf-browser-verification">Checking your browser</div><script>document.title='Terms';document.body.innerHTML='<main><p>Guarded terms.</p></main>';</script></body></html>"#.to_vec(),
        },
    );
    let ws = Workspace::new("");
    ws.declare(
        "Guarded",
        json!({"Terms of Service": {"fetch": server.url("/guarded"), "select": "main"}}),
    );
    let mark = mark();
    let r = report(&track(&ws, &mark));
    assert_eq!(
        document(&r, "Guarded", "Terms of Service")["status"],
        "first_record",
        "{r}"
    );
    assert_eq!(r["browser_started"], true);
    let text = String::from_utf8(ws.file("Guarded/Terms of Service.md").unwrap()).unwrap();
    assert_eq!(text, "Guarded terms.");
    no_marked_process_left(&mark);
}

/// The renderer processes among the marked ones.
fn marked_renderers(mark: &str) -> Vec<u32> {
    marked_processes(mark)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains("--type=renderer"))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
#[ignore = "needs Chromium"]
fn a_crashed_renderer_fails_its_document_and_the_others_go_on() {
    require_browser();
    let server = Server::start();
    server.set("/never", Behaviour::html(NEVER));
    server.set("/delayed", Behaviour::html(DELAYED));
    let ws = Workspace::new("");
    ws.append_config("browser:\n  wait_timeout: 20s\n  concurrency: 1\n");
    ws.declare(
        "A Crashing",
        json!({"Terms of Service": {"fetch": server.url("/never"), "select": "#policy-text", "executeClientScripts": true}}),
    );
    ws.declare(
        "B Fine",
        json!({"Privacy Policy": {"fetch": server.url("/delayed"), "select": "#policy", "executeClientScripts": true}}),
    );
    let mark = mark();
    let child = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .args(["track", "--json"])
        .env("TMPDIR", &mark)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the page that never renders, then kill its renderer.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.hits("/never") == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    for pid in marked_renderers(&mark) {
        // SAFETY: kill(2) on a renderer process this test's run started.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
    let output = child.wait_with_output().unwrap();
    let r = report(&output);
    let crashed = document(&r, "A Crashing", "Terms of Service");
    assert_eq!(crashed["error_class"], "browser_crash", "{r}");
    assert_eq!(
        document(&r, "B Fine", "Privacy Policy")["status"],
        "first_record",
        "{r}"
    );
    no_marked_process_left(&mark);
}

#[test]
#[ignore = "needs Chromium"]
fn a_killed_run_leaves_no_browser_behind() {
    require_browser();
    let server = Server::start();
    server.set("/never", Behaviour::html(NEVER));
    let ws = Workspace::new("");
    ws.append_config("browser:\n  wait_timeout: 30s\n");
    ws.declare(
        "Slow",
        json!({"Terms of Service": {"fetch": server.url("/never"), "select": "#policy-text", "executeClientScripts": true}}),
    );
    let mark = mark();
    let mut child = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .current_dir(ws.path())
        .args(["track", "--json"])
        .env("TMPDIR", &mark)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while marked_renderers(&mark).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!marked_renderers(&mark).is_empty(), "the browser started");
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    no_marked_process_left(&mark);
}

#[test]
#[ignore = "needs Chromium"]
fn a_pdf_reached_in_the_browser_is_recorded_as_the_pdf() {
    require_browser();
    let server = Server::start();
    let pdf = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pdf/policy.pdf"
    ))
    .unwrap();
    server.set(
        "/terms",
        Behaviour::Respond {
            status: 200,
            headers: vec![("Content-Type".into(), "application/pdf".into())],
            body: pdf.clone(),
        },
    );
    let ws = Workspace::new("");
    ws.declare(
        "Paper",
        json!({"Terms of Service": {"fetch": server.url("/terms"), "select": "body", "executeClientScripts": true}}),
    );
    let mark = mark();
    let r = report(&track(&ws, &mark));
    assert_eq!(
        document(&r, "Paper", "Terms of Service")["status"],
        "first_record",
        "{r}"
    );
    assert_eq!(ws.file("Paper/Terms of Service.pdf").unwrap(), pdf);
    no_marked_process_left(&mark);
}

#[test]
#[ignore = "needs Chromium"]
fn the_pages_own_requests_obey_the_address_rules() {
    require_browser();
    // Only the policy server's address and port are allowed; a second server on 127.0.0.1
    // stands for what must stay out of reach (a router's admin page, cloud metadata).
    let site = Server::start();
    let private = Server::start();
    let allowed = site.url("").trim_start_matches("http://").to_string();
    let secret = Behaviour::Raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 10\r\nConnection: close\r\n\r\ntop secret"
            .to_vec(),
    );
    private.set("/secret", secret);
    private.set("/pixel.png", Behaviour::html("pixel"));
    private.set("/frame", Behaviour::html("<p>frame</p>"));
    private.set(
        "/terms",
        Behaviour::html("<main><p>Private terms.</p></main>"),
    );
    site.set("/hop", Behaviour::redirect(&private.url("/pixel.png")));
    site.set("/moved", Behaviour::redirect(&private.url("/terms")));
    site.set(
        "/privacy",
        Behaviour::html(&format!(
            r#"<html><body><main><h1>Privacy</h1><p>We keep your data safe.</p>
            <img src="{pixel}"><img src="{hop}"><iframe src="{frame}"></iframe>
            <link rel="stylesheet" href="{style}">
            <script>
              try {{ new WebSocket('{socket}'); }} catch (e) {{}}
              navigator.sendBeacon('{beacon}', 'seen');
              const say = (t) => {{ const p = document.createElement('p'); p.id = 'done';
                p.textContent = 'Result: ' + t; document.querySelector('main').appendChild(p); }};
              fetch('{secret}').then(r => r.ok ? r.text() : 'status ' + r.status)
                .then(say, () => say('not reached'));
            </script></main></body></html>"#,
            pixel = private.url("/pixel.png"),
            hop = site.url("/hop"),
            frame = private.url("/frame"),
            secret = private.url("/secret"),
            style = private.url("/style.css"),
            socket = private.url("/socket").replace("http://", "ws://"),
            beacon = private.url("/beacon"),
        )),
    );
    let ws = Workspace::new(&format!("  allow_private_addresses: [\"{allowed}\"]"));
    ws.declare(
        "Example",
        json!({
            "Privacy Policy": {
                "fetch": site.url("/privacy"), "select": "main",
                "executeClientScripts": true, "actions": [{"waitFor": "#done"}]
            },
            "Terms of Service": {
                "fetch": site.url("/moved"), "select": "main", "executeClientScripts": true
            }
        }),
    );
    let output = ws.track(&["--json"]);
    let r = report(&output);
    let stderr = common::stderr(&output);

    // The page is recorded without what it could not load, and says so in the log.
    let privacy = document(&r, "Example", "Privacy Policy");
    assert_eq!(privacy["status"], "first_record", "{privacy}\n{stderr}");
    let text = String::from_utf8(ws.file("Example/Privacy Policy.md").unwrap()).unwrap();
    assert!(text.contains("We keep your data safe."), "{text}");
    assert!(text.contains("Result: "), "{text}");
    assert!(!text.contains("top secret"), "{text}");
    assert!(stderr.contains("were not loaded"), "{stderr}");
    assert!(stderr.contains(&private.url("/secret")), "{stderr}");

    // A page that redirects the browser to a refused address fails as such.
    let terms = document(&r, "Example", "Terms of Service");
    assert_eq!(terms["status"], "failed", "{terms}");
    assert_eq!(terms["error_class"], "forbidden_address", "{terms}");
    let message = terms["error"].as_str().unwrap();
    assert!(message.contains(&private.url("/terms")), "{message}");
    assert!(
        message.contains("fetch.allow_private_addresses"),
        "{message}"
    );

    // Not one request reached the private server, directly or by a redirect.
    assert_eq!(private.request_starts(), vec![], "requests reached it");
    assert!(
        site.hits("/hop") >= 1,
        "the redirecting image was asked for"
    );
}

#[test]
#[ignore = "needs Chromium"]
fn the_browser_goes_through_the_configured_proxy() {
    require_browser();
    // The test server plays the proxy: it is asked for absolute URLs, and serves its own version
    // of the page under that URL, so that the recorded text shows which way the page came.
    let site = Server::start();
    let proxy = Server::start();
    site.set(
        "/privacy",
        Behaviour::html("<main><p>Fetched directly.</p></main>"),
    );
    proxy.set(
        &site.url("/privacy"),
        Behaviour::html("<main><p>Fetched through the proxy.</p></main>"),
    );
    let ws = Workspace::new(&format!("  proxy: {}", proxy.url("")));
    ws.declare(
        "Example",
        json!({"Privacy Policy": {
            "fetch": site.url("/privacy"), "select": "main", "executeClientScripts": true
        }}),
    );
    let r = report(&ws.track(&["--json"]));
    let doc = document(&r, "Example", "Privacy Policy");
    assert_eq!(doc["status"], "first_record", "{doc}");
    let text = String::from_utf8(ws.file("Example/Privacy Policy.md").unwrap()).unwrap();
    assert!(text.contains("Fetched through the proxy."), "{text}");
    assert_eq!(site.hits("/privacy"), 0);
}

#[test]
#[ignore = "needs Chromium"]
fn a_block_page_rendered_in_the_browser_is_never_recorded() {
    require_browser();
    let server = Server::start();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blocked");
    // Declared for the browser, and reached by the browser after plain HTTP was blocked: both
    // render a page that holds the selected element and must still fail as blocked.
    for page in ["incapsula", "akamai", "perimeterx"] {
        let html = std::fs::read_to_string(fixtures.join(format!("{page}.html"))).unwrap();
        server.set(&format!("/{page}"), Behaviour::html(&html));
    }
    let ws = Workspace::new("");
    ws.declare(
        "Guarded",
        json!({
            "Privacy Policy": {"fetch": server.url("/incapsula"), "select": "main", "executeClientScripts": true},
            "Terms of Service": {"fetch": server.url("/akamai"), "select": "main", "executeClientScripts": true},
            "Imprint": {"fetch": server.url("/perimeterx"), "select": "main"},
        }),
    );
    let mark = mark();
    let r = report(&track(&ws, &mark));
    for terms in ["Privacy Policy", "Terms of Service", "Imprint"] {
        let doc = document(&r, "Guarded", terms);
        assert_eq!(doc["status"], "failed", "{terms}: {doc}");
        assert_eq!(doc["error_class"], "blocked", "{terms}: {doc}");
    }
    assert_eq!(ws.commit_count(), 0);
    no_marked_process_left(&mark);
}
