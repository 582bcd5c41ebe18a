//! Policy facts: questions people ask of a service's policies ("does it train AI on my data?
//! can I opt out?"), answered from the recorded texts, each answer with its evidence.
//!
//! A [`rules::Rules`] set (built-in defaults, extended in configuration) says which documents
//! each fact reads and which sentences answer it. [`read_document`] finds, in one version of one
//! document, the sentences that answer each fact ([`Hit`]s: yes, no — a negated yes counts as
//! no — or a value), with the regions they (or their section heading) name. [`answer`] turns the
//! hits of a service's documents into an [`Answer`]: `yes`, `no`, `conflicting`, `not_stated`, or
//! `stated` with a value. [`service_facts`] replays a service's recorded history, so that every
//! answer carries the commit since which it has held, its evidence (the verbatim sentence, the
//! terms type, the commit and date of the version it is in), and, on request, its history.
//!
//! One file per role: `read` (a version's hits), `answer` (hits → an answer), `history` (a
//! service's history replayed, fact changes and their log), `rules` (the questions and their
//! patterns), `card` (the page people read).
//!
//! ```
//! use policydiff::facts::{read_document, answer, rules::Rules, AnswerKind};
//!
//! let rules = Rules::with_additions(&[]).unwrap();
//! let text = "# Your data\n\nWe use your conversations with Example AI to train our AI models. \
//!             You can opt out of this use in your settings.";
//! let hits = read_document(text, "Privacy Policy", &rules);
//! let training = rules.rules.iter().position(|r| r.source.id == "ai_training").unwrap();
//! let found = answer(&rules.rules[training], &[("Privacy Policy", "c0ffee", "2026-01-01", &hits[training])]);
//! assert_eq!(found.kind, AnswerKind::Yes);
//! assert_eq!(found.evidence[0].quote, "We use your conversations with Example AI to train our AI models.");
//! ```

mod answer;
pub mod card;
mod history;
mod read;
pub mod rules;

pub use answer::answer;
pub use history::{FactLog, changes_at_commit, repository_facts, service_facts};
pub use read::{read_document, regions_in};

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::declaration::DocumentId;

/// What a sentence says for a fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Says {
    /// It does.
    Yes,
    /// It does not (a negated yes, or a no pattern).
    No,
    /// A value (a period, an age).
    Value(String),
}

/// A sentence that answers a fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The sentence, verbatim in the version's plain text.
    pub quote: String,
    /// What it says.
    pub says: Says,
    /// Regions the sentence or its section heading names.
    pub regions: Vec<String>,
}

/// An answer's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    /// The texts say it does.
    Yes,
    /// The texts say it does not.
    No,
    /// The texts say both.
    Conflicting,
    /// The texts give a value (see `value`).
    Stated,
    /// The texts say nothing about it.
    NotStated,
}

impl AnswerKind {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerKind::Yes => "yes",
            AnswerKind::No => "no",
            AnswerKind::Conflicting => "conflicting",
            AnswerKind::Stated => "stated",
            AnswerKind::NotStated => "not_stated",
        }
    }
}

/// A quoted sentence an answer rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The document's terms type.
    pub terms_type: String,
    /// The sentence, verbatim.
    pub quote: String,
    /// The commit that recorded the version holding it.
    pub commit: String,
    /// That commit's date (YYYY-MM-DD).
    pub date: String,
    /// What the sentence says (`yes`, `no`, or the value).
    pub says: String,
}

/// The answer to one fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Yes, no, conflicting, stated (a value) or not stated.
    pub kind: AnswerKind,
    /// The value, for value and regions facts.
    pub value: Option<String>,
    /// Regions the answer is limited to (empty: not limited, or none named).
    pub regions: Vec<String>,
    /// The sentences it rests on.
    pub evidence: Vec<Evidence>,
}

impl Answer {
    /// How the answer reads in one line: `yes`, `no (EU/EEA)`, `30 days`…
    pub fn summary(&self) -> String {
        let base = match (&self.kind, &self.value) {
            (AnswerKind::Stated, Some(value)) => value.clone(),
            (kind, _) => kind.as_str().replace('_', " "),
        };
        if self.regions.is_empty() || self.kind == AnswerKind::Stated {
            base
        } else {
            format!("{base} ({})", self.regions.join(", "))
        }
    }

    /// Whether two answers say the same (the evidence may differ).
    pub fn same_as(&self, other: &Answer) -> bool {
        self.kind == other.kind && self.value == other.value && self.regions == other.regions
    }
}

/// Evidence quoted per answer, at most.
const MAX_EVIDENCE: usize = 3;
/// Distinct values reported, at most.
const MAX_VALUES: usize = 3;

/// The commit and date from which an answer has held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Since {
    /// The commit.
    pub commit: String,
    /// Its date (YYYY-MM-DD).
    pub date: String,
}

/// A fact's answer for a service, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactReport {
    /// The fact's id.
    pub id: String,
    /// Its question.
    pub question: String,
    /// `yes`, `no`, `conflicting`, `stated` (see `value`) or `not_stated`.
    pub answer: AnswerKind,
    /// The value, for value and regions facts.
    pub value: Option<String>,
    /// Regions the answer is limited to.
    pub regions: Vec<String>,
    /// Since when the answer has held.
    pub since: Option<Since>,
    /// The sentences it rests on.
    pub evidence: Vec<Evidence>,
    /// The card's badge text for this answer, when the rule gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub badge: Option<String>,
}

impl FactReport {
    /// How the answer reads in one line.
    pub fn summary(&self) -> String {
        Answer {
            kind: self.answer,
            value: self.value.clone(),
            regions: self.regions.clone(),
            evidence: Vec::new(),
        }
        .summary()
    }
}

/// A change of a fact's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactChange {
    /// The fact's id.
    pub id: String,
    /// Its question.
    pub question: String,
    /// The document whose change changed the answer.
    #[serde(flatten)]
    pub document: DocumentId,
    /// The commit that changed it.
    pub commit: String,
    /// Its date (YYYY-MM-DD).
    pub date: String,
    /// The answer before, in one line (`not stated` for the first record).
    pub from: String,
    /// The answer after.
    pub to: String,
    /// The sentences the new answer rests on (or the old one, when it is now not stated).
    pub evidence: Vec<Evidence>,
}

/// A service's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceFacts {
    /// The service id.
    pub service: String,
    /// The last successful fetch of its documents (else the last commit date).
    pub last_verified: Option<String>,
    /// Every fact's answer.
    pub facts: Vec<FactReport>,
    /// Each change of an answer, oldest first (with `--history`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<FactChange>>,
}

/// Hits of versions already read, by blob: a text read once, whatever the replay.
pub type HitCache = HashMap<git2::Oid, Vec<Vec<Hit>>>;

#[cfg(test)]
mod tests {
    use super::read::{hits_before_and_after, lines_under_headings, read_plain_for};
    use super::rules::Rules;
    use super::*;
    use crate::analyse::plain_text;

    fn rules() -> Rules {
        Rules::with_additions(&[]).unwrap()
    }

    #[test]
    fn lines_a_change_left_alone_give_the_hits_they_gave_before() {
        let rules = rules();
        let reading: Vec<usize> = (0..rules.rules.len()).collect();
        let before = "Privacy Policy\n==============\n\n## How we use your data\n\n\
            We use your conversations to train our AI models. You can opt out in Settings.\n\n\
            We keep your data for 30 days.\n\n## Sharing\n\nWe do not sell your personal data.";
        for after in [
            // A sentence added among others that answer facts.
            before.replace(
                "We keep your data",
                "We use your interactions with AI features to personalise ads.\n\nWe keep your data",
            ),
            // A sentence that answered removed, another rewritten.
            before
                .replace("We do not sell your personal data.", "")
                .replace("30 days", "90 days"),
            // Nothing that any rule reads.
            before.replace("## Sharing", "## Who we share with"),
        ] {
            let (plain_before, plain_after) = (plain_text(before), plain_text(&after));
            let lines_before = lines_under_headings(&plain_before);
            let lines_after = lines_under_headings(&plain_after);
            let operations = similar::capture_diff_slices(
                similar::Algorithm::Myers,
                &lines_before,
                &lines_after,
            );
            let each_side = |plain: &str, lines: &[super::read::Line<'_>]| {
                read_plain_for(
                    plain,
                    lines,
                    &rules,
                    reading.clone(),
                    vec![Vec::new(); rules.rules.len()],
                )
            };
            let (hits_before, hits_after) = hits_before_and_after(
                (&plain_before, &lines_before),
                (&plain_after, &lines_after),
                &operations,
                &rules,
                &reading,
            );
            assert_eq!(hits_before, each_side(&plain_before, &lines_before));
            assert_eq!(hits_after, each_side(&plain_after, &lines_after));
            assert!(hits_after.iter().any(|hits| !hits.is_empty()), "{after}");
        }
    }

    fn says(id: &str, text: &str) -> Vec<(Says, Vec<String>)> {
        let rules = rules();
        let index = rules.rules.iter().position(|r| r.source.id == id).unwrap();
        read_document(text, "Privacy Policy", &rules)[index]
            .iter()
            .map(|h| (h.says.clone(), h.regions.clone()))
            .collect()
    }

    /// What a whole text answers for a fact, with its first evidence.
    fn answers(id: &str, text: &str) -> (AnswerKind, Option<String>, String) {
        let rules = rules();
        let index = rules.rules.iter().position(|r| r.source.id == id).unwrap();
        let hits = read_document(text, "Privacy Policy", &rules);
        let found = answer(
            &rules.rules[index],
            &[("Privacy Policy", "c0ffee", "2026-01-01", &hits[index])],
        );
        let first = found
            .evidence
            .first()
            .map(|e| e.quote.clone())
            .unwrap_or_default();
        (found.kind, found.value, first)
    }

    #[test]
    fn a_purpose_and_the_categories_listed_under_it_answer_together() {
        // Meta's purpose × information-category structure: the purpose is the heading, the
        // category an item under its lead-in.
        let text = "Privacy Policy\n==============\n\n## Personalizing Meta Products\n\n\
            We use information to personalize the ads people see.\n\n\
            Information categories we use:\n\n\
            *   Your activity and information you provide\n\
            *   Interactions with our features that are part of AI at Meta\n";
        let (kind, _, evidence) = answers("ai_interactions_for_ads", text);
        assert_eq!(kind, AnswerKind::Yes);
        assert_eq!(
            evidence,
            "Interactions with our features that are part of AI at Meta"
        );
        // The purpose as a title over a rule, as Meta sets it out: the categories listed under
        // "Developing and improving AI at Meta" are what it trains on.
        let text = "Privacy Policy\n==============\n\nDeveloping and improving AI at Meta\n\n* * *\n\n\
            Why and how we process your information:\n\n\
            Develop and improve AI at Meta for Meta Products.\n\n* * *\n\n\
            Your activity and information you provide:\n\n\
            *   Interactions with AI at Meta and related metadata.\n\n\
            Promoting safety, integrity and security\n\n* * *\n\n\
            Your activity and information you provide:\n\n\
            *   Messages you send and receive\n";
        let (kind, _, evidence) = answers("ai_training", text);
        assert_eq!(kind, AnswerKind::Yes);
        assert_eq!(
            evidence,
            "Interactions with AI at Meta and related metadata."
        );
        // The same item under another purpose says nothing about training.
        let (kind, _, _) = answers(
            "ai_training",
            &text.replace(
                "Developing and improving AI at Meta",
                "Promoting safety and security",
            ),
        );
        assert_eq!(kind, AnswerKind::NotStated);
    }

    #[test]
    fn rules_for_developers_and_customers_are_not_the_services_practice() {
        for text in [
            "You may not use output generated from an Apple model to train or improve another artificial intelligence model.",
            "You agree that you will not do any of the following:\n\n*   allow Business Solution Data to be used to train artificial intelligence models;\n*   resell the service.",
            "Subject to the Terms, Meta grants you a right to use and fine-tune our artificial intelligence models.",
        ] {
            assert_eq!(
                answers("ai_training", text).0,
                AnswerKind::NotStated,
                "{text}"
            );
        }
        // The service's own practice, said of its users' data, still counts.
        assert_eq!(
            answers(
                "ai_training",
                "We use your conversations with Gamma Assistant to train our AI models. You can opt out of this use at any time in your privacy settings."
            )
            .0,
            AnswerKind::Yes
        );
    }

    #[test]
    fn an_opt_out_is_from_training_only_when_its_sentence_or_the_one_before_says_so() {
        // "This use" refers to the sentence before.
        let (kind, _, evidence) = answers(
            "ai_training_opt_out",
            "We use your conversations with Gamma Assistant to train our AI models. You can opt out of this use at any time in your privacy settings.",
        );
        assert_eq!(kind, AnswerKind::Yes);
        assert!(
            evidence.starts_with("You can opt out of this use"),
            "{evidence}"
        );
        // A heading that names AI does not make an opt-out from ads or arbitration one from
        // training.
        for text in [
            "## Our AI services\n\nYou can opt out of personalized advertising in your settings.",
            "## Perplexity AI terms\n\nYou have the right to opt out of the arbitration clause.",
            "## AI features\n\nIt is our policy to disable or terminate the accounts of users who repeatedly infringe.",
        ] {
            assert_eq!(
                answers("ai_training_opt_out", text).0,
                AnswerKind::NotStated,
                "{text}"
            );
        }
    }

    #[test]
    fn negations_are_read_where_they_are() {
        // Within the matched words.
        assert_eq!(
            answers(
                "ai_interactions_for_ads",
                "Your Gemini Apps chats are not being used to show you ads."
            )
            .0,
            AnswerKind::No
        );
        // "Not replace" qualifies; it does not deny the human review.
        assert_eq!(
            answers(
                "ai_chats_human_review",
                "Automated tools check your conversations. Such tools are used to support, and not replace, human review where required by law."
            )
            .0,
            AnswerKind::Yes
        );
        // An explicit no with an exception stays a no.
        assert_eq!(
            answers(
                "private_messages_for_ai",
                "We do not use the content of your private messages with friends and family to train our AIs unless you or someone in the chat chooses to share those messages with our AIs."
            )
            .0,
            AnswerKind::No
        );
        // A question is not a statement.
        assert_eq!(
            answers(
                "ai_interactions_for_ads",
                "Do you use my Gemini Apps chats to show me ads?"
            )
            .0,
            AnswerKind::NotStated
        );
    }

    #[test]
    fn zero_retention_and_business_associate_agreements_are_read_where_they_are_offered() {
        let (kind, _, evidence) = answers(
            "zero_data_retention",
            "We keep your Input and Output for thirty (30) rolling days to monitor abuse (unless zero data retention is activated).",
        );
        assert_eq!(kind, AnswerKind::Yes);
        assert!(evidence.contains("zero data retention"), "{evidence}");
        assert_eq!(
            answers(
                "hipaa_baa",
                "We are able to sign Business Associate Agreements (BAA) in support of customers’ compliance with HIPAA."
            )
            .0,
            AnswerKind::Yes
        );
        assert_eq!(
            answers(
                "hipaa_baa",
                "We do not offer a Business Associate Agreement."
            )
            .0,
            AnswerKind::No
        );
        // A retention period alone says nothing of a zero-retention option.
        assert_eq!(
            answers("zero_data_retention", "We keep your data for 30 days.").0,
            AnswerKind::NotStated
        );
    }

    #[test]
    fn an_announced_practice_is_not_yet_one() {
        for text in [
            "We'll start using interactions with AIs to personalize experiences and ads.",
            "Starting December 16, we will use your interactions with AI features to personalise ads.",
        ] {
            assert_eq!(
                answers("ai_interactions_for_ads", text).0,
                AnswerKind::NotStated,
                "{text}"
            );
        }
        assert_eq!(
            answers(
                "ai_interactions_for_ads",
                "We use your interactions with AI features to personalise the ads you see."
            )
            .0,
            AnswerKind::Yes
        );
    }

    #[test]
    fn numbers_that_are_not_ages_are_not_minimum_ages() {
        for text in [
            "We will notify you at least 15 days before the price change.",
            "We use machine learning technology to determine if you are likely over 18 when you use our services.",
            "You may not submit information that is from or about children under the age of 13.",
        ] {
            assert_eq!(
                answers("minimum_age", text).0,
                AnswerKind::NotStated,
                "{text}"
            );
        }
        assert_eq!(
            answers(
                "minimum_age",
                "You must be at least 13 years old to use the Services."
            )
            .1
            .as_deref(),
            Some("13")
        );
    }

    #[test]
    fn a_sentence_says_yes_and_its_negation_says_no() {
        assert_eq!(
            says(
                "ai_training",
                "We use your conversations with X to train our AI models."
            ),
            [(Says::Yes, vec![])]
        );
        assert_eq!(
            says(
                "ai_training",
                "We do not use your conversations to train our AI models."
            ),
            [(Says::No, vec![])]
        );
        assert_eq!(
            says(
                "ai_training",
                "We don’t use your content to train generative AI models."
            ),
            [(Says::No, vec![])]
        );
        // A condition is not a denial.
        assert_eq!(
            says(
                "ai_training_opt_out",
                "If you do not want us to use your data to train our models, you can opt out in settings."
            ),
            [(Says::Yes, vec![])]
        );
        assert_eq!(
            says(
                "ai_training_opt_out",
                "You cannot opt out of the use of your data for AI training."
            ),
            [(Says::No, vec![])]
        );
        assert_eq!(
            says(
                "sells_personal_data",
                "We do not sell your personal information."
            ),
            [(Says::No, vec![])]
        );
        // The opt-out link of US state laws is not a statement.
        assert!(
            says(
                "sells_personal_data",
                "Do Not Sell or Share My Personal Information."
            )
            .is_empty()
        );
        // A negation reaches across a list, not into the next clause.
        assert_eq!(
            says(
                "sells_personal_data",
                "NOTE WE DO NOT ENGAGE IN TARGETED ADVERTISING, “SELL” PERSONAL DATA OR USE IT."
            ),
            [(Says::No, vec![])]
        );
        assert_eq!(
            says(
                "ai_training",
                "We do not sell your data, but we use your chats to train our AI models."
            ),
            [(Says::Yes, vec![])]
        );
        assert_eq!(
            says(
                "sells_personal_data",
                "No Selling Personal Information. Brevo does not and will never sell your Personal Information to third parties."
            ),
            [(Says::No, vec![]), (Says::No, vec![])]
        );
        // Unrelated sentences say nothing.
        assert!(says("ai_training", "We train our staff on privacy every year.").is_empty());
    }

    #[test]
    fn lists_and_regions_from_the_sentence_or_its_heading() {
        let text = "Your rights in the EEA and UK\n=============================\n\n\
                    *   You have the right to object to our processing of your data.\n\n\
                    ## California\n\nYou may opt out of the sale of your data.";
        assert_eq!(
            says("objection_right_regions", text),
            [
                (Says::Yes, vec!["EU/EEA".to_string(), "UK".to_string()]),
                (Says::Yes, vec!["California".to_string()]),
            ]
        );
        assert!(regions_in("HOW TO CONTACT US").is_empty());
        assert_eq!(regions_in("users in the US"), ["US"]);
    }

    #[test]
    fn values_are_read_and_answers_combine_documents() {
        let rules = rules();
        let index = |id: &str| rules.rules.iter().position(|r| r.source.id == id).unwrap();
        let privacy = read_document(
            "We keep your chats for 30 days, then delete them. You must be at least 13 years old to use the service.",
            "Privacy Policy",
            &rules,
        );
        let retention = answer(
            &rules.rules[index("retention_period")],
            &[(
                "Privacy Policy",
                "abc",
                "2026-01-01",
                &privacy[index("retention_period")],
            )],
        );
        assert_eq!(retention.kind, AnswerKind::Stated);
        assert_eq!(retention.value.as_deref(), Some("30 days"));
        let age = answer(
            &rules.rules[index("minimum_age")],
            &[(
                "Privacy Policy",
                "abc",
                "2026-01-01",
                &privacy[index("minimum_age")],
            )],
        );
        assert_eq!(age.value.as_deref(), Some("13"));

        // One document sells, the other says it does not: flagged.
        let other = read_document(
            "We do not sell your personal data.",
            "Privacy Policy",
            &rules,
        );
        let selling = read_document(
            "We may sell your personal data to partners.",
            "Privacy Policy",
            &rules,
        );
        let i = index("sells_personal_data");
        let both = answer(
            &rules.rules[i],
            &[
                ("Privacy Policy", "a", "2026-01-01", &selling[i]),
                ("Privacy Policy", "b", "2026-01-02", &other[i]),
            ],
        );
        assert_eq!(both.kind, AnswerKind::Conflicting);
        assert_eq!(both.evidence.len(), 2);
        let nothing = answer(
            &rules.rules[i],
            &[("Privacy Policy", "a", "2026-01-01", &privacy[i])],
        );
        assert_eq!(nothing.kind, AnswerKind::NotStated);
        assert!(nothing.evidence.is_empty());
    }
}
