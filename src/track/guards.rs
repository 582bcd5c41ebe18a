//! The two guards that keep the record honest.
//!
//! - [`HeldBack`]: a change that deletes more than `record.suspicious_shrink` of the text is
//!   held back until the next round sees the same text again (a broken page, a half-served
//!   response); what was seen is remembered in `<state>/held/<service>/<terms type>.sha256`.
//! - [`is_technical_upgrade`]: a change is a technical upgrade when re-extracting the
//!   previously recorded sources with today's rules gives the new text: the document did not
//!   change, the declaration (or the engine) did.

use std::path::{Path, PathBuf};

use chrono::Utc;
use sha2::Digest;

use super::extract_parts;
use super::selection::Document;
use crate::declaration::Terms;
use crate::fetch::Fetched;
use crate::record::VersionsRepository;

/// The held-back text of one document.
pub(super) struct HeldBack {
    path: PathBuf,
}

impl HeldBack {
    pub(super) fn of(state: &Path, document: &Document) -> Self {
        HeldBack {
            path: crate::basics::state_files::held_back(
                state,
                &document.id.service,
                &document.terms.terms_type,
            ),
        }
    }

    /// Nothing is held back any more (the text was recorded, or came back).
    pub(super) fn clear(&self) {
        let _ = std::fs::remove_file(&self.path);
    }

    /// Why `text` must wait, when it deletes more than `threshold` of `current` and was not
    /// seen in the previous round; `None` when it may be recorded.
    pub(super) fn check(&self, current: &str, text: &str, threshold: f64) -> Option<String> {
        let kept = text.chars().count() as f64 / current.chars().count().max(1) as f64;
        if 1.0 - kept <= threshold {
            return None;
        }
        let digest = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        let seen_before = std::fs::read_to_string(&self.path).is_ok_and(|d| d.trim() == digest);
        if seen_before {
            return None;
        }
        let written = self
            .path
            .parent()
            .map(std::fs::create_dir_all)
            .unwrap_or(Ok(()))
            .and_then(|()| std::fs::write(&self.path, &digest));
        Some(format!(
            "suspicious_shrink: the new text deletes {:.0}% of the recorded one; it is recorded if the next round sees it again{}",
            (1.0 - kept) * 100.0,
            written
                .err()
                .map(|e| format!(" (cannot remember it: {e})"))
                .unwrap_or_default()
        ))
    }
}

/// Whether the previously recorded sources, extracted with today's rules, give `text`.
pub(super) fn is_technical_upgrade(
    repository: &VersionsRepository,
    document: &Document,
    text: &str,
) -> bool {
    gives_recorded_sources(
        |path| repository.read_current(path),
        &document.id.service,
        &document.terms,
        text,
    )
}

/// Whether the sources recorded for a document (read with `read_recorded`, by path in the
/// repository), extracted with today's rules, give `text`.
pub(super) fn gives_recorded_sources(
    read_recorded: impl Fn(&str) -> Option<Vec<u8>>,
    service_id: &str,
    terms: &Terms,
    text: &str,
) -> bool {
    let mut parts = Vec::new();
    for (index, source) in terms.sources.iter().enumerate() {
        let found = [false, true].iter().find_map(|&is_pdf| {
            let path = format!(
                "{service_id}/{}",
                crate::record::part_source_file_name(terms, index, is_pdf)
            );
            read_recorded(&path).map(|bytes| (bytes, is_pdf))
        });
        let Some((bytes, is_pdf)) = found else {
            return false;
        };
        let content_type = if is_pdf {
            "application/pdf"
        } else {
            "text/html"
        };
        let fetched = Fetched {
            bytes,
            content_type: Some(content_type.into()),
            final_url: source.fetch.clone(),
            fetched_at: Utc::now(),
            deflated: None,
        };
        parts.push((source.clone(), fetched));
    }
    extract_parts(&parts).is_ok_and(|previous| previous == text)
}
