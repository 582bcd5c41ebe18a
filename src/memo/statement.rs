//! Statements: what a sentence of the policy says, retold with the service as its subject.
//!
//! A headline is best in the change's own words, but a policy speaks in the first person ("We may
//! remove accounts…") and a headline in the third ("Facebook now says it may remove accounts…").
//! [`retell`] makes that one change and no other: the subject (`we`, the service's name or `you`)
//! becomes the service, the first verb agrees with it, `our` becomes `its`, and the sentence is
//! cut at its first clause boundary. Whatever it cannot retell safely (a sentence with another
//! subject, a clause that brings `we` back, a clause too long to cut) it declines, so that a
//! headline never says what the sentence does not.
//!
//! ```
//! use policydiff::memo::statement::{retell, Statement};
//!
//! let told = retell("We may remove accounts based on their interactions with violating content.", "Facebook");
//! assert_eq!(told, Some(Statement::Service("may remove accounts based on their interactions with violating content".into())));
//! assert_eq!(told.unwrap().headline("Facebook", true), "Facebook now says it may remove accounts based on their interactions with violating content");
//! ```

/// A sentence retold: who it is about, and the rest of its first clause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Statement {
    /// The service is the subject ("it may remove accounts…").
    Service(String),
    /// The reader is the subject ("you may not use the API to train…").
    Reader(String),
}

impl Statement {
    /// The headline: "{service} now says it …" when the sentence was added, "no longer says" when
    /// it was removed.
    pub fn headline(&self, service: &str, added: bool) -> String {
        let verb = if added { "now says" } else { "no longer says" };
        match self {
            Statement::Service(rest) => format!("{service} {verb} it {rest}"),
            Statement::Reader(rest) => format!("{service} {verb} you {rest}"),
        }
    }
}

/// An announced practice, told as begun: "will start using X" → "starts using X", "will share
/// X" → "now shares X", "will no longer keep X" → "no longer keeps X"; `None` for a clause
/// that does not open with `will`.
pub fn as_begun(clause: &str) -> Option<String> {
    let rest = clause.strip_prefix("will ")?;
    let (verb, tail) = rest.split_once(' ').unwrap_or((rest, ""));
    let tail = if tail.is_empty() {
        String::new()
    } else {
        format!(" {tail}")
    };
    Some(match verb {
        "start" | "begin" => format!("{}{tail}", third_person(verb)?),
        "no" if tail.starts_with(" longer ") => {
            let rest = &tail[" longer ".len()..];
            let (verb, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            format!("no longer {} {tail}", third_person(verb)?)
                .trim_end()
                .to_string()
        }
        "be" => format!("is now{tail}"),
        "not" | "never" => return None,
        verb if verb.chars().all(|c| c.is_ascii_lowercase()) => {
            format!("now {}{tail}", third_person(verb)?)
        }
        _ => return None,
    })
}

/// Words that may come between the subject and its verb.
const ADVERBS: &[&str] = &[
    "also",
    "only",
    "never",
    "always",
    "generally",
    "currently",
    "still",
    "now",
    "further",
    "additionally",
    "automatically",
    "typically",
    "usually",
    "sometimes",
    "often",
    "otherwise",
];

const MODALS: &[&str] = &[
    "may", "might", "can", "cannot", "will", "would", "should", "could", "must", "shall",
];

/// Words that open a clause after a comma.
const CLAUSE_OPENERS: &[&str] = &[
    "and",
    "but",
    "or",
    "which",
    "including",
    "such",
    "unless",
    "if",
    "when",
    "where",
    "while",
    "so",
    "as",
    "e.g.",
    "for",
    "that",
    "we",
    "you",
    "it",
    "this",
    "these",
    "those",
    "provided",
    "except",
    "although",
    "because",
    "subject",
    "in",
    "to",
];

/// How many words a clause needs before a comma inside a series may end it.
const SERIES_CUT_WORDS: usize = 8;

/// The fewest and most words a headline's clause has.
const MIN_CLAUSE_WORDS: usize = 4;
const MAX_CLAUSE_WORDS: usize = 18;

/// Retells a plain-text sentence with the service as subject, or says `None` when it cannot
/// be done without changing what it says.
pub fn retell(sentence: &str, service: &str) -> Option<Statement> {
    let sentence = sentence.trim().replace('’', "'");
    let (subject, rest) = split_subject(&sentence, service)?;
    let clause = first_clause(&rest)?;
    if refers_back(&clause) {
        return None;
    }
    match subject {
        Subject::We => conjugate(&clause)
            .and_then(|c| third_person_pronouns(&c))
            .map(Statement::Service),
        Subject::Service => third_person_pronouns(&clause).map(Statement::Service),
        Subject::You => third_person_pronouns(&clause).map(Statement::Reader),
    }
    .map(|statement| match statement {
        Statement::Service(text) => Statement::Service(text.replace('\'', "’")),
        Statement::Reader(text) => Statement::Reader(text.replace('\'', "’")),
    })
}

/// Nouns a demonstrative may name without referring back to an earlier sentence: the
/// document and the service themselves.
const SELF_STANDING: &[&str] = &[
    "policy",
    "terms",
    "agreement",
    "service",
    "services",
    "website",
    "site",
    "app",
    "apps",
    "notice",
    "page",
    "guidelines",
    "section",
    "platform",
    "product",
    "products",
];

/// Whether a clause leans on an earlier sentence ("allows this type of speech", "uses such
/// data"): retold alone, it would say something else, or nothing.
fn refers_back(clause: &str) -> bool {
    let words: Vec<String> = clause
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .collect();
    words.windows(2).any(|pair| {
        matches!(pair[0].as_str(), "this" | "these" | "those" | "such")
            && !SELF_STANDING.contains(&pair[1].as_str())
            && pair[1].chars().all(char::is_alphabetic)
            && !matches!(
                pair[1].as_str(),
                "as" | "is" | "are" | "we" | "you" | "it" | "the"
            )
    })
}

enum Subject {
    We,
    Service,
    You,
}

fn split_subject<'s>(
    sentence: &'s str,
    service: &str,
) -> Option<(Subject, std::borrow::Cow<'s, str>)> {
    for (contraction, verb) in [
        ("We'll ", "will "),
        ("We're ", "are "),
        ("We've ", "have "),
        ("We'd ", "would "),
    ] {
        if let Some(rest) = sentence.strip_prefix(contraction) {
            return Some((Subject::We, format!("{verb}{rest}").into()));
        }
    }
    if let Some(rest) = sentence.strip_prefix("We ") {
        return Some((Subject::We, rest.into()));
    }
    if let Some(rest) = sentence.strip_prefix("You ") {
        return Some((Subject::You, rest.into()));
    }
    let rest = sentence.strip_prefix(service)?.strip_prefix(' ')?;
    // "Facebook Products are…" names something else than the service.
    let next = rest.split(' ').next()?;
    let next_lower = next.to_lowercase();
    (next.chars().all(|c| c.is_lowercase() || c == '\'')
        && (MODALS.contains(&next_lower.as_str())
            || ADVERBS.contains(&next_lower.as_str())
            || next_lower.ends_with('s')
            || next_lower.ends_with("n't")))
    .then_some((Subject::Service, rest.into()))
}

/// The sentence up to its first clause boundary, when that leaves a headline's worth of words.
fn first_clause(text: &str) -> Option<String> {
    let text = text.trim_end_matches(['.', '!', '?', ';', ':', ',', ' ']);
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut clause: Vec<&str> = Vec::new();
    let mut in_series = false;
    for (at, word) in words.iter().enumerate() {
        let bare = word.trim_end_matches([',', ';', ':']);
        // A comma before another item of a series ("to trade, donate or ask for drugs") leaves
        // the series unfinished: it ends a clause only before a word that starts one, or once
        // the clause says enough on its own.
        let boundary = if word.ends_with(',') {
            let next = words.get(at + 1).map(|w| w.to_lowercase());
            // "and" / "or" after a series' comma closes the series rather than opening a clause.
            let opens = next.is_none_or(|next| {
                CLAUSE_OPENERS.contains(&next.as_str())
                    && !(in_series && matches!(next.as_str(), "and" | "or"))
            });
            // Once a series has begun, it runs to its end.
            let cut = opens || (!in_series && clause.len() + 1 >= SERIES_CUT_WORDS);
            in_series |= !cut;
            cut
        } else {
            bare.len() != word.len()
        };
        // A clause ends before these words, once it has said enough.
        let opens_clause = clause.len() >= MIN_CLAUSE_WORDS
            && (word.starts_with('(')
                || matches!(
                    *word,
                    "-" | "–" | "—" | "including" | "unless" | "which" | "where" | "e.g."
                )
                || (*word == "such" && words.get(at + 1) == Some(&"as")));
        if opens_clause {
            break;
        }
        clause.push(if boundary { bare } else { word });
        if boundary && clause.len() >= MIN_CLAUSE_WORDS {
            break;
        }
        if clause.len() > MAX_CLAUSE_WORDS {
            return None;
        }
    }
    // A clause that ends on a word that needs what follows ("…with the", "…and") is not whole.
    while let Some(last) = clause.last() {
        if matches!(
            last.to_lowercase().as_str(),
            "and"
                | "or"
                | "the"
                | "a"
                | "an"
                | "of"
                | "to"
                | "for"
                | "with"
                | "by"
                | "in"
                | "as"
                | "any"
                | "all"
                | "such"
                | "your"
                | "its"
                | "our"
                | "their"
                | "this"
                | "these"
                | "that"
        ) {
            clause.pop();
        } else {
            break;
        }
    }
    (clause.len() >= MIN_CLAUSE_WORDS - 1).then(|| clause.join(" "))
}

/// The clause with its first verb agreeing with a singular subject.
fn conjugate(clause: &str) -> Option<String> {
    let mut words: Vec<String> = clause.split(' ').map(str::to_string).collect();
    let verb_at = words
        .iter()
        .position(|w| !ADVERBS.contains(&w.to_lowercase().as_str()))?;
    let verb = words[verb_at].clone();
    if !verb.chars().all(|c| c.is_ascii_lowercase() || c == '\'') {
        return None;
    }
    let agreed = match verb.as_str() {
        v if MODALS.contains(&v) => v.to_string(),
        "can't" | "won't" | "wouldn't" | "shouldn't" | "couldn't" | "mustn't" => verb.clone(),
        "do" => "does".into(),
        "don't" => "doesn't".into(),
        "have" => "has".into(),
        "haven't" => "hasn't".into(),
        "are" => "is".into(),
        "aren't" => "isn't".into(),
        "were" => "was".into(),
        "weren't" => "wasn't".into(),
        // Past tense agrees already.
        v if v.ends_with("ed") => v.to_string(),
        v => third_person(v)?,
    };
    words[verb_at] = agreed;
    // A second verb of the same subject ("collect your email and share it") agrees too.
    for at in verb_at + 2..words.len() {
        let follows_conjunction = matches!(words[at - 1].as_str(), "and" | "or");
        let is_noun = words.get(at + 1).is_some_and(|next| next == "of");
        if follows_conjunction && !is_noun && COMMON_VERBS.contains(&words[at].as_str()) {
            words[at] = third_person(&words[at])?;
        }
    }
    Some(words.join(" "))
}

/// Verbs a policy's "we" often joins to another ("we collect and use…").
const COMMON_VERBS: &[&str] = &[
    "access",
    "analyse",
    "analyze",
    "collect",
    "combine",
    "delete",
    "disclose",
    "keep",
    "process",
    "provide",
    "remove",
    "retain",
    "sell",
    "share",
    "store",
    "transfer",
    "use",
    "disable",
    "restrict",
    "suspend",
    "terminate",
    "train",
    "improve",
    "personalise",
    "personalize",
    "review",
    "monitor",
    "receive",
    "infer",
    "send",
    "show",
    "allow",
    "require",
    "protect",
    "limit",
    "update",
    "change",
];

/// The third-person singular present of a base verb.
fn third_person(verb: &str) -> Option<String> {
    Some(match verb {
        v if v.contains('\'') => return None,
        v if v.ends_with('y') && !v.ends_with("ay") && !v.ends_with("ey") && !v.ends_with("oy") => {
            format!("{}ies", &v[..v.len() - 1])
        }
        v if ["s", "sh", "ch", "x", "z", "o"]
            .iter()
            .any(|end| v.ends_with(end)) =>
        {
            format!("{v}es")
        }
        v => format!("{v}s"),
    })
}

/// `our` → `its`, `us` → `it`; `None` when `we` comes back (its verb would not agree).
fn third_person_pronouns(clause: &str) -> Option<String> {
    let mut out = Vec::new();
    for word in clause.split(' ') {
        let core = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
        let replaced = match core.to_lowercase().as_str() {
            "we" | "we'll" | "we're" | "we've" | "we'd" => return None,
            "our" | "ours" => word.replacen(core, "its", 1),
            "us" => word.replacen(core, "it", 1),
            "ourselves" => word.replacen(core, "itself", 1),
            _ => word.to_string(),
        };
        out.push(replaced);
    }
    Some(out.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn told(sentence: &str) -> Option<String> {
        retell(sentence, "Example").map(|s| s.headline("Example", true))
    }

    #[test]
    fn the_service_becomes_the_subject_and_its_verb_agrees() {
        assert_eq!(
            told("We also remove content that attempts to trade drugs.").as_deref(),
            Some("Example now says it also removes content that attempts to trade drugs")
        );
        assert_eq!(
            told("We don't sell your data to third-party organizations, for advertising or for any other purposes.").as_deref(),
            Some("Example now says it doesn’t sell your data to third-party organizations")
        );
        assert_eq!(
            told("We collect your email and share it with our partners.").as_deref(),
            Some("Example now says it collects your email and shares it with its partners")
        );
        assert_eq!(
            told("We use our models to train our products and services for you.").as_deref(),
            Some("Example now says it uses its models to train its products and services for you")
        );
        assert_eq!(
            told("We'll share your information with our partners when required.").as_deref(),
            Some("Example now says it will share your information with its partners when required")
        );
        assert_eq!(
            told("Example retains the exclusive right to commercialize the Service.").as_deref(),
            Some("Example now says it retains the exclusive right to commercialize the Service")
        );
        assert_eq!(
            told("You may not use the API to train a foundation or frontier model.").as_deref(),
            Some(
                "Example now says you may not use the API to train a foundation or frontier model"
            )
        );
    }

    #[test]
    fn declines_what_it_cannot_retell_truly() {
        // Another subject.
        assert_eq!(
            told("Your data is stored in the EU for as long as needed."),
            None
        );
        // "we" again later: its verb would not agree.
        assert_eq!(told("We keep it as long as we need it."), None);
        // A name that is not the service acting.
        assert_eq!(
            told("Example Products are provided by Example Ireland Limited."),
            None
        );
        // Too long to cut at a clause boundary.
        assert_eq!(
            told(
                "We collect the information that you provide when you sign up for an account and create or share content and message or communicate with others on the service"
            ),
            None
        );
    }

    #[test]
    fn the_clause_stops_at_its_boundary() {
        assert_eq!(
            told("We may remove accounts based on their interactions with other violating accounts, searches for violating content, or membership in communities.").as_deref(),
            Some("Example now says it may remove accounts based on their interactions with other violating accounts")
        );
        assert_eq!(
            retell("We do not knowingly sell your information.", "Example")
                .map(|s| s.headline("Example", false))
                .as_deref(),
            Some("Example no longer says it does not knowingly sell your information")
        );
    }

    #[test]
    fn an_announced_practice_is_told_as_begun() {
        let clause = |sentence: &str| match retell(sentence, "Instagram") {
            Some(Statement::Service(clause)) => as_begun(&clause),
            _ => None,
        };
        assert_eq!(
            clause("We’ll start using interactions with AIs to personalize experiences and ads.")
                .as_deref(),
            Some("starts using interactions with AIs to personalize experiences and ads")
        );
        assert_eq!(
            clause("We will share your listening history with our partners.").as_deref(),
            Some("now shares your listening history with its partners")
        );
        assert_eq!(
            clause("We will no longer keep your voice recordings.").as_deref(),
            Some("no longer keeps your voice recordings")
        );
        assert_eq!(clause("We will not sell your data."), None);
    }

    #[test]
    fn a_clause_that_refers_back_is_not_retold() {
        assert_eq!(told("We allow this type of speech in some contexts."), None);
        assert_eq!(told("We use such data to improve our models."), None);
        assert_eq!(
            told("We may update this policy from time to time.").as_deref(),
            Some("Example now says it may update this policy from time to time")
        );
    }
}
