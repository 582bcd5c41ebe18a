//! Fact rules: the questions and how a sentence answers them, as data.
//!
//! [`FactRule`] is the YAML form (built-in defaults in `src/facts/defaults.yaml`, extended or
//! overridden by id in `config.yaml`'s `facts:` or a `facts.yaml` beside it); [`Rules`] holds them
//! compiled. [`Rules::compile`] says which rule and which pattern is wrong, and why.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A fact rule as written in YAML.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FactRule {
    /// Fixed id (`ai_training`).
    pub id: String,
    /// The question it answers.
    pub question: String,
    /// Terms types whose documents are read (empty: all).
    #[serde(default)]
    pub terms_types: Vec<String>,
    /// Patterns of a sentence saying yes (negated: no).
    #[serde(default)]
    pub yes: Vec<String>,
    /// Patterns of a sentence saying no.
    #[serde(default)]
    pub no: Vec<String>,
    /// The sentence (or its heading) must also match one of these, when given.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Sentences matching one of these are never evidence.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// A value extractor: a pattern with a named group `value`.
    #[serde(default)]
    pub value: Option<String>,
    /// The answer is the regions the matching sentences name.
    #[serde(default)]
    pub regions: bool,
    /// Badge texts on the card, by answer (`yes`, `no`, `conflicting`, `not_stated`).
    #[serde(default)]
    pub badge: BTreeMap<String, String>,
    /// The answer when some sentences say yes and others no: `conflicting` (default), or `yes`
    /// when a no is usually about a part (messages not used, posts used).
    #[serde(default)]
    pub when_both: WhenBoth,
    /// Whether the fact is about the service's own practice: an obligation or prohibition
    /// addressed to the reader, developers or customers ("you may not use Output to train…")
    /// is then not evidence either way.
    #[serde(default)]
    pub practice: bool,
    /// Where `requires` may be met besides the sentence.
    #[serde(default)]
    pub context: Context,
}

/// Where a rule's `requires` may be met besides the sentence itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    /// The sentence before it, a list item's lead-in, or the section's heading (default).
    #[default]
    Section,
    /// The sentence before it or a list item's lead-in, not the heading: a heading that names
    /// AI does not make every opt-out under it an opt-out from AI.
    Sentence,
}

/// The answer of a rule whose sentences say both yes and no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenBoth {
    /// Flag it.
    #[default]
    Conflicting,
    /// Yes prevails (the no sentences stay in the evidence).
    Yes,
}

/// What kind of answer a rule gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// Yes, no, conflicting or not stated.
    YesNo,
    /// A value (a period, an age).
    Value,
    /// The regions named.
    Regions,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// As written.
    pub source: FactRule,
    /// Its kind.
    pub kind: RuleKind,
    pub(super) yes: Vec<Regex>,
    pub(super) no: Vec<Regex>,
    pub(super) requires: Vec<Regex>,
    pub(super) ignore: Vec<Regex>,
    pub(super) value: Option<Regex>,
    /// Its `yes`, `no` and `value` patterns as one, to run once over a whole document: where it
    /// finds nothing, no sentence can answer the rule (`None` when a pattern's anchors make a
    /// sentence match where the whole text would not).
    pub(super) could_answer: Option<Regex>,
}

impl Rule {
    /// Whether the rule reads documents of this terms type.
    pub fn reads(&self, terms_type: &str) -> bool {
        self.source.terms_types.is_empty()
            || self.source.terms_types.iter().any(|t| t == terms_type)
    }
}

/// The compiled rules, in order.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Every rule.
    pub rules: Vec<Rule>,
}

/// A rule that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The rule's id (or its position when it has none).
    pub fact: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fact '{}': {}", self.fact, self.message)
    }
}

/// The built-in rules, as YAML.
pub const DEFAULT_RULES_YAML: &str = include_str!("defaults.yaml");

/// The rules of a YAML text: `facts: [...]`, or the list itself.
pub fn parse_rules(text: &str) -> Result<Vec<FactRule>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        facts: Vec<FactRule>,
    }
    let value: serde_yaml::Value = crate::yaml::from_str(text).map_err(|e| e.to_string())?;
    if value.is_null() {
        return Ok(Vec::new());
    }
    let rules = if value.is_sequence() {
        serde_path_to_error::deserialize::<_, Vec<FactRule>>(value)
    } else {
        serde_path_to_error::deserialize::<_, File>(value).map(|file| file.facts)
    };
    rules.map_err(|e| {
        let path = e.path().to_string();
        format!("{path}: {}", e.into_inner())
    })
}

impl Rules {
    /// The built-in rules with `additions`: a rule whose id is already there replaces it, a
    /// new id is added.
    pub fn with_additions(additions: &[FactRule]) -> Result<Rules, RuleError> {
        let mut sources = parse_rules(DEFAULT_RULES_YAML).map_err(|message| RuleError {
            fact: "(built-in)".into(),
            message,
        })?;
        for addition in additions {
            match sources.iter_mut().find(|r| r.id == addition.id) {
                Some(existing) => *existing = addition.clone(),
                None => sources.push(addition.clone()),
            }
        }
        Rules::compile(sources)
    }

    /// Compiles rules, naming the rule and the pattern of the first problem.
    pub fn compile(sources: Vec<FactRule>) -> Result<Rules, RuleError> {
        let mut rules = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for (index, source) in sources.into_iter().enumerate() {
            let fact = if source.id.is_empty() {
                format!("#{}", index + 1)
            } else {
                source.id.clone()
            };
            let fail = |message: String| RuleError {
                fact: fact.clone(),
                message,
            };
            if source.id.is_empty()
                || !source
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(fail(
                    "an id of lower-case letters, digits and `_` is needed (it names the fact in reports)"
                        .into(),
                ));
            }
            if !seen.insert(source.id.clone()) {
                return Err(fail("two rules have this id; give each its own".into()));
            }
            if source.question.trim().is_empty() {
                return Err(fail("a question is needed (`question: …`)".into()));
            }
            let compile_all = |key: &str, patterns: &[String]| -> Result<Vec<Regex>, RuleError> {
                patterns
                    .iter()
                    .map(|p| {
                        compile(p).map_err(|reason| {
                            fail(format!(
                                "{key}: pattern {p:?} is not a valid regular expression: {reason}"
                            ))
                        })
                    })
                    .collect()
            };
            let yes = compile_all("yes", &source.yes)?;
            let no = compile_all("no", &source.no)?;
            let requires = compile_all("requires", &source.requires)?;
            let ignore = compile_all("ignore", &source.ignore)?;
            let value = match &source.value {
                Some(pattern) => {
                    let regex = compile(pattern).map_err(|reason| {
                        fail(format!(
                            "value: pattern {pattern:?} is not a valid regular expression: {reason}"
                        ))
                    })?;
                    if !regex.capture_names().any(|n| n == Some("value")) {
                        return Err(fail(format!(
                            "value: pattern {pattern:?} has no group named `value`; write (?P<value>…) around what to report"
                        )));
                    }
                    Some(regex)
                }
                None => None,
            };
            let kind = match (&value, source.regions) {
                (Some(_), true) => {
                    return Err(fail(
                        "a rule is a value rule (`value:`) or a regions rule (`regions: true`), not both"
                            .into(),
                    ));
                }
                (Some(_), false) => RuleKind::Value,
                (None, true) => RuleKind::Regions,
                (None, false) => RuleKind::YesNo,
            };
            if kind != RuleKind::Value && yes.is_empty() && no.is_empty() {
                return Err(fail(
                    "no pattern: give `yes:` or `no:` patterns (or a `value:` extractor)".into(),
                ));
            }
            let could_answer = whole_text_prefilter(
                source
                    .yes
                    .iter()
                    .chain(&source.no)
                    .chain(source.value.iter()),
            );
            rules.push(Rule {
                source,
                kind,
                yes,
                no,
                requires,
                ignore,
                value,
                could_answer,
            });
        }
        Ok(Rules { rules })
    }

    /// The rule of that id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.source.id == id)
    }
}

/// One pattern that matches a whole text wherever one of `patterns` matches a sentence of it,
/// when every pattern is free of what ties a match to where a sentence starts or ends (anchors,
/// "not a word boundary"); `None` otherwise.
fn whole_text_prefilter<'a>(patterns: impl Iterator<Item = &'a String>) -> Option<Regex> {
    use regex_syntax::hir::Look;
    let patterns: Vec<&String> = patterns.collect();
    let position_free = |pattern: &str| {
        let Ok(hir) = regex_syntax::parse(pattern) else {
            return false;
        };
        let looks = hir.properties().look_set();
        ![
            Look::Start,
            Look::End,
            Look::StartLF,
            Look::EndLF,
            Look::StartCRLF,
            Look::EndCRLF,
            Look::WordAsciiNegate,
            Look::WordUnicodeNegate,
        ]
        .iter()
        .any(|look| looks.contains(*look))
    };
    if patterns.is_empty() || !patterns.iter().all(|p| position_free(p)) {
        return None;
    }
    let joined = patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    compile(&joined).ok()
}

fn compile(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        // Each pattern keeps a search cache per thread that reads with it, up to this size
        // (2 MB by default): half of that is enough for policies' sentences, and several
        // drafting threads each hold their own.
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| {
            e.to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_rules_compile_and_hold_the_promised_facts() {
        let rules = Rules::with_additions(&[]).unwrap();
        for id in [
            "ai_training",
            "ai_training_opt_out",
            "ai_interactions_for_ads",
            "private_messages_for_ai",
            "ai_chats_human_review",
            "sells_personal_data",
            "shares_with_law_enforcement",
            "retention_period",
            "minimum_age",
            "objection_right_regions",
            "zero_data_retention",
            "hipaa_baa",
        ] {
            assert!(rules.get(id).is_some(), "{id}");
        }
        assert_eq!(rules.get("minimum_age").unwrap().kind, RuleKind::Value);
        assert_eq!(
            rules.get("objection_right_regions").unwrap().kind,
            RuleKind::Regions
        );
    }

    #[test]
    fn bad_rules_are_named_with_what_to_do() {
        let rule = |yaml: &str| {
            parse_rules(yaml).and_then(|r| {
                Rules::with_additions(&r)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        };
        let error =
            rule("facts:\n  - id: x\n    question: Q?\n    yes: ['(unclosed']\n").unwrap_err();
        assert!(
            error.contains("fact 'x'") && error.contains("yes: pattern \"(unclosed\""),
            "{error}"
        );
        let error = rule("- id: y\n  question: Q?\n  value: '\\d+ days'\n").unwrap_err();
        assert!(error.contains("no group named `value`"), "{error}");
        let error = rule("- id: z\n  question: Q?\n  yess: [a]\n").unwrap_err();
        assert!(error.contains("yess"), "{error}");
        let error = rule("- id: Bad Id\n  question: Q?\n  yes: [a]\n").unwrap_err();
        assert!(error.contains("lower-case"), "{error}");
        // An override by id replaces the built-in rule.
        let rules = Rules::with_additions(
            &parse_rules(
                "- id: minimum_age\n  question: How old?\n  value: '(?P<value>\\d+) years'\n",
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            rules.get("minimum_age").unwrap().source.question,
            "How old?"
        );
    }

    #[test]
    fn a_rule_is_skipped_for_a_document_only_when_no_sentence_could_answer_it() {
        let rule = |id: &str, yes: &str| FactRule {
            id: id.into(),
            question: "Does it sell data?".into(),
            yes: vec![yes.into()],
            ..serde_yaml::from_str::<FactRule>("id: x\nquestion: q").unwrap()
        };
        let rules = Rules::compile(vec![
            rule("sells", r"\bsells?\b[^.]{0,20}\bdata\b"),
            // Anchored: a sentence starts where the whole text does not, so no prefilter.
            rule("anchored", r"^we sell"),
        ])
        .unwrap();
        assert!(rules.get("sells").unwrap().could_answer.is_some());
        assert!(rules.get("anchored").unwrap().could_answer.is_none());
        let text = "Privacy\n=======\n\nWe collect data. We sell your data to partners.\n";
        let hits = crate::facts::read_document(text, "Privacy Policy", &rules);
        assert_eq!(hits[0].len(), 1, "{hits:?}");
        assert_eq!(
            hits[1].len(),
            1,
            "an anchored pattern still answers: {hits:?}"
        );
        let none = crate::facts::read_document("We collect data.\n", "Privacy Policy", &rules);
        assert!(none.iter().all(Vec::is_empty));
    }
}
