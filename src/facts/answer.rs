//! A fact's answer from the hits of a service's documents: yes, no, conflicting, not stated or
//! stated with its values, with the evidence that supports it.

use super::rules::{Rule, RuleKind, WhenBoth};
use super::{Answer, AnswerKind, Evidence, Hit, MAX_EVIDENCE, MAX_VALUES, Says};

/// The answer of a rule from the hits of a service's documents:
/// `(terms type, commit, date, hits)` per document.
pub fn answer(rule: &Rule, documents: &[(&str, &str, &str, &Vec<Hit>)]) -> Answer {
    let evidence_of = |terms_type: &str, commit: &str, date: &str, hit: &Hit| Evidence {
        terms_type: terms_type.to_string(),
        quote: hit.quote.clone(),
        commit: commit.to_string(),
        date: date.to_string(),
        says: match &hit.says {
            Says::Yes => "yes".into(),
            Says::No => "no".into(),
            Says::Value(value) => value.clone(),
        },
    };
    let all: Vec<(&str, &str, &str, &Hit)> = documents
        .iter()
        .flat_map(|(terms_type, commit, date, hits)| {
            hits.iter()
                .map(move |hit| (*terms_type, *commit, *date, hit))
        })
        .collect();
    let not_stated = Answer {
        kind: AnswerKind::NotStated,
        value: None,
        regions: Vec::new(),
        evidence: Vec::new(),
    };
    match rule.kind {
        RuleKind::Value => {
            let mut values: Vec<String> = Vec::new();
            let mut evidence = Vec::new();
            for (terms_type, commit, date, hit) in &all {
                let Says::Value(value) = &hit.says else {
                    continue;
                };
                let value = if hit.regions.is_empty() {
                    value.clone()
                } else {
                    format!("{value} ({})", hit.regions.join(", "))
                };
                if !values.contains(&value) && values.len() < MAX_VALUES {
                    values.push(value);
                    evidence.push(evidence_of(terms_type, commit, date, hit));
                }
            }
            if values.is_empty() {
                return not_stated;
            }
            // In a stable order (ages and periods by their number), so that the same values in
            // another order are the same answer and history reports only changes of meaning.
            let mut paired: Vec<(String, Evidence)> = values.into_iter().zip(evidence).collect();
            paired
                .sort_by(|(a, _), (b, _)| leading_number(a).cmp(&leading_number(b)).then(a.cmp(b)));
            let (values, evidence): (Vec<String>, Vec<Evidence>) = paired.into_iter().unzip();
            Answer {
                kind: AnswerKind::Stated,
                value: Some(values.join("; ")),
                regions: Vec::new(),
                evidence,
            }
        }
        RuleKind::Regions => {
            let offering: Vec<&(&str, &str, &str, &Hit)> = all
                .iter()
                .filter(|(_, _, _, hit)| hit.says == Says::Yes)
                .collect();
            if offering.is_empty() {
                return not_stated;
            }
            let mut regions: Vec<String> = Vec::new();
            let mut evidence = Vec::new();
            let mut unqualified = false;
            for (terms_type, commit, date, hit) in &offering {
                let new_region = hit.regions.iter().any(|r| !regions.contains(r));
                if hit.regions.is_empty() {
                    unqualified = true;
                }
                for region in &hit.regions {
                    if !regions.contains(region) {
                        regions.push(region.clone());
                    }
                }
                if (new_region || evidence.is_empty()) && evidence.len() < MAX_EVIDENCE {
                    evidence.push(evidence_of(terms_type, commit, date, hit));
                }
            }
            let value = match (regions.is_empty(), unqualified) {
                (true, _) => "no region named".to_string(),
                (false, true) => format!("{} (and without a region named)", regions.join(", ")),
                (false, false) => regions.join(", "),
            };
            Answer {
                kind: AnswerKind::Stated,
                value: Some(value),
                regions,
                evidence,
            }
        }
        RuleKind::YesNo => {
            let yes: Vec<_> = all
                .iter()
                .filter(|(_, _, _, h)| h.says == Says::Yes)
                .collect();
            let no: Vec<_> = all
                .iter()
                .filter(|(_, _, _, h)| h.says == Says::No)
                .collect();
            let kind = match (yes.is_empty(), no.is_empty()) {
                (true, true) => return not_stated,
                (false, true) => AnswerKind::Yes,
                (true, false) => AnswerKind::No,
                (false, false) => match rule.source.when_both {
                    WhenBoth::Conflicting => AnswerKind::Conflicting,
                    WhenBoth::Yes => AnswerKind::Yes,
                },
            };
            let deciding: Vec<_> = match kind {
                AnswerKind::No => no.clone(),
                _ => yes.clone(),
            };
            // Limited to regions only when every deciding sentence names some.
            let mut regions: Vec<String> = Vec::new();
            if deciding.iter().all(|(_, _, _, h)| !h.regions.is_empty()) {
                for (_, _, _, hit) in &deciding {
                    for region in &hit.regions {
                        if !regions.contains(region) {
                            regions.push(region.clone());
                        }
                    }
                }
            }
            // The evidence: deciding sentences first, then (for both) one of the others.
            // The same sentence under several sections is quoted once.
            let mut quoted = std::collections::HashSet::new();
            let mut evidence: Vec<Evidence> = deciding
                .iter()
                .filter(|(_, _, _, h)| quoted.insert(h.quote.as_str()))
                .take(if kind == AnswerKind::Yes && !no.is_empty() {
                    MAX_EVIDENCE - 1
                } else {
                    MAX_EVIDENCE
                })
                .map(|(t, c, d, h)| evidence_of(t, c, d, h))
                .collect();
            if kind != AnswerKind::No
                && let Some((t, c, d, h)) = no.first()
            {
                evidence.push(evidence_of(t, c, d, h));
            }
            Answer {
                kind,
                value: None,
                regions,
                evidence,
            }
        }
    }
}

/// The number a value opens with ("13", "30 days"), for ordering; values without one last.
fn leading_number(value: &str) -> (bool, u64) {
    let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
    match digits.parse() {
        Ok(number) => (false, number),
        Err(_) => (true, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::rules::Rules;

    #[test]
    fn values_are_given_in_one_order_whatever_the_documents_order() {
        let rules = Rules::with_additions(&[]).unwrap();
        let rule = rules.get("minimum_age").unwrap();
        let hit = |age: &str| Hit {
            quote: format!("You must be at least {age} to use the Services."),
            says: Says::Value(age.into()),
            regions: Vec::new(),
        };
        let (terms, privacy) = (vec![hit("18")], vec![hit("13")]);
        let one = answer(
            rule,
            &[
                ("Terms of Service", "a", "2026-01-01", &terms),
                ("Privacy Policy", "a", "2026-01-01", &privacy),
            ],
        );
        let other = answer(
            rule,
            &[
                ("Privacy Policy", "a", "2026-01-01", &privacy),
                ("Terms of Service", "a", "2026-01-01", &terms),
            ],
        );
        assert_eq!(one.value.as_deref(), Some("13; 18"));
        assert!(one.same_as(&other));
        assert_eq!(one.evidence[0].says, "13");
    }
}
