//! policydiff watches the legal documents of online services, keeps every version
//! in git, and drafts a memo when one changes.
//!
//! The library is the product; the `policydiff` binary is a thin shell over it.
//! Data flows through one module per stage, and a stage never calls a later one:
//!
//! * [`declaration`] reads OTA's JSON declarations: which documents to track, and
//!   the selectors and filters that extract their text.
//! * [`fetch`] gets a document's bytes: plain HTTP with per-host politeness and
//!   retries, or a headless browser for pages that need JavaScript; both under the
//!   same address rules ([`fetch::safety`], and [`fetch::egress`] for the browser).
//! * [`extract`] turns a fetched page (HTML or PDF) and a document's rules into
//!   the version text, Markdown byte-compatible with Open Terms Archive's engine.
//! * [`record`] commits versions and their sources to the versions repository,
//!   under a lock, crash-safe.
//! * [`structure`] reads a version as its reader does: blocks with their sections (marked
//!   headings and the title lines pages show as headings), list items with their lead-in, the
//!   dates it states and the change it announces.
//! * [`analyse`] compares two structures: kinds of change, announcements made or come into
//!   force, topics, significance.
//! * [`facts`] answers policy questions (does it train AI on your data?) from the
//!   recorded versions, each answer with its verbatim evidence and the commit since
//!   which it has held.
//! * [`memo`] drafts the change memo, quoting only the recorded text, and claiming added only
//!   what is new and removed only what is gone.
//!
//! Around them: [`track`] runs one round through every stage, hands each document and then its
//! [`report::RunReport`] to the sinks its caller passes, and returns the report; [`report`] is
//! the round's outcome as data (document statuses, run reports, `runs.jsonl`) and the
//! [`report::Sink`] trait; [`publish`] and [`notify`] are sinks;
//! [`schedule`] and [`daemon`] run rounds on a clock; [`notify`] sends feeds, webhooks and
//! digests; [`review`] is the reviewer's loop over drafted memos (queue, approve with the
//! verbatim check, reject, edit, the local review page); [`status`] reads run reports; [`audit`] queries, verifies, renders and exports
//! any repository in OTA's layout; [`config`] reads config.yaml ([`units`]: durations,
//! sizes and dates as people write them; [`yaml`]: the one YAML reader). Failures are
//! data: every one is an [`Error`] with a [`FailureClass`] that reports show and that
//! decides the command's exit status ([`Error::exit_code`]).
//!
//! # How the modules depend on each other
//!
//! Checked by `tests/architecture.rs`, which reads each module's `use crate::` lines: a stage
//! imports only earlier stages, the modules around the stages import the stages, nothing
//! imports the binary (`src/main.rs` and `src/cli/`, argument parsing and printing), and the
//! drawing below is the imports, module by module (the leaves `error`, `units`, `yaml` and
//! `basics` — atomic writes, the JSON-lines log, escaping, the state folder's file names — left
//! out: every module may use them).
//!
//! ```text
//! declaration → none                       the stages, in the data's order (DocumentId names
//!                                            a document everywhere):
//! fetch       → declaration                  HTTP and the browser (fetch::SourceFetcher)
//! extract     → declaration                  HTML/PDF → Markdown
//! record      → declaration, fetch           the versions repository, its layout and history
//! structure   → none                         a version as its reader reads it: sections,
//!                                            lead-ins, dates, announcements
//! analyse     → structure                    two structures → changes, topics, significance
//! facts       → analyse, declaration, record   policy facts, their evidence and history
//! memo        → analyse, declaration, facts, record, structure   the memo and its store (memo::MemoStore)
//! report      → declaration, facts, memo, record   a round's outcome and the Sink it is handed to
//! publish     → report                       a sink: pushing the versions to a remote
//! notify      → config, declaration, facts, memo, report   a sink: feed, webhooks, e-mail, streaks
//! config      → facts, fetch, memo, publish, schedule   config.yaml → the settings types
//! track       → analyse, config, declaration, extract, facts, fetch, memo, record, report
//! schedule    → none                         cron and time zones
//! daemon      → config, publish, report, schedule, track   rounds on a clock, same sinks
//! review      → analyse, audit, config, declaration, memo, notify, record   the reviewer's loop and page
//! status      → config, daemon, declaration, memo, notify, publish, report, schedule
//! audit       → declaration, memo, record    log, show, diff, render, verify, export
//! demo        → config, record, report, track
//! ```
//!
//! Versions have one vocabulary, [`record::VersionKind`] (first record, new changes,
//! technical upgrade, revert), used by run reports, the audit log and memos alike.
//!
//! ```
//! use policydiff::declaration::parse_declaration;
//! use policydiff::extract::extract;
//!
//! let json = r#"{"name": "Example", "terms": {"Privacy Policy": {
//!     "fetch": "https://example.com/privacy", "select": "article"}}}"#;
//! let (declaration, problems) = parse_declaration("Example", json, "Example.json".as_ref(), &Default::default());
//! assert!(problems.is_empty());
//! let terms = &declaration.unwrap().terms["Privacy Policy"];
//! let page = b"<article><h3>Sharing</h3><p>We share <em>nothing</em>.</p></article>";
//! let text = extract(page, Some("text/html"), &terms.sources[0].fetch, &terms.sources[0]).unwrap();
//! assert_eq!(text.markdown, "### Sharing\n\nWe share _nothing_.");
//! ```

pub mod declaration;
pub mod error;
pub mod extract;
pub mod facts;

pub use error::{Error, FailureClass, Result};
pub mod analyse;
pub mod audit;
pub mod basics;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod fetch;
pub mod memo;
pub mod notify;
pub mod publish;
pub mod record;
pub mod report;
pub mod review;
pub mod schedule;
pub mod status;
pub mod structure;
pub mod track;
pub mod units;
pub mod yaml;
