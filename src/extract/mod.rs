//! Extraction: a fetched page and a document's rules → the version text (Markdown).
//!
//! [`extract`] takes the fetched bytes, their content type and location, and a
//! [`SourceDocument`]'s rules. PDFs go to [`pdf`]; HTML is decoded ([`charset`]),
//! parsed and reduced by OTA's steps in OTA's order ([`dom::Page`]): built-in
//! filters, absolute links, no scripts or styles, Cloudflare e-mail protection,
//! `remove`, `select`. The selection is written as Markdown by [`markdown`],
//! byte-compatible with OTA's engine. The same input always gives the same bytes.
//!
//! Filters that are JavaScript functions of a `.filters.js` are not run; they are
//! listed in [`Extracted::skipped_filters`] so callers can say so.
//!
//! ```
//! use policydiff::declaration::{Selector, SourceDocument};
//! use policydiff::extract::extract;
//!
//! let source = SourceDocument {
//!     fetch: "https://example.com/privacy".into(),
//!     select: vec![Selector::Css("main".into())],
//!     remove: vec![Selector::Css(".banner".into())],
//!     filters: vec![],
//!     execute_client_scripts: None,
//! };
//! let page = br#"<main><h2>Your data</h2><p class="banner">Cookies!</p><p>We <a href="/ads">use</a> it.</p></main>"#;
//! let extracted = extract(page, Some("text/html"), "https://example.com/privacy", &source).unwrap();
//! assert_eq!(extracted.markdown, "Your data\n---------\n\nWe [use](https://example.com/ads) it.");
//! ```

pub mod charset;
pub mod dom;
pub mod markdown;
pub mod pdf;

use crate::declaration::{Filter, SourceDocument, describe_selectors};
use crate::{Error, Result};

/// What separates the texts of a combined document's parts (OTA's separator).
pub const SOURCE_DOCUMENTS_SEPARATOR: &str = "\n\n- - -\n\n";

/// Deepest element nesting converted; deeper pages fail as `too_large` instead of
/// exhausting the stack.
pub const MAX_NESTING: usize = 150_000;

/// Stack of the extraction thread: conversion recurses once per nesting level.
const EXTRACTION_STACK_BYTES: usize = 512 * 1024 * 1024;

/// The text of one source document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The Markdown text, no trailing newline.
    pub markdown: String,
    /// Declared JavaScript filters that were not run.
    pub skipped_filters: Vec<String>,
    /// The character set the page was decoded from (`None` for PDFs).
    pub encoding: Option<&'static str>,
}

/// Whether fetched content is a PDF (by content type, else by its first bytes).
pub fn is_pdf(content: &[u8], content_type: Option<&str>) -> bool {
    let mime = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    mime.as_deref() == Some("application/pdf") || content.starts_with(b"%PDF-")
}

/// Extracts one source document's text from fetched content.
pub fn extract(
    content: &[u8],
    content_type: Option<&str>,
    location: &str,
    source: &SourceDocument,
) -> Result<Extracted> {
    let skipped_filters: Vec<String> = source
        .filters
        .iter()
        .filter_map(|f| match f {
            Filter::Script(name) => Some(name.clone()),
            Filter::Builtin(_) => None,
        })
        .collect();
    if is_pdf(content, content_type) {
        return Ok(Extracted {
            markdown: pdf::pdf_to_markdown(content, location)?,
            skipped_filters,
            encoding: None,
        });
    }
    let (text, encoding) = charset::decode(content, content_type);
    let markdown = extract_html(&text, location, source)?;
    Ok(Extracted {
        markdown,
        skipped_filters,
        encoding: Some(encoding),
    })
}

/// Extracts from an HTML text already decoded. Runs on a thread with a large stack, so that
/// deeply nested pages cannot overflow it.
pub fn extract_html(html: &str, location: &str, source: &SourceDocument) -> Result<String> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("extract".into())
            .stack_size(EXTRACTION_STACK_BYTES)
            .spawn_scoped(scope, || extract_html_here(html, location, source))
            .map_err(|e| Error::io("cannot start the extraction thread", e))?
            .join()
            .unwrap_or_else(|_| {
                Err(Error::io(
                    format!("extraction of {location}"),
                    std::io::Error::other("the extraction thread failed; please report this page"),
                ))
            })
    })
}

fn extract_html_here(html: &str, location: &str, source: &SourceDocument) -> Result<String> {
    let mut page = dom::Page::parse(html, location)?;
    for filter in &source.filters {
        if let Filter::Builtin(builtin) = filter {
            page.apply_filter(builtin)?;
        }
    }
    page.absolutize_links();
    page.remove_scripts_and_styles();
    page.clean_email_protection();
    page.remove(&source.remove)?;
    let fragment = page.select(&source.select)?;
    drop(page);
    let depth = fragment.depth();
    if depth > MAX_NESTING {
        return Err(Error::TooLarge {
            url: location.to_string(),
            reason: format!(
                "the selection is nested {depth} elements deep (at most {MAX_NESTING})"
            ),
        });
    }
    let markdown = markdown::to_markdown(fragment);
    if markdown.is_empty() {
        return Err(Error::EmptyContent {
            selector: describe_selectors(&source.select),
            url: location.to_string(),
        });
    }
    Ok(markdown)
}

/// Joins the texts of a combined document's parts, as OTA does.
pub fn combine(parts: &[String]) -> String {
    parts.join(SOURCE_DOCUMENTS_SEPARATOR)
}
