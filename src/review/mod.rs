//! Review: the reviewer's loop over drafted memos.
//!
//! A memo is drafted with `status: draft`. A reviewer lists the [`queue`] (most significant
//! first), then [`approve`]s it (`status: published`, with `reviewed_by` and `reviewed_at`),
//! [`reject`]s it with a reason (the memo is kept), or [`edit`]s its title, description or body.
//! Every change is a rewrite of the memo's YAML front matter or body; nothing else of the memo is
//! touched, and the [`crate::memo::MemoStore`] never redrafts over a reviewed or edited memo.
//!
//! Approval checks what the memo quotes: every “quotation” in its title, description and body must
//! be a verbatim slice of the version it comes from (either side of the change, compared in plain
//! words as memos quote them), so that a reviewer's edit cannot slip in words the policy never
//! said. [`unverified_quotations`] names those that are not. [`export_ota`] writes published memos
//! in the layout of Open Terms Archive's website; [`web`] serves the queue in a browser.
//!
//! ```
//! use policydiff::memo::MemoStore;
//! use policydiff::review::{queue, QueueFilter};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = MemoStore::new(dir.path());
//! assert!(queue(&store, &QueueFilter::default()).unwrap().is_empty());
//! ```

#[cfg(feature = "review-server")]
pub mod web;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analyse::plain_text;
use crate::declaration::DocumentId;
use crate::memo::{MemoStore, StoredMemo};
use crate::record::VersionsRepository;
use crate::{Error, Result};

/// Which memos the queue shows, by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    /// Waiting for review.
    #[default]
    Draft,
    /// Approved.
    Published,
    /// Rejected (kept, with the reason).
    Rejected,
    /// Every memo.
    All,
}

impl StatusFilter {
    fn admits(self, status: &str) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Draft => status == "draft",
            StatusFilter::Published => status == "published",
            StatusFilter::Rejected => status == "rejected",
        }
    }

    /// Its name in front matter and in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Draft => "draft",
            StatusFilter::Published => "published",
            StatusFilter::Rejected => "rejected",
            StatusFilter::All => "all",
        }
    }

    /// The filter of that name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            StatusFilter::Draft,
            StatusFilter::Published,
            StatusFilter::Rejected,
            StatusFilter::All,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// What the queue lists.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// By status (default: drafts).
    pub status: StatusFilter,
    /// Only this service (its id, case-insensitive).
    pub service: Option<String>,
    /// Only memos with this topic.
    pub topic: Option<String>,
}

/// A memo in the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueEntry {
    /// The memo's id: its file name without extension.
    pub id: String,
    /// Title, as the front matter says it now.
    pub title: String,
    /// `draft`, `published` or `rejected`.
    pub status: String,
    /// Significance in [0, 1].
    pub significance: f64,
    /// The document.
    #[serde(flatten)]
    pub document: DocumentId,
    /// Topics, most significant first.
    pub topics: Vec<String>,
    /// Date of the change.
    pub date: String,
    /// The Markdown file.
    pub file: PathBuf,
    /// Who reviewed it, once reviewed.
    pub reviewed_by: Option<String>,
    /// Why it was rejected.
    pub rejection_reason: Option<String>,
}

impl QueueEntry {
    fn of(memo: &StoredMemo) -> Self {
        let front = memo.open_file().ok();
        let field = |key: &str| front.as_ref().and_then(|f| f.get(key));
        QueueEntry {
            id: memo.id.clone(),
            title: memo.title.clone(),
            status: memo.status.clone(),
            significance: memo.record.significance,
            document: memo.record.document.clone(),
            topics: memo.record.topics.clone(),
            date: memo.record.date.clone().unwrap_or_default(),
            file: memo.path.clone(),
            reviewed_by: field("reviewed_by"),
            rejection_reason: field("rejection_reason"),
        }
    }
}

impl QueueFilter {
    /// Whether the queue shows this memo.
    pub fn admits(&self, entry: &QueueEntry) -> bool {
        self.status.admits(&entry.status)
            && self
                .service
                .as_ref()
                .is_none_or(|s| entry.document.service.eq_ignore_ascii_case(s))
            && self
                .topic
                .as_ref()
                .is_none_or(|t| entry.topics.iter().any(|topic| topic == t))
    }
}

/// The memos the filter admits, most significant first (newest first among equals).
pub fn queue(store: &MemoStore, filter: &QueueFilter) -> Result<Vec<QueueEntry>> {
    let mut entries: Vec<QueueEntry> = store
        .list()?
        .iter()
        .filter(|m| filter.status.admits(&m.status))
        .map(QueueEntry::of)
        .filter(|e| filter.admits(e))
        .collect();
    entries.sort_by(|a, b| {
        b.significance
            .total_cmp(&a.significance)
            .then_with(|| b.date.cmp(&a.date))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(entries)
}

/// The memo of that id (its file name without extension; with `.md` works too).
pub fn find(store: &MemoStore, id: &str) -> Result<StoredMemo> {
    let stem = id.strip_suffix(".md").unwrap_or(id);
    let valid = !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !stem.contains("..");
    let path = store.dir().join(format!("{stem}.md"));
    if valid && let Some(memo) = store.read(&path) {
        return Ok(memo);
    }
    Err(Error::argument(format!(
        "no memo with id '{id}' in {}; `policydiff review list --status all` lists the ids",
        store.dir().display()
    )))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The quotations of a text: what stands between “ and ”.
pub fn quotations(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('“') {
        let after = &rest[open + '“'.len_utf8()..];
        // Nested marks inside a quotation (“PMI affiliate” within a quoted sentence) belong to
        // it: the quotation ends at the mark that balances the first.
        let mut depth = 1;
        let mut end = None;
        for (at, c) in after.char_indices() {
            match c {
                '“' => depth += 1,
                '”' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(at);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        let quote = after[..end].trim();
        if !quote.is_empty() {
            found.push(quote.to_string());
        }
        rest = &after[end + '”'.len_utf8()..];
    }
    found
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The quotations of the memo (title, description and body as they are now) that are not a
/// verbatim slice of either version of the change it describes.
pub fn unverified_quotations(
    memo: &StoredMemo,
    repository: &VersionsRepository,
) -> Result<Vec<String>> {
    let front = memo.open_file()?;
    let record = &memo.record;
    let mut versions = Vec::new();
    for commit in [&record.commit, &record.previous_commit]
        .into_iter()
        .flatten()
    {
        let text = repository.version_text_at(
            commit,
            &record.document.service,
            &record.document.terms_type,
        )?;
        versions.push(collapse_whitespace(&plain_text(&text)));
    }
    if versions.is_empty() {
        return Err(Error::argument(format!(
            "{}: the memo names no commit, so its quotations cannot be checked; approve it with --force if you checked them yourself",
            memo.path.display()
        )));
    }
    let description = front
        .get("html_description")
        .map(|html| crate::basics::unescape_html(&html))
        .unwrap_or_default();
    let text = format!(
        "{}\n{}\n{}",
        front.get("title").unwrap_or_default(),
        description,
        front.body
    );
    Ok(quotations(&text)
        .into_iter()
        .filter(|quote| {
            let quote = collapse_whitespace(&plain_text(quote));
            !versions.iter().any(|version| version.contains(&quote))
        })
        .collect())
}

/// Approves a memo: `status: published`, `reviewed_by`, `reviewed_at`. Refuses, naming each
/// quotation, a memo that quotes words its versions do not hold, unless `force`.
pub fn approve(
    store: &MemoStore,
    repository: &VersionsRepository,
    id: &str,
    by: &str,
    force: bool,
) -> Result<StoredMemo> {
    let memo = find(store, id)?;
    if !force {
        let unverified = unverified_quotations(&memo, repository)?;
        if !unverified.is_empty() {
            return Err(Error::UnverifiedQuotation {
                memo: memo.id,
                quotations: unverified,
            });
        }
    }
    let mut front = memo.open_file()?;
    front.set("status", "published");
    front.set("reviewed_by", by);
    front.set("reviewed_at", &now());
    memo.rewrite(&front)?;
    find(store, &memo.id)
}

/// Rejects a memo with a reason: `status: rejected`, `rejection_reason`; the memo is kept.
pub fn reject(store: &MemoStore, id: &str, reason: &str, by: &str) -> Result<StoredMemo> {
    if reason.trim().is_empty() {
        return Err(Error::argument(
            "a rejection needs a reason (--reason TEXT): it is kept with the memo",
        ));
    }
    let memo = find(store, id)?;
    let mut front = memo.open_file()?;
    front.set("status", "rejected");
    front.set("rejection_reason", reason.trim());
    front.set("reviewed_by", by);
    front.set("reviewed_at", &now());
    memo.rewrite(&front)?;
    find(store, &memo.id)
}

/// What an edit changes; `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// A new title.
    pub title: Option<String>,
    /// A new description (plain text; written as one HTML paragraph).
    pub description: Option<String>,
    /// A new Markdown body.
    pub body: Option<String>,
}

/// Edits a memo's title, description or body. The memo stays a draft; it is marked
/// `edited_at`, so that drafting again never overwrites a reviewer's words.
pub fn edit(store: &MemoStore, id: &str, edit: &Edit) -> Result<StoredMemo> {
    let memo = find(store, id)?;
    let mut front = memo.open_file()?;
    if let Some(title) = &edit.title {
        let title = title.trim();
        if title.is_empty() || title.contains('\n') {
            return Err(Error::argument("a title is one line of text"));
        }
        front.set("title", title);
    }
    if let Some(description) = &edit.description {
        let escaped = crate::basics::escape_html(description.trim());
        front.set("html_description", &format!("<p>{escaped}</p>"));
    }
    if let Some(body) = &edit.body {
        front.body = format!("{}\n", body.trim_end().replace("\r\n", "\n"));
    }
    front.set("status", "draft");
    front.set("edited_at", &now());
    memo.rewrite(&front)?;
    find(store, &memo.id)
}

/// Marks a memo edited by hand (in `$EDITOR`): it stays a draft and is never redrafted over.
pub fn mark_edited(store: &MemoStore, id: &str) -> Result<StoredMemo> {
    edit(store, id, &Edit::default())
}

/// Writes the published memos in the layout of Open Terms Archive's website:
/// `<dir>/content/memos/<slug>/index.md` with OTA's front matter. Returns the files written.
pub fn export_ota(store: &MemoStore, dir: &Path) -> Result<Vec<PathBuf>> {
    let published = queue(
        store,
        &QueueFilter {
            status: StatusFilter::Published,
            ..QueueFilter::default()
        },
    )?;
    let mut written = Vec::new();
    let mut slugs = std::collections::BTreeSet::new();
    for entry in published {
        let memo = find(store, &entry.id)?;
        let front = memo.open_file()?;
        let mut slug = crate::memo::slug(&entry.title);
        let base = slug.clone();
        let mut n = 2;
        while !slugs.insert(slug.clone()) {
            slug = format!("{base}-{n}");
            n += 1;
        }
        let mut ota = serde_yaml::Mapping::new();
        ota.insert("title".into(), entry.title.clone().into());
        ota.insert(
            "html_description".into(),
            front.get("html_description").unwrap_or_default().into(),
        );
        ota.insert(
            "service".into(),
            front
                .get("service")
                .unwrap_or(entry.document.service.clone())
                .into(),
        );
        ota.insert(
            "terms_types".into(),
            serde_yaml::Value::Sequence(vec![entry.document.terms_type.clone().into()]),
        );
        ota.insert(
            "dates".into(),
            serde_yaml::Value::Sequence(vec![entry.date.clone().into()]),
        );
        if let Some(author) = front.get("author") {
            ota.insert("author".into(), author.into());
        }
        if let Some(serde_yaml::Value::Sequence(collections)) = front.value("related_collections") {
            ota.insert(
                "related_collections".into(),
                serde_yaml::Value::Sequence(collections.clone()),
            );
        }
        let yaml = crate::yaml::to_string(&ota)
            .map_err(|e| Error::internal("writing an exported memo", e))?;
        let folder = dir.join("content/memos").join(&slug);
        std::fs::create_dir_all(&folder)
            .map_err(|e| Error::io(format!("cannot create {}", folder.display()), e))?;
        let path = folder.join("index.md");
        std::fs::write(&path, format!("---\n{yaml}---\n\n{}", front.body))
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        written.push(path);
    }
    Ok(written)
}

/// Rewrites the feeds after a review (a memo's status is a category there).
pub fn refresh_feeds(config: &crate::config::Config) {
    if config.notify.feed
        && let Err(error) = crate::notify::write_feed(config)
    {
        tracing::warn!("the feeds were not rewritten: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotations_balance_nested_marks() {
        assert_eq!(
            quotations("It added “We share “PMI affiliate” data.” and removed “Ads”."),
            ["We share “PMI affiliate” data.", "Ads"]
        );
        assert!(quotations("No quotation, an unclosed “mark").is_empty());
    }
}
