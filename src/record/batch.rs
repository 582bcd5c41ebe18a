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

use std::collections::HashMap;
use std::path::Path;

use git2::{Oid, Repository};

use super::pack::{self, PackEntry, PackWriter, WrittenPack};

/// The longest chain of deltas a tree is stored at the end of (git's own `pack.depth`):
/// reading a tree applies its chain.
const MOST_DELTAS_TO_READ: usize = 50;

/// Commits made since the last pack was written.
#[derive(Debug, Default)]
pub(super) struct Batch {
    /// The newest commit, not yet on the branch.
    pub tip: Option<Oid>,
    /// Objects written to memory since the last pack (trees, commits, blobs not written ahead).
    pub objects: Vec<Oid>,
    /// The folder of each of those that is a tree (`""` for the root): a tree goes into the
    /// pack as a delta against its folder's previous version there.
    pub folders: HashMap<Oid, String>,
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
    pub fn add_to_pack(
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
    /// the objects held in memory (trees, commits) are compressed and added here, each tree as
    /// a delta against its folder's previous version in the pack where that is less than
    /// half of it: a commit per document rewrites the root tree, which names every service
    /// (20 kB at the scale of OTA's federation, most of it object ids that do not compress),
    /// for one entry changed.
    pub fn write_pack(&mut self, repo: &Repository) -> Result<WrittenPack, git2::Error> {
        let odb = repo.odb()?;
        let mut pack = match self.pack.take() {
            Some(pack) => pack,
            None => PackWriter::create(&pack_dir(repo)).map_err(os_error)?,
        };
        // Each folder's latest tree in the pack: its offset, content and depth (deltas to
        // apply to read it).
        let mut latest: HashMap<&str, (u64, Vec<u8>, usize)> = HashMap::new();
        for id in &self.objects {
            let object = odb.read(*id)?;
            let folder = self.folders.get(id).map(String::as_str);
            let base = folder.and_then(|folder| latest.get(folder));
            let as_delta = base
                .filter(|(.., depth)| *depth < MOST_DELTAS_TO_READ)
                .and_then(|(offset, content, depth)| {
                    pack::delta(content, object.data()).map(|delta| (*offset, delta, depth + 1))
                });
            let (entry, depth) = match as_delta {
                Some((offset, delta, depth)) => (
                    PackEntry::ofs_delta(*id, &delta, pack.next_offset() - offset),
                    depth,
                ),
                None => (PackEntry::new(object.kind(), *id, object.data()), 0),
            };
            let written = pack.add(&entry).map_err(os_error)?;
            if let (Some(folder), Some(offset)) = (folder, written) {
                latest.insert(folder, (offset, object.data().to_vec(), depth));
            }
        }
        pack.finish().map_err(os_error)
    }

    /// The ids of the trees a path's new version sits in, from the root down, each with its
    /// folder (`""` for the root): new objects when the path changed.
    pub fn trees_on_path(repo: &Repository, root: Oid, path: &str) -> Vec<(Oid, String)> {
        let mut trees = vec![(root, String::new())];
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
                trees.push((entry.id(), folder.clone()));
            }
        }
        trees
    }
}

#[cfg(test)]
mod tests {
    use super::super::pack::checks;
    use super::super::{NewVersion, SourceFile, VersionsRepository};
    use chrono::Utc;

    fn version(text: &str) -> NewVersion<'_> {
        NewVersion {
            service_id: "Example",
            terms_type: "Privacy Policy",
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
        checks::git_fsck(dir.path(), &["--no-dangling"]);
        let mut repo =
            VersionsRepository::open_or_create(dir.path(), "t", "t@example.org").unwrap();
        assert_eq!(
            repo.current_version("Example", "Privacy Policy").unwrap(),
            "Two."
        );
        assert!(repo.record(&version("Three.")).unwrap().is_some());
    }

    #[test]
    fn a_batchs_trees_are_stored_as_deltas_of_their_previous_versions() {
        let dir = tempfile::tempdir().unwrap();
        let mut repo =
            VersionsRepository::open_or_create(dir.path(), "t", "t@example.org").unwrap();
        repo.begin_batches().unwrap();
        let services: Vec<String> = (0..60).map(|i| format!("Service {i:02}")).collect();
        let mut commits = Vec::new();
        for terms_type in ["Privacy Policy", "Terms of Service"] {
            for service in &services {
                let text = format!("{terms_type} of {service}.");
                let recorded = repo
                    .record(&NewVersion {
                        service_id: service,
                        terms_type,
                        text: &text,
                        ..version("")
                    })
                    .unwrap()
                    .unwrap();
                commits.push(recorded.commit);
            }
        }
        assert_eq!(repo.write_batch().unwrap(), 120);

        // Every commit reads back whole: the k-th names min(k, 60) services, and its
        // documents' texts.
        let on_disk = git2::Repository::open(dir.path()).unwrap();
        for (k, commit) in commits.iter().enumerate() {
            let tree = on_disk
                .find_commit(commit.parse().unwrap())
                .unwrap()
                .tree()
                .unwrap();
            assert_eq!(tree.len(), (k + 1).min(60), "commit {k}");
            let (terms_type, service) = if k < 60 {
                ("Privacy Policy", &services[k])
            } else {
                ("Terms of Service", &services[k - 60])
            };
            let entry = tree
                .get_path(std::path::Path::new(&format!("{service}/{terms_type}.md")))
                .unwrap();
            let blob = on_disk.find_blob(entry.id()).unwrap();
            assert_eq!(
                blob.content(),
                format!("{terms_type} of {service}.").as_bytes()
            );
        }

        // git checks every object against its id, deltas applied; the root trees are deltas,
        // in chains of at most 50.
        let listed = checks::verified_pack(&dir.path().join(".git/objects/pack"));
        // Columns: id, type, size, size in the pack, offset, then depth and base for a delta.
        let trees: Vec<Vec<&str>> = listed
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .filter(|columns| columns.get(1) == Some(&"tree"))
            .collect();
        let depths: Vec<usize> = trees
            .iter()
            .filter(|columns| columns.len() == 7)
            .map(|columns| columns[5].parse().unwrap())
            .collect();
        assert!(depths.len() >= 110, "{} trees as deltas", depths.len());
        assert_eq!(depths.iter().max(), Some(&50));
        // (A delta's size is listed as the delta's: the tree's is libgit2's to tell.)
        let odb = on_disk.odb().unwrap();
        let whole: usize = trees
            .iter()
            .map(|columns| odb.read_header(columns[0].parse().unwrap()).unwrap().0)
            .sum();
        let stored: usize = trees
            .iter()
            .map(|columns| columns[3].parse::<usize>().unwrap())
            .sum();
        assert!(
            stored * 4 < whole,
            "trees of {whole} bytes stored in {stored}"
        );
        checks::git_fsck(dir.path(), &["--strict"]);
    }
}
