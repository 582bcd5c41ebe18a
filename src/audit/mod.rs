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
//!
//! let mut repo = VersionsRepository::open_or_create(dir.path(), "bot", "bot@example.org").unwrap();
//! let version = NewVersion { service_id: "Example", terms_type: "Privacy Policy", text: "v1",
//!     sources: vec![], fetched_at: chrono::Utc::now(), declaration_sha256: String::new(), technical: false };
//! repo.record(&version).unwrap();
//! let history = History::read(&repo, None, None).unwrap();
//! assert_eq!(history.log(Some("Example"), None).len(), 1);
//! ```

pub mod export;
pub mod verify;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::record::VersionsRepository;
use crate::{Error, Result};

/// What a version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionKind {
    /// The first version of the document.
    FirstRecord,
    /// The text changed.
    NewChanges,
    /// Re-extracted after a declaration or engine change.
    TechnicalUpgrade,
    /// Identical to an earlier version.
    Revert,
}

impl VersionKind {
    /// The name shown in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionKind::FirstRecord => "first_record",
            VersionKind::NewChanges => "new_changes",
            VersionKind::TechnicalUpgrade => "technical_upgrade",
            VersionKind::Revert => "revert",
        }
    }
}

/// One version of a document.
#[derive(Debug, Clone, Serialize)]
pub struct VersionEntry {
    /// Service id.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
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
}

/// A document's span in the repository.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentSpan {
    /// Service id.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
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
    documents: BTreeMap<(String, String), Vec<VersionEntry>>,
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

fn memo_index(dir: &Path) -> BTreeMap<(String, String, String), (f64, Vec<String>)> {
    let mut index = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return index;
    };
    for path in entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
    {
        let Some(json) = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        else {
            continue;
        };
        let text = |k: &str| json[k].as_str().unwrap_or("").to_string();
        let topics = json["topics"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        index.insert(
            (text("commit"), text("service"), text("terms_type")),
            (json["significance"].as_f64().unwrap_or(0.0), topics),
        );
    }
    index
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
        let mut documents: BTreeMap<(String, String), Vec<VersionEntry>> = BTreeMap::new();
        let changes = match only {
            None => repository.version_changes(None)?,
            Some((service, None)) => repository.service_changes(service)?,
            Some((service, Some(terms))) => repository.document_changes(service, terms)?,
        };
        for change in changes {
            let key = (change.service_id.clone(), change.terms_type.clone());
            let kind = if change.earlier.is_empty() {
                VersionKind::FirstRecord
            } else if change.is_technical() {
                VersionKind::TechnicalUpgrade
            } else if change.earlier[1..]
                .iter()
                .any(|(_, blob)| *blob == change.blob)
            {
                VersionKind::Revert
            } else {
                VersionKind::NewChanges
            };
            let (lines_added, lines_removed) = match change.earlier.first() {
                Some((_, previous)) => line_counts(
                    &repository.blob_text(*previous)?,
                    &repository.blob_text(change.blob)?,
                ),
                None => (repository.blob_text(change.blob)?.lines().count(), 0),
            };
            let (significance, topics) = match memos.get(&(
                change.commit.clone(),
                change.service_id.clone(),
                change.terms_type.clone(),
            )) {
                Some((significance, topics)) => (Some(*significance), topics.clone()),
                None => (None, Vec::new()),
            };
            documents.entry(key).or_default().push(VersionEntry {
                service: change.service_id,
                terms_type: change.terms_type,
                fetched_at: repository.fetched_at(&change.commit),
                commit: change.commit,
                date: change.date,
                kind,
                lines_added,
                lines_removed,
                significance,
                topics,
            });
        }
        Ok(History {
            repository,
            documents,
        })
    }

    /// Versions, newest first, of every document or of a service, or of one document.
    pub fn log(&self, service: Option<&str>, terms_type: Option<&str>) -> Vec<&VersionEntry> {
        let mut entries: Vec<&VersionEntry> = self
            .documents
            .iter()
            .filter(|((s, t), _)| {
                service.is_none_or(|w| w == s) && terms_type.is_none_or(|w| w == t)
            })
            .flat_map(|(_, versions)| versions.iter())
            .collect();
        entries.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| b.commit.cmp(&a.commit)));
        entries
    }

    /// The version in force at `date`: the latest recorded at or before it.
    pub fn in_force_at(
        &self,
        service: &str,
        terms_type: &str,
        date: DateTime<Utc>,
    ) -> Option<&VersionEntry> {
        self.documents
            .get(&(service.to_string(), terms_type.to_string()))?
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
    ) -> Option<&VersionEntry> {
        let versions = self
            .documents
            .get(&(service.to_string(), terms_type.to_string()))?;
        if let Some(exact) = versions.iter().find(|v| v.commit == commit) {
            return Some(exact);
        }
        let date = self.repository.commit_date(commit)?;
        versions.iter().rev().find(|v| v.date <= date)
    }

    /// The text of a version.
    pub fn text(&self, version: &VersionEntry) -> Result<String> {
        self.repository
            .version_text_at(&version.commit, &version.service, &version.terms_type)
    }

    /// Every document with its first and last record and number of versions.
    pub fn services(&self) -> Vec<DocumentSpan> {
        self.documents
            .iter()
            .filter_map(|((service, terms_type), versions)| {
                Some(DocumentSpan {
                    service: service.clone(),
                    terms_type: terms_type.clone(),
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
            .contains_key(&(service.to_string(), terms_type.to_string()))
    }

    /// A point of history given as a date (YYYY-MM-DD or RFC 3339) or a revision.
    pub fn resolve_point(
        &self,
        service: &str,
        terms_type: &str,
        point: &str,
    ) -> Result<&VersionEntry> {
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
        found.ok_or_else(|| Error::UnknownDocument {
            wanted: format!("{service}/{terms_type} at {point}"),
            folder: self.repository.path().display().to_string(),
        })
    }
}

/// A self-contained HTML page showing a change side by side.
pub fn side_by_side_html(title: &str, before: &str, after: &str) -> String {
    let escape = |t: &str| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let diff = similar::TextDiff::from_lines(before, after);
    let mut rows = String::new();
    for op in diff.ops() {
        for change in diff.iter_inline_changes(op) {
            let mut cell = String::new();
            for (emphasised, value) in change.iter_strings_lossy() {
                if emphasised {
                    cell.push_str(&format!("<mark>{}</mark>", escape(&value)));
                } else {
                    cell.push_str(&escape(&value));
                }
            }
            let row = match change.tag() {
                similar::ChangeTag::Equal => format!("<tr><td>{cell}</td><td>{cell}</td></tr>\n"),
                similar::ChangeTag::Delete => {
                    format!("<tr><td class=\"del\">{cell}</td><td></td></tr>\n")
                }
                similar::ChangeTag::Insert => {
                    format!("<tr><td></td><td class=\"ins\">{cell}</td></tr>\n")
                }
            };
            rows.push_str(&row);
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>body{{font:14px/1.4 sans-serif;margin:1em}}table{{width:100%;border-collapse:collapse;table-layout:fixed}}td{{vertical-align:top;white-space:pre-wrap;padding:2px 6px;border-bottom:1px solid #eee}}.del{{background:#fee}}.ins{{background:#efe}}.del mark{{background:#f99}}.ins mark{{background:#9e9}}</style></head>\n<body><h1>{title}</h1>\n<table>\n<tr><th>Before</th><th>After</th></tr>\n{rows}</table></body></html>\n",
        title = escape(title)
    )
}
