//! Facts over a service's recorded history: the answers at a date, since when each has held,
//! the changes of answers (and those a commit made), and the log of changes announced.

use chrono::{DateTime, Utc};

use super::read::{
    hits_before_and_after, lines_under_headings, read_document_for, rules_touched_by_change,
};
use super::rules::Rules;
use super::{
    Answer, AnswerKind, FactChange, FactReport, Hit, HitCache, ServiceFacts, Since, answer,
    read_document,
};
use crate::Result;
use crate::analyse::plain_text;
use crate::declaration::DocumentId;
use crate::record::VersionsRepository;

/// One document's current version during a replay.
struct Current {
    terms_type: String,
    commit: String,
    date: String,
    blob: git2::Oid,
}

/// The facts of a service at `at` (default: the latest version of each document), replaying
/// its recorded history so that each answer knows since when it has held.
pub fn service_facts(
    repository: &VersionsRepository,
    service: &str,
    rules: &Rules,
    at: Option<DateTime<Utc>>,
    cache: &mut HitCache,
) -> Result<ServiceFacts> {
    let changes = repository.service_changes(service)?;
    let mut current: Vec<Current> = Vec::new();
    let mut answers: Vec<Option<(Answer, Since)>> = vec![None; rules.rules.len()];
    let mut history = Vec::new();
    let mut last_commit_date = None;
    for change in changes {
        // Commit dates are not always in history order (an import, a clock set wrong): each
        // document's version in force at `at` is its last one in history dated on or before it.
        if at.is_some_and(|at| change.date > at) {
            continue;
        }
        let date = change.date.format("%Y-%m-%d").to_string();
        last_commit_date = Some(
            change
                .date
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        if !rules
            .rules
            .iter()
            .any(|r| r.reads(&change.document.terms_type))
        {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(entry) = cache.entry(change.blob) {
            let text = repository.blob_text(change.blob)?;
            entry.insert(read_document(&text, &change.document.terms_type, rules));
        }
        match current
            .iter_mut()
            .find(|c| c.terms_type == change.document.terms_type)
        {
            Some(document) => {
                document.commit = change.commit.clone();
                document.date = date.clone();
                document.blob = change.blob;
            }
            None => current.push(Current {
                terms_type: change.document.terms_type.clone(),
                commit: change.commit.clone(),
                date: date.clone(),
                blob: change.blob,
            }),
        }
        for (index, rule) in rules.rules.iter().enumerate() {
            if !rule.reads(&change.document.terms_type) {
                continue;
            }
            let documents: Vec<(&str, &str, &str, &Vec<Hit>)> = current
                .iter()
                .filter(|c| rule.reads(&c.terms_type))
                .map(|c| {
                    (
                        c.terms_type.as_str(),
                        c.commit.as_str(),
                        c.date.as_str(),
                        &cache[&c.blob][index],
                    )
                })
                .collect();
            let new = answer(rule, &documents);
            let changed = match &answers[index] {
                Some((old, _)) => !old.same_as(&new),
                None => new.kind != AnswerKind::NotStated,
            };
            if changed {
                let from = answers[index]
                    .as_ref()
                    .map_or_else(|| "not stated".to_string(), |(old, _)| old.summary());
                let evidence = if new.evidence.is_empty() {
                    answers[index]
                        .as_ref()
                        .map(|(old, _)| old.evidence.clone())
                        .unwrap_or_default()
                } else {
                    new.evidence.clone()
                };
                history.push(FactChange {
                    id: rule.source.id.clone(),
                    question: rule.source.question.clone(),
                    document: DocumentId::new(service, &change.document.terms_type),
                    commit: change.commit.clone(),
                    date: date.clone(),
                    from,
                    to: new.summary(),
                    evidence,
                });
                answers[index] = Some((
                    new,
                    Since {
                        commit: change.commit.clone(),
                        date: date.clone(),
                    },
                ));
            } else if let Some((old, _)) = &mut answers[index] {
                // Same answer, fresher evidence (the sentence may have moved to a newer version).
                *old = new;
            }
        }
    }
    let facts = rules
        .rules
        .iter()
        .zip(answers)
        .map(|(rule, found)| {
            let (answer, since) = match found {
                Some((answer, since)) => (answer, Some(since)),
                None => (
                    Answer {
                        kind: AnswerKind::NotStated,
                        value: None,
                        regions: Vec::new(),
                        evidence: Vec::new(),
                    },
                    None,
                ),
            };
            FactReport {
                id: rule.source.id.clone(),
                question: rule.source.question.clone(),
                answer: answer.kind,
                badge: rule.source.badge.get(answer.kind.as_str()).cloned(),
                value: answer.value,
                regions: answer.regions,
                since,
                evidence: answer.evidence,
            }
        })
        .collect();
    Ok(ServiceFacts {
        service: service.to_string(),
        last_verified: last_commit_date,
        facts,
        history: Some(history),
    })
}

/// The changes of a service's answers made by one commit (none for a first record or a
/// technical upgrade: the tracker began to read, or read differently; the policy did not change).
pub fn changes_at_commit(
    repository: &VersionsRepository,
    service: &str,
    rules: &Rules,
    commit: &str,
) -> Result<Vec<FactChange>> {
    let changes = repository.service_changes(service)?;
    let Some(at) = changes.iter().position(|change| {
        change.commit == commit
            && matches!(
                change.kind(),
                crate::record::VersionKind::NewChanges | crate::record::VersionKind::Revert
            )
    }) else {
        return Ok(Vec::new());
    };
    // The service's documents as they stood just before the commit (each terms type's latest
    // version, in the order they were first recorded, as a replay has them).
    let mut before: Vec<&crate::record::VersionChange> = Vec::new();
    for change in &changes[..at] {
        match before
            .iter_mut()
            .find(|c| c.document.terms_type == change.document.terms_type)
        {
            Some(latest) => *latest = change,
            None => before.push(change),
        }
    }
    let change = &changes[at];
    let terms_type = &change.document.terms_type;
    let Some(previous) = before.iter().find(|c| &c.document.terms_type == terms_type) else {
        return changes_in_history(repository, service, rules, commit);
    };
    // Most changes do not touch a sentence any rule answers from: when the document's hits are
    // the same before and after, no answer can have changed.
    let (text_before, text_after) = (
        repository.blob_text(previous.blob)?,
        repository.blob_text(change.blob)?,
    );
    let (plain_before, plain_after) = (plain_text(&text_before), plain_text(&text_after));
    let (lines_before, lines_after) = (
        lines_under_headings(&plain_before),
        lines_under_headings(&plain_after),
    );
    let operations =
        similar::capture_diff_slices(similar::Algorithm::Myers, &lines_before, &lines_after);
    let touched =
        rules_touched_by_change(&lines_before, &lines_after, &operations, terms_type, rules);
    if touched.is_empty() {
        return Ok(Vec::new());
    }
    let (hits_before, hits_after) = hits_before_and_after(
        (&plain_before, &lines_before),
        (&plain_after, &lines_after),
        &operations,
        rules,
        &touched,
    );
    let changed: Vec<usize> = touched
        .into_iter()
        .filter(|&i| hits_before[i] != hits_after[i])
        .collect();
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    // An answer depends only on the service's current documents, so the answers just before
    // and just after the commit tell what it changed — no replay of the whole history. The
    // other documents are read with the changed rules alone.
    let mut others: Vec<Vec<Vec<Hit>>> = Vec::with_capacity(before.len());
    for document in &before {
        if &document.document.terms_type == terms_type
            || !changed
                .iter()
                .any(|&i| rules.rules[i].reads(&document.document.terms_type))
        {
            others.push(Vec::new());
            continue;
        }
        let text = repository.blob_text(document.blob)?;
        others.push(read_document_for(
            &text,
            &document.document.terms_type,
            rules,
            &changed,
        ));
    }
    let dates: Vec<String> = before
        .iter()
        .map(|c| c.date.format("%Y-%m-%d").to_string())
        .collect();
    let date = change.date.format("%Y-%m-%d").to_string();
    let mut found = Vec::new();
    for &index in &changed {
        let rule = &rules.rules[index];
        let documents = |after: bool| -> Vec<(&str, &str, &str, &Vec<Hit>)> {
            before
                .iter()
                .zip(&dates)
                .zip(&others)
                .filter(|((c, _), _)| rule.reads(&c.document.terms_type))
                .map(|((c, day), hits)| {
                    if &c.document.terms_type != terms_type {
                        (
                            c.document.terms_type.as_str(),
                            c.commit.as_str(),
                            day.as_str(),
                            &hits[index],
                        )
                    } else if after {
                        (
                            terms_type.as_str(),
                            change.commit.as_str(),
                            date.as_str(),
                            &hits_after[index],
                        )
                    } else {
                        (
                            terms_type.as_str(),
                            c.commit.as_str(),
                            day.as_str(),
                            &hits_before[index],
                        )
                    }
                })
                .collect()
        };
        let old = answer(rule, &documents(false));
        let new = answer(rule, &documents(true));
        if old.same_as(&new) {
            continue;
        }
        found.push(FactChange {
            id: rule.source.id.clone(),
            question: rule.source.question.clone(),
            document: DocumentId::new(service, terms_type),
            commit: change.commit.clone(),
            date: date.clone(),
            from: old.summary(),
            to: new.summary(),
            evidence: if new.evidence.is_empty() {
                old.evidence
            } else {
                new.evidence
            },
        });
    }
    Ok(found)
}

/// The answer changes a commit made, from a replay of the service's history.
fn changes_in_history(
    repository: &VersionsRepository,
    service: &str,
    rules: &Rules,
    commit: &str,
) -> Result<Vec<FactChange>> {
    let facts = service_facts(repository, service, rules, None, &mut HitCache::new())?;
    Ok(facts
        .history
        .unwrap_or_default()
        .into_iter()
        .filter(|change| change.commit == commit)
        .collect())
}

/// The log of answer changes announced after rounds: `fact-changes.jsonl` in the memos folder,
/// one [`FactChange`] per line, appended.
#[derive(Debug, Clone)]
pub struct FactLog {
    lines: crate::basics::JsonLines,
}

impl FactLog {
    /// The log in the memos folder.
    pub fn in_dir(memos: &std::path::Path) -> Self {
        FactLog {
            lines: crate::basics::JsonLines::at(crate::basics::state_files::fact_changes(memos)),
        }
    }

    /// Appends changes (a change already logged, same fact and commit, is not logged twice).
    pub fn append(&self, changes: &[FactChange]) -> Result<()> {
        let logged = self.read()?;
        let new: Vec<&FactChange> = changes
            .iter()
            .filter(|c| {
                !logged.iter().any(|l| {
                    l.id == c.id && l.commit == c.commit && l.document.service == c.document.service
                })
            })
            .collect();
        self.lines.append(&new)
    }

    /// Every logged change, oldest first (unreadable lines are skipped).
    pub fn read(&self) -> Result<Vec<FactChange>> {
        self.lines.read_all()
    }

    /// The latest `count` logged changes, oldest first.
    pub fn recent(&self, count: usize) -> Result<Vec<FactChange>> {
        self.lines.recent(count)
    }
}

/// Every service of the repository (or the one named), in id order.
pub fn repository_facts(
    repository: &VersionsRepository,
    service: Option<&str>,
    rules: &Rules,
    at: Option<DateTime<Utc>>,
) -> Result<Vec<ServiceFacts>> {
    let mut services: Vec<String> = repository
        .version_changes(None)?
        .into_iter()
        .map(|c| c.document.service)
        .collect();
    services.sort();
    services.dedup();
    if let Some(wanted) = service {
        services.retain(|s| s == wanted);
        if services.is_empty() {
            return Err(crate::Error::argument(format!(
                "the repository holds no service '{wanted}'; `policydiff services` lists them"
            )));
        }
    }
    let mut cache = HitCache::new();
    services
        .iter()
        .map(|service| service_facts(repository, service, rules, at, &mut cache))
        .collect()
}
