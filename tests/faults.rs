//! Fault injection: a local server misbehaves in every way a real site can, in one round. Each
//! fault must end as a classified failure of its own document (or, where the page is merely
//! odd, as a sound record), nothing bad may be recorded, and the next good round records every
//! document normally. The closing note of issue 8 tabulates these cases.

mod common;

use std::io::Write;

use common::{Behaviour, Server, Workspace, document, report};
use serde_json::json;

fn raw_response(head: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = head.as_bytes().to_vec();
    bytes.extend_from_slice(body);
    bytes
}

fn gzip_bomb(inflated: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; 1024 * 1024];
    for _ in 0..inflated / zeros.len() {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

/// `(terms type, route, behaviour, expected status, expected class)`; a class of `""` means a
/// record is expected.
fn faults(
    server: &Server,
) -> Vec<(
    &'static str,
    &'static str,
    Behaviour,
    &'static str,
    &'static str,
)> {
    let html = "<main><p>Policy text.</p></main>";
    let bomb = gzip_bomb(64 * 1024 * 1024);
    let mut cases = vec![
        (
            "Privacy Policy",
            "/reset-mid-body",
            Behaviour::RawThenReset(raw_response(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n",
                b"<main><p>Only the begin",
            )),
            "failed",
            "connect",
        ),
        (
            "Terms of Service",
            "/silent",
            Behaviour::Hang,
            "failed",
            "timeout",
        ),
        (
            "Imprint",
            "/trickle",
            Behaviour::Trickle(
                raw_response(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 33\r\n\r\n",
                    html.as_bytes(),
                ),
                300,
            ),
            "failed",
            "timeout",
        ),
        (
            "Trackers Policy",
            "/lying-length",
            Behaviour::Raw(raw_response(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 9000\r\nConnection: close\r\n\r\n",
                b"<main><p>Truncated poli",
            )),
            "failed",
            "connect",
        ),
        (
            "Developer Terms",
            "/500",
            Behaviour::status(500, "oops"),
            "failed",
            "http_status",
        ),
        (
            "Community Guidelines",
            "/503",
            Behaviour::Respond {
                status: 503,
                headers: vec![("Retry-After".into(), "1".into())],
                body: b"busy".to_vec(),
            },
            "failed",
            "http_status",
        ),
        (
            "Acceptable Use Policy",
            "/502",
            Behaviour::status(502, "bad gateway"),
            "failed",
            "http_status",
        ),
        (
            "Commercial Terms",
            "/429",
            Behaviour::Respond {
                status: 429,
                headers: vec![("Retry-After".into(), "1".into())],
                body: b"slow down".to_vec(),
            },
            "failed",
            "http_status",
        ),
        (
            "Copyright Claims Policy",
            "/404",
            Behaviour::status(404, "missing"),
            "failed",
            "http_status",
        ),
        (
            "Law Enforcement Guidelines",
            "/410",
            Behaviour::status(410, "gone"),
            "failed",
            "http_status",
        ),
        (
            "Human Rights Policy",
            "/loop",
            Behaviour::redirect("/loop"),
            "failed",
            "too_many_redirects",
        ),
        (
            "Review Guidelines",
            "/chain-1",
            Behaviour::redirect("/chain-2"),
            "failed",
            "too_many_redirects",
        ),
        (
            "Data Processor Agreement",
            "/to-file",
            Behaviour::redirect("file:///etc/passwd"),
            "failed",
            "forbidden_address",
        ),
        (
            "Seller Warranty",
            "/gzip-bomb",
            Behaviour::Respond {
                status: 200,
                headers: vec![
                    ("Content-Type".into(), "text/html".into()),
                    ("Content-Encoding".into(), "gzip".into()),
                ],
                body: bomb,
            },
            "failed",
            "too_large",
        ),
        (
            "Vulnerability Disclosure Policy",
            "/50mb",
            Behaviour::html(&format!(
                "<main>{}</main>",
                "policy ".repeat(50 * 1024 * 1024 / 7)
            )),
            "failed",
            "too_large",
        ),
        (
            "Hyperlinks Policy",
            "/empty-200",
            Behaviour::html(""),
            "failed",
            "empty",
        ),
        (
            "Complaints Policy",
            "/not-a-pdf.pdf",
            Behaviour::Respond {
                status: 200,
                headers: vec![("Content-Type".into(), "application/pdf".into())],
                body: b"<html><body>Not a PDF at all</body></html>".to_vec(),
            },
            "failed",
            "pdf_no_text",
        ),
        (
            "Quality Guidelines",
            "/bad-utf8",
            Behaviour::Respond {
                status: 200,
                // Says UTF-8, is not: decoded with replacement characters, never a panic.
                headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
                body: b"<main><p>Caf\xe9 policy \xff\xfe end.</p></main>".to_vec(),
            },
            "first_record",
            "",
        ),
        (
            "Platform to Business Notice",
            "/lying-charset",
            Behaviour::Respond {
                status: 200,
                // Says windows-1252, is UTF-8: the header wins, as in a browser, so the text
                // is recorded as a browser shows it; nothing fails.
                headers: vec![(
                    "Content-Type".into(),
                    "text/html; charset=windows-1252".into(),
                )],
                body: "<main><p>Café policy, naïve readers.</p></main>"
                    .as_bytes()
                    .to_vec(),
            },
            "first_record",
            "",
        ),
        (
            "Service Level Agreement",
            "/huge-selection",
            Behaviour::html(&format!(
                "<main>{}</main>",
                "<p>We may share your data with partners for advertising.</p>".repeat(2000)
            )),
            "first_record",
            "",
        ),
        // Connection refused: the URL names a port nobody listens on.
        (
            "Business Privacy Policy",
            "/refused",
            Behaviour::Reset,
            "failed",
            "connect",
        ),
    ];
    for (name, route, body) in [
        (
            "Cloudflare",
            "/cf",
            "<html><head><title>Just a moment...</title></head><body><script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate\"></script></body></html>",
        ),
        (
            "DataDome",
            "/datadome",
            "<html><body><script src=\"https://ct.captcha-delivery.com/c.js\"></script></body></html>",
        ),
        (
            "PerimeterX",
            "/px",
            "<html><body><div id=\"px-captcha\"></div></body></html>",
        ),
        (
            "Incapsula",
            "/incapsula",
            "<html><body><iframe src=\"/_Incapsula_Resource?SWUDNSAI=1\"></iframe></body></html>",
        ),
        (
            "AWS WAF",
            "/awswaf",
            "<html><body><script>AwsWafIntegration.getToken()</script></body></html>",
        ),
        (
            "Akamai",
            "/akamai",
            "<html><body>Access Denied. Reference https://errors.edgesuite.net/18.abc</body></html>",
        ),
    ] {
        cases.push((
            match name {
                "Cloudflare" => "Editorial Policy",
                "DataDome" => "Brand Guidelines",
                "PerimeterX" => "Accessibility Statement",
                "Incapsula" => "Conditions of Carriage",
                "AWS WAF" => "Live Policy",
                _ => "Whistleblower Policy",
            },
            route,
            Behaviour::status(403, body),
            "failed",
            "blocked",
        ));
    }
    for (_, route, behaviour, _, _) in &cases {
        server.set(route, behaviour.clone());
    }
    server.set("/chain-2", Behaviour::redirect("/chain-3"));
    server.set("/chain-3", Behaviour::redirect("/chain-4"));
    server.set("/chain-4", Behaviour::redirect("/chain-5"));
    server.set("/chain-5", Behaviour::html(html));
    cases
}

#[test]
fn every_fault_fails_alone_records_nothing_bad_and_the_next_round_recovers() {
    let server = Server::start();
    let cases = faults(&server);
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let ws = Workspace::new(
        "  retries: 1\n  timeout: 2s\n  max_redirects: 3\n  concurrency: 16\n  per_host: 16",
    );
    let mut terms = serde_json::Map::new();
    for (terms_type, route, _, _, _) in &cases {
        let url = if *route == "/refused" {
            format!("http://127.0.0.1:{closed_port}/refused")
        } else {
            server.url(route)
        };
        // A URL ending in .pdf needs no selector (OTA's rule).
        let entry = if *route == "/not-a-pdf.pdf" {
            json!({"fetch": url})
        } else {
            json!({"fetch": url, "select": "main"})
        };
        terms.insert(terms_type.to_string(), entry);
    }
    ws.declare("Faulty", serde_json::Value::Object(terms));
    // The browser fallback is another feature: plain HTTP faults only here.
    let track = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"))
            .current_dir(ws.path())
            .args(["track", "--json"])
            .env("CHROME", ws.path().join("no-browser"))
            .output()
            .unwrap()
    };
    let output = track();
    let r = report(&output);
    let mut table = Vec::new();
    for (terms_type, route, _, status, class) in &cases {
        let doc = document(&r, "Faulty", terms_type);
        table.push(format!(
            "{route}: {} {} — {}",
            doc["status"],
            doc["error_class"],
            doc["error"].as_str().unwrap_or("")
        ));
        assert_eq!(doc["status"], *status, "{route}: {doc}");
        if !class.is_empty() {
            assert_eq!(doc["error_class"], *class, "{route}: {doc}");
            assert!(
                ws.file(&format!("Faulty/{terms_type}.md")).is_none(),
                "{route}: nothing recorded"
            );
        }
    }
    eprintln!("{}", table.join("\n"));
    let odd = String::from_utf8(ws.file("Faulty/Quality Guidelines.md").unwrap()).unwrap();
    assert!(odd.contains("policy") && odd.contains('\u{FFFD}'), "{odd}");
    let lying =
        String::from_utf8(ws.file("Faulty/Platform to Business Notice.md").unwrap()).unwrap();
    assert!(lying.contains("CafÃ© policy, naÃ¯ve readers."), "{lying}");
    ws.assert_verifies();

    // The sites recover: every document is recorded on the next round.
    for (_, route, _, _, _) in &cases {
        server.set(route, Behaviour::html("<main><p>Policy text.</p></main>"));
    }
    server.set(
        "/not-a-pdf.pdf",
        Behaviour::Respond {
            status: 200,
            headers: vec![("Content-Type".into(), "application/pdf".into())],
            body: std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/pdf/policy.pdf"
            ))
            .unwrap(),
        },
    );
    let recovered = report(&track());
    for (terms_type, route, _, status, _) in &cases {
        if *route == "/refused" {
            continue; // nothing listens there, still
        }
        let doc = document(&recovered, "Faulty", terms_type);
        let expected = match (*status, *route) {
            ("failed", _) => "first_record",
            // From 100 times the usual text back to a few words: held back until seen twice.
            (_, "/huge-selection") => "held_back",
            _ => "new_changes",
        };
        assert_eq!(doc["status"], expected, "{route}: {doc}");
    }
}

/// Runs `policydiff track --json` unable to write any file beyond `limit` bytes (RLIMIT_FSIZE):
/// writes fail as they do on a full disk.
fn track_with_file_size_limit(ws: &Workspace, limit: u64) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_policydiff"));
    command
        .current_dir(ws.path())
        .args(["track", "--json"])
        .env("CHROME", ws.path().join("no-browser"));
    // SAFETY: setrlimit and signal are async-signal-safe; they only change the child.
    unsafe {
        command.pre_exec(move || {
            let rlimit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit);
            // Without this the kernel kills the writer instead of failing the write.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    command.output().unwrap()
}

#[test]
fn a_full_disk_fails_the_write_clearly_and_keeps_the_repository_valid() {
    let server = Server::start();
    server.set(
        "/p",
        Behaviour::html("<main><p>Short first version.</p></main>"),
    );
    let ws = Workspace::new("");
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/p"), "select": "main"}}),
    );
    let first = report(&ws.track(&["--json"]));
    let head = ws.git(&["rev-parse", "HEAD"]);
    assert_eq!(first["recorded"], 1);

    // A much longer version does not fit in what may still be written.
    // Random letters, so that compression cannot make the objects small.
    let mut state = 0x9E37_79B9_u32;
    let words: String = (0..40_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let letters: String = (0..6)
                .map(|i| (b'a' + ((state >> (i * 4)) % 26) as u8) as char)
                .collect();
            letters + " "
        })
        .collect();
    let long = format!("<main><p>{words}</p></main>");
    server.set("/p", Behaviour::html(&long));
    let output = track_with_file_size_limit(&ws, 64 * 1024);
    let stderr = common::stderr(&output);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    if let Ok(r) = serde_json::from_slice::<serde_json::Value>(&output.stdout) {
        let doc = document(&r, "Example", "Privacy Policy");
        assert_eq!(doc["status"], "failed", "{doc}");
        assert_eq!(doc["error_class"], "io", "{doc}");
    } else {
        assert!(stderr.contains("cannot"), "a clear error: {stderr}");
    }
    assert_eq!(
        ws.git(&["rev-parse", "HEAD"]),
        head,
        "the branch did not move"
    );
    assert_fsck_clean(&ws);

    // With room again, the change is recorded.
    let recovered = report(&ws.track(&["--json"]));
    assert_eq!(
        document(&recovered, "Example", "Privacy Policy")["status"],
        "new_changes"
    );
    // A long but repetitive version: its objects compress small enough to be written, the
    // working-tree file is not. The version is recorded (and said so); the next run brings the
    // working tree in line.
    let repetitive = format!(
        "<main>{}</main>",
        "<p>A new clause about your data and partners.</p>".repeat(4000)
    );
    server.set("/p", Behaviour::html(&repetitive));
    let output = track_with_file_size_limit(&ws, 64 * 1024);
    let r = report(&output);
    assert_eq!(
        document(&r, "Example", "Privacy Policy")["status"],
        "new_changes",
        "{r}"
    );
    let recorded = ws.git(&["show", "HEAD:Example/Privacy Policy.md"]);
    assert!(recorded.len() > 64 * 1024);
    report(&ws.track(&["--json"]));
    assert_eq!(
        ws.file("Example/Privacy Policy.md").unwrap(),
        recorded.as_bytes(),
        "working tree in line with the branch"
    );
    ws.assert_verifies();
}

/// Runs `policydiff` as a user whom file permissions stop. Root ignores permissions, so as root
/// (CI containers) the workspace is handed to `nobody` (uid 65534) and the runs are made as that
/// user, with a copy of the binary in the workspace (the build folder may be closed to others).
struct Unprivileged {
    binary: std::path::PathBuf,
    /// The user to run as, when not the current one.
    user: Option<u32>,
}

const NOBODY: u32 = 65534;

impl Unprivileged {
    fn new(ws: &Workspace) -> Unprivileged {
        use std::os::unix::fs::PermissionsExt;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Unprivileged {
                binary: env!("CARGO_BIN_EXE_policydiff").into(),
                user: None,
            };
        }
        let binary = ws.path().join("bin").join("policydiff");
        std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_policydiff"), &binary).unwrap();
        std::fs::set_permissions(ws.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        own_tree(ws.path(), NOBODY);
        Unprivileged {
            binary,
            user: Some(NOBODY),
        }
    }

    fn track(&self, ws: &Workspace) -> std::process::Output {
        use std::os::unix::process::CommandExt;
        let mut command = std::process::Command::new(&self.binary);
        command
            .current_dir(ws.path())
            .args(["track", "--json"])
            .env("HOME", ws.path())
            .env("CHROME", ws.path().join("no-browser"));
        if let Some(user) = self.user {
            command.uid(user).gid(user);
        }
        // The copy of the binary was open for writing moments ago; a process another test
        // forked meanwhile may hold that descriptor until it execs, and the kernel refuses to
        // run a file open for writing (ETXTBSY): try again shortly.
        for _ in 0..50 {
            match command.output() {
                Err(error) if error.raw_os_error() == Some(libc::ETXTBSY) => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                result => return result.unwrap(),
            }
        }
        command.output().unwrap()
    }

    /// Gives the workspace back to the current user.
    fn give_back(&self, ws: &Workspace) {
        if self.user.is_some() {
            // SAFETY: getuid has no preconditions.
            own_tree(ws.path(), unsafe { libc::getuid() });
        }
    }
}

fn own_tree(path: &std::path::Path, user: u32) {
    std::os::unix::fs::lchown(path, Some(user), Some(user)).unwrap();
    if path.is_dir() && !path.is_symlink() {
        for entry in std::fs::read_dir(path).unwrap() {
            own_tree(&entry.unwrap().path(), user);
        }
    }
}

/// Makes every folder and file under `path` writable or not by its owner.
fn set_writable(path: &std::path::Path, writable: bool) {
    use std::os::unix::fs::PermissionsExt;
    let is_dir = path.is_dir();
    let mode = match (is_dir, writable) {
        (true, true) => 0o755,
        (true, false) => 0o555,
        (false, true) => 0o644,
        (false, false) => 0o444,
    };
    if is_dir {
        for entry in std::fs::read_dir(path).unwrap() {
            set_writable(&entry.unwrap().path(), writable);
        }
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn assert_fsck_clean(ws: &Workspace) {
    let fsck = std::process::Command::new("git")
        .args(["-c", "safe.directory=*", "-C"])
        .arg(ws.repo())
        .args(["fsck", "--strict"])
        .output()
        .unwrap();
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
}

#[test]
fn a_read_only_repository_fails_clearly_and_keeps_what_was_recorded() {
    let server = Server::start();
    server.set("/p", Behaviour::html("<main><p>First version.</p></main>"));
    let ws = Workspace::new("");
    ws.declare(
        "Example",
        json!({"Privacy Policy": {"fetch": server.url("/p"), "select": "main"}}),
    );
    let runner = Unprivileged::new(&ws);
    let first = report(&runner.track(&ws));
    assert_eq!(first["recorded"], 1, "{first}");
    let head = ws.git(&["rev-parse", "HEAD"]);
    server.set("/p", Behaviour::html("<main><p>Second version.</p></main>"));

    // The objects cannot be written: the lock is taken and the page fetched, but the version
    // cannot be stored. The document fails as `io`, saying why and what to do.
    let objects = ws.repo().join(".git").join("objects");
    set_writable(&objects, false);
    let output = runner.track(&ws);
    let stderr = common::stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let r = report(&output);
    let doc = document(&r, "Example", "Privacy Policy");
    assert_eq!(doc["status"], "failed", "{doc}");
    assert_eq!(doc["error_class"], "io", "{doc}");
    let message = doc["error"].as_str().unwrap();
    assert!(message.contains("Permission denied"), "{message}");
    assert!(message.contains("may read and write there"), "{message}");
    assert_eq!(
        ws.git(&["rev-parse", "HEAD"]),
        head,
        "the branch did not move"
    );
    assert_fsck_clean(&ws);
    set_writable(&objects, true);

    // The whole repository is read-only: the run stops before fetching anything, naming the
    // file it could not create.
    let fetched_before = server.hits("/p");
    set_writable(&ws.repo(), false);
    let output = runner.track(&ws);
    let stderr = common::stderr(&output);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("policydiff.lock"), "{stderr}");
    assert!(stderr.contains("may read and write there"), "{stderr}");
    assert_eq!(server.hits("/p"), fetched_before, "nothing fetched");
    assert_eq!(
        ws.git(&["rev-parse", "HEAD"]),
        head,
        "the branch did not move"
    );
    assert_fsck_clean(&ws);
    assert_eq!(
        ws.file("Example/Privacy Policy.md").unwrap(),
        b"First version.".to_vec(),
        "what was recorded is intact"
    );

    // Writable again: the change is recorded.
    set_writable(&ws.repo(), true);
    let recovered = report(&runner.track(&ws));
    assert_eq!(
        document(&recovered, "Example", "Privacy Policy")["status"],
        "new_changes",
        "{recovered}"
    );
    runner.give_back(&ws);
    assert_eq!(ws.commit_count(), 2);
    ws.assert_verifies();
}

/// Block and challenge pages of every vendor recognised, as they are served, in
/// `tests/fixtures/blocked/`; each holds the declared `main` element, as a site template around
/// a block message does.
const BLOCK_PAGES: [&str; 14] = [
    "cloudflare-block",
    "cloudflare-challenge",
    "incapsula",
    "datadome",
    "perimeterx",
    "kasada",
    "aws-waf",
    "akamai",
    "akamai-bot-manager",
    "f5",
    "sucuri",
    "sucuri-challenge",
    "hcaptcha",
    "recaptcha",
];

#[test]
fn block_pages_are_never_recorded_even_when_they_hold_the_selected_element() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/blocked");
    let server = Server::start();
    let ws = Workspace::new("  retries: 0\n  concurrency: 16\n  per_host: 16");
    let mut terms = serde_json::Map::new();
    // Terms types are only names here: each page is one document, served with 200 (as many
    // block pages are) and with 403, and once without the selected element.
    let types = common::terms_types();
    let mut expected = Vec::new();
    for (index, page) in BLOCK_PAGES.iter().enumerate() {
        let html = std::fs::read_to_string(fixtures.join(format!("{page}.html"))).unwrap();
        assert!(html.contains("<main"), "{page} holds the selected element");
        let variants = [
            ("ok", Behaviour::html(&html)),
            ("forbidden", Behaviour::status(403, &html)),
            (
                "bare",
                Behaviour::html(&html.replace("<main>", "<div>").replace("</main>", "</div>")),
            ),
        ];
        for (offset, (variant, behaviour)) in variants.into_iter().enumerate() {
            let route = format!("/{page}/{variant}");
            server.set(&route, behaviour);
            let terms_type = types[index * 3 + offset].clone();
            // Plain HTTP only: the browser's own check is a browser test.
            terms.insert(
                terms_type.clone(),
                json!({"fetch": server.url(&route), "select": "main", "executeClientScripts": false}),
            );
            expected.push((terms_type, format!("{page} ({variant})")));
        }
    }
    let policy = std::fs::read_to_string(fixtures.join("policy-naming-vendors.html")).unwrap();
    server.set("/cookies", Behaviour::html(&policy));
    let policy_type = types[BLOCK_PAGES.len() * 3].clone();
    terms.insert(
        policy_type.clone(),
        json!({"fetch": server.url("/cookies"), "select": "main"}),
    );
    ws.declare("Guarded", serde_json::Value::Object(terms));

    let output = ws.track(&["--json"]);
    let r = report(&output);
    for (terms_type, what) in &expected {
        let doc = document(&r, "Guarded", terms_type);
        assert_eq!(doc["status"], "failed", "{what}: {doc}");
        assert_eq!(doc["error_class"], "blocked", "{what}: {doc}");
        assert!(
            doc["error"]
                .as_str()
                .unwrap()
                .contains("instead of the document"),
            "{what}: {doc}"
        );
    }
    // A policy that names the vendors, lists their cookies and embeds a captcha is recorded.
    let cookies = document(&r, "Guarded", &policy_type);
    assert_eq!(cookies["status"], "first_record", "{cookies}");
    assert_eq!(ws.commit_count(), 1, "only the real policy is recorded");
    let recorded = ws.git(&["show", "--stat", "--format=", "HEAD"]);
    assert!(
        recorded.contains(&format!("Guarded/{policy_type}.md")),
        "{recorded}"
    );
}
