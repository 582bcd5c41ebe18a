//! The history index: every change of a version file, in commit order, kept on disk so that
//! reading a document's history does not walk and diff the whole repository each time.
//!
//! [`HistoryIndex`] lists, for each commit that changed a `<service>/<terms type>.md` file, the
//! commit, its date and subject, the path and the new blob. It is derived data only: it lives
//! in the git folder (`policydiff-history.jsonl`), is brought up to date from the commits added
//! since it was written (a walk hiding the indexed tip), and is rebuilt from scratch when the
//! branch no longer contains that tip (history rewritten, another repository). Nothing recorded
//! depends on it, and `verify` never uses it.
//!
//! The file only grows by appended chunks: the entries of the new commits, then one line
//! naming the tip the chunk starts from and the tip it reaches. A chunk that does not start
//! where the previous one ended (two readers appending at once, a write cut short) is ignored
//! when the file is read, so a damaged or raced index costs a rebuild, never a wrong answer.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};

/// File name of the index inside the git folder.
const FILE_NAME: &str = "policydiff-history.jsonl";
/// Bumped when the entries change meaning; an index of another format is rebuilt.
const FORMAT: u32 = 2;

/// One change of a version file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IndexedChange {
    /// Commit id (hex).
    #[serde(rename = "c")]
    pub commit: String,
    /// Commit time, seconds since the epoch.
    #[serde(rename = "t")]
    pub time: i64,
    /// Commit subject (first line).
    #[serde(rename = "s")]
    pub subject: String,
    /// `<service>/<terms type>.md`.
    #[serde(rename = "p")]
    pub path: String,
    /// The new blob (hex).
    #[serde(rename = "b")]
    pub blob: String,
}

/// The end line of a chunk.
#[derive(Debug, Serialize, Deserialize)]
struct ChunkEnd {
    format: u32,
    base: Option<String>,
    head: String,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    End(ChunkEnd),
    Change(IndexedChange),
}

/// The changes of version files up to an indexed tip, oldest first.
#[derive(Debug, Default)]
pub(crate) struct HistoryIndex {
    head: Option<Oid>,
    pub changes: Vec<IndexedChange>,
    loaded: bool,
}

impl HistoryIndex {
    fn file(repo: &Repository) -> PathBuf {
        repo.path().join(FILE_NAME)
    }

    /// Reads the index file; chunks that do not follow on are ignored.
    fn load(path: &Path) -> HistoryIndex {
        let mut index = HistoryIndex::default();
        let Ok(file) = std::fs::File::open(path) else {
            return index;
        };
        let mut pending = Vec::new();
        for line in std::io::BufReader::new(file).lines() {
            let Ok(line) = line else { break };
            match serde_json::from_str::<Line>(&line) {
                Ok(Line::Change(change)) => pending.push(change),
                Ok(Line::End(end)) => {
                    let head = Oid::from_str(&end.head).ok();
                    let follows = end.format == FORMAT
                        && end.base.as_deref().and_then(|b| Oid::from_str(b).ok()) == index.head;
                    if follows && head.is_some() {
                        index.changes.append(&mut pending);
                        index.head = head;
                    } else {
                        pending.clear();
                    }
                }
                Err(_) => pending.clear(),
            }
        }
        index
    }

    /// Brings the index up to the branch's tip.
    pub(super) fn update(&mut self, repo: &Repository) -> Result<(), git2::Error> {
        if !self.loaded {
            *self = HistoryIndex::load(&Self::file(repo));
            self.loaded = true;
        }
        let Some(tip) = repo.head().ok().and_then(|h| h.peel_to_commit().ok()) else {
            self.head = None;
            self.changes.clear();
            return Ok(());
        };
        if self.head == Some(tip.id()) {
            return Ok(());
        }
        let base = self
            .head
            .filter(|base| repo.graph_descendant_of(tip.id(), *base).unwrap_or(false));
        if base.is_none() {
            self.changes.clear();
        }
        let mut walk = repo.revwalk()?;
        walk.push(tip.id())?;
        if let Some(base) = base {
            walk.hide(base)?;
        }
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
        let mut added = Vec::new();
        // The commit walked before, and its tree: most often the next one's parent, whose tree
        // then need not be read again (a federation's top tree is tens of kilobytes).
        let mut previous: Option<(Oid, git2::Tree<'_>)> = None;
        for oid in walk {
            let commit = repo.find_commit(oid?)?;
            let tree = commit.tree()?;
            let parent_tree = match (commit.parent_id(0).ok(), previous.take()) {
                (Some(parent), Some((walked, walked_tree))) if parent == walked => {
                    Some(walked_tree)
                }
                _ => commit.parent(0).ok().and_then(|p| p.tree().ok()),
            };
            let subject = commit.summary().ok().flatten().unwrap_or("").to_string();
            for (path, blob) in changed_version_files(repo, parent_tree.as_ref(), &tree)? {
                added.push(IndexedChange {
                    commit: commit.id().to_string(),
                    time: commit.time().seconds(),
                    subject: subject.clone(),
                    path,
                    blob: blob.to_string(),
                });
            }
            previous = Some((commit.id(), tree));
        }
        self.save(repo, base, tip.id(), &added);
        self.changes.extend(added);
        self.head = Some(tip.id());
        Ok(())
    }

    /// Appends a chunk of the new entries, or writes a new file when the index was rebuilt
    /// (then `added` is the whole index). Best effort: a repository that cannot be written
    /// (a read-only clone) is simply indexed again next time.
    fn save(&self, repo: &Repository, base: Option<Oid>, head: Oid, added: &[IndexedChange]) {
        let mut chunk = Vec::new();
        let end = ChunkEnd {
            format: FORMAT,
            base: base.map(|b| b.to_string()),
            head: head.to_string(),
        };
        let lines = added
            .iter()
            .cloned()
            .map(Line::Change)
            .chain([Line::End(end)]);
        for line in lines {
            if serde_json::to_writer(&mut chunk, &line).is_err() {
                return;
            }
            chunk.push(b'\n');
        }
        let path = Self::file(repo);
        let written = if base.is_some() {
            std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .and_then(|mut file| file.write_all(&chunk))
        } else {
            crate::basics::write_atomic(&path, &chunk)
        };
        if let Err(error) = written {
            tracing::debug!(file = %path.display(), %error, "history index not saved");
        }
    }
}

/// The version files (`<folder>/<name>.md`) that a commit adds or changes compared with its
/// parent, with their new blob. Compares tree ids level by level, which is much faster than a
/// full diff: unchanged service folders are skipped by id.
fn changed_version_files(
    repo: &Repository,
    parent: Option<&git2::Tree<'_>>,
    tree: &git2::Tree<'_>,
) -> Result<Vec<(String, Oid)>, git2::Error> {
    let mut changed = Vec::new();
    for (index, folder) in tree.iter().enumerate() {
        if folder.kind() != Some(git2::ObjectType::Tree) {
            continue;
        }
        // Hidden folders (.github) hold the repository's tooling, not services.
        let Ok(folder_name) = std::str::from_utf8(folder.name_bytes()) else {
            continue;
        };
        if folder_name.starts_with('.') {
            continue;
        }
        // A commit changes a folder or two of hundreds: the parent's entry at the same place
        // is most often this folder's, which spares a search by name (and its copy of the name)
        // for each folder of each commit.
        let before = parent.and_then(|p| match p.get(index) {
            Some(entry) if entry.name_bytes() == folder.name_bytes() => Some(entry),
            _ => p.get_name_bytes(folder.name_bytes()),
        });
        if before.as_ref().is_some_and(|b| b.id() == folder.id()) {
            continue;
        }
        let before = match before {
            Some(entry) if entry.kind() == Some(git2::ObjectType::Tree) => {
                Some(repo.find_tree(entry.id())?)
            }
            _ => None,
        };
        for file in &repo.find_tree(folder.id())? {
            let Ok(name) = file.name() else { continue };
            if !name.ends_with(".md") || file.kind() != Some(git2::ObjectType::Blob) {
                continue;
            }
            if before
                .as_ref()
                .and_then(|b| b.get_name(name))
                .is_some_and(|b| b.id() == file.id())
            {
                continue;
            }
            changed.push((format!("{folder_name}/{name}"), file.id()));
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use crate::declaration::DocumentId;
    use crate::record::{NewVersion, VersionsRepository};

    fn record(repo: &mut VersionsRepository, terms: &str, text: &str) -> String {
        record_in(repo, "Example", terms, text)
    }

    fn record_in(repo: &mut VersionsRepository, service: &str, terms: &str, text: &str) -> String {
        let version = NewVersion {
            document: DocumentId::new(service, terms),
            text,
            sources: vec![],
            fetched_at: chrono::Utc::now(),
            declaration_sha256: String::new(),
            technical: false,
        };
        repo.record(&version).unwrap().unwrap().commit
    }

    fn commits(repo: &VersionsRepository) -> Vec<String> {
        repo.version_blobs("Example", "Privacy Policy")
            .unwrap()
            .into_iter()
            .map(|(commit, _)| commit)
            .collect()
    }

    #[test]
    fn index_follows_new_commits_across_handles_and_survives_damage() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = VersionsRepository::open_or_create(dir.path(), "t", "t@x").unwrap();
        let first = record(&mut writer, "Privacy Policy", "one");
        record(&mut writer, "Terms of Service", "terms");
        assert_eq!(commits(&writer), std::slice::from_ref(&first));

        // A second handle reads the saved index, then the commits added after it.
        let second = record(&mut writer, "Privacy Policy", "two");
        let reader = VersionsRepository::open(dir.path()).unwrap();
        assert_eq!(commits(&reader), [second.clone(), first.clone()]);

        // A chunk that does not follow on (a raced or cut write) is ignored, not trusted.
        let file = dir.path().join(".git").join(super::FILE_NAME);
        let mut text = std::fs::read_to_string(&file).unwrap();
        text.push_str(
            "{\"c\":\"0000000000000000000000000000000000000001\",\"t\":0,\"s\":\"x\",\"p\":\"Example/Privacy Policy.md\",\"b\":\"0000000000000000000000000000000000000002\"}\n{\"format\":2,\"base\":null,\"head\":\"0000000000000000000000000000000000000003\"}\n{\"garbage",
        );
        std::fs::write(&file, text).unwrap();
        let third = record(&mut writer, "Privacy Policy", "three");
        let reader = VersionsRepository::open(dir.path()).unwrap();
        assert_eq!(commits(&reader), [third, second, first]);
    }

    #[test]
    fn each_commit_gives_the_files_it_changed_when_folders_are_added_between_others() {
        let dir = tempfile::tempdir().unwrap();
        let mut repo = VersionsRepository::open_or_create(dir.path(), "t", "t@x").unwrap();
        let mut record_in =
            |service: &str, text: &str| record_in(&mut repo, service, "Privacy Policy", text);
        // "B" comes between "A" and "C": every folder after it moves one place down.
        let recorded = [
            ("A", record_in("A", "a one")),
            ("C", record_in("C", "c one")),
            ("B", record_in("B", "b one")),
            ("C", record_in("C", "c two")),
            ("A", record_in("A", "a two")),
        ];
        let reader = VersionsRepository::open(dir.path()).unwrap();
        let changes: Vec<(String, String)> = reader
            .version_changes(None)
            .unwrap()
            .into_iter()
            .map(|change| (change.document.service, change.commit))
            .collect();
        let expected: Vec<(String, String)> = recorded
            .iter()
            .map(|(service, commit)| (service.to_string(), commit.clone()))
            .collect();
        assert_eq!(changes, expected);
    }

    #[test]
    fn rewritten_history_rebuilds_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let mut repo = VersionsRepository::open_or_create(dir.path(), "t", "t@x").unwrap();
        let first = record(&mut repo, "Privacy Policy", "one");
        record(&mut repo, "Privacy Policy", "two");
        assert_eq!(commits(&repo).len(), 2);
        // Move the branch back and record something else: the indexed tip is gone.
        let git = git2::Repository::open(dir.path()).unwrap();
        let target = git
            .find_commit(git2::Oid::from_str(&first).unwrap())
            .unwrap();
        git.reset(target.as_object(), git2::ResetType::Hard, None)
            .unwrap();
        let other = record(&mut repo, "Privacy Policy", "other");
        let reader = VersionsRepository::open(dir.path()).unwrap();
        assert_eq!(commits(&reader), [other, first]);
    }
}
