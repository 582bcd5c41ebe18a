//! The memo store: the memos folder, read and written only here.
//!
//! Each memo is two files named `<date>-<service>-<terms type>[-N]`: the Markdown memo (YAML
//! front matter, then the body), which people review and edit, and its `.json` sidecar, a
//! [`MemoRecord`] holding the memo and its full analysis, which programs read (the audit log,
//! notifications, status, review). [`MemoStore::write`] never overwrites another change's memo
//! (a number is added) nor a memo a person has reviewed (its front matter no longer says
//! `status: draft`); it rewrites a draft of the same change, so drafting is repeatable.
//! [`MemoFile`] is the one codec of a memo file's front matter: the store reads a memo's
//! status and title with it, and a reviewer's decision is written back through
//! [`StoredMemo::rewrite`]. Every file is written whole (a temporary file renamed over it).
//!
//! ```
//! use policydiff::memo::MemoStore;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = MemoStore::new(dir.path());
//! assert!(store.list().unwrap().is_empty());
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Memo, Quote};
use crate::analyse::significance::Factor;
use crate::analyse::{Announcement, AnnouncementEvent, Change, ChangeKind};
use crate::basics::write_atomic;
use crate::declaration::DocumentId;
use crate::{Error, Result};

/// The sidecar of a memo: everything of the memo and of the analysis it was drafted from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoRecord {
    /// The document.
    #[serde(flatten)]
    pub document: DocumentId,
    /// Date of the change (YYYY-MM-DD).
    pub date: Option<String>,
    /// The commit of the change.
    pub commit: Option<String>,
    /// The commit of the previous version.
    pub previous_commit: Option<String>,
    /// Substantive, cosmetic, revert or technical.
    pub change_kind: ChangeKind,
    /// For reverts, the commit whose text came back.
    pub reverts_to: Option<String>,
    /// Significance in [0, 1].
    pub significance: f64,
    /// Why: the features that weighed most in the significance, with their contributions.
    #[serde(default)]
    pub significance_factors: Vec<Factor>,
    /// Topics, most significant first.
    pub topics: Vec<String>,
    /// The effective / last-updated date the new version states.
    pub effective_date: Option<String>,
    /// The effective / last-updated date the previous version states.
    pub previous_effective_date: Option<String>,
    /// An upcoming change the text announces.
    pub announced_change: Option<Announcement>,
    /// What the change does to that announcement: made, standing, fulfilled or withdrawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announcement_event: Option<AnnouncementEvent>,
    /// Title.
    pub title: String,
    /// One-paragraph summary in HTML.
    pub html_description: String,
    /// The Markdown body.
    pub body: String,
    /// Every quotation of the body, with the version it comes from.
    pub quotes: Vec<Quote>,
    /// The block changes.
    pub changes: Vec<Change>,
}

impl MemoRecord {
    /// The record of a drafted memo of `document`.
    pub fn of(memo: &Memo, document: &DocumentId) -> Self {
        let f = &memo.front_matter;
        MemoRecord {
            document: document.clone(),
            date: f.dates.first().cloned(),
            commit: f.commit.clone(),
            previous_commit: f.previous_commit.clone(),
            change_kind: f.change_kind,
            reverts_to: f.reverts_to.clone(),
            significance: f.significance,
            // Every factor, those that lowered the score too: a reviewer sees why a change
            // ranks where it does.
            significance_factors: memo.analysis.significance_factors.clone(),
            topics: f.topics.clone(),
            effective_date: memo.analysis.effective_date.clone(),
            previous_effective_date: memo.analysis.previous_effective_date.clone(),
            announced_change: memo.analysis.announced_change.clone(),
            announcement_event: memo.analysis.announcement_event,
            title: memo.title.clone(),
            html_description: f.html_description.clone(),
            body: memo.body.clone(),
            quotes: memo.quotes.clone(),
            changes: memo.analysis.changes.clone(),
        }
    }

    /// Whether both records describe the same change of the same document.
    pub fn same_change(&self, other: &MemoRecord) -> bool {
        self.commit == other.commit && self.document == other.document
    }
}

/// A memo in the store.
#[derive(Debug, Clone)]
pub struct StoredMemo {
    /// The Markdown file.
    pub path: PathBuf,
    /// Its id: the file name without extension.
    pub id: String,
    /// `status` in the front matter: `draft` until a person reviews it.
    pub status: String,
    /// The title as the front matter says it now (a reviewer may have edited it).
    pub title: String,
    /// Whether a reviewer edited it (`edited_at` in the front matter).
    pub edited: bool,
    /// The sidecar.
    pub record: MemoRecord,
}

/// What is told of a memo once written (by notifications, the round's report): its file,
/// status and headline facts, without its body and analysis, which stay on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoSummary {
    /// The Markdown file.
    pub path: PathBuf,
    /// `draft`, `published` or `rejected`.
    pub status: String,
    /// The title.
    pub title: String,
    /// The document.
    pub document: DocumentId,
    /// Date of the change (YYYY-MM-DD).
    pub date: Option<String>,
    /// The commit of the change.
    pub commit: Option<String>,
    /// Significance in [0, 1].
    pub significance: f64,
    /// Topics, most significant first.
    pub topics: Vec<String>,
    /// One-paragraph summary in HTML.
    pub html_description: String,
}

impl StoredMemo {
    /// What is told of the memo, its body and analysis left on disk.
    pub fn into_summary(self) -> MemoSummary {
        let record = self.record;
        MemoSummary {
            path: self.path,
            status: self.status,
            title: self.title,
            document: record.document,
            date: record.date,
            commit: record.commit,
            significance: record.significance,
            topics: record.topics,
            html_description: record.html_description,
        }
    }

    /// Whether the memo still waits for review.
    pub fn is_draft(&self) -> bool {
        self.status == "draft"
    }

    /// Whether drafting again may rewrite it: a draft nobody has edited.
    pub fn is_redraftable(&self) -> bool {
        self.is_draft() && !self.edited
    }

    /// A stored memo's file, to rewrite: says how to mend a front matter that does not parse.
    pub fn open_file(&self) -> Result<MemoFile> {
        let markdown = std::fs::read_to_string(&self.path)
            .map_err(|e| Error::io(format!("cannot read {}", self.path.display()), e))?;
        MemoFile::parse(&markdown).map_err(|problem| {
            Error::argument(format!(
                "{}: {problem}; restore the front matter (the `.json` beside it holds the drafted memo)",
                self.path.display()
            ))
        })
    }

    /// Rewrites a stored memo's file whole (a crash leaves the old or the new file).
    pub fn rewrite(&self, file: &MemoFile) -> Result<()> {
        let text = file.to_markdown()?;
        write_atomic(&self.path, text.as_bytes())
            .map_err(|e| Error::io(format!("cannot write {}", self.path.display()), e))
    }
}

/// What [`MemoStore::write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// The memo was written (new, or rewriting the draft of the same change).
    Written(PathBuf),
    /// A reviewed (or edited) memo of the same change is there and was left as it is.
    KeptReviewed(PathBuf),
}

impl Stored {
    /// The memo's file, written or kept.
    pub fn path(&self) -> &Path {
        match self {
            Stored::Written(path) | Stored::KeptReviewed(path) => path,
        }
    }

    /// The file, when it was written.
    pub fn written(self) -> Option<PathBuf> {
        match self {
            Stored::Written(path) => Some(path),
            Stored::KeptReviewed(_) => None,
        }
    }
}

/// A memo file as people edit it: its YAML front matter, key by key, and its body. The one
/// reader and writer of memo files' front matter.
#[derive(Debug, Clone)]
pub struct MemoFile {
    values: serde_yaml::Mapping,
    /// The Markdown body after the front matter.
    pub body: String,
}

impl MemoFile {
    /// Parses a memo file's text; says what is wrong with its front matter.
    pub fn parse(markdown: &str) -> std::result::Result<Self, String> {
        let rest = markdown
            .strip_prefix("---\n")
            .ok_or("the memo does not start with a front matter (`---`)")?;
        let end = rest
            .find("\n---\n")
            .map(|at| (at + 1, at + 5))
            .or_else(|| {
                rest.ends_with("\n---")
                    .then(|| (rest.len() - 3, rest.len()))
            })
            .ok_or("the memo's front matter is not closed by `---`")?;
        let values: serde_yaml::Mapping =
            crate::yaml::from_str(&rest[..end.0]).map_err(|e| e.to_string())?;
        Ok(MemoFile {
            values,
            body: rest[end.1..].trim_start_matches('\n').to_string(),
        })
    }

    /// A key's value, as text (strings, numbers and booleans).
    pub fn get(&self, key: &str) -> Option<String> {
        match self.values.get(key)? {
            serde_yaml::Value::String(s) => Some(s.clone()),
            serde_yaml::Value::Number(n) => Some(n.to_string()),
            serde_yaml::Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A key's value as YAML (lists and maps too).
    pub fn value(&self, key: &str) -> Option<&serde_yaml::Value> {
        self.values.get(key)
    }

    /// Sets a key (added at the end when new).
    pub fn set(&mut self, key: &str, value: &str) {
        self.values.insert(key.into(), value.into());
    }

    /// The file's text: front matter, a blank line, the body.
    pub fn to_markdown(&self) -> Result<String> {
        let front = crate::yaml::to_string(&self.values)
            .map_err(|e| Error::internal("writing a memo's front matter", e))?;
        Ok(format!("---\n{front}---\n\n{}", self.body))
    }
}

/// The memos folder.
#[derive(Debug, Clone)]
pub struct MemoStore {
    dir: PathBuf,
}

impl MemoStore {
    /// The store in `dir` (created when the first memo is written).
    pub fn new(dir: &Path) -> Self {
        MemoStore {
            dir: dir.to_path_buf(),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The Markdown files of the memos, newest first (file names start with the date).
    pub fn paths_newest_first(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "md"))
                    .collect()
            })
            .unwrap_or_default();
        paths.sort_by(|a, b| b.file_name().cmp(&a.file_name()));
        paths
    }

    /// Reads the memo of a Markdown file and its sidecar; `None` when either is missing or
    /// unreadable (a file someone put in the folder, a memo being written).
    pub fn read(&self, path: &Path) -> Option<StoredMemo> {
        let record: MemoRecord =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).ok()?)
                .ok()?;
        let markdown = std::fs::read_to_string(path).ok()?;
        // A front matter that no longer parses was edited by hand: never drafted over.
        let (status, title, edited) = match MemoFile::parse(&markdown) {
            Ok(file) => (
                file.get("status"),
                file.get("title"),
                file.get("edited_at").is_some(),
            ),
            Err(_) => (None, None, true),
        };
        Some(StoredMemo {
            path: path.to_path_buf(),
            id: path.file_stem()?.to_string_lossy().into_owned(),
            status: status.unwrap_or_else(|| "draft".to_string()),
            title: title.unwrap_or_else(|| record.title.clone()),
            edited,
            record,
        })
    }

    /// Every memo, newest first.
    pub fn list(&self) -> Result<Vec<StoredMemo>> {
        if !self.dir.exists() {
            return Ok(Vec::new());
        }
        std::fs::read_dir(&self.dir).map_err(|e| {
            Error::io(
                format!("cannot read the memos folder {}", self.dir.display()),
                e,
            )
        })?;
        Ok(self
            .paths_newest_first()
            .iter()
            .filter_map(|path| self.read(path))
            .collect())
    }

    /// Writes `<date>-<service>-<terms>.md` and its `.json` sidecar; another change's memo is
    /// never overwritten (a number is added), a reviewed memo of the same change is kept, a
    /// draft of the same change is rewritten.
    pub fn write(&self, memo: &Memo, document: &DocumentId) -> Result<Stored> {
        self.write_record(memo, document).map(|(stored, _)| stored)
    }

    /// Writes a memo just drafted, as [`MemoStore::write`] does; gives the stored memo when it
    /// was written (`None` when a reviewed memo of the same change was kept).
    pub fn write_draft(&self, memo: &Memo, document: &DocumentId) -> Result<Option<StoredMemo>> {
        let (stored, record) = self.write_record(memo, document)?;
        Ok(stored.written().map(|path| StoredMemo {
            id: path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path,
            status: "draft".to_string(),
            title: record.title.clone(),
            edited: false,
            record,
        }))
    }

    fn write_record(&self, memo: &Memo, document: &DocumentId) -> Result<(Stored, MemoRecord)> {
        let dir = &self.dir;
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::io(
                format!("cannot create the memos folder {}", dir.display()),
                e,
            )
        })?;
        let base = format!(
            "{}-{}-{}",
            memo.front_matter
                .dates
                .first()
                .map(String::as_str)
                .unwrap_or("undated"),
            slug(&document.service),
            slug(&document.terms_type)
        );
        let record = MemoRecord::of(memo, document);
        let mut n = 1;
        let path = loop {
            let stem = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let markdown = dir.join(format!("{stem}.md"));
            if !markdown.exists() {
                break markdown;
            }
            if let Some(existing) = self.read(&markdown)
                && existing.record.same_change(&record)
            {
                if !existing.is_redraftable() {
                    return Ok((Stored::KeptReviewed(markdown), record));
                }
                break markdown;
            }
            n += 1;
        };
        // The sidecar first: a memo file is read only with its sidecar beside it.
        let sidecar = path.with_extension("json");
        let text = serde_json::to_string_pretty(&record)
            .map_err(|e| Error::internal("serialising a memo", e))?;
        write_atomic(&sidecar, text.as_bytes())
            .map_err(|e| Error::io(format!("cannot write {}", sidecar.display()), e))?;
        write_atomic(&path, memo.to_markdown().as_bytes())
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        Ok((Stored::Written(path), record))
    }
}

/// A file-name-safe slug: lower case, ASCII letters and digits, single dashes.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "document".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_keys_are_rewritten_and_the_body_kept() {
        let markdown = "---\ntitle: A\nstatus: draft\n---\n\nBody “x”.\n";
        let mut front = MemoFile::parse(markdown).unwrap();
        front.set("status", "published");
        front.set("reviewed_by", "Ana");
        let text = front.to_markdown().unwrap();
        assert_eq!(
            text,
            "---\ntitle: A\nstatus: published\nreviewed_by: Ana\n---\n\nBody “x”.\n"
        );
        assert!(MemoFile::parse("no front matter").is_err());
    }
}
