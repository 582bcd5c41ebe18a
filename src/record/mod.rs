//! Recording: the versions repository, in OTA's layout, written with git2.
//!
//! A [`VersionsRepository`] is a plain git repository (created on first use, branch
//! `main`) holding one Markdown file per document, `<Service id>/<Terms type>.md`,
//! and beside it the fetched source that version was extracted from
//! (`<Terms type>.html` or `.pdf`; for combined documents one file per part,
//! `<Terms type> #<source id>.html`). [`VersionsRepository::record`] writes one
//! commit per changed document, nothing when the text is unchanged, with OTA's
//! subjects (`First record of …`, `Record new changes of …`, `Apply technical or
//! declaration upgrade on …`) and trailers saying where and when the text came from.
//!
//! Safety: only one writer at a time ([`VersionsRepository::lock`] takes an OS
//! file lock, released even when the process is killed); objects are written
//! before the branch moves, and the move is an atomic rename, so a run killed at
//! any moment leaves a repository `git fsck` accepts. Commit dates never go back
//! in time: history only grows, in order. A tracking round records in batch mode
//! ([`VersionsRepository::begin_batches`]): its trees and commits stay in memory until
//! [`VersionsRepository::write_batch`] writes them as one pack and then moves the branch;
//! [`maintain`] lets git pack the rest when it judges it should. The working tree, a view of
//! the branch, is written beside the recording as each batch lands (`working_tree`).
//!
//! ```
//! use policydiff::record::{VersionsRepository, NewVersion, SourceFile};
//! use policydiff::declaration::DocumentId;
//! use chrono::Utc;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut repo = VersionsRepository::open_or_create(dir.path(), "policydiff", "bot@example.com").unwrap();
//! let source = SourceFile { file_name: "Privacy Policy.html".into(), bytes: b"<p>Hi</p>".to_vec(),
//!     url: "https://example.com/privacy".into(), content_type: Some("text/html".into()) };
//! let version = NewVersion { document: DocumentId::new("Example", "Privacy Policy"), text: "Hi",
//!     sources: vec![source], fetched_at: Utc::now(), declaration_sha256: "0".repeat(64), technical: false };
//! let recorded = repo.record(&version).unwrap().unwrap();
//! assert_eq!(recorded.kind.as_str(), "first_record");
//! assert!(repo.record(&version).unwrap().is_none()); // unchanged: no commit
//! ```

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use git2::{Oid, Repository, Signature, Time};
use serde::{Deserialize, Serialize};

use crate::declaration::DocumentId;
use crate::{Error, Result};

mod batch;
mod history;
mod history_index;
mod layout;
pub mod pack;
mod pending;
mod working_tree;
use batch::Batch;
use history_index::HistoryIndex;
use working_tree::WorkingTreeWriter;

pub use history::VersionChange;
use layout::commit_message;
pub use layout::{part_source_file_name, source_file_name, source_file_names, version_path};
pub use pending::PendingCommits;

/// What a version is: policydiff's one vocabulary for versions, used by tracking reports,
/// audit logs, memos and the commit subjects (OTA's) that record them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionKind {
    /// The first version of a document.
    FirstRecord,
    /// The document's text changed.
    // Run reports written before the vocabulary was unified said `new_version`.
    #[serde(alias = "new_version")]
    NewChanges,
    /// The text changed only because the declaration or the extraction changed.
    TechnicalUpgrade,
    /// The text is identical to an earlier version's (flapping pages, A/B tests): recorded as
    /// new changes, never presented as news.
    Revert,
}

/// Subject prefix of a first record (OTA's).
pub const SUBJECT_FIRST_RECORD: &str = "First record of";
/// Subject prefix of new changes, reverts included (OTA's).
pub const SUBJECT_NEW_CHANGES: &str = "Record new changes of";
/// Subject prefix of a technical or declaration upgrade (OTA's).
pub const SUBJECT_TECHNICAL_UPGRADE: &str = "Apply technical or declaration upgrade on";
/// Subject prefix of a technical upgrade written by OTA's engine before 2023 (its first records
/// said `Start tracking`, its new changes `Update`).
pub const SUBJECT_LEGACY_REFILTER: &str = "Refilter";

impl VersionKind {
    /// The name used in reports and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionKind::FirstRecord => "first_record",
            VersionKind::NewChanges => "new_changes",
            VersionKind::TechnicalUpgrade => "technical_upgrade",
            VersionKind::Revert => "revert",
        }
    }

    /// The commit subject's prefix, as OTA writes it (a revert is recorded as new changes).
    pub fn subject_prefix(self) -> &'static str {
        match self {
            VersionKind::FirstRecord => SUBJECT_FIRST_RECORD,
            VersionKind::NewChanges | VersionKind::Revert => SUBJECT_NEW_CHANGES,
            VersionKind::TechnicalUpgrade => SUBJECT_TECHNICAL_UPGRADE,
        }
    }
}

impl std::fmt::Display for VersionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The earlier version whose text a new version brings back, if any: `earlier` lists the
/// earlier versions newest first as `(commit, blob)`, the first being the version replaced
/// (which cannot be reverted to, since the text changed). Blobs compare bytes exactly.
pub fn find_revert(blob: Oid, earlier: &[(String, Oid)]) -> Option<&str> {
    earlier
        .iter()
        .skip(1)
        .find(|(_, earlier_blob)| *earlier_blob == blob)
        .map(|(commit, _)| commit.as_str())
}

/// A fetched source kept beside the version as evidence.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// File name inside the service folder (`Privacy Policy.html`).
    pub file_name: String,
    /// The bytes as fetched.
    pub bytes: Vec<u8>,
    /// Where they were fetched from.
    pub url: String,
    /// Their content type.
    pub content_type: Option<String>,
}

/// A version to record.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    /// The document (its folder and file name).
    pub document: DocumentId,
    /// The extracted text, exactly as it will be stored.
    pub text: &'a str,
    /// The sources it was extracted from.
    pub sources: Vec<SourceFile>,
    /// When it was fetched.
    pub fetched_at: DateTime<Utc>,
    /// SHA-256 of the declaration file that was used.
    pub declaration_sha256: String,
    /// Whether the change comes from the declaration or the engine, not the document.
    pub technical: bool,
}

/// The blobs of a version, hashed and compressed ahead of its commit by [`pack_blobs_ahead`].
#[derive(Debug, Clone)]
pub struct WrittenBlobs {
    /// The text's blob.
    text: Oid,
    /// Each source's blob, in the version's order.
    sources: Vec<Oid>,
    /// Their pack entries, written to disk with the batch of the commit that names them.
    entries: Vec<pack::PackEntry>,
    /// The text's length and CRC-32: a cheap check that a version is the one these blobs were
    /// made from (its id was computed from the same bytes; hashing them again with SHA-1, on the
    /// recording thread, cost more than the rest of a commit).
    text_check: (usize, u32),
}

/// The [`WrittenBlobs::text_check`] of a text.
fn text_check(text: &str) -> (usize, u32) {
    (text.len(), crc32fast::hash(text.as_bytes()))
}

thread_local! {
    /// The repository each extraction thread writes blobs to, opened once per thread.
    static AHEAD: std::cell::RefCell<Option<ThreadRepository>> = const { std::cell::RefCell::new(None) };
}

/// A thread's handle on a repository, and the folders of the branch's tip as it last read them.
struct ThreadRepository {
    path: PathBuf,
    repo: Repository,
    /// The tip's commit, and the tree of each folder (service) in its tree. A tip's top tree
    /// lists every service (tens of kilobytes for a federation); parsed once per tip rather
    /// than for every document looked up (libgit2 caches no tree over 4 KB).
    tip: Option<(Oid, std::collections::HashMap<String, Oid>)>,
}

impl ThreadRepository {
    /// The tree of a folder (`<service>`) at the branch's tip.
    fn tip_folder(&mut self, folder: &str) -> Option<git2::Tree<'_>> {
        let head = self.repo.refname_to_id("HEAD").ok()?;
        if self.tip.as_ref().is_none_or(|(at, _)| *at != head) {
            let tree = self.repo.find_commit(head).ok()?.tree().ok()?;
            let folders = tree
                .iter()
                .filter(|entry| entry.kind() == Some(git2::ObjectType::Tree))
                .filter_map(|entry| Some((entry.name().ok()?.to_string(), entry.id())))
                .collect();
            self.tip = Some((head, folders));
        }
        let id = *self.tip.as_ref()?.1.get(folder)?;
        self.repo.find_tree(id).ok()
    }

    /// The id of a file (`<service>/<file name>`) at the branch's tip.
    fn tip_file(&mut self, file: &str) -> Option<Oid> {
        let (folder, name) = file.split_once('/')?;
        let tree = self.tip_folder(folder)?;
        let entry = tree.get_path(Path::new(name)).ok()?;
        Some(entry.id())
    }
}

/// Lets libgit2 skip checks that cost much while recording and that the recorder does not
/// need: hashing every object it reads (git itself checks hashes in `git fsck`, as
/// `policydiff verify` does, which turns the check back on), and looking up every object a new
/// tree or commit names (the recorder names only objects it has just written or read). For the
/// whole process: called by a tracking round.
pub fn trust_own_objects() {
    git2::opts::strict_hash_verification(false);
    git2::opts::strict_object_creation(false);
}

/// Runs `work` with this thread's handle on the repository at `path` (opened once per thread).
fn with_thread_repository<T>(
    path: &Path,
    work: impl FnOnce(&mut ThreadRepository) -> Option<T>,
) -> Option<T> {
    AHEAD.with(|cell| {
        let mut opened = cell.borrow_mut();
        if opened.as_ref().is_none_or(|thread| thread.path != path) {
            *opened = Some(ThreadRepository {
                path: path.to_path_buf(),
                repo: Repository::open(path).ok()?,
                tip: None,
            });
        }
        work(opened.as_mut()?)
    })
}

/// The blob id of a document's recorded text in the repository at `path`, read from any thread
/// (`None` when not recorded, or the repository cannot be read).
pub fn recorded_blob_id(path: &Path, document: &DocumentId) -> Option<Oid> {
    with_thread_repository(path, |thread| {
        thread.tip_file(&version_path(&document.service, &document.terms_type))
    })
}

/// The bytes of a file (`<service>/<file name>`) at the branch's tip of the repository at `path`,
/// read from any thread.
pub fn read_recorded(path: &Path, file: &str) -> Option<Vec<u8>> {
    with_thread_repository(path, |thread| {
        let id = thread.tip_file(file)?;
        let blob = thread.repo.find_blob(id).ok()?;
        Some(blob.content().to_vec())
    })
}

/// A source for [`pack_blobs_ahead`]: its bytes, and the DEFLATE stream the server sent them
/// in when it compressed them, which is stored as it came instead of compressing the bytes.
#[derive(Debug, Clone, Copy)]
pub struct ServedSource<'a> {
    /// The source's bytes, as recorded.
    pub bytes: &'a [u8],
    /// The server's stream, if any ([`crate::fetch::Fetched::deflated`]).
    pub deflated: Option<&'a crate::fetch::encoding::Deflated>,
}

/// Hashes and compresses a version's blobs (its text and its sources) ahead of the commit that
/// the repository's single writer then makes with [`VersionsRepository::record_with`], from any
/// thread: compressing and hashing — most of what recording costs — is so shared among the
/// threads that extract, and the writer only copies the compressed bytes into its batch's pack.
/// Gives the text's blob id, and the blobs: `None` when the text is the one at the branch's tip
/// of the repository at `path` (nothing to record) or the repository cannot be read (the writer
/// then writes the blobs itself). Fails with [`Error::CollisionAttack`] when the text or a
/// source to record holds a SHA-1 collision attack.
pub fn pack_blobs_ahead(
    path: &Path,
    document: &DocumentId,
    text: &str,
    sources: &[ServedSource<'_>],
) -> Result<(Oid, Option<WrittenBlobs>)> {
    let refused = |what: &str, attack: pack::CollisionAttack| Error::CollisionAttack {
        document: document.to_string(),
        what: what.to_string(),
        id: attack.0.to_string(),
    };
    let text_id = pack::blob_id(text.as_bytes()).map_err(|a| refused("its extracted text", a))?;
    let written = with_thread_repository(path, |thread| {
        if thread.tip_file(&version_path(&document.service, &document.terms_type)) == Some(text_id)
        {
            return None;
        }
        let mut entries = Vec::with_capacity(1 + sources.len());
        entries.push(pack::PackEntry::new(
            git2::ObjectType::Blob,
            text_id,
            text.as_bytes(),
        ));
        let mut ids = Vec::with_capacity(sources.len());
        for (i, source) in sources.iter().enumerate() {
            match pack::PackEntry::served_blob(source.bytes, source.deflated) {
                Ok(entry) => {
                    ids.push(entry.id);
                    entries.push(entry);
                }
                Err(attack) => return Some(Err(refused(&format!("source {}", i + 1), attack))),
            }
        }
        Some(Ok(WrittenBlobs {
            text: text_id,
            sources: ids,
            entries,
            text_check: text_check(text),
        }))
    });
    // Sources are hashed only for a text to record: an unchanged text records nothing of them.
    // (Where this thread cannot read the repository, the writer hashes them, with libgit2's
    // own detection.)
    let written = written.transpose()?;
    Ok((text_id, written))
}

/// Lets git pack the repository at `path` if it judges it should (`git gc --auto`: by its
/// thresholds, thousands of loose objects or tens of packs; otherwise it does nothing and
/// returns at once). Writing every version as compactly as `git gc` would (deltas between
/// versions) would slow every round; packing now and then keeps the repository within a small
/// factor of `git gc --aggressive` over years. Called with the writer's lock held; in the
/// foreground, so that the next round never races it.
pub fn maintain(path: &Path) -> Result<()> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(path)
        .args(["-c", "gc.autoDetach=false", "gc", "--auto", "--quiet"])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::io(
                "cannot run `git gc --auto` (is git installed? `record.maintenance: false` turns the packing off)",
                e,
            )
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::Repository {
        context: format!("`git gc --auto` in {}", path.display()),
        message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
    })
}

/// A version written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// The commit id.
    pub commit: String,
    /// What the commit records: the one decision of a version's kind, which reports, the log,
    /// memos and audit all say (history tells the same, [`VersionChange::kind`]).
    pub kind: VersionKind,
    /// For a revert, the earlier commit whose text came back.
    pub reverts_to: Option<String>,
    /// The commit's date (the fetch time, never before the previous commit).
    pub date: DateTime<Utc>,
}

/// The held lock of a repository; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct RepositoryLock {
    _file: File,
}

/// A versions repository in OTA's layout.
pub struct VersionsRepository {
    repo: Repository,
    path: PathBuf,
    author_name: String,
    author_email: String,
    /// The changes of version files, read from history once and kept up to date.
    history: std::cell::RefCell<HistoryIndex>,
    /// Files committed since the working tree was last brought in line with the branch.
    stale_paths: Vec<String>,
    /// Whether the working tree is kept in line with the branch at all.
    working_tree: bool,
    /// Commits held in memory until [`VersionsRepository::write_batch`] (batch mode only).
    batch: Option<Batch>,
    /// Writes the files of written batches into the working tree, beside the recording (batch
    /// mode with a working tree; otherwise `stale_paths` are checked out at the round's end).
    working_tree_writer: Option<WorkingTreeWriter>,
}

fn git_error(context: &str, error: git2::Error) -> Error {
    let message = error.message();
    if error.code() == git2::ErrorCode::Owner {
        return Error::io(
            context,
            std::io::Error::other(format!(
                "{message}; run policydiff as the user who owns the repository, or add it to git's `safe.directory`"
            )),
        );
    }
    // libgit2 reports operating-system failures as text: keep their kind, so that the
    // message can say what to do.
    let kind = if message.contains("Permission denied") {
        std::io::ErrorKind::PermissionDenied
    } else if message.contains("Read-only file system") {
        std::io::ErrorKind::ReadOnlyFilesystem
    } else if message.contains("No space left") {
        std::io::ErrorKind::StorageFull
    } else if message.contains("Disk quota exceeded") {
        std::io::ErrorKind::QuotaExceeded
    } else if message.contains("File too large") {
        std::io::ErrorKind::FileTooLarge
    } else {
        std::io::ErrorKind::Other
    };
    // Failures of the system (files, disk) are I/O; the rest is about the repository itself.
    // libgit2 gives no class (and "no error") when a write fails without a reason it knows,
    // which is what a size limit looks like: the system, too.
    let system = matches!(
        error.class(),
        git2::ErrorClass::Os | git2::ErrorClass::Filesystem | git2::ErrorClass::None
    );
    if kind == std::io::ErrorKind::Other && !system {
        return Error::Repository {
            context: context.to_string(),
            message: message.to_string(),
        };
    }
    Error::io(
        format!("{context} (git)"),
        std::io::Error::new(kind, message.to_string()),
    )
}

/// Creates the git repository of `path` so that a kill at any moment leaves either no
/// repository or a whole one: it is made in a temporary folder beside, and its `.git` moved
/// into place in one rename.
fn create_atomically(path: &Path) -> Result<Repository> {
    let failed = |e: git2::Error| {
        git_error(
            &format!("cannot create a git repository in {}", path.display()),
            e,
        )
    };
    let parent = path.parent().unwrap_or(Path::new("."));
    let staging = tempfile::Builder::new()
        .prefix(".policydiff-new-repository-")
        .tempdir_in(parent)
        .map_err(|e| Error::io(format!("cannot create a folder in {}", parent.display()), e))?;
    let mut options = git2::RepositoryInitOptions::new();
    options.initial_head("main");
    drop(Repository::init_opts(staging.path(), &options).map_err(failed)?);
    std::fs::rename(staging.path().join(".git"), path.join(".git")).map_err(|e| {
        Error::io(
            format!("cannot move the new repository into {}", path.display()),
            e,
        )
    })?;
    Repository::open(path).map_err(failed)
}

impl Drop for VersionsRepository {
    fn drop(&mut self) {
        // A library user who never asked still finds the files of what was recorded.
        self.update_working_tree();
    }
}

impl VersionsRepository {
    /// Opens (or creates) the repository for a round of recording and takes its lock: the
    /// working tree kept in line with the branch (or not, `working_tree` false), and commits
    /// gathered into batches (one pack each; commit by commit when batches cannot start).
    pub fn open_for_round(
        path: &Path,
        author_name: &str,
        author_email: &str,
        working_tree: bool,
    ) -> Result<(Self, RepositoryLock)> {
        let mut repository = Self::open_or_create(path, author_name, author_email)?;
        let lock = repository.lock()?;
        if !working_tree {
            repository.without_working_tree();
        }
        repository.sync_working_tree()?;
        if let Err(error) = repository.begin_batches() {
            tracing::warn!("recording commit by commit: {error}");
        }
        Ok((repository, lock))
    }

    /// Opens the repository at `path`, creating it (branch `main`) when absent.
    pub fn open_or_create(path: &Path, author_name: &str, author_email: &str) -> Result<Self> {
        let repo = match Repository::open(path) {
            Ok(repo) => repo,
            Err(_) if !path.join(".git").exists() && !path.join("HEAD").exists() => {
                std::fs::create_dir_all(path).map_err(|e| {
                    Error::io(
                        format!("cannot create the versions repository {}", path.display()),
                        e,
                    )
                })?;
                create_atomically(path)?
            }
            Err(e) => {
                return Err(git_error(
                    &format!("cannot open the versions repository {}", path.display()),
                    e,
                ));
            }
        };
        Ok(VersionsRepository {
            repo,
            path: path.to_path_buf(),
            author_name: author_name.to_string(),
            author_email: author_email.to_string(),
            history: Default::default(),
            stale_paths: Vec::new(),
            working_tree: true,
            batch: None,
            working_tree_writer: None,
        })
    }

    /// The repository's folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the repository's writer lock, or says who holds it.
    pub fn lock(&self) -> Result<RepositoryLock> {
        let lock_path = self.repo.path().join("policydiff.lock");
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                Error::io(
                    format!("cannot open the lock file {}", lock_path.display()),
                    e,
                )
            })?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0).ok();
                let _ = write!(file, "{}", std::process::id());
                self.remove_stale_git_locks();
                self.remove_unfinished_packs();
                Ok(RepositoryLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&lock_path).unwrap_or_default();
                Err(Error::Locked {
                    path: self.path.display().to_string(),
                    holder: holder.trim().to_string(),
                })
            }
            Err(std::fs::TryLockError::Error(e)) => {
                Err(Error::io(format!("cannot lock {}", lock_path.display()), e))
            }
        }
    }

    /// Packs a round killed mid-batch left unfinished (never visible: they have no index).
    /// Holding policydiff's lock means no batch of ours is being written.
    fn remove_unfinished_packs(&self) {
        let pack_dir = self.repo.path().join("objects").join("pack");
        let Ok(entries) = std::fs::read_dir(&pack_dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(pack::TEMPORARY_PREFIX)
            {
                tracing::debug!(file = %entry.path().display(), "removing an unfinished pack");
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Git's own lock files left by a run that was killed while moving a ref or the index.
    /// Holding policydiff's lock means no other writer of ours is active, so they are stale.
    fn remove_stale_git_locks(&self) {
        let git_dir = self.repo.path();
        let mut folders = vec![git_dir.to_path_buf(), git_dir.join("refs")];
        while let Some(folder) = folders.pop() {
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if path.is_dir() && path.starts_with(git_dir.join("refs")) {
                    folders.push(path);
                } else if name.ends_with(".lock") && name != "policydiff.lock" {
                    tracing::warn!(file = %path.display(), "removing a git lock file left by an interrupted run");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
    }

    fn head_commit(&self) -> Option<git2::Commit<'_>> {
        self.repo.head().ok()?.peel_to_commit().ok()
    }

    /// The newest commit: the branch's tip, or in batch mode the last commit not yet written.
    fn tip_commit(&self) -> Option<git2::Commit<'_>> {
        match self.batch.as_ref().and_then(|batch| batch.tip) {
            Some(tip) => self.repo.find_commit(tip).ok(),
            None => self.head_commit(),
        }
    }

    /// Batch mode: from now on, commits are held in memory and reach the disk (as one pack,
    /// then the branch moves) with [`write_batch`](Self::write_batch) — one file per batch
    /// instead of several per commit. A commit is recorded only once its batch is written; a
    /// process killed before that leaves the branch where the last batch put it.
    pub fn begin_batches(&mut self) -> Result<()> {
        if self.batch.is_none() {
            batch::write_to_memory(&self.repo)
                .map_err(|e| git_error("cannot prepare the in-memory object database", e))?;
            self.batch = Some(Batch::default());
            if self.working_tree
                && self.working_tree_writer.is_none()
                && self.repo.workdir().is_some()
                && !working_tree::needs_filters(&self.repo)
            {
                match WorkingTreeWriter::start(&self.path) {
                    Ok(writer) => self.working_tree_writer = Some(writer),
                    Err(error) => tracing::warn!(
                        "the working tree is updated at the round's end instead: {error}"
                    ),
                }
            }
        }
        Ok(())
    }

    /// Commits made since the last [`write_batch`](Self::write_batch) (0 outside batch mode).
    pub fn unwritten_commits(&self) -> usize {
        self.batch.as_ref().map_or(0, |batch| batch.commits)
    }

    /// Writes the commits held in memory (one pack and its index), then moves the branch onto
    /// the newest; returns how many commits were written. On failure none of them is recorded:
    /// the branch stays where it was, and the memory is emptied. Batch mode goes on.
    pub fn write_batch(&mut self) -> Result<usize> {
        let Some(mut batch) = self.batch.take() else {
            return Ok(0);
        };
        let Some(tip) = batch.tip else {
            self.batch = Some(batch);
            return Ok(0);
        };
        let written = batch
            .write_pack(&self.repo)
            .map_err(|e| git_error("cannot write the pack of new versions", e))
            .and_then(|pack| self.move_branch(tip, batch.commits).map(|()| pack));
        // The files of commits recorded are shown at the next checkout; those of commits that
        // are not recorded are not shown at all.
        if let Ok(pack) = &written
            && self.working_tree
        {
            match &self.working_tree_writer {
                Some(writer) => writer.show(batch.files, pack),
                None => self
                    .stale_paths
                    .extend(batch.files.into_iter().map(|(path, _)| path)),
            }
        }
        let written = written.map(|_| batch.commits);
        // A fresh memory for the next batch: the written objects are on disk now (or, after a
        // failure, dropped with the commits that needed them).
        match batch::write_to_memory(&self.repo) {
            Ok(()) => self.batch = Some(Batch::default()),
            Err(error) => {
                // Out of batch mode: the repository's own database takes the writes again.
                tracing::warn!("recording without batches: {}", error.message());
                let own = Repository::open(&self.path).and_then(|own| {
                    let odb = own.odb()?;
                    self.repo.set_odb(&odb)
                });
                if let Err(error) = own {
                    tracing::warn!("cannot use the repository's objects: {}", error.message());
                }
            }
        }
        written
    }

    /// Moves the branch HEAD names (or a detached HEAD) onto `tip`, atomically.
    fn move_branch(&self, tip: Oid, commits: usize) -> Result<()> {
        let failed = |e| git_error("cannot move the branch onto the new versions", e);
        let head = self.repo.find_reference("HEAD").map_err(failed)?;
        let message = format!("policydiff: {commits} version(s) recorded");
        match head.symbolic_target().map_err(failed)? {
            Some(branch) => self
                .repo
                .reference(branch, tip, true, &message)
                .map(drop)
                .map_err(failed),
            None => self.repo.set_head_detached(tip).map_err(failed),
        }
    }

    /// The bytes of a file at the branch's tip.
    pub fn read_current(&self, path: &str) -> Option<Vec<u8>> {
        let tree = self.tip_commit()?.tree().ok()?;
        let entry = tree.get_path(Path::new(path)).ok()?;
        let blob = entry.to_object(&self.repo).ok()?.peel_to_blob().ok()?;
        Some(blob.content().to_vec())
    }

    /// The current version text of a document.
    pub fn current_version(&self, service_id: &str, terms_type: &str) -> Option<String> {
        self.read_current(&version_path(service_id, terms_type))
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The id of a document's version blob at the branch's tip (no read of its content).
    pub fn current_blob_id(&self, service_id: &str, terms_type: &str) -> Option<Oid> {
        let tree = self.tip_commit()?.tree().ok()?;
        let entry = tree
            .get_path(Path::new(&version_path(service_id, terms_type)))
            .ok()?;
        Some(entry.id())
    }

    /// Records a version when its text differs from the current one; `None` when unchanged.
    pub fn record(&mut self, version: &NewVersion<'_>) -> Result<Option<Recorded>> {
        self.record_with(version, None)
    }

    /// [`record`](Self::record), with the version's blobs already hashed and compressed by
    /// [`pack_blobs_ahead`] (used in batch mode, where they go into the batch's pack; outside
    /// it, and when not given, the blobs are written here).
    pub fn record_with(
        &mut self,
        version: &NewVersion<'_>,
        written: Option<WrittenBlobs>,
    ) -> Result<Option<Recorded>> {
        // Blobs prepared ahead are used only if they are this version's, to the byte.
        let mut written = written.filter(|w| {
            self.batch.is_some()
                && w.sources.len() == version.sources.len()
                && text_check(version.text) == w.text_check
        });
        let path = version_path(&version.document.service, &version.document.terms_type);
        let previous = self.read_current(&path);
        if previous.as_deref() == Some(version.text.as_bytes()) {
            return Ok(None);
        }
        let kind = match (&previous, version.technical) {
            (None, _) => VersionKind::FirstRecord,
            (Some(_), true) => VersionKind::TechnicalUpgrade,
            (Some(_), false) => VersionKind::NewChanges,
        };
        let parent = self.tip_commit();
        let base_tree = match &parent {
            Some(commit) => commit
                .tree()
                .map_err(|e| git_error("cannot read the current tree", e))?,
            None => {
                let empty = self
                    .repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(|e| git_error("cannot write an empty tree", e))?;
                self.repo
                    .find_tree(empty)
                    .map_err(|e| git_error("cannot read the empty tree", e))?
            }
        };
        let mut update = git2::build::TreeUpdateBuilder::new();
        // In batch mode, the objects written here are in memory until the batch's pack.
        let mut new_objects = Vec::new();
        let mut blob = |bytes: &[u8]| -> Result<Oid> {
            let id = self
                .repo
                .blob(bytes)
                .map_err(|e| git_error("cannot write a blob", e))?;
            new_objects.push(id);
            Ok(id)
        };
        // A text the repository already holds may bring an earlier version back: history tells
        // (read only then, which is rare: most new texts are new blobs).
        let known_text = match &written {
            Some(written) => Some(written.text),
            None => Oid::hash_object(git2::ObjectType::Blob, version.text.as_bytes()).ok(),
        }
        .filter(|id| {
            kind == VersionKind::NewChanges && self.repo.odb().is_ok_and(|odb| odb.exists(*id))
        });
        let text_blob = match &written {
            Some(written) => written.text,
            None => blob(version.text.as_bytes())?,
        };
        update.upsert(&path, text_blob, git2::FileMode::Blob);
        let mut source_files = Vec::with_capacity(version.sources.len());
        for (index, source) in version.sources.iter().enumerate() {
            let source_path = format!("{}/{}", version.document.service, source.file_name);
            let source_blob = match &written {
                Some(written) => written.sources[index],
                None => blob(&source.bytes)?,
            };
            update.upsert(&source_path, source_blob, git2::FileMode::Blob);
            source_files.push((source_path, source_blob));
        }
        let tree_id = update
            .create_updated(&self.repo, &base_tree)
            .map_err(|e| git_error("cannot build the new tree", e))?;
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(|e| git_error("cannot read the new tree", e))?;
        if self.batch.is_some() {
            new_objects.extend(Batch::trees_on_path(&self.repo, tree_id, &path));
        }

        // Never before the parent: history stays in time order even if clocks disagree.
        let mut when = version.fetched_at;
        if let Some(parent) = &parent {
            let parent_time = DateTime::from_timestamp(parent.time().seconds(), 0).unwrap_or(when);
            if parent_time > when {
                when = parent_time;
            }
        }
        let time = Time::new(when.timestamp(), 0);
        let signature = Signature::new(&self.author_name, &self.author_email, &time)
            .map_err(|e| git_error("invalid author in the configuration", e))?;
        let message = commit_message(kind, version);
        let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
        // Outside batch mode the branch moves with the commit; in batch mode, once the batch
        // is on disk.
        let update_ref = if self.batch.is_some() {
            None
        } else {
            Some("HEAD")
        };
        let commit = self
            .repo
            .commit(
                update_ref, &signature, &signature, &message, &tree, &parents,
            )
            .map_err(|e| git_error("cannot write the commit", e))?;
        // The working tree (what people browse) is a view of the branch, brought in line once
        // per round (`update_working_tree`): one checkout and one index write for the round,
        // not one per commit. The version is recorded once the branch moved.
        drop(parents);
        drop(parent);
        drop(tree);
        drop(base_tree);
        let mut files = vec![(path, text_blob)];
        files.extend(source_files);
        match &mut self.batch {
            Some(batch) => {
                new_objects.push(commit);
                batch.objects.extend(new_objects);
                if let Some(written) = written.take() {
                    batch
                        .add_to_pack(&self.repo, &written.entries)
                        .map_err(|e| git_error("cannot write the pack of new versions", e))?;
                }
                batch.tip = Some(commit);
                batch.commits += 1;
                batch.files.extend(files);
            }
            None => self
                .stale_paths
                .extend(files.into_iter().map(|(path, _)| path)),
        }
        let reverts_to = match known_text {
            Some(id) => {
                // The versions before this one (outside batches the branch has moved to it
                // already), newest first: the one it replaces heads the list.
                let mut earlier =
                    self.version_blobs(&version.document.service, &version.document.terms_type)?;
                earlier.retain(|(earlier_commit, _)| *earlier_commit != commit.to_string());
                find_revert(id, &earlier).map(str::to_string)
            }
            None => None,
        };
        Ok(Some(Recorded {
            commit: commit.to_string(),
            kind: if reverts_to.is_some() {
                VersionKind::Revert
            } else {
                kind
            },
            reverts_to,
            date: when,
        }))
    }

    /// Writes the files committed since the last call to the working tree, in one checkout.
    /// A failure (disk full…) is logged: the versions are recorded, and the next run's
    /// [`sync_working_tree`](Self::sync_working_tree) brings the view in line.
    pub fn update_working_tree(&mut self) {
        // Batches written from now on are shown at the next call.
        if let Some(mut writer) = self.working_tree_writer.take() {
            writer.finish();
        }
        if self.stale_paths.is_empty() {
            return;
        }
        if let Some(workdir) = self.repo.workdir() {
            working_tree::remove_links_in_the_way(
                workdir,
                self.stale_paths.iter().map(String::as_str),
            );
        }
        let mut checkout = git2::build::CheckoutBuilder::new();
        // The paths are file names, not patterns: matched exactly (a name may hold `[` or `*`),
        // and without one pattern match per path and tree entry, which made this quadratic.
        checkout.force().disable_pathspec_match(true);
        for path in self.stale_paths.drain(..) {
            checkout.path(path);
        }
        if let Err(error) = self.repo.checkout_head(Some(&mut checkout)) {
            tracing::warn!(
                "versions recorded, but the working tree could not be updated: {}",
                error.message()
            );
        }
    }

    /// Records into git only from now on: the working tree and index are left as they are
    /// (`record.working_tree: false`; writing the files is most of a first round's disk time).
    pub fn without_working_tree(&mut self) {
        self.working_tree = false;
        self.working_tree_writer = None;
        self.stale_paths.clear();
    }

    /// Brings the working tree and index in line with the branch (after an interrupted run).
    pub fn sync_working_tree(&self) -> Result<()> {
        if !self.working_tree {
            return Ok(());
        }
        let Some(head) = self.head_commit() else {
            return Ok(());
        };
        if let (Some(workdir), Ok(tree)) = (self.repo.workdir(), head.tree()) {
            let mut paths = Vec::new();
            let _ = tree.walk(git2::TreeWalkMode::PreOrder, |folder, entry| {
                if entry.kind() == Some(git2::ObjectType::Blob)
                    && let Ok(name) = entry.name()
                {
                    paths.push(format!("{folder}{name}"));
                }
                git2::TreeWalkResult::Ok
            });
            working_tree::remove_links_in_the_way(workdir, paths.iter().map(String::as_str));
        }
        self.repo
            .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
            .map_err(|e| git_error("cannot update the working tree", e))
    }

    /// Opens an existing repository (ours or a clone of one of OTA's versions repositories).
    pub fn open(path: &Path) -> Result<Self> {
        let repo = Repository::open(path).map_err(|e| {
            if e.code() == git2::ErrorCode::NotFound {
                return Error::argument(format!(
                    "there is no versions repository at {}; give the path of one (--repo PATH), or run `policydiff track` to create it",
                    path.display()
                ));
            }
            git_error(
                &format!("cannot open the versions repository {}", path.display()),
                e,
            )
        })?;
        Ok(VersionsRepository {
            repo,
            path: path.to_path_buf(),
            author_name: "policydiff".into(),
            author_email: "policydiff@localhost".into(),
            history: Default::default(),
            stale_paths: Vec::new(),
            working_tree: true,
            batch: None,
            working_tree_writer: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version<'a>(service_id: &'a str, text: &'a str, source: &[u8]) -> NewVersion<'a> {
        NewVersion {
            document: DocumentId::new(service_id, "Privacy Policy"),
            text,
            sources: vec![SourceFile {
                file_name: "Privacy Policy.html".into(),
                bytes: source.to_vec(),
                url: "https://example.com/privacy".into(),
                content_type: Some("text/html".into()),
            }],
            fetched_at: Utc::now(),
            declaration_sha256: "0".repeat(64),
            technical: false,
        }
    }

    #[test]
    fn recording_decides_a_revert_once_and_only_for_the_same_document() {
        let dir = tempfile::tempdir().unwrap();
        let mut repo =
            VersionsRepository::open_or_create(dir.path(), "policydiff", "bot@example.com")
                .unwrap();
        let mut record = |service: &str, text: &str| {
            repo.record(&version(service, text, text.as_bytes()))
                .unwrap()
                .unwrap()
        };
        let first = record("A", "Text one");
        assert_eq!(first.kind, VersionKind::FirstRecord);
        assert_eq!(record("A", "Text two").kind, VersionKind::NewChanges);
        // Another document's text, already in the repository, is no revert of this one.
        record("B", "Text three");
        assert_eq!(record("A", "Text three").kind, VersionKind::NewChanges);
        let back = record("A", "Text one");
        assert_eq!(back.kind, VersionKind::Revert);
        assert_eq!(back.reverts_to.as_deref(), Some(first.commit.as_str()));
        // History tells the same kind.
        let history = repo.document_changes("A", "Privacy Policy").unwrap();
        assert_eq!(history.last().unwrap().kind(), VersionKind::Revert);
    }

    #[test]
    fn a_threads_view_of_the_tip_follows_each_new_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut repo =
            VersionsRepository::open_or_create(dir.path(), "policydiff", "bot@example.com")
                .unwrap();
        let blob = |text: &str| Oid::hash_object(git2::ObjectType::Blob, text.as_bytes()).unwrap();
        assert_eq!(
            recorded_blob_id(dir.path(), &DocumentId::new("A", "Privacy Policy")),
            None
        );

        repo.record(&version("A", "First text", b"<p>First text</p>"))
            .unwrap()
            .unwrap();
        // The view read at this tip: "B" is not recorded, "A" is.
        assert_eq!(
            recorded_blob_id(dir.path(), &DocumentId::new("B", "Privacy Policy")),
            None
        );
        assert_eq!(
            recorded_blob_id(dir.path(), &DocumentId::new("A", "Privacy Policy")),
            Some(blob("First text"))
        );

        repo.record(&version("A", "Second text", b"<p>Second text</p>"))
            .unwrap()
            .unwrap();
        repo.record(&version("B", "Other text", b"<p>Other text</p>"))
            .unwrap()
            .unwrap();
        assert_eq!(
            recorded_blob_id(dir.path(), &DocumentId::new("A", "Privacy Policy")),
            Some(blob("Second text"))
        );
        assert_eq!(
            recorded_blob_id(dir.path(), &DocumentId::new("B", "Privacy Policy")),
            Some(blob("Other text"))
        );
        assert_eq!(
            read_recorded(dir.path(), "A/Privacy Policy.html").as_deref(),
            Some(&b"<p>Second text</p>"[..])
        );
        assert_eq!(read_recorded(dir.path(), "A/Terms of Service.html"), None);
        // Text as at the tip: nothing to write ahead; a new text: its blobs.
        let (_, unchanged) = pack_blobs_ahead(
            dir.path(),
            &DocumentId::new("A", "Privacy Policy"),
            "Second text",
            &[],
        )
        .unwrap();
        assert!(unchanged.is_none());
        let (id, changed) = pack_blobs_ahead(
            dir.path(),
            &DocumentId::new("A", "Privacy Policy"),
            "Third text",
            &[],
        )
        .unwrap();
        assert_eq!(id, blob("Third text"));
        assert!(changed.is_some());
    }
}
