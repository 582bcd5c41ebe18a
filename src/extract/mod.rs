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

/// Extracts from an HTML text already decoded. The conversion recurses once per nesting level;
/// it grows its stack as it goes deeper ([`markdown`]), so that deeply nested pages cannot
/// overflow the caller's. A panic (a bug) is this page's failure, not the caller's.
pub fn extract_html(html: &str, location: &str, source: &SourceDocument) -> Result<String> {
    // Run on the caller's thread: a thread of its own for every page cost a tenth of
    // extraction's time (its start, and its stack's pages faulted in again for each page).
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        extract_html_here(html, location, source)
    }))
    .unwrap_or_else(|_| {
        Err(Error::internal(
            format!("extraction of {location}"),
            "the extraction panicked",
        ))
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
    page.clean_up();
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

/// Whether an element's end tag may be left out (unclosed, it does not nest), or it has none.
fn never_nests(name: &[u8]) -> bool {
    matches!(
        name,
        // End tag optional.
        b"p" | b"li" | b"dt" | b"dd" | b"option" | b"optgroup" | b"tr" | b"td" | b"th"
            | b"thead" | b"tbody" | b"tfoot" | b"rb" | b"rt" | b"rtc" | b"rp" | b"colgroup"
            | b"caption" | b"html" | b"head" | b"body"
            // Void.
            | b"area" | b"base" | b"br" | b"col" | b"embed" | b"hr" | b"img" | b"input"
            | b"keygen" | b"link" | b"meta" | b"param" | b"source" | b"track" | b"wbr"
            | b"command" | b"basefont" | b"bgsound" | b"frame" | b"image"
    )
}

/// Elements whose content is raw text, read to their end tag without nesting.
fn is_raw_text(name: &[u8]) -> bool {
    matches!(
        name,
        b"script" | b"style" | b"textarea" | b"title" | b"xmp" | b"plaintext"
    )
}

/// A fast upper estimate of element nesting from the tags alone (linear, before parsing).
pub fn estimated_nesting(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    // Tag names longer than this are no name matched below (they count as nesting).
    let mut name = [0u8; 16];
    while let Some(offset) = memchr::memchr(b'<', &bytes[i..]) {
        i += offset + 1;
        if bytes[i..].starts_with(b"!--") {
            i = memchr::memmem::find(&bytes[i..], b"-->").map_or(bytes.len(), |end| i + end + 3);
            continue;
        }
        let closing = bytes.get(i) == Some(&b'/');
        let start = if closing { i + 1 } else { i };
        if !bytes.get(start).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let length = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        let lower = match name.get_mut(..length) {
            Some(lower) => {
                lower.copy_from_slice(&bytes[start..start + length]);
                lower.make_ascii_lowercase();
                &*lower
            }
            None => &[][..],
        };
        if never_nests(lower) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        depth += 1;
        deepest = deepest.max(depth);
        if is_raw_text(lower) {
            i = find_end_tag(bytes, start + length, lower).unwrap_or(bytes.len());
        }
    }
    deepest
}

/// Where the end tag `</name` (in any case) starts, from `from` on.
fn find_end_tag(bytes: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut at = from;
    while let Some(offset) = memchr::memchr(b'<', bytes.get(at..)?) {
        let tag = at + offset;
        let candidate = bytes.get(tag + 1..tag + 2 + name.len())?;
        if candidate[0] == b'/' && candidate[1..].eq_ignore_ascii_case(name) {
            return Some(tag);
        }
        at = tag + 1;
    }
    None
}

/// Joins the texts of a combined document's parts, as OTA does.
pub fn combine(parts: &[String]) -> String {
    parts.join(SOURCE_DOCUMENTS_SEPARATOR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declaration::Selector;

    fn source(select: &str) -> SourceDocument {
        SourceDocument {
            fetch: "https://example.com/terms".into(),
            select: vec![Selector::Css(select.into())],
            remove: vec![],
            filters: vec![],
            execute_client_scripts: None,
            actions: vec![],
        }
    }

    #[test]
    fn nesting_is_estimated_from_the_tags_that_nest() {
        assert_eq!(estimated_nesting("<div><div><span>x</span></div></div>"), 3);
        // Optional end tags and void elements do not nest; names are read in any case.
        assert_eq!(
            estimated_nesting("<DIV><p>a<p>b<br><img src=x><li>c</DIV>"),
            1
        );
        // Comments and raw text hide what looks like tags.
        assert_eq!(
            estimated_nesting(
                "<div><!-- <div><div> --><script>if (a<b) '<div><div>'</SCRIPT></div>"
            ),
            2
        );
        assert_eq!(estimated_nesting("<div><style>div > <span>"), 2);
        assert_eq!(estimated_nesting("<!--><div></div> <3 < p"), 1);
        assert_eq!(estimated_nesting(""), 0);
    }

    #[test]
    fn pages_nested_as_deep_as_allowed_convert_on_a_small_stack() {
        // Block and inline elements, nested just under the limit, and
        // extracted on a thread with a quarter of the default stack: the conversion must grow
        // its own stack, never overflow the caller's.
        let kinds = [
            "div", "span", "strong", "section", "em", "article", "b", "i",
        ];
        let depth = MAX_NESTING - 100;
        let mut page = String::from("<body>");
        for level in 0..depth {
            page.push('<');
            page.push_str(kinds[level % kinds.len()]);
            page.push('>');
        }
        page.push_str("deep");
        for level in (0..depth).rev() {
            let name = kinds[level % kinds.len()].split(' ').next().unwrap();
            page.push_str("</");
            page.push_str(name);
            page.push('>');
        }
        page.push_str("</body>");
        assert!(estimated_nesting(&page) <= MAX_NESTING);
        let markdown = std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || extract_html(&page, "https://example.com/terms", &source("body")))
            .unwrap()
            .join()
            .expect("no stack overflow")
            .unwrap();
        assert!(markdown.contains("deep"), "{markdown}");
    }
}
