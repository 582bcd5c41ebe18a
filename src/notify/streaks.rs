//! Failure streaks: the one rule for how many rounds in a row a document (or publishing) has
//! failed, kept in `<state>/failures.json`, and the events it gives: a document failing
//! `notify.failure_streak` rounds in a row is reported once as a persistent failure, and once
//! more when it recovers. `policydiff status` reads the same streaks.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::basics::{state_files, write_atomic};
use crate::declaration::DocumentId;
use crate::report::{DocumentStatus, RunReport};
use crate::{Error, FailureClass, Result};

/// A persistent failure, or its recovery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailureNotice {
    /// The document (written as `service` and `terms_type`; publishing is the service
    /// `(publish)`, its remote and branch the terms type).
    #[serde(flatten)]
    pub document: DocumentId,
    /// `persistent` or `recovered`.
    pub event: String,
    /// The class of the last failure.
    pub error_class: Option<FailureClass>,
    /// The last failure's message.
    pub error: Option<String>,
    /// Consecutive failed rounds.
    pub streak: usize,
}

/// A subject's failed rounds in a row, and whether its persistent failure was announced.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Streak {
    count: usize,
    notified: bool,
    error_class: Option<FailureClass>,
}

/// Updates `<state>/failures.json` with a round and returns the events to announce.
pub fn failure_events(
    state: &Path,
    report: &RunReport,
    threshold: usize,
) -> Result<Vec<FailureNotice>> {
    let path = state_files::failure_streaks(state);
    let mut streaks = read_streaks(state);
    // Each document, and publishing, is one subject: (its streak key, the notice's names, the
    // round's outcome). Every subject follows the same rule.
    let mut subjects: Vec<(String, FailureNotice, bool)> = report
        .documents
        .iter()
        .map(|report| {
            (
                report.document.to_string(),
                FailureNotice {
                    document: report.document.clone(),
                    event: String::new(),
                    error_class: report.error_class,
                    error: report.error.clone(),
                    streak: 0,
                },
                report.status == DocumentStatus::Failed,
            )
        })
        .collect();
    if let Some(publish) = &report.publish {
        let target = format!("{} {}", publish.remote, publish.branch);
        subjects.push((
            format!("(publish)/{target}"),
            FailureNotice {
                document: DocumentId::new("(publish)", target),
                event: String::new(),
                error_class: publish.error_class,
                error: publish.error.clone(),
                streak: 0,
            },
            !publish.succeeded(),
        ));
    }
    let mut events = Vec::new();
    for (key, notice, failed) in subjects {
        if failed {
            let streak = streaks.entry(key).or_default();
            streak.count += 1;
            streak.error_class = notice.error_class;
            if streak.count >= threshold && !streak.notified {
                streak.notified = true;
                events.push(FailureNotice {
                    event: "persistent".into(),
                    streak: streak.count,
                    ..notice
                });
            }
        } else if let Some(streak) = streaks.remove(&key)
            && streak.notified
        {
            events.push(FailureNotice {
                event: "recovered".into(),
                streak: 0,
                ..notice
            });
        }
    }
    let json = serde_json::to_string_pretty(&streaks).unwrap_or_default();
    write_atomic(&path, json.as_bytes())
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    Ok(events)
}

/// The streaks kept in the state folder (none when the file is missing or unreadable).
fn read_streaks(state: &Path) -> BTreeMap<String, Streak> {
    std::fs::read_to_string(state_files::failure_streaks(state))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// How many rounds in a row a document has failed, as of the last round that updated the
/// streaks (0: it did not fail then).
pub fn current_streak(state: &Path, service: &str, terms_type: &str) -> usize {
    read_streaks(state)
        .get(&DocumentId::new(service, terms_type).to_string())
        .map_or(0, |streak| streak.count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::DocumentReport;
    use chrono::Utc;

    fn round(failed: bool) -> RunReport {
        RunReport {
            started_at: Utc::now(),
            finished_at: Utc::now(),
            duration_ms: 1,
            recorded: 0,
            unchanged: usize::from(!failed),
            failed: usize::from(failed),
            held_back: 0,
            same_sources: 0,
            interrupted: false,
            browser_started: false,
            publish: None,
            memos: Vec::new(),
            fact_changes: Vec::new(),
            documents: vec![DocumentReport {
                document: DocumentId::new("Example", "Privacy Policy"),
                status: if failed {
                    DocumentStatus::Failed
                } else {
                    DocumentStatus::Unchanged
                },
                error_class: failed.then_some(FailureClass::Timeout),
                error: failed.then(|| "slow".to_string()),
                commit: None,
                memo: None,
                duration_ms: 1,
                same_source: false,
            }],
        }
    }

    #[test]
    fn a_persistent_failure_is_reported_once_and_its_recovery_once() {
        let dir = tempfile::tempdir().unwrap();
        let events: Vec<Vec<String>> = [true, true, true, true, false, false]
            .iter()
            .map(|&failed| {
                failure_events(dir.path(), &round(failed), 3)
                    .unwrap()
                    .into_iter()
                    .map(|e| format!("{}:{}", e.event, e.streak))
                    .collect()
            })
            .collect();
        assert_eq!(
            events,
            [
                vec![],
                vec![],
                vec!["persistent:3".to_string()],
                vec![],
                vec!["recovered:0".to_string()],
                vec![]
            ]
        );
    }

    #[test]
    fn publishing_that_keeps_failing_is_reported_once_and_its_recovery_once() {
        use crate::publish::{PublishReport, PublishStatus};
        let dir = tempfile::tempdir().unwrap();
        let events: Vec<Vec<String>> = [true, true, true, false, false]
            .iter()
            .map(|&failed| {
                let mut report = round(false);
                report.publish = Some(PublishReport {
                    remote: "/srv/versions.git".into(),
                    branch: "main".into(),
                    status: if failed {
                        PublishStatus::Failed
                    } else {
                        PublishStatus::Pushed
                    },
                    commit: None,
                    commits: 0,
                    error_class: failed.then_some(FailureClass::PublishFailed),
                    error: failed.then(|| "cannot push".to_string()),
                });
                failure_events(dir.path(), &report, 2)
                    .unwrap()
                    .into_iter()
                    .map(|e| {
                        format!(
                            "{} {}:{}:{}",
                            e.document.service, e.document.terms_type, e.event, e.streak
                        )
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            events,
            [
                vec![],
                vec!["(publish) /srv/versions.git main:persistent:2".to_string()],
                vec![],
                vec!["(publish) /srv/versions.git main:recovered:0".to_string()],
                vec![]
            ]
        );
    }
}
