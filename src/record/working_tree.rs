//! The working tree of a tracking round: the files people browse, written beside the recording.
//!
//! The working tree is a view of the branch, never a record: git holds the versions. A round in
//! batch mode hands each written batch's files to a [`WorkingTreeWriter`] ([`show`]), whose
//! thread writes them while the round goes on fetching and extracting, and brings the index in
//! line after each batch, so that `git status` stays clean. Only files of commits already on
//! the branch are shown, so the view never runs ahead of what is recorded. The round waits for
//! the writer at its end ([`finish`]).
//!
//! libgit2's checkout did the same once per round, at the end, on the round's own thread: it
//! compares every file of the tree with the index, and read back (inflated) every blob the
//! round had just compressed; on a first round of a thousand documents that tail was a fifth of
//! the round. The writer reads each blob once, straight from the batch's pack where the pack
//! writer says it lies (inflated by libdeflate, several times as fast as libgit2's zlib, and
//! without mapping the pack into memory), and writes it over its file (a symbolic link where
//! a file belongs is replaced, never followed), and records the file's size and times in the
//! index as git would. A process killed while writing may leave a file half written: its size
//! and times then differ from the index, and the next round's check of the working tree
//! rewrites it.
//!
//! Where git would transform files on checkout (`core.autocrlf`, a `.gitattributes`), the
//! writer defers to libgit2's checkout, which applies those filters ([`needs_filters`]).
//!
//! [`show`]: WorkingTreeWriter::show
//! [`finish`]: WorkingTreeWriter::finish

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use git2::{Oid, Repository};

use super::pack::{WrittenPack, read_blob_at};

/// Writes the files of written batches into a repository's working tree, on a thread of its own.
pub(super) struct WorkingTreeWriter {
    files: Option<mpsc::Sender<Shown>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A written batch's files, with where their blobs lie in the batch's pack.
struct Shown {
    files: Vec<(String, Oid)>,
    /// The pack's file, and each file's blob entry in it (offset, length).
    pack: PathBuf,
    entries: HashMap<Oid, (u64, usize)>,
}

/// Whether git would filter files between the repository and the working tree (line endings,
/// attributes): then the writer, which copies blobs as they are, must not be used.
pub(super) fn needs_filters(repo: &Repository) -> bool {
    let autocrlf = repo
        .config()
        .ok()
        .and_then(|config| config.get_string("core.autocrlf").ok())
        .is_some_and(|value| !value.eq_ignore_ascii_case("false"));
    let attributes = repo.path().join("info").join("attributes").exists()
        || repo
            .workdir()
            .is_some_and(|dir| dir.join(".gitattributes").exists())
        || repo
            .head()
            .ok()
            .and_then(|head| head.peel_to_tree().ok())
            .is_some_and(|tree| tree.get_name(".gitattributes").is_some());
    autocrlf || attributes
}

impl WorkingTreeWriter {
    /// Starts the writer's thread on the repository at `path` (which has a working tree).
    pub(super) fn start(path: &Path) -> std::io::Result<WorkingTreeWriter> {
        let (files, receive) = mpsc::channel::<Shown>();
        let path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("working-tree".into())
            .spawn(move || write_until_closed(&path, receive))?;
        Ok(WorkingTreeWriter {
            files: Some(files),
            thread: Some(thread),
        })
    }

    /// Shows files committed in a batch now on the branch (a path given twice shows its last
    /// blob), whose blobs the batch's `pack` holds (or the repository, for blobs written
    /// before).
    pub(super) fn show(&self, files: Vec<(String, Oid)>, pack: &WrittenPack) {
        if files.is_empty() {
            return;
        }
        let entries = files
            .iter()
            .filter_map(|(_, blob)| Some((*blob, *pack.entries.get(blob)?)))
            .collect();
        let shown = Shown {
            files,
            pack: pack.path.clone(),
            entries,
        };
        if let Some(sender) = &self.files
            && sender.send(shown).is_err()
        {
            tracing::warn!("the working tree is no longer updated: its writer stopped");
        }
    }

    /// Waits until every file shown so far is written and in the index.
    pub(super) fn finish(&mut self) {
        self.files = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("the working tree's writer failed: the next round brings it in line");
        }
    }
}

impl Drop for WorkingTreeWriter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The writer's thread: each batch's files written, then the index brought in line.
fn write_until_closed(path: &Path, batches: mpsc::Receiver<Shown>) {
    let repo = match Repository::open(path) {
        Ok(repo) => repo,
        Err(error) => {
            tracing::warn!(
                "the working tree is not updated this round: {}",
                error.message()
            );
            return;
        }
    };
    let Some(workdir) = repo.workdir().map(Path::to_path_buf) else {
        return;
    };
    let mut inflate = libdeflater::Decompressor::new();
    for batch in batches {
        // The last blob of each path; in path order, so that a folder's files are written together.
        let started = std::time::Instant::now();
        let pack = std::fs::File::open(&batch.pack).ok();
        let files: BTreeMap<String, Oid> = batch.files.into_iter().collect();
        let mut written = Vec::with_capacity(files.len());
        for (file, blob) in files {
            // From the batch's pack where it is there (read once, by this thread); else, or if
            // that read fails (the pack was repacked meanwhile), through libgit2.
            let content = pack.as_ref().zip(batch.entries.get(&blob)).and_then(
                |(pack, &(offset, length))| read_blob_at(pack, offset, length, &mut inflate).ok(),
            );
            match write_file(&repo, &workdir, &file, blob, content) {
                Ok(metadata) => written.push((file, blob, metadata)),
                Err(error) => tracing::warn!(
                    file = %file,
                    "recorded, but not shown in the working tree: {error} (the next round shows it)"
                ),
            }
        }
        if let Err(error) = add_to_index(&repo, &written) {
            tracing::warn!(
                "recorded, but the index was not updated: {} (the next round brings it in line)",
                error.message()
            );
        }
        tracing::debug!(
            "working tree: {} files shown in {:?}",
            written.len(),
            started.elapsed()
        );
    }
}

/// Whether a path of the tree is safe to write under the working tree: relative, without empty,
/// `.` or `..` components, and outside `.git`.
fn is_safe(file: &str) -> bool {
    !file.starts_with('/')
        && file.split('/').all(|component| {
            !component.is_empty()
                && component != "."
                && component != ".."
                && !component.eq_ignore_ascii_case(".git")
                && !component.contains('\\')
        })
}

/// Writes a blob at its place in the working tree; gives the file's metadata. `content` is the
/// blob's, when already read (else it is read from the repository).
fn write_file(
    repo: &Repository,
    workdir: &Path,
    file: &str,
    blob: Oid,
    content: Option<Vec<u8>>,
) -> std::io::Result<std::fs::Metadata> {
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
    if !is_safe(file) {
        return Err(invalid(format!("unsafe path {file:?}")));
    }
    let target = workdir.join(file);
    let parent = target
        .parent()
        .ok_or_else(|| invalid(format!("no folder for {file:?}")))?;
    make_folder(workdir, parent)?;
    match content {
        Some(content) => write_in_place(&target, &content)?,
        None => {
            let blob = repo
                .find_blob(blob)
                .map_err(|e| std::io::Error::other(e.message().to_string()))?;
            write_in_place(&target, blob.content())?;
        }
    }
    std::fs::symlink_metadata(&target)
}

/// Writes `bytes` over the file at `target`, in place: a file is rewritten, never replaced, so
/// that a round that changes a thousand files frees no inode (on ext4 without a journal, each
/// file created after many were freed pays for a scan of them). A symbolic link at `target` is
/// removed first, and the file is opened without following one.
fn write_in_place(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if std::fs::symlink_metadata(target).is_ok_and(|metadata| metadata.is_symlink()) {
        std::fs::remove_file(target)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(target)?;
    file.write_all(bytes)
}

/// Makes the folders from `workdir` down to `folder`, replacing anything in the way that is not
/// a folder (a file or a symbolic link is never followed out of the working tree).
fn make_folder(workdir: &Path, folder: &Path) -> std::io::Result<()> {
    let mut current = PathBuf::from(workdir);
    let Ok(relative) = folder.strip_prefix(workdir) else {
        return Ok(());
    };
    for component in relative.components() {
        current.push(component);
        match std::fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.is_dir() => {}
            Ok(_) => {
                std::fs::remove_file(&current)?;
                std::fs::create_dir(&current)?;
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&current)?;
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Removes the symbolic links found where the branch has files or folders (`paths`, relative to
/// `workdir`), so that a checkout writes in the working tree: libgit2's checkout writes through
/// a link that stands where a file was, into whatever it points to.
pub(super) fn remove_links_in_the_way<'a>(workdir: &Path, paths: impl Iterator<Item = &'a str>) {
    let mut folders_seen = std::collections::HashSet::new();
    for path in paths {
        let mut current = PathBuf::from(workdir);
        let components: Vec<&str> = path.split('/').collect();
        for (depth, component) in components.iter().enumerate() {
            current.push(component);
            let is_folder = depth + 1 < components.len();
            if is_folder && !folders_seen.insert(current.clone()) {
                continue;
            }
            match std::fs::symlink_metadata(&current) {
                Ok(metadata) if metadata.is_symlink() => {
                    match std::fs::remove_file(&current) {
                        Ok(()) => tracing::warn!(
                            path = %current.display(),
                            "a symbolic link stood where the branch has a file or folder: removed"
                        ),
                        Err(error) => tracing::warn!(
                            path = %current.display(),
                            "a symbolic link stands where the branch has a file or folder: {error}"
                        ),
                    }
                    break;
                }
                Ok(_) => {}
                // Nothing there (nor below): the checkout creates it.
                Err(_) => break,
            }
        }
    }
}

/// Records written files in the index with their blob and the size and times git compares.
fn add_to_index(
    repo: &Repository,
    written: &[(String, Oid, std::fs::Metadata)],
) -> Result<(), git2::Error> {
    if written.is_empty() {
        return Ok(());
    }
    let mut index = repo.index()?;
    // Read again from disk: the index may have changed since this handle last read it.
    index.read(true)?;
    for (file, blob, metadata) in written {
        index.add(&index_entry(file, *blob, metadata))?;
    }
    index.write()
}

/// The index entry of a regular file just written.
fn index_entry(file: &str, blob: Oid, metadata: &std::fs::Metadata) -> git2::IndexEntry {
    #[cfg(unix)]
    let (ctime, mtime, dev, ino, uid, gid) = {
        use std::os::unix::fs::MetadataExt;
        // The index keeps 32-bit seconds and fields, as git itself truncates them.
        (
            git2::IndexTime::new(metadata.ctime() as i32, metadata.ctime_nsec() as u32),
            git2::IndexTime::new(metadata.mtime() as i32, metadata.mtime_nsec() as u32),
            metadata.dev() as u32,
            metadata.ino() as u32,
            metadata.uid(),
            metadata.gid(),
        )
    };
    // Elsewhere git finds the times missing and compares the file's content instead.
    #[cfg(not(unix))]
    let (ctime, mtime, dev, ino, uid, gid) = (
        git2::IndexTime::new(0, 0),
        git2::IndexTime::new(0, 0),
        0,
        0,
        0,
        0,
    );
    git2::IndexEntry {
        ctime,
        mtime,
        dev,
        ino,
        mode: u32::from(git2::FileMode::Blob),
        uid,
        gid,
        file_size: metadata.len() as u32,
        id: blob,
        flags: 0,
        flags_extended: 0,
        path: file.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_would_leave_the_working_tree_are_refused() {
        assert!(is_safe("Example/Privacy Policy.md"));
        assert!(is_safe("Example/Privacy Policy.html"));
        for unsafe_path in [
            "/etc/passwd",
            "../outside.md",
            "Example/../../outside.md",
            ".git/config",
            "Example/.GIT/hooks/pre-commit",
            "Example//Privacy Policy.md",
            "./Example.md",
            "Example\\..\\x",
        ] {
            assert!(!is_safe(unsafe_path), "{unsafe_path}");
        }
    }
}
