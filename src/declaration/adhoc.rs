//! Extraction rules given without a declaration file (`policydiff extract --select …`), and
//! the rules of one declared document at a date, for extracting saved pages by hand.
//!
//! ```
//! use policydiff::declaration::adhoc::source_from_flags;
//!
//! let source = source_from_flags(
//!     "https://example.com/privacy",
//!     &["main".into()],
//!     &[".cookie-banner".into()],
//!     &["removeQueryParams=[\"utm_source\"]".into()],
//! )
//! .unwrap();
//! assert_eq!(source.select.len(), 1);
//! assert!(source_from_flags("https://example.com", &["main >".into()], &[], &[]).is_err());
//! ```

use std::path::Path;

use chrono::{DateTime, Utc};

use super::filter::BUILTIN_FILTER_NAMES;
use super::{BuiltinFilter, Filter, Selector, SourceDocument, check_css, load_service};
use crate::{Error, Result};

/// A filter written as `name` or `name=PARAMETERS` (JSON, or a bare string).
pub fn parse_filter_flag(spec: &str) -> Result<Filter> {
    let (name, params) = match spec.split_once('=') {
        Some((name, raw)) => {
            let value =
                serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(raw.into()));
            (name, Some(value))
        }
        None => (spec, None),
    };
    match BuiltinFilter::from_declared(name, params.as_ref()) {
        Ok(Some(filter)) => Ok(Filter::Builtin(filter)),
        Ok(None) => Err(Error::argument(format!(
            "--filter {name:?} is not a built-in filter ({})",
            BUILTIN_FILTER_NAMES.join(", ")
        ))),
        Err(reason) => Err(Error::argument(format!("--filter {name:?} {reason}"))),
    }
}

/// A source document from selectors and filters given as flags; `location` is the page's
/// address (links are made absolute from it).
pub fn source_from_flags(
    location: &str,
    select: &[String],
    remove: &[String],
    filters: &[String],
) -> Result<SourceDocument> {
    for css in select.iter().chain(remove) {
        check_css(css).map_err(|reason| Error::InvalidSelector {
            selector: css.clone(),
            reason,
        })?;
    }
    Ok(SourceDocument {
        fetch: location.to_string(),
        select: select.iter().cloned().map(Selector::Css).collect(),
        remove: remove.iter().cloned().map(Selector::Css).collect(),
        filters: filters
            .iter()
            .map(|spec| parse_filter_flag(spec))
            .collect::<Result<_>>()?,
        execute_client_scripts: None,
        actions: vec![],
    })
}

/// The source documents of `terms_type` as declared in the file at `path`, in force at `at`
/// (default: the current declaration).
pub fn declared_sources(
    path: &Path,
    terms_type: &str,
    at: Option<DateTime<Utc>>,
) -> Result<Vec<SourceDocument>> {
    let loaded = load_service(path);
    let problems = |terms_type: Option<&str>| -> Vec<String> {
        match terms_type {
            Some(terms_type) => loaded.problems_for(terms_type),
            None => loaded.problems.iter().collect(),
        }
        .iter()
        .map(ToString::to_string)
        .collect()
    };
    let Some(declaration) = loaded.declaration.as_ref() else {
        return Err(Error::InvalidDeclaration {
            problems: problems(None),
        });
    };
    let terms = match at {
        Some(date) => declaration.terms_at(terms_type, date),
        None => declaration.terms.get(terms_type),
    };
    let Some(terms) = terms else {
        let problems = problems(Some(terms_type));
        if !problems.is_empty() {
            return Err(Error::InvalidDeclaration { problems });
        }
        let known: Vec<&str> = declaration.terms.keys().map(String::as_str).collect();
        return Err(Error::argument(format!(
            "{} declares no terms {terms_type:?} (it declares: {})",
            path.display(),
            known.join(", ")
        )));
    };
    Ok(terms.sources.clone())
}
