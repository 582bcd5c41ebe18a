//! Failures, as data.
//!
//! Every way a document can fail is one variant of [`Error`]. Each variant has a
//! [`FailureClass`], whose serialized name (`no_match`, `empty`, …) is what run
//! reports and notifications show, so that failures can be counted and
//! followed over time. Every message says what went wrong *and* what to do.
//!
//! ```
//! use policydiff::{Error, FailureClass};
//!
//! let error = Error::NoMatch {
//!     selector: "#content".into(),
//!     url: "https://example.com/privacy".into(),
//! };
//! assert_eq!(error.class(), FailureClass::NoMatch);
//! assert!(error.to_string().contains("#content"));
//! ```

use serde::{Deserialize, Serialize};

/// The class of a failure, as it appears in reports (`error_class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The declaration itself is malformed.
    InvalidDeclaration,
    /// A content selector (or one end of a range) matched nothing.
    NoMatch,
    /// The selection exists but holds no text.
    Empty,
    /// A PDF without extractable text (scanned images, or not a PDF at all).
    PdfNoText,
    /// The page is too large or too deeply nested to process safely.
    TooLarge,
    /// A local file or tool could not be read or run.
    Io,
}

impl FailureClass {
    /// The serialized name, as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::InvalidDeclaration => "invalid_declaration",
            FailureClass::NoMatch => "no_match",
            FailureClass::Empty => "empty",
            FailureClass::PdfNoText => "pdf_no_text",
            FailureClass::TooLarge => "too_large",
            FailureClass::Io => "io",
        }
    }
}

impl std::fmt::Display for FailureClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can go wrong in policydiff's library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A declaration file could not be used; the problems name file, terms type and field.
    #[error("invalid declaration: {}; fix the declaration (run `policydiff validate` for every problem)", .problems.join("; "))]
    InvalidDeclaration {
        /// One line per problem, already located.
        problems: Vec<String>,
    },

    /// A CSS selector of the rules does not parse.
    #[error("invalid CSS selector {selector:?}: {reason}; correct the selector in the declaration")]
    InvalidSelector {
        /// The selector as written.
        selector: String,
        /// What the CSS parser objected to.
        reason: String,
    },

    /// No element matches the content selectors.
    #[error(
        "the selector {selector} has no match in the web page at '{url}'; check that the page still \
         has this structure, or that `remove` does not remove what `select` selects"
    )]
    NoMatch {
        /// The selectors, as declared.
        selector: String,
        /// The page location.
        url: String,
    },

    /// One end of a range selector matches nothing.
    #[error(
        "the \"{end}\" selector {selector:?} of the range {range} has no match in the web page at '{url}'; \
         update the range in the declaration"
    )]
    RangeNoMatch {
        /// `start` or `end`.
        end: &'static str,
        /// The CSS selector of that end.
        selector: String,
        /// The whole range, as JSON.
        range: String,
        /// The page location.
        url: String,
    },

    /// The selection holds no text once converted.
    #[error(
        "the selector {selector} matches an empty content in the web page at '{url}'; the page may \
         now render its text with JavaScript (set `executeClientScripts`) or have moved it"
    )]
    EmptyContent {
        /// The selectors, as declared.
        selector: String,
        /// The page location.
        url: String,
    },

    /// A PDF without text.
    #[error(
        "the PDF file at '{url}' contains no text ({reason}); it might contain scanned images of text \
         instead of actual text"
    )]
    PdfNoText {
        /// The document location.
        url: String,
        /// Why no text came out.
        reason: String,
    },

    /// A page beyond what can be processed safely.
    #[error(
        "the page at '{url}' is beyond what can be extracted safely: {reason}; real policy pages are far \
         smaller, so check what the address serves (an error page, a feed, an attack)"
    )]
    TooLarge {
        /// The page location.
        url: String,
        /// Which limit was passed.
        reason: String,
    },

    /// A file or an external tool could not be used.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the file or tool.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// The failure class shown in reports.
    pub fn class(&self) -> FailureClass {
        match self {
            Error::InvalidDeclaration { .. } | Error::InvalidSelector { .. } => {
                FailureClass::InvalidDeclaration
            }
            Error::NoMatch { .. } | Error::RangeNoMatch { .. } => FailureClass::NoMatch,
            Error::EmptyContent { .. } => FailureClass::Empty,
            Error::PdfNoText { .. } => FailureClass::PdfNoText,
            Error::TooLarge { .. } => FailureClass::TooLarge,
            Error::Io { .. } => FailureClass::Io,
        }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
