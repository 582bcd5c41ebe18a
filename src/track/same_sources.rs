//! Sources fetched again byte for byte: what each document's last extraction started from, so
//! that a round can skip extracting a page whose bytes it has already turned into the recorded
//! text.
//!
//! Extraction is a function of the fetched bytes, their content type, the declaration and the
//! engine. [`SourceMemory`] keeps, per document, the SHA-256 of the bytes last extracted,
//! their content types, the declaration's SHA-256, the engine that extracted them and the blob
//! id of the text it gave. When a round fetches the same bytes again, for the same declaration
//! and engine, and that text is still the recorded one, the text would come out the same:
//! the document is unchanged without being parsed. Anything else — other bytes, a changed
//! declaration, another build of policydiff, a text not recorded (held back) — extracts as
//! usual. The memory is a cache: kept in `<state>/sources-seen.json`, written after each round,
//! and losing it only costs one round of extraction.

use crate::basics::{state_files, write_atomic};
use crate::declaration::DocumentId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What one document's last extraction started from and gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Extraction {
    /// Each source's SHA-256 and content type, in the declaration's order.
    pub sources: Vec<(String, Option<String>)>,
    /// SHA-256 of the declaration file used.
    pub declaration: String,
    /// The engine that extracted them ([`engine`]).
    pub engine: String,
    /// Blob id of the text it gave.
    pub text: String,
}

/// The engine's identity: the version and this build's executable (size and modification
/// time), so that any rebuild — whose extraction may differ — extracts again.
pub(super) fn engine() -> String {
    let build = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| {
            let modified = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{}-{modified}", m.len())
        })
        .unwrap_or_default();
    format!("{}+{build}", env!("CARGO_PKG_VERSION"))
}

/// The extractions of the last rounds, by document (`<service>/<terms type>`).
#[derive(Debug, Clone, Default)]
pub(super) struct SourceMemory {
    path: PathBuf,
    extractions: HashMap<String, Extraction>,
}

impl SourceMemory {
    /// The memory kept in `state`; empty when absent or unreadable (a cache: it only saves work).
    pub(super) fn in_state(state: &Path) -> Self {
        let path = state_files::sources_seen(state);
        let extractions = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        SourceMemory { path, extractions }
    }

    /// A document's key in the state file: `service/terms type`.
    fn key(document: &DocumentId) -> String {
        document.to_string()
    }

    /// Whether `extraction` (with the recorded text's blob id as its text) is the one
    /// remembered for the document: then extracting again would give the recorded text.
    pub(super) fn gives_recorded_text(
        &self,
        document: &DocumentId,
        extraction: &Extraction,
    ) -> bool {
        self.extractions
            .get(&Self::key(document))
            .is_some_and(|remembered| remembered == extraction)
    }

    /// Whether the recorded text (blob id `recorded_text`) last came out of an extraction with
    /// this declaration and engine: then a new text now comes from new bytes, not from a change
    /// of the declaration or the engine — it cannot be a technical upgrade, and the recorded
    /// sources need not be extracted again to tell.
    pub(super) fn extracted_with(
        &self,
        document: &DocumentId,
        declaration: &str,
        engine: &str,
        recorded_text: &str,
    ) -> bool {
        self.extractions
            .get(&Self::key(document))
            .is_some_and(|remembered| {
                remembered.text == recorded_text
                    && remembered.declaration == declaration
                    && remembered.engine == engine
            })
    }

    /// Remembers a document's latest extraction.
    pub(super) fn remember(&mut self, document: &DocumentId, extraction: Extraction) {
        self.extractions.insert(Self::key(document), extraction);
    }

    /// Writes the memory (atomically: a new file renamed over the old one). A failure is only
    /// logged: the next round extracts again.
    pub(super) fn save(&self) {
        let write = || -> std::io::Result<()> {
            let bytes = serde_json::to_vec(&self.extractions).map_err(std::io::Error::other)?;
            write_atomic(&self.path, &bytes)
        };
        if let Err(error) = write() {
            tracing::warn!("cannot keep {}: {error}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn privacy() -> DocumentId {
        DocumentId::new("S", "Privacy Policy")
    }

    fn extraction(text: &str) -> Extraction {
        Extraction {
            sources: vec![("a".repeat(64), Some("text/html".into()))],
            declaration: "d".into(),
            engine: engine(),
            text: text.into(),
        }
    }

    #[test]
    fn only_the_same_bytes_declaration_engine_and_recorded_text_match() {
        let dir = tempfile::tempdir().unwrap();
        let mut memory = SourceMemory::in_state(dir.path());
        assert!(!memory.gives_recorded_text(&privacy(), &extraction("t")));
        memory.remember(&privacy(), extraction("t"));
        memory.save();
        let memory = SourceMemory::in_state(dir.path());
        assert!(memory.gives_recorded_text(&privacy(), &extraction("t")));
        assert!(
            !memory
                .gives_recorded_text(&DocumentId::new("S", "Terms of Service"), &extraction("t"))
        );
        // Another recorded text (e.g. the last one was held back).
        assert!(!memory.gives_recorded_text(&privacy(), &extraction("u")));
        let mut other_declaration = extraction("t");
        other_declaration.declaration = "e".into();
        assert!(!memory.gives_recorded_text(&privacy(), &other_declaration));
        let mut other_engine = extraction("t");
        other_engine.engine = "0.0.0+other".into();
        assert!(!memory.gives_recorded_text(&privacy(), &other_engine));
        let mut other_type = extraction("t");
        other_type.sources[0].1 = Some("application/pdf".into());
        assert!(!memory.gives_recorded_text(&privacy(), &other_type));
    }

    #[test]
    fn a_recorded_text_extracted_with_today_s_declaration_and_engine_is_known() {
        let dir = tempfile::tempdir().unwrap();
        let mut memory = SourceMemory::in_state(dir.path());
        let engine = engine();
        assert!(!memory.extracted_with(&privacy(), "d", &engine, "t"));
        memory.remember(&privacy(), extraction("t"));
        assert!(memory.extracted_with(&privacy(), "d", &engine, "t"));
        // Other bytes gave the same text: still the same declaration and engine.
        let mut other_bytes = extraction("t");
        other_bytes.sources[0].0 = "b".repeat(64);
        memory.remember(&privacy(), other_bytes);
        assert!(memory.extracted_with(&privacy(), "d", &engine, "t"));
        assert!(!memory.extracted_with(&privacy(), "e", &engine, "t"));
        assert!(!memory.extracted_with(&privacy(), "d", "0.0.0+other", "t"));
        assert!(!memory.extracted_with(&privacy(), "d", &engine, "u"));
    }

    #[test]
    fn an_unreadable_memory_is_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sources-seen.json"), "{not json").unwrap();
        let memory = SourceMemory::in_state(dir.path());
        assert!(!memory.gives_recorded_text(&privacy(), &extraction("t")));
    }
}
