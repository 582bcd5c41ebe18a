//! Drafting memos beside the recording, so that analysis never delays the next commit.
//!
//! [`Drafting::start`] starts one drafting thread, with its own handle on the versions
//! repository, and more (one per core, at most [`MAX_DRAFTERS`]) while changes wait for one in
//! numbers ([`BACKLOG_PER_DRAFTER`]): a round of few changes keeps one thread's memory, a round
//! of many drafts on every core. The round hands them each change it records
//! ([`Drafting::submit`]) with both texts and the kind recording decided, and goes on
//! recording. A thread drafts the change's memo from those texts (it reads from history only
//! the commit of the version replaced), works out which policy facts it changed (logged and
//! said in the memo), and sends back a [`Drafted`]: the memo as written and the fact changes.
//! The round collects what is ready after each document ([`Drafting::ready`]) and the rest at
//! its end ([`Drafting::finish`]); it asks [`Drafting::is_idle`] to hand changes over sooner
//! when the threads have nothing to do.
//!
//! The threads share one queue: a free thread takes the oldest change whose memo file (service
//! and terms type) no other thread is writing, so that two threads never pick a file name at
//! the same time, and no thread idles while another has a backlog. The topics and the fact
//! rules are compiled once per round, when the first change comes, and shared by the threads
//! (each keeps its own search caches).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use crate::config::Config;
use crate::declaration::DocumentId;
use crate::facts::FactChange;
use crate::facts::rules::Rules;
use crate::memo::{MemoStore, MemoSummary, StoredMemo};
use crate::record::{self, VersionsRepository};
use crate::{Error, Result};

/// A recorded change to draft a memo for.
pub(super) struct DraftJob {
    /// The round's own number for the document, to match the answer with its report.
    pub ticket: usize,
    pub document: DocumentId,
    pub service_name: String,
    pub recorded: record::Recorded,
    /// The text the change replaced and the new text (none for a first record: no memo).
    pub texts: Option<(String, String)>,
}

impl DraftJob {
    /// The memo file the job writes: its service and terms type, as the file is named.
    fn memo_file(&self) -> (String, String) {
        (
            crate::memo::slug(&self.document.service),
            crate::memo::slug(&self.document.terms_type),
        )
    }
}

/// What drafting a change gave.
pub(super) struct Drafted {
    pub ticket: usize,
    /// What the change gave, or why no memo was drafted.
    pub outcome: Result<DraftOutcome>,
}

/// What drafting a change gave.
pub(super) struct DraftOutcome {
    /// The memo written (none when a reviewed memo is kept as it is).
    pub memo: Option<MemoSummary>,
    /// The policy facts whose answer the change changed.
    pub fact_changes: Vec<FactChange>,
}

/// Drafting threads of a round, at most (analysis is CPU-bound: more threads than cores only
/// take time from fetching and recording).
pub(super) const MAX_DRAFTERS: usize = 4;

/// Changes waiting per drafting thread beyond which the round starts another (a thread drafts
/// a change in a few milliseconds; a new one costs its own search caches, a few MB).
pub(super) const BACKLOG_PER_DRAFTER: usize = 16;

/// The changes waiting to be drafted, and the memo files being written.
#[derive(Default)]
struct Queue {
    waiting: VecDeque<DraftJob>,
    /// Memo files a thread is drafting now.
    writing: Vec<(String, String)>,
    /// No more jobs will come: the threads end once the queue is empty.
    closed: bool,
}

impl Queue {
    /// The oldest waiting job whose memo file no thread is writing.
    fn take(&mut self) -> Option<DraftJob> {
        let at = self
            .waiting
            .iter()
            .position(|job| !self.writing.contains(&job.memo_file()))?;
        let job = self.waiting.remove(at)?;
        self.writing.push(job.memo_file());
        Some(job)
    }
}

/// The queue and the signal that it changed, shared by the round and its threads.
type SharedQueue = (Mutex<Queue>, Condvar);

/// The topics and fact rules of a round, compiled once and shared by its drafting threads.
struct Analysis {
    taxonomy: crate::analyse::Taxonomy,
    /// The fact rules, or why they cannot be read (then facts are not updated, memos still are).
    rules: std::result::Result<Rules, String>,
}

impl Analysis {
    /// The topics and fact rules `config` gives.
    fn of(config: &Config) -> Analysis {
        Analysis {
            taxonomy: crate::analyse::Taxonomy::with_additions(&config.memos.topics),
            rules: Rules::with_additions(&config.facts).map_err(|e| e.to_string()),
        }
    }
}

/// What every drafting thread of a round starts from.
struct Shared {
    config: Config,
    queue: SharedQueue,
    analysis: std::sync::OnceLock<Analysis>,
}

/// The drafting threads of a round.
pub(super) struct Drafting {
    shared: Arc<Shared>,
    /// What a new thread sends its drafts with; dropped at the round's end, so that the
    /// channel closes when the last thread ends (even one that failed).
    send_drafted: Option<tokio::sync::mpsc::UnboundedSender<Drafted>>,
    drafted: tokio::sync::mpsc::UnboundedReceiver<Drafted>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// Threads the round may run, at most.
    most: usize,
    pending: usize,
}

impl Drafting {
    /// Starts the first thread; each opens its own handle on the repository at
    /// `config.snapshots`.
    pub(super) fn start(config: &Config) -> Result<Drafting> {
        let (send_drafted, drafted) = tokio::sync::mpsc::unbounded_channel();
        let mut drafting = Drafting {
            shared: Arc::new(Shared {
                config: config.clone(),
                queue: SharedQueue::default(),
                analysis: std::sync::OnceLock::new(),
            }),
            send_drafted: Some(send_drafted),
            drafted,
            threads: Vec::new(),
            most: std::thread::available_parallelism()
                .map_or(1, std::num::NonZero::get)
                .clamp(1, MAX_DRAFTERS),
            pending: 0,
        };
        drafting.start_thread()?;
        Ok(drafting)
    }

    /// Starts one more drafting thread.
    fn start_thread(&mut self) -> Result<()> {
        let shared = self.shared.clone();
        let send_drafted = self
            .send_drafted
            .clone()
            .ok_or_else(|| Error::internal("starting a drafting thread", "the round has ended"))?;
        let thread = std::thread::Builder::new()
            .name(format!("draft-{}", self.threads.len()))
            .spawn(move || draft_until_closed(&shared, &send_drafted))
            .map_err(|e| Error::internal("starting a drafting thread", e))?;
        self.threads.push(thread);
        Ok(())
    }

    /// Hands a recorded change to the first free thread that may write its memo's file.
    pub(super) fn submit(&mut self, job: DraftJob) {
        let waiting = {
            let (queue, changed) = &self.shared.queue;
            let Ok(mut queue) = queue.lock() else {
                tracing::warn!(
                    ticket = job.ticket,
                    "the drafting threads have stopped: no memo for this change"
                );
                return;
            };
            queue.waiting.push_back(job);
            changed.notify_all();
            queue.waiting.len()
        };
        self.pending += 1;
        if waiting > self.threads.len() * BACKLOG_PER_DRAFTER
            && self.threads.len() < self.most
            && let Err(error) = self.start_thread()
        {
            tracing::warn!("drafting goes on with fewer threads: {error}");
        }
    }

    /// Whether every thread is waiting for work: nothing queued, nothing being drafted.
    pub(super) fn is_idle(&self) -> bool {
        self.shared
            .queue
            .0
            .lock()
            .map(|queue| queue.waiting.is_empty() && queue.writing.is_empty())
            .unwrap_or(true)
    }

    /// The drafts finished so far, without waiting.
    pub(super) fn ready(&mut self) -> Vec<Drafted> {
        let mut ready = Vec::new();
        while let Ok(drafted) = self.drafted.try_recv() {
            self.pending -= 1;
            ready.push(drafted);
        }
        ready
    }

    /// Waits for every draft handed in, and for the threads to end.
    pub(super) async fn finish(mut self) -> Vec<Drafted> {
        self.close();
        self.send_drafted = None;
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
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
        rest
    }

    /// No more jobs: each thread ends once the queue is empty.
    fn close(&self) {
        let (queue, changed) = &self.shared.queue;
        if let Ok(mut queue) = queue.lock() {
            queue.closed = true;
        }
        changed.notify_all();
    }
}

impl Drop for Drafting {
    /// A round that ends early (an error) still lets its threads end.
    fn drop(&mut self) {
        self.close();
    }
}

/// A drafting thread: takes jobs from the queue until it is closed and empty, and sends back
/// what each gave.
fn draft_until_closed(shared: &Shared, send_drafted: &tokio::sync::mpsc::UnboundedSender<Drafted>) {
    let (queue, changed) = &shared.queue;
    // Made on the first change: a round with few changes starts few drafters.
    let mut drafter: Option<Result<Drafter>> = None;
    loop {
        let job = {
            let Ok(mut waiting) = queue.lock() else {
                return;
            };
            loop {
                if let Some(job) = waiting.take() {
                    break job;
                }
                if waiting.closed && waiting.waiting.is_empty() {
                    return;
                }
                waiting = match changed.wait(waiting) {
                    Ok(waiting) => waiting,
                    Err(_) => return,
                };
            }
        };
        let drafter = drafter.get_or_insert_with(|| {
            VersionsRepository::open(&shared.config.snapshots).map(|repository| Drafter {
                repository,
                store: MemoStore::new(&shared.config.memos.dir),
            })
        });
        // A panic (a bug) is this change's failure: the thread goes on, and the memo file is
        // released for the others.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match drafter {
            Ok(drafter) => {
                let analysis = shared.analysis.get_or_init(|| Analysis::of(&shared.config));
                drafter.draft(&job, &shared.config, analysis)
            }
            Err(error) => Err(Error::internal("drafting a memo", error.to_string())),
        }))
        .unwrap_or_else(|_| Err(Error::internal("drafting a memo", "the drafting panicked")));
        if let Ok(mut waiting) = queue.lock() {
            let file = job.memo_file();
            waiting.writing.retain(|writing| *writing != file);
        }
        // Another thread may be waiting for this memo file.
        changed.notify_all();
        let sent = send_drafted.send(Drafted {
            ticket: job.ticket,
            outcome,
        });
        if sent.is_err() {
            return;
        }
    }
}

/// A drafting thread's own handle on the repository, and the memo store it writes.
struct Drafter {
    repository: VersionsRepository,
    store: MemoStore,
}

impl Drafter {
    /// Drafts the memo of a change just recorded, from the texts the round hands over, and keeps
    /// it in the memo store; works out the policy facts the change changed.
    fn draft(&self, job: &DraftJob, config: &Config, analysis: &Analysis) -> Result<DraftOutcome> {
        let recorded = &job.recorded;
        let Some((before, after)) = &job.texts else {
            return Err(Error::internal(
                "drafting a memo",
                "a first record has no change to draft",
            ));
        };
        // History names the version replaced (its commit is the memo's reference); the texts
        // and the kind are those the round recorded.
        let previous_commit = self
            .repository
            .replaced_commit(
                &job.document.service,
                &job.document.terms_type,
                &recorded.commit,
            )?
            .ok_or_else(|| {
                Error::internal(
                    "drafting a memo",
                    format!("commit {} replaces no version", recorded.commit),
                )
            })?;
        let memo = crate::memo::for_change(
            &crate::memo::ChangeToDraft {
                service: &job.service_name,
                terms_type: &job.document.terms_type,
                date: recorded.date,
                commit: &recorded.commit,
                previous_commit: &previous_commit,
                kind: recorded.kind,
                reverts_to: recorded.reverts_to.as_deref(),
                before,
                after,
            },
            &config.memos,
            &analysis.taxonomy,
        );
        // The policy facts this change changed: logged for the feed and notifications, and said
        // in the memo. A fact that cannot be computed never stops the memo.
        let fact_changes = analysis
            .rules
            .as_ref()
            .map_err(|e| Error::argument(format!("facts: {e}")))
            .and_then(|rules| {
                crate::facts::changes_at_commit(
                    &self.repository,
                    &job.document.service,
                    rules,
                    &job.recorded.commit,
                )
            })
            .unwrap_or_else(|error| {
                tracing::warn!(service = %job.document.service, "policy facts not updated: {error}");
                Vec::new()
            });
        if !fact_changes.is_empty()
            && let Err(error) =
                crate::facts::FactLog::in_dir(&config.memos.dir).append(&fact_changes)
        {
            tracing::warn!("policy fact changes not logged: {error}");
        }
        let mut memo = memo;
        memo.mention_fact_changes(&fact_changes, &job.document.terms_type);
        let memo = self
            .store
            .write_draft(&memo, &job.document)?
            .map(StoredMemo::into_summary);
        Ok(DraftOutcome { memo, fact_changes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(ticket: usize, service: &str, terms_type: &str) -> DraftJob {
        DraftJob {
            ticket,
            document: DocumentId::new(service, terms_type),
            service_name: service.into(),
            recorded: record::Recorded {
                commit: format!("{ticket:040}"),
                kind: record::VersionKind::NewChanges,
                reverts_to: None,
                date: chrono::Utc::now(),
            },
            texts: None,
        }
    }

    #[test]
    fn a_free_thread_takes_the_oldest_change_whose_memo_file_no_one_is_writing() {
        let mut queue = Queue::default();
        queue.waiting.push_back(job(1, "Meta", "Privacy Policy"));
        queue.waiting.push_back(job(2, "Meta", "Privacy Policy"));
        queue
            .waiting
            .push_back(job(3, "OpenAI", "Terms of Service"));
        // Two threads: the second skips the change whose memo file the first is writing.
        assert_eq!(queue.take().map(|j| j.ticket), Some(1));
        assert_eq!(queue.take().map(|j| j.ticket), Some(3));
        // A third finds only that change: it waits.
        assert!(queue.take().is_none());
        // Once the first memo is written, its file's next change is free.
        let file = job(1, "Meta", "Privacy Policy").memo_file();
        queue.writing.retain(|writing| *writing != file);
        assert_eq!(queue.take().map(|j| j.ticket), Some(2));
        assert!(queue.waiting.is_empty());
    }
}
