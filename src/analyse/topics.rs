//! Topics: what a change is about, from keywords and phrases per topic.
//!
//! A [`Taxonomy`] ships with default topics and can be extended from
//! `config.yaml` (`memos.topics: {topic: [keywords…]}`); matching is
//! case-insensitive, on word boundaries, plurals included.

use std::collections::BTreeMap;

use regex::Regex;

/// One topic.
#[derive(Debug, Clone)]
pub struct Topic {
    /// Its name in memos (`ai`, `sharing`, …).
    pub name: String,
    /// How it is said in a sentence ("AI", "data sharing").
    pub label: String,
    /// How much a change on it matters, in [0, 1].
    pub weight: f64,
    /// The words and phrases that reveal it.
    pub keywords: Vec<String>,
    pattern: Regex,
}

impl Topic {
    /// Where the text names the topic: each match of its keywords that stands as a whole word.
    fn mentions<'t>(&self, text: &'t str) -> impl Iterator<Item = regex::Match<'t>> {
        // The pattern's word boundaries are ASCII (see `compile`); a letter such as "ç" next to
        // a match makes it part of a longer word ("ai" in "Français").
        self.pattern.find_iter(text).filter(move |found| {
            let before = text[..found.start()].chars().next_back();
            let after = text[found.end()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    }
}

/// The topics changes are tagged with.
#[derive(Debug, Clone)]
pub struct Taxonomy {
    topics: Vec<Topic>,
}

const DEFAULTS: &[(&str, &str, f64, &[&str])] = &[
    (
        "ai",
        "AI",
        0.3,
        &[
            "AI",
            "artificial intelligence",
            "generative",
            "machine learning",
            "train our models",
            "model training",
            "training data",
            "train",
            "large language model",
            "LLM",
            "chatbot",
            "AI features",
            "AI models",
            "improve our models",
            "automated decision",
            "neural network",
        ],
    ),
    (
        "children",
        "children",
        0.3,
        &[
            "child",
            "children",
            "minor",
            "teen",
            "teenager",
            "under 13",
            "under 16",
            "under 18",
            "age verification",
            "parental",
            "parent",
            "kid",
        ],
    ),
    (
        "data_collection",
        "data collection",
        0.25,
        &[
            "collect",
            "collection",
            "gather",
            "personal data",
            "personal information",
            "device information",
            "location",
            "biometric",
            "usage data",
            "metadata",
            "sensor",
            "contacts",
        ],
    ),
    (
        "sharing",
        "data sharing",
        0.25,
        &[
            "share",
            "sharing",
            "third party",
            "third parties",
            "third-party",
            "partner",
            "affiliate",
            "vendor",
            "service provider",
            "disclose",
            "disclosure",
            "sell your",
            "sale of",
        ],
    ),
    (
        "law_enforcement",
        "government requests",
        0.25,
        &[
            "law enforcement",
            "government",
            "authorities",
            "legal request",
            "subpoena",
            "court order",
            "warrant",
            "lawful request",
            "national security",
            "police",
        ],
    ),
    (
        "user_rights",
        "user rights",
        0.25,
        &[
            "opt out",
            "opt-out",
            "object",
            "objection",
            "right to",
            "access your",
            "rectify",
            "rectification",
            "erasure",
            "portability",
            "consent",
            "withdraw",
            "restrict",
            "complaint",
            "supervisory authority",
        ],
    ),
    (
        "advertising",
        "advertising",
        0.2,
        &[
            "advertising",
            "ad",
            "advertiser",
            "personalised",
            "personalized",
            "personalisation",
            "personalization",
            "personalise",
            "personalize",
            "targeted",
            "marketing",
            "sponsored",
            "recommendation",
        ],
    ),
    (
        "retention",
        "data retention",
        0.2,
        &[
            "retain",
            "retention",
            "keep",
            "kept",
            "store",
            "storage",
            "delete",
            "deletion",
            "erase",
            "as long as",
        ],
    ),
    (
        "transfers",
        "international transfers",
        0.2,
        &[
            "international transfer",
            "transfer",
            "outside the EEA",
            "outside the European",
            "standard contractual clauses",
            "adequacy",
            "cross-border",
            "Data Privacy Framework",
        ],
    ),
    (
        "disputes",
        "disputes",
        0.2,
        &[
            "arbitration",
            "governing law",
            "jurisdiction",
            "courts",
            "liability",
            "liable",
            "indemnify",
            "indemnification",
            "class action",
            "dispute",
            "warranty",
            "disclaimer",
        ],
    ),
    (
        "security",
        "security",
        0.15,
        &[
            "security",
            "secure",
            "encryption",
            "encrypted",
            "end-to-end",
            "breach",
            "safeguard",
        ],
    ),
    (
        "content_moderation",
        "content moderation",
        0.15,
        &[
            "community standards",
            "community guidelines",
            "prohibited",
            "remove content",
            "content removal",
            "enforcement",
            "suspend",
            "suspension",
            "terminate",
            "termination",
            "ban",
            "moderation",
            "violate",
            "violation",
        ],
    ),
    (
        "commerce",
        "payments",
        0.1,
        &[
            "selling",
            "purchase",
            "marketplace",
            "price",
            "payment",
            "refund",
            "subscription",
            "fee",
            "monetisation",
            "monetization",
            "billing",
        ],
    ),
    (
        "legal_entity",
        "the legal entity",
        0.1,
        &[
            "controller",
            "data protection officer",
            "DPO",
            "registered office",
            "headquarters",
            "Ltd",
            "Limited",
            "Inc",
            "LLC",
            "legal entity",
        ],
    ),
];

fn compile(keywords: &[String]) -> Regex {
    let alternatives: Vec<String> = keywords
        .iter()
        .filter(|k| !k.trim().is_empty())
        .map(|k| {
            regex::escape(k.trim())
                .replace(r"\ ", r"\s+")
                .replace(' ', r"\s+")
        })
        .collect();
    let pattern = if alternatives.is_empty() {
        r"[^\s\S]".to_string()
    } else {
        // ASCII word boundaries, checked again by `Topic::mentions`: a Unicode boundary makes the
        // regex engine give up its fast path on any text with a curly quote.
        format!(
            r"(?i)(?-u:\b)(?:{})(?:s|es)?(?-u:\b)",
            alternatives.join("|")
        )
    };
    Regex::new(&pattern).unwrap_or_else(|_| Regex::new(r"[^\s\S]").expect("valid regex"))
}

impl Default for Taxonomy {
    fn default() -> Self {
        Taxonomy {
            topics: DEFAULTS
                .iter()
                .map(|(name, label, weight, keywords)| {
                    let keywords: Vec<String> = keywords
                        .iter()
                        .map(std::string::ToString::to_string)
                        .collect();
                    Topic {
                        name: name.to_string(),
                        label: label.to_string(),
                        weight: *weight,
                        pattern: compile(&keywords),
                        keywords,
                    }
                })
                .collect(),
        }
    }
}

impl Taxonomy {
    /// The default taxonomy with the user's additions: keywords for existing topics, or new topics.
    pub fn with_additions(additions: &BTreeMap<String, Vec<String>>) -> Taxonomy {
        let mut taxonomy = Taxonomy::default();
        for (name, keywords) in additions {
            match taxonomy.topics.iter_mut().find(|t| &t.name == name) {
                Some(topic) => {
                    topic.keywords.extend(keywords.iter().cloned());
                    topic.pattern = compile(&topic.keywords);
                }
                None => taxonomy.topics.push(Topic {
                    name: name.clone(),
                    label: name.replace('_', " "),
                    weight: 0.2,
                    pattern: compile(keywords),
                    keywords: keywords.clone(),
                }),
            }
        }
        taxonomy
    }

    /// The topics a text touches, weightiest first.
    pub fn topics_in(&self, text: &str) -> Vec<&Topic> {
        let mut found: Vec<&Topic> = self
            .topics
            .iter()
            .filter(|t| t.mentions(text).next().is_some())
            .collect();
        found.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        found
    }

    /// How many times a text names the topic (its keywords and phrases).
    pub fn hits(&self, name: &str, text: &str) -> usize {
        self.get(name)
            .map_or(0, |topic| topic.mentions(text).count())
    }

    /// The topic of that name.
    pub fn get(&self, name: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.name == name)
    }

    /// A topic's rank in the taxonomy (for stable ordering).
    pub fn position(&self, name: &str) -> usize {
        self.topics
            .iter()
            .position(|t| t.name == name)
            .unwrap_or(usize::MAX)
    }

    /// The topic a document of this terms type is about when its words name none: a change to
    /// Community Guidelines is content moderation even when the changed line is a list item.
    pub fn of_terms_type(&self, terms_type: &str) -> Option<&Topic> {
        let name = match terms_type {
            "Community Guidelines"
            | "Acceptable Use Policy"
            | "Restricted Use Policy"
            | "Live Policy"
            | "Review Guidelines"
            | "Editorial Policy"
            | "Advertising Content Policy"
            | "Copyright Claims Policy"
            | "Complaints Policy" => "content_moderation",
            "Privacy Policy" | "Business Privacy Policy" | "User Consent Policy" => {
                "data_collection"
            }
            "Trackers Policy" => "advertising",
            "Law Enforcement Guidelines" => "law_enforcement",
            "Deceased Users" => "user_rights",
            "In-App Purchases Policy"
            | "General Conditions of Sale"
            | "Marketplace Buyers Conditions"
            | "Marketplace Sellers Conditions"
            | "Commercial Terms"
            | "Content Monetisation Policy"
            | "Seller Warranty" => "commerce",
            "Data Controller Agreement" | "Data Processor Agreement" => "sharing",
            "Vulnerability Disclosure Policy" => "security",
            "Imprint" => "legal_entity",
            _ => return None,
        };
        self.get(name)
    }

    /// The first place in `text` where the topic shows, if it does.
    pub fn find(&self, name: &str, text: &str) -> Option<usize> {
        self.get(name)?.mentions(text).next().map(|m| m.start())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_on_word_boundaries_with_plurals() {
        let taxonomy = Taxonomy::default();
        let names = |text: &str| {
            taxonomy
                .topics_in(text)
                .iter()
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
        };
        assert!(names("We use your interactions with AI features.").contains(&"ai".to_string()));
        assert!(
            !names("We maintain our systems.").contains(&"ai".to_string()),
            "no match inside words"
        );
        assert!(names("We show ads from Partners.").contains(&"sharing".to_string()));
        assert!(names("Requests from law   enforcement").contains(&"law_enforcement".to_string()));
    }

    #[test]
    fn users_extend_topics() {
        let mut additions = BTreeMap::new();
        additions.insert("ai".to_string(), vec!["Llama".to_string()]);
        additions.insert("health".to_string(), vec!["medical".to_string()]);
        let taxonomy = Taxonomy::with_additions(&additions);
        let names: Vec<String> = taxonomy
            .topics_in("Llama reads medical records")
            .iter()
            .map(|t| t.name.clone())
            .collect();
        assert!(
            names.contains(&"ai".to_string()) && names.contains(&"health".to_string()),
            "{names:?}"
        );
    }
}
