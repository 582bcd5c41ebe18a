//! One tracking round: fetch → extract → record, for every declared document.
//!
//! [`track`] loads the declarations, takes the versions repository's lock, and
//! runs each document through the stages: sources are fetched concurrently
//! (`fetch.concurrency` documents at once, the fetcher's per-host limits
//! inside), extracted on blocking threads, and recorded by one writer, in the
//! order documents finish; its commits reach the disk a batch at a time (one pack,
//! then the branch moves; within half a second for changes to draft, five seconds
//! for first records), and a document is recorded — reported, drafted — once its
//! batch is written. Each document ends as a [`DocumentReport`]; a failure
//! is a status and a class, never a recorded version and never the end of the
//! round. A recorded change gets its memo ([`crate::memo`], kept in the
//! [`crate::memo::MemoStore`]) from a drafting thread, so that analysis never
//! delays the next commit; its report is told once the memo is drafted. The
//! [`RunReport`] is appended to `<state>/runs.jsonl` and returned: tracking knows
//! nothing of notifications, which the caller sends (see [`crate::report::Sink`]).
//!
//! The modules: `selection` picks the declared documents a round tracks; `guards`
//! holds back suspicious shrinks and tells technical upgrades from real changes;
//! `drafting` drafts memos and updates policy facts beside the recording.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use crate::config::Config;
use crate::declaration::{DocumentId, SourceDocument, Terms};
use crate::extract;
use crate::fetch::{Fetched, SourceFetcher};
use crate::record::{self, NewVersion, PendingCommits, SourceFile, VersionsRepository};
use crate::report::{DocumentReport, DocumentStatus, RunReport, Sink};
use crate::{Error, Result};

mod drafting;
mod guards;
mod same_sources;
mod selection;

use drafting::{DraftJob, Drafted, Drafting};
use guards::{HeldBack, is_technical_upgrade};
use same_sources::{Extraction, SourceMemory};
pub use selection::selected;
use selection::{Document, Selection, select_documents};

/// What fetching and extracting produced.
struct Prepared {
    /// The extracted text; `None` when the sources are the very bytes the recorded text was
    /// extracted from (nothing extracted: the document is unchanged).
    text: Option<String>,
    parts: Vec<(SourceDocument, Fetched)>,
    fetched_at: DateTime<Utc>,
    /// The text's blob id, worked out by the extraction thread.
    text_id: Option<git2::Oid>,
    /// The version's blobs, written by the extraction thread when the text is new.
    written: Option<record::WrittenBlobs>,
    /// What the extraction started from and gave, remembered for the next rounds.
    extraction: Option<Extraction>,
    /// Whether the recorded sources give the new text too (a technical upgrade), found by the
    /// extraction thread when the text differs from the recorded one.
    technical: Option<bool>,
}

impl Prepared {
    /// Sources that are the very bytes the recorded text was extracted from: nothing to extract.
    fn same_sources(parts: Vec<(SourceDocument, Fetched)>, fetched_at: DateTime<Utc>) -> Self {
        Prepared {
            text: None,
            parts,
            fetched_at,
            text_id: None,
            written: None,
            extraction: None,
            technical: None,
        }
    }
}

/// Runs one round over the declarations; `sink` sees each document's outcome as it happens,
/// then the round's report (see [`Sink`]).
pub async fn track(
    config: &Config,
    selection: &[String],
    sink: &mut impl Sink,
) -> Result<RunReport> {
    track_until(config, selection, sink, &AtomicBool::new(false)).await
}

/// Runs one round, starting no new document once `stop` is set; documents already fetched are
/// still recorded (the daemon's graceful stop).
pub async fn track_until(
    config: &Config,
    selection: &[String],
    sink: &mut impl Sink,
    stop: &AtomicBool,
) -> Result<RunReport> {
    let started_at = Utc::now();
    let started = Instant::now();
    record::trust_own_objects();
    let Selection {
        documents,
        failed: mut reports,
    } = select_documents(config, selection)?;

    let (mut repository, lock) = VersionsRepository::open_for_round(
        &config.snapshots,
        &config.author.name,
        &config.author.email,
        config.record.working_tree,
    )?;
    for report in &reports {
        sink.document(report);
    }

    // The browser in it is started only if a document needs it; closed at the end of the round.
    let fetcher = Arc::new(SourceFetcher::new(&config.fetch, &config.browser)?);
    let snapshots = Arc::new(config.snapshots.clone());
    let memory = Arc::new(SourceMemory::in_state(&config.state));
    let engine = Arc::new(same_sources::engine());
    let slots = Arc::new(tokio::sync::Semaphore::new(
        std::thread::available_parallelism().map_or(2, usize::from) + 1,
    ));
    let mut remembered: Vec<(DocumentId, Extraction)> = Vec::new();
    let mut prepared = futures_util::stream::iter(documents)
        .take_while(|_| std::future::ready(!stop.load(Ordering::SeqCst)))
        .map(|document| {
            let fetcher = fetcher.clone();
            let extracting = Extracting {
                snapshots: snapshots.clone(),
                memory: memory.clone(),
                engine: engine.clone(),
                slots: slots.clone(),
            };
            let named = document.id.clone();
            // A task of its own, so that reading responses (and looking for challenge pages)
            // runs on the runtime's workers, not on the thread that records.
            let task = tokio::spawn(async move {
                let started = Instant::now();
                let result = prepare(&fetcher, &document, extracting).await;
                (document, result, started)
            });
            async move { task.await.map_err(|error| (named, error)) }
        })
        .buffer_unordered(config.fetch.concurrency);
    let mut drafting = Drafting::start(config)?;
    // Reports of changes whose memo is being drafted, by ticket: told once the draft is back.
    let mut awaiting_draft: Vec<(usize, DocumentReport)> = Vec::new();
    let mut tell = |report: DocumentReport, reports: &mut Vec<DocumentReport>| {
        tracing::info!(
            document = %report.document,
            status = ?report.status,
            class = report.error_class.map(crate::FailureClass::as_str).unwrap_or(""),
            "{}",
            report.error.as_deref().unwrap_or("")
        );
        sink.document(&report);
        reports.push(report);
    };
    let mut ticket = 0;
    // What drafting produced, handed to the sinks with the round's report.
    let mut produced = Produced::default();
    // Commits made but not yet written to disk: recorded (told, drafted) once their batch is.
    let mut unwritten: PendingCommits<(DocumentReport, DraftJob)> = PendingCommits::default();
    loop {
        let next = match unwritten
            .deadline(drafting.is_idle())
            .map(tokio::time::Instant::from_std)
        {
            None => prepared.next().await.map_or(Next::Done, Next::Document),
            Some(deadline) => match tokio::time::timeout_at(deadline, prepared.next()).await {
                Ok(Some(task)) => Next::Document(task),
                Ok(None) => Next::Done,
                Err(_) => Next::BatchDue,
            },
        };
        let done = matches!(next, Next::Done);
        if let Next::Document(task) = next
            && let Some(report) = record_task(
                config,
                &mut repository,
                task,
                &mut remembered,
                &mut unwritten,
            )
        {
            tell(report, &mut reports);
        }
        if done || unwritten.is_due(drafting.is_idle()) {
            for (report, job) in written_batch(&mut unwritten, &mut repository) {
                if let Some(report) =
                    draft_or_tell(report, job, &mut drafting, &mut awaiting_draft, &mut ticket)
                {
                    tell(report, &mut reports);
                }
            }
        }
        for drafted in drafting.ready() {
            if let Some(report) = with_draft(&mut awaiting_draft, drafted, &mut produced) {
                tell(report, &mut reports);
            }
        }
        if done {
            break;
        }
    }
    drop(prepared);
    tracing::debug!("every document recorded after {:?}", started.elapsed());
    let mut memory = Arc::unwrap_or_clone(memory);
    for (document, extraction) in remembered {
        memory.remember(&document, extraction);
    }
    memory.save();
    tracing::debug!("sources seen saved after {:?}", started.elapsed());
    repository.update_working_tree();
    tracing::debug!("working tree updated after {:?}", started.elapsed());
    for drafted in drafting.finish().await {
        if let Some(report) = with_draft(&mut awaiting_draft, drafted, &mut produced) {
            tell(report, &mut reports);
        }
    }
    tracing::debug!("every memo drafted after {:?}", started.elapsed());
    // A change whose draft never came back (the drafting thread failed) is still reported.
    for (_, report) in awaiting_draft.drain(..) {
        tell(report, &mut reports);
    }
    let browser_started = fetcher.browser_started();
    fetcher.close().await;
    if config.record.maintenance && reports.iter().any(|r| r.commit.is_some()) {
        maintain(&config.snapshots).await;
    }

    drop(lock);
    let mut report = RunReport::from_documents(
        started_at,
        started,
        reports,
        stop.load(Ordering::SeqCst),
        browser_started,
    );
    report.memos = produced.memos;
    report.fact_changes = produced.fact_changes;
    sink.round(&mut report).await;
    Ok(report)
}

/// Lets git pack the repository if it judges it should, off the runtime's threads; a failure is
/// logged (the versions are recorded either way).
async fn maintain(snapshots: &std::path::Path) {
    let snapshots = snapshots.to_path_buf();
    let packing = Instant::now();
    match tokio::task::spawn_blocking(move || record::maintain(&snapshots)).await {
        Ok(Ok(())) => tracing::debug!("repository maintenance took {:?}", packing.elapsed()),
        Ok(Err(error)) => tracing::warn!("the repository was not packed: {error}"),
        Err(error) => tracing::warn!("the repository was not packed: {error}"),
    }
}

/// What the round's drafting produced, for its sinks.
#[derive(Default)]
struct Produced {
    memos: Vec<crate::memo::MemoSummary>,
    fact_changes: Vec<crate::facts::FactChange>,
}

/// What the recording loop waits for next.
enum Next<T> {
    /// A document fetched and extracted (or its task's failure).
    Document(T),
    /// The time of the commits waiting for their batch is up.
    BatchDue,
    /// Every document of the round is done.
    Done,
}

/// What a document's task gives: the document, its fetched and extracted text (or why not) and
/// when it started; or, when the task itself failed (panicked), the document's names and why.
type DocumentTask = std::result::Result<
    (Document, Result<Prepared>, Instant),
    (DocumentId, tokio::task::JoinError),
>;

/// A document's fetched and extracted task, recorded: its report, unless it made a commit
/// (then the commit waits in `unwritten` for its batch, and is told once written).
fn record_task(
    config: &Config,
    repository: &mut VersionsRepository,
    task: DocumentTask,
    remembered: &mut Vec<(DocumentId, Extraction)>,
    unwritten: &mut PendingCommits<(DocumentReport, DraftJob)>,
) -> Option<DocumentReport> {
    let (document, result, started) = match task {
        Ok(prepared) => prepared,
        // A task that panicked fails its document alone.
        Err((named, error)) => {
            let error = Error::internal("fetching and extracting the document", error);
            return Some(DocumentReport::failed(named.clone(), &error));
        }
    };
    let mut prepared = match result {
        Ok(prepared) => prepared,
        Err(error) => return Some(failed_after(&document, &error, started)),
    };
    if let Some(extraction) = prepared.extraction.take() {
        remembered.push((document.id.clone(), extraction));
    }
    match record_document(config, repository, &document, prepared, started) {
        (report, Some(recorded)) => {
            let to_draft = recorded.texts.is_some();
            let job = DraftJob {
                ticket: 0,
                document: document.id.clone(),
                service_name: document.service_name.clone(),
                recorded: recorded.recorded,
                texts: recorded.texts,
            };
            unwritten.push((report, job), to_draft);
            None
        }
        (report, None) => Some(report),
    }
}

/// Writes the batch of commits waiting; gives each commit's report and drafting job: recorded,
/// or, when the batch cannot be written, its document failed (nothing recorded; the next round
/// records it).
fn written_batch(
    unwritten: &mut PendingCommits<(DocumentReport, DraftJob)>,
    repository: &mut VersionsRepository,
) -> Vec<(DocumentReport, DraftJob)> {
    let (mut commits, written) = unwritten.write(repository);
    if let Err(error) = &written {
        for (report, job) in &mut commits {
            let duration_ms = report.duration_ms;
            *report = DocumentReport::failed(job.document.clone(), error);
            report.duration_ms = duration_ms;
        }
    }
    commits
}

/// A recorded change goes to drafting (its report is told with its memo); a first record, or a
/// failure, is told at once.
fn draft_or_tell(
    report: DocumentReport,
    mut job: DraftJob,
    drafting: &mut Drafting,
    awaiting_draft: &mut Vec<(usize, DocumentReport)>,
    ticket: &mut usize,
) -> Option<DocumentReport> {
    if report.commit.is_none() || job.texts.is_none() {
        return Some(report);
    }
    *ticket += 1;
    job.ticket = *ticket;
    drafting.submit(job);
    awaiting_draft.push((*ticket, report));
    None
}

fn failed_after(document: &Document, error: &Error, started: Instant) -> DocumentReport {
    let mut report = DocumentReport::failed(document.id.clone(), error);
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}

/// What an extraction thread needs beside the fetched bytes.
struct Extracting {
    snapshots: Arc<PathBuf>,
    memory: Arc<SourceMemory>,
    engine: Arc<String>,
    /// One permit per page extracted at once.
    slots: Arc<tokio::sync::Semaphore>,
}

/// Fetches and extracts a document; when its text is new, the extraction thread also writes
/// its blobs, so that the single recorder is left with trees and the commit. Sources fetched
/// byte for byte as they were when the recorded text was extracted are not extracted again.
async fn prepare(
    fetcher: &SourceFetcher,
    document: &Document,
    extracting: Extracting,
) -> Result<Prepared> {
    let mut parts = Vec::new();
    for source in &document.terms.sources {
        let fetched = fetcher.fetch(source).await?;
        parts.push((source.clone(), fetched));
    }
    let fetched_at = parts
        .iter()
        .map(|(_, f)| f.fetched_at)
        .max()
        .unwrap_or_else(Utc::now);
    let document_id = document.id.clone();
    let declaration = document.declaration_sha256.clone();
    let terms = document.terms.clone();
    // One page more extracted at once than the machine has cores: with one per core, a core
    // stands idle whenever a page is done and the next one's task has yet to be woken. Many
    // more would only share the cores among more pages held in memory at once (a parsed page
    // takes megabytes), and leave the recorder less of them. Fetching goes on meanwhile.
    let slot = extracting
        .slots
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| Error::internal("waiting to extract", e))?;
    tokio::task::spawn_blocking(move || -> Result<Prepared> {
        let _slot = slot;
        let Extracting {
            snapshots,
            memory,
            engine,
            slots: _,
        } = extracting;
        let for_extraction = &parts;
        let mut extraction = Extraction {
            sources: for_extraction
                .iter()
                .map(|(_, fetched)| {
                    use sha2::Digest;
                    (
                        hex::encode(sha2::Sha256::digest(&fetched.bytes)),
                        fetched.content_type.clone(),
                    )
                })
                .collect(),
            declaration,
            engine: engine.to_string(),
            text: String::new(),
        };
        let recorded = record::recorded_blob_id(&snapshots, &document_id);
        let mut declaration_and_engine_unchanged = false;
        if let Some(recorded) = recorded {
            extraction.text = recorded.to_string();
            if memory.gives_recorded_text(&document_id, &extraction) {
                return Ok(Prepared::same_sources(parts, fetched_at));
            }
            declaration_and_engine_unchanged = memory.extracted_with(
                &document_id,
                &extraction.declaration,
                &extraction.engine,
                &extraction.text,
            );
        }
        let text = extract_parts(for_extraction)?;
        let sources: Vec<record::ServedSource> = for_extraction
            .iter()
            .map(|(_, fetched)| record::ServedSource {
                bytes: &fetched.bytes,
                deflated: fetched.deflated.as_ref(),
            })
            .collect();
        let (text_id, written) =
            record::pack_blobs_ahead(&snapshots, &document_id, &text, &sources)?;
        extraction.text = text_id.to_string();
        // A new text (blobs written ahead) of a recorded document: is it the declaration's or
        // the engine's doing? Not when both are those that last gave the recorded text;
        // otherwise re-extracting the recorded sources tells, here rather than on the
        // recording thread.
        let technical = (written.is_some() && recorded.is_some()).then(|| {
            !declaration_and_engine_unchanged
                && guards::gives_recorded_sources(
                    |file| record::read_recorded(&snapshots, file),
                    &document_id.service,
                    &terms,
                    &text,
                )
        });
        Ok(Prepared {
            text: Some(text),
            parts,
            fetched_at,
            text_id: Some(text_id),
            written,
            extraction: Some(extraction),
            technical,
        })
    })
    .await
    .map_err(|e| Error::internal("the extraction thread", e))?
}

fn extract_parts(parts: &[(SourceDocument, Fetched)]) -> Result<String> {
    let texts = parts
        .iter()
        .map(|(source, fetched)| {
            extract::extract(
                &fetched.bytes,
                fetched.content_type.as_deref(),
                &source.fetch,
                source,
            )
            .map(|e| e.markdown)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(extract::combine(&texts))
}

fn source_files(terms: &Terms, parts: &[(SourceDocument, Fetched)]) -> Vec<SourceFile> {
    let is_pdf: Vec<bool> = parts
        .iter()
        .map(|(_, fetched)| extract::is_pdf(&fetched.bytes, fetched.content_type.as_deref()))
        .collect();
    parts
        .iter()
        .zip(record::source_file_names(terms, &is_pdf))
        .map(|((source, fetched), file_name)| SourceFile {
            file_name,
            bytes: fetched.bytes.clone(),
            url: source.fetch.clone(),
            content_type: fetched.content_type.clone(),
        })
        .collect()
}

/// The report of a change awaiting its draft, completed with what drafting gave (`None` for an
/// answer to no waiting change, which drafting never gives).
fn with_draft(
    awaiting: &mut Vec<(usize, DocumentReport)>,
    drafted: Drafted,
    produced: &mut Produced,
) -> Option<DocumentReport> {
    let at = awaiting
        .iter()
        .position(|(ticket, _)| *ticket == drafted.ticket)?;
    let (_, mut report) = awaiting.remove(at);
    match drafted.outcome {
        Ok(outcome) => {
            if let Some(memo) = outcome.memo {
                report.memo = Some(memo.path.display().to_string());
                produced.memos.push(memo);
            }
            produced.fact_changes.extend(outcome.fact_changes);
        }
        Err(error) => {
            tracing::warn!(document = %report.document, "no memo: {error}");
        }
    }
    Some(report)
}

/// A version recorded in the round, with the texts drafting is handed: none for a first record
/// (nothing to draft), else the text replaced and the new one.
struct RecordedVersion {
    recorded: record::Recorded,
    texts: Option<(String, String)>,
}

/// Records a document's new text, if it is new; returns its report and what was recorded.
fn record_document(
    config: &Config,
    repository: &mut VersionsRepository,
    document: &Document,
    mut prepared: Prepared,
    started: Instant,
) -> (DocumentReport, Option<RecordedVersion>) {
    let terms_type = &document.terms.terms_type;
    let mut report = DocumentReport::unchanged(document.id.clone());
    let held = HeldBack::of(&config.state, document);
    let Some(text) = prepared.text.take() else {
        held.clear();
        report.same_source = true;
        report.duration_ms = started.elapsed().as_millis() as u64;
        return (report, None);
    };
    // Unchanged is told by the blob id, without reading the recorded text.
    let unchanged = repository
        .current_blob_id(&document.id.service, terms_type)
        .is_some_and(|id| prepared.text_id == Some(id));
    let current = if unchanged {
        None
    } else {
        repository.current_version(&document.id.service, terms_type)
    };
    if unchanged || current.as_deref() == Some(text.as_str()) {
        held.clear();
        report.duration_ms = started.elapsed().as_millis() as u64;
        return (report, None);
    }
    if let Some(current) = &current
        && let Some(why) = held.check(current, &text, config.record.suspicious_shrink)
    {
        report.status = DocumentStatus::HeldBack;
        report.error = Some(why);
        report.duration_ms = started.elapsed().as_millis() as u64;
        return (report, None);
    }
    held.clear();
    let technical = current.is_some()
        && prepared
            .technical
            .unwrap_or_else(|| is_technical_upgrade(repository, document, &text));
    let version = NewVersion {
        document: document.id.clone(),
        text: &text,
        sources: source_files(&document.terms, &prepared.parts),
        fetched_at: prepared.fetched_at,
        declaration_sha256: document.declaration_sha256.clone(),
        technical,
    };
    let recorded = match repository.record_with(&version, prepared.written) {
        Ok(Some(recorded)) => {
            report.status = recorded.kind.into();
            report.commit = Some(recorded.commit.clone());
            Some(RecordedVersion {
                recorded,
                texts: current.map(|before| (before, text)),
            })
        }
        Ok(None) => None,
        Err(error) => {
            report = DocumentReport::failed(document.id.clone(), &error);
            None
        }
    };
    report.duration_ms = started.elapsed().as_millis() as u64;
    (report, recorded)
}
