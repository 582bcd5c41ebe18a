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
//!     actions: vec![],
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

/// Deepest element nesting extracted; deeper pages fail as `too_large`. HTML tree
/// building costs time proportional to depth for each block element (scope checks), so
/// a hostile page of 100,000 nested `<div>`s would otherwise take minutes. Real pages
/// stay far below (hundreds at most).
pub const MAX_NESTING: usize = 10_000;
/// Markdown may be this many times longer than the page's HTML…
const MARKDOWN_GROWTH: usize = 8;
/// …plus this many bytes.
const MARKDOWN_ALLOWANCE: usize = 1 << 20;

/// Stack of the extraction thread: conversion recurses once per nesting level.
const EXTRACTION_STACK_BYTES: usize = 256 * 1024 * 1024;

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
                Err(Error::internal(
                    format!("extraction of {location}"),
                    "the extraction thread panicked",
                ))
            })
    })
}

fn extract_html_here(html: &str, location: &str, source: &SourceDocument) -> Result<String> {
    let nesting = estimated_nesting(html);
    if nesting > MAX_NESTING {
        return Err(Error::TooLarge {
            url: location.to_string(),
            reason: format!(
                "its elements nest about {nesting} levels deep (at most {MAX_NESTING})"
            ),
        });
    }
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
    // Far above what any real page converts to (Markdown is shorter than its HTML, but for
    // absolute links and heading underlines), far below what nested headings can demand.
    let limit = html.len().saturating_mul(MARKDOWN_GROWTH) + MARKDOWN_ALLOWANCE;
    let markdown = markdown::to_markdown(fragment, limit).map_err(|too_long| Error::TooLarge {
        url: location.to_string(),
        reason: format!(
            "its text would pass {} MB once converted (headings nested in headings double it at each level)",
            too_long.limit / 1_000_000
        ),
    })?;
    if markdown.is_empty() {
        return Err(Error::EmptyContent {
            selector: describe_selectors(&source.select),
            url: location.to_string(),
        });
    }
    Ok(markdown)
}

/// Elements whose end tag may be left out: unclosed, they do not nest.
const OPTIONAL_END: &[&str] = &[
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "rb",
    "rt", "rtc", "rp", "colgroup", "caption", "html", "head", "body",
];
const VOID_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr", "command", "basefont", "bgsound", "frame", "image",
];

/// A fast upper estimate of element nesting from the tags alone (linear, before parsing).
pub fn estimated_nesting(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    let mut name = String::new();
    while let Some(offset) = memchr_lt(&bytes[i..]) {
        i += offset + 1;
        if bytes[i..].starts_with(b"!--") {
            i = find_from(bytes, i, b"-->").map_or(bytes.len(), |end| end + 3);
            continue;
        }
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        name.clear();
        name.extend(
            bytes[start..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
                .map(|b| char::from(b.to_ascii_lowercase())),
        );
        if name.is_empty() || !bytes[start].is_ascii_alphabetic() {
            continue;
        }
        if OPTIONAL_END.contains(&name.as_str()) || VOID_ELEMENTS.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        depth += 1;
        deepest = deepest.max(depth);
        for raw in ["script", "style", "textarea", "title", "xmp", "plaintext"] {
            if name == raw {
                let end = format!("</{raw}");
                i = find_from_ignore_case(bytes, i, end.as_bytes()).unwrap_or(bytes.len());
                break;
            }
        }
    }
    deepest
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'<')
}

fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes[from.min(bytes.len())..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn find_from_ignore_case(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes[from.min(bytes.len())..]
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// Joins the texts of a combined document's parts, as OTA does.
pub fn combine(parts: &[String]) -> String {
    parts.join(SOURCE_DOCUMENTS_SEPARATOR)
}
