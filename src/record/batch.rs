//! Commits held in memory and written to disk as one pack: what a tracking round records.
//!
//! Writing each object as its own loose file costs a file creation per object — on a round of
//! a thousand new documents, more time than everything else the recorder does. In batch mode
//! ([`super::VersionsRepository::begin_batches`]) the blobs of new versions come hashed and
//! compressed from the extraction threads ([`super::pack_blobs_ahead`]); the recorder appends
//! them to the batch's pack as it records them ([`Batch::add_to_pack`], a file not yet visible
//! to git), and writes trees and commits (and any blob not prepared ahead) to an in-memory
//! object database layered over the repository's objects. [`Batch::write_pack`] then adds
//! those to the pack, completes it and writes its index into `objects/pack`, and only then
//! does the branch move, so that a process killed at any moment leaves the branch on commits
//! whose objects are all on disk: the commits of an unwritten batch are simply not recorded (no
//! report said they were) and the next round records them; its unfinished pack is removed.

use std::path::Path;

use git2::{Oid, Repository};

use super::pack::{PackEntry, PackWriter, WrittenPack};

/// Commits made since the last pack was written.
#[derive(Debug, Default)]
pub(super) struct Batch {
    /// The newest commit, not yet on the branch.
    pub tip: Option<Oid>,
    /// Objects written to memory since the last pack (trees, commits, blobs not written ahead).
    pub objects: Vec<Oid>,
    /// Commits since the last pack.
    pub commits: usize,
    /// The files those commits changed, with their blobs (to show in the working tree once
    /// recorded).
    pub files: Vec<(String, Oid)>,
    /// The batch's pack, being written: blobs compressed ahead by the extraction threads go
    /// to disk as they are recorded (a batch of first records would otherwise hold megabytes
    /// of compressed pages until its end); trees and commits follow at the end.
    pub pack: Option<PackWriter>,
}

/// Makes every object written through `repo` from now on land in memory (an object database
/// whose writable layer is in memory, over the repository's own objects, read as before).
pub(super) fn write_to_memory(repo: &Repository) -> Result<(), git2::Error> {
    let odb = git2::Odb::new()?;
    // The highest priority: reads look in memory first, and the disk layers, added as
    // alternates, are never written to.
    odb.add_new_mempack_backend(1000)?;
    let objects = repo.path().join("objects");
    odb.add_disk_alternate(&objects.to_string_lossy())?;
    // The repository keeps its own reference on the database: dropping `odb` (and with it the
    // previous batch's objects, once replaced) is safe.
    repo.set_odb(&odb)
}

fn pack_dir(repo: &Repository) -> std::path::PathBuf {
    repo.path().join("objects").join("pack")
}

fn os_error(error: std::io::Error) -> git2::Error {
    git2::Error::new(
        git2::ErrorCode::GenericError,
        git2::ErrorClass::Os,
        error.to_string(),
    )
}

impl Batch {
    /// Adds blobs compressed ahead to the batch's pack (started on the first).
    pub(super) fn add_to_pack(
        &mut self,
        repo: &Repository,
        entries: &[PackEntry],
    ) -> Result<(), git2::Error> {
        let pack = match &mut self.pack {
            Some(pack) => pack,
            None => self
                .pack
                .insert(PackWriter::create(&pack_dir(repo)).map_err(os_error)?),
        };
        for entry in entries {
            pack.add(entry).map_err(os_error)?;
        }
        Ok(())
    }

    /// Completes the batch's pack in `objects/pack`: the blobs compressed ahead are in it, and
    /// the objects held in memory (trees, commits) are compressed and added here.
    pub(super) fn write_pack(&mut self, repo: &Repository) -> Result<WrittenPack, git2::Error> {
        let odb = repo.odb()?;
        let mut pack = match self.pack.take() {
            Some(pack) => pack,
            None => PackWriter::create(&pack_dir(repo)).map_err(os_error)?,
        };
        for id in &self.objects {
            let object = odb.read(*id)?;
            pack.add(&PackEntry::new(object.kind(), *id, object.data()))
                .map_err(os_error)?;
        }
        pack.finish().map_err(os_error)
    }

    /// The ids of the trees a path's new version sits in, from the root down (new objects
    /// when the path changed).
    pub(super) fn trees_on_path(repo: &Repository, root: Oid, path: &str) -> Vec<Oid> {
        let mut trees = vec![root];
        let Ok(root_tree) = repo.find_tree(root) else {
            return trees;
        };
        let mut folder = String::new();
        let components: Vec<&str> = path.split('/').collect();
        for component in &components[..components.len().saturating_sub(1)] {
            if !folder.is_empty() {
                folder.push('/');
            }
            folder.push_str(component);
            if let Ok(entry) = root_tree.get_path(Path::new(&folder)) {
                trees.push(entry.id());
            }
        }
        trees
    }
}

#[cfg(test)]
mod tests {
    use super::super::{NewVersion, SourceFile, VersionsRepository};
    use crate::declaration::DocumentId;
    use chrono::Utc;

    fn version(text: &str) -> NewVersion<'_> {
        NewVersion {
            document: DocumentId::new("Example", "Privacy Policy"),
            text,
            sources: vec![SourceFile {
                file_name: "Privacy Policy.html".into(),
                bytes: format!("<p>{text}</p>").into_bytes(),
                url: "https://example.com/privacy".into(),
                content_type: Some("text/html".into()),
            }],
            fetched_at: Utc::now(),
            declaration_sha256: "0".repeat(64),
            technical: false,
        }
    }

    fn branch_tip(path: &std::path::Path) -> Option<git2::Oid> {
        let repo = git2::Repository::open(path).unwrap();
        repo.head().ok().and_then(|head| head.target())
    }

    #[test]
    fn commits_reach_the_branch_only_once_their_batch_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut repo =
            VersionsRepository::open_or_create(dir.path(), "t", "t@example.org").unwrap();
        repo.begin_batches().unwrap();
        let first = repo.record(&version("One.")).unwrap().unwrap();
        let second = repo.record(&version("Two.")).unwrap().unwrap();
        // The batch sees its own commits: the second is a change of the first.
        assert_eq!(second.kind.as_str(), "new_changes");
        assert_eq!(
            repo.current_version("Example", "Privacy Policy").unwrap(),
            "Two."
        );
        assert_eq!(repo.unwritten_commits(), 2);
        assert_eq!(branch_tip(dir.path()), None, "nothing on the branch yet");
        assert_eq!(repo.write_batch().unwrap(), 2);
        assert_eq!(branch_tip(dir.path()).unwrap().to_string(), second.commit);
        let on_disk = git2::Repository::open(dir.path()).unwrap();
        let parent = on_disk
            .find_commit(second.commit.parse().unwrap())
            .unwrap()
            .parent_id(0)
            .unwrap();
        assert_eq!(parent.to_string(), first.commit);

        // A batch never written (the process killed) leaves the branch where it was.
        repo.record(&version("Three.")).unwrap().unwrap();
        drop(repo);
        assert_eq!(branch_tip(dir.path()).unwrap().to_string(), second.commit);
        let fsck = std::process::Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["fsck", "--full", "--no-dangling"])
            .output()
            .unwrap();
        assert!(
            fsck.status.success(),
            "{}",
            String::from_utf8_lossy(&fsck.stderr)
        );
        let mut repo =
            VersionsRepository::open_or_create(dir.path(), "t", "t@example.org").unwrap();
        assert_eq!(
            repo.current_version("Example", "Privacy Policy").unwrap(),
            "Two."
        );
        assert!(repo.record(&version("Three.")).unwrap().is_some());
    }
}
