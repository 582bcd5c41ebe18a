//! `policydiff validate`: one precise line per problem, exit status for scripts.

use std::path::{Path, PathBuf};
use std::process::Command;

fn validate(args: &[&Path]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .arg("validate")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/declarations")
        .join(sub)
}

#[test]
fn a_valid_collection_passes_and_reports_js_filters_as_unsupported() {
    let (code, out) = validate(&[&fixtures("valid")]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains(
            "unsupported: terms \"Privacy Policy\": field `filter[2]`: filter \"cleanUrls\""
        ),
        "{out}"
    );

    let output = Command::new(env!("CARGO_BIN_EXE_policydiff"))
        .args(["validate", "--strict"])
        .arg(fixtures("valid"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn every_problem_is_located_and_explained() {
    let (code, out) = validate(&[&fixtures("invalid")]);
    assert_eq!(code, Some(1));
    let expect = [
        (
            "Unknown Property.json",
            "field `selector`: unknown property; allowed: fetch, select",
        ),
        ("Missing Fetch.json", "field `fetch`: is required"),
        (
            "Missing Select.json",
            "field `select`: is required unless the document is a PDF",
        ),
        (
            "Bad Url.json",
            "field `fetch`: \"ftp://e.com/privacy\" is not an http(s) URL",
        ),
        (
            "Bad Url.json",
            "field `fetch`: \"not a url\" is not a valid URL",
        ),
        (
            "Bad Selector.json",
            "field `select[1].startBefore`: invalid CSS selector \"h2[\"",
        ),
        (
            "Bad Selector.json",
            "field `remove`: invalid CSS selector \"div >> p\": a combinator",
        ),
        (
            "Unknown Type.json",
            "terms \"Terms of Use\": unknown terms type; the closest type of OTA's ontology is \"Terms of Service\"",
        ),
        (
            "Unknown Type.json",
            "terms \"Privacy Polcy\": unknown terms type; the closest type of OTA's ontology is \"Privacy Policy\"",
        ),
        (
            "Unknown Filter.json",
            "field `filter[0]`: filter \"removeAds\" is neither built in",
        ),
        (
            "Unknown Filter.json",
            "field `filter[1]`: filter \"replaceText\" invalid `pattern` regular expression",
        ),
        (
            "Broken Json.json",
            "invalid JSON at line 4, column 69: trailing comma",
        ),
        (
            "Half Range.json",
            "field `select`: range selector lacks an end",
        ),
        (
            "Bad History.history.json",
            "field `[0].validUntil`: is required in history entries",
        ),
        (
            "Control Name.json",
            "field `name`: must not contain control characters",
        ),
    ];
    for (file, message) in expect {
        assert!(
            out.lines()
                .any(|line| line.contains(file) && line.contains(message)),
            "no line for {file} saying {message:?} in:\n{out}"
        );
    }
    assert_eq!(out.lines().count(), expect.len(), "{out}");
}

#[test]
fn unsafe_service_ids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".hidden.json");
    std::fs::write(&path, r#"{"name": "x", "terms": {}}"#).unwrap();
    let (code, out) = validate(&[&path]);
    assert_eq!(code, Some(1));
    assert!(out.contains("must not start with a dot"), "{out}");
}

#[test]
fn missing_path_is_a_usage_error() {
    let (code, _) = validate(&[Path::new("/nonexistent/declarations")]);
    assert_eq!(code, Some(2));
}

#[test]
fn browser_actions_are_validated_like_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Clicky.json"),
        r##"{"name": "Clicky", "terms": {
            "Privacy Policy": {"fetch": "https://example.com/p", "select": "main", "executeClientScripts": true,
                               "actions": [{"click": "#more"}, {"waitFor": ".policy"}]},
            "Terms of Service": {"fetch": "https://example.com/t", "select": "main",
                               "actions": [{"click": "a[["}, {"hover": "#x"}, {"click": "#a", "waitFor": "#b"}]}
        }}"##,
    )
    .unwrap();
    let (code, out) = validate(&[dir.path()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(!out.contains("\"Privacy Policy\""), "valid actions: {out}");
    for expected in [
        "field `actions[0].click`: invalid CSS selector \"a[[\"",
        "field `actions[1].hover`: unknown action; allowed: click, waitFor",
        "field `actions[2]`: must be an object with one key, `click` or `waitFor`",
    ] {
        assert!(out.contains(expected), "{expected} in {out}");
    }
}
