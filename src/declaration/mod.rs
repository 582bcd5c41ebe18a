//! Declarations: which documents to track and how to extract them, in OTA's JSON format.
//!
//! A service is declared by `declarations/<Service id>.json`:
//! `{"name": …, "terms": {"<Terms type>": {fetch, select, remove, filter, executeClientScripts} | {combine: […]}}}`,
//! optionally with `<Service id>.history.json` (earlier declarations, each with a
//! `validUntil` date) and `<Service id>.filters.js` (JavaScript filters, which
//! policydiff does not run but knows the names of).
//!
//! [`load_service`] reads those files into a [`Declaration`] and a list of
//! [`Problem`]s. A problem in one terms entry leaves the other entries usable: a
//! bad document never stops the others. Each [`Terms`] holds one or more
//! [`SourceDocument`]s (more than one for `combine`), whose [`Selector`]s and
//! [`Filter`]s the `extract` stage applies. [`Declaration::terms_at`] answers
//! which declaration was in force at a date.
//!
//! The modules: `model` (the types), `load` (files on disk), `checker` (the JSON format and its
//! problems), `css` (selector checks and limits), [`adhoc`] (rules given on the command line).
//!
//! ```
//! use policydiff::declaration::{parse_declaration, Selector};
//!
//! let json = r##"{"name": "Example", "terms": {"Privacy Policy": {
//!     "fetch": "https://example.com/privacy", "select": ["main", {"startAfter": "h1", "endBefore": "footer"}]
//! }}}"##;
//! let (declaration, problems) = parse_declaration("Example", json, "Example.json".as_ref(), &Default::default());
//! assert!(problems.is_empty());
//! let terms = &declaration.unwrap().terms["Privacy Policy"];
//! assert!(matches!(terms.sources[0].select[1], Selector::Range(_)));
//! ```

pub mod adhoc;
pub mod filter;
pub mod terms_types;

mod checker;
mod css;
mod load;
mod model;

pub use checker::{parse_declaration, parse_history};
pub use css::{MAX_SELECTOR_BYTES, MAX_SELECTOR_COMBINATORS, MAX_SELECTOR_NESTING, check_css};
pub use filter::{BuiltinFilter, Filter};
pub use load::{
    Loaded, MAX_DECLARATION_BYTES, check_service_id, exported_function_names, load_directory,
    load_service,
};
pub use model::*;

pub use crate::units::parse_date;
