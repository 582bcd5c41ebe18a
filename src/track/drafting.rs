//! Drafting memos beside the recording, so that analysis never delays the next commit.
//!
//! [`Drafting::start`] starts drafting threads (one per core, at most [`MAX_DRAFTERS`]), each
//! with its own handle on the versions repository; the round hands them each change it records
//! ([`Drafting::submit`]) and goes on recording. A thread drafts the change's memo, works out
//! which policy facts it changed (logged and said in the memo), and sends back a [`Drafted`]:
//! the version's kind as history tells it (a revert is known only there) and the memo's file.
//! The round collects what is ready after each document ([`Drafting::ready`]) and the rest at
//! its end ([`Drafting::finish`]).
//!
//! A change goes to the thread chosen by its memo's file name (service and terms type), so that
//! two threads never pick a file name at the same time. A thread makes the topics, the fact
//! rules and the memo store once per round, on its first change.

use std::path::PathBuf;

use crate::config::Config;
use crate::facts::rules::Rules;
use crate::memo::MemoStore;
use crate::record::{self, VersionKind, VersionsRepository};
use crate::{Error, Result};

/// A recorded change to draft a memo for.
pub(super) struct DraftJob {
    /// The round's own number for the document, to match the answer with its report.
    pub ticket: usize,
    pub service_id: String,
    pub service_name: String,
    pub terms_type: String,
    pub recorded: record::Recorded,
}

/// What drafting a change gave.
pub(super) struct Drafted {
    pub ticket: usize,
    /// The version's kind and the memo written (none when a reviewed memo is kept as it is).
    pub outcome: Result<(VersionKind, Option<PathBuf>)>,
}

/// Drafting threads of a round, at most (analysis is CPU-bound: more threads than cores only
/// take time from fetching and recording).
pub(super) const MAX_DRAFTERS: usize = 4;

/// The drafting threads of a round.
pub(super) struct Drafting {
    jobs: Vec<std::sync::mpsc::Sender<DraftJob>>,
    drafted: tokio::sync::mpsc::UnboundedReceiver<Drafted>,
    threads: Vec<std::thread::JoinHandle<()>>,
    pending: usize,
}

impl Drafting {
    /// Starts the threads; each opens its own handle on the repository at `config.snapshots`.
    pub fn start(config: &Config) -> Result<Drafting> {
        let (send_drafted, drafted) = tokio::sync::mpsc::unbounded_channel();
        let count = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_DRAFTERS);
        let mut jobs = Vec::with_capacity(count);
        let mut threads = Vec::with_capacity(count);
        for number in 0..count {
            let (send_jobs, receive_jobs) = std::sync::mpsc::channel::<DraftJob>();
            let send_drafted = send_drafted.clone();
            let config = config.clone();
            let thread = std::thread::Builder::new()
                .name(format!("draft-{number}"))
                .spawn(move || {
                    // Made on the first change: a round with few changes starts few drafters.
                    let mut drafter: Option<Result<Drafter>> = None;
                    for job in receive_jobs {
                        let drafter = drafter.get_or_insert_with(|| {
                            VersionsRepository::open(&config.snapshots)
                                .map(|repository| Drafter::new(&config, repository))
                        });
                        let outcome = match drafter {
                            Ok(drafter) => drafter.draft(&job),
                            Err(error) => {
                                Err(Error::internal("drafting a memo", error.to_string()))
                            }
                        };
                        if send_drafted
                            .send(Drafted {
                                ticket: job.ticket,
                                outcome,
                            })
                            .is_err()
                        {
                            break;
                        }
                    }
                })
                .map_err(|e| Error::internal("starting a drafting thread", e))?;
            jobs.push(send_jobs);
            threads.push(thread);
        }
        Ok(Drafting {
            jobs,
            drafted,
            threads,
            pending: 0,
        })
    }

    /// Hands a recorded change to the thread that drafts its memo's file name.
    pub fn submit(&mut self, job: DraftJob) {
        let ticket = job.ticket;
        let thread = {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            (
                crate::memo::slug(&job.service_id),
                crate::memo::slug(&job.terms_type),
            )
                .hash(&mut hasher);
            hasher.finish() as usize % self.jobs.len().max(1)
        };
        let sent = self
            .jobs
            .get(thread)
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if sent {
            self.pending += 1;
        } else {
            tracing::warn!(
                ticket,
                "the drafting thread has stopped: no memo for this change"
            );
        }
    }

    /// The drafts finished so far, without waiting.
    pub fn ready(&mut self) -> Vec<Drafted> {
        let mut ready = Vec::new();
        while let Ok(drafted) = self.drafted.try_recv() {
            self.pending -= 1;
            ready.push(drafted);
        }
        ready
    }

    /// Waits for every draft handed in, and for the threads to end.
    pub async fn finish(mut self) -> Vec<Drafted> {
        self.jobs.clear();
        let mut rest = Vec::new();
        while self.pending > 0 {
            match self.drafted.recv().await {
                Some(drafted) => {
                    self.pending -= 1;
                    rest.push(drafted);
                }
                None => break,
            }
        }
        let threads = std::mem::take(&mut self.threads);
        // A thread ends once its job channel is closed and its last job answered.
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
        rest
    }
}

/// Drafts memos of one repository with the round's configuration.
struct Drafter {
    repository: VersionsRepository,
    config: Config,
    taxonomy: crate::analyse::Taxonomy,
    /// The fact rules, or why they cannot be read (then facts are not updated, memos still are).
    rules: std::result::Result<Rules, String>,
    store: MemoStore,
}

impl Drafter {
    fn new(config: &Config, repository: VersionsRepository) -> Drafter {
        Drafter {
            repository,
            taxonomy: crate::analyse::Taxonomy::with_additions(&config.memos.topics),
            rules: Rules::with_additions(&config.facts).map_err(|e| e.to_string()),
            store: MemoStore::new(&config.memos.dir),
            config: config.clone(),
        }
    }

    /// Drafts the memo of a change just recorded and keeps it in the memo store; returns the
    /// version's kind as history tells it and the memo's file.
    fn draft(&self, job: &DraftJob) -> Result<(VersionKind, Option<PathBuf>)> {
        let changes = self
            .repository
            .document_changes(&job.service_id, &job.terms_type)?;
        let change = changes
            .iter()
            .rev()
            .find(|change| change.commit == job.recorded.commit)
            .ok_or_else(|| {
                Error::internal(
                    "drafting a memo",
                    format!(
                        "commit {} is not in the document's history",
                        job.recorded.commit
                    ),
                )
            })?;
        let memo = crate::memo::for_recorded_change(
            &self.repository,
            change,
            &job.service_name,
            &self.config.memos,
            &self.taxonomy,
        )?;
        // The policy facts this change changed: logged for the feed and notifications, and said
        // in the memo. A fact that cannot be computed never stops the memo.
        let fact_changes = self
            .rules
            .as_ref()
            .map_err(|e| Error::argument(format!("facts: {e}")))
            .and_then(|rules| {
                crate::facts::changes_at_commit(
                    &self.repository,
                    &job.service_id,
                    rules,
                    &job.recorded.commit,
                )
            })
            .unwrap_or_else(|error| {
                tracing::warn!(service = %job.service_id, "policy facts not updated: {error}");
                Vec::new()
            });
        if !fact_changes.is_empty()
            && let Err(error) =
                crate::facts::FactLog::in_dir(&self.config.memos.dir).append(&fact_changes)
        {
            tracing::warn!("policy fact changes not logged: {error}");
        }
        let path = match memo {
            Some(mut memo) => {
                memo.mention_fact_changes(&fact_changes, &job.terms_type);
                self.store
                    .write(&memo, &job.service_id, &job.terms_type)?
                    .written()
            }
            None => None,
        };
        Ok((change.kind(), path))
    }
}
