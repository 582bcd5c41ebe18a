//! Drafting a memo from an analysis: the title, the opening with the link on the action verb,
//! the paragraphs of substance by topic, the stated dates and announcements, the closing
//! lines, and the front matter.

use super::statement::{self, Statement};
use super::write::{Wording, Writer, truncate_chars};
use super::{FrontMatter, MAX_TITLE_CHARS, Memo, MemoConfig, MemoInput, Side};
use crate::analyse::{Analysis, AnnouncementEvent, Change, ChangeKind, Taxonomy, plain_text};

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
    let before_plain = input.before.map(plain_text).unwrap_or_default();
    let after_plain = plain_text(input.after);
    let mut writer = Writer {
        quotes: Vec::new(),
        taxonomy,
        before_wording: Wording::default(),
        after_wording: Wording::default(),
        before_plain,
        after_plain,
        reorganised: 0,
    };
    let (topics, labels) = topics_and_labels(analysis, input.terms_type, taxonomy);
    let title = writer.title(analysis, input.service, input.terms_type, &labels);
    let mut paragraphs = vec![opening(input, analysis, config)];
    // The lead says what changed: an announced change made or come into force, the substance,
    // then the dates the text states.
    let mut remaining = 0;
    if analysis.change_kind == ChangeKind::Substantive {
        writer.announcement_lead(input.service, analysis, &mut paragraphs);
        remaining = writer.substance(analysis, &labels, &mut paragraphs);
    }
    let substance = paragraphs.len() > 1;
    writer.dates_and_announcement(input, analysis, &mut paragraphs);
    closing(analysis, remaining, writer.reorganised, &mut paragraphs);
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
pub(super) fn closing(
    analysis: &Analysis,
    remaining: usize,
    reorganised: usize,
    paragraphs: &mut Vec<String>,
) {
    if reorganised > 0 {
        paragraphs.push(format!(
            "{reorganised} other passage{} {} moved or set out otherwise, {} words standing in both versions.",
            plural(reorganised),
            if reorganised == 1 { "was" } else { "were" },
            if reorganised == 1 { "its" } else { "their" }
        ));
    }
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
            ChangeKind::Substantive => announcement_headline(analysis, service, terms)
                .or_else(|| self.headline(analysis, service, terms)),
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
        // The same edit in several places is told once, first: a policy that adds the same
        // words under many headings says what it is about.
        let mut repeated_told = 0;
        for group in repeated_edits(&substantive) {
            if repeated_told == MAX_REPEATED_EDITS {
                break;
            }
            let quoted = self.quotes.len();
            let Some(clause) = self.clause(substantive[group[0]], None) else {
                continue;
            };
            let mut sections = group_sections(&substantive, &group);
            // New headings first: a new section holding the edit is news of its own.
            sections.sort_by_key(|heading| self.before_plain.contains(heading.as_str()));
            // Headings are quoted from the version the edit is in, as every quotation is.
            let side = if substantive[group[0]].kind == crate::analyse::BlockChange::Removed {
                Side::Before
            } else {
                Side::After
            };
            let places = match sections.as_slice() {
                [] => format!("in {} places", group.len()),
                [one] => format!("in {} places under {}", group.len(), self.quote(one, side)),
                [first, second] => format!(
                    "in {} places, under {} and {}",
                    group.len(),
                    self.quote(first, side),
                    self.quote(second, side)
                ),
                [first, second, rest @ ..] => format!(
                    "in {} places, under {}, {} and {} other heading{}",
                    group.len(),
                    self.quote(first, side),
                    self.quote(second, side),
                    rest.len(),
                    plural(rest.len())
                ),
            };
            if self.quotes.len() == quoted {
                continue;
            }
            for &index in &group {
                described[index] = true;
            }
            clauses_written += 1;
            repeated_told += 1;
            paragraphs.push(full_stop(format!("It {clause} {places}")));
        }
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
                let Some(clause) = self.clause(change, Some(topic)) else {
                    self.reorganised += 1;
                    continue;
                };
                if clauses.contains(&clause) {
                    self.quotes.truncate(quoted);
                } else {
                    clauses.push(clause);
                    clauses_written += 1;
                }
            }
            if !clauses.is_empty() {
                paragraphs.push(full_stop(format!(
                    "On {label}, it {}",
                    clauses.join("; it also ")
                )));
            }
        }
        let mut others = Vec::new();
        for (index, change) in substantive.iter().enumerate() {
            if !described[index] && others.len() < 3 && clauses_written < 8 {
                described[index] = true;
                let quoted = self.quotes.len();
                let Some(clause) = self.clause(change, None) else {
                    self.reorganised += 1;
                    continue;
                };
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
            paragraphs.push(full_stop(format!("{lead} {}", others.join("; it also "))));
        }
        described.iter().filter(|d| !**d).count()
    }

    /// The lead when the change makes an announcement saying what will change, or brings one
    /// into force: the announcement's own words, quoted from the version that carries them.
    pub(super) fn announcement_lead(
        &mut self,
        service: &str,
        analysis: &Analysis,
        paragraphs: &mut Vec<String>,
    ) {
        let Some(announcement) = &analysis.announced_change else {
            return;
        };
        let Some(news) = &announcement.news else {
            return;
        };
        let day = spoken_day(&announcement.date);
        match analysis.announcement_event {
            Some(AnnouncementEvent::Fulfilled) => {
                let quote = self.quote(news, Side::Before);
                let in_force = analysis
                    .effective_date
                    .as_deref()
                    .map(spoken_day)
                    .unwrap_or_else(|| day.clone());
                paragraphs.push(format!(
                    "{} The announcement is gone from the new version, which is in force from {in_force}.",
                    full_stop(format!(
                        "The change {service} announced for {day} has taken effect: {quote}"
                    ))
                ));
            }
            Some(AnnouncementEvent::Made) => {
                let quote = self.quote(news, Side::After);
                paragraphs.push(full_stop(format!(
                    "{service} announces a change taking effect on {day}: {quote}"
                )));
            }
            _ => {}
        }
    }

    /// The dates the versions state, and the change the text announces.
    pub(super) fn dates_and_announcement(
        &mut self,
        input: &MemoInput<'_>,
        analysis: &Analysis,
        paragraphs: &mut Vec<String>,
    ) {
        let substantive = analysis.change_kind == ChangeKind::Substantive;
        match (&analysis.effective_date, &analysis.previous_effective_date) {
            (Some(new), Some(old)) if new < old => paragraphs.push(format!(
                "The new version states an earlier date, {new}, than the previous one, {old}."
            )),
            (Some(new), Some(old)) if new != old => paragraphs.push(format!(
                "The new version is dated {new}; the previous one was dated {old}."
            )),
            (Some(new), Some(_)) if substantive => paragraphs.push(format!(
                "The new version still states the date {new}, although its text changed."
            )),
            (Some(new), None) => paragraphs.push(format!("The new version is dated {new}.")),
            _ => {}
        }
        let told_in_lead = analysis.change_kind == ChangeKind::Substantive
            && analysis
                .announced_change
                .as_ref()
                .is_some_and(|a| a.news.is_some())
            && matches!(
                analysis.announcement_event,
                Some(AnnouncementEvent::Fulfilled | AnnouncementEvent::Made)
            );
        if let Some(announcement) = &analysis.announced_change
            && !told_in_lead
        {
            if analysis.announcement_event == Some(AnnouncementEvent::Standing) {
                // In both versions: not news.
                return;
            }
            if analysis.announcement_event == Some(AnnouncementEvent::Withdrawn) {
                let quote = self.quote(&announcement.text, Side::Before);
                paragraphs.push(format!(
                    "The previous version's announcement of a change for {} ({quote}) is gone, and the new version does not say it is in force from that day.",
                    announcement.date
                ));
                return;
            }
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

/// The headline of a change that makes an announcement saying what will change ("Instagram
/// announces it will start using …"), or brings one into force ("Instagram starts using …"),
/// in the announcement's words with the service as subject.
fn announcement_headline(analysis: &Analysis, service: &str, terms: &str) -> Option<String> {
    let announcement = analysis.announced_change.as_ref()?;
    let news = plain_text(announcement.news.as_deref()?);
    let day = spoken_day(&announcement.date);
    let clause = match statement::retell(&news, service) {
        Some(Statement::Service(clause)) => Some(clause),
        _ => None,
    };
    // The announcement's own words when they can be retold with the service as subject; else
    // what it is, the lead quoting it.
    match (analysis.announcement_event?, clause) {
        (AnnouncementEvent::Fulfilled, Some(clause)) => statement::as_begun(&clause)
            .map(|begun| format!("{service} {begun}"))
            .or_else(|| {
                Some(format!(
                    "{service} puts in force the change to its {terms} it announced for {day}"
                ))
            }),
        (AnnouncementEvent::Fulfilled, None) => Some(format!(
            "{service} puts in force the change to its {terms} it announced for {day}"
        )),
        (AnnouncementEvent::Made, Some(clause)) => {
            Some(format!("{service} announces it {clause} from {day}"))
        }
        (AnnouncementEvent::Made, None) => Some(format!(
            "{service} announces a change to its {terms} from {day}"
        )),
        (AnnouncementEvent::Standing | AnnouncementEvent::Withdrawn, _) => None,
    }
}

/// The most repeated edits a memo tells first.
const MAX_REPEATED_EDITS: usize = 2;

/// The edits made alike in several places (the same block added, or the same block removed),
/// most repeated first: each a list of indexes into `changes`.
fn repeated_edits(changes: &[&Change]) -> Vec<Vec<usize>> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (index, change) in changes.iter().enumerate() {
        let text = match change.kind {
            crate::analyse::BlockChange::Added => change.after.as_deref(),
            crate::analyse::BlockChange::Removed => change.before.as_deref(),
            _ => None,
        };
        let Some(text) = text else {
            continue;
        };
        let key = format!("{:?} {}", change.kind, crate::analyse::normalise(text));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(index),
            None => groups.push((key, vec![index])),
        }
    }
    let mut repeated: Vec<Vec<usize>> = groups
        .into_iter()
        .map(|(_, members)| members)
        .filter(|members| members.len() >= 2)
        .collect();
    repeated.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    repeated
}

/// The innermost headings of a group's edits, each once, in order.
fn group_sections(changes: &[&Change], group: &[usize]) -> Vec<String> {
    let mut sections: Vec<String> = Vec::new();
    for &index in group {
        if let Some(heading) = changes[index].section.last() {
            let heading = plain_text(heading).trim().to_string();
            if !heading.is_empty() && !sections.contains(&heading) {
                sections.push(heading);
            }
        }
    }
    sections
}

/// A sentence ended with a full stop, unless the quotation it ends with closes one already.
fn full_stop(sentence: String) -> String {
    if [".”", "!”", "?”"].iter().any(|end| sentence.ends_with(end)) {
        sentence
    } else {
        sentence + "."
    }
}

/// A date as a reader says it: `2025-12-16` → `16 December 2025`.
pub(super) fn spoken_day(date: &str) -> String {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|day| day.format("%-d %B %Y").to_string())
        .unwrap_or_else(|_| date.to_string())
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
