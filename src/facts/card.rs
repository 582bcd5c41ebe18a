//! The verdict card of a service: its headline answers as badges, every question with its
//! answer and quoted evidence linked to the commit, "Last verified", and the answers' history —
//! as a self-contained HTML page ([`html`]) or as Markdown ([`markdown`]).

use askama::Template;

use super::{AnswerKind, Evidence, FactReport, ServiceFacts};
use crate::{Error, Result};

/// A link to a commit, from `memos.commit_url` (a template with `{commit}`).
fn commit_link(template: Option<&str>, commit: &str) -> Option<String> {
    template.map(|t| t.replace("{commit}", commit))
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

fn date_only(date: &str) -> &str {
    &date[..date.len().min(10)]
}

/// The card's verdict line, the answer people come for: "Does Meta AI train AI on your data?
/// Yes — you can object (EU/EEA, UK); no HIPAA BAA." Only what the texts state is said.
pub fn verdict(facts: &ServiceFacts) -> Option<String> {
    let fact = |id: &str| facts.facts.iter().find(|f| f.id == id);
    let training = fact("ai_training")?;
    let question = format!("Does {} train AI on your data?", facts.service);
    let answer = match training.answer {
        AnswerKind::No => "No — its policies say it does not.".to_string(),
        AnswerKind::Conflicting => "Its policies say both.".to_string(),
        AnswerKind::NotStated | AnswerKind::Stated => "Its policies do not say.".to_string(),
        AnswerKind::Yes => {
            let mut terms: Vec<String> = Vec::new();
            if let Some(opt_out) = fact("ai_training_opt_out") {
                terms.push(match opt_out.answer {
                    AnswerKind::Yes if !opt_out.regions.is_empty() => {
                        format!("you can opt out or object ({})", opt_out.regions.join(", "))
                    }
                    AnswerKind::Yes => "you can opt out or object".to_string(),
                    AnswerKind::No => "you cannot opt out".to_string(),
                    _ => "no opt-out stated".to_string(),
                });
            }
            if let Some(retention) = fact("zero_data_retention") {
                match retention.answer {
                    AnswerKind::Yes => terms.push("a zero-retention option".into()),
                    AnswerKind::No => terms.push("no zero-retention option".into()),
                    _ => {}
                }
            }
            if let Some(baa) = fact("hipaa_baa") {
                match baa.answer {
                    AnswerKind::Yes => terms.push("a HIPAA BAA offered".into()),
                    AnswerKind::No => terms.push("no HIPAA BAA".into()),
                    _ => {}
                }
            }
            if terms.is_empty() {
                "Yes.".to_string()
            } else {
                format!("Yes — {}.", terms.join("; "))
            }
        }
    };
    Some(format!("{question} {answer}"))
}

/// The card as Markdown.
pub fn markdown(facts: &ServiceFacts, commit_url: Option<&str>) -> String {
    let mut out = format!("# {}: policy facts\n\n", facts.service);
    if let Some(verdict) = verdict(facts) {
        out.push_str(&format!("**{verdict}**\n\n"));
    }
    if let Some(verified) = &facts.last_verified {
        out.push_str(&format!("Last verified {}.\n\n", date_only(verified)));
    }
    let badges: Vec<String> = facts.facts.iter().filter_map(|f| f.badge.clone()).collect();
    if !badges.is_empty() {
        out.push_str(&format!("**{}**\n\n", badges.join(" · ")));
    }
    let cite = |e: &Evidence| match commit_link(commit_url, &e.commit) {
        Some(link) => format!("[{}, {}]({link})", e.terms_type, e.date),
        None => format!(
            "{}, {}, commit `{}`",
            e.terms_type,
            e.date,
            short(&e.commit)
        ),
    };
    for fact in &facts.facts {
        out.push_str(&format!("## {}\n\n**{}**", fact.question, fact.summary()));
        if let Some(since) = &fact.since {
            out.push_str(&format!(" (since {})", since.date));
        }
        out.push_str("\n\n");
        for evidence in &fact.evidence {
            out.push_str(&format!("> “{}” ({})\n\n", evidence.quote, cite(evidence)));
        }
    }
    if let Some(history) = facts.history.as_ref().filter(|h| !h.is_empty()) {
        out.push_str("## History\n\n");
        for change in history {
            out.push_str(&format!(
                "- {}: {} — {} → {} ({})\n",
                change.date, change.question, change.from, change.to, change.document.terms_type
            ));
        }
    }
    out
}

struct BadgeView {
    text: String,
    tone: &'static str,
}

struct EvidenceView {
    quote: String,
    source: String,
    link: Option<String>,
}

struct FactView {
    id: String,
    question: String,
    answer: String,
    tone: &'static str,
    since: String,
    evidence: Vec<EvidenceView>,
}

struct ChangeView {
    date: String,
    question: String,
    from: String,
    to: String,
    terms_type: String,
    link: Option<String>,
}

#[derive(Template)]
#[template(path = "card.html")]
struct CardPage {
    service: String,
    verdict: String,
    last_verified: String,
    badges: Vec<BadgeView>,
    facts: Vec<FactView>,
    history: Vec<ChangeView>,
}

/// A colour that says how an answer weighs for people: a yes to "sells your data" is a warning.
fn tone(fact: &FactReport) -> &'static str {
    let protective = matches!(
        fact.id.as_str(),
        "ai_training_opt_out" | "zero_data_retention" | "hipaa_baa"
    );
    match fact.answer {
        AnswerKind::Conflicting => "warn",
        AnswerKind::NotStated => "neutral",
        AnswerKind::Stated => "info",
        AnswerKind::Yes if protective => "good",
        AnswerKind::No if protective => "bad",
        AnswerKind::Yes => "bad",
        AnswerKind::No => "good",
    }
}

/// The card as a self-contained HTML page.
pub fn html(facts: &ServiceFacts, commit_url: Option<&str>) -> Result<String> {
    let page = CardPage {
        service: facts.service.clone(),
        verdict: verdict(facts).unwrap_or_default(),
        last_verified: facts
            .last_verified
            .as_deref()
            .map(date_only)
            .unwrap_or("never")
            .to_string(),
        badges: facts
            .facts
            .iter()
            .filter_map(|f| {
                f.badge.clone().map(|text| BadgeView {
                    text,
                    tone: tone(f),
                })
            })
            .collect(),
        facts: facts
            .facts
            .iter()
            .map(|f| FactView {
                id: f.id.clone(),
                question: f.question.clone(),
                answer: f.summary(),
                tone: tone(f),
                since: f.since.as_ref().map(|s| s.date.clone()).unwrap_or_default(),
                evidence: f
                    .evidence
                    .iter()
                    .map(|e| EvidenceView {
                        quote: e.quote.clone(),
                        source: format!(
                            "{}, {}, commit {}",
                            e.terms_type,
                            e.date,
                            short(&e.commit)
                        ),
                        link: commit_link(commit_url, &e.commit),
                    })
                    .collect(),
            })
            .collect(),
        history: facts
            .history
            .iter()
            .flatten()
            .rev()
            .map(|c| ChangeView {
                date: c.date.clone(),
                question: c.question.clone(),
                from: c.from.clone(),
                to: c.to.clone(),
                terms_type: c.document.terms_type.clone(),
                link: commit_link(commit_url, &c.commit),
            })
            .collect(),
    };
    page.render()
        .map_err(|e| Error::internal("rendering a facts card", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: &str, answer: AnswerKind, regions: &[&str]) -> FactReport {
        FactReport {
            id: id.into(),
            question: String::new(),
            answer,
            value: None,
            regions: regions.iter().map(ToString::to_string).collect(),
            since: None,
            evidence: Vec::new(),
            badge: None,
        }
    }

    fn card(facts: Vec<FactReport>) -> ServiceFacts {
        ServiceFacts {
            service: "Meta AI".into(),
            last_verified: None,
            facts,
            history: None,
        }
    }

    #[test]
    fn the_verdict_says_what_the_texts_state_and_nothing_else() {
        let facts = card(vec![
            report("ai_training", AnswerKind::Yes, &[]),
            report("ai_training_opt_out", AnswerKind::Yes, &["EU/EEA", "UK"]),
            report("zero_data_retention", AnswerKind::NotStated, &[]),
            report("hipaa_baa", AnswerKind::No, &[]),
        ]);
        assert_eq!(
            verdict(&facts).as_deref(),
            Some(
                "Does Meta AI train AI on your data? Yes — you can opt out or object (EU/EEA, UK); no HIPAA BAA."
            )
        );
        assert!(markdown(&facts, None).contains("**Does Meta AI train AI on your data? Yes"));
        let silent = card(vec![report("ai_training", AnswerKind::NotStated, &[])]);
        assert_eq!(
            verdict(&silent).as_deref(),
            Some("Does Meta AI train AI on your data? Its policies do not say.")
        );
    }
}
