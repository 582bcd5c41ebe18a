//! The declaration model: a [`Declaration`] of [`Terms`], each made of [`SourceDocument`]s with
//! their [`Selector`]s, filters and actions, and the [`Problem`]s found while reading one.
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::*;

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

/// A tracked document's name: its service's id and its terms type, as the versions repository
/// files it (`<service>/<terms type>.md`). Written in reports as two fields, `service` and
/// `terms_type`; shown as `service/terms type`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct DocumentId {
    /// The service's id (its declaration's file name).
    pub service: String,
    /// The terms type (OTA's ontology).
    pub terms_type: String,
}

impl DocumentId {
    /// The document `terms_type` of `service`.
    pub fn new(service: impl Into<String>, terms_type: impl Into<String>) -> DocumentId {
        DocumentId {
            service: service.into(),
            terms_type: terms_type.into(),
        }
    }
}

impl std::fmt::Display for DocumentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.service, self.terms_type)
    }
}
