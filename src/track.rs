//! One tracking round: fetch → extract → record, for every declared document.
//!
//! [`track`] loads the declarations, takes the versions repository's lock, and
//! runs each document through the stages: sources are fetched concurrently
//! (`fetch.concurrency` documents at once, the fetcher's per-host limits
//! inside), extracted on blocking threads, and recorded by one writer, in the
//! order documents finish. Each document ends as a [`DocumentReport`]; a failure
//! is a status and a class, never a recorded version and never the end of the
//! round. The [`RunReport`] is appended to `<state>/runs.jsonl`.
//!
//! Two guards keep the record honest:
//! - a change that deletes more than `record.suspicious_shrink` of the text is
//!   held back (`held_back`) until the next round sees the same text again;
//! - a change is a *technical upgrade* when re-extracting the previously recorded
//!   source with today's rules gives the new text: the document did not change,
//!   the declaration (or the engine) did.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::config::Config;
use crate::declaration::{self, Severity, SourceDocument, Terms};
use crate::extract;
use crate::fetch::browser::{BrowserPool, Rendered};
use crate::fetch::{Fetched, Fetcher};
use crate::record::{self, NewVersion, RecordKind, SourceFile, VersionsRepository};
use crate::{Error, FailureClass, Result};

/// How a document ended in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// First version recorded.
    FirstRecord,
    /// A new version recorded.
    NewVersion,
    /// A version recorded because the declaration or the engine changed.
    TechnicalUpgrade,
    /// Same text as the recorded version: nothing written.
    Unchanged,
    /// Fetching or extracting failed; nothing written.
    Failed,
    /// A suspicious change (large deletion) waiting to be seen again.
    HeldBack,
}

impl Status {
    /// Whether a version was written.
    pub fn recorded(self) -> bool {
        matches!(
            self,
            Status::FirstRecord | Status::NewVersion | Status::TechnicalUpgrade
        )
    }
}

/// The outcome of one document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DocumentReport {
    /// Service id.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// How it ended.
    pub status: Status,
    /// Failure class, when failed.
    pub error_class: Option<FailureClass>,
    /// What went wrong (or why it was held back).
    pub error: Option<String>,
    /// The commit written, if any.
    pub commit: Option<String>,
    /// The memo drafted for the change, if any.
    #[serde(default)]
    pub memo: Option<String>,
    /// Time spent on the document.
    pub duration_ms: u64,
}

/// The outcome of a round.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    /// When the round started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// Its length.
    pub duration_ms: u64,
    /// Documents with a version written.
    pub recorded: usize,
    /// Documents unchanged.
    pub unchanged: usize,
    /// Documents failed.
    pub failed: usize,
    /// Documents held back.
    pub held_back: usize,
    /// Whether the round was stopped early (signal): documents not started are not listed.
    #[serde(default)]
    pub interrupted: bool,
    /// Whether a browser was started for documents that render with JavaScript.
    #[serde(default)]
    pub browser_started: bool,
    /// Every document, in the order they finished.
    pub documents: Vec<DocumentReport>,
}

impl RunReport {
    /// Failures counted by class, for summaries.
    pub fn failures_by_class(&self) -> Vec<(FailureClass, usize)> {
        let mut counts: std::collections::BTreeMap<FailureClass, usize> = Default::default();
        for document in &self.documents {
            if let Some(class) = document.error_class {
                *counts.entry(class).or_default() += 1;
            }
        }
        counts.into_iter().collect()
    }
}

/// A document to track.
struct Document {
    service_id: String,
    service_name: String,
    terms: Terms,
    declaration_sha256: String,
}

/// What fetching and extracting produced.
struct Prepared {
    text: String,
    parts: Vec<(SourceDocument, Fetched)>,
    fetched_at: DateTime<Utc>,
}

/// Whether a selection (`SERVICE` or `SERVICE/TERMS`) names a document.
fn selected(selection: &[String], service: &str, terms: &str) -> bool {
    selection.is_empty()
        || selection.iter().any(|s| match s.split_once('/') {
            Some((sv, t)) => sv == service && t == terms,
            None => s == service,
        })
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
    let loaded = declaration::load_directory(&config.declarations)?;
    let mut documents = Vec::new();
    let mut reports = Vec::new();
    let mut named: BTreeSet<(String, String)> = BTreeSet::new();
    for service in &loaded {
        let Some(declaration) = &service.declaration else {
            let message = service
                .problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            if selected(selection, &service.service_id, "")
                || selection.iter().any(|s| {
                    s.split_once('/')
                        .is_some_and(|(id, _)| id == service.service_id)
                })
            {
                reports.push(failed(
                    &service.service_id,
                    "",
                    FailureClass::InvalidDeclaration,
                    message,
                ));
            }
            continue;
        };
        for (terms_type, terms) in &declaration.terms {
            named.insert((service.service_id.clone(), terms_type.clone()));
            if selected(selection, &service.service_id, terms_type) {
                documents.push(Document {
                    service_id: service.service_id.clone(),
                    service_name: declaration.name.clone(),
                    terms: terms.clone(),
                    declaration_sha256: declaration.sha256.clone(),
                });
            }
        }
        let broken: BTreeSet<&String> = service
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .filter_map(|p| p.terms_type.as_ref())
            .filter(|t| !declaration.terms.contains_key(*t))
            .collect();
        for terms_type in broken {
            named.insert((service.service_id.clone(), terms_type.clone()));
            if selected(selection, &service.service_id, terms_type) {
                let message = service
                    .problems_for(terms_type)
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                reports.push(failed(
                    &service.service_id,
                    terms_type,
                    FailureClass::InvalidDeclaration,
                    message,
                ));
            }
        }
    }
    for wanted in selection {
        let known = named
            .iter()
            .any(|(service, terms)| selected(std::slice::from_ref(wanted), service, terms));
        if !known {
            return Err(Error::UnknownDocument {
                wanted: wanted.clone(),
                folder: config.declarations.display().to_string(),
            });
        }
    }

    let mut repository = VersionsRepository::open_or_create(
        &config.snapshots,
        &config.author.name,
        &config.author.email,
    )?;
    let lock = repository.lock()?;
    repository.sync_working_tree()?;
    for report in &reports {
        on_document(report);
    }

    let fetcher = Arc::new(Fetcher::new(&config.fetch)?);
    // Started only if a document needs it; closed at the end of the round.
    let browsers = Arc::new(BrowserPool::new(&config.browser, &config.fetch));
    let mut prepared = futures_util::stream::iter(documents)
        .take_while(|_| std::future::ready(!stop.load(Ordering::SeqCst)))
        .map(|document| {
            let fetcher = fetcher.clone();
            let browsers = browsers.clone();
            async move {
                let started = Instant::now();
                let result = prepare(&fetcher, &browsers, &document).await;
                (document, result, started)
            }
        })
        .buffer_unordered(config.fetch.concurrency);
    while let Some((document, result, started)) = prepared.next().await {
        let report = match result {
            Ok(prepared) => record_document(config, &mut repository, &document, prepared, started),
            Err(error) => failed_after(&document, &error, started),
        };
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
    }
    drop(prepared);
    let browser_started = browsers.was_started();
    browsers.close().await;

    let finished_at = Utc::now();
    let count = |f: &dyn Fn(Status) -> bool| reports.iter().filter(|r| f(r.status)).count();
    let report = RunReport {
        started_at,
        finished_at,
        duration_ms: started.elapsed().as_millis() as u64,
        recorded: count(&|s| s.recorded()),
        unchanged: count(&|s| s == Status::Unchanged),
        failed: count(&|s| s == Status::Failed),
        held_back: count(&|s| s == Status::HeldBack),
        interrupted: stop.load(Ordering::SeqCst),
        browser_started,
        documents: reports,
    };
    append_run(&config.state, &report)?;
    // Notifications may wait on slow receivers: the repository is free by then.
    drop(lock);
    crate::notify::after_round(config, &report).await;
    Ok(report)
}

fn failed(service: &str, terms_type: &str, class: FailureClass, message: String) -> DocumentReport {
    DocumentReport {
        service: service.to_string(),
        terms_type: terms_type.to_string(),
        status: Status::Failed,
        error_class: Some(class),
        error: Some(message),
        commit: None,
        memo: None,
        duration_ms: 0,
    }
}

fn failed_after(document: &Document, error: &Error, started: Instant) -> DocumentReport {
    let mut report = failed(
        &document.service_id,
        &document.terms.terms_type,
        error.class(),
        error.to_string(),
    );
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}

async fn prepare(
    fetcher: &Fetcher,
    browsers: &BrowserPool,
    document: &Document,
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
    let text = tokio::task::spawn_blocking(move || extract_parts(&for_extraction))
        .await
        .map_err(|e| Error::io("extraction", std::io::Error::other(e.to_string())))??;
    Ok(Prepared {
        text,
        parts,
        fetched_at,
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

/// Whether the previously recorded sources, extracted with today's rules, give `text`.
fn is_technical_upgrade(repository: &VersionsRepository, document: &Document, text: &str) -> bool {
    let terms = &document.terms;
    let mut parts = Vec::new();
    for (index, source) in terms.sources.iter().enumerate() {
        let found = [false, true].iter().find_map(|&is_pdf| {
            let path = format!(
                "{}/{}",
                document.service_id,
                part_file_name(terms, index, is_pdf)
            );
            repository.read_current(&path).map(|bytes| (bytes, is_pdf))
        });
        let Some((bytes, is_pdf)) = found else {
            return false;
        };
        let content_type = if is_pdf {
            "application/pdf"
        } else {
            "text/html"
        };
        let fetched = Fetched {
            bytes,
            content_type: Some(content_type.into()),
            final_url: source.fetch.clone(),
            fetched_at: Utc::now(),
        };
        parts.push((source.clone(), fetched));
    }
    extract_parts(&parts).is_ok_and(|previous| previous == text)
}

fn held_path(state: &Path, document: &Document) -> PathBuf {
    state
        .join("held")
        .join(&document.service_id)
        .join(format!("{}.sha256", document.terms.terms_type))
}

fn record_document(
    config: &Config,
    repository: &mut VersionsRepository,
    document: &Document,
    prepared: Prepared,
    started: Instant,
) -> DocumentReport {
    let terms_type = &document.terms.terms_type;
    let mut report = DocumentReport {
        service: document.service_id.clone(),
        terms_type: terms_type.clone(),
        status: Status::Unchanged,
        error_class: None,
        error: None,
        commit: None,
        memo: None,
        duration_ms: 0,
    };
    let current = repository.current_version(&document.service_id, terms_type);
    let held = held_path(&config.state, document);
    if current.as_deref() == Some(prepared.text.as_str()) {
        let _ = std::fs::remove_file(&held);
        report.duration_ms = started.elapsed().as_millis() as u64;
        return report;
    }
    if let Some(current) = &current {
        let kept = prepared.text.chars().count() as f64 / current.chars().count().max(1) as f64;
        if 1.0 - kept > config.record.suspicious_shrink {
            let digest = hex::encode(sha2::Sha256::digest(prepared.text.as_bytes()));
            let seen_before = std::fs::read_to_string(&held).is_ok_and(|d| d.trim() == digest);
            if !seen_before {
                let written = held
                    .parent()
                    .map(std::fs::create_dir_all)
                    .unwrap_or(Ok(()))
                    .and_then(|()| std::fs::write(&held, &digest));
                report.status = Status::HeldBack;
                report.error = Some(format!(
                    "suspicious_shrink: the new text deletes {:.0}% of the recorded one; it is recorded if the next round sees it again{}",
                    (1.0 - kept) * 100.0,
                    written
                        .err()
                        .map(|e| format!(" (cannot remember it: {e})"))
                        .unwrap_or_default()
                ));
                report.duration_ms = started.elapsed().as_millis() as u64;
                return report;
            }
        }
    }
    let _ = std::fs::remove_file(&held);
    let technical = current.is_some() && is_technical_upgrade(repository, document, &prepared.text);
    let version = NewVersion {
        service_id: &document.service_id,
        terms_type,
        text: &prepared.text,
        sources: source_files(&document.terms, &prepared.parts),
        fetched_at: prepared.fetched_at,
        declaration_sha256: document.declaration_sha256.clone(),
        technical,
    };
    match repository.record(&version) {
        Ok(Some(recorded)) => {
            report.status = match recorded.kind {
                RecordKind::FirstRecord => Status::FirstRecord,
                RecordKind::NewVersion => Status::NewVersion,
                RecordKind::TechnicalUpgrade => Status::TechnicalUpgrade,
            };
            if let Some(previous) = &current
                && recorded.kind != RecordKind::FirstRecord
            {
                match write_memo(config, repository, document, previous, &prepared, &recorded) {
                    Ok(path) => report.memo = Some(path.display().to_string()),
                    Err(error) => {
                        tracing::warn!(service = %document.service_id, terms = %terms_type, "no memo: {error}")
                    }
                }
            }
            report.commit = Some(recorded.commit);
        }
        Ok(None) => {}
        Err(error) => {
            report.status = Status::Failed;
            report.error_class = Some(error.class());
            report.error = Some(error.to_string());
        }
    }
    report.duration_ms = started.elapsed().as_millis() as u64;
    report
}

/// Drafts and writes the memo of a change just recorded.
fn write_memo(
    config: &Config,
    repository: &VersionsRepository,
    document: &Document,
    before: &str,
    prepared: &Prepared,
    recorded: &record::Recorded,
) -> Result<PathBuf> {
    let after = prepared.text.as_str();
    let taxonomy = crate::analyse::Taxonomy::with_additions(&config.memos.topics);
    let terms_type = &document.terms.terms_type;
    // Newest first: [0] is the version just recorded, [1] the previous one.
    let versions = repository.version_blobs(&document.service_id, terms_type)?;
    let reverts_to = versions
        .first()
        .and_then(|(_, new_blob)| versions.iter().skip(2).find(|(_, blob)| blob == new_blob))
        .map(|(commit, _)| commit.as_str());
    let technical = recorded.kind == RecordKind::TechnicalUpgrade;
    let analysis = crate::analyse::analyse(Some(before), after, reverts_to, technical, &taxonomy);
    let date = prepared.fetched_at.format("%Y-%m-%d").to_string();
    let input = crate::memo::MemoInput {
        service: &document.service_name,
        terms_type,
        date: &date,
        commit: Some(&recorded.commit),
        previous_commit: versions.get(1).map(|(commit, _)| commit.as_str()),
        before: Some(before),
        after,
    };
    let memo = crate::memo::draft(&input, &analysis, &config.memos, &taxonomy);
    crate::memo::write(&memo, &document.service_id, terms_type, &config.memos.dir)
}

/// Appends a round's report as one JSON line to `<state>/runs.jsonl`.
pub fn append_run(state: &Path, report: &RunReport) -> Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(state).map_err(|e| {
        Error::io(
            format!("cannot create the state folder {}", state.display()),
            e,
        )
    })?;
    let path = state.join("runs.jsonl");
    let mut line = serde_json::to_string(report)
        .map_err(|e| Error::io("cannot serialise the run report", std::io::Error::other(e)))?;
    line.push('\n');
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| file.write_all(line.as_bytes()))
        .map_err(|e| Error::io(format!("cannot append to {}", path.display()), e))
}
