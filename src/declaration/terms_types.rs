//! OTA's ontology of terms types, shipped inside the crate.
//!
//! The list is a copy of Open Terms Archive's `termsTypes.json`: a terms type
//! outside it is rejected, and the rejection names the closest valid type (or
//! the canonical type when an alias such as "Terms of Use" was written).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Deserialize)]
struct TermsTypeEntry {
    #[serde(default)]
    aliases: Vec<String>,
}

fn ontology() -> &'static BTreeMap<String, Vec<String>> {
    static ONTOLOGY: OnceLock<BTreeMap<String, Vec<String>>> = OnceLock::new();
    ONTOLOGY.get_or_init(|| {
        let entries: BTreeMap<String, TermsTypeEntry> =
            serde_json::from_str(include_str!("terms_types.json"))
                .expect("the shipped terms types ontology is valid JSON");
        entries
            .into_iter()
            .map(|(name, entry)| (name, entry.aliases))
            .collect()
    })
}

/// Whether `name` is a terms type of OTA's ontology (exact, case-sensitive).
pub fn is_known(name: &str) -> bool {
    ontology().contains_key(name)
}

/// Every terms type of the ontology, sorted.
pub fn all() -> impl Iterator<Item = &'static str> {
    ontology().keys().map(String::as_str)
}

/// The valid terms type a user most likely meant by `name`.
pub fn closest(name: &str) -> &'static str {
    let wanted = name.trim().to_lowercase();
    for (canonical, aliases) in ontology() {
        if canonical.to_lowercase() == wanted || aliases.iter().any(|a| a.to_lowercase() == wanted)
        {
            return canonical;
        }
    }
    let mut best = ("Terms of Service", usize::MAX);
    for (canonical, aliases) in ontology() {
        for candidate in std::iter::once(canonical).chain(aliases) {
            let distance = strsim::levenshtein(&candidate.to_lowercase(), &wanted);
            if distance < best.1 {
                best = (canonical.as_str(), distance);
            }
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_ontology() {
        assert!(is_known("Privacy Policy"));
        assert!(is_known("Community Guidelines"));
        assert!(!is_known("privacy policy"));
        assert!(all().count() > 40);
    }

    #[test]
    fn suggests_canonical_type_for_alias_and_typo() {
        assert_eq!(closest("Terms of Use"), "Terms of Service");
        assert_eq!(closest("Cookies Policy"), "Trackers Policy");
        assert_eq!(closest("Privacy Polcy"), "Privacy Policy");
        assert_eq!(closest("privacy policy"), "Privacy Policy");
    }
}
