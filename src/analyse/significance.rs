//! How much a change matters to the people a policy binds: a small logistic model over
//! features that say whether the change alters what the service may do.
//!
//! [`Features`] are read from the substantive changes of an analysis: how many words changed,
//! how many changed sentences are normative (*may*, *will*, *must*, *not*, *no longer*,
//! *only*…), how many flip between permission and prohibition (a negation appears or goes),
//! how many change a number (days, ages, amounts), how many names are new to the document, the
//! weightiest topic, the share of the document touched, how many sections, and whether a
//! section's heading says the change is about use, sharing, rights, ads or AI. Boilerplate
//! counts for nothing: cosmetic changes (dates of "last updated", links, formatting, order)
//! never reach the features.
//!
//! The score is `1 / (1 + e^−(b + Σ wᵢ·xᵢ))` with the weights of [`WEIGHTS`], fitted on real
//! changes that Open Terms Archive's editors wrote memos about against the changes they did
//! not (`cargo run --release --example memo_devset` refits them and prints cross-validated
//! figures). The classes were balanced when fitting, so 0.5 is "as likely as not to be written
//! up" and 0.8 "an editor would likely write this up". [`Features::explain`] lists each
//! feature's contribution, which the memo's sidecar keeps, so that a score can be understood.
//!
//! ```
//! use policydiff::analyse::{analyse, Taxonomy};
//!
//! let before = "Terms\n=====\n\nYou may delete your data at any time.";
//! let after = "Terms\n=====\n\nYou may not delete your data at any time.";
//! let analysis = analyse(Some(before), after, None, false, &Taxonomy::default());
//! // A permission that becomes a prohibition weighs for the change.
//! let flip = analysis.significance_factors.iter().find(|f| f.feature == "permission_flips").unwrap();
//! assert!(flip.contribution > 0.0);
//! assert!(analysis.significance > 0.05 && analysis.significance < 1.0);
//! ```

use serde::{Deserialize, Serialize};

use super::{BlockChange, Change};

/// The names of the features, in the order of [`Features::values`] and [`WEIGHTS`].
pub const FEATURE_NAMES: [&str; 9] = [
    "changed_words",
    "normative_sentences",
    "permission_flips",
    "number_changes",
    "new_names",
    "topic_weight",
    "rewrite",
    "sections",
    "telling_heading",
];

/// Intercept and weights of the model, fitted by the development scorer (see the module
/// overview); features are in the units [`Features::values`] gives.
pub const WEIGHTS: (f64, [f64; 9]) = (
    -2.31,
    [0.74, 0.16, 0.78, -0.78, -0.12, 1.09, -5.81, -0.16, 0.18],
);

/// What the score is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Words added and removed by substantive changes.
    pub changed_words: usize,
    /// Changed sentences that say what may, must or will (not) happen.
    pub normative_sentences: usize,
    /// Modified blocks where a negation appears or goes (a permission becomes a prohibition).
    pub permission_flips: usize,
    /// Modified blocks whose numbers differ (durations, ages, amounts).
    pub number_changes: usize,
    /// Capitalised names (products, partners, places) the new version uses and the old did not.
    pub new_names: usize,
    /// The largest weight among the changes' topics.
    pub topic_weight: f64,
    /// Changed words over the words of the document.
    pub share_of_document: f64,
    /// Distinct sections with a substantive change.
    pub sections: usize,
    /// Whether a changed section's heading names use, sharing, rights, ads, AI, children…
    pub telling_heading: bool,
}

/// One feature's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// The feature.
    pub feature: String,
    /// Its value.
    pub value: f64,
    /// Its contribution to the score's log-odds.
    pub contribution: f64,
}

const NORMATIVE: &[&str] = &[
    "may",
    "might",
    "will",
    "must",
    "shall",
    "should",
    "can",
    "cannot",
    "can't",
    "not",
    "never",
    "only",
    "require",
    "required",
    "requires",
    "allow",
    "allowed",
    "allows",
    "permit",
    "permitted",
    "prohibit",
    "prohibited",
    "prohibits",
    "agree",
    "consent",
    "right",
    "rights",
    "won't",
    "don't",
    "doesn't",
    "unless",
];
const NEGATIONS: &[&str] = &[
    "not", "no", "never", "cannot", "can't", "won't", "don't", "doesn't", "without",
];
const TELLING_HEADINGS: &[&str] = &[
    "use",
    "share",
    "sharing",
    "sell",
    "prohibit",
    "right",
    "choice",
    "advertis",
    "ads",
    "ai",
    "artificial",
    "train",
    "child",
    "minor",
    "retain",
    "retention",
    "transfer",
    "law",
    "government",
    "collect",
    "safety",
    "content",
    "dispute",
    "arbitration",
    "payment",
];

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('’', "'"))
}

fn count_in(text: &str, list: &[&str]) -> usize {
    words(text).filter(|w| list.contains(&w.as_str())).count()
}

fn numbers(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// Capitalised words not opening a sentence: names.
pub(crate) fn names(text: &str) -> std::collections::BTreeSet<String> {
    let mut found = std::collections::BTreeSet::new();
    let mut sentence_start = true;
    for word in text.split_whitespace() {
        let clean: String = word.chars().filter(|c| c.is_alphanumeric()).collect();
        let capitalised = clean.chars().next().is_some_and(char::is_uppercase)
            && clean.chars().skip(1).any(char::is_lowercase);
        if capitalised && !sentence_start && clean.chars().count() > 2 {
            found.insert(clean);
        }
        sentence_start = word.ends_with(['.', '!', '?', ':']);
    }
    found
}

/// The changed text of a change: the changed words of a modified block with a little context,
/// else the whole block.
fn changed_sentences(change: &Change) -> Vec<String> {
    let sides = [change.before.as_deref(), change.after.as_deref()];
    match change.kind {
        BlockChange::Modified => {
            let diff = change.word_diff.as_deref().unwrap_or("");
            let pieces: Vec<&str> = [("{+", "+}"), ("[-", "-]")]
                .iter()
                .flat_map(|(open, close)| {
                    diff.split(open)
                        .skip(1)
                        .filter_map(move |p| p.split(close).next())
                })
                .filter(|p| !p.trim().is_empty())
                .collect();
            sides
                .iter()
                .flatten()
                .flat_map(|text| super::sentences(text))
                .filter(|s| pieces.iter().any(|p| s.contains(p.trim())))
                .map(str::to_string)
                .collect()
        }
        _ => sides
            .iter()
            .flatten()
            .flat_map(|text| super::sentences(text))
            .map(str::to_string)
            .collect(),
    }
}

impl Features {
    /// The features of the substantive changes of a change from `before` to `after`.
    pub fn of(
        changes: &[&Change],
        before: Option<&str>,
        after: &str,
        changed_words: usize,
    ) -> Self {
        let mut features = Features {
            changed_words,
            ..Default::default()
        };
        let document_words = after.split_whitespace().count().max(1);
        features.share_of_document = (changed_words as f64 / document_words as f64).min(1.0);
        let old_names = names(before.unwrap_or(""));
        let mut new_names = std::collections::BTreeSet::new();
        let mut sections = std::collections::BTreeSet::new();
        for change in changes {
            for sentence in changed_sentences(change) {
                if count_in(&sentence, NORMATIVE) > 0 {
                    features.normative_sentences += 1;
                }
            }
            if change.kind == BlockChange::Modified {
                let (old, new) = (
                    change.before.as_deref().unwrap_or(""),
                    change.after.as_deref().unwrap_or(""),
                );
                if count_in(old, NEGATIONS) != count_in(new, NEGATIONS) {
                    features.permission_flips += 1;
                }
                if numbers(old) != numbers(new) {
                    features.number_changes += 1;
                }
            }
            if change.kind != BlockChange::Removed {
                new_names.extend(
                    names(change.after.as_deref().unwrap_or(""))
                        .into_iter()
                        .filter(|n| !old_names.contains(n)),
                );
            }
            sections.insert(change.section.clone());
            let heading = change.section.join(" ").to_lowercase();
            if words(&heading).any(|w| TELLING_HEADINGS.iter().any(|t| w.starts_with(t))) {
                features.telling_heading = true;
            }
        }
        features.new_names = new_names.len();
        features.sections = sections.len();
        features
    }

    /// The features as the model reads them (counts on a logarithmic scale).
    pub fn values(&self) -> [f64; 9] {
        let log = |n: usize| (1.0 + n as f64).ln();
        [
            log(self.changed_words),
            log(self.normative_sentences),
            log(self.permission_flips),
            log(self.number_changes),
            log(self.new_names),
            self.topic_weight,
            // A rewrite: a large share of a document, by many words (a short page whose one
            // sentence changed is not a rewrite).
            self.share_of_document * (self.changed_words as f64 / 500.0).min(1.0),
            log(self.sections),
            f64::from(u8::from(self.telling_heading)),
        ]
    }

    /// The score in [0, 1] with `weights` (intercept, then one weight per feature).
    pub fn score_with(&self, weights: &(f64, [f64; 9])) -> f64 {
        let z = weights.0
            + self
                .values()
                .iter()
                .zip(weights.1)
                .map(|(x, w)| x * w)
                .sum::<f64>();
        1.0 / (1.0 + (-z).exp())
    }

    /// The score in [0, 1].
    pub fn score(&self) -> f64 {
        self.score_with(&WEIGHTS)
    }

    /// Each feature's contribution to the log-odds, largest first.
    pub fn explain(&self) -> Vec<Factor> {
        let mut factors: Vec<Factor> = FEATURE_NAMES
            .iter()
            .zip(self.values())
            .zip(WEIGHTS.1)
            .map(|((name, value), weight)| Factor {
                feature: name.to_string(),
                value: (value * 1000.0).round() / 1000.0,
                contribution: (value * weight * 1000.0).round() / 1000.0,
            })
            .filter(|f| f.contribution != 0.0)
            .collect();
        factors.sort_by(|a, b| {
            b.contribution
                .total_cmp(&a.contribution)
                .then_with(|| a.feature.cmp(&b.feature))
        });
        factors
    }
}

#[cfg(test)]
mod tests {
    use crate::analyse::{Taxonomy, analyse};

    fn features(before: &str, after: &str) -> super::Features {
        analyse(Some(before), after, None, false, &Taxonomy::default())
            .significance_features
            .expect("a substantive change")
    }

    #[test]
    fn flips_numbers_and_names_are_seen() {
        let f = features(
            "Rules\n=====\n\nYou may share posts. We keep logs for 30 days.",
            "Rules\n=====\n\nYou may not share posts. We keep logs for 90 days with Acme Analytics.",
        );
        assert_eq!(f.permission_flips, 1);
        assert_eq!(f.number_changes, 1);
        assert!(f.new_names >= 1, "{f:?}");
        assert!(f.normative_sentences >= 1);
    }

    #[test]
    fn a_short_page_is_not_a_rewrite_and_factors_explain_the_score() {
        let f = features("Short page.", "A different short page about AI training.");
        assert!(f.share_of_document > 0.5);
        assert!(
            f.values()[6] < 0.05,
            "a rewrite needs many words: {:?}",
            f.values()
        );
        let factors = f.explain();
        let sum: f64 = factors.iter().map(|x| x.contribution).sum::<f64>() + super::WEIGHTS.0;
        let score = 1.0 / (1.0 + (-sum).exp());
        assert!(
            (score - f.score()).abs() < 0.01,
            "the factors add up to the score"
        );
        assert!(
            factors
                .windows(2)
                .all(|w| w[0].contribution >= w[1].contribution)
        );
    }
}
