//! CSS selectors of declarations: checked with the parser extraction uses, within limits that
//! keep a hostile selector from costing more than a real one.

/// Longest CSS selector accepted, in bytes.
pub const MAX_SELECTOR_BYTES: usize = 64 * 1024;
/// Most combinators (and whitespace runs) in one selector.
pub const MAX_SELECTOR_COMBINATORS: usize = 64;
/// Deepest nesting of parentheses (`:not(:is(…))`) in one selector.
pub const MAX_SELECTOR_NESTING: usize = 8;

/// Checks that a CSS selector parses, with the parser extraction uses.
pub fn check_css(css: &str) -> Result<(), String> {
    if css.trim().is_empty() {
        return Err("empty selector".into());
    }
    // Matching cost grows with the number of combinators (descendant chains backtrack) and
    // with nested pseudo-classes; real declarations stay far below these bounds.
    if css.len() > MAX_SELECTOR_BYTES {
        return Err(format!(
            "the selector is {} bytes long, more than {MAX_SELECTOR_BYTES}; select with a shorter selector",
            css.len()
        ));
    }
    let mut depth = 0usize;
    let mut deepest = 0usize;
    let mut combinators = 0usize;
    let mut previous = ' ';
    let mut quote: Option<char> = None;
    let mut in_brackets = false;
    for c in css.chars() {
        // Attribute values (`[src="data:…"]`) hold any characters: not structure.
        if let Some(open) = quote {
            if c == open && previous != '\\' {
                quote = None;
            }
            previous = c;
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            _ if in_brackets => {}
            '(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            '>' | '+' | '~' => combinators += 1,
            c if c.is_whitespace() && !previous.is_whitespace() => combinators += 1,
            _ => {}
        }
        previous = c;
    }
    if deepest > MAX_SELECTOR_NESTING || combinators > MAX_SELECTOR_COMBINATORS {
        return Err(format!(
            "the selector is too complex to match safely ({combinators} combinators, parentheses {deepest} deep; at most {MAX_SELECTOR_COMBINATORS} and {MAX_SELECTOR_NESTING})"
        ));
    }
    scraper::Selector::parse(css)
        .map(|_| ())
        .map_err(|e| describe_selector_error(&e.to_string()))
}

/// The CSS parser's complaint in words a declaration author can act on.
pub(crate) fn describe_selector_error(raw: &str) -> String {
    let detail = raw.lines().last().unwrap_or(raw).trim();
    let known = [
        (
            "DanglingCombinator",
            "a combinator (>, +, ~ or space) has no selector after it",
        ),
        ("EmptySelector", "a selector in the list is empty"),
        (
            "LeftoverContent",
            "there is unexpected content after the selector",
        ),
        (
            "UnsupportedPseudoClassOrElement",
            "unsupported pseudo-class or pseudo-element",
        ),
        ("InvalidQualNameInAttr", "invalid attribute name"),
        ("ExpectedBarInAttr", "malformed attribute selector"),
        ("BadValueInAttr", "invalid attribute value (quote it)"),
        ("InvalidState", "invalid selector"),
        (
            "NoQualifiedNameInAttributeSelector",
            "an attribute selector has no attribute name",
        ),
        (
            "ExplicitNamespaceUnexpectedToken",
            "namespace prefixes are not supported",
        ),
        (
            "ClassNeedsIdent",
            "a class selector needs a name after the dot",
        ),
        (
            "PseudoElementExpectedIdent",
            "a pseudo-element needs a name",
        ),
        (
            "NonPseudoElementAfterPseudoElement",
            "nothing may follow a pseudo-element",
        ),
    ];
    if raw.contains("Please report") {
        for (kind, words) in known {
            if detail.starts_with(kind) {
                return words.to_string();
            }
        }
        return format!("invalid selector ({detail})");
    }
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}
