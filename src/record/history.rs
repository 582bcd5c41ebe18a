//! Reading history: the changes of version files (oldest first), a version's text at a commit,
//! and the commit log, over any repository in OTA's layout.

use chrono::{DateTime, Utc};
use git2::Oid;

use std::path::Path;

use super::{
    HistoryIndex, SUBJECT_LEGACY_REFILTER, SUBJECT_TECHNICAL_UPGRADE, VersionKind,
    VersionsRepository, find_revert, git_error, version_path,
};
use crate::Result;
use crate::declaration::DocumentId;

/// A change of one version file, as history records it.
#[derive(Debug, Clone)]
pub struct VersionChange {
    /// The commit.
    pub commit: String,
    /// The commit of the previous version, if any (none for a first record).
    pub previous_commit: Option<String>,
    /// The commit date.
    pub date: DateTime<Utc>,
    /// The commit subject.
    pub subject: String,
    /// The document (its folder and file name).
    pub document: DocumentId,
    /// The new version's blob.
    pub blob: Oid,
    /// Earlier versions, newest first: `(commit, blob)`; the first is the previous version.
    pub earlier: Vec<(String, Oid)>,
}

impl VersionChange {
    /// Whether the commit is a technical or declaration upgrade (OTA's subject, or its earlier
    /// engines' `Refilter …`).
    pub fn is_technical(&self) -> bool {
        self.subject.starts_with(SUBJECT_TECHNICAL_UPGRADE)
            || self
                .subject
                .strip_prefix(SUBJECT_LEGACY_REFILTER)
                .is_some_and(|rest| rest.starts_with(' '))
    }

    /// The earlier version this one brings back, if it is a revert.
    pub fn reverts_to(&self) -> Option<&str> {
        find_revert(self.blob, &self.earlier)
    }

    /// What this version is.
    pub fn kind(&self) -> VersionKind {
        if self.earlier.is_empty() {
            VersionKind::FirstRecord
        } else if self.is_technical() {
            VersionKind::TechnicalUpgrade
        } else if self.reverts_to().is_some() {
            VersionKind::Revert
        } else {
            VersionKind::NewChanges
        }
    }
}

impl VersionsRepository {
    /// The history index brought up to the branch's tip.
    fn history(&self) -> Result<std::cell::Ref<'_, HistoryIndex>> {
        self.history
            .borrow_mut()
            .update(&self.repo)
            .map_err(|e| git_error("cannot read history", e))?;
        Ok(self.history.borrow())
    }

    /// Every version file change, oldest first, optionally since a date: the input of memos.
    pub fn version_changes(&self, since: Option<DateTime<Utc>>) -> Result<Vec<VersionChange>> {
        self.changes_where(since, |_| true)
    }

    /// The changes of one document's version file, oldest first.
    pub fn document_changes(
        &self,
        service_id: &str,
        terms_type: &str,
    ) -> Result<Vec<VersionChange>> {
        let path = version_path(service_id, terms_type);
        self.changes_where(None, |p| p == path)
    }

    /// The changes of the version files of one service, oldest first.
    pub fn service_changes(&self, service_id: &str) -> Result<Vec<VersionChange>> {
        self.changes_where(None, |p| {
            p.split_once('/')
                .is_some_and(|(service, _)| service == service_id)
        })
    }

    fn changes_where(
        &self,
        since: Option<DateTime<Utc>>,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Vec<VersionChange>> {
        let history = self.history()?;
        let mut known: std::collections::HashMap<&str, Vec<(String, Oid)>> = Default::default();
        let mut out = Vec::new();
        for change in history.changes.iter().filter(|c| wanted(&c.path)) {
            let Ok(blob) = Oid::from_str(&change.blob) else {
                continue;
            };
            let Some((service, file)) = change.path.split_once('/') else {
                continue;
            };
            let versions = known.entry(&change.path).or_default();
            // The same text again (a file deleted and restored): not a new version.
            if versions.last().is_some_and(|(_, b)| *b == blob) {
                continue;
            }
            let date = DateTime::from_timestamp(change.time, 0).unwrap_or_default();
            if since.is_none_or(|since| date >= since) {
                out.push(VersionChange {
                    commit: change.commit.clone(),
                    previous_commit: versions.last().map(|(c, _)| c.clone()),
                    date,
                    subject: change.subject.clone(),
                    document: DocumentId::new(service, file.trim_end_matches(".md")),
                    blob,
                    earlier: versions.iter().rev().cloned().collect(),
                });
            }
            versions.push((change.commit.clone(), blob));
        }
        Ok(out)
    }

    /// The `Fetched-At` trailer of a commit, if it has one.
    pub fn fetched_at(&self, commit: &str) -> Option<DateTime<Utc>> {
        let commit = self.repo.find_commit(Oid::from_str(commit).ok()?).ok()?;
        let message = commit.message().ok()?;
        message
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("Fetched-At:"))
            .and_then(|value| DateTime::parse_from_rfc3339(value.trim()).ok())
            .map(|d| d.with_timezone(&Utc))
    }

    /// The date of a commit.
    pub fn commit_date(&self, commit: &str) -> Option<DateTime<Utc>> {
        let commit = self.repo.find_commit(Oid::from_str(commit).ok()?).ok()?;
        DateTime::from_timestamp(commit.time().seconds(), 0)
    }

    /// The text of a blob (a version).
    pub fn blob_text(&self, oid: Oid) -> Result<String> {
        let blob = self
            .repo
            .find_blob(oid)
            .map_err(|e| git_error("cannot read a version", e))?;
        Ok(String::from_utf8_lossy(blob.content()).into_owned())
    }

    /// The text of a document's version file as a commit's tree holds it (read from git
    /// objects directly, so what is shown never depends on the history index).
    pub fn version_text_at(
        &self,
        commit: &str,
        service_id: &str,
        terms_type: &str,
    ) -> Result<String> {
        let path = version_path(service_id, terms_type);
        let blob = Oid::from_str(commit)
            .and_then(|oid| self.repo.find_commit(oid))
            .and_then(|commit| commit.tree())
            .and_then(|tree| tree.get_path(Path::new(&path)))
            .map_err(|e| git_error(&format!("cannot read {path} at commit {commit}"), e))?;
        self.blob_text(blob.id())
    }

    /// Resolves a revision (commit id, branch, `HEAD~2`…) to a commit id.
    pub fn resolve(&self, revision: &str) -> Result<String> {
        let object = self
            .repo
            .revparse_single(revision)
            .map_err(|e| git_error(&format!("no revision {revision:?}"), e))?;
        let commit = object
            .peel_to_commit()
            .map_err(|e| git_error(&format!("{revision:?} is not a commit"), e))?;
        Ok(commit.id().to_string())
    }

    /// The commits of the branch, newest first (or oldest first), empty before the first commit.
    fn commits(&self, oldest_first: bool) -> Result<Vec<git2::Commit<'_>>> {
        let mut walk = self
            .repo
            .revwalk()
            .map_err(|e| git_error("cannot walk history", e))?;
        if walk.push_head().is_err() {
            return Ok(Vec::new());
        }
        if oldest_first {
            walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)
                .map_err(|e| git_error("cannot sort history", e))?;
        }
        walk.map(|oid| {
            let oid = oid.map_err(|e| git_error("cannot walk history", e))?;
            self.repo
                .find_commit(oid)
                .map_err(|e| git_error("cannot read a commit", e))
        })
        .collect()
    }

    /// One line per commit, newest first: `date  commit  subject`.
    pub fn log_lines(&self) -> Result<Vec<String>> {
        let mut lines = Vec::new();
        for commit in self.commits(false)? {
            let oid = commit.id();
            let date = DateTime::from_timestamp(commit.time().seconds(), 0)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default();
            lines.push(format!(
                "{date}  {:.10}  {}",
                oid.to_string(),
                commit.summary().ok().flatten().unwrap_or("")
            ));
        }
        Ok(lines)
    }

    /// The commit of the version that `commit` replaced in a document's history (`None` for a
    /// first record, or a commit not in its history).
    pub fn replaced_commit(
        &self,
        service_id: &str,
        terms_type: &str,
        commit: &str,
    ) -> Result<Option<String>> {
        Ok(self
            .document_changes(service_id, terms_type)?
            .into_iter()
            .rev()
            .find(|change| change.commit == commit)
            .and_then(|change| change.previous_commit))
    }

    /// The versions of a document as `(commit, blob)`, newest first.
    pub fn version_blobs(&self, service_id: &str, terms_type: &str) -> Result<Vec<(String, Oid)>> {
        Ok(self
            .document_changes(service_id, terms_type)?
            .into_iter()
            .rev()
            .map(|change| (change.commit, change.blob))
            .collect())
    }
}
