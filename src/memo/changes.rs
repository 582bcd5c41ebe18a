//! Where the changes to draft come from: a change the round recorded (its texts handed over),
//! a change in a versions repository's history (one, or all of them), or two files.

use serde::Serialize;

use super::{Memo, MemoConfig, MemoInput, MemoStore, Stored, draft};
use crate::analyse::Taxonomy;
use crate::record::{VersionChange, VersionKind, VersionsRepository};
use crate::{Error, Result};

/// Drafts the memo of a change recorded in a versions repository (`None` for a first record).
pub fn for_recorded_change(
    repository: &VersionsRepository,
    change: &VersionChange,
    service_name: &str,
    config: &MemoConfig,
    taxonomy: &Taxonomy,
) -> Result<Option<Memo>> {
    let Some((previous_commit, previous_blob)) = change.earlier.first() else {
        return Ok(None);
    };
    let after = repository.blob_text(change.blob)?;
    let before = repository.blob_text(*previous_blob)?;
    let change = ChangeToDraft {
        service: service_name,
        terms_type: &change.document.terms_type,
        date: change.date,
        commit: &change.commit,
        previous_commit,
        kind: change.kind(),
        reverts_to: change.reverts_to(),
        before: &before,
        after: &after,
    };
    Ok(Some(for_change(&change, config, taxonomy)))
}

/// A recorded change, as drafting is handed it: both texts and what recording decided.
#[derive(Debug, Clone, Copy)]
pub struct ChangeToDraft<'a> {
    /// The service's name.
    pub service: &'a str,
    /// The terms type.
    pub terms_type: &'a str,
    /// The commit's date.
    pub date: chrono::DateTime<chrono::Utc>,
    /// The commit of the new version.
    pub commit: &'a str,
    /// The commit of the version it replaces.
    pub previous_commit: &'a str,
    /// The version's kind, as recording decided it.
    pub kind: VersionKind,
    /// For a revert, the earlier commit whose text came back.
    pub reverts_to: Option<&'a str>,
    /// The text it replaces.
    pub before: &'a str,
    /// The new text.
    pub after: &'a str,
}

/// Drafts the memo of a recorded change from the texts it is handed (nothing is read from the
/// repository).
pub fn for_change(change: &ChangeToDraft<'_>, config: &MemoConfig, taxonomy: &Taxonomy) -> Memo {
    let analysis = crate::analyse::analyse(
        Some(change.before),
        change.after,
        change.reverts_to,
        change.kind == VersionKind::TechnicalUpgrade,
        taxonomy,
    );
    let date = change.date.format("%Y-%m-%d").to_string();
    let input = MemoInput {
        service: change.service,
        terms_type: change.terms_type,
        date: &date,
        commit: Some(change.commit),
        previous_commit: Some(change.previous_commit),
        before: Some(change.before),
        after: change.after,
    };
    draft(&input, &analysis, config, taxonomy)
}

/// Drafts the memo of the change between two texts that are not in a repository (no commit
/// is named, no revert can be known).
pub fn for_texts(
    before: &str,
    after: &str,
    service: &str,
    terms_type: &str,
    date: &str,
    config: &MemoConfig,
) -> Memo {
    let taxonomy = Taxonomy::with_additions(&config.topics);
    let analysis = crate::analyse::analyse(Some(before), after, None, false, &taxonomy);
    let input = MemoInput {
        service,
        terms_type,
        date,
        commit: None,
        previous_commit: None,
        before: Some(before),
        after,
    };
    draft(&input, &analysis, config, &taxonomy)
}

/// What [`draft_all`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    /// Changes analysed (first records have no memo).
    pub analysed: usize,
    /// Memos written.
    pub written: usize,
    /// Reviewed memos kept as they are.
    pub kept_reviewed: usize,
}

/// Drafts the memo of every change of a repository in OTA's layout (those recorded at or after
/// `since`, when given) into `store`. Services are named by their ids.
///
/// Memos are drafted on every core (each thread with its own handle on the repository), in
/// batches, and written in history order by this thread: the same repository gives the same
/// files, whatever the number of cores.
pub fn draft_all(
    repository: &VersionsRepository,
    since: Option<chrono::DateTime<chrono::Utc>>,
    config: &MemoConfig,
    store: &MemoStore,
) -> Result<BatchSummary> {
    const BATCH: usize = 512;
    let taxonomy = Taxonomy::with_additions(&config.topics);
    let changes = repository.version_changes(since)?;
    let workers = std::thread::available_parallelism()
        .map(std::num::NonZero::get)
        .unwrap_or(1)
        .clamp(1, 8);
    let path = repository.path().to_path_buf();
    let mut summary = BatchSummary::default();
    for batch in changes.chunks(BATCH) {
        let share = batch.len().div_ceil(workers);
        let drafted: Vec<Result<Vec<Option<Memo>>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .chunks(share.max(1))
                .map(|part| {
                    let (taxonomy, path) = (&taxonomy, &path);
                    scope.spawn(move || -> Result<Vec<Option<Memo>>> {
                        let own = VersionsRepository::open(path)?;
                        part.iter()
                            .map(|change| {
                                for_recorded_change(
                                    &own,
                                    change,
                                    &change.document.service,
                                    config,
                                    taxonomy,
                                )
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        Err(Error::internal("drafting memos", "a thread panicked"))
                    })
                })
                .collect()
        });
        let mut memos = Vec::with_capacity(batch.len());
        for part in drafted {
            memos.extend(part?);
        }
        for (change, memo) in batch.iter().zip(memos) {
            let Some(memo) = memo else {
                continue;
            };
            summary.analysed += 1;
            match store.write(&memo, &change.document)? {
                Stored::Written(_) => summary.written += 1,
                Stored::KeptReviewed(_) => summary.kept_reviewed += 1,
            }
        }
    }
    Ok(summary)
}

/// Drafts the memo of one document's change: the one recorded by `commit` (any revision git
/// understands), else the latest.
pub fn draft_for_document(
    repository: &VersionsRepository,
    service_id: &str,
    terms_type: &str,
    commit: Option<&str>,
    config: &MemoConfig,
) -> Result<Memo> {
    let taxonomy = Taxonomy::with_additions(&config.topics);
    let wanted = commit.map(|c| repository.resolve(c)).transpose()?;
    let changes = repository.document_changes(service_id, terms_type)?;
    let change = changes
        .iter()
        .rev()
        .find(|c| wanted.as_ref().is_none_or(|w| &c.commit == w))
        .ok_or_else(|| {
            Error::argument(match &wanted {
                Some(commit) => {
                    format!("commit {commit} records no version of {service_id} {terms_type}")
                }
                None => format!(
                    "{} holds no version of {service_id} {terms_type}",
                    repository.path().display()
                ),
            })
        })?;
    for_recorded_change(repository, change, service_id, config, &taxonomy)?.ok_or_else(|| {
        Error::argument(format!(
            "commit {} is the first record of {service_id} {terms_type}: there is no change to describe",
            change.commit
        ))
    })
}
