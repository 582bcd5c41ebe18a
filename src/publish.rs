//! Publishing the versions: pushing the versions repository's branch to a remote after rounds.
//!
//! [`publish`] pushes the branch's tip to `publish.remote` (`publish.branch`, default `main`) and
//! returns a [`PublishReport`]: `pushed`, `up_to_date`, `failed` (unreachable, refused,
//! credentials; with the reason) or `diverged` (the remote holds commits the repository does
//! not: never overwritten, there is no force push). What was pushed is kept in
//! `<state>/publish.json` ([`PublishState`]), so that `status` can say how many commits wait and
//! the next round pushes everything a failed one left. Publishing never touches what is
//! recorded: a failed push leaves every commit where it is.
//!
//! Pushing is done by the system's `git`, so that the remote is reached the way its owner reaches
//! it: their SSH configuration and agent, known hosts and credential helpers. A key file
//! (`publish.ssh_key`) or a token from the environment (`publish.token_env`, for https) can be
//! named instead; neither is ever written to a log, a report or a command line.
//!
//! ```
//! use policydiff::publish::redact;
//!
//! assert_eq!(redact("https://bot:s3cret@example.org/org/versions.git"), "https://***@example.org/org/versions.git");
//! assert_eq!(redact("git@github.com:org/versions.git"), "git@github.com:org/versions.git");
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::basics::{state_files, write_atomic};
pub use crate::report::{PublishReport, PublishStatus};
use crate::report::{RunReport, Sink};
use crate::{Error, FailureClass, Result};

/// `publish:` in `config.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishConfig {
    /// Where to push, as git users write it: `git@host:org/repo.git`, `ssh://…`, `https://…`,
    /// `git://…`, or a path / `file://` URL of a bare repository.
    pub remote: String,
    /// The remote branch (default `main`).
    #[serde(default = "default_branch")]
    pub branch: String,
    /// An SSH private key file to push with (default: the user's SSH agent and configuration).
    #[serde(default)]
    pub ssh_key: Option<PathBuf>,
    /// The environment variable holding a token for an https remote.
    #[serde(default)]
    pub token_env: Option<String>,
    /// The user name sent with the token (`x-access-token` suits GitHub; GitLab wants `oauth2`).
    #[serde(default = "default_token_user")]
    pub token_user: String,
    /// How long a push may take before it is given up (default 2 minutes).
    #[serde(
        default = "default_timeout",
        deserialize_with = "crate::units::duration"
    )]
    pub timeout: Duration,
}

fn default_branch() -> String {
    "main".into()
}

fn default_token_user() -> String {
    "x-access-token".into()
}

fn default_timeout() -> Duration {
    Duration::from_secs(120)
}

/// What has been published, kept in `<state>/publish.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PublishState {
    /// The remote (without credentials) and branch these lines are about.
    pub remote: String,
    /// The remote branch.
    pub branch: String,
    /// The last commit the remote branch is known to have.
    pub last_pushed_commit: Option<String>,
    /// When it was pushed (or found there).
    pub last_push_at: Option<DateTime<Utc>>,
    /// The last attempt, whatever its end.
    pub last_attempt: Option<PublishReport>,
    /// When the last attempt was made.
    pub last_attempt_at: Option<DateTime<Utc>>,
}

impl PublishState {
    fn path(state_dir: &Path) -> PathBuf {
        state_files::publish_state(state_dir)
    }

    /// The state kept for `publish`'s remote and branch (a fresh one when they changed).
    pub fn read(state_dir: &Path, publish: &PublishConfig) -> PublishState {
        let remote = redact(&publish.remote);
        std::fs::read_to_string(Self::path(state_dir))
            .ok()
            .and_then(|text| serde_json::from_str::<PublishState>(&text).ok())
            .filter(|state| state.remote == remote && state.branch == publish.branch)
            .unwrap_or(PublishState {
                remote,
                branch: publish.branch.clone(),
                ..PublishState::default()
            })
    }

    fn write(&self, state_dir: &Path) -> Result<()> {
        let path = Self::path(state_dir);
        let json = serde_json::to_string_pretty(self).unwrap_or_default();
        write_atomic(&path, json.as_bytes())
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    }
}

/// What `status` shows of publishing.
#[derive(Debug, Clone, Serialize)]
pub struct PublishSummary {
    /// The remote, without credentials.
    pub remote: String,
    /// The remote branch.
    pub branch: String,
    /// When the last successful push was.
    pub last_push_at: Option<DateTime<Utc>>,
    /// Commits of the repository's branch not yet on the remote (as far as the last push knows).
    pub unpushed: usize,
    /// How the last attempt ended.
    pub last_status: Option<PublishStatus>,
    /// Its reason, when it failed.
    pub last_error: Option<String>,
}

/// Publishing as a configuration sets it: where to push, from which repository, and the state
/// folder that keeps what was pushed (`Config::publisher` makes one).
#[derive(Debug, Clone, Copy)]
pub struct Publisher<'a> {
    /// `publish:` of `config.yaml`.
    pub settings: &'a PublishConfig,
    /// The versions repository.
    pub snapshots: &'a Path,
    /// The state folder.
    pub state: &'a Path,
}

/// The publishing summary (`None` without `publish:`).
pub fn summary(publisher: Option<Publisher<'_>>) -> Option<PublishSummary> {
    let publisher = publisher?;
    let state = PublishState::read(publisher.state, publisher.settings);
    let unpushed = git2::Repository::open(publisher.snapshots)
        .ok()
        .and_then(|repo| unpushed_commits(&repo, state.last_pushed_commit.as_deref()).ok())
        .unwrap_or(0);
    Some(PublishSummary {
        remote: state.remote.clone(),
        branch: state.branch.clone(),
        last_push_at: state.last_push_at,
        unpushed,
        last_status: state.last_attempt.as_ref().map(|a| a.status),
        last_error: state.last_attempt.and_then(|a| a.error),
    })
}

/// Commits of the repository's branch that are not in `pushed`'s history (all of them when
/// nothing was pushed, or when `pushed` is not in the repository).
fn unpushed_commits(repo: &git2::Repository, pushed: Option<&str>) -> Result<usize> {
    let failed = |e: git2::Error| Error::Repository {
        context: "cannot count the unpushed commits".into(),
        message: e.message().to_string(),
    };
    let Ok(head) = repo.head() else {
        return Ok(0);
    };
    let Some(tip) = head.target() else {
        return Ok(0);
    };
    let mut walk = repo.revwalk().map_err(failed)?;
    walk.push(tip).map_err(failed)?;
    if let Some(pushed) = pushed.and_then(|p| git2::Oid::from_str(p).ok())
        && repo.find_commit(pushed).is_ok()
    {
        walk.hide(pushed).map_err(failed)?;
    }
    Ok(walk.count())
}

/// Whether anything waits to be pushed (the daemon pushes at start when so).
pub fn has_unpushed(publisher: Option<Publisher<'_>>) -> bool {
    summary(publisher).is_some_and(|s| s.unpushed > 0)
}

/// Pushes the versions repository's branch to `publish.remote`; `None` without `publish:`.
/// Every outcome, failures included, is a report (and is kept in `<state>/publish.json`); an
/// error is returned only when the state cannot be written.
pub async fn publish(publisher: Option<Publisher<'_>>) -> Result<Option<PublishReport>> {
    let Some(publisher) = publisher else {
        return Ok(None);
    };
    let publish = publisher.settings;
    let mut state = PublishState::read(publisher.state, publish);
    let report = push(publisher.snapshots, publish, &state).await;
    let now = Utc::now();
    if report.succeeded() {
        state.last_pushed_commit = report.commit.clone();
        state.last_push_at = Some(now);
    }
    match &report.error {
        Some(error) => {
            tracing::warn!(remote = %report.remote, "publish {}: {error}", report.status.as_str());
        }
        None => {
            tracing::info!(remote = %report.remote, commits = report.commits, "publish {}", report.status.as_str());
        }
    }
    state.last_attempt = Some(report.clone());
    state.last_attempt_at = Some(now);
    state.write(publisher.state)?;
    Ok(Some(report))
}

async fn push(snapshots: &Path, publish: &PublishConfig, state: &PublishState) -> PublishReport {
    let remote = redact(&publish.remote);
    let mut report = PublishReport {
        remote: remote.clone(),
        branch: publish.branch.clone(),
        status: PublishStatus::Failed,
        commit: None,
        commits: 0,
        error_class: None,
        error: None,
    };
    let fail = |mut report: PublishReport, error: Error| {
        report.status = match error.class() {
            FailureClass::PublishDiverged => PublishStatus::Diverged,
            _ => PublishStatus::Failed,
        };
        report.error_class = Some(error.class());
        report.error = Some(error.to_string());
        report
    };
    let failed = |reason: String| Error::PublishFailed {
        remote: remote.clone(),
        reason,
    };
    let (tip, unpushed) = match git2::Repository::open(snapshots) {
        Ok(repo) => {
            let tip = repo
                .head()
                .ok()
                .and_then(|head| head.target())
                .map(|oid| oid.to_string());
            let unpushed =
                unpushed_commits(&repo, state.last_pushed_commit.as_deref()).unwrap_or(0);
            (tip, unpushed)
        }
        Err(error) => {
            let reason = format!(
                "the versions repository {} cannot be opened: {}",
                snapshots.display(),
                error.message()
            );
            return fail(report, failed(reason));
        }
    };
    let Some(tip) = tip else {
        // Nothing recorded yet: nothing to publish.
        report.status = PublishStatus::UpToDate;
        return report;
    };
    report.commit = Some(tip.clone());
    if state.last_pushed_commit.as_deref() == Some(tip.as_str()) {
        report.status = PublishStatus::UpToDate;
        return report;
    }
    let mut command = tokio::process::Command::new("git");
    command
        .current_dir(snapshots)
        .args(["push", "--porcelain", "--quiet"])
        .arg(&publish.remote)
        .arg(format!("{tip}:refs/heads/{}", publish.branch))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        // Never wait for a person to type a password: a daemon has nobody to ask.
        .env("GIT_TERMINAL_PROMPT", "0");
    if let Some(key) = &publish.ssh_key {
        if !key.is_file() {
            let reason = format!("the SSH key {} is not a readable file", key.display());
            return fail(report, failed(reason));
        }
        command.env(
            "GIT_SSH_COMMAND",
            format!(
                "ssh -i '{}' -o IdentitiesOnly=yes -o BatchMode=yes",
                key.display().to_string().replace('\'', "'\\''")
            ),
        );
    }
    if let Some(name) = &publish.token_env {
        let Some(token) = std::env::var(name).ok().filter(|t| !t.is_empty()) else {
            let reason = format!("the environment variable {name} (publish.token_env) is not set");
            return fail(report, failed(reason));
        };
        // Given to git through its environment (never its command line, which other users of
        // the machine can read), as the header of every request to the remote.
        use base64::Engine;
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{token}", publish.token_user));
        let index: usize = std::env::var("GIT_CONFIG_COUNT")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        command
            .env("GIT_CONFIG_COUNT", (index + 1).to_string())
            .env(format!("GIT_CONFIG_KEY_{index}"), "http.extraHeader")
            .env(
                format!("GIT_CONFIG_VALUE_{index}"),
                format!("Authorization: Basic {credentials}"),
            );
    }
    let output = match tokio::time::timeout(publish.timeout, command.output()).await {
        Err(_) => {
            let reason = format!(
                "the push took longer than {}s (publish.timeout) and was stopped",
                publish.timeout.as_secs()
            );
            return fail(report, failed(reason));
        }
        Ok(Err(error)) => {
            let reason = format!("git cannot be run ({error}); install git");
            return fail(report, failed(reason));
        }
        Ok(Ok(output)) => output,
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = scrub(&String::from_utf8_lossy(&output.stderr), &publish.remote);
    match PushOutcome::of(&stdout, output.status.success()) {
        PushOutcome::Pushed => {
            report.status = PublishStatus::Pushed;
            report.commits = unpushed;
            report
        }
        PushOutcome::UpToDate => {
            report.status = PublishStatus::UpToDate;
            report
        }
        PushOutcome::Diverged => fail(
            report,
            Error::PublishDiverged {
                remote: remote.clone(),
                branch: publish.branch.clone(),
            },
        ),
        PushOutcome::Refused(why) => {
            let reason = format!("the remote refused the push ({why})");
            fail(report, failed(reason))
        }
        PushOutcome::Failed => {
            let reason = last_lines(&stderr)
                .unwrap_or_else(|| format!("git push ended with {}", output.status));
            fail(report, failed(reason))
        }
    }
}

/// What `git push --porcelain` said of the branch.
#[derive(Debug, PartialEq, Eq)]
enum PushOutcome {
    Pushed,
    UpToDate,
    /// Not a fast-forward: the remote has commits the repository does not.
    Diverged,
    /// Refused by the remote for a reason of its own (a hook, a protected branch).
    Refused(String),
    /// No answer about the branch: the remote was not reached.
    Failed,
}

impl PushOutcome {
    /// Reads the porcelain lines (`<flag>\t<from>:<to>\t<summary> (<reason>)`).
    fn of(stdout: &str, success: bool) -> PushOutcome {
        for line in stdout.lines() {
            let mut fields = line.split('\t');
            let (Some(flag), Some(_refs), summary) = (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let summary = summary.unwrap_or_default();
            return match flag {
                "=" => PushOutcome::UpToDate,
                " " | "+" | "*" => PushOutcome::Pushed,
                "!" if summary.contains("non-fast-forward") || summary.contains("fetch first") => {
                    PushOutcome::Diverged
                }
                "!" => PushOutcome::Refused(summary.trim().to_string()),
                _ if success => PushOutcome::Pushed,
                _ => PushOutcome::Failed,
            };
        }
        if success {
            PushOutcome::Pushed
        } else {
            PushOutcome::Failed
        }
    }
}

/// The last meaningful lines of git's error output, as one line.
fn last_lines(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect();
    let kept = &lines[lines.len().saturating_sub(3)..];
    (!kept.is_empty()).then(|| kept.join(" "))
}

/// git's words with the remote's credentials, if its address held any, taken out.
fn scrub(text: &str, remote: &str) -> String {
    let redacted = redact(remote);
    if redacted == remote {
        text.to_string()
    } else {
        text.replace(remote, &redacted)
    }
}

/// A remote's address without the user and password it may hold (`https://user:pw@host/…`).
pub fn redact(remote: &str) -> String {
    let Some(scheme_end) = remote.find("://") else {
        return remote.to_string();
    };
    let authority_start = scheme_end + 3;
    let authority_end = remote[authority_start..]
        .find('/')
        .map_or(remote.len(), |at| authority_start + at);
    match remote[authority_start..authority_end].rfind('@') {
        Some(at) => format!(
            "{}***{}",
            &remote[..authority_start],
            &remote[authority_start + at..]
        ),
        None => remote.to_string(),
    }
}

/// Publishing as a sink of the round: after a round that recorded a version, or while an
/// earlier push left commits behind, the branch is pushed, after recording (a slow or failing
/// remote never holds a version back); the outcome goes into the round's report. An interrupted
/// round publishes nothing.
pub struct Publishing<'a> {
    publisher: Option<Publisher<'a>>,
}

impl<'a> Publishing<'a> {
    /// Publishing as configured (`None`: nothing to publish to).
    pub fn new(publisher: Option<Publisher<'a>>) -> Self {
        Publishing { publisher }
    }
}

impl Sink for Publishing<'_> {
    async fn round(&mut self, report: &mut RunReport) {
        if self.publisher.is_none()
            || report.interrupted
            || (report.recorded == 0 && !has_unpushed(self.publisher))
        {
            return;
        }
        report.publish = publish(self.publisher).await.unwrap_or_else(|error| {
            tracing::warn!("publishing state not kept: {error}");
            None
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_lines_say_how_the_push_ended() {
        let line = |flag: &str, summary: &str| {
            format!("To /tmp/remote.git\n{flag}\tabc:refs/heads/main\t{summary}\nDone\n")
        };
        assert_eq!(
            PushOutcome::of(&line(" ", "1111..2222"), true),
            PushOutcome::Pushed
        );
        assert_eq!(
            PushOutcome::of(&line("*", "[new branch]"), true),
            PushOutcome::Pushed
        );
        assert_eq!(
            PushOutcome::of(&line("=", "[up to date]"), true),
            PushOutcome::UpToDate
        );
        assert_eq!(
            PushOutcome::of(&line("!", "[rejected] (fetch first)"), false),
            PushOutcome::Diverged
        );
        assert_eq!(
            PushOutcome::of(&line("!", "[rejected] (non-fast-forward)"), false),
            PushOutcome::Diverged
        );
        assert_eq!(
            PushOutcome::of(
                &line("!", "[remote rejected] (pre-receive hook declined)"),
                false
            ),
            PushOutcome::Refused("[remote rejected] (pre-receive hook declined)".into())
        );
        assert_eq!(PushOutcome::of("", false), PushOutcome::Failed);
    }

    #[test]
    fn credentials_never_appear_in_what_is_said() {
        assert_eq!(
            redact("https://user:tok3n@git.example.org:8443/a/b.git"),
            "https://***@git.example.org:8443/a/b.git"
        );
        assert_eq!(redact("ssh://git@host/a.git"), "ssh://***@host/a.git");
        assert_eq!(redact("/srv/versions.git"), "/srv/versions.git");
        assert_eq!(
            scrub(
                "fatal: unable to access 'https://user:tok3n@host/a.git/': 403",
                "https://user:tok3n@host/a.git"
            ),
            "fatal: unable to access 'https://***@host/a.git/': 403"
        );
        assert_eq!(
            last_lines("hint: try pull\nfatal: could not read from remote\n\n"),
            Some("fatal: could not read from remote".into())
        );
    }
}
