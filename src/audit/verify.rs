//! Verification: can this record be trusted? Checks a versions repository the way an auditor
//! would, straight from git's objects (never from policydiff's caches).
//!
//! [`verify`] returns a [`Verification`]: how much was checked and every [`Problem`] found, each
//! with its [`ProblemKind`], the commit and the document concerned. The checks:
//!
//! - objects: every object in the object database reads back and matches its id, every
//!   reference points at a commit, every commit, tree and blob reachable from them is present
//!   (what `git fsck` checks);
//! - one document per version commit: a commit that touches a service folder changes exactly one
//!   version file (`<service>/<terms type>.md`), plus that document's sources, and deletes none;
//! - trailers: a commit recorded by policydiff carries `Source-URL`, `Fetched-At` (RFC 3339, not
//!   after the commit), `Declaration-SHA256` (64 hex digits) and `Engine`; one recorded by OTA's
//!   engine carries `X-engine-version` (its older versions say "This version was recorded after
//!   filtering snapshot …" in the body); a version commit with neither cannot be attributed;
//! - no empty version, and the sources of a policydiff version present beside it;
//! - a document's versions never go back in time. (Across documents OTA's engine may commit
//!   out of date order, as it records documents fetched in parallel: that is not a problem.)
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! use policydiff::audit::verify::verify;
//! use policydiff::record::{NewVersion, SourceFile, VersionsRepository};
//! use policydiff::declaration::DocumentId;
//!
//! let mut repo = VersionsRepository::open_or_create(dir.path(), "bot", "bot@example.org").unwrap();
//! let source = SourceFile { file_name: "Privacy Policy.html".into(), bytes: b"<p>v1</p>".to_vec(),
//!     url: "https://example.org/privacy".into(), content_type: Some("text/html".into()) };
//! let version = NewVersion { document: DocumentId::new("Example", "Privacy Policy"), text: "v1",
//!     sources: vec![source], fetched_at: chrono::Utc::now(), declaration_sha256: "0".repeat(64),
//!     technical: false };
//! repo.record(&version).unwrap();
//! let verification = verify(dir.path()).unwrap();
//! assert!(verification.problems.is_empty(), "{:?}", verification.problems);
//! assert_eq!(verification.version_commits, 1);
//! ```

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{DateTime, Utc};
use git2::{ObjectType, Oid, Repository};
use serde::Serialize;

use crate::{Error, Result};

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// An object cannot be read or does not match its id.
    CorruptObject,
    /// An object that history refers to is not in the repository.
    MissingObject,
    /// A reference that does not lead to a commit.
    BrokenReference,
    /// A commit that changes the text of more than one document.
    SeveralDocuments,
    /// A commit that deletes a document's text.
    DeletedDocument,
    /// A commit that changes files of a service without changing a version.
    NoVersion,
    /// A commit that changes files outside the document it records.
    UnrelatedFiles,
    /// A version whose text is empty.
    EmptyVersion,
    /// A required trailer is absent.
    MissingTrailer,
    /// A trailer whose value is not well formed.
    MalformedTrailer,
    /// A version commit with no engine trailer at all.
    UnknownEngine,
    /// A policydiff version without the source it was extracted from.
    MissingSource,
    /// A version dated before the document's previous version.
    DateGoesBack,
}

/// One problem found.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// The commit concerned, if any.
    pub commit: Option<String>,
    /// The file or document concerned, if any.
    pub path: Option<String>,
    /// What was found, in words.
    pub detail: String,
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    /// Objects read and hashed.
    pub objects: usize,
    /// Commits on the branch.
    pub commits: usize,
    /// Commits that record a version.
    pub version_commits: usize,
    /// Everything found wrong, in history order.
    pub problems: Vec<Problem>,
}

impl Verification {
    fn problem(
        &mut self,
        kind: ProblemKind,
        commit: Option<Oid>,
        path: Option<&str>,
        detail: String,
    ) {
        self.problems.push(Problem {
            kind,
            commit: commit.map(|c| c.to_string()),
            path: path.map(str::to_string),
            detail,
        });
    }
}

/// Checks the repository at `path`; `Err` only when it cannot be opened at all.
pub fn verify(path: &Path) -> Result<Verification> {
    // Reading an object then checks that its content hashes to its id.
    git2::opts::strict_hash_verification(true);
    // Commits share most of their trees: each is then read, and hashed, once.
    git2::opts::enable_caching(true);
    let repo = Repository::open(path).map_err(|e| {
        if e.code() == git2::ErrorCode::NotFound {
            return Error::argument(format!(
                "there is no versions repository at {}; check the path",
                path.display()
            ));
        }
        Error::Repository {
            context: format!("cannot open the versions repository {}", path.display()),
            message: e.message().to_string(),
        }
    })?;
    let mut verification = Verification::default();
    check_objects(&repo, &mut verification);
    let tips = check_references(&repo, &mut verification);
    check_history(&repo, &tips, &mut verification);
    Ok(verification)
}

/// Every object in the database reads back and matches its id.
fn check_objects(repo: &Repository, verification: &mut Verification) {
    let Ok(odb) = repo.odb() else {
        verification.problem(
            ProblemKind::CorruptObject,
            None,
            None,
            "the object database cannot be opened".into(),
        );
        return;
    };
    let mut ids = Vec::new();
    let listed = odb.foreach(|id| {
        ids.push(*id);
        true
    });
    if let Err(error) = listed {
        verification.problem(
            ProblemKind::CorruptObject,
            None,
            None,
            format!("the object database cannot be listed: {}", error.message()),
        );
    }
    for id in ids {
        verification.objects += 1;
        match odb.read(id) {
            Ok(object) => {
                let rehashed = Oid::hash_object(object.kind(), object.data());
                if rehashed.ok() != Some(id) {
                    verification.problem(
                        ProblemKind::CorruptObject,
                        None,
                        None,
                        format!("object {id} does not match its content"),
                    );
                }
            }
            Err(error) => verification.problem(
                ProblemKind::CorruptObject,
                None,
                None,
                format!("object {id} cannot be read: {}", error.message()),
            ),
        }
    }
}

/// The commits the references point at; broken references are problems.
fn check_references(repo: &Repository, verification: &mut Verification) -> Vec<Oid> {
    let mut tips = Vec::new();
    let Ok(references) = repo.references() else {
        verification.problem(
            ProblemKind::BrokenReference,
            None,
            None,
            "the references cannot be listed".into(),
        );
        return tips;
    };
    for reference in references {
        let reference = match reference {
            Ok(reference) => reference,
            Err(error) => {
                verification.problem(
                    ProblemKind::BrokenReference,
                    None,
                    None,
                    format!("a reference cannot be read: {}", error.message()),
                );
                continue;
            }
        };
        let name = reference.name().unwrap_or("?").to_string();
        match reference.resolve().and_then(|r| r.peel_to_commit()) {
            Ok(commit) => tips.push(commit.id()),
            Err(error) => verification.problem(
                ProblemKind::BrokenReference,
                None,
                Some(&name),
                format!("{name} does not lead to a commit: {}", error.message()),
            ),
        }
    }
    // An empty repository has no branch yet: nothing to check, nothing wrong.
    if let Ok(head) = repo.head()
        && let Ok(commit) = head.peel_to_commit()
    {
        tips.push(commit.id());
    }
    tips
}

/// A version file path, split: `("Service", "Terms type")`.
fn version_file(path: &str) -> Option<(&str, &str)> {
    let (service, file) = path.split_once('/')?;
    let terms = file.strip_suffix(".md")?;
    (!terms.contains('/')).then_some((service, terms))
}

/// Whether `file` (inside a service folder) is a source of the terms type.
fn is_source_of(file: &str, terms: &str) -> bool {
    let Some(rest) = file.strip_prefix(terms) else {
        return false;
    };
    let stem = rest
        .strip_suffix(".html")
        .or_else(|| rest.strip_suffix(".pdf"));
    matches!(stem, Some("")) || stem.is_some_and(|s| s.starts_with(" #"))
}

fn trailers(message: &str) -> HashMap<&str, Vec<&str>> {
    let mut found: HashMap<&str, Vec<&str>> = HashMap::new();
    for line in message.lines().skip(1) {
        if let Some((key, value)) = line.split_once(": ")
            && !key.is_empty()
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            found.entry(key).or_default().push(value.trim());
        }
    }
    found
}

/// Reads a tree and everything below it once, noting missing objects.
fn walk_tree(
    repo: &Repository,
    tree: Oid,
    seen: &mut HashSet<Oid>,
    commit: Oid,
    verification: &mut Verification,
) {
    let mut pending = vec![tree];
    while let Some(id) = pending.pop() {
        if !seen.insert(id) {
            continue;
        }
        let Ok(tree) = repo.find_tree(id) else {
            verification.problem(
                ProblemKind::MissingObject,
                Some(commit),
                None,
                format!("tree {id} is missing or unreadable"),
            );
            continue;
        };
        for entry in &tree {
            match entry.kind() {
                Some(ObjectType::Tree) => pending.push(entry.id()),
                Some(ObjectType::Blob)
                    if seen.insert(entry.id()) && repo.find_blob(entry.id()).is_err() =>
                {
                    verification.problem(
                        ProblemKind::MissingObject,
                        Some(commit),
                        entry.name().ok(),
                        format!("blob {} is missing or unreadable", entry.id()),
                    );
                }
                _ => {}
            }
        }
    }
}

/// Walks every commit reachable from the tips, oldest first, and checks each version commit.
fn check_history(repo: &Repository, tips: &[Oid], verification: &mut Verification) {
    let Ok(mut walk) = repo.revwalk() else {
        return;
    };
    for tip in tips {
        let _ = walk.push(*tip);
    }
    let _ = walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE);
    let mut seen_objects = HashSet::new();
    let mut last_version_date: HashMap<String, i64> = HashMap::new();
    for oid in walk {
        let oid = match oid {
            Ok(oid) => oid,
            Err(error) => {
                verification.problem(
                    ProblemKind::MissingObject,
                    None,
                    None,
                    format!("history cannot be walked: {}", error.message()),
                );
                break;
            }
        };
        let Ok(commit) = repo.find_commit(oid) else {
            verification.problem(
                ProblemKind::MissingObject,
                Some(oid),
                None,
                format!("commit {oid} is missing or unreadable"),
            );
            continue;
        };
        verification.commits += 1;
        walk_tree(repo, commit.tree_id(), &mut seen_objects, oid, verification);
        let mut parents = Vec::new();
        for index in 0..commit.parent_count() {
            match commit.parent(index) {
                Ok(parent) => parents.push(parent),
                Err(_) => verification.problem(
                    ProblemKind::MissingObject,
                    Some(oid),
                    None,
                    format!(
                        "parent {} is missing",
                        commit
                            .parent_id(index)
                            .map(|id| id.to_string())
                            .unwrap_or_default()
                    ),
                ),
            }
        }
        // Merges are outside OTA's layout (history is linear); their sides are checked.
        if parents.len() > 1 {
            continue;
        }
        check_commit(
            repo,
            &commit,
            parents.first(),
            &mut last_version_date,
            verification,
        );
    }
}

fn format_time(seconds: i64) -> String {
    DateTime::<Utc>::from_timestamp(seconds, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| seconds.to_string())
}

/// The checks of one commit against its parent.
fn check_commit(
    repo: &Repository,
    commit: &git2::Commit<'_>,
    parent: Option<&git2::Commit<'_>>,
    last_version_date: &mut HashMap<String, i64>,
    verification: &mut Verification,
) {
    let oid = commit.id();
    let (Ok(tree), parent_tree) = (commit.tree(), parent.map(git2::Commit::tree)) else {
        return;
    };
    let parent_tree = match parent_tree {
        Some(Ok(tree)) => Some(tree),
        Some(Err(_)) => return,
        None => None,
    };
    let Ok(diff) = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), None) else {
        verification.problem(
            ProblemKind::MissingObject,
            Some(oid),
            None,
            "cannot compare with its parent".into(),
        );
        return;
    };
    let mut versions = Vec::new();
    let mut other_files = Vec::new();
    for delta in diff.deltas() {
        let deleted = delta.status() == git2::Delta::Deleted;
        let file = if deleted {
            delta.old_file()
        } else {
            delta.new_file()
        };
        let Some(path) = file.path().and_then(|p| p.to_str()) else {
            continue;
        };
        // Files at the top (README, LICENSE) and hidden folders (.github) are the
        // repository's, not a document's.
        if !path.contains('/') || path.starts_with('.') {
            continue;
        }
        match version_file(path) {
            Some(_) if deleted => verification.problem(
                ProblemKind::DeletedDocument,
                Some(oid),
                Some(path),
                "deletes the text of a document: its versions must stay in the tree".into(),
            ),
            Some(_) => versions.push((path.to_string(), delta.new_file().id())),
            None => other_files.push(path.to_string()),
        }
    }
    if versions.is_empty() && other_files.is_empty() {
        return;
    }
    let message = commit.message().unwrap_or("");
    if versions.is_empty() {
        verification.problem(
            ProblemKind::NoVersion,
            Some(oid),
            other_files.first().map(String::as_str),
            format!(
                "changes {} file(s) of a service without recording a version",
                other_files.len()
            ),
        );
        return;
    }
    verification.version_commits += 1;
    if versions.len() > 1 {
        let names: Vec<&str> = versions.iter().map(|(p, _)| p.as_str()).collect();
        verification.problem(
            ProblemKind::SeveralDocuments,
            Some(oid),
            None,
            format!("records several documents at once: {}", names.join(", ")),
        );
    }
    let path = &versions[0].0;
    let (service, terms) = version_file(path).unwrap_or_default();
    for other in &other_files {
        let is_own_source = other
            .strip_prefix(service)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|file| is_source_of(file, terms));
        if !is_own_source && versions.len() == 1 {
            verification.problem(
                ProblemKind::UnrelatedFiles,
                Some(oid),
                Some(other),
                format!("also changes {other}, which is not a source of {path}"),
            );
        }
    }
    for (path, blob) in &versions {
        if let Ok(content) = repo.find_blob(*blob)
            && String::from_utf8_lossy(content.content()).trim().is_empty()
        {
            verification.problem(
                ProblemKind::EmptyVersion,
                Some(oid),
                Some(path),
                "the recorded text is empty".into(),
            );
        }
        let time = commit.time().seconds();
        if let Some(previous) = last_version_date.insert(path.clone(), time)
            && previous > time
        {
            verification.problem(
                ProblemKind::DateGoesBack,
                Some(oid),
                Some(path),
                format!(
                    "version dated {} comes after one dated {}",
                    format_time(time),
                    format_time(previous)
                ),
            );
        }
    }
    check_trailers(
        repo,
        commit,
        &tree,
        service,
        terms,
        path,
        message,
        verification,
    );
}

/// Trailers and sources of a version commit, by the engine that recorded it.
#[allow(clippy::too_many_arguments)]
fn check_trailers(
    repo: &Repository,
    commit: &git2::Commit<'_>,
    tree: &git2::Tree<'_>,
    service: &str,
    terms: &str,
    path: &str,
    message: &str,
    verification: &mut Verification,
) {
    let oid = commit.id();
    let trailers = trailers(message);
    let is_policydiff = trailers
        .get("Engine")
        .is_some_and(|v| v.iter().any(|e| e.starts_with("policydiff")));
    if !is_policydiff {
        // OTA's engine signs with `X-engine-version`; its versions before that trailer existed
        // (2022 to 2025) say "This version was recorded after filtering snapshot …" (or
        // "extracting from", "… and assembling the following snapshots") in the body.
        let signed_by_ota = trailers.contains_key("X-engine-version")
            || message
                .lines()
                .any(|line| line.starts_with("This version was recorded after "));
        if !signed_by_ota {
            verification.problem(
                ProblemKind::UnknownEngine,
                Some(oid),
                Some(path),
                "no `Engine:` or `X-engine-version:` trailer: nothing says what recorded this version".into(),
            );
        }
        return;
    }
    let mut missing = |name: &str| {
        if !trailers.contains_key(name) {
            verification.problem(
                ProblemKind::MissingTrailer,
                Some(oid),
                Some(path),
                format!("no `{name}:` trailer"),
            );
        }
    };
    missing("Source-URL");
    missing("Fetched-At");
    missing("Declaration-SHA256");
    for url in trailers.get("Source-URL").into_iter().flatten() {
        if url::Url::parse(url).is_err() {
            verification.problem(
                ProblemKind::MalformedTrailer,
                Some(oid),
                Some(path),
                format!("Source-URL {url:?} is not a URL"),
            );
        }
    }
    for fetched in trailers.get("Fetched-At").into_iter().flatten() {
        match DateTime::parse_from_rfc3339(fetched) {
            Ok(date) if date.timestamp() > commit.time().seconds() => verification.problem(
                ProblemKind::MalformedTrailer,
                Some(oid),
                Some(path),
                format!(
                    "Fetched-At {fetched} is after the commit's date {}",
                    format_time(commit.time().seconds())
                ),
            ),
            Ok(_) => {}
            Err(_) => verification.problem(
                ProblemKind::MalformedTrailer,
                Some(oid),
                Some(path),
                format!("Fetched-At {fetched:?} is not an RFC 3339 date"),
            ),
        }
    }
    for digest in trailers.get("Declaration-SHA256").into_iter().flatten() {
        if digest.len() != 64 || !digest.chars().all(|c| c.is_ascii_hexdigit()) {
            verification.problem(
                ProblemKind::MalformedTrailer,
                Some(oid),
                Some(path),
                format!("Declaration-SHA256 {digest:?} is not 64 hexadecimal digits"),
            );
        }
    }
    let has_source = tree
        .get_name(service)
        .and_then(|entry| repo.find_tree(entry.id()).ok())
        .is_some_and(|folder| {
            folder
                .iter()
                .any(|file| file.name().is_ok_and(|name| is_source_of(name, terms)))
        });
    if !has_source {
        verification.problem(
            ProblemKind::MissingSource,
            Some(oid),
            Some(path),
            format!("no source ({terms}.html, .pdf or a part) beside the version"),
        );
    }
}
