//! Durations and sizes as people write them in `config.yaml`: `30s`, `500ms`, `2m`, `1h`;
//! `20MB`, `512KB`, `1GB` (binary multiples) or plain numbers; dates `2025-12-16` or RFC 3339. The serde helpers here are
//! used by every settings type ([`crate::config`], [`crate::fetch::settings`],
//! [`crate::schedule`]), so that all of them read these values the same way.
//!
//! ```
//! use policydiff::units::{parse_duration, parse_size};
//!
//! assert_eq!(parse_duration("2m").unwrap().as_secs(), 120);
//! assert_eq!(parse_size("512KB").unwrap(), 512 * 1024);
//! assert!(parse_duration("5 parsecs").is_err());
//! ```

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};

use serde::{Deserialize, Deserializer};

use crate::{Error, Result};

/// Splits `20MB` into its number and its unit.
fn number_and_unit(text: &str) -> (Option<f64>, &str) {
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    (number.parse().ok(), unit.trim())
}

/// The longest duration accepted: a year.
const MAX_DURATION_SECONDS: f64 = 365.0 * 86_400.0;

/// Reads `30s`, `500ms`, `2m`, `1h` (or a number of seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (value, unit) = number_and_unit(text);
    let value =
        value.ok_or_else(|| format!("{text:?} is not a duration (write e.g. 30s, 500ms, 2m)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" | "" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        "d" => value * 86400.0,
        other => {
            return Err(format!(
                "unknown duration unit {other:?} in {text:?} (use ms, s, m, h or d)"
            ));
        }
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(format!("{text:?} is not a valid duration"));
    }
    // Longer than this is a typo, and would overflow the clocks that add it to "now".
    if seconds > MAX_DURATION_SECONDS {
        return Err(format!(
            "{text:?} is longer than a year; durations here are seconds to hours"
        ));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text:?} is not a valid duration"))
}

/// Reads `20MB`, `512KB`, `1GB`, `100B` (binary multiples) or a number of bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (value, unit) = number_and_unit(text);
    let value = value.ok_or_else(|| format!("{text:?} is not a size (write e.g. 20MB, 512KB)"))?;
    let factor = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "KB" | "KIB" | "K" => 1024.0,
        "MB" | "MIB" | "M" => 1024.0 * 1024.0,
        "GB" | "GIB" | "G" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit {other:?} in {text:?} (use B, KB, MB or GB)"
            ));
        }
    };
    Ok((value * factor) as u64)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TextOrNumber {
    Text(String),
    Number(f64),
}

/// Reads a duration written as text (`30s`) or as a number of seconds.
pub fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    match TextOrNumber::deserialize(deserializer)? {
        TextOrNumber::Text(text) => parse_duration(&text).map_err(serde::de::Error::custom),
        TextOrNumber::Number(n) if n >= 0.0 && n.is_finite() => Ok(Duration::from_secs_f64(n)),
        TextOrNumber::Number(n) => Err(serde::de::Error::custom(format!("{n} is not a duration"))),
    }
}

/// Reads a size written as text (`20MB`) or as a number of bytes.
pub fn size<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    match TextOrNumber::deserialize(deserializer)? {
        TextOrNumber::Text(text) => parse_size(&text).map_err(serde::de::Error::custom),
        TextOrNumber::Number(n) if n >= 0.0 => Ok(n as u64),
        TextOrNumber::Number(n) => Err(serde::de::Error::custom(format!("{n} is not a size"))),
    }
}

/// Reads an optional duration (`30s`), for nested settings.
pub fn optional_duration<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Duration>, D::Error> {
    duration(deserializer).map(Some)
}

/// Reads a date as written by users and in OTA files: RFC 3339 (also with a `+hhmm` offset or
/// a space before the time, as OTA's schema accepts), or `YYYY-MM-DD` (midnight UTC).
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = DateTime::parse_from_rfc3339(text) {
        return Some(date.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(date) = DateTime::parse_from_str(text, format) {
            return Some(date.with_timezone(&Utc));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// Reads the date given to a command-line flag (`--since`, `--at`…): `YYYY-MM-DD` (midnight
/// UTC) or RFC 3339; the error names the flag.
pub fn date_argument(flag: &str, text: &str) -> Result<DateTime<Utc>> {
    parse_date(text).ok_or_else(|| {
        Error::argument(format!(
            "--{flag} {text:?} is not a date; write YYYY-MM-DD or an RFC 3339 time (2025-12-16T06:00:00Z)"
        ))
    })
}
