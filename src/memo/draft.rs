//! Drafting a memo from an analysis: the title, the opening with the link on the action verb,
//! the paragraphs of substance by topic, the stated dates and announcements, the closing
//! lines, and the front matter.

use super::write::{Writer, truncate_chars};
use super::{FrontMatter, MAX_TITLE_CHARS, Memo, MemoConfig, MemoInput, Side};
use crate::analyse::{Analysis, Change, ChangeKind, Taxonomy, plain_text};

pub(super) fn join_labels(labels: &[String]) -> String {
    match labels {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Drafts the memo of a change.
pub fn draft(
    input: &MemoInput<'_>,
    analysis: &Analysis,
    config: &MemoConfig,
    taxonomy: &Taxonomy,
) -> Memo {
    let mut writer = Writer {
        quotes: Vec::new(),
        taxonomy,
        before_plain: input.before.map(plain_text).unwrap_or_default(),
        after_plain: plain_text(input.after),
    };
    let (topics, labels) = topics_and_labels(analysis, input.terms_type, taxonomy);
    let title = writer.title(analysis, input.service, input.terms_type, &labels);
    let mut paragraphs = vec![opening(input, analysis, config)];
    // The lead says what changed: the substance first, then the dates the text states.
    let mut remaining = 0;
    if analysis.change_kind == ChangeKind::Substantive {
        remaining = writer.substance(analysis, &labels, &mut paragraphs);
    }
    let substance = paragraphs.len() > 1;
    writer.dates_and_announcement(input, analysis, &mut paragraphs);
    closing(analysis, remaining, &mut paragraphs);
    let body = paragraphs.join("\n\n");
    // The description is the lead: the most significant change when there is one.
    let description_source = if substance {
        &paragraphs[1]
    } else {
        paragraphs.get(1).unwrap_or(&paragraphs[0])
    };
    let front_matter = FrontMatter {
        title: title.clone(),
        html_description: format!(
            "<p>{}</p>",
            crate::basics::escape_html(&strip_markdown_links(description_source))
        ),
        service: input.service.to_string(),
        terms_types: vec![input.terms_type.to_string()],
        dates: vec![input.date.to_string()],
        author: config.author.clone(),
        related_collections: config.related_collections.clone(),
        commit: input.commit.map(str::to_string),
        previous_commit: input.previous_commit.map(str::to_string),
        change_kind: analysis.change_kind,
        reverts_to: analysis.reverts_to.clone(),
        significance: analysis.significance,
        topics,
        status: "draft".into(),
    };
    Memo {
        title,
        front_matter,
        body,
        quotes: writer.quotes,
        analysis: analysis.clone(),
    }
}

/// The change's topics, and their labels as a memo names them. A change with substance is
/// about something: when its words and headings name no topic, the document's terms type does.
pub(super) fn topics_and_labels(
    analysis: &Analysis,
    terms_type: &str,
    taxonomy: &Taxonomy,
) -> (Vec<String>, Vec<String>) {
    let mut topics = analysis.topics.clone();
    if topics.is_empty()
        && analysis.change_kind == ChangeKind::Substantive
        && let Some(topic) = taxonomy.of_terms_type(terms_type)
    {
        topics.push(topic.name.clone());
    }
    let labels: Vec<String> = topics
        .iter()
        .map(|t| {
            taxonomy
                .get(t)
                .map_or_else(|| t.replace('_', " "), |topic| topic.label.clone())
        })
        .collect();
    (topics, labels)
}

/// The opening sentence: who did what to which document, when; the link (or the commit id)
/// on the action verb, the rest of the phrase after it.
pub(super) fn opening(input: &MemoInput<'_>, analysis: &Analysis, config: &MemoConfig) -> String {
    let (service, terms) = (input.service, input.terms_type);
    let (verb, rest) = match analysis.change_kind {
        ChangeKind::Substantive => ("updated", " its"),
        ChangeKind::Cosmetic => ("made cosmetic changes", " to its"),
        ChangeKind::Revert => ("restored", " an earlier version of its"),
        ChangeKind::Technical => ("re-recorded", ""),
    };
    let linked_verb = match (input.commit, &config.commit_url) {
        (Some(commit), Some(template)) => {
            format!("[{verb}]({}){rest}", template.replace("{commit}", commit))
        }
        (Some(commit), None) => format!("{verb} (commit `{commit:.12}`){rest}"),
        (None, _) => format!("{verb}{rest}"),
    };
    match analysis.change_kind {
        ChangeKind::Technical => format!(
            "The {terms} of {service} was {linked_verb} on {}: the declaration or the extraction changed, not the document.",
            input.date
        ),
        ChangeKind::Revert => format!(
            "{service} {linked_verb} {terms} on {}: the text is again identical to the version recorded in commit `{:.12}`.",
            input.date,
            analysis.reverts_to.as_deref().unwrap_or("")
        ),
        _ => format!("{service} {linked_verb} {terms} on {}.", input.date),
    }
}

/// The closing lines: how many substantive changes the memo leaves out, and the cosmetic ones.
pub(super) fn closing(analysis: &Analysis, remaining: usize, paragraphs: &mut Vec<String>) {
    if remaining > 0 {
        paragraphs.push(format!(
            "{remaining} other substantive change{} {} not described here.",
            plural(remaining),
            if remaining == 1 { "is" } else { "are" }
        ));
    }
    let cosmetic = analysis.changes.iter().filter(|c| c.cosmetic).count();
    if cosmetic > 0 && analysis.change_kind != ChangeKind::Revert {
        let also = if analysis.change_kind == ChangeKind::Substantive {
            " also"
        } else {
            ""
        };
        paragraphs.push(format!(
            "{cosmetic} cosmetic change{} (formatting, punctuation, links or order) {}{also} recorded.",
            plural(cosmetic),
            if cosmetic == 1 { "was" } else { "were" }
        ));
    }
}

impl Writer<'_> {
    /// The title: the news when a headline says it, else what the change is about.
    pub(super) fn title(
        &mut self,
        analysis: &Analysis,
        service: &str,
        terms: &str,
        labels: &[String],
    ) -> String {
        let quoted = self.quotes.len();
        let headline = match analysis.change_kind {
            ChangeKind::Substantive => self.headline(analysis, service, terms),
            _ => None,
        };
        // A headline that would not fit is not cut (its quotation would be): the template serves.
        let headline = headline.filter(|h| h.chars().count() <= MAX_TITLE_CHARS);
        if headline.is_none() {
            self.quotes.truncate(quoted);
        }
        let mut title = match analysis.change_kind {
            ChangeKind::Substantive if headline.is_some() => headline.unwrap_or_default(),
            ChangeKind::Substantive if !labels.is_empty() => {
                let mut shown = labels.len().min(3);
                loop {
                    let title = format!(
                        "{service} changes its {terms} on {}",
                        join_labels(&labels[..shown])
                    );
                    if title.chars().count() <= MAX_TITLE_CHARS || shown == 1 {
                        break title;
                    }
                    shown -= 1;
                }
            }
            ChangeKind::Substantive => format!("{service} changes its {terms}"),
            ChangeKind::Cosmetic => format!("{service} makes cosmetic changes to its {terms}"),
            ChangeKind::Revert => format!("{service} restores an earlier version of its {terms}"),
            ChangeKind::Technical => {
                format!("{service} {terms} is re-recorded after a technical upgrade")
            }
        };
        if title.chars().count() > MAX_TITLE_CHARS {
            title = truncate_chars(&title, MAX_TITLE_CHARS).to_string();
        }
        title
            .trim_end_matches(['.', '!', '?', ':', ';', ','])
            .to_string()
    }

    /// The paragraphs of substance: one per topic (most significant first, three clauses at
    /// most), then the changes of no topic, eight clauses in all; returns how many substantive
    /// changes were left out.
    pub(super) fn substance(
        &mut self,
        analysis: &Analysis,
        labels: &[String],
        paragraphs: &mut Vec<String>,
    ) -> usize {
        let substantive: Vec<&Change> = analysis.changes.iter().filter(|c| !c.cosmetic).collect();
        let mut described = vec![false; substantive.len()];
        let mut clauses_written = 0;
        for (topic, label) in analysis.topics.iter().zip(labels) {
            let mut clauses = Vec::new();
            for (index, change) in substantive.iter().enumerate() {
                if described[index]
                    || !change.topics.contains(topic)
                    || clauses.len() >= 3
                    || clauses_written >= 8
                {
                    continue;
                }
                described[index] = true;
                let quoted = self.quotes.len();
                let clause = self.clause(change, Some(topic));
                if clauses.contains(&clause) {
                    self.quotes.truncate(quoted);
                } else {
                    clauses.push(clause);
                    clauses_written += 1;
                }
            }
            if !clauses.is_empty() {
                paragraphs.push(format!("On {label}, it {}.", clauses.join("; it also ")));
            }
        }
        let mut others = Vec::new();
        for (index, change) in substantive.iter().enumerate() {
            if !described[index] && others.len() < 3 && clauses_written < 8 {
                described[index] = true;
                let quoted = self.quotes.len();
                let clause = self.clause(change, None);
                if others.contains(&clause) {
                    self.quotes.truncate(quoted);
                } else {
                    others.push(clause);
                    clauses_written += 1;
                }
            }
        }
        if !others.is_empty() {
            let lead = if paragraphs.len() > 1 {
                "It also"
            } else {
                "It"
            };
            paragraphs.push(format!("{lead} {}.", others.join("; it also ")));
        }
        described.iter().filter(|d| !**d).count()
    }

    /// The dates the versions state, and the change the text announces.
    pub(super) fn dates_and_announcement(
        &mut self,
        input: &MemoInput<'_>,
        analysis: &Analysis,
        paragraphs: &mut Vec<String>,
    ) {
        match (&analysis.effective_date, &analysis.previous_effective_date) {
            (Some(new), Some(old)) if new != old => paragraphs.push(format!(
                "The new version is dated {new}; the previous one was dated {old}."
            )),
            (Some(new), None) => paragraphs.push(format!("The new version is dated {new}.")),
            _ => {}
        }
        if let Some(announcement) = &analysis.announced_change {
            let side = if input.after.contains(&announcement.text) {
                Side::After
            } else {
                Side::Before
            };
            let quote = self.quote(&announcement.text, side);
            let which = if side == Side::After {
                "new"
            } else {
                "previous"
            };
            paragraphs.push(format!(
                "The {which} version announces a change taking effect on {}: {quote}.",
                announcement.date
            ));
        }
    }
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub(super) fn strip_markdown_links(text: &str) -> String {
    use std::sync::OnceLock;
    static LINK: OnceLock<regex::Regex> = OnceLock::new();
    LINK.get_or_init(|| regex::Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("valid regex"))
        .replace_all(text, "$1")
        .into_owned()
}
