//! Memos: a reviewable draft for each recorded change.
//!
//! [`draft`] turns an [`Analysis`] into a [`Memo`]: YAML front matter that OTA's
//! memo publishing accepts (title, description, service, terms types, dates,
//! author, collections) plus policydiff's own fields (commit, change kind,
//! significance, topics, `status: draft`), and a body that follows OTA's
//! copywriting rules — a one-sentence present-tense title with the service as
//! subject, a past-tense body with the link to the change on the action verb,
//! short quotations of the new text in quotation marks, paragraphs grouped by
//! topic (most significant first), cosmetic changes summed up in one closing line.
//!
//! Every quotation is a verbatim slice of the version it quotes; [`Memo::quotes`]
//! lists them with their side so that this can be checked. The same input always
//! gives the same memo.
//!
//! One file per role: `draft` (the steps of a memo), `headline` (the title that says the
//! news), `write` (quotations and the clause of one change), `statement` (a sentence of
//! practice retold), `changes` (where changes come from: the round's [`ChangeToDraft`], a
//! repository's history, two files), `store` (the memos folder, [`MemoStore`], and the
//! front-matter codec [`MemoFile`]), `settings` ([`MemoConfig`]).
//!
//! ```
//! use policydiff::analyse::{analyse, Taxonomy};
//! use policydiff::config::MemoConfig;
//! use policydiff::memo::{draft, MemoInput};
//!
//! let before = "We collect your email.";
//! let after = "We collect your email. We use your interactions with AI features to personalise ads.";
//! let taxonomy = Taxonomy::default();
//! let input = MemoInput { service: "Instagram", terms_type: "Privacy Policy", date: "2025-12-16",
//!     commit: Some("0123456789abcdef"), previous_commit: None, before: Some(before), after };
//! let memo = draft(&input, &analyse(Some(before), after, None, false, &taxonomy), &MemoConfig::default(), &taxonomy);
//! assert_eq!(memo.title, "Instagram now says it uses your interactions with AI features to personalise ads");
//! assert!(memo.front_matter.topics.contains(&"ai".to_string()));
//! assert!(memo.body.contains("“We use your interactions with AI features to personalise ads.”"));
//! ```

use serde::{Deserialize, Serialize};

use crate::analyse::{Analysis, ChangeKind, plain_text};
use crate::declaration::DocumentId;

mod changes;
mod draft;
mod headline;
mod settings;
pub mod statement;
mod store;
mod write;
pub use changes::{
    BatchSummary, ChangeToDraft, draft_all, draft_for_document, for_change, for_recorded_change,
    for_texts,
};
pub use draft::draft;
pub use settings::MemoConfig;
pub use store::{MemoFile, MemoRecord, MemoStore, MemoSummary, Stored, StoredMemo, slug};

/// Longest quotation, in characters.
const MAX_QUOTE_CHARS: usize = 200;
/// Longest title, in characters.
const MAX_TITLE_CHARS: usize = 140;
/// How many of the most significant changes a headline may be told from.
const STATEMENT_CANDIDATES: usize = 3;
/// The most words of a list item a headline quotes.
const LIST_ITEM_WORDS: usize = 12;

/// What a memo is about.
pub struct MemoInput<'a> {
    /// The service's name (or id).
    pub service: &'a str,
    /// The terms type.
    pub terms_type: &'a str,
    /// The date of the change (YYYY-MM-DD).
    pub date: &'a str,
    /// The commit that recorded it.
    pub commit: Option<&'a str>,
    /// The commit of the previous version.
    pub previous_commit: Option<&'a str>,
    /// The previous version.
    pub before: Option<&'a str>,
    /// The new version.
    pub after: &'a str,
}

/// Which version a quotation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The previous version.
    Before,
    /// The new version.
    After,
}

/// A quotation used in a memo: plain words of a version (see [`crate::analyse::plain_text`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The quoted text, verbatim.
    pub text: String,
    /// The version it is taken from.
    pub side: Side,
    /// What the memo says of it beside quoting it, when it says something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
}

/// What a memo says of a quotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    /// The words are new: said added, or the way a sentence now reads. The previous version
    /// does not hold them.
    New,
    /// The words are gone: said removed, or what the text no longer says. The new version does
    /// not hold them.
    Gone,
}

impl Quote {
    /// Whether what the memo says of the quotation is true of the two versions (as plain
    /// words): new words are not in the previous version, gone words not in the new one.
    pub fn claim_holds(&self, before_plain: &str, after_plain: &str) -> bool {
        match self.claim {
            None => true,
            Some(Claim::New) => !before_plain.contains(&self.text),
            Some(Claim::Gone) => !after_plain.contains(&self.text),
        }
    }

    /// Whether the quotation stands verbatim in `version` (its Markdown), as plain words.
    pub fn is_verbatim_in(&self, version: &str) -> bool {
        plain_text(version).contains(&self.text)
    }
}

/// YAML front matter.
#[derive(Debug, Clone, Serialize)]
pub struct FrontMatter {
    /// Title.
    pub title: String,
    /// One-paragraph summary in HTML.
    pub html_description: String,
    /// Service.
    pub service: String,
    /// Terms types.
    pub terms_types: Vec<String>,
    /// Dates (YYYY-MM-DD).
    pub dates: Vec<String>,
    /// Author.
    pub author: String,
    /// Related collections.
    pub related_collections: Vec<String>,
    /// The commit of the change.
    pub commit: Option<String>,
    /// The commit of the previous version.
    pub previous_commit: Option<String>,
    /// Substantive, cosmetic, revert or technical.
    pub change_kind: ChangeKind,
    /// For reverts, the commit whose text came back.
    pub reverts_to: Option<String>,
    /// Significance in [0, 1].
    pub significance: f64,
    /// Topics, most significant first.
    pub topics: Vec<String>,
    /// Always `draft`: a person reviews it.
    pub status: String,
}

/// A drafted memo.
#[derive(Debug, Clone)]
pub struct Memo {
    /// The title.
    pub title: String,
    /// The front matter.
    pub front_matter: FrontMatter,
    /// The Markdown body.
    pub body: String,
    /// Every quotation of the body, with its side.
    pub quotes: Vec<Quote>,
    /// The analysis it was drafted from.
    pub analysis: Analysis,
}

impl Memo {
    /// Says which policy facts the change changed ("Does it train AI on people's data? Now yes,
    /// was not stated: it now says it uses your conversations to train its models, “…”."),
    /// quoting the evidence when it is in this change's versions of `terms_type`.
    pub fn mention_fact_changes(&mut self, changes: &[crate::facts::FactChange], terms_type: &str) {
        let service = self.front_matter.service.clone();
        let commit = self.front_matter.commit.clone().unwrap_or_default();
        let previous = self
            .front_matter
            .previous_commit
            .clone()
            .unwrap_or_default();
        let mut sentences = Vec::new();
        for change in changes {
            let mut sentence =
                format!("{} Now {}, was {}", change.question, change.to, change.from);
            let ours = change.evidence.iter().find(|e| {
                e.terms_type == terms_type && (e.commit == commit || e.commit == previous)
            });
            if let Some(evidence) = ours {
                let side = if evidence.commit == commit {
                    Side::After
                } else {
                    Side::Before
                };
                let says = if side == Side::After {
                    "now says"
                } else {
                    "said"
                };
                if let Some(statement) = statement::retell(&evidence.quote, &service) {
                    let told = statement.headline(&service, true);
                    // "X now says it …" → "it now says it …", after the answer.
                    if let Some(rest) = told.strip_prefix(&format!("{service} now says ")) {
                        sentence.push_str(&format!(": it {says} {rest}"));
                    }
                }
                sentence.push_str(&format!(" (“{}”)", evidence.quote));
                self.quotes.push(Quote {
                    text: evidence.quote.clone(),
                    side,
                    claim: None,
                });
            }
            sentences.push(format!("{sentence}."));
        }
        if !sentences.is_empty() {
            self.body
                .push_str(&format!("\n\nPolicy facts: {}", sentences.join(" ")));
        }
    }

    /// The memo file: front matter, then the body.
    pub fn to_markdown(&self) -> String {
        let front = crate::yaml::to_string(&self.front_matter).unwrap_or_default();
        format!("---\n{front}---\n\n{}\n", self.body)
    }

    /// The sidecar: everything of the memo and its analysis.
    pub fn record(&self, document: &DocumentId) -> MemoRecord {
        MemoRecord::of(self, document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyse::Taxonomy;
    use crate::analyse::analyse;

    fn instagram_privacy() -> DocumentId {
        DocumentId::new("Instagram", "Privacy Policy")
    }

    fn memo_for(before: &str, after: &str) -> Memo {
        let taxonomy = Taxonomy::default();
        let input = MemoInput {
            service: "Instagram",
            terms_type: "Privacy Policy",
            date: "2025-12-16",
            commit: Some("0123456789abcdef0123"),
            previous_commit: Some("fedcba"),
            before: Some(before),
            after,
        };
        draft(
            &input,
            &analyse(Some(before), after, None, false, &taxonomy),
            &MemoConfig::default(),
            &taxonomy,
        )
    }

    #[test]
    fn a_purpose_added_to_a_list_is_told_as_the_sentence_it_completes() {
        let before = "Use\n===\n\nTo the extent permitted by applicable law, we may use your personal information:\n\n*   To process and deliver customer orders;\n*   To comply with applicable laws.\n\nSharing\n=======\n\nWe share your data with service providers.";
        let after = "Use\n===\n\nTo the extent permitted by applicable law, we may use your personal information:\n\n*   To process and deliver customer orders;\n*   To comply with applicable laws;\n*   To train our machine learning or artificial intelligence models for the purposes outlined in this policy;\n\nSharing\n=======\n\nWe share your data with service providers and partners.";
        assert_eq!(
            memo_for(before, after).title,
            "Instagram now says it may use your personal information to train its machine learning or artificial intelligence models"
        );
    }

    #[test]
    fn titles_say_what_changed_in_the_texts_own_words_when_they_can() {
        // The title of the change, after checking that every quotation is verbatim.
        let title = |before: &str, after: &str| {
            let memo = memo_for(before, after);
            for quote in &memo.quotes {
                let version = if quote.side == Side::After {
                    after
                } else {
                    before
                };
                assert!(quote.is_verbatim_in(version), "{quote:?}");
            }
            memo.title
        };
        assert_eq!(
            title(
                "Ads\n===\n\nWe do not allow ads for pharmacies or weapons.\n\nOther rules apply.",
                "Ads\n===\n\nWe do not allow ads for casinos or weapons.\n\nOther rules apply.",
            ),
            "Instagram replaces “pharmacies” with “casinos” in its Privacy Policy"
        );
        assert_eq!(
            title(
                "Policy\n======\n\nWe keep your data safe.",
                "Policy\n======\n\nWe keep your data safe. Lumen Labs helps us. We share data with \
                 Lumen Labs for research; Lumen Labs keeps it 30 days.",
            ),
            "Instagram now says it shares data with Lumen Labs for research"
        );
        // No sentence to retell: the name the new text brings in and repeats.
        assert_eq!(
            title(
                "Policy\n======\n\nWe keep your data safe.",
                "Policy\n======\n\nWe keep your data safe. Lumen Labs helps. Data goes to \
                 Lumen Labs for research; Lumen Labs keeps it 30 days.",
            ),
            "Instagram now mentions “Lumen Labs” in its Privacy Policy"
        );
        // A list item removed whole is quoted.
        assert_eq!(
            title(
                "Hate speech\n===========\n\n*   Slurs\n*   Misgendering of transgender people\n",
                "Hate speech\n===========\n\n*   Slurs\n",
            ),
            "Instagram removes “Misgendering of transgender people” from its Privacy Policy"
        );
    }

    #[test]
    fn quotes_are_verbatim_and_the_title_follows_the_rules() {
        let before = "Privacy Policy\n==============\n\nEffective June 1, 2025\n\n*   Your activity\n\nWe show ads.";
        let after = "Privacy Policy\n==============\n\nEffective December 16, 2025\n\n*   Your activity\n*   Your interactions with AI features, like the questions you ask\n\nWe show ads. We use your AI interactions to personalise the ads you see.";
        let memo = memo_for(before, after);
        assert!(memo.title.chars().count() <= 140);
        assert!(!memo.title.ends_with('.'));
        assert!(
            memo.title
                == "Instagram adds “Your interactions with AI features, like the questions you ask” to its Privacy Policy",
            "{}",
            memo.title
        );
        assert!(
            memo.body.starts_with(
                "Instagram updated (commit `0123456789ab`) its Privacy Policy on 2025-12-16."
            ),
            "{}",
            memo.body
        );
        assert!(
            memo.body
                .contains("dated 2025-12-16; the previous one was dated 2025-06-01"),
            "{}",
            memo.body
        );
        assert!(!memo.quotes.is_empty());
        for quote in &memo.quotes {
            let version = if quote.side == Side::After {
                after
            } else {
                before
            };
            assert!(
                quote.is_verbatim_in(version),
                "{quote:?} not in the version"
            );
        }
        let markdown = memo.to_markdown();
        assert!(markdown.starts_with("---\ntitle: "));
        assert!(markdown.contains("status: draft"));
        assert!(markdown.contains("change_kind: substantive"));
    }

    #[test]
    fn commit_link_goes_on_the_verb() {
        let taxonomy = Taxonomy::default();
        let config = MemoConfig {
            commit_url: Some("https://example.org/c/{commit}".into()),
            ..MemoConfig::default()
        };
        let input = MemoInput {
            service: "X",
            terms_type: "Terms of Service",
            date: "2025-01-01",
            commit: Some("abc"),
            previous_commit: None,
            before: Some("a"),
            after: "b c d",
        };
        let memo = draft(
            &input,
            &analyse(Some("a"), "b c d", None, false, &taxonomy),
            &config,
            &taxonomy,
        );
        assert!(
            memo.body
                .starts_with("X [updated](https://example.org/c/abc) its Terms of Service"),
            "{}",
            memo.body
        );
    }

    #[test]
    fn never_overwrites_another_memo() {
        let dir = tempfile::tempdir().unwrap();
        let first = memo_for("We collect data.", "We collect more data.");
        let second = {
            let mut m = memo_for("We share data.", "We share data with partners.");
            m.front_matter.commit = Some("another".into());
            m
        };
        let store = MemoStore::new(dir.path());
        let a = store.write(&first, &instagram_privacy()).unwrap();
        let b = store.write(&second, &instagram_privacy()).unwrap();
        assert_ne!(a, b);
        assert!(
            b.path()
                .to_string_lossy()
                .ends_with("2025-12-16-instagram-privacy-policy-2.md")
        );
        let again = store.write(&first, &instagram_privacy()).unwrap();
        assert_eq!(again, a, "the same change's memo is rewritten in place");
        let listed = store.list().unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(super::store::StoredMemo::is_draft));
        let first_record = first.record(&instagram_privacy());
        assert!(listed.iter().any(|m| m.record == first_record));
    }

    #[test]
    fn a_reviewed_memo_is_kept_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let store = MemoStore::new(dir.path());
        let memo = memo_for("We collect data.", "We collect more data.");
        let path = store
            .write(&memo, &instagram_privacy())
            .unwrap()
            .written()
            .unwrap();
        let reviewed = std::fs::read_to_string(&path)
            .unwrap()
            .replace("status: draft", "status: published");
        std::fs::write(&path, &reviewed).unwrap();
        let again = store.write(&memo, &instagram_privacy()).unwrap();
        assert_eq!(again, Stored::KeptReviewed(path.clone()));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), reviewed);
        assert_eq!(store.list().unwrap()[0].status, "published");
    }

    /// The previous version of a policy that announced a change (its banner), and the version in
    /// force from the announced day, in which the announced use stands among a purpose's data.
    const ANNOUNCING: &str = "Privacy Policy\n--------------\n\nUpdating on Dec 16, 2025\n\nWe’ll start using interactions with AIs to personalize experiences and ads. This update goes into effect on December 16, 2025.\n\n[Read the new policy.](https://example.com/new)\n\nEffective June 16, 2025\n\nPersonalizing Meta Products\n\n* * *\n\nInformation categories we use:\n\n*   Content you create, like posts, comments or audio\n*   Hashtags you use\n";
    const IN_FORCE: &str = "Privacy Policy\n--------------\n\nWe updated our Privacy Policy on December 16, 2025.\n\nEffective December 16, 2025\n\nPersonalizing Meta Products\n\n* * *\n\nInformation categories we use:\n\n*   Content you create, like posts, comments or audio\n*   Interactions with AI at Meta and related metadata\n*   Hashtags you use\n\nDeveloping and improving AI at Meta\n\n* * *\n\nInformation categories we use:\n\n*   Interactions with AI at Meta and related metadata\n";

    #[test]
    fn an_announced_change_come_into_force_is_the_news_in_its_own_words() {
        let memo = memo_for(ANNOUNCING, IN_FORCE);
        assert_eq!(
            memo.title,
            "Instagram starts using interactions with AIs to personalize experiences and ads"
        );
        assert!(memo.front_matter.significance >= 0.8);
        assert_eq!(
            memo.analysis.announcement_event,
            Some(crate::analyse::AnnouncementEvent::Fulfilled)
        );
        let lead = memo.body.split("\n\n").nth(1).unwrap();
        assert!(lead.starts_with("The change Instagram announced for 16 December 2025 has taken effect: “We’ll start using interactions"), "{lead}");
        // Its banner going is not a retreat.
        assert!(!memo.body.contains("removed “We’ll start"), "{}", memo.body);
        assert!(
            !memo.body.contains("no longer says “We’ll start"),
            "{}",
            memo.body
        );
        let (before, after) = (plain_text(ANNOUNCING), plain_text(IN_FORCE));
        assert!(memo.quotes.iter().all(|q| q.claim_holds(&before, &after)));
    }

    #[test]
    fn a_new_announcement_is_news_and_a_standing_one_is_not() {
        let plain = "Privacy Policy\n--------------\n\nEffective June 16, 2025\n\nWe collect the content you create.\n";
        let announcing = "Privacy Policy\n--------------\n\nUpdating on Dec 16, 2025\n\nWe’ll start using interactions with AIs to personalize experiences and ads. This update goes into effect on December 16, 2025.\n\nEffective June 16, 2025\n\nWe collect the content you create.\n";
        let made = memo_for(plain, announcing);
        assert_eq!(
            made.title,
            "Instagram announces it will start using interactions with AIs to personalize experiences and ads from 16 December 2025"
        );
        assert!(made.front_matter.significance >= 0.75);
        let standing = memo_for(
            announcing,
            &announcing.replace(
                "the content you create",
                "the content and comments you create",
            ),
        );
        assert_eq!(
            standing.analysis.announcement_event,
            Some(crate::analyse::AnnouncementEvent::Standing)
        );
        assert!(!standing.title.contains("announces"), "{}", standing.title);
        assert!(
            !standing.body.contains("announces a change"),
            "{}",
            standing.body
        );
        // A date that stays put while the text changed is said plainly.
        assert!(
            standing.body.contains(
                "The new version still states the date 2025-06-16, although its text changed."
            ),
            "{}",
            standing.body
        );
        let backwards = memo_for(
            plain,
            &plain
                .replace("June 16, 2025", "June 16, 2024")
                .replace("content", "posts"),
        );
        assert!(
            backwards
                .body
                .contains("The new version states an earlier date, 2024-06-16, than the previous one, 2025-06-16."),
            "{}",
            backwards.body
        );
    }

    #[test]
    fn words_moved_elsewhere_are_not_said_added_or_removed() {
        let before = "Terms\n=====\n\nWe may suspend accounts that break these rules.\n\nYou must be 13 to use the service.\n\nContact us by mail.";
        let after = "Terms\n=====\n\nYou must be 13 to use the service. We may suspend accounts that break these rules.\n\nContact us by mail or by phone.";
        let memo = memo_for(before, after);
        assert!(!memo.body.contains("“We may suspend"), "{}", memo.body);
        assert!(
            memo.body.contains("“Contact us by mail or by phone.”"),
            "{}",
            memo.body
        );
        let (before, after) = (plain_text(before), plain_text(after));
        assert!(memo.quotes.iter().all(|q| q.claim_holds(&before, &after)));
    }

    #[test]
    fn an_item_of_what_is_not_allowed_is_told_with_its_list() {
        let before = "Community Guidelines\n====================\n\nThe following types of content are not allowed on Instagram. This isn't a complete list.\n\nVoter suppression\n\n*   Telling viewers an incorrect voting date.\n*   False claims that electronic voting machines have been hacked in the past to change an individual’s vote.\n";
        let after = "Community Guidelines\n====================\n\nThe following types of content are not allowed on Instagram. This isn't a complete list.\n\nVoter suppression\n\n*   Telling viewers an incorrect voting date.\n";
        let memo = memo_for(before, after);
        assert_eq!(
            memo.title,
            "Instagram no longer lists “False claims that electronic voting machines have been hacked in the past”… among what it does not allow"
        );
        assert!(
            memo.body
                .contains("removed “False claims that electronic voting machines have been hacked in the past to change an individual’s vote.” from what it does not allow"),
            "{}",
            memo.body
        );
        let agree = "Terms\n=====\n\nBy signing up, you agree not to:\n\n*   Send spam.\n";
        let longer = format!(
            "{agree}*   Engage in activities that are recognized as illegal in the majority of countries, such as selling forged documents.\n"
        );
        assert_eq!(
            memo_for(agree, &longer).title,
            "Instagram adds “Engage in activities that are recognized as illegal in the majority”… to what it does not allow"
        );
        let back = memo_for(after, before);
        assert!(
            back.title.starts_with("Instagram adds “False claims"),
            "{}",
            back.title
        );
        assert!(
            back.title.ends_with("to what it does not allow"),
            "{}",
            back.title
        );
    }
}
