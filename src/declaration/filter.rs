//! Filters a declaration can name, and how their parameters are read.
//!
//! OTA declarations name filters (`"filter": ["cleanUrls", {"removeQueryParams": ["utm_source"]}]`)
//! that are JavaScript functions of the service's `.filters.js`. policydiff does
//! not run JavaScript: it ships [`BuiltinFilter`]s for the common needs, and a
//! name that is not built in becomes a [`Filter::Script`], reported as
//! unsupported and skipped at extraction.

use regex::Regex;
use serde_json::Value;

/// A filter as declared: built in (run by policydiff) or a JavaScript function it cannot run.
#[derive(Debug, Clone)]
pub enum Filter {
    /// A filter policydiff implements.
    Builtin(BuiltinFilter),
    /// A function of the service's `.filters.js`, which policydiff does not run.
    Script(String),
}

impl Filter {
    /// The name as declared.
    pub fn name(&self) -> &str {
        match self {
            Filter::Builtin(builtin) => builtin.name(),
            Filter::Script(name) => name,
        }
    }
}

/// The filters policydiff runs itself, applied to the page before `remove` and `select`.
#[derive(Debug, Clone)]
pub enum BuiltinFilter {
    /// `{"removeQueryParams": ["utm_source", …]}`: drop these query parameters from links and images
    /// (OTA's own exposed filter, same behaviour).
    RemoveQueryParams(Vec<String>),
    /// `"removeTrackingParams"`: drop well-known tracking parameters (`utm_*`, `fbclid`, `gclid`, …)
    /// from links and images.
    RemoveTrackingParams,
    /// `"removeEmptyLinks"`: remove links with no text and no image.
    RemoveEmptyLinks,
    /// `{"removeElements": CSS | [CSS]}`: remove the matching elements.
    RemoveElements(Vec<String>),
    /// `{"unwrapElements": CSS | [CSS]}`: replace the matching elements by their children.
    UnwrapElements(Vec<String>),
    /// `{"replaceText": {"pattern": REGEX, "replacement": TEXT}}`: rewrite text nodes
    /// (`$1` refers to groups).
    ReplaceText {
        /// The compiled pattern.
        pattern: Regex,
        /// The replacement, with `$n` group references.
        replacement: String,
    },
    /// `"replaceNonBreakingSpaces"`: non-breaking spaces become plain spaces.
    ReplaceNonBreakingSpaces,
    /// `"removeZeroWidthCharacters"`: drop zero-width spaces, joiners and byte-order marks.
    RemoveZeroWidthCharacters,
}

/// Names of the built-in filters, for messages.
pub const BUILTIN_FILTER_NAMES: &[&str] = &[
    "removeQueryParams",
    "removeTrackingParams",
    "removeEmptyLinks",
    "removeElements",
    "unwrapElements",
    "replaceText",
    "replaceNonBreakingSpaces",
    "removeZeroWidthCharacters",
];

impl BuiltinFilter {
    /// The declared name.
    pub fn name(&self) -> &'static str {
        match self {
            BuiltinFilter::RemoveQueryParams(_) => "removeQueryParams",
            BuiltinFilter::RemoveTrackingParams => "removeTrackingParams",
            BuiltinFilter::RemoveEmptyLinks => "removeEmptyLinks",
            BuiltinFilter::RemoveElements(_) => "removeElements",
            BuiltinFilter::UnwrapElements(_) => "unwrapElements",
            BuiltinFilter::ReplaceText { .. } => "replaceText",
            BuiltinFilter::ReplaceNonBreakingSpaces => "replaceNonBreakingSpaces",
            BuiltinFilter::RemoveZeroWidthCharacters => "removeZeroWidthCharacters",
        }
    }

    /// Reads a built-in filter from its name and parameters.
    ///
    /// `Ok(None)`: the name is not built in. `Err`: built in, but the parameters are wrong.
    pub fn from_declared(name: &str, params: Option<&Value>) -> Result<Option<Self>, String> {
        let filter = match name {
            "removeQueryParams" => {
                BuiltinFilter::RemoveQueryParams(strings(params, "query parameter names")?)
            }
            "removeElements" => BuiltinFilter::RemoveElements(selectors(params)?),
            "unwrapElements" => BuiltinFilter::UnwrapElements(selectors(params)?),
            "replaceText" => {
                let Some(Value::Object(object)) = params else {
                    return Err(
                        "takes {\"pattern\": REGEX, \"replacement\": TEXT} as parameters".into(),
                    );
                };
                if let Some(unknown) = object
                    .keys()
                    .find(|k| *k != "pattern" && *k != "replacement")
                {
                    return Err(format!(
                        "unknown parameter `{unknown}`; allowed: pattern, replacement"
                    ));
                }
                let pattern = match object.get("pattern") {
                    Some(Value::String(p)) if !p.is_empty() => p,
                    _ => return Err("needs a non-empty string `pattern`".into()),
                };
                let replacement = match object.get("replacement") {
                    Some(Value::String(r)) => r.clone(),
                    None => String::new(),
                    Some(_) => return Err("`replacement` must be a string".into()),
                };
                let pattern = regex::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("invalid `pattern` regular expression: {e}"))?;
                BuiltinFilter::ReplaceText {
                    pattern,
                    replacement,
                }
            }
            "removeTrackingParams"
            | "removeEmptyLinks"
            | "replaceNonBreakingSpaces"
            | "removeZeroWidthCharacters" => {
                if params.is_some_and(|p| !p.is_null()) {
                    return Err("takes no parameters; write it as a plain string".into());
                }
                match name {
                    "removeTrackingParams" => BuiltinFilter::RemoveTrackingParams,
                    "removeEmptyLinks" => BuiltinFilter::RemoveEmptyLinks,
                    "replaceNonBreakingSpaces" => BuiltinFilter::ReplaceNonBreakingSpaces,
                    _ => BuiltinFilter::RemoveZeroWidthCharacters,
                }
            }
            _ => return Ok(None),
        };
        Ok(Some(filter))
    }
}

fn strings(params: Option<&Value>, what: &str) -> Result<Vec<String>, String> {
    match params {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("expects {what} as strings, found {other}")),
            })
            .collect(),
        _ => Err(format!(
            "takes {what} as parameters: a string or an array of strings"
        )),
    }
}

fn selectors(params: Option<&Value>) -> Result<Vec<String>, String> {
    let selectors = strings(params, "CSS selectors")?;
    for selector in &selectors {
        if let Err(reason) = super::check_css(selector) {
            return Err(format!("invalid CSS selector {selector:?}: {reason}"));
        }
    }
    Ok(selectors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_builtin_filters_and_their_parameters() {
        let params = json!(["utm_source", "utm_medium"]);
        match BuiltinFilter::from_declared("removeQueryParams", Some(&params)) {
            Ok(Some(BuiltinFilter::RemoveQueryParams(names))) => {
                assert_eq!(names, ["utm_source", "utm_medium"]);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            BuiltinFilter::from_declared("cleanUrls", None),
            Ok(None)
        ));
    }

    #[test]
    fn rejects_bad_parameters_with_reason() {
        let error =
            BuiltinFilter::from_declared("removeElements", Some(&json!(["div[["]))).unwrap_err();
        assert!(error.contains("div[["), "{error}");
        let error = BuiltinFilter::from_declared("replaceText", Some(&json!({"pattern": "("})))
            .unwrap_err();
        assert!(error.contains("regular expression"), "{error}");
        let error =
            BuiltinFilter::from_declared("removeEmptyLinks", Some(&json!(["x"]))).unwrap_err();
        assert!(error.contains("no parameters"), "{error}");
    }
}
