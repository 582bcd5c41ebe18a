//! Entities a policy names: countries and organisations (a company by its legal form).
//!
//! A change that swaps one for another inside a rule ("…contact details from AWO Belgium…" →
//! "…from VeraSafe Ireland Ltd.…") is often the news; [`countries`] and [`organisations`] find
//! them as written, so that a memo can quote them.
//!
//! ```
//! use policydiff::structure::entities::{countries, organisations};
//!
//! let text = "Our representative is VeraSafe Ireland Ltd., Cork, Ireland; users in South Korea see below.";
//! assert_eq!(countries(text), ["Ireland", "South Korea"]);
//! assert_eq!(organisations(text), ["VeraSafe Ireland Ltd."]);
//! ```

use std::sync::OnceLock;

use regex::Regex;

/// Country names as policies write them (English short names, and a few common forms).
const COUNTRIES: &[&str] = &[
    "Afghanistan",
    "Albania",
    "Algeria",
    "Argentina",
    "Armenia",
    "Australia",
    "Austria",
    "Azerbaijan",
    "Bahrain",
    "Bangladesh",
    "Belarus",
    "Belgium",
    "Bolivia",
    "Bosnia and Herzegovina",
    "Brazil",
    "Bulgaria",
    "Cambodia",
    "Cameroon",
    "Canada",
    "Chile",
    "China",
    "Colombia",
    "Costa Rica",
    "Croatia",
    "Cyprus",
    "Czech Republic",
    "Czechia",
    "Denmark",
    "Dominican Republic",
    "Ecuador",
    "Egypt",
    "El Salvador",
    "Estonia",
    "Ethiopia",
    "Finland",
    "France",
    "Georgia",
    "Germany",
    "Ghana",
    "Greece",
    "Guatemala",
    "Honduras",
    "Hong Kong",
    "Hungary",
    "Iceland",
    "India",
    "Indonesia",
    "Iran",
    "Iraq",
    "Ireland",
    "Israel",
    "Italy",
    "Jamaica",
    "Japan",
    "Jordan",
    "Kazakhstan",
    "Kenya",
    "Kuwait",
    "Latvia",
    "Lebanon",
    "Liechtenstein",
    "Lithuania",
    "Luxembourg",
    "Malaysia",
    "Malta",
    "Mexico",
    "Moldova",
    "Monaco",
    "Mongolia",
    "Montenegro",
    "Morocco",
    "Nepal",
    "Netherlands",
    "New Zealand",
    "Nicaragua",
    "Nigeria",
    "North Korea",
    "North Macedonia",
    "Norway",
    "Oman",
    "Pakistan",
    "Panama",
    "Paraguay",
    "Peru",
    "Philippines",
    "Poland",
    "Portugal",
    "Qatar",
    "Romania",
    "Russia",
    "Rwanda",
    "Saudi Arabia",
    "Senegal",
    "Serbia",
    "Singapore",
    "Slovakia",
    "Slovenia",
    "South Africa",
    "South Korea",
    "Spain",
    "Sri Lanka",
    "Sweden",
    "Switzerland",
    "Taiwan",
    "Tanzania",
    "Thailand",
    "Tunisia",
    "Turkey",
    "Türkiye",
    "Uganda",
    "Ukraine",
    "United Arab Emirates",
    "United Kingdom",
    "United States",
    "Uruguay",
    "Uzbekistan",
    "Venezuela",
    "Vietnam",
    "Viet Nam",
    "Zambia",
    "Zimbabwe",
];

fn country_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        // Longest names first, so that "South Korea" is read whole, not as "Korea".
        let mut names: Vec<&str> = COUNTRIES.to_vec();
        names.sort_by_key(|name| std::cmp::Reverse(name.len()));
        let alternatives: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
        Regex::new(&format!(r"\b(?:{})\b", alternatives.join("|"))).expect("valid regex")
    })
}

/// The countries a text names, as written, each once, in order.
pub fn countries(text: &str) -> Vec<&str> {
    let mut found: Vec<&str> = Vec::new();
    for name in country_pattern().find_iter(text).map(|m| m.as_str()) {
        if !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

/// The organisations a text names by their legal form ("VeraSafe Ireland Ltd.", "Meta
/// Platforms, Inc."), as written, each once, in order.
pub fn organisations(text: &str) -> Vec<&str> {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    let pattern = PATTERN.get_or_init(|| {
        Regex::new(
            r"\b(?:[A-Z][\w&'’-]*\s+){0,4}[A-Z][\w&'’-]*,?\s+(?:Ltd\.|Ltd\b|Limited\b|Inc\.|Inc\b|LLC\b|L\.L\.C\.|GmbH\b|S\.A\.|SAS\b|B\.V\.|Corp\.|Corporation\b|AG\b|PLC\b|plc\b|SARL\b|S\.r\.l\.|e\.V\.|Pte\. Ltd\.|Pty Ltd\b|Unlimited Company\b|Company\b)",
        )
        .expect("valid regex")
    });
    let mut found: Vec<&str> = Vec::new();
    for name in pattern.find_iter(text).map(|m| m.as_str().trim()) {
        if !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_country_name_is_read_whole() {
        assert_eq!(
            countries("Users in South Korea and Nigeria, and in Korea's neighbour China."),
            ["South Korea", "Nigeria", "China"]
        );
        assert!(countries("a georgian word").is_empty());
    }

    #[test]
    fn organisations_by_their_legal_form() {
        assert_eq!(
            organisations(
                "Meta Platforms, Inc. and Meta Platforms Ireland Limited share data with X Corp. and Bluesky Social, PBC."
            ),
            [
                "Meta Platforms, Inc.",
                "Meta Platforms Ireland Limited",
                "X Corp."
            ]
        );
        assert!(organisations("We work with partners.").is_empty());
    }
}
