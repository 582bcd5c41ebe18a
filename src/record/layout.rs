//! The versions repository's layout, as OTA's engine names things: a document's version file,
//! its source files (one per part of a combined document), and the commit message with its
//! subject and trailers.

use crate::declaration::Terms;

use super::{NewVersion, VersionKind};

/// Name of the version file of a document.
pub fn version_path(service_id: &str, terms_type: &str) -> String {
    format!("{service_id}/{terms_type}.md")
}

/// Name of a source file: one source (`Privacy Policy.html`) or a part of a combined document
/// (`Privacy Policy #help-privacy.html`).
pub fn source_file_name(terms_type: &str, part_id: Option<&str>, is_pdf: bool) -> String {
    let extension = if is_pdf { "pdf" } else { "html" };
    match part_id {
        Some(id) => format!("{terms_type} #{id}.{extension}"),
        None => format!("{terms_type}.{extension}"),
    }
}

/// The file name of a part's source, as OTA names them: `<terms type>.html` (or `.pdf`) for a
/// single source; `<terms type> #<source id>.html` for the parts of a combined document, parts
/// with the same id numbered from the second (`#id-2`).
pub fn part_source_file_name(terms: &Terms, index: usize, is_pdf: bool) -> String {
    if !terms.combined {
        return source_file_name(&terms.terms_type, None, is_pdf);
    }
    let id = terms.sources[index].id();
    let same_before = terms.sources[..index]
        .iter()
        .filter(|s| s.id() == id)
        .count();
    let id = if same_before > 0 {
        format!("{id}-{}", same_before + 1)
    } else {
        id
    };
    source_file_name(&terms.terms_type, Some(&id), is_pdf)
}

/// The file names of every part's source; `is_pdf` says, part by part, whether the fetched
/// bytes are a PDF.
pub fn source_file_names(terms: &Terms, is_pdf: &[bool]) -> Vec<String> {
    is_pdf
        .iter()
        .enumerate()
        .map(|(index, &is_pdf)| part_source_file_name(terms, index, is_pdf))
        .collect()
}

pub(super) fn commit_message(kind: VersionKind, version: &NewVersion<'_>) -> String {
    let mut message = format!(
        "{} {} {}\n\n",
        kind.subject_prefix(),
        single_line(&version.document.service),
        single_line(&version.document.terms_type)
    );
    for source in &version.sources {
        message.push_str(&format!("Source-URL: {}\n", single_line(&source.url)));
    }
    message.push_str(&format!(
        "Fetched-At: {}\n",
        version
            .fetched_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    ));
    for source in &version.sources {
        if let Some(content_type) = &source.content_type {
            message.push_str(&format!("Content-Type: {}\n", single_line(content_type)));
        }
    }
    message.push_str(&format!(
        "Declaration-SHA256: {}\n",
        version.declaration_sha256
    ));
    message.push_str(&format!(
        "Engine: policydiff {}\n",
        env!("CARGO_PKG_VERSION")
    ));
    message
}

/// A value on one line: a trailer never spans lines.
fn single_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
