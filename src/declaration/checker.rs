//! Parsing and checking a declaration's JSON: every field of OTA's format, with a [`Problem`]
//! per mistake that names the file, the terms type and the field, and leaves the other entries
//! usable.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value};

use super::load::json_syntax_problem;
use super::*;

/// Parses and checks a service declaration's JSON text.
///
/// `script_filters` are the names exported by the service's `.filters.js`. Entries with
/// errors are left out of the returned declaration; the problems say why.
pub fn parse_declaration(
    service_id: &str,
    text: &str,
    file: &Path,
    script_filters: &BTreeSet<String>,
) -> (Option<Declaration>, Vec<Problem>) {
    let mut checker = Checker::new(file, script_filters);
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => return (None, vec![json_syntax_problem(file, &error)]),
    };
    if let Err(reason) = check_service_id(service_id) {
        checker.error(
            "",
            format!("the service id {service_id:?} (the file name) {reason}"),
        );
        return (None, checker.problems);
    }
    let Value::Object(object) = value else {
        checker.error(
            "",
            "a declaration must be a JSON object with `name` and `terms`",
        );
        return (None, checker.problems);
    };
    for key in object.keys() {
        if !matches!(key.as_str(), "name" | "terms" | "importedFrom") {
            checker.error(key, "unknown property; allowed: name, terms, importedFrom");
        }
    }
    let name = match object.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => {
            if name.chars().any(char::is_control) {
                checker.error(
                    "name",
                    "must not contain control characters (newlines, NUL…)",
                );
            }
            name.clone()
        }
        Some(_) => {
            checker.error("name", "must be a non-empty string");
            service_id.to_string()
        }
        None => {
            checker.error("name", "is required: the service's public name");
            service_id.to_string()
        }
    };
    let imported_from = match object.get("importedFrom") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            checker.error("importedFrom", "must be a string");
            None
        }
        None => None,
    };
    let mut terms = BTreeMap::new();
    match object.get("terms") {
        Some(Value::Object(entries)) => {
            for (terms_type, entry) in entries {
                checker.terms_type = Some(terms_type.clone());
                if let Some(parsed) = checker.terms_entry(terms_type, entry, false) {
                    terms.insert(terms_type.clone(), parsed);
                }
            }
            checker.terms_type = None;
        }
        Some(_) => checker.error("terms", "must be an object of terms types"),
        None => checker.error("terms", "is required: an object of terms types"),
    }
    let declaration = Declaration {
        service_id: service_id.to_string(),
        name,
        imported_from,
        terms,
        history: BTreeMap::new(),
        sha256: {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        },
    };
    (Some(declaration), checker.problems)
}

/// Parses and checks a `.history.json` file.
pub fn parse_history(
    text: &str,
    file: &Path,
    script_filters: &BTreeSet<String>,
) -> (BTreeMap<String, Vec<Terms>>, Vec<Problem>) {
    let mut checker = Checker::new(file, script_filters);
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(error) => return (BTreeMap::new(), vec![json_syntax_problem(file, &error)]),
    };
    let mut history = BTreeMap::new();
    let Value::Object(object) = value else {
        checker.error("", "a history file must be a JSON object of terms types");
        return (history, checker.problems);
    };
    for (terms_type, entries) in &object {
        checker.terms_type = Some(terms_type.clone());
        let Value::Array(entries) = entries else {
            checker.error("", "must be an array of earlier declarations");
            continue;
        };
        let mut parsed: Vec<Terms> = entries
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| {
                checker.field_prefix = format!("[{index}].");
                let parsed = checker.terms_entry(terms_type, entry, true);
                checker.field_prefix.clear();
                parsed
            })
            .collect();
        parsed.sort_by_key(|entry| entry.valid_until);
        history.insert(terms_type.clone(), parsed);
    }
    (history, checker.problems)
}

struct Checker<'a> {
    file: &'a Path,
    terms_type: Option<String>,
    problems: Vec<Problem>,
    script_filters: &'a BTreeSet<String>,
    field_prefix: String,
}

impl<'a> Checker<'a> {
    fn new(file: &'a Path, script_filters: &'a BTreeSet<String>) -> Self {
        Checker {
            file,
            terms_type: None,
            problems: Vec::new(),
            script_filters,
            field_prefix: String::new(),
        }
    }

    fn push(&mut self, field: &str, message: impl Into<String>, severity: Severity) {
        self.problems.push(Problem {
            file: self.file.to_path_buf(),
            terms_type: self.terms_type.clone(),
            field: format!("{}{}", self.field_prefix, field)
                .trim_end_matches('.')
                .to_string(),
            message: message.into(),
            severity,
        });
    }

    fn error(&mut self, field: &str, message: impl Into<String>) {
        self.push(field, message, Severity::Error);
    }

    /// Reads one terms entry; `None` when it has errors.
    fn terms_entry(&mut self, terms_type: &str, entry: &Value, in_history: bool) -> Option<Terms> {
        let before = self.error_count();
        if !terms_types::is_known(terms_type) {
            self.error(
                "",
                format!(
                    "unknown terms type; the closest type of OTA's ontology is {:?}",
                    terms_types::closest(terms_type)
                ),
            );
        }
        let Value::Object(object) = entry else {
            self.error(
                "",
                "must be an object with `fetch` and `select`, or `combine`",
            );
            return None;
        };
        let valid_until = if in_history {
            match object.get("validUntil") {
                Some(Value::String(date)) => {
                    match parse_date(date) {
                        Some(date) => Some(date),
                        None => {
                            self.error("validUntil", format!("{date:?} is not a date-time (RFC 3339, e.g. 2024-01-31T00:00:00Z)"));
                            None
                        }
                    }
                }
                _ => {
                    self.error(
                        "validUntil",
                        "is required in history entries: a date-time string",
                    );
                    None
                }
            }
        } else {
            None
        };
        let allowed: &[&str] = match (object.contains_key("combine"), in_history) {
            (true, false) => &[
                "combine",
                "select",
                "remove",
                "filter",
                "executeClientScripts",
                "actions",
            ],
            (true, true) => &[
                "combine",
                "select",
                "remove",
                "filter",
                "executeClientScripts",
                "actions",
                "validUntil",
            ],
            (false, false) => &[
                "fetch",
                "select",
                "remove",
                "filter",
                "executeClientScripts",
                "actions",
            ],
            (false, true) => &[
                "fetch",
                "select",
                "remove",
                "filter",
                "executeClientScripts",
                "actions",
                "validUntil",
            ],
        };
        for key in object.keys() {
            if !allowed.contains(&key.as_str()) {
                self.error(
                    key,
                    format!("unknown property; allowed: {}", allowed.join(", ")),
                );
            }
        }
        let sources = if let Some(combine) = object.get("combine") {
            let defaults = self.source_rules(object, "");
            let Value::Array(parts) = combine else {
                self.error("combine", "must be an array of source documents");
                return None;
            };
            if parts.is_empty() {
                self.error("combine", "is empty; list the source documents to combine");
            }
            let mut sources = Vec::new();
            for (index, part) in parts.iter().enumerate() {
                let field = format!("combine[{index}]");
                let Value::Object(part) = part else {
                    self.error(&field, "must be an object with `fetch`");
                    continue;
                };
                for key in part.keys() {
                    if !matches!(
                        key.as_str(),
                        "fetch"
                            | "select"
                            | "remove"
                            | "filter"
                            | "executeClientScripts"
                            | "actions"
                    ) {
                        self.error(&format!("{field}.{key}"), "unknown property; allowed: fetch, select, remove, filter, executeClientScripts, actions");
                    }
                }
                let rules = self.source_rules(part, &format!("{field}."));
                let Some(fetch) = self.fetch(part, &format!("{field}.")) else {
                    continue;
                };
                let source = SourceDocument {
                    select: rules
                        .select
                        .or_else(|| defaults.select.clone())
                        .unwrap_or_default(),
                    remove: rules
                        .remove
                        .or_else(|| defaults.remove.clone())
                        .unwrap_or_default(),
                    filters: rules
                        .filters
                        .or_else(|| defaults.filters.clone())
                        .unwrap_or_default(),
                    execute_client_scripts: rules
                        .execute_client_scripts
                        .or(defaults.execute_client_scripts),
                    actions: rules
                        .actions
                        .or_else(|| defaults.actions.clone())
                        .unwrap_or_default(),
                    fetch,
                };
                if source.select.is_empty() && !source.is_pdf_location() {
                    self.error(
                        &format!("{field}.select"),
                        "is required (here or on the terms entry) unless the document is a PDF",
                    );
                }
                sources.push(source);
            }
            sources
        } else {
            let rules = self.source_rules(object, "");
            let fetch = self.fetch(object, "")?;
            let source = SourceDocument {
                select: rules.select.unwrap_or_default(),
                remove: rules.remove.unwrap_or_default(),
                filters: rules.filters.unwrap_or_default(),
                execute_client_scripts: rules.execute_client_scripts,
                actions: rules.actions.unwrap_or_default(),
                fetch,
            };
            if source.select.is_empty()
                && !object.contains_key("select")
                && !source.is_pdf_location()
            {
                self.error("select", "is required unless the document is a PDF: the CSS selector of the text to track");
            }
            vec![source]
        };
        if self.error_count() > before {
            return None;
        }
        Some(Terms {
            terms_type: terms_type.to_string(),
            combined: object.contains_key("combine"),
            sources,
            valid_until,
        })
    }

    fn error_count(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }

    fn fetch(&mut self, object: &Map<String, Value>, prefix: &str) -> Option<String> {
        let field = format!("{prefix}fetch");
        match object.get("fetch") {
            Some(Value::String(url)) => match url::Url::parse(url) {
                Ok(parsed)
                    if matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some() =>
                {
                    Some(url.clone())
                }
                Ok(parsed) => {
                    self.error(
                        &field,
                        format!(
                            "{url:?} is not an http(s) URL (scheme {:?})",
                            parsed.scheme()
                        ),
                    );
                    None
                }
                Err(e) => {
                    self.error(&field, format!("{url:?} is not a valid URL: {e}"));
                    None
                }
            },
            Some(_) => {
                self.error(&field, "must be a URL string");
                None
            }
            None => {
                self.error(&field, "is required: the URL of the document");
                None
            }
        }
    }

    fn source_rules(&mut self, object: &Map<String, Value>, prefix: &str) -> Rules {
        let select = object
            .get("select")
            .map(|v| self.selectors(v, &format!("{prefix}select")));
        let remove = object
            .get("remove")
            .map(|v| self.selectors(v, &format!("{prefix}remove")));
        let filters = object
            .get("filter")
            .map(|v| self.filters(v, &format!("{prefix}filter")));
        let execute_client_scripts = match object.get("executeClientScripts") {
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.error(
                    &format!("{prefix}executeClientScripts"),
                    "must be true or false",
                );
                None
            }
            None => None,
        };
        let actions = object
            .get("actions")
            .map(|v| self.actions(v, &format!("{prefix}actions")));
        Rules {
            select,
            remove,
            filters,
            execute_client_scripts,
            actions,
        }
    }

    fn actions(&mut self, value: &Value, field: &str) -> Vec<Action> {
        let Value::Array(items) = value else {
            self.error(
                field,
                "must be an array like [{\"click\": \"#show-all\"}, {\"waitFor\": \".policy\"}]",
            );
            return Vec::new();
        };
        let mut actions = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let field = format!("{field}[{index}]");
            let entry = match item {
                Value::Object(object) if object.len() == 1 => object.iter().next(),
                _ => None,
            };
            let Some((key, value)) = entry else {
                self.error(
                    &field,
                    "must be an object with one key, `click` or `waitFor`",
                );
                continue;
            };
            let Value::String(css) = value else {
                self.error(&format!("{field}.{key}"), "must be a CSS selector string");
                continue;
            };
            if let Err(reason) = check_css(css) {
                self.error(
                    &format!("{field}.{key}"),
                    format!("invalid CSS selector {css:?}: {reason}"),
                );
                continue;
            }
            match key.as_str() {
                "click" => actions.push(Action::Click(css.clone())),
                "waitFor" => actions.push(Action::WaitFor(css.clone())),
                _ => self.error(
                    &format!("{field}.{key}"),
                    "unknown action; allowed: click, waitFor",
                ),
            }
        }
        actions
    }

    fn selectors(&mut self, value: &Value, field: &str) -> Vec<Selector> {
        match value {
            Value::Array(items) => {
                if items.is_empty() {
                    self.error(field, "is an empty array; give at least one selector");
                }
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| self.selector(item, &format!("{field}[{i}]")))
                    .collect()
            }
            other => self.selector(other, field).into_iter().collect(),
        }
    }

    fn selector(&mut self, value: &Value, field: &str) -> Option<Selector> {
        match value {
            Value::String(css) => {
                if let Err(reason) = check_css(css) {
                    self.error(field, format!("invalid CSS selector {css:?}: {reason}"));
                    return None;
                }
                Some(Selector::Css(css.clone()))
            }
            Value::Object(range) => {
                let mut start = None;
                let mut end = None;
                let mut ok = true;
                for (key, value) in range {
                    let (slot, side) = match key.as_str() {
                        "startBefore" => (&mut start, Side::Before),
                        "startAfter" => (&mut start, Side::After),
                        "endBefore" => (&mut end, Side::Before),
                        "endAfter" => (&mut end, Side::After),
                        _ => {
                            self.error(&format!("{field}.{key}"), "unknown range property; allowed: startBefore, startAfter, endBefore, endAfter");
                            ok = false;
                            continue;
                        }
                    };
                    let Value::String(css) = value else {
                        self.error(&format!("{field}.{key}"), "must be a CSS selector string");
                        ok = false;
                        continue;
                    };
                    if let Err(reason) = check_css(css) {
                        self.error(
                            &format!("{field}.{key}"),
                            format!("invalid CSS selector {css:?}: {reason}"),
                        );
                        ok = false;
                        continue;
                    }
                    if slot.is_some() {
                        self.error(&format!("{field}.{key}"), "a range has one start (startBefore or startAfter) and one end (endBefore or endAfter)");
                        ok = false;
                    }
                    *slot = Some(RangeEnd {
                        side,
                        css: css.clone(),
                    });
                }
                match (start, end) {
                    (Some(start), Some(end)) if ok => {
                        Some(Selector::Range(RangeSelector { start, end }))
                    }
                    (start, end) => {
                        if ok {
                            let missing = if start.is_none() {
                                "a start (startBefore or startAfter)"
                            } else if end.is_none() {
                                "an end (endBefore or endAfter)"
                            } else {
                                ""
                            };
                            self.error(field, format!("range selector lacks {missing}"));
                        }
                        None
                    }
                }
            }
            _ => {
                self.error(
                    field,
                    "must be a CSS selector string, a range object, or an array of them",
                );
                None
            }
        }
    }

    fn filters(&mut self, value: &Value, field: &str) -> Vec<Filter> {
        let Value::Array(items) = value else {
            self.error(
                field,
                "must be an array of filter names or {name: parameters} objects",
            );
            return Vec::new();
        };
        let mut filters = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let field = format!("{field}[{i}]");
            let (name, params) = match item {
                Value::String(name) if !name.is_empty() => (name.as_str(), None),
                Value::Object(object) if object.len() == 1 => {
                    let (name, params) = object.iter().next().expect("one entry");
                    (name.as_str(), Some(params))
                }
                _ => {
                    self.error(&field, "must be a filter name or an object with exactly one {name: parameters} entry");
                    continue;
                }
            };
            match BuiltinFilter::from_declared(name, params) {
                Ok(Some(builtin)) => filters.push(Filter::Builtin(builtin)),
                Ok(None) if self.script_filters.contains(name) => {
                    self.push(
                        &field,
                        format!("filter {name:?} is a JavaScript function of the service's .filters.js, which policydiff does not run; extraction proceeds without it (built-in filters: {})", filter::BUILTIN_FILTER_NAMES.join(", ")),
                        Severity::Unsupported,
                    );
                    filters.push(Filter::Script(name.to_string()));
                }
                Ok(None) => self.error(
                    &field,
                    format!("filter {name:?} is neither built in ({}) nor defined in the service's .filters.js", filter::BUILTIN_FILTER_NAMES.join(", ")),
                ),
                Err(reason) => self.error(&field, format!("filter {name:?} {reason}")),
            }
        }
        filters
    }
}

struct Rules {
    select: Option<Vec<Selector>>,
    remove: Option<Vec<Selector>>,
    filters: Option<Vec<Filter>>,
    execute_client_scripts: Option<bool>,
    actions: Option<Vec<Action>>,
}
