//! Drafting memos beside the recording, so that analysis never delays the next commit.
//!
//! [`Drafting::start`] starts one thread with its own handle on the versions repository; the
//! round hands it each change it records ([`Drafting::submit`]) and goes on recording. The
//! thread drafts the change's memo, works out which policy facts it changed (logged and said in
//! the memo), and sends back a [`Drafted`]: the version's kind as history tells it (a revert is
//! known only there) and the memo's file. The round collects what is ready after each document
//! ([`Drafting::ready`]) and the rest at its end ([`Drafting::finish`]).
//!
//! The topics, the fact rules and the memo store are made once per round, not once per change.

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

/// The drafting thread of a round.
pub(super) struct Drafting {
    jobs: Option<std::sync::mpsc::Sender<DraftJob>>,
    drafted: tokio::sync::mpsc::UnboundedReceiver<Drafted>,
    thread: Option<std::thread::JoinHandle<()>>,
    pending: usize,
}

impl Drafting {
    /// Starts the thread; it opens its own handle on the repository at `config.snapshots`.
    pub fn start(config: &Config) -> Result<Drafting> {
        let (jobs, receive_jobs) = std::sync::mpsc::channel::<DraftJob>();
        let (send_drafted, drafted) = tokio::sync::mpsc::unbounded_channel();
        let config = config.clone();
        let thread = std::thread::Builder::new()
            .name("draft".into())
            .spawn(move || {
                let drafter = VersionsRepository::open(&config.snapshots)
                    .map(|repository| Drafter::new(&config, repository));
                for job in receive_jobs {
                    let outcome = match &drafter {
                        Ok(drafter) => drafter.draft(&job),
                        Err(error) => Err(Error::internal("drafting a memo", error.to_string())),
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
            .map_err(|e| Error::internal("starting the drafting thread", e))?;
        Ok(Drafting {
            jobs: Some(jobs),
            drafted,
            thread: Some(thread),
            pending: 0,
        })
    }

    /// Hands a recorded change to the thread.
    pub fn submit(&mut self, job: DraftJob) {
        let ticket = job.ticket;
        let sent = self
            .jobs
            .as_ref()
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

    /// Waits for every draft handed in, and for the thread to end.
    pub async fn finish(mut self) -> Vec<Drafted> {
        self.jobs = None;
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
        if let Some(thread) = self.thread.take() {
            // The thread ends once the job channel is closed and its last job answered.
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
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
