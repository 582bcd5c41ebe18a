//! Notifications after each round: the Atom feed, webhooks, the e-mail digest, and failure
//! streaks; one file per way (`feed`, `webhook`, `smtp`, `streaks`).
//!
//! [`Notifier`] is a [`Sink`] the caller (`policydiff track`, the daemon) passes to the round;
//! it announces what the round's report holds (its memos and policy-fact changes come with it,
//! nothing is read back from disk) through [`after_round`]:
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

use serde::Serialize;

use crate::config::Config;
use crate::declaration::DocumentId;
use crate::memo::{MemoSummary, StoredMemo};
use crate::report::{RunReport, Sink};

mod feed;
mod smtp;
pub mod streaks;
mod webhook;

pub use feed::{STATUS_SCHEME, fact_changes_feed, write_feed};
pub use smtp::digest_text;
pub use streaks::{FailureNotice, failure_events};

/// A memo as notifications show it.
#[derive(Debug, Clone, Serialize)]
pub struct MemoNotice {
    /// Title.
    pub title: String,
    /// The document.
    #[serde(flatten)]
    pub document: DocumentId,
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

fn memo_notice(memo: MemoSummary, config: &Config) -> MemoNotice {
    MemoNotice {
        link: match (&memo.commit, &config.memos.commit_url) {
            (Some(commit), Some(template)) => Some(template.replace("{commit}", commit)),
            _ => None,
        },
        title: memo.title,
        document: memo.document,
        date: memo.date.unwrap_or_default(),
        commit: memo.commit,
        significance: memo.significance,
        topics: memo.topics,
        html_description: memo.html_description,
        path: memo.path.display().to_string(),
        status: memo.status,
    }
}

fn passes_thresholds(memo: &MemoNotice, config: &Config) -> bool {
    memo.significance >= config.notify.min_significance
        && (config.notify.topics.is_empty()
            || memo.topics.iter().any(|t| config.notify.topics.contains(t)))
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
    let memos: Vec<MemoNotice> = report
        .memos
        .iter()
        .map(|memo| memo_notice(memo.clone(), config))
        .filter(|m| passes_thresholds(m, config))
        // With `only_published`, memos are announced when a reviewer publishes them.
        .filter(|m| !config.notify.only_published || m.status == "published")
        .collect();
    let notice = RoundNotice {
        facts: report.fact_changes.clone(),
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
        && (!report.memos.is_empty() || !notice.facts.is_empty())
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
        if let Err(error) = webhook::post(&hook.url, token, &body).await {
            problems.push(format!(
                "webhook {} failed after 3 attempts: {error}",
                hook.url
            ));
        }
    }
    if let Some(email) = &config.notify.email
        && let Err(error) = smtp::send_if_built(email, notice).await
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
    let notice = memo_notice(memo.into_summary(), config);
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
    async fn round(&mut self, report: &mut RunReport) {
        after_round(self.config, report).await;
    }
}
