//! Declarations: which documents to track and how to extract them, in OTA's JSON format.
//!
//! A service is declared by `declarations/<Service id>.json`:
//! `{"name": …, "terms": {"<Terms type>": {fetch, select, remove, filter, executeClientScripts} | {combine: […]}}}`,
//! optionally with `<Service id>.history.json` (earlier declarations, each with a
//! `validUntil` date) and `<Service id>.filters.js` (JavaScript filters, which
//! policydiff does not run but knows the names of).
//!
//! [`load_service`] reads those files into a [`Declaration`] and a list of
//! [`Problem`]s. A problem in one terms entry leaves the other entries usable: a
//! bad document never stops the others. Each [`Terms`] holds one or more
//! [`SourceDocument`]s (more than one for `combine`), whose [`Selector`]s and
//! [`Filter`]s the `extract` stage applies. [`Declaration::terms_at`] answers
//! which declaration was in force at a date.
//!
//! ```
//! use policydiff::declaration::{parse_declaration, Selector};
//!
//! let json = r##"{"name": "Example", "terms": {"Privacy Policy": {
//!     "fetch": "https://example.com/privacy", "select": ["main", {"startAfter": "h1", "endBefore": "footer"}]
//! }}}"##;
//! let (declaration, problems) = parse_declaration("Example", json, "Example.json".as_ref(), &Default::default());
//! assert!(problems.is_empty());
//! let terms = &declaration.unwrap().terms["Privacy Policy"];
//! assert!(matches!(terms.sources[0].select[1], Selector::Range(_)));
//! ```

pub mod adhoc;
pub mod filter;
pub mod terms_types;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub use filter::{BuiltinFilter, Filter};

/// Largest declaration file read, so a hostile file cannot exhaust memory.
pub const MAX_DECLARATION_BYTES: u64 = 4 * 1024 * 1024;
/// Longest CSS selector accepted, in bytes.
pub const MAX_SELECTOR_BYTES: usize = 64 * 1024;
/// Most combinators (and whitespace runs) in one selector.
pub const MAX_SELECTOR_COMBINATORS: usize = 64;
/// Deepest nesting of parentheses (`:not(:is(…))`) in one selector.
pub const MAX_SELECTOR_NESTING: usize = 8;

/// Which side of an element a range boundary sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Before the element (`startBefore` / `endBefore`).
    Before,
    /// After the element (`startAfter` / `endAfter`).
    After,
}

/// One end of a range selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeEnd {
    /// Before or after the element.
    pub side: Side,
    /// The CSS selector of the element (its first match is used).
    pub css: String,
}

/// The content between two elements, as OTA's range selectors define it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeSelector {
    /// Where the range starts.
    pub start: RangeEnd,
    /// Where the range ends.
    pub end: RangeEnd,
}

impl fmt::Display for RangeSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = |prefix: &str, side: Side| match side {
            Side::Before => format!("{prefix}Before"),
            Side::After => format!("{prefix}After"),
        };
        let mut object = Map::new();
        object.insert(key("start", self.start.side), self.start.css.clone().into());
        object.insert(key("end", self.end.side), self.end.css.clone().into());
        write!(f, "{}", Value::Object(object))
    }
}

/// A content selector: a CSS selector or a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every element matching a CSS selector, in document order.
    Css(String),
    /// The content between two elements.
    Range(RangeSelector),
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Css(css) => write!(f, "{css:?}"),
            Selector::Range(range) => range.fmt(f),
        }
    }
}

/// Writes a list of selectors for messages: `"main", {"startAfter":…}`.
pub fn describe_selectors(selectors: &[Selector]) -> String {
    selectors
        .iter()
        .map(Selector::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One document to fetch and the rules to extract its text.
#[derive(Debug, Clone)]
pub struct SourceDocument {
    /// The URL to fetch.
    pub fetch: String,
    /// Content selectors, in order (empty for a PDF).
    pub select: Vec<Selector>,
    /// Insignificant content to remove before selecting.
    pub remove: Vec<Selector>,
    /// Filters applied to the page first.
    pub filters: Vec<Filter>,
    /// Whether the page must be rendered by a browser (`None`: not declared).
    pub execute_client_scripts: Option<bool>,
    /// Interactions run in the browser before the page is taken (policydiff's extension).
    pub actions: Vec<Action>,
}

/// An interaction with a rendered page, run in order before its content is taken: declared as
/// `"actions": [{"click": CSS}, {"waitFor": CSS}]` (an extension of OTA's format; declarations
/// without it are unchanged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Click the first element matching the selector (waiting for it to exist).
    Click(String),
    /// Wait until an element matching the selector exists and has text.
    WaitFor(String),
}

impl SourceDocument {
    /// Every CSS selector the declaration names (select, remove, range ends): what must exist in
    /// a rendered page before its content is taken.
    pub fn css_selectors(&self) -> Vec<&str> {
        self.select
            .iter()
            .chain(&self.remove)
            .flat_map(|selector| match selector {
                Selector::Css(css) => vec![css.as_str()],
                Selector::Range(range) => vec![range.start.css.as_str(), range.end.css.as_str()],
            })
            .collect()
    }

    /// OTA's id of a source document: the path segments of its URL joined by `-`
    /// (names the source files of combined documents).
    pub fn id(&self) -> String {
        url::Url::parse(&self.fetch)
            .map(|url| {
                url.path()
                    .split('/')
                    .filter(|segment| !segment.is_empty())
                    .collect::<Vec<_>>()
                    .join("-")
            })
            .unwrap_or_default()
    }

    /// Whether the URL names a PDF (OTA's `pdfLocation` rule).
    pub fn is_pdf_location(&self) -> bool {
        is_pdf_url(&self.fetch)
    }
}

/// One terms entry: a document made of one or more source documents.
#[derive(Debug, Clone)]
pub struct Terms {
    /// The terms type (from OTA's ontology).
    pub terms_type: String,
    /// The source documents, in the order their texts are joined.
    pub sources: Vec<SourceDocument>,
    /// Whether the entry was declared with `combine`.
    pub combined: bool,
    /// For history entries: the last instant this declaration was in force.
    pub valid_until: Option<DateTime<Utc>>,
}

/// A service's declaration, with its history.
#[derive(Debug, Clone)]
pub struct Declaration {
    /// The file stem, used as the folder name in the versions repository.
    pub service_id: String,
    /// The public name of the service.
    pub name: String,
    /// Where the declaration was imported from, if said.
    pub imported_from: Option<String>,
    /// The current terms entries, by terms type (only the valid ones).
    pub terms: BTreeMap<String, Terms>,
    /// Earlier declarations, by terms type, sorted by `validUntil`.
    pub history: BTreeMap<String, Vec<Terms>>,
    /// SHA-256 of the declaration file, recorded with each version.
    pub sha256: String,
}

impl Declaration {
    /// The declaration of `terms_type` in force at `date`: the earliest history entry whose
    /// `validUntil` is at or after `date`, else the current one (OTA's rule).
    pub fn terms_at(&self, terms_type: &str, date: DateTime<Utc>) -> Option<&Terms> {
        self.history
            .get(terms_type)
            .and_then(|entries| {
                entries
                    .iter()
                    .find(|entry| entry.valid_until.is_some_and(|until| date <= until))
            })
            .or_else(|| self.terms.get(terms_type))
    }
}

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The declaration relies on something policydiff does not do (a JavaScript filter);
    /// extraction proceeds without it.
    Unsupported,
    /// The declaration is wrong; the entry cannot be used.
    Error,
}

/// One problem found in a declaration file, located precisely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: PathBuf,
    /// The terms type concerned, if any.
    pub terms_type: Option<String>,
    /// The field, as a path (`select[1].startBefore`), empty for the whole file.
    pub field: String,
    /// Why it is a problem, and what to do.
    pub message: String,
    /// Error or unsupported.
    pub severity: Severity,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file.display())?;
        if self.severity == Severity::Unsupported {
            f.write_str("unsupported: ")?;
        }
        if let Some(terms_type) = &self.terms_type {
            write!(f, "terms {terms_type:?}: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "field `{}`: ", self.field)?;
        }
        // One line per problem, whatever the underlying parsers wrote.
        let mut words = self.message.split_whitespace();
        if let Some(first) = words.next() {
            f.write_str(first)?;
            for word in words {
                write!(f, " {word}")?;
            }
        }
        Ok(())
    }
}

/// Whether a URL names a PDF, by OTA's schema rule (`pdfLocation`), which also lets a
/// declaration force PDF handling with a `?.pdf` suffix.
pub fn is_pdf_url(url: &str) -> bool {
    use std::sync::OnceLock;
    static PDF_LOCATION: OnceLock<regex::Regex> = OnceLock::new();
    PDF_LOCATION
        .get_or_init(|| {
            regex::Regex::new(r"^https?://.+.[pP][dD][fF](\?.+)?$").expect("valid regex")
        })
        .is_match(url)
}

/// Checks that a CSS selector parses, with the parser extraction uses.
pub fn check_css(css: &str) -> Result<(), String> {
    if css.trim().is_empty() {
        return Err("empty selector".into());
    }
    // Matching cost grows with the number of combinators (descendant chains backtrack) and
    // with nested pseudo-classes; real declarations stay far below these bounds.
    if css.len() > MAX_SELECTOR_BYTES {
        return Err(format!(
            "the selector is {} bytes long, more than {MAX_SELECTOR_BYTES}; select with a shorter selector",
            css.len()
        ));
    }
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut combinators = 0usize;
    let mut previous = ' ';
    let mut quote: Option<char> = None;
    let mut in_brackets = false;
    for c in css.chars() {
        // Attribute values (`[src="data:…"]`) hold any characters: not structure.
        if let Some(open) = quote {
            if c == open && previous != '\\' {
                quote = None;
            }
            previous = c;
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            _ if in_brackets => {}
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            '>' | '+' | '~' => combinators += 1,
            c if c.is_whitespace() && !previous.is_whitespace() => combinators += 1,
            _ => {}
        }
        previous = c;
    }
    if deepest > MAX_SELECTOR_NESTING || combinators > MAX_SELECTOR_COMBINATORS {
        return Err(format!(
            "the selector is too complex to match safely ({combinators} combinators, parentheses {deepest} deep; at most {MAX_SELECTOR_COMBINATORS} and {MAX_SELECTOR_NESTING})"
        ));
    }
    scraper::Selector::parse(css)
        .map(|_| ())
        .map_err(|e| describe_selector_error(&e.to_string()))
}

/// The CSS parser's complaint in words a declaration author can act on.
fn describe_selector_error(raw: &str) -> String {
    let detail = raw.lines().last().unwrap_or(raw).trim();
    let known = [
        (
            "DanglingCombinator",
            "a combinator (>, +, ~ or space) has no selector after it",
        ),
        ("EmptySelector", "a selector in the list is empty"),
        (
            "LeftoverContent",
            "there is unexpected content after the selector",
        ),
        (
            "UnsupportedPseudoClassOrElement",
            "unsupported pseudo-class or pseudo-element",
        ),
        ("InvalidQualNameInAttr", "invalid attribute name"),
        ("ExpectedBarInAttr", "malformed attribute selector"),
        ("BadValueInAttr", "invalid attribute value (quote it)"),
        ("InvalidState", "invalid selector"),
        (
            "NoQualifiedNameInAttributeSelector",
            "an attribute selector has no attribute name",
        ),
        (
            "ExplicitNamespaceUnexpectedToken",
            "namespace prefixes are not supported",
        ),
        (
            "ClassNeedsIdent",
            "a class selector needs a name after the dot",
        ),
        (
            "PseudoElementExpectedIdent",
            "a pseudo-element needs a name",
        ),
        (
            "NonPseudoElementAfterPseudoElement",
            "nothing may follow a pseudo-element",
        ),
    ];
    if raw.contains("Please report") {
        for (kind, words) in known {
            if detail.starts_with(kind) {
                return words.to_string();
            }
        }
        return format!("invalid selector ({detail})");
    }
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Checks that a service id is safe as a folder name.
pub fn check_service_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("is empty".into());
    }
    if id == "." || id == ".." || id.starts_with('.') {
        return Err("must not start with a dot".into());
    }
    if let Some(c) = id.chars().find(|c| {
        matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || c.is_control()
    }) {
        return Err(format!(
            "contains {c:?}, which is not safe in a folder name"
        ));
    }
    if id.len() > 200 {
        return Err("is longer than 200 bytes".into());
    }
    Ok(())
}

/// A service's files, read and checked.
#[derive(Debug)]
pub struct Loaded {
    /// The service id (file stem).
    pub service_id: String,
    /// The declaration, when the file could be parsed at all.
    pub declaration: Option<Declaration>,
    /// Every problem found, in file order.
    pub problems: Vec<Problem>,
}

impl Loaded {
    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// The problems concerning one terms type (or the whole file).
    pub fn problems_for(&self, terms_type: &str) -> Vec<&Problem> {
        self.problems
            .iter()
            .filter(|p| p.terms_type.as_deref().is_none_or(|t| t == terms_type))
            .collect()
    }
}

/// Reads `<dir>/<id>.json` and its companions `<id>.history.json` and `<id>.filters.js`.
pub fn load_service(json_path: &Path) -> Loaded {
    let file_name = json_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let service_id = file_name
        .strip_suffix(".json")
        .unwrap_or(&file_name)
        .to_string();
    let mut loaded = Loaded {
        service_id: service_id.clone(),
        declaration: None,
        problems: Vec::new(),
    };
    let file_problem = |file: &Path, message: String| Problem {
        file: file.to_path_buf(),
        terms_type: None,
        field: String::new(),
        message,
        severity: Severity::Error,
    };
    let dir = json_path.parent().unwrap_or(Path::new("."));
    let filters_path = dir.join(format!("{service_id}.filters.js"));
    let script_filters = std::fs::read_to_string(&filters_path)
        .map(|source| exported_function_names(&source))
        .unwrap_or_default();

    let text = match read_bounded(json_path) {
        Ok(text) => text,
        Err(message) => {
            loaded.problems.push(file_problem(json_path, message));
            return loaded;
        }
    };
    let (declaration, mut problems) =
        parse_declaration(&service_id, &text, json_path, &script_filters);
    loaded.problems.append(&mut problems);
    let Some(mut declaration) = declaration else {
        return loaded;
    };

    let history_path = dir.join(format!("{service_id}.history.json"));
    if history_path.exists() {
        match read_bounded(&history_path) {
            Ok(text) => {
                let (history, mut problems) = parse_history(&text, &history_path, &script_filters);
                declaration.history = history;
                loaded.problems.append(&mut problems);
            }
            Err(message) => loaded.problems.push(file_problem(&history_path, message)),
        }
    }
    loaded.declaration = Some(declaration);
    loaded
}

/// Loads every service of a folder (files `*.json` that are not `*.history.json`), sorted by id.
pub fn load_directory(dir: &Path) -> crate::Result<Vec<Loaded>> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        crate::Error::io(
            format!("cannot read declarations folder {}", dir.display()),
            e,
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            name.ends_with(".json") && !name.ends_with(".history.json")
        })
        .collect();
    paths.sort();
    Ok(paths.iter().map(|path| load_service(path)).collect())
}

fn read_bounded(path: &Path) -> Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if metadata.len() > MAX_DECLARATION_BYTES {
        return Err(format!(
            "the file is {} bytes, more than the {} bytes a declaration may have",
            metadata.len(),
            MAX_DECLARATION_BYTES
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not valid UTF-8 (invalid byte at offset {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Names exported by a `.filters.js` file (`export function name`, `export const name`, `export { a, b }`).
pub fn exported_function_names(source: &str) -> BTreeSet<String> {
    use std::sync::OnceLock;
    static PATTERNS: OnceLock<[regex::Regex; 2]> = OnceLock::new();
    let [declared, listed] = PATTERNS.get_or_init(|| {
        [
            regex::Regex::new(
                r"export\s+(?:async\s+)?(?:function\s*\*?|const|let|var)\s*([A-Za-z_$][\w$]*)",
            )
            .expect("valid regex"),
            regex::Regex::new(r"export\s*\{([^}]*)\}").expect("valid regex"),
        ]
    });
    let mut names: BTreeSet<String> = declared
        .captures_iter(source)
        .map(|c| c[1].to_string())
        .collect();
    for list in listed.captures_iter(source) {
        for item in list[1].split(',') {
            let exported = item.split(" as ").last().unwrap_or(item).trim();
            if !exported.is_empty() {
                names.insert(exported.to_string());
            }
        }
    }
    names
}

fn json_syntax_problem(file: &Path, error: &serde_json::Error) -> Problem {
    Problem {
        file: file.to_path_buf(),
        terms_type: None,
        field: String::new(),
        message: format!(
            "invalid JSON at line {}, column {}: {}",
            error.line(),
            error.column(),
            strip_position(&error.to_string())
        ),
        severity: Severity::Error,
    }
}

fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map(|at| &message[..at])
        .unwrap_or(message)
}

/// Parses and checks a service declaration's JSON text.
///
/// `script_filters` are the names exported by the service's `.filters.js`. Entries with
/// errors are left out of the returned declaration; the problems say why.
pub fn parse_declaration(
    service_id: &str,
    text: &str,
    file: &Path,
    script_filters: &BTreeSet<String>,
) -> (Option<Declaration>, Vec<Problem>) {
    let mut checker = Checker::new(file, script_filters);
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => return (None, vec![json_syntax_problem(file, &error)]),
    };
    if let Err(reason) = check_service_id(service_id) {
        checker.error(
            "",
            format!("the service id {service_id:?} (the file name) {reason}"),
        );
        return (None, checker.problems);
    }
    let Value::Object(object) = value else {
        checker.error(
            "",
            "a declaration must be a JSON object with `name` and `terms`",
        );
        return (None, checker.problems);
    };
    for key in object.keys() {
        if !matches!(key.as_str(), "name" | "terms" | "importedFrom") {
            checker.error(key, "unknown property; allowed: name, terms, importedFrom");
        }
    }
    let name = match object.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => {
            if name.chars().any(char::is_control) {
                checker.error(
                    "name",
                    "must not contain control characters (newlines, NUL…)",
                );
            }
            name.clone()
        }
        Some(_) => {
            checker.error("name", "must be a non-empty string");
            service_id.to_string()
        }
        None => {
            checker.error("name", "is required: the service's public name");
            service_id.to_string()
        }
    };
    let imported_from = match object.get("importedFrom") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            checker.error("importedFrom", "must be a string");
            None
        }
        None => None,
    };
    let mut terms = BTreeMap::new();
    match object.get("terms") {
        Some(Value::Object(entries)) => {
            for (terms_type, entry) in entries {
                checker.terms_type = Some(terms_type.clone());
                if let Some(parsed) = checker.terms_entry(terms_type, entry, false) {
                    terms.insert(terms_type.clone(), parsed);
                }
            }
            checker.terms_type = None;
        }
        Some(_) => checker.error("terms", "must be an object of terms types"),
        None => checker.error("terms", "is required: an object of terms types"),
    }
    let declaration = Declaration {
        service_id: service_id.to_string(),
        name,
        imported_from,
        terms,
        history: BTreeMap::new(),
        sha256: {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        },
    };
    (Some(declaration), checker.problems)
}

/// Parses and checks a `.history.json` file.
pub fn parse_history(
    text: &str,
    file: &Path,
    script_filters: &BTreeSet<String>,
) -> (BTreeMap<String, Vec<Terms>>, Vec<Problem>) {
    let mut checker = Checker::new(file, script_filters);
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => return (BTreeMap::new(), vec![json_syntax_problem(file, &error)]),
    };
    let mut history = BTreeMap::new();
    let Value::Object(object) = value else {
        checker.error("", "a history file must be a JSON object of terms types");
        return (history, checker.problems);
    };
    for (terms_type, entries) in &object {
        checker.terms_type = Some(terms_type.clone());
        let Value::Array(entries) = entries else {
            checker.error("", "must be an array of earlier declarations");
            continue;
        };
        let mut parsed: Vec<Terms> = entries
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| {
                checker.field_prefix = format!("[{index}].");
                let parsed = checker.terms_entry(terms_type, entry, true);
                checker.field_prefix.clear();
                parsed
            })
            .collect();
        parsed.sort_by_key(|entry| entry.valid_until);
        history.insert(terms_type.clone(), parsed);
    }
    (history, checker.problems)
}

struct Checker<'a> {
    file: &'a Path,
    terms_type: Option<String>,
    problems: Vec<Problem>,
    script_filters: &'a BTreeSet<String>,
    field_prefix: String,
}

impl<'a> Checker<'a> {
    fn new(file: &'a Path, script_filters: &'a BTreeSet<String>) -> Self {
        Checker {
            file,
            terms_type: None,
            problems: Vec::new(),
            script_filters,
            field_prefix: String::new(),
        }
    }

    fn push(&mut self, field: &str, message: impl Into<String>, severity: Severity) {
        self.problems.push(Problem {
            file: self.file.to_path_buf(),
            terms_type: self.terms_type.clone(),
            field: format!("{}{}", self.field_prefix, field)
                .trim_end_matches('.')
                .to_string(),
            message: message.into(),
            severity,
        });
    }

    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.push(field, message, Severity::Error);
    }

    /// Reads one terms entry; `None` when it has errors.
    fn terms_entry(&mut self, terms_type: &str, entry: &Value, in_history: bool) -> Option<Terms> {
        let before = self.error_count();
        if !terms_types::is_known(terms_type) {
            self.error(
                "",
                format!(
                    "unknown terms type; the closest type of OTA's ontology is {:?}",
                    terms_types::closest(terms_type)
                ),
            );
        }
        let Value::Object(object) = entry else {
            self.error(
                "",
                "must be an object with `fetch` and `select`, or `combine`",
            );
            return None;
        };
        let valid_until = if in_history {
            match object.get("validUntil") {
                Some(Value::String(date)) => {
                    match parse_date(date) {
                        Some(date) => Some(date),
                        None => {
                            self.error("validUntil", format!("{date:?} is not a date-time (RFC 3339, e.g. 2024-01-31T00:00:00Z)"));
                            None
                        }
                    }
                }
                _ => {
                    self.error(
                        "validUntil",
                        "is required in history entries: a date-time string",
                    );
                    None
                }
            }
        } else {
            None
        };
        let allowed: &[&str] = match (object.contains_key("combine"), in_history) {
            (true, false) => &[
                "combine",
                "select",
                "remove",
                "filter",
                "executeClientScripts",
                "actions",
            ],
            (true, true) => &[
                "combine",
                "select",
                "remove",
                "filter",
                "executeClientScripts",
                "actions",
                "validUntil",
            ],
            (false, false) => &[
                "fetch",
                "select",
                "remove",
                "filter",
                "executeClientScripts",
                "actions",
            ],
            (false, true) => &[
                "fetch",
                "select",
                "remove",
                "filter",
                "executeClientScripts",
                "actions",
                "validUntil",
            ],
        };
        for key in object.keys() {
            if !allowed.contains(&key.as_str()) {
                self.error(
                    key,
                    format!("unknown property; allowed: {}", allowed.join(", ")),
                );
            }
        }
        let sources = if let Some(combine) = object.get("combine") {
            let defaults = self.source_rules(object, "");
            let Value::Array(parts) = combine else {
                self.error("combine", "must be an array of source documents");
                return None;
            };
            if parts.is_empty() {
                self.error("combine", "is empty; list the source documents to combine");
            }
            let mut sources = Vec::new();
            for (index, part) in parts.iter().enumerate() {
                let field = format!("combine[{index}]");
                let Value::Object(part) = part else {
                    self.error(&field, "must be an object with `fetch`");
                    continue;
                };
                for key in part.keys() {
                    if !matches!(
                        key.as_str(),
                        "fetch"
                            | "select"
                            | "remove"
                            | "filter"
                            | "executeClientScripts"
                            | "actions"
                    ) {
                        self.error(&format!("{field}.{key}"), "unknown property; allowed: fetch, select, remove, filter, executeClientScripts, actions");
                    }
                }
                let rules = self.source_rules(part, &format!("{field}."));
                let Some(fetch) = self.fetch(part, &format!("{field}.")) else {
                    continue;
                };
                let source = SourceDocument {
                    select: rules
                        .select
                        .or_else(|| defaults.select.clone())
                        .unwrap_or_default(),
                    remove: rules
                        .remove
                        .or_else(|| defaults.remove.clone())
                        .unwrap_or_default(),
                    filters: rules
                        .filters
                        .or_else(|| defaults.filters.clone())
                        .unwrap_or_default(),
                    execute_client_scripts: rules
                        .execute_client_scripts
                        .or(defaults.execute_client_scripts),
                    actions: rules
                        .actions
                        .or_else(|| defaults.actions.clone())
                        .unwrap_or_default(),
                    fetch,
                };
                if source.select.is_empty() && !source.is_pdf_location() {
                    self.error(
                        &format!("{field}.select"),
                        "is required (here or on the terms entry) unless the document is a PDF",
                    );
                }
                sources.push(source);
            }
            sources
        } else {
            let rules = self.source_rules(object, "");
            let fetch = self.fetch(object, "")?;
            let source = SourceDocument {
                select: rules.select.unwrap_or_default(),
                remove: rules.remove.unwrap_or_default(),
                filters: rules.filters.unwrap_or_default(),
                execute_client_scripts: rules.execute_client_scripts,
                actions: rules.actions.unwrap_or_default(),
                fetch,
            };
            if source.select.is_empty()
                && !object.contains_key("select")
                && !source.is_pdf_location()
            {
                self.error("select", "is required unless the document is a PDF: the CSS selector of the text to track");
            }
            vec![source]
        };
        if self.error_count() > before {
            return None;
        }
        Some(Terms {
            terms_type: terms_type.to_string(),
            combined: object.contains_key("combine"),
            sources,
            valid_until,
        })
    }

    fn error_count(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }

    fn fetch(&mut self, object: &Map<String, Value>, prefix: &str) -> Option<String> {
        let field = format!("{prefix}fetch");
        match object.get("fetch") {
            Some(Value::String(url)) => match url::Url::parse(url) {
                Ok(parsed)
                    if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() =>
                {
                    Some(url.clone())
                }
                Ok(parsed) => {
                    self.error(
                        &field,
                        format!(
                            "{url:?} is not an http(s) URL (scheme {:?})",
                            parsed.scheme()
                        ),
                    );
                    None
                }
                Err(e) => {
                    self.error(&field, format!("{url:?} is not a valid URL: {e}"));
                    None
                }
            },
            Some(_) => {
                self.error(&field, "must be a URL string");
                None
            }
            None => {
                self.error(&field, "is required: the URL of the document");
                None
            }
        }
    }

    fn source_rules(&mut self, object: &Map<String, Value>, prefix: &str) -> Rules {
        let select = object
            .get("select")
            .map(|v| self.selectors(v, &format!("{prefix}select")));
        let remove = object
            .get("remove")
            .map(|v| self.selectors(v, &format!("{prefix}remove")));
        let filters = object
            .get("filter")
            .map(|v| self.filters(v, &format!("{prefix}filter")));
        let execute_client_scripts = match object.get("executeClientScripts") {
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.error(
                    &format!("{prefix}executeClientScripts"),
                    "must be true or false",
                );
                None
            }
            None => None,
        };
        let actions = object
            .get("actions")
            .map(|v| self.actions(v, &format!("{prefix}actions")));
        Rules {
            select,
            remove,
            filters,
            execute_client_scripts,
            actions,
        }
    }

    fn actions(&mut self, value: &Value, field: &str) -> Vec<Action> {
        let Value::Array(items) = value else {
            self.error(
                field,
                "must be an array like [{\"click\": \"#show-all\"}, {\"waitFor\": \".policy\"}]",
            );
            return Vec::new();
        };
        let mut actions = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let field = format!("{field}[{index}]");
            let entry = match item {
                Value::Object(object) if object.len() == 1 => object.iter().next(),
                _ => None,
            };
            let Some((key, value)) = entry else {
                self.error(
                    &field,
                    "must be an object with one key, `click` or `waitFor`",
                );
                continue;
            };
            let Value::String(css) = value else {
                self.error(&format!("{field}.{key}"), "must be a CSS selector string");
                continue;
            };
            if let Err(reason) = check_css(css) {
                self.error(
                    &format!("{field}.{key}"),
                    format!("invalid CSS selector {css:?}: {reason}"),
                );
                continue;
            }
            match key.as_str() {
                "click" => actions.push(Action::Click(css.clone())),
                "waitFor" => actions.push(Action::WaitFor(css.clone())),
                _ => self.error(
                    &format!("{field}.{key}"),
                    "unknown action; allowed: click, waitFor",
                ),
            }
        }
        actions
    }

    fn selectors(&mut self, value: &Value, field: &str) -> Vec<Selector> {
        match value {
            Value::Array(items) => {
                if items.is_empty() {
                    self.error(field, "is an empty array; give at least one selector");
                }
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| self.selector(item, &format!("{field}[{i}]")))
                    .collect()
            }
            other => self.selector(other, field).into_iter().collect(),
        }
    }

    fn selector(&mut self, value: &Value, field: &str) -> Option<Selector> {
        match value {
            Value::String(css) => {
                if let Err(reason) = check_css(css) {
                    self.error(field, format!("invalid CSS selector {css:?}: {reason}"));
                    return None;
                }
                Some(Selector::Css(css.clone()))
            }
            Value::Object(range) => {
                let mut start = None;
                let mut end = None;
                let mut ok = true;
                for (key, value) in range {
                    let (slot, side) = match key.as_str() {
                        "startBefore" => (&mut start, Side::Before),
                        "startAfter" => (&mut start, Side::After),
                        "endBefore" => (&mut end, Side::Before),
                        "endAfter" => (&mut end, Side::After),
                        _ => {
                            self.error(&format!("{field}.{key}"), "unknown range property; allowed: startBefore, startAfter, endBefore, endAfter");
                            ok = false;
                            continue;
                        }
                    };
                    let Value::String(css) = value else {
                        self.error(&format!("{field}.{key}"), "must be a CSS selector string");
                        ok = false;
                        continue;
                    };
                    if let Err(reason) = check_css(css) {
                        self.error(
                            &format!("{field}.{key}"),
                            format!("invalid CSS selector {css:?}: {reason}"),
                        );
                        ok = false;
                        continue;
                    }
                    if slot.is_some() {
                        self.error(&format!("{field}.{key}"), "a range has one start (startBefore or startAfter) and one end (endBefore or endAfter)");
                        ok = false;
                    }
                    *slot = Some(RangeEnd {
                        side,
                        css: css.clone(),
                    });
                }
                match (start, end) {
                    (Some(start), Some(end)) if ok => {
                        Some(Selector::Range(RangeSelector { start, end }))
                    }
                    (start, end) => {
                        if ok {
                            let missing = if start.is_none() {
                                "a start (startBefore or startAfter)"
                            } else if end.is_none() {
                                "an end (endBefore or endAfter)"
                            } else {
                                ""
                            };
                            self.error(field, format!("range selector lacks {missing}"));
                        }
                        None
                    }
                }
            }
            _ => {
                self.error(
                    field,
                    "must be a CSS selector string, a range object, or an array of them",
                );
                None
            }
        }
    }

    fn filters(&mut self, value: &Value, field: &str) -> Vec<Filter> {
        let Value::Array(items) = value else {
            self.error(
                field,
                "must be an array of filter names or {name: parameters} objects",
            );
            return Vec::new();
        };
        let mut filters = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let field = format!("{field}[{i}]");
            let (name, params) = match item {
                Value::String(name) if !name.is_empty() => (name.as_str(), None),
                Value::Object(object) if object.len() == 1 => {
                    let (name, params) = object.iter().next().expect("one entry");
                    (name.as_str(), Some(params))
                }
                _ => {
                    self.error(&field, "must be a filter name or an object with exactly one {name: parameters} entry");
                    continue;
                }
            };
            match BuiltinFilter::from_declared(name, params) {
                Ok(Some(builtin)) => filters.push(Filter::Builtin(builtin)),
                Ok(None) if self.script_filters.contains(name) => {
                    self.push(
                        &field,
                        format!("filter {name:?} is a JavaScript function of the service's .filters.js, which policydiff does not run; extraction proceeds without it (built-in filters: {})", filter::BUILTIN_FILTER_NAMES.join(", ")),
                        Severity::Unsupported,
                    );
                    filters.push(Filter::Script(name.to_string()));
                }
                Ok(None) => self.error(
                    &field,
                    format!("filter {name:?} is neither built in ({}) nor defined in the service's .filters.js", filter::BUILTIN_FILTER_NAMES.join(", ")),
                ),
                Err(reason) => self.error(&field, format!("filter {name:?} {reason}")),
            }
        }
        filters
    }
}

struct Rules {
    select: Option<Vec<Selector>>,
    remove: Option<Vec<Selector>>,
    filters: Option<Vec<Filter>>,
    execute_client_scripts: Option<bool>,
    actions: Option<Vec<Action>>,
}

pub use crate::units::parse_date;
