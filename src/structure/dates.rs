//! Dates a policy states: when it took effect, and announced changes.

use std::sync::OnceLock;

use chrono::NaiveDate;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// An upcoming change the text announces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The date it takes effect (YYYY-MM-DD).
    pub date: String,
    /// The sentence that announces it, verbatim.
    pub text: String,
    /// The sentence that says what will change, verbatim, when the announcement says it
    /// ("We'll start using interactions with AIs to personalize experiences and ads.").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub news: Option<String>,
}

const MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec";

/// The month number of an English month name or abbreviation.
pub fn month_number(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.').to_ascii_lowercase();
    let names = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if word.len() < 3 {
        return None;
    }
    let position = names.iter().position(|n| word.starts_with(n))?;
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    (word == names[position] || word == "sept" || full[position] == word)
        .then_some(position as u32 + 1)
}

fn date_pattern() -> &'static Regex {
    static DATE: OnceLock<Regex> = OnceLock::new();
    DATE.get_or_init(|| {
        Regex::new(&format!(
            r"(?i)(?:^|[^\p{{L}}\p{{N}}])(?:({MONTHS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})|(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({MONTHS})\.?,?\s+(\d{{4}})|(\d{{4}})-(\d{{2}})-(\d{{2}}))(?:\D|$)"
        ))
        .expect("valid regex")
    })
}

/// Reads the first date in `text`, as YYYY-MM-DD.
pub(super) fn first_date(text: &str) -> Option<String> {
    for caps in date_pattern().captures_iter(text) {
        let parsed = if let (Some(m), Some(d), Some(y)) = (caps.get(1), caps.get(2), caps.get(3)) {
            ymd(y.as_str(), month_number(m.as_str()), d.as_str())
        } else if let (Some(d), Some(m), Some(y)) = (caps.get(4), caps.get(5), caps.get(6)) {
            ymd(y.as_str(), month_number(m.as_str()), d.as_str())
        } else if let (Some(y), Some(m), Some(d)) = (caps.get(7), caps.get(8), caps.get(9)) {
            ymd(y.as_str(), m.as_str().parse().ok(), d.as_str())
        } else {
            None
        };
        if parsed.is_some() {
            return parsed;
        }
    }
    None
}

fn ymd(year: &str, month: Option<u32>, day: &str) -> Option<String> {
    let date = NaiveDate::from_ymd_opt(year.parse().ok()?, month?, day.parse().ok()?)?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// The "effective" or "last updated" date the text states.
pub fn effective_date(text: &str) -> Option<String> {
    static LABEL: OnceLock<Regex> = OnceLock::new();
    let label = LABEL.get_or_init(|| {
        Regex::new(r"(?i)(effective(\s+date)?|last\s+(updated|modified|revised)|updated(\s+on)?|date\s+of\s+last\s+revision|in\s+effect\s+(as\s+)?(of|from)|version\s+date)")
            .expect("valid regex")
    });
    for found in label.find_iter(text) {
        let window_end = text[found.end()..]
            .char_indices()
            .nth(60)
            .map_or(text.len(), |(i, _)| found.end() + i);
        if let Some(date) = first_date(&text[found.end()..window_end]) {
            return Some(date);
        }
    }
    None
}

/// The words that announce a change to come.
fn announcement_pattern() -> &'static Regex {
    static ANNOUNCE: OnceLock<Regex> = OnceLock::new();
    ANNOUNCE.get_or_init(|| {
        Regex::new(r"(?i)(will\s+(take|go|come)\s+into\s+effect|goes\s+into\s+effect|comes\s+into\s+effect|will\s+take\s+effect|will\s+apply|will\s+be\s+updated|updating\s+on|will\s+update|upcoming\s+(change|update)s?|we('re|\s+are)\s+updating)")
            .expect("valid regex")
    })
}

/// A sentence announcing a change to come, with its date.
pub fn announced_change(text: &str) -> Option<Announcement> {
    let announce = announcement_pattern();
    // A sentence that matches is in a line that matches, in a text that matches: most texts
    // and lines are passed over without being cut into sentences.
    if !announce.is_match(text) {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    for (at, line) in lines.iter().enumerate() {
        if !announce.is_match(line) {
            continue;
        }
        for sentence in super::sentences(line) {
            if announce.is_match(sentence)
                && let Some(date) = first_date(sentence)
            {
                return Some(Announcement {
                    date,
                    text: sentence.to_string(),
                    news: news_of_announcement(&lines[at..]),
                });
            }
        }
    }
    None
}

/// Lines after an announcement's dated line that may still belong to it.
const ANNOUNCEMENT_LINES: usize = 3;

/// The sentence of an announcement (its dated line and the lines just after it) that says what
/// will change: one in the future tense that says more than that the document is being updated.
fn news_of_announcement(lines: &[&str]) -> Option<String> {
    lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .take(ANNOUNCEMENT_LINES + 1)
        .flat_map(|line| super::sentences(line))
        .find(|sentence| says_what_will_change(sentence))
        .map(str::to_string)
}

/// Words of an announcement that say only that a document changes, not how.
const UPDATE_WORDS: &[&str] = &[
    "following",
    "agreement",
    "agreements",
    "date",
    "dates",
    "last",
    "above",
    "below",
    "updating",
    "update",
    "updates",
    "updated",
    "change",
    "changes",
    "changing",
    "policy",
    "privacy",
    "terms",
    "service",
    "services",
    "effect",
    "goes",
    "take",
    "takes",
    "come",
    "comes",
    "into",
    "this",
    "these",
    "that",
    "will",
    "from",
    "with",
    "read",
    "learn",
    "more",
    "about",
    "soon",
    "making",
    "make",
    "some",
    "notice",
    "version",
    "current",
    "coming",
    "upcoming",
    "start",
    "starting",
    "going",
    "what",
    "here",
    "they",
    "apply",
    "applies",
];

/// Whether a sentence of an announcement says what will change ("We'll start using …", "From
/// 1 May, you will need …") rather than only that the document is updated.
fn says_what_will_change(sentence: &str) -> bool {
    // The words a reader reads: a link's address says nothing.
    let lower = super::plain_text(sentence).to_lowercase().replace('’', "'");
    let lower = lower.trim_start_matches(|c: char| !c.is_alphanumeric());
    // A condition ("If there is any conflict…", "When we do, we will update the date") frames a
    // rule; it does not say what changes.
    if ["if ", "when ", "where ", "in case ", "unless ", "should "]
        .iter()
        .any(|opening| lower.starts_with(opening))
    {
        return false;
    }
    let future = lower.starts_with("we'll ")
        || lower.starts_with("we will ")
        || lower.starts_with("we're going to ")
        || lower.starts_with("we are going to ")
        || lower.contains(" will ");
    let content_words = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 3 && !w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !UPDATE_WORDS.contains(w) && month_number(w).is_none())
        .count();
    // The sentence that dates the change must say more to say what it is.
    let needed = if announcement_pattern().is_match(sentence) {
        3
    } else {
        2
    };
    future && content_words >= needed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_dates_in_common_forms() {
        assert_eq!(
            effective_date("Effective December 16, 2025").as_deref(),
            Some("2025-12-16")
        );
        assert_eq!(
            effective_date("_Last updated: 3 March 2024_").as_deref(),
            Some("2024-03-03")
        );
        assert_eq!(
            effective_date("Last modified on 2023-07-01.").as_deref(),
            Some("2023-07-01")
        );
        assert_eq!(
            effective_date("We update this policy from time to time."),
            None
        );
    }

    #[test]
    fn announcements_are_found_with_their_date() {
        let text = "Updating on Dec 16, 2025\n\nWe're updating our Privacy Policy. This update goes into effect on December 16, 2025.";
        let found = announced_change(text).unwrap();
        assert_eq!(found.date, "2025-12-16");
        assert_eq!(found.text, "Updating on Dec 16, 2025");
        assert!(text.contains(&found.text));
        // "We're updating our Privacy Policy" says only that it changes.
        assert_eq!(found.news, None);
    }

    #[test]
    fn an_announcement_says_what_will_change() {
        let text = "Updating on Dec 16, 2025\n\nWe’ll start using interactions with AIs to personalize experiences and ads. This update goes into effect on December 16, 2025.\n\n[Read the new policy.](https://example.com/new)";
        let found = announced_change(text).unwrap();
        assert_eq!(
            found.news.as_deref(),
            Some("We’ll start using interactions with AIs to personalize experiences and ads.")
        );
        // A condition, or the dated sentence with nothing more to say, is not what changes.
        let framing = "These updates will go into effect on May 13, 2025. [Read the new terms.](https://example.com/terms)\n\nIf there is any conflict between these Terms and the Instagram Terms, then these Terms will control. When we do, we will update the “Last Updated” date above.";
        assert_eq!(announced_change(framing).unwrap().news, None);
        let dated = "These terms will take effect on March 1, 2026. From then on, we will share your listening history with our partners.";
        let found = announced_change(dated).unwrap();
        assert_eq!(found.date, "2026-03-01");
        assert_eq!(
            found.news.as_deref(),
            Some("From then on, we will share your listening history with our partners.")
        );
    }
}
