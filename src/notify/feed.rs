//! The Atom feeds of the memos folder: `feed.xml` (the latest memos whatever their status, and
//! the latest policy-fact changes) and `published.xml` (published memos only), rendered from the
//! template `templates/feed.xml`, which escapes every value.

use askama::Template;
use chrono::Utc;

use super::{MemoNotice, memo_notice, passes_thresholds};
use crate::basics::{escape_html, state_files, write_atomic};
use crate::config::Config;
use crate::facts::FactChange;
use crate::memo::MemoStore;
use crate::{Error, Result};

/// Memos listed in a feed, at most (and as many fact changes).
const FEED_ENTRIES: usize = 50;

/// The scheme of the category that gives a memo's review status in the feeds.
pub const STATUS_SCHEME: &str = "urn:policydiff:status";

/// The scheme of the category that names a changed fact.
const FACT_SCHEME: &str = "urn:policydiff:fact";

#[derive(Template)]
#[template(path = "feed.xml")]
struct Feed<'a> {
    title: &'a str,
    id: String,
    updated: String,
    author: &'a str,
    entries: Vec<Entry>,
}

struct Entry {
    id: String,
    title: String,
    updated: String,
    link: Option<String>,
    categories: Vec<Category>,
    /// HTML, escaped once more by the template (Atom's `type="html"`).
    summary_html: String,
}

struct Category {
    scheme: Option<&'static str>,
    term: String,
}

/// Rewrites the feeds of the memos folder: `feed.xml` with the latest memos whatever their
/// status (each entry says its status as a category), and `published.xml`, the public feed, with
/// the latest published memos only.
pub fn write_feed(config: &Config) -> Result<()> {
    let dir = &config.memos.dir;
    let store = MemoStore::new(dir);
    // Memo files are named by date first: the newest are read, not the whole folder's history.
    let mut every: Vec<MemoNotice> = Vec::new();
    let mut published: Vec<MemoNotice> = Vec::new();
    for path in store.paths_newest_first() {
        if every.len() >= FEED_ENTRIES && published.len() >= FEED_ENTRIES {
            break;
        }
        let Some(memo) = store
            .read(&path)
            .map(|memo| memo_notice(memo.into_summary(), config))
            .filter(|m| passes_thresholds(m, config))
        else {
            continue;
        };
        if memo.status == "published" && published.len() < FEED_ENTRIES {
            published.push(memo.clone());
        }
        if every.len() < FEED_ENTRIES {
            every.push(memo);
        }
    }
    let facts: Vec<FactChange> = crate::facts::FactLog::in_dir(dir)
        .recent(FEED_ENTRIES)?
        .into_iter()
        .rev()
        .collect();
    write_atom(
        config,
        "policydiff: changes to terms and policies (drafts and reviewed memos)",
        "all",
        every,
        &facts,
    )?;
    write_atom(
        config,
        "policydiff: published memos on changes to terms and policies",
        "published",
        published,
        &[],
    )
}

/// Writes one feed (`feed_id` `all`: `feed.xml`; `published`: `published.xml`).
fn write_atom(
    config: &Config,
    title: &str,
    feed_id: &str,
    mut memos: Vec<MemoNotice>,
    facts: &[FactChange],
) -> Result<()> {
    let dir = &config.memos.dir;
    let path = match feed_id {
        "published" => state_files::published_feed(dir),
        _ => state_files::feed(dir),
    };
    memos.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| b.path.cmp(&a.path)));
    let updated = memos
        .first()
        .map(|m| format!("{}T00:00:00Z", m.date))
        .unwrap_or_else(|| Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let mut entries: Vec<Entry> = memos.iter().map(memo_entry).collect();
    entries.extend(facts.iter().map(|change| fact_entry(config, change)));
    let feed = Feed {
        title,
        id: format!("urn:policydiff:feed:{}:{feed_id}", dir.display()),
        updated,
        author: &config.memos.author,
        entries,
    };
    let mut xml = feed
        .render()
        .map_err(|e| Error::internal("rendering the Atom feed", e))?;
    xml.push('\n');
    write_atomic(&path, xml.as_bytes())
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// An Atom feed of policy-fact changes alone, newest first (`policydiff facts --changes
/// --format atom`): one entry per changed answer, as in `feed.xml`.
pub fn fact_changes_feed(
    config: &Config,
    repository: &std::path::Path,
    changes: &[FactChange],
) -> Result<String> {
    let updated = changes
        .iter()
        .map(|change| change.date.as_str())
        .max()
        .map(|date| format!("{date}T00:00:00Z"))
        .unwrap_or_else(|| Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let feed = Feed {
        title: "policydiff: changes of policy facts",
        id: format!("urn:policydiff:facts:{}", repository.display()),
        updated,
        author: &config.memos.author,
        entries: changes
            .iter()
            .map(|change| fact_entry(config, change))
            .collect(),
    };
    let mut xml = feed
        .render()
        .map_err(|e| Error::internal("rendering the Atom feed of fact changes", e))?;
    xml.push('\n');
    Ok(xml)
}

/// A memo's entry: its status and topics as categories.
fn memo_entry(memo: &MemoNotice) -> Entry {
    let mut categories = vec![Category {
        scheme: Some(STATUS_SCHEME),
        term: memo.status.clone(),
    }];
    categories.extend(memo.topics.iter().map(|topic| Category {
        scheme: None,
        term: topic.clone(),
    }));
    Entry {
        id: format!(
            "urn:policydiff:memo:{}:{}:{}",
            memo.commit.as_deref().unwrap_or("none"),
            memo.document.service,
            memo.document.terms_type
        ),
        title: memo.title.clone(),
        updated: format!("{}T00:00:00Z", memo.date),
        link: Some(
            memo.link
                .clone()
                .unwrap_or_else(|| format!("file://{}", memo.path)),
        ),
        categories,
        summary_html: format!(
            "{} (significance {:.2}; topics: {})",
            memo.html_description,
            memo.significance,
            if memo.topics.is_empty() {
                "none".to_string()
            } else {
                memo.topics.join(", ")
            }
        ),
    }
}

/// An entry for a changed answer: `<category term="fact"/>` and the fact's id, the old and new
/// answers, and the evidence.
fn fact_entry(config: &Config, change: &FactChange) -> Entry {
    let mut summary_html = format!(
        "<p>{} {}: {} → {} ({}, {}).</p>",
        escape_html(&change.document.service),
        escape_html(&change.question),
        escape_html(&change.from),
        escape_html(&change.to),
        escape_html(&change.document.terms_type),
        escape_html(&change.date)
    );
    for evidence in &change.evidence {
        summary_html.push_str(&format!(
            "<blockquote>“{}” ({}, {})</blockquote>",
            escape_html(&evidence.quote),
            escape_html(&evidence.terms_type),
            escape_html(&evidence.date)
        ));
    }
    Entry {
        id: format!(
            "urn:policydiff:fact:{}:{}:{}",
            change.document.service, change.id, change.commit
        ),
        title: format!(
            "{}: {} — now {} (was {})",
            change.document.service, change.question, change.to, change.from
        ),
        updated: format!("{}T00:00:00Z", change.date),
        link: config
            .memos
            .commit_url
            .as_ref()
            .map(|template| template.replace("{commit}", &change.commit)),
        categories: vec![
            Category {
                scheme: None,
                term: "fact".into(),
            },
            Category {
                scheme: Some(FACT_SCHEME),
                term: change.id.clone(),
            },
        ],
        summary_html,
    }
}
