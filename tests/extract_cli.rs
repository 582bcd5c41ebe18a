//! `policydiff extract` on real files: the Markdown a user gets for saved pages.
//!
//! Expected outputs in tests/fixtures/pages/*.md were written by OTA's own engine
//! (tests/differential/run.py --write-expected) and read by hand.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_policydiff"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Writes a one-service declaration with the given terms entry and returns its path.
fn declaration(dir: &Path, terms: serde_json::Value) -> PathBuf {
    let path = dir.join("Fixture.json");
    let json = serde_json::json!({"name": "Fixture", "terms": {"Privacy Policy": terms}});
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

fn extract_with(declaration: &Path, files: &[&Path]) -> Output {
    binary()
        .arg("extract")
        .arg("--declaration")
        .arg(declaration)
        .args(["--terms", "Privacy Policy"])
        .args(files)
        .output()
        .unwrap()
}

#[test]
fn every_fixture_page_gives_the_reference_markdown() {
    let pages = fixtures().join("pages");
    let mut checked = 0;
    for entry in std::fs::read_dir(&pages).unwrap() {
        let page = entry.unwrap().path();
        if page.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let rules: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(page.with_extension("json")).unwrap())
                .unwrap();
        let expected = std::fs::read_to_string(page.with_extension("md")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut terms = serde_json::json!({
            "fetch": rules.get("location").cloned().unwrap_or("https://example.com/legal/privacy".into()),
            "select": rules["select"],
        });
        if let Some(remove) = rules.get("remove") {
            terms["remove"] = remove.clone();
        }
        let output = extract_with(&declaration(dir.path(), terms), &[&page]);
        assert!(
            output.status.success(),
            "{}: {}",
            page.display(),
            stderr(&output)
        );
        assert_eq!(stdout(&output), expected, "{}", page.display());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} fixture pages");
}

#[test]
fn selectors_on_the_command_line() {
    let page = fixtures().join("pages/remove.html");
    let output = binary()
        .args(["extract", "--location", "https://example.com/terms"])
        .args(["--select", "#terms h2", "--select", "#terms p:last-child"])
        .args(["--remove", ".tooltip"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "Sharing with third parties\n--------------------------\n\nWe do not sell data."
    );
}

#[test]
fn standard_input_and_builtin_filters() {
    let mut child = binary()
        .args([
            "extract",
            "-",
            "--location",
            "https://example.com/p",
            "--select",
            "p",
        ])
        .args([
            "--filter",
            r#"removeQueryParams=["utm_source"]"#,
            "--filter",
            "removeEmptyLinks",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"<p><a href="/x?utm_source=a&amp;id=2">Link</a><a href="/y"> </a></p>"#)
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "[Link](https://example.com/x?id=2)");
}

#[test]
fn combined_documents_are_joined_with_otas_separator() {
    let dir = tempfile::tempdir().unwrap();
    let pages = fixtures().join("pages");
    let terms = serde_json::json!({
        "combine": [
            {"fetch": "https://example.com/legal/privacy", "select": "#policy"},
            {"fetch": "https://example.com/legal/retention", "select": "article"}
        ]
    });
    let first = pages.join("headings-and-lists.html");
    let second = pages.join("tables.html");
    let output = extract_with(&declaration(dir.path(), terms), &[&first, &second]);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = format!(
        "{}\n\n- - -\n\n{}",
        std::fs::read_to_string(pages.join("headings-and-lists.md")).unwrap(),
        std::fs::read_to_string(pages.join("tables.md")).unwrap()
    );
    assert_eq!(stdout(&output), expected);

    let missing = extract_with(&dir.path().join("Fixture.json"), &[&first]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("combines 2 source documents"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn history_gives_the_rules_in_force_at_a_date() {
    let dir = tempfile::tempdir().unwrap();
    let path = declaration(
        dir.path(),
        serde_json::json!({"fetch": "https://example.com/p", "select": "#terms h2"}),
    );
    std::fs::write(
        dir.path().join("Fixture.history.json"),
        r##"{"Privacy Policy": [{"fetch": "https://example.com/p", "select": "#ad-start", "validUntil": "2024-01-01T00:00:00Z"}]}"##,
    )
    .unwrap();
    let page = fixtures().join("pages/remove.html");
    let run = |at: &str| {
        binary()
            .arg("extract")
            .arg("--declaration")
            .arg(&path)
            .args(["--terms", "Privacy Policy", "--at", at])
            .arg(&page)
            .output()
            .unwrap()
    };
    assert_eq!(stdout(&run("2023-06-01")), "Advertisement");
    assert_eq!(
        stdout(&run("2025-06-01")),
        "Sharing with third parties\n--------------------------"
    );
}

#[test]
fn pdf_text_becomes_paragraphs() {
    let output = binary()
        .args(["extract", "--location", "https://example.com/terms.pdf"])
        .arg(fixtures().join("pdf/policy.pdf"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "Privacy Policy\n\nWe collect the data you give us and the data of your devices.\n\n\\* Contact: dpo@example.com"
    );
}

#[test]
fn pdf_read_from_standard_input_with_content_type() {
    let output = binary()
        .args(["extract", "-", "--location", "https://example.com/t.pdf"])
        .args(["--content-type", "application/pdf"])
        .stdin(std::fs::File::open(fixtures().join("pdf/policy.pdf")).unwrap())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("Privacy Policy\n\n"));
}

#[test]
fn pdf_without_text_is_a_specific_failure() {
    let output = binary()
        .args(["extract", "--location", "https://example.com/scan.pdf"])
        .arg(fixtures().join("pdf/scanned.pdf"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("pdf_no_text"), "{message}");
    assert!(
        message.contains("https://example.com/scan.pdf"),
        "{message}"
    );
}

#[test]
fn failures_name_the_selector_and_the_url() {
    let page = fixtures().join("pages/ranges.html");
    let run = |args: &[&str]| {
        binary()
            .args(["extract", "--location", "https://example.com/tos"])
            .args(args)
            .arg(&page)
            .output()
            .unwrap()
    };
    let no_match = run(&["--select", "#does-not-exist"]);
    assert_eq!(no_match.status.code(), Some(1));
    let message = stderr(&no_match);
    assert!(
        message.contains("#does-not-exist") && message.contains("https://example.com/tos"),
        "{message}"
    );
    assert!(message.contains("(no_match)"), "{message}");

    let removed = run(&["--select", "#footer", "--remove", "footer"]);
    assert!(
        stderr(&removed).contains("(no_match)"),
        "{}",
        stderr(&removed)
    );

    let scripts = run(&["--select", "script"]);
    assert!(
        stderr(&scripts).contains("(no_match)"),
        "scripts are dropped before selection"
    );

    let blank = binary()
        .args([
            "extract",
            "-",
            "--location",
            "https://example.com/x",
            "--select",
            "div",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"<div>   <span> </span></div>")?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(blank.status.code(), Some(1));
    assert!(stderr(&blank).contains("(empty)"), "{}", stderr(&blank));

    let dir = tempfile::tempdir().unwrap();
    let range = declaration(
        dir.path(),
        serde_json::json!({"fetch": "https://example.com/tos", "select": {"startAfter": "#start", "endBefore": "#nowhere"}}),
    );
    let output = extract_with(&range, &[&page]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(
        message.contains("\"end\" selector \"#nowhere\""),
        "{message}"
    );
}

#[test]
fn invalid_selector_is_a_usage_error() {
    let output = binary()
        .args([
            "extract",
            "--location",
            "https://example.com/",
            "--select",
            "div[[",
            "x.html",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("div[["), "{}", stderr(&output));
}

fn extract_bytes(bytes: &[u8], select: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    std::fs::write(&page, bytes).unwrap();
    binary()
        .args([
            "extract",
            "--location",
            "https://example.com/p",
            "--select",
            select,
        ])
        .arg(&page)
        .output()
        .unwrap()
}

#[test]
fn hostile_deep_nesting_fails_cleanly() {
    let depth = 100_000;
    let page = format!(
        "<body>{}deep{}</body>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    let output = extract_bytes(page.as_bytes(), "body");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("(too_large)"),
        "{}",
        stderr(&output)
    );

    let inline = format!(
        "<body>{}deep{}</body>",
        "<span>".repeat(5_000),
        "</span>".repeat(5_000)
    );
    let output = extract_bytes(inline.as_bytes(), "body");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "deep");
}

#[test]
fn fifty_megabytes_of_text_are_extracted() {
    let paragraph =
        "<p>We keep your data for as long as your account exists and delete it afterwards.</p>";
    let page = format!(
        "<main>{}</main>",
        paragraph.repeat(50 * 1024 * 1024 / paragraph.len())
    );
    let output = extract_bytes(page.as_bytes(), "main");
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("We keep your data"));
    assert_eq!(
        text.matches("\n\n").count() + 1,
        50 * 1024 * 1024 / paragraph.len()
    );
}

#[test]
fn invalid_bytes_never_crash() {
    let mut bytes = b"<html><body><p>Start \xff\xfe\x00\x80 middle</p>".to_vec();
    let mut state = 0x2545_f491_u32;
    for _ in 0..200_000 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        bytes.push(state as u8);
    }
    let output = extract_bytes(&bytes, "p");
    assert!(
        matches!(output.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}
