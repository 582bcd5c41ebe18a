//! The daemon's clock: cron schedules in a time zone.
//!
//! A [`Schedule`] is read from `config.yaml` (`schedule: {cron, timezone, documents, jitter}`, or a
//! list of them). The standard 5-field cron form (`0 6,18 * * *`) is accepted as well as the
//! `cron` crate's 6–7 fields (seconds first). [`Schedule::next_after`] works on the local wall
//! clock of the time zone, so daylight-saving changes behave as people expect: a local time that
//! happens twice runs once (at its first occurrence), and one that does not exist runs at the
//! next valid instant (when the clock jumps).
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use policydiff::schedule::{Schedule, ScheduleSpec};
//!
//! let spec = ScheduleSpec { cron: "0 6,18 * * *".into(), timezone: Some("Europe/Paris".into()), ..Default::default() };
//! let schedule = Schedule::from_spec(&spec).unwrap();
//! let next = schedule.next_after(Utc.with_ymd_and_hms(2025, 12, 16, 10, 0, 0).unwrap(), None).unwrap();
//! assert_eq!(next.0, Utc.with_ymd_and_hms(2025, 12, 16, 17, 0, 0).unwrap()); // 18:00 in Paris
//! ```

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

/// One schedule as written in `config.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Cron expression: 5 fields (minute hour day month weekday) or 6–7 (seconds first, year last).
    pub cron: String,
    /// IANA time zone name (default UTC).
    #[serde(default)]
    pub timezone: Option<String>,
    /// The documents of this schedule (`SERVICE` or `SERVICE/TERMS TYPE`); empty: all.
    #[serde(default)]
    pub documents: Vec<String>,
    /// Random delay added to each run, at most this long.
    #[serde(default, deserialize_with = "crate::units::optional_duration")]
    pub jitter: Option<Duration>,
}

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: cron::Schedule,
    timezone: chrono_tz::Tz,
    /// The cron expression as written.
    pub text: String,
    /// The documents it runs (empty: all).
    pub documents: Vec<String>,
    /// Random delay added to each run, at most.
    pub jitter: Duration,
}

impl Schedule {
    /// Reads a schedule; the error says which part is wrong.
    pub fn from_spec(spec: &ScheduleSpec) -> Result<Schedule, String> {
        let fields = spec.cron.split_whitespace().count();
        let expression_text = match fields {
            5 => format!("0 {}", spec.cron.trim()),
            6 | 7 => spec.cron.trim().to_string(),
            n => {
                return Err(format!(
                    "cron {:?} has {n} fields; write 5 (minute hour day month weekday, e.g. \"0 6,18 * * *\") or 6–7 (seconds first)",
                    spec.cron
                ));
            }
        };
        let expression = cron::Schedule::from_str(&expression_text)
            .map_err(|e| format!("cron {:?} is not valid: {e}", spec.cron))?;
        let timezone = match &spec.timezone {
            Some(name) => chrono_tz::Tz::from_str(name).map_err(|_| {
                format!("timezone {name:?} is not an IANA time zone name (e.g. Europe/Paris)")
            })?,
            None => chrono_tz::UTC,
        };
        Ok(Schedule {
            expression,
            timezone,
            text: spec.cron.clone(),
            documents: spec.documents.clone(),
            jitter: spec.jitter.unwrap_or_default(),
        })
    }

    /// The next run strictly after `after`, as an instant and as the local wall-clock time it
    /// stands for. `last_local` is the local time of the previous run: a local time that occurs
    /// twice (clocks going back) is not run a second time.
    pub fn next_after(
        &self,
        after: DateTime<Utc>,
        last_local: Option<NaiveDateTime>,
    ) -> Option<(DateTime<Utc>, NaiveDateTime)> {
        let mut from = after.with_timezone(&self.timezone).naive_local();
        if let Some(last) = last_local
            && last > from
        {
            from = last;
        }
        for _ in 0..10_000 {
            // The expression is evaluated on the wall clock: naive local times stand in as UTC.
            let candidate = self
                .expression
                .after(&Utc.from_utc_datetime(&from))
                .next()?
                .naive_utc();
            let instant = match self.timezone.from_local_datetime(&candidate) {
                LocalResult::Single(t) => t,
                LocalResult::Ambiguous(first, _) => first,
                LocalResult::None => {
                    // In a gap: the next valid instant is when the clock jumps.
                    let mut probe = candidate;
                    loop {
                        probe += chrono::Duration::minutes(1);
                        if let Some(t) = self.timezone.from_local_datetime(&probe).earliest() {
                            break t;
                        }
                        if probe - candidate > chrono::Duration::hours(26) {
                            return None;
                        }
                    }
                }
            };
            let instant = instant.with_timezone(&Utc);
            if instant > after {
                return Some((instant, candidate));
            }
            from = candidate;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris(cron: &str) -> Schedule {
        Schedule::from_spec(&ScheduleSpec {
            cron: cron.into(),
            timezone: Some("Europe/Paris".into()),
            ..Default::default()
        })
        .unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn five_and_six_fields() {
        assert!(
            Schedule::from_spec(&ScheduleSpec {
                cron: "0 6,18 * * *".into(),
                ..Default::default()
            })
            .is_ok()
        );
        assert!(
            Schedule::from_spec(&ScheduleSpec {
                cron: "*/5 * * * * *".into(),
                ..Default::default()
            })
            .is_ok()
        );
        let error = Schedule::from_spec(&ScheduleSpec {
            cron: "0 6".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert!(error.contains("2 fields"), "{error}");
        let error = Schedule::from_spec(&ScheduleSpec {
            cron: "0 6 * * *".into(),
            timezone: Some("Mars/Olympus".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(error.contains("Mars/Olympus"), "{error}");
    }

    #[test]
    fn a_time_that_does_not_exist_runs_when_the_clock_jumps() {
        // 2025-03-30 in Paris: 02:00 becomes 03:00; 02:30 does not exist.
        let schedule = paris("30 2 * * *");
        let (next, _) = schedule.next_after(utc(2025, 3, 29, 12, 0), None).unwrap();
        assert_eq!(
            next,
            utc(2025, 3, 30, 1, 0),
            "03:00 local (+02:00) is 01:00 UTC"
        );
        let (after_that, _) = schedule.next_after(next, None).unwrap();
        assert_eq!(
            after_that,
            utc(2025, 3, 31, 0, 30),
            "the day after, 02:30 exists again"
        );
    }

    #[test]
    fn a_time_that_happens_twice_runs_once() {
        // 2025-10-26 in Paris: 03:00 goes back to 02:00; 02:30 happens twice.
        let schedule = paris("30 2 * * *");
        let (first, local) = schedule.next_after(utc(2025, 10, 25, 12, 0), None).unwrap();
        assert_eq!(first, utc(2025, 10, 26, 0, 30), "the first 02:30 (+02:00)");
        let (next, _) = schedule.next_after(first, Some(local)).unwrap();
        assert_eq!(
            next,
            utc(2025, 10, 27, 1, 30),
            "not the second 02:30, but the next day's (+01:00)"
        );
    }

    #[test]
    fn hourly_runs_continue_through_the_repeated_hour_once() {
        let schedule = paris("0 * * * *");
        let mut at = utc(2025, 10, 25, 23, 30);
        let mut last = None;
        let mut runs = Vec::new();
        for _ in 0..5 {
            let (next, local) = schedule.next_after(at, last).unwrap();
            runs.push(next);
            at = next;
            last = Some(local);
        }
        // Local 02:00 (first), 03:00 (+01:00), 04:00, …: the second 02:00 is not run.
        assert_eq!(runs[0], utc(2025, 10, 26, 0, 0), "02:00 +02:00");
        assert_eq!(
            runs[1],
            utc(2025, 10, 26, 2, 0),
            "03:00 +01:00: the second 02:00 is skipped"
        );
        assert_eq!(runs[2], utc(2025, 10, 26, 3, 0), "04:00 +01:00");
    }

    #[test]
    fn missed_runs_are_not_replayed() {
        let schedule = paris("0 * * * *");
        // The machine slept for three days: the next run is the next future hour, once.
        let (next, _) = schedule
            .next_after(
                utc(2025, 12, 19, 10, 17),
                Some(
                    NaiveDateTime::parse_from_str("2025-12-16 08:00:00", "%Y-%m-%d %H:%M:%S")
                        .unwrap(),
                ),
            )
            .unwrap();
        assert_eq!(next, utc(2025, 12, 19, 11, 0));
    }
}
