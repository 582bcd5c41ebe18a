//! Auditing history: the versions of a document, the text in force at a date, and changes
//! between two points, over any repository with OTA's versions layout.
//!
//! [`History::read`] indexes a repository once (one walk of its commits): for every document,
//! its versions in time order with commit, date, kind and size of change. The queries answer
//! from that index: [`History::log`], [`History::in_force_at`], [`History::services`]. Memos, when
//! a memos folder is given, add their significance and topics to the log.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! use policydiff::audit::History;
//! use policydiff::record::{NewVersion, VersionsRepository};
//! use policydiff::declaration::DocumentId;
//!
//! let mut repo = VersionsRepository::open_or_create(dir.path(), "bot", "bot@example.org").unwrap();
//! let version = NewVersion { document: DocumentId::new("Example", "Privacy Policy"), text: "v1",
//!     sources: vec![], fetched_at: chrono::Utc::now(), declaration_sha256: String::new(), technical: false };
//! repo.record(&version).unwrap();
//! let history = History::read(&repo, None, None).unwrap();
//! assert_eq!(history.log(Some("Example"), None).len(), 1);
//! ```

pub mod export;
pub mod render;
pub mod verify;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::declaration::DocumentId;
use crate::memo::MemoStore;
pub use crate::record::VersionKind;
use crate::record::VersionsRepository;
use crate::{Error, Result};

/// A recorded change of a document (a [`crate::record::VersionChange`]) as the audit log shows
/// it: with its kind, line counts, fetch time and memo.
#[derive(Debug, Clone, Serialize)]
pub struct LoggedChange {
    /// The document.
    #[serde(flatten)]
    pub document: DocumentId,
    /// The commit that recorded it.
    pub commit: String,
    /// When it was recorded (the commit date).
    pub date: DateTime<Utc>,
    /// When it was fetched (`Fetched-At` trailer), if said.
    pub fetched_at: Option<DateTime<Utc>>,
    /// What it is.
    pub kind: VersionKind,
    /// Lines added and removed compared with the previous version.
    pub lines_added: usize,
    /// Lines removed.
    pub lines_removed: usize,
    /// The memo's significance, when a memo exists.
    pub significance: Option<f64>,
    /// The memo's topics, when a memo exists.
    pub topics: Vec<String>,
    /// Its place in the repository's history (0 for the oldest commit read), which orders
    /// versions recorded within the same second.
    #[serde(skip)]
    pub sequence: usize,
}

/// A document's span in the repository.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentSpan {
    /// The document.
    #[serde(flatten)]
    pub document: DocumentId,
    /// First record.
    pub first: DateTime<Utc>,
    /// Last version.
    pub last: DateTime<Utc>,
    /// Number of versions.
    pub versions: usize,
}

/// The index of a repository's versions.
pub struct History<'r> {
    repository: &'r VersionsRepository,
    /// Versions per document, oldest first.
    documents: BTreeMap<DocumentId, Vec<LoggedChange>>,
}

fn line_counts(before: &str, after: &str) -> (usize, usize) {
    let diff = similar::TextDiff::from_lines(before, after);
    let mut added = 0;
    let mut removed = 0;
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    (added, removed)
}

/// Significance and topics of the memos of a folder, by commit and document.
fn memo_index(dir: &Path) -> BTreeMap<(String, DocumentId), (f64, Vec<String>)> {
    MemoStore::new(dir)
        .list()
        .unwrap_or_default()
        .into_iter()
        .map(|memo| {
            let record = memo.record;
            (
                (record.commit.unwrap_or_default(), record.document),
                (record.significance, record.topics),
            )
        })
        .collect()
}

impl<'r> History<'r> {
    /// Indexes a repository; `memos` adds significance and topics from a memos folder; `only`
    /// limits the index to one service (and terms type), which is all `show` and `diff` need.
    pub fn read(
        repository: &'r VersionsRepository,
        memos: Option<&Path>,
        only: Option<(&str, Option<&str>)>,
    ) -> Result<History<'r>> {
        let memos = memos.map(memo_index).unwrap_or_default();
        let mut documents: BTreeMap<DocumentId, Vec<LoggedChange>> = BTreeMap::new();
        let changes = match only {
            None => repository.version_changes(None)?,
            Some((service, None)) => repository.service_changes(service)?,
            Some((service, Some(terms))) => repository.document_changes(service, terms)?,
        };
        for (sequence, change) in changes.into_iter().enumerate() {
            let kind = change.kind();
            let (lines_added, lines_removed) = match change.earlier.first() {
                Some((_, previous)) => line_counts(
                    &repository.blob_text(*previous)?,
                    &repository.blob_text(change.blob)?,
                ),
                None => (repository.blob_text(change.blob)?.lines().count(), 0),
            };
            let (significance, topics) =
                match memos.get(&(change.commit.clone(), change.document.clone())) {
                    Some((significance, topics)) => (Some(*significance), topics.clone()),
                    None => (None, Vec::new()),
                };
            documents
                .entry(change.document.clone())
                .or_default()
                .push(LoggedChange {
                    document: change.document,
                    fetched_at: repository.fetched_at(&change.commit),
                    commit: change.commit,
                    date: change.date,
                    kind,
                    lines_added,
                    lines_removed,
                    significance,
                    topics,
                    sequence,
                });
        }
        Ok(History {
            repository,
            documents,
        })
    }

    /// Versions, newest first, of every document or of a service, or of one document.
    pub fn log(&self, service: Option<&str>, terms_type: Option<&str>) -> Vec<&LoggedChange> {
        let mut entries: Vec<&LoggedChange> = self
            .documents
            .iter()
            .filter(|(document, _)| {
                service.is_none_or(|w| w == document.service)
                    && terms_type.is_none_or(|w| w == document.terms_type)
            })
            .flat_map(|(_, versions)| versions.iter())
            .collect();
        // Newest first; versions of the same second in the order history recorded them.
        entries.sort_by(|a, b| {
            b.date
                .cmp(&a.date)
                .then_with(|| b.sequence.cmp(&a.sequence))
        });
        entries
    }

    /// The version in force at `date`: the latest recorded at or before it.
    pub fn in_force_at(
        &self,
        service: &str,
        terms_type: &str,
        date: DateTime<Utc>,
    ) -> Option<&LoggedChange> {
        self.documents
            .get(&DocumentId::new(service, terms_type))?
            .iter()
            .rev()
            .find(|v| v.date <= date)
    }

    /// The version recorded by a commit, or in force at it (a commit of another document).
    pub fn at_commit(
        &self,
        service: &str,
        terms_type: &str,
        commit: &str,
    ) -> Option<&LoggedChange> {
        let versions = self.documents.get(&DocumentId::new(service, terms_type))?;
        if let Some(exact) = versions.iter().find(|v| v.commit == commit) {
            return Some(exact);
        }
        let date = self.repository.commit_date(commit)?;
        versions.iter().rev().find(|v| v.date <= date)
    }

    /// The text of a version.
    pub fn text(&self, version: &LoggedChange) -> Result<String> {
        self.repository.version_text_at(
            &version.commit,
            &version.document.service,
            &version.document.terms_type,
        )
    }

    /// Every document with its first and last record and number of versions.
    pub fn services(&self) -> Vec<DocumentSpan> {
        self.documents
            .iter()
            .filter_map(|(document, versions)| {
                Some(DocumentSpan {
                    document: document.clone(),
                    first: versions.first()?.date,
                    last: versions.last()?.date,
                    versions: versions.len(),
                })
            })
            .collect()
    }

    /// Whether a document exists in the repository.
    pub fn has(&self, service: &str, terms_type: &str) -> bool {
        self.documents
            .contains_key(&DocumentId::new(service, terms_type))
    }

    /// A point of history given as a date (YYYY-MM-DD or RFC 3339) or a revision.
    pub fn resolve_point(
        &self,
        service: &str,
        terms_type: &str,
        point: &str,
    ) -> Result<&LoggedChange> {
        let found = match crate::declaration::parse_date(point) {
            // A bare date means the end of that day.
            Some(date) if point.len() == 10 => self.in_force_at(
                service,
                terms_type,
                date + chrono::Duration::days(1) - chrono::Duration::seconds(1),
            ),
            Some(date) => self.in_force_at(service, terms_type, date),
            None => {
                let commit = self.repository.resolve(point)?;
                self.at_commit(service, terms_type, &commit)
            }
        };
        found.ok_or_else(|| {
            Error::argument(format!(
                "{} holds no version of {service} / {terms_type} at {point} (recorded later, or not this document's commit); `policydiff log {service:?} {terms_type:?}` lists its versions",
                self.repository.path().display()
            ))
        })
    }
}
