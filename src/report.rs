//! A round's outcome, as data: what [`crate::track`] returns and what every sink reads.
//!
//! A [`DocumentReport`] says how one document ended ([`DocumentStatus`], and for a failure its
//! [`FailureClass`] and message); a [`RunReport`] holds a round's documents and counts. The
//! [`RunLog`] keeps every report as one JSON line in `<state>/runs.jsonl` and reads back the
//! latest ones without reading the whole file (it grows for years).
//!
//! Tracking knows nothing of what happens to a report: the caller hands it to a [`Sink`]
//! (notifications, a terminal summary, a test's collector), in the spirit of ripgrep's `Sink`.
//!
//! ```
//! use policydiff::report::{DocumentStatus, RunLog, RunReport};
//!
//! let state = tempfile::tempdir().unwrap();
//! let log = RunLog::in_state(state.path());
//! let report = RunReport::from_documents(chrono::Utc::now(), std::time::Instant::now(), Vec::new(), false, false);
//! log.append(&report).unwrap();
//! let recent = log.recent(10).unwrap();
//! assert_eq!(recent.len(), 1);
//! assert_eq!(recent[0].failed, 0);
//! assert!(DocumentStatus::from(policydiff::record::VersionKind::NewChanges).recorded());
//! ```

use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::declaration::DocumentId;
use crate::record::VersionKind;
use crate::{Error, FailureClass, Result};

/// How a document ended in a round: a version recorded (of one of the [`VersionKind`]s, the
/// one vocabulary of versions), or nothing recorded and why. Written in reports as one word:
/// the version's kind (`first_record`, `new_changes`, `technical_upgrade`, `revert`),
/// `unchanged`, `failed` or `held_back`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentStatus {
    /// A version was recorded, of this kind.
    Recorded(VersionKind),
    /// Same text as the recorded version: nothing written.
    Unchanged,
    /// Fetching or extracting failed; nothing written.
    Failed,
    /// A suspicious change (large deletion) waiting to be seen again.
    HeldBack,
}

impl DocumentStatus {
    /// Whether a version was written.
    pub fn recorded(self) -> bool {
        self.version_kind().is_some()
    }

    /// The kind of the version written, if one was.
    pub fn version_kind(self) -> Option<VersionKind> {
        match self {
            DocumentStatus::Recorded(kind) => Some(kind),
            DocumentStatus::Unchanged | DocumentStatus::Failed | DocumentStatus::HeldBack => None,
        }
    }

    /// The name written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::Recorded(kind) => kind.as_str(),
            DocumentStatus::Unchanged => "unchanged",
            DocumentStatus::Failed => "failed",
            DocumentStatus::HeldBack => "held_back",
        }
    }

    /// The status a report's word names (`new_version`, which run reports said before the
    /// vocabulary was unified, is `new_changes`).
    pub fn from_name(name: &str) -> Option<DocumentStatus> {
        Some(match name {
            "unchanged" => DocumentStatus::Unchanged,
            "failed" => DocumentStatus::Failed,
            "held_back" => DocumentStatus::HeldBack,
            "first_record" => DocumentStatus::Recorded(VersionKind::FirstRecord),
            "new_changes" | "new_version" => DocumentStatus::Recorded(VersionKind::NewChanges),
            "technical_upgrade" => DocumentStatus::Recorded(VersionKind::TechnicalUpgrade),
            "revert" => DocumentStatus::Recorded(VersionKind::Revert),
            _ => return None,
        })
    }
}

impl From<VersionKind> for DocumentStatus {
    fn from(kind: VersionKind) -> Self {
        DocumentStatus::Recorded(kind)
    }
}

impl std::fmt::Display for DocumentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DocumentStatus {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DocumentStatus {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(deserializer)?;
        DocumentStatus::from_name(&name).ok_or_else(|| {
            serde::de::Error::unknown_variant(
                &name,
                &[
                    "first_record",
                    "new_changes",
                    "technical_upgrade",
                    "revert",
                    "unchanged",
                    "failed",
                    "held_back",
                ],
            )
        })
    }
}

/// The outcome of one document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentReport {
    /// The document (written as its two fields, `service` and `terms_type`).
    #[serde(flatten)]
    pub document: DocumentId,
    /// How it ended.
    pub status: DocumentStatus,
    /// Failure class, when failed.
    pub error_class: Option<FailureClass>,
    /// What went wrong (or why it was held back).
    pub error: Option<String>,
    /// The commit written, if any.
    pub commit: Option<String>,
    /// The memo drafted for the change, if any.
    #[serde(default)]
    pub memo: Option<String>,
    /// Time spent on the document.
    pub duration_ms: u64,
    /// Whether its fetched bytes were those its recorded text was extracted from, so that it
    /// was found unchanged without being extracted again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub same_source: bool,
}

impl DocumentReport {
    /// A document that ended unchanged (the starting point of every outcome).
    pub fn unchanged(document: DocumentId) -> Self {
        DocumentReport {
            document,
            status: DocumentStatus::Unchanged,
            error_class: None,
            error: None,
            commit: None,
            memo: None,
            duration_ms: 0,
            same_source: false,
        }
    }

    /// A document that failed with `error`.
    pub fn failed(document: DocumentId, error: &Error) -> Self {
        Self::failed_as(document, error.class(), error.to_string())
    }

    /// A document that failed with a class and a message.
    pub fn failed_as(document: DocumentId, class: FailureClass, message: String) -> Self {
        DocumentReport {
            status: DocumentStatus::Failed,
            error_class: Some(class),
            error: Some(message),
            ..Self::unchanged(document)
        }
    }
}

/// The outcome of a round.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// When the round started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// Its length.
    pub duration_ms: u64,
    /// Documents with a version written.
    pub recorded: usize,
    /// Documents unchanged.
    pub unchanged: usize,
    /// Documents failed.
    pub failed: usize,
    /// Documents held back.
    pub held_back: usize,
    /// Unchanged documents whose fetched bytes were those of their recorded text, so that they
    /// were not extracted again.
    #[serde(default)]
    pub same_sources: usize,
    /// Whether the round was stopped early (signal): documents not started are not listed.
    #[serde(default)]
    pub interrupted: bool,
    /// Whether a browser was started for documents that render with JavaScript.
    #[serde(default)]
    pub browser_started: bool,
    /// Every document, in the order they finished.
    pub documents: Vec<DocumentReport>,
    /// What pushing the versions to `publish.remote` did, when publishing is set and was tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<PublishReport>,
    /// The memos the round drafted, as written (sinks announce them without reading them back;
    /// their bodies and analyses stay on disk).
    #[serde(skip)]
    pub memos: Vec<crate::memo::MemoSummary>,
    /// The policy facts whose answer the round's changes changed.
    #[serde(skip)]
    pub fact_changes: Vec<crate::facts::FactChange>,
}

impl RunReport {
    /// The report of a round that started at `started_at` (`started` on the monotonic clock)
    /// and ends now, with its counts taken from `documents`.
    pub fn from_documents(
        started_at: DateTime<Utc>,
        started: Instant,
        documents: Vec<DocumentReport>,
        interrupted: bool,
        browser_started: bool,
    ) -> Self {
        let count =
            |f: &dyn Fn(DocumentStatus) -> bool| documents.iter().filter(|r| f(r.status)).count();
        RunReport {
            started_at,
            finished_at: Utc::now(),
            duration_ms: started.elapsed().as_millis() as u64,
            recorded: count(&|s| s.recorded()),
            unchanged: count(&|s| s == DocumentStatus::Unchanged),
            failed: count(&|s| s == DocumentStatus::Failed),
            held_back: count(&|s| s == DocumentStatus::HeldBack),
            same_sources: documents.iter().filter(|d| d.same_source).count(),
            interrupted,
            browser_started,
            documents,
            publish: None,
            memos: Vec::new(),
            fact_changes: Vec::new(),
        }
    }

    /// Failures counted by class, for summaries.
    pub fn failures_by_class(&self) -> Vec<(FailureClass, usize)> {
        let mut counts: std::collections::BTreeMap<FailureClass, usize> = Default::default();
        for document in &self.documents {
            if let Some(class) = document.error_class {
                *counts.entry(class).or_default() += 1;
            }
        }
        counts.into_iter().collect()
    }

    /// Documents that ended with `status`.
    pub fn count(&self, status: DocumentStatus) -> usize {
        self.documents.iter().filter(|d| d.status == status).count()
    }
}

/// How a push ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublishStatus {
    /// The remote branch now has the repository's tip.
    Pushed,
    /// The remote branch already had it.
    UpToDate,
    /// The push failed; the next round tries again.
    Failed,
    /// The remote has commits the repository does not; nothing was pushed.
    Diverged,
}

impl PublishStatus {
    /// The serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            PublishStatus::Pushed => "pushed",
            PublishStatus::UpToDate => "up_to_date",
            PublishStatus::Failed => "failed",
            PublishStatus::Diverged => "diverged",
        }
    }
}

/// What publishing did, as the round's report and `policydiff publish` tell it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishReport {
    /// The remote, without credentials.
    pub remote: String,
    /// The remote branch.
    pub branch: String,
    /// How it ended.
    pub status: PublishStatus,
    /// The commit pushed (or found already there).
    pub commit: Option<String>,
    /// Commits the push brought to the remote.
    pub commits: usize,
    /// The class of a failure (`publish_failed`, `publish_diverged`).
    pub error_class: Option<FailureClass>,
    /// What went wrong and what to do.
    pub error: Option<String>,
}

impl PublishReport {
    /// Whether the remote has the repository's tip.
    pub fn succeeded(&self) -> bool {
        matches!(self.status, PublishStatus::Pushed | PublishStatus::UpToDate)
    }
}

/// What a caller does with a round's outcome: publishing, the run log, notifications, a
/// terminal's summary, a test's collector.
///
/// The caller of [`crate::track::track`] (the `track` command, the daemon) passes its sinks to
/// the round, which hands each of them every document as it ends and then the round's report,
/// in order: a tuple of sinks is a sink, and a sink early in it may add to the report what it
/// did (publishing adds its outcome, which the run log then keeps).
pub trait Sink: Send {
    /// A document's outcome, as soon as it is known (progress displays).
    fn document(&mut self, _report: &DocumentReport) {}

    /// The round's report, once the round is over and the repository is free again.
    fn round(&mut self, report: &mut RunReport) -> impl std::future::Future<Output = ()> + Send;
}

/// No sink: a round whose outcome only its returned report tells.
impl Sink for () {
    async fn round(&mut self, _report: &mut RunReport) {}
}

impl<A: Sink, B: Sink> Sink for (A, B) {
    fn document(&mut self, report: &DocumentReport) {
        self.0.document(report);
        self.1.document(report);
    }

    async fn round(&mut self, report: &mut RunReport) {
        self.0.round(report).await;
        self.1.round(report).await;
    }
}

impl<A: Sink, B: Sink, C: Sink> Sink for (A, B, C) {
    fn document(&mut self, report: &DocumentReport) {
        self.0.document(report);
        self.1.document(report);
        self.2.document(report);
    }

    async fn round(&mut self, report: &mut RunReport) {
        self.0.round(report).await;
        self.1.round(report).await;
        self.2.round(report).await;
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn document(&mut self, report: &DocumentReport) {
        (**self).document(report);
    }

    fn round(&mut self, report: &mut RunReport) -> impl std::future::Future<Output = ()> + Send {
        (**self).round(report)
    }
}

/// The last time a round fetched the service's documents without failure, from run reports
/// (newest last).
pub fn last_verified(runs: &[RunReport], service: &str) -> Option<String> {
    runs.iter()
        .rev()
        .find(|run| {
            let documents: Vec<_> = run
                .documents
                .iter()
                .filter(|d| d.document.service == service)
                .collect();
            !documents.is_empty() && documents.iter().all(|d| d.status != DocumentStatus::Failed)
        })
        .map(|run| {
            run.finished_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
}

/// `<state>/runs.jsonl`: one run report per line, appended after every round.
#[derive(Debug, Clone)]
pub struct RunLog {
    lines: crate::basics::JsonLines,
}

impl RunLog {
    /// The run log of a state folder.
    pub fn in_state(state: &Path) -> Self {
        RunLog {
            lines: crate::basics::JsonLines::at(crate::basics::state_files::runs(state)),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        self.lines.path()
    }

    /// Appends a round's report as one JSON line.
    pub fn append(&self, report: &RunReport) -> Result<()> {
        self.lines.append(std::slice::from_ref(report))
    }

    /// The latest `count` reports, oldest first; lines that do not parse are skipped.
    pub fn recent(&self, count: usize) -> Result<Vec<RunReport>> {
        self.lines.recent(count)
    }
}

/// The run log as a sink: every round's report is kept (a log that cannot be written is said,
/// never the round's failure).
impl Sink for RunLog {
    async fn round(&mut self, report: &mut RunReport) {
        if let Err(error) = self.append(report) {
            tracing::error!("the run report was not kept: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_reports_saying_new_version_are_read() {
        let line = r#"{"service":"S","terms_type":"T","status":"new_version","error_class":null,"error":null,"commit":"abc","duration_ms":1}"#;
        let report: DocumentReport = serde_json::from_str(line).unwrap();
        assert_eq!(
            report.status,
            DocumentStatus::Recorded(VersionKind::NewChanges)
        );
        assert_eq!(serde_json::to_value(report.status).unwrap(), "new_changes");
    }

    #[test]
    fn the_run_log_reads_the_latest_reports_only() {
        let state = tempfile::tempdir().unwrap();
        let log = RunLog::in_state(state.path());
        for failed in 0..5 {
            let documents = (0..failed)
                .map(|i| {
                    DocumentReport::failed_as(
                        DocumentId::new("S", format!("T{i}")),
                        FailureClass::Dns,
                        "x".into(),
                    )
                })
                .collect();
            log.append(&RunReport::from_documents(
                Utc::now(),
                Instant::now(),
                documents,
                false,
                false,
            ))
            .unwrap();
        }
        let recent = log.recent(2).unwrap();
        assert_eq!(recent.iter().map(|r| r.failed).collect::<Vec<_>>(), [3, 4]);
    }
}
