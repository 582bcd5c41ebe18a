//! policydiff watches the legal documents of online services, keeps every version
//! in git, and drafts a memo when one changes.
//!
//! The library is the product; the `policydiff` binary is a thin shell over it.
//! Data flows through one module per stage, and a stage never calls a later one:
//!
//! * [`declaration`] reads OTA's JSON declarations: which documents to track, and
//!   the selectors and filters that extract their text.
//! * [`extract`] turns a fetched page (HTML or PDF) and a document's rules into
//!   the version text, Markdown byte-compatible with Open Terms Archive's engine.
//!
//! Fetching, recording in git, change analysis and memos are the stages that
//! follow (see `ARCHITECTURE.md`). Failures are data: every one is an [`Error`]
//! with a [`FailureClass`] that reports show.
//!
//! ```
//! use policydiff::declaration::parse_declaration;
//! use policydiff::extract::extract;
//!
//! let json = r#"{"name": "Example", "terms": {"Privacy Policy": {
//!     "fetch": "https://example.com/privacy", "select": "article"}}}"#;
//! let (declaration, problems) = parse_declaration("Example", json, "Example.json".as_ref(), &Default::default());
//! assert!(problems.is_empty());
//! let terms = &declaration.unwrap().terms["Privacy Policy"];
//! let page = b"<article><h3>Sharing</h3><p>We share <em>nothing</em>.</p></article>";
//! let text = extract(page, Some("text/html"), &terms.sources[0].fetch, &terms.sources[0]).unwrap();
//! assert_eq!(text.markdown, "### Sharing\n\nWe share _nothing_.");
//! ```

#![warn(missing_docs)]

pub mod declaration;
pub mod error;
pub mod extract;

pub use error::{Error, FailureClass, Result};
pub mod analyse;
pub mod audit;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod fetch;
pub mod memo;
pub mod notify;
pub mod record;
pub mod schedule;
pub mod status;
pub mod track;
pub mod yaml;
