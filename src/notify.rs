//! Notifications after each round: the Atom feed, webhooks, and failure streaks.
//!
//! [`after_round`] runs at the end of every round: the caller (`policydiff track`, the daemon)
//! hands it the round's [`RunReport`], directly or through the [`Notifier`] sink:
//! - failure streaks are kept in `<state>/failures.json`; a document failing `notify.failure_streak`
//!   rounds in a row is reported once as a persistent failure, and once more when it recovers;
//!   publishing to a remote (the round's `publish` outcome) follows the same rule, as the
//!   subject `(publish)`;
//! - memos drafted in the round (those passing `notify.min_significance` and `notify.topics`) and
//!   the failure events are announced: `memos/feed.xml` (Atom, the latest 50 memos) is rewritten,
//!   each configured webhook receives `{round, memos, failures}` as JSON, with retries, and an
//!   e-mail digest goes out over SMTP (STARTTLS, TLS, or none for a local relay).
//!
//! A notification that fails is logged and never fails the round. Webhook tokens and the SMTP
//! password come from environment variables (or a file) named in the configuration, never from
//! the configuration itself.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::memo::{MemoStore, StoredMemo};
use crate::report::{DocumentStatus, RunReport, Sink};
use crate::{Error, FailureClass, Result};

/// Memos listed in the feed.
const FEED_ENTRIES: usize = 50;

/// A memo as notifications show it.
#[derive(Debug, Clone, Serialize)]
pub struct MemoNotice {
    /// Title.
    pub title: String,
    /// Service id.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// Date of the change.
    pub date: String,
    /// Commit of the change.
    pub commit: Option<String>,
    /// Significance.
    pub significance: f64,
    /// Topics.
    pub topics: Vec<String>,
    /// One-paragraph HTML summary.
    pub html_description: String,
    /// Link to the change (`memos.commit_url`), if configured.
    pub link: Option<String>,
    /// The memo file.
    pub path: String,
    /// `draft`, `published` or `rejected`.
    pub status: String,
}

/// A persistent failure, or its recovery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailureNotice {
    /// Service id.
    pub service: String,
    /// Terms type.
    pub terms_type: String,
    /// `persistent` or `recovered`.
    pub event: String,
    /// The class of the last failure.
    pub error_class: Option<FailureClass>,
    /// The last failure's message.
    pub error: Option<String>,
    /// Consecutive failed rounds.
    pub streak: usize,
}

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
    let path = state.join("failures.json");
    let mut streaks: BTreeMap<String, Streak> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    // Each document, and publishing, is one subject: (its streak key, the notice's names, the
    // round's outcome). Every subject follows the same rule.
    let mut subjects: Vec<(String, FailureNotice, bool)> = report
        .documents
        .iter()
        .map(|document| {
            (
                format!("{}/{}", document.service, document.terms_type),
                FailureNotice {
                    service: document.service.clone(),
                    terms_type: document.terms_type.clone(),
                    event: String::new(),
                    error_class: document.error_class,
                    error: document.error.clone(),
                    streak: 0,
                },
                document.status == DocumentStatus::Failed,
            )
        })
        .collect();
    if let Some(publish) = &report.publish {
        let target = format!("{} {}", publish.remote, publish.branch);
        subjects.push((
            format!("(publish)/{target}"),
            FailureNotice {
                service: "(publish)".into(),
                terms_type: target,
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
    std::fs::create_dir_all(state)
        .and_then(|()| std::fs::write(&path, json))
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    Ok(events)
}

fn memo_notice(memo: StoredMemo, config: &Config) -> MemoNotice {
    let record = memo.record;
    MemoNotice {
        link: match (&record.commit, &config.memos.commit_url) {
            (Some(commit), Some(template)) => Some(template.replace("{commit}", commit)),
            _ => None,
        },
        title: memo.title,
        service: record.service,
        terms_type: record.terms_type,
        date: record.date.unwrap_or_default(),
        commit: record.commit,
        significance: record.significance,
        topics: record.topics,
        html_description: record.html_description,
        path: memo.path.display().to_string(),
        status: memo.status,
    }
}

fn passes_thresholds(memo: &MemoNotice, config: &Config) -> bool {
    memo.significance >= config.notify.min_significance
        && (config.notify.topics.is_empty()
            || memo.topics.iter().any(|t| config.notify.topics.contains(t)))
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Rewrites the feeds of the memos folder: `feed.xml` with the latest memos whatever their
/// status (each entry says its status as a category), and `published.xml`, the public feed, with
/// the latest published memos only.
pub fn write_feed(config: &Config) -> Result<()> {
    let dir = &config.memos.dir;
    let store = MemoStore::new(dir);
    // Memo files are named by date first: the newest are read, not the whole folder's history.
    let mut every: Vec<MemoNotice> = Vec::new();
    let mut published: Vec<MemoNotice> = Vec::new();
    for path in store.paths_newest_first() {
        if every.len() >= FEED_ENTRIES && published.len() >= FEED_ENTRIES {
            break;
        }
        let Some(memo) = store
            .read(&path)
            .map(|memo| memo_notice(memo, config))
            .filter(|m| passes_thresholds(m, config))
        else {
            continue;
        };
        if memo.status == "published" && published.len() < FEED_ENTRIES {
            published.push(memo.clone());
        }
        if every.len() < FEED_ENTRIES {
            every.push(memo);
        }
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let facts: Vec<crate::facts::FactChange> = crate::facts::FactLog::in_dir(dir)
        .read()?
        .into_iter()
        .rev()
        .take(FEED_ENTRIES)
        .collect();
    write_atom(
        config,
        &dir.join("feed.xml"),
        "policydiff: changes to terms and policies (drafts and reviewed memos)",
        "all",
        every,
        &facts,
    )?;
    write_atom(
        config,
        &dir.join("published.xml"),
        "policydiff: published memos on changes to terms and policies",
        "published",
        published,
        &[],
    )
}

/// An Atom entry for a changed answer: `<category term="fact"/>` and the fact's id, the old and
/// new answers, and the evidence.
fn fact_entry(config: &Config, change: &crate::facts::FactChange) -> String {
    let id = format!(
        "urn:policydiff:fact:{}:{}:{}",
        change.service, change.id, change.commit
    );
    let title = format!(
        "{}: {} — now {} (was {})",
        change.service, change.question, change.to, change.from
    );
    let mut summary = format!(
        "<p>{} {}: {} → {} ({}, {}).</p>",
        html_text(&change.service),
        html_text(&change.question),
        html_text(&change.from),
        html_text(&change.to),
        html_text(&change.terms_type),
        html_text(&change.date)
    );
    for evidence in &change.evidence {
        summary.push_str(&format!(
            "<blockquote>“{}” ({}, {})</blockquote>",
            html_text(&evidence.quote),
            html_text(&evidence.terms_type),
            html_text(&evidence.date)
        ));
    }
    let link = match &config.memos.commit_url {
        Some(template) => format!(
            "    <link rel=\"alternate\" href=\"{}\"/>\n",
            xml_escape(&template.replace("{commit}", &change.commit))
        ),
        None => String::new(),
    };
    format!(
        "  <entry>\n    <id>{}</id>\n    <title>{}</title>\n    <updated>{}T00:00:00Z</updated>\n{link}    <category term=\"fact\"/>\n    <category scheme=\"urn:policydiff:fact\" term=\"{}\"/>\n    <summary type=\"html\">{}</summary>\n  </entry>\n",
        xml_escape(&id),
        xml_escape(&title),
        xml_escape(&change.date),
        xml_escape(&change.id),
        xml_escape(&summary)
    )
}

fn html_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The scheme of the category that gives a memo's review status in the feeds.
pub const STATUS_SCHEME: &str = "urn:policydiff:status";

fn write_atom(
    config: &Config,
    path: &Path,
    title: &str,
    feed_id: &str,
    mut memos: Vec<MemoNotice>,
    facts: &[crate::facts::FactChange],
) -> Result<()> {
    memos.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| b.path.cmp(&a.path)));
    let updated = memos
        .first()
        .map(|m| format!("{}T00:00:00Z", m.date))
        .unwrap_or_else(|| Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    xml.push_str(&format!("  <title>{}</title>\n", xml_escape(title)));
    xml.push_str(&format!(
        "  <id>urn:policydiff:feed:{}:{feed_id}</id>\n",
        xml_escape(&config.memos.dir.display().to_string())
    ));
    xml.push_str(&format!("  <updated>{updated}</updated>\n"));
    xml.push_str(&format!(
        "  <author><name>{}</name></author>\n",
        xml_escape(&config.memos.author)
    ));
    xml.push_str("  <generator>policydiff</generator>\n");
    for memo in &memos {
        let id = format!(
            "urn:policydiff:memo:{}:{}:{}",
            memo.commit.as_deref().unwrap_or("none"),
            memo.service,
            memo.terms_type
        );
        xml.push_str("  <entry>\n");
        xml.push_str(&format!("    <id>{}</id>\n", xml_escape(&id)));
        xml.push_str(&format!("    <title>{}</title>\n", xml_escape(&memo.title)));
        xml.push_str(&format!(
            "    <updated>{}T00:00:00Z</updated>\n",
            xml_escape(&memo.date)
        ));
        let link = memo
            .link
            .clone()
            .unwrap_or_else(|| format!("file://{}", memo.path));
        xml.push_str(&format!(
            "    <link rel=\"alternate\" href=\"{}\"/>\n",
            xml_escape(&link)
        ));
        xml.push_str(&format!(
            "    <category scheme=\"{STATUS_SCHEME}\" term=\"{}\"/>\n",
            xml_escape(&memo.status)
        ));
        for topic in &memo.topics {
            xml.push_str(&format!("    <category term=\"{}\"/>\n", xml_escape(topic)));
        }
        let summary = format!(
            "{} (significance {:.2}; topics: {})",
            memo.html_description,
            memo.significance,
            if memo.topics.is_empty() {
                "none".to_string()
            } else {
                memo.topics.join(", ")
            }
        );
        xml.push_str(&format!(
            "    <summary type=\"html\">{}</summary>\n",
            xml_escape(&summary)
        ));
        xml.push_str("  </entry>\n");
    }
    for change in facts {
        xml.push_str(&fact_entry(config, change));
    }
    xml.push_str("</feed>\n");
    let temporary = path.with_extension("xml.tmp");
    std::fs::write(&temporary, xml)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

async fn post_webhook(
    url: &str,
    token: Option<String>,
    body: &serde_json::Value,
) -> std::result::Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let mut last_error = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(attempt))).await;
        }
        let mut request = client
            .post(url)
            .header("Content-Type", "application/json")
            .body(body.to_string());
        if let Some(token) = &token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last_error = format!("HTTP {}", response.status().as_u16()),
            Err(error) => last_error = error.to_string(),
        }
    }
    Err(last_error)
}

/// The text of the e-mail digest: memos most significant first, then failures.
pub fn digest_text(notice: &RoundNotice) -> (String, String) {
    let mut memos = notice.memos.clone();
    memos.sort_by(|a, b| b.significance.total_cmp(&a.significance));
    let persistent = notice
        .failures
        .iter()
        .filter(|f| f.event == "persistent")
        .count();
    let subject = format!(
        "policydiff: {} change{} to review, {} persistent failure{}",
        memos.len(),
        if memos.len() == 1 { "" } else { "s" },
        persistent,
        if persistent == 1 { "" } else { "s" }
    );
    let mut body = String::new();
    if !memos.is_empty() {
        body.push_str("Changes (most significant first):\n\n");
        for memo in &memos {
            body.push_str(&format!(
                "- {} [{:.2}; {}]\n  {}\n",
                memo.title,
                memo.significance,
                if memo.topics.is_empty() {
                    "no topic".to_string()
                } else {
                    memo.topics.join(", ")
                },
                memo.link.as_deref().unwrap_or(&memo.path)
            ));
        }
        body.push('\n');
    }
    if !notice.facts.is_empty() {
        body.push_str("Policy facts that changed:\n\n");
        for change in &notice.facts {
            body.push_str(&format!(
                "- {}: {} now {} (was {})\n",
                change.service, change.question, change.to, change.from
            ));
            for evidence in &change.evidence {
                body.push_str(&format!(
                    "  “{}” ({}, {})\n",
                    evidence.quote, evidence.terms_type, evidence.date
                ));
            }
        }
        body.push('\n');
    }
    if !notice.failures.is_empty() {
        body.push_str("Documents:\n\n");
        for failure in &notice.failures {
            match failure.event.as_str() {
                "persistent" => body.push_str(&format!(
                    "- {} / {} has failed {} rounds in a row ({}): {}\n",
                    failure.service,
                    failure.terms_type,
                    failure.streak,
                    failure.error_class.map(|c| c.as_str()).unwrap_or("?"),
                    failure.error.as_deref().unwrap_or("")
                )),
                _ => body.push_str(&format!(
                    "- {} / {} works again\n",
                    failure.service, failure.terms_type
                )),
            }
        }
    }
    (subject, body)
}

async fn send_email(
    email: &crate::config::EmailConfig,
    notice: &RoundNotice,
) -> std::result::Result<(), String> {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    let (subject, body) = digest_text(notice);
    let mut message = Message::builder()
        .from(email.from.parse().map_err(|e| format!("from: {e}"))?)
        .subject(subject);
    for to in &email.to {
        message = message.to(to.parse().map_err(|e| format!("to {to}: {e}"))?);
    }
    let message = message.body(body).map_err(|e| e.to_string())?;
    let mut transport = match email.security.as_str() {
        "tls" => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&email.host).map_err(|e| e.to_string())?
        }
        "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&email.host),
        _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&email.host)
            .map_err(|e| e.to_string())?,
    };
    if let Some(port) = email.port {
        transport = transport.port(port);
    }
    let password = match (&email.password_env, &email.password_file) {
        (Some(name), _) => std::env::var(name).ok(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .ok()
            .map(|p| p.trim().to_string()),
        _ => None,
    };
    if let (Some(user), Some(password)) = (&email.username, password) {
        transport = transport.credentials(
            lettre::transport::smtp::authentication::Credentials::new(user.clone(), password),
        );
    }
    transport
        .timeout(Some(Duration::from_secs(30)))
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// What a round announces.
#[derive(Debug, Clone, Serialize)]
pub struct RoundNotice {
    /// When the round started and ended, and its counts.
    pub round: serde_json::Value,
    /// Memos drafted in the round (above the thresholds).
    pub memos: Vec<MemoNotice>,
    /// Persistent failures and recoveries.
    pub failures: Vec<FailureNotice>,
    /// Policy facts whose answer the round's changes changed.
    pub facts: Vec<crate::facts::FactChange>,
}

/// Runs the notifications of a round. Problems are logged, never returned as a failed round.
pub async fn after_round(config: &Config, report: &RunReport) -> RoundNotice {
    let failures = failure_events(&config.state, report, config.notify.failure_streak)
        .unwrap_or_else(|error| {
            tracing::warn!("failure streaks not updated: {error}");
            Vec::new()
        });
    let store = MemoStore::new(&config.memos.dir);
    let memos: Vec<MemoNotice> = report
        .documents
        .iter()
        .filter_map(|d| d.memo.as_deref())
        .filter_map(|path| store.read(Path::new(path)))
        .map(|memo| memo_notice(memo, config))
        .filter(|m| passes_thresholds(m, config))
        // With `only_published`, memos are announced when a reviewer publishes them.
        .filter(|m| !config.notify.only_published || m.status == "published")
        .collect();
    // The answer changes the round's commits made (logged while recording).
    let commits: Vec<&str> = report
        .documents
        .iter()
        .filter_map(|d| d.commit.as_deref())
        .collect();
    let facts: Vec<crate::facts::FactChange> = crate::facts::FactLog::in_dir(&config.memos.dir)
        .read()
        .unwrap_or_else(|error| {
            tracing::warn!("policy fact changes not read: {error}");
            Vec::new()
        })
        .into_iter()
        .filter(|change| commits.contains(&change.commit.as_str()))
        .collect();
    let notice = RoundNotice {
        facts,
        round: serde_json::json!({
            "started_at": report.started_at,
            "finished_at": report.finished_at,
            "recorded": report.recorded,
            "unchanged": report.unchanged,
            "failed": report.failed,
            "held_back": report.held_back,
        }),
        memos,
        failures,
    };
    if config.notify.feed
        && (report.documents.iter().any(|d| d.memo.is_some()) || !notice.facts.is_empty())
        && let Err(error) = write_feed(config)
    {
        tracing::warn!("feed not written: {error}");
    }
    if notice.memos.is_empty() && notice.failures.is_empty() && notice.facts.is_empty() {
        return notice;
    }
    for problem in deliver(config, &notice).await {
        tracing::warn!("{problem}");
    }
    notice
}

/// Sends a notice to every webhook and the e-mail digest; says what failed.
async fn deliver(config: &Config, notice: &RoundNotice) -> Vec<String> {
    let mut problems = Vec::new();
    let body = serde_json::to_value(notice).unwrap_or_default();
    for hook in &config.notify.webhooks {
        let token = hook
            .token_env
            .as_ref()
            .and_then(|name| std::env::var(name).ok());
        if let Err(error) = post_webhook(&hook.url, token, &body).await {
            problems.push(format!(
                "webhook {} failed after 3 attempts: {error}",
                hook.url
            ));
        }
    }
    if let Some(email) = &config.notify.email
        && let Err(error) = send_email(email, notice).await
    {
        problems.push(format!("e-mail digest to {} not sent: {error}", email.host));
    }
    problems
}

/// Announces a memo a reviewer has just published: the feeds are rewritten, and with
/// `notify.only_published` the webhooks and the e-mail digest receive it (as a round's memos do).
/// Problems are logged and returned as a list of what failed, never as an error: the memo is
/// published whatever the notifications do.
pub async fn after_publishing(config: &Config, memo: StoredMemo) -> Vec<String> {
    let mut problems = Vec::new();
    if config.notify.feed
        && let Err(error) = write_feed(config)
    {
        problems.push(format!("feeds not written: {error}"));
    }
    let notice = memo_notice(memo, config);
    if !config.notify.only_published || !passes_thresholds(&notice, config) {
        return problems;
    }
    let notice = RoundNotice {
        round: serde_json::Value::Null,
        memos: vec![notice],
        failures: Vec::new(),
        facts: Vec::new(),
    };
    problems.extend(deliver(config, &notice).await);
    for problem in &problems {
        tracing::warn!("{problem}");
    }
    problems
}

/// The notifications as a [`Sink`]: every round the daemon runs is announced.
pub struct Notifier<'a> {
    config: &'a Config,
}

impl<'a> Notifier<'a> {
    /// Notifications as `config` sets them.
    pub fn new(config: &'a Config) -> Self {
        Notifier { config }
    }
}

impl Sink for Notifier<'_> {
    async fn round(&mut self, report: &RunReport) {
        after_round(self.config, report).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::DocumentReport;

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
            documents: vec![DocumentReport {
                service: "Example".into(),
                terms_type: "Privacy Policy".into(),
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
                    .map(|e| format!("{} {}:{}:{}", e.service, e.terms_type, e.event, e.streak))
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
