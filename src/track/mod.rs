//! One tracking round: fetch → extract → record, for every declared document.
//!
//! [`track`] loads the declarations, takes the versions repository's lock, and
//! runs each document through the stages: sources are fetched concurrently
//! (`fetch.concurrency` documents at once, the fetcher's per-host limits
//! inside), extracted on blocking threads, and recorded by one writer, in the
//! order documents finish. Each document ends as a [`DocumentReport`]; a failure
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
use crate::declaration::{SourceDocument, Terms};
use crate::extract;
use crate::fetch::browser::{BrowserPool, Rendered};
use crate::fetch::{Fetched, Fetcher};
use crate::record::{self, NewVersion, SourceFile, VersionKind, VersionsRepository};
use crate::report::{DocumentReport, DocumentStatus, RunLog, RunReport};
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

/// Runs one round over the declarations; `on_document` sees each outcome as it happens.
pub async fn track(
    config: &Config,
    selection: &[String],
    on_document: &mut (dyn FnMut(&DocumentReport) + Send),
) -> Result<RunReport> {
    track_until(config, selection, on_document, &AtomicBool::new(false)).await
}

/// Runs one round, starting no new document once `stop` is set; documents already fetched are
/// still recorded (the daemon's graceful stop).
pub async fn track_until(
    config: &Config,
    selection: &[String],
    on_document: &mut (dyn FnMut(&DocumentReport) + Send),
    stop: &AtomicBool,
) -> Result<RunReport> {
    let started_at = Utc::now();
    let started = Instant::now();
    record::trust_own_objects();
    let Selection {
        documents,
        failed: mut reports,
    } = select_documents(config, selection)?;

    let mut repository = VersionsRepository::open_or_create(
        &config.snapshots,
        &config.author.name,
        &config.author.email,
    )?;
    let lock = repository.lock()?;
    if !config.record.working_tree {
        repository.without_working_tree();
    }
    repository.sync_working_tree()?;
    for report in &reports {
        on_document(report);
    }

    let fetcher = Arc::new(Fetcher::new(&config.fetch)?);
    // Started only if a document needs it; closed at the end of the round.
    let browsers = Arc::new(BrowserPool::new(&config.browser, &config.fetch));
    let snapshots = Arc::new(config.snapshots.clone());
    let memory = Arc::new(SourceMemory::in_state(&config.state));
    let engine = Arc::new(same_sources::engine());
    let mut remembered: Vec<(String, String, Extraction)> = Vec::new();
    let mut prepared = futures_util::stream::iter(documents)
        .take_while(|_| std::future::ready(!stop.load(Ordering::SeqCst)))
        .map(|document| {
            let fetcher = fetcher.clone();
            let browsers = browsers.clone();
            let extracting = Extracting {
                snapshots: snapshots.clone(),
                memory: memory.clone(),
                engine: engine.clone(),
            };
            let named = (
                document.service_id.clone(),
                document.terms.terms_type.clone(),
            );
            // A task of its own, so that reading responses (and looking for challenge pages)
            // runs on the runtime's workers, not on the thread that records.
            let task = tokio::spawn(async move {
                let started = Instant::now();
                let result = prepare(&fetcher, &browsers, &document, extracting).await;
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
            service = %report.service,
            terms = %report.terms_type,
            status = ?report.status,
            class = report.error_class.map(|c| c.as_str()).unwrap_or(""),
            "{}",
            report.error.as_deref().unwrap_or("")
        );
        on_document(&report);
        reports.push(report);
    };
    let mut ticket = 0;
    while let Some(task) = prepared.next().await {
        let (document, result, started) = match task {
            Ok(prepared) => prepared,
            // A task that panicked fails its document alone.
            Err(((service_id, terms_type), error)) => {
                let error = Error::internal("fetching and extracting the document", error);
                tell(
                    DocumentReport::failed(&service_id, &terms_type, &error),
                    &mut reports,
                );
                continue;
            }
        };
        let report = match result {
            Ok(mut prepared) => {
                if let Some(extraction) = prepared.extraction.take() {
                    remembered.push((
                        document.service_id.clone(),
                        document.terms.terms_type.clone(),
                        extraction,
                    ));
                }
                let (report, recorded) =
                    record_document(config, &mut repository, &document, prepared, started);
                match recorded {
                    Some(recorded) if recorded.kind != VersionKind::FirstRecord => {
                        ticket += 1;
                        drafting.submit(DraftJob {
                            ticket,
                            service_id: document.service_id.clone(),
                            service_name: document.service_name.clone(),
                            terms_type: document.terms.terms_type.clone(),
                            recorded,
                        });
                        awaiting_draft.push((ticket, report));
                        None
                    }
                    _ => Some(report),
                }
            }
            Err(error) => Some(failed_after(&document, &error, started)),
        };
        if let Some(report) = report {
            tell(report, &mut reports);
        }
        for drafted in drafting.ready() {
            if let Some(report) = with_draft(&mut awaiting_draft, drafted) {
                tell(report, &mut reports);
            }
        }
    }
    drop(prepared);
    tracing::debug!("every document recorded after {:?}", started.elapsed());
    let mut memory = Arc::unwrap_or_clone(memory);
    for (service_id, terms_type, extraction) in remembered {
        memory.remember(&service_id, &terms_type, extraction);
    }
    memory.save();
    repository.update_working_tree();
    for drafted in drafting.finish().await {
        if let Some(report) = with_draft(&mut awaiting_draft, drafted) {
            tell(report, &mut reports);
        }
    }
    tracing::debug!("every memo drafted after {:?}", started.elapsed());
    // A change whose draft never came back (the drafting thread failed) is still reported.
    for (_, report) in awaiting_draft.drain(..) {
        tell(report, &mut reports);
    }
    let browser_started = browsers.was_started();
    browsers.close().await;

    drop(lock);
    let mut report = RunReport::from_documents(
        started_at,
        started,
        reports,
        stop.load(Ordering::SeqCst),
        browser_started,
    );
    // Published after recording, so that a slow or failing remote never holds a version back;
    // a round that recorded nothing still pushes what an earlier failed push left.
    if !report.interrupted
        && (report.recorded > 0 || crate::publish::has_unpushed(config.publisher()))
    {
        report.publish = crate::publish::publish(config.publisher())
            .await
            .unwrap_or_else(|error| {
                tracing::warn!("publishing state not kept: {error}");
                None
            });
    }
    RunLog::in_state(&config.state).append(&report)?;
    Ok(report)
}

fn failed_after(document: &Document, error: &Error, started: Instant) -> DocumentReport {
    let mut report =
        DocumentReport::failed(&document.service_id, &document.terms.terms_type, error);
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}

/// What an extraction thread needs beside the fetched bytes.
struct Extracting {
    snapshots: Arc<PathBuf>,
    memory: Arc<SourceMemory>,
    engine: Arc<String>,
}

/// Fetches and extracts a document; when its text is new, the extraction thread also writes
/// its blobs, so that the single recorder is left with trees and the commit. Sources fetched
/// byte for byte as they were when the recorded text was extracted are not extracted again.
async fn prepare(
    fetcher: &Fetcher,
    browsers: &BrowserPool,
    document: &Document,
    extracting: Extracting,
) -> Result<Prepared> {
    let mut parts = Vec::new();
    for source in &document.terms.sources {
        let fetched = fetch_source(fetcher, browsers, source).await?;
        parts.push((source.clone(), fetched));
    }
    let fetched_at = parts
        .iter()
        .map(|(_, f)| f.fetched_at)
        .max()
        .unwrap_or_else(Utc::now);
    let for_extraction = parts.clone();
    let service_id = document.service_id.clone();
    let terms_type = document.terms.terms_type.clone();
    let declaration = document.declaration_sha256.clone();
    let terms = document.terms.clone();
    let (text, text_id, written, extraction, technical) = tokio::task::spawn_blocking(move || {
        let Extracting {
            snapshots,
            memory,
            engine,
        } = extracting;
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
        let recorded = record::recorded_blob_id(&snapshots, &service_id, &terms_type);
        if let Some(recorded) = recorded {
            extraction.text = recorded.to_string();
            if memory.gives_recorded_text(&service_id, &terms_type, &extraction) {
                return Ok((None, None, None, None, None));
            }
        }
        let text = extract_parts(&for_extraction)?;
        let text_id = git2::Oid::hash_object(git2::ObjectType::Blob, text.as_bytes())
            .map_err(|e| Error::internal("hashing the extracted text", e))?;
        extraction.text = text_id.to_string();
        let sources: Vec<&[u8]> = for_extraction
            .iter()
            .map(|(_, fetched)| fetched.bytes.as_slice())
            .collect();
        let written = record::write_blobs_ahead(
            &snapshots,
            &service_id,
            &terms_type,
            &text,
            text_id,
            &sources,
        );
        // A new text (blobs written ahead) of a recorded document: is it the declaration's or
        // the engine's doing? Re-extracting the recorded sources tells, here rather than on the
        // recording thread.
        let technical = (written.is_some() && recorded.is_some()).then(|| {
            guards::gives_recorded_sources(
                |file| record::read_recorded(&snapshots, file),
                &service_id,
                &terms,
                &text,
            )
        });
        Ok::<_, Error>((
            Some(text),
            Some(text_id),
            written,
            Some(extraction),
            technical,
        ))
    })
    .await
    .map_err(|e| Error::internal("the extraction thread", e))??;
    Ok(Prepared {
        text,
        parts,
        fetched_at,
        text_id,
        written,
        extraction,
        technical,
    })
}

/// One source document's bytes: in the browser when declared with `executeClientScripts: true`;
/// over plain HTTP otherwise, retried once in the browser when undeclared and HTTP met a
/// challenge page or a reset connection (and a browser is there).
async fn fetch_source(
    fetcher: &Fetcher,
    browsers: &BrowserPool,
    source: &SourceDocument,
) -> Result<Fetched> {
    match source.execute_client_scripts {
        Some(true) => render(fetcher, browsers, source).await,
        Some(false) => fetcher.fetch(&source.fetch).await,
        None => match fetcher.fetch(&source.fetch).await {
            Err(error) if worth_a_browser(&error) && browsers.is_available() => {
                tracing::info!(url = %source.fetch, "plain HTTP failed ({error}); trying the browser");
                // When the browser fails too, the HTTP failure is the one worth reporting.
                render(fetcher, browsers, source).await.map_err(|browser_error| {
                    tracing::info!(url = %source.fetch, "the browser failed too: {browser_error}");
                    error
                })
            }
            other => other,
        },
    }
}

fn worth_a_browser(error: &Error) -> bool {
    match error {
        Error::Blocked { .. } => true,
        Error::Connect { message, .. } => {
            let message = message.to_ascii_lowercase();
            message.contains("reset") || message.contains("closed")
        }
        _ => false,
    }
}

async fn render(
    fetcher: &Fetcher,
    browsers: &BrowserPool,
    source: &SourceDocument,
) -> Result<Fetched> {
    match browsers.render(source).await? {
        Rendered::Html { html, final_url } => Ok(Fetched {
            bytes: html.into_bytes(),
            content_type: Some("text/html; charset=utf-8".into()),
            final_url,
            fetched_at: Utc::now(),
        }),
        // PDFs are recorded as the bytes served, not as the browser's viewer page.
        Rendered::Pdf { final_url } => fetcher.fetch(&final_url).await,
    }
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
    parts
        .iter()
        .enumerate()
        .map(|(index, (source, fetched))| {
            let is_pdf = extract::is_pdf(&fetched.bytes, fetched.content_type.as_deref());
            SourceFile {
                file_name: part_file_name(terms, index, is_pdf),
                bytes: fetched.bytes.clone(),
                url: source.fetch.clone(),
                content_type: fetched.content_type.clone(),
            }
        })
        .collect()
}

/// File name of a part's source, as OTA names them; parts with the same id get a number.
fn part_file_name(terms: &Terms, index: usize, is_pdf: bool) -> String {
    if !terms.combined {
        return record::source_file_name(&terms.terms_type, None, is_pdf);
    }
    let id = terms.sources[index].id();
    let same_before = terms.sources[..index]
        .iter()
        .filter(|s| s.id() == id)
        .count();
    let id = if same_before > 0 {
        format!("{id}-{}", same_before + 1)
    } else {
        id
    };
    record::source_file_name(&terms.terms_type, Some(&id), is_pdf)
}

/// The report of a change awaiting its draft, completed with what drafting gave (`None` for an
/// answer to no waiting change, which drafting never gives).
fn with_draft(
    awaiting: &mut Vec<(usize, DocumentReport)>,
    drafted: Drafted,
) -> Option<DocumentReport> {
    let at = awaiting
        .iter()
        .position(|(ticket, _)| *ticket == drafted.ticket)?;
    let (_, mut report) = awaiting.remove(at);
    match drafted.outcome {
        Ok((kind, path)) => {
            report.status = kind.into();
            report.memo = path.map(|p| p.display().to_string());
        }
        Err(error) => {
            tracing::warn!(service = %report.service, terms = %report.terms_type, "no memo: {error}")
        }
    }
    Some(report)
}

/// Records a document's new text, if it is new; returns its report and what was recorded.
fn record_document(
    config: &Config,
    repository: &mut VersionsRepository,
    document: &Document,
    prepared: Prepared,
    started: Instant,
) -> (DocumentReport, Option<record::Recorded>) {
    let terms_type = &document.terms.terms_type;
    let mut report = DocumentReport::unchanged(&document.service_id, terms_type);
    let held = HeldBack::of(&config.state, document);
    let Some(text) = &prepared.text else {
        held.clear();
        report.same_source = true;
        report.duration_ms = started.elapsed().as_millis() as u64;
        return (report, None);
    };
    // Unchanged is told by the blob id, without reading the recorded text.
    let unchanged = repository
        .current_blob_id(&document.service_id, terms_type)
        .is_some_and(|id| prepared.text_id == Some(id));
    let current = if unchanged {
        None
    } else {
        repository.current_version(&document.service_id, terms_type)
    };
    if unchanged || current.as_deref() == Some(text.as_str()) {
        held.clear();
        report.duration_ms = started.elapsed().as_millis() as u64;
        return (report, None);
    }
    if let Some(current) = &current
        && let Some(why) = held.check(current, text, config.record.suspicious_shrink)
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
            .unwrap_or_else(|| is_technical_upgrade(repository, document, text));
    let version = NewVersion {
        service_id: &document.service_id,
        terms_type,
        text,
        sources: source_files(&document.terms, &prepared.parts),
        fetched_at: prepared.fetched_at,
        declaration_sha256: document.declaration_sha256.clone(),
        technical,
    };
    let recorded = match repository.record_with(&version, prepared.written.as_ref()) {
        Ok(Some(recorded)) => {
            report.status = recorded.kind.into();
            report.commit = Some(recorded.commit.clone());
            Some(recorded)
        }
        Ok(None) => None,
        Err(error) => {
            report = DocumentReport::failed(&document.service_id, terms_type, &error);
            None
        }
    };
    report.duration_ms = started.elapsed().as_millis() as u64;
    (report, recorded)
}
