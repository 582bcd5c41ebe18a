//! `policydiff status`: what the last rounds did and what waits for people.
//!
//! [`status`] reads the end of `<state>/runs.jsonl` (never the whole file: it grows for years),
//! the daemon's `<state>/daemon.json` and lock, and the memos folder, and reports the last round,
//! the next one, the documents failing now with their class and streak (consecutive failed rounds
//! that included them), held-back changes, memos still in `status: draft`, and publishing (the
//! remote, the last successful push, commits not yet pushed). It works whether or
//! not the daemon runs.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::basics::state_files;
use crate::config::Config;
use crate::daemon::DaemonState;
use crate::declaration::DocumentId;
use crate::memo::{MemoStore, StoredMemo};
use crate::report::{DocumentStatus, RunLog, RunReport};
use crate::{FailureClass, Result};

/// A document failing now.
#[derive(Debug, Clone, Serialize)]
pub struct Failing {
    /// The document (written as `service` and `terms_type`).
    #[serde(flatten)]
    pub document: DocumentId,
    /// The failure class of the last round.
    pub error_class: Option<FailureClass>,
    /// The message of the last round.
    pub error: Option<String>,
    /// Consecutive failed rounds that included it.
    pub streak: usize,
}

/// A memo waiting for review.
#[derive(Debug, Clone, Serialize)]
pub struct PendingMemo {
    /// The memo file.
    pub path: String,
    /// Its title.
    pub title: String,
    /// Its significance.
    pub significance: f64,
}

/// The state of a collection.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The last round (without its document list).
    pub last_round: Option<RoundSummary>,
    /// Whether a daemon holds the state folder now.
    pub daemon_running: bool,
    /// When the next round is due (from the daemon, else from the schedules).
    pub next_round: Option<DateTime<Utc>>,
    /// Documents that failed in their last round.
    pub failing: Vec<Failing>,
    /// Changes held back as suspicious.
    pub held_back: Vec<DocumentId>,
    /// Memos still in draft, most significant first.
    pub memos_to_review: Vec<PendingMemo>,
    /// Publishing to a remote, when `publish:` is set.
    pub publish: Option<crate::publish::PublishSummary>,
}

/// A round without its documents.
#[derive(Debug, Clone, Serialize)]
pub struct RoundSummary {
    /// Start.
    pub started_at: DateTime<Utc>,
    /// Length.
    pub duration_ms: u64,
    /// Recorded.
    pub recorded: usize,
    /// Unchanged.
    pub unchanged: usize,
    /// Failed.
    pub failed: usize,
    /// Held back.
    pub held_back: usize,
}

fn daemon_running(state: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(state_files::daemon_lock(state))
    else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}

/// The memos still in `status: draft`, most significant first.
pub fn pending_memos(dir: &Path) -> Result<Vec<PendingMemo>> {
    let mut memos: Vec<PendingMemo> = MemoStore::new(dir)
        .list()?
        .into_iter()
        .filter(StoredMemo::is_draft)
        .map(|memo| PendingMemo {
            title: memo.title,
            significance: memo.record.significance,
            path: memo.path.display().to_string(),
        })
        .collect();
    memos.sort_by(|a, b| {
        b.significance
            .total_cmp(&a.significance)
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok(memos)
}

/// Reads the state of the collection.
pub fn status(config: &Config) -> Result<Report> {
    let runs: Vec<RunReport> = RunLog::in_state(&config.state).recent(1)?;
    let last = runs.last();
    let mut failing = Vec::new();
    let mut held_back = Vec::new();
    if let Some(last) = last {
        for report in &last.documents {
            let document = &report.document;
            match report.status {
                DocumentStatus::Failed => {
                    // Failing in the last round: one round at least, whatever the streaks say.
                    let streak = crate::notify::streaks::current_streak(
                        &config.state,
                        &document.service,
                        &document.terms_type,
                    )
                    .max(1);
                    failing.push(Failing {
                        document: document.clone(),
                        error_class: report.error_class,
                        error: report.error.clone(),
                        streak,
                    });
                }
                DocumentStatus::HeldBack => {
                    held_back.push(document.clone());
                }
                _ => {}
            }
        }
    }
    failing.sort_by(|a, b| {
        b.streak
            .cmp(&a.streak)
            .then_with(|| a.document.service.cmp(&b.document.service))
    });
    let running = daemon_running(&config.state);
    let daemon_state: Option<DaemonState> =
        std::fs::read_to_string(state_files::daemon_state(&config.state))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
    let next_round = match daemon_state {
        Some(state) if running => state.next_round,
        _ => {
            let schedules: Vec<crate::schedule::Schedule> = config
                .schedule
                .iter()
                .filter_map(|s| crate::schedule::Schedule::from_spec(s).ok())
                .collect();
            crate::daemon::next_round(&schedules, Utc::now(), &vec![None; schedules.len()])
                .map(|n| n.when)
        }
    };
    Ok(Report {
        last_round: last.map(|run| RoundSummary {
            started_at: run.started_at,
            duration_ms: run.duration_ms,
            recorded: run.recorded,
            unchanged: run.unchanged,
            failed: run.failed,
            held_back: run.held_back,
        }),
        daemon_running: running,
        next_round,
        failing,
        held_back,
        memos_to_review: pending_memos(&config.memos.dir)?,
        publish: crate::publish::summary(config.publisher()),
    })
}
