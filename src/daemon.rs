//! The daemon: tracking rounds on the configured schedules, until told to stop.
//!
//! [`run`] takes the daemon lock (`<state>/daemon.lock`: one daemon per state folder and so per
//! repository), then loops: compute the next run of every [`Schedule`], sleep until the earliest
//! (plus its random jitter), run a round with the same code as `policydiff track` (taking the
//! repository lock only for the round, so commands can be run by hand in between), write
//! `<state>/daemon.json` for `policydiff status`, repeat. Falling behind (a sleeping machine, a
//! round longer than the period) gives one round and then the next future time, never a burst.
//!
//! Stopping: the first stop request (SIGINT/SIGTERM in the binary) ends the sleep, or, during a
//! round, stops starting new documents while those already fetched are recorded; the round is
//! given `daemon.stop_timeout`. The caller exits at once on a second signal; a commit is never
//! half-written, since each is written synchronously between two awaits.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::basics::{state_files, write_atomic};
use crate::config::Config;
use crate::report::Sink;
use crate::schedule::Schedule;
use crate::track;
use crate::{Error, Result};

/// What the daemon tells `status` (`<state>/daemon.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DaemonState {
    /// The daemon's process id.
    pub pid: u32,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When the next round is due.
    pub next_round: Option<DateTime<Utc>>,
    /// Whether a round is running now.
    pub in_round: bool,
}

/// The next round over all schedules.
#[derive(Debug, Clone)]
pub struct NextRound {
    /// When it is due.
    pub when: DateTime<Utc>,
    /// The documents it runs (empty: all).
    pub documents: Vec<String>,
    /// For each schedule, the local time of its latest (or this) run.
    pub last_local: Vec<Option<NaiveDateTime>>,
}

/// The next round over all schedules: schedules due at the same instant run together.
pub fn next_round(
    schedules: &[Schedule],
    after: DateTime<Utc>,
    last_local: &[Option<NaiveDateTime>],
) -> Option<NextRound> {
    let nexts: Vec<Option<(DateTime<Utc>, NaiveDateTime)>> = schedules
        .iter()
        .zip(last_local)
        .map(|(schedule, last)| schedule.next_after(after, *last))
        .collect();
    let when = nexts.iter().flatten().map(|(t, _)| *t).min()?;
    let mut documents = Vec::new();
    let mut all = false;
    let mut locals = last_local.to_vec();
    for ((schedule, next), local) in schedules.iter().zip(&nexts).zip(locals.iter_mut()) {
        if let Some((t, naive)) = next
            && *t == when
        {
            *local = Some(*naive);
            if schedule.documents.is_empty() {
                all = true;
            }
            documents.extend(schedule.documents.iter().cloned());
        }
    }
    if all {
        documents.clear();
    }
    documents.sort();
    documents.dedup();
    Some(NextRound {
        when,
        documents,
        last_local: locals,
    })
}

fn write_state(state_dir: &Path, state: &DaemonState) {
    if let Ok(json) = serde_json::to_string_pretty(state) {
        let path = state_files::daemon_state(state_dir);
        if let Err(error) = write_atomic(&path, json.as_bytes()) {
            tracing::warn!("cannot write {}: {error}", path.display());
        }
    }
}

/// The daemon's own lock, so that a second daemon on the same state refuses to start.
pub fn lock(state_dir: &Path) -> Result<std::fs::File> {
    use std::io::Write;
    std::fs::create_dir_all(state_dir).map_err(|e| {
        Error::io(
            format!("cannot create the state folder {}", state_dir.display()),
            e,
        )
    })?;
    let path = state_files::daemon_lock(state_dir);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).ok();
            let _ = write!(file, "{}", std::process::id());
            Ok(file)
        }
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::DaemonRunning {
            state: state_dir.display().to_string(),
            holder: std::fs::read_to_string(&path)
                .unwrap_or_default()
                .trim()
                .to_string(),
        }),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Error::io(format!("cannot lock {}", path.display()), e))
        }
    }
}

/// Runs rounds on schedule until `stop` is set; `sink` sees each document and each round's
/// report (notifications are the caller's choice of sink).
pub async fn run(
    config: &Config,
    stop: &AtomicBool,
    stop_requested: &tokio::sync::Notify,
    sink: &mut impl Sink,
) -> Result<()> {
    let schedules: Vec<Schedule> = config
        .schedule
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            Schedule::from_spec(spec).map_err(|reason| Error::Schedule { index, reason })
        })
        .collect::<Result<_>>()?;
    let _lock = lock(&config.state)?;
    let started_at = Utc::now();
    // Whatever an earlier run could not push goes out before the first round.
    if crate::publish::has_unpushed(config.publisher())
        && let Err(error) = crate::publish::publish(config.publisher()).await
    {
        tracing::warn!("publishing state not kept: {error}");
    }
    let mut last_local: Vec<Option<NaiveDateTime>> = vec![None; schedules.len()];
    while !stop.load(Ordering::SeqCst) {
        let Some(NextRound {
            when,
            documents,
            last_local: locals,
        }) = next_round(&schedules, Utc::now(), &last_local)
        else {
            tracing::warn!("no schedule fires again; the daemon stops");
            break;
        };
        last_local = locals;
        let jitter = schedules.iter().map(|s| s.jitter).max().unwrap_or_default();
        let jitter = if jitter.is_zero() {
            std::time::Duration::ZERO
        } else {
            std::time::Duration::from_millis(rand::random_range(0..=jitter.as_millis() as u64))
        };
        write_state(
            &config.state,
            &DaemonState {
                pid: std::process::id(),
                started_at,
                next_round: Some(when),
                in_round: false,
            },
        );
        tracing::info!(next_round = %when, "waiting for the next round");
        let wait = (when - Utc::now()).to_std().unwrap_or_default() + jitter;
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop_requested.notified() => {}
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        write_state(
            &config.state,
            &DaemonState {
                pid: std::process::id(),
                started_at,
                next_round: Some(when),
                in_round: true,
            },
        );
        let round = track::track_until(config, &documents, &mut *sink, stop);
        // Once a stop is requested, the round has `stop_timeout` to record what it fetched.
        let result = tokio::select! {
            result = round => Some(result),
            _ = async {
                stop_requested.notified().await;
                tokio::time::sleep(config.daemon.stop_timeout).await;
            } => None,
        };
        match result {
            Some(Ok(_)) => {}
            Some(Err(Error::Locked { .. })) => {
                tracing::warn!("the repository is in use by another run; this round is skipped");
            }
            Some(Err(error)) => tracing::error!("round failed: {error}"),
            None => {
                tracing::warn!("the round did not finish within daemon.stop_timeout; stopping");
                break;
            }
        }
    }
    write_state(
        &config.state,
        &DaemonState {
            pid: std::process::id(),
            started_at,
            next_round: None,
            in_round: false,
        },
    );
    Ok(())
}

/// Runs the daemon until SIGINT or SIGTERM: the first signal starts no new fetch, records what
/// is fetched and returns within `daemon.stop_timeout`; a second one exits the process at once
/// (status 130; a commit is never half-written, the repository's writes are atomic).
pub async fn run_until_signalled(config: &Config, sink: &mut impl Sink) -> Result<()> {
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let stop_requested = std::sync::Arc::new(tokio::sync::Notify::new());
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| Error::io("cannot listen for SIGTERM", e))?;
    {
        let (stop, stop_requested) = (stop.clone(), stop_requested.clone());
        tokio::spawn(async move {
            let mut signals = 0;
            loop {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                signals += 1;
                if signals > 1 {
                    eprintln!("policydiff daemon: second signal, exiting now");
                    std::process::exit(130);
                }
                tracing::info!("stop requested: finishing what is fetched, then exiting");
                stop.store(true, Ordering::SeqCst);
                stop_requested.notify_one();
            }
        });
    }
    run(config, &stop, &stop_requested, sink).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::ScheduleSpec;
    use chrono::TimeZone;

    #[test]
    fn schedules_firing_together_merge_their_documents() {
        let every_minute = Schedule::from_spec(&ScheduleSpec {
            cron: "* * * * *".into(),
            documents: vec!["Instagram".into()],
            ..Default::default()
        })
        .unwrap();
        let hourly = Schedule::from_spec(&ScheduleSpec {
            cron: "0 * * * *".into(),
            ..Default::default()
        })
        .unwrap();
        let schedules = [every_minute, hourly];
        let NextRound {
            when, documents, ..
        } = next_round(
            &schedules,
            Utc.with_ymd_and_hms(2025, 1, 1, 10, 30, 30).unwrap(),
            &[None, None],
        )
        .unwrap();
        assert_eq!(when, Utc.with_ymd_and_hms(2025, 1, 1, 10, 31, 0).unwrap());
        assert_eq!(documents, ["Instagram"]);
        let NextRound {
            when, documents, ..
        } = next_round(
            &schedules,
            Utc.with_ymd_and_hms(2025, 1, 1, 10, 59, 30).unwrap(),
            &[None, None],
        )
        .unwrap();
        assert_eq!(when, Utc.with_ymd_and_hms(2025, 1, 1, 11, 0, 0).unwrap());
        assert!(documents.is_empty(), "the hourly schedule runs everything");
    }
}
