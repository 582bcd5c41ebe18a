//! A version's Markdown as blocks: headings, paragraphs, list items, table rows.
//!
//! Blocks are what a reader sees as one unit; diffs compare them. Each carries the path of
//! headings of the section it sits in — Markdown headings, and the title lines pages show as
//! headings without marking them: a short line without closing punctuation set above a rule
//! (`* * *`), or a short question opening a section ("What information do we collect?") — and
//! a list item carries its lead-in, the paragraph ending with a colon that introduces its list.

/// What a block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    /// A heading of this level (1–6).
    Heading(u8),
    /// A paragraph (or a code block, a quote).
    Paragraph,
    /// A list item (its continuation lines included).
    ListItem,
    /// A table row.
    TableRow,
    /// A thematic break, or a separator between combined documents.
    Rule,
}

/// One block of a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// What it is.
    pub kind: BlockKind,
    /// Its Markdown, as it stands in the version (setext underlines left out).
    pub text: String,
    /// The headings above it, outermost first.
    pub section: Vec<String>,
    /// For a list item: the plain words of the line that introduces its list ("We don't
    /// allow:"), when one does.
    pub lead_in: Option<String>,
}

impl Block {
    /// The block's text without its Markdown prefix (`*   `, `1.  `, `### `).
    pub fn content(&self) -> &str {
        match self.kind {
            BlockKind::Heading(_) => self.text.trim_start_matches('#').trim_start(),
            BlockKind::ListItem => strip_list_marker(&self.text),
            _ => &self.text,
        }
    }
}

fn list_marker_len(line: &str) -> Option<usize> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[indent..];
    let marker = if rest.starts_with("* ") || rest.starts_with("- ") || rest.starts_with("+ ") {
        1
    } else {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || !rest[digits..].starts_with(". ") {
            return None;
        }
        digits + 1
    };
    let spaces = rest[marker..].bytes().take_while(|&b| b == b' ').count();
    (spaces >= 1 && rest.len() > marker + spaces).then_some(indent + marker + spaces)
}

fn strip_list_marker(text: &str) -> &str {
    match list_marker_len(text) {
        Some(len) => &text[len..],
        None => text,
    }
}

fn is_underline(line: &str, c: char) -> bool {
    !line.is_empty() && line.chars().all(|x| x == c)
}

fn is_table_separator(line: &str) -> bool {
    line.starts_with('|') && line.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// Splits a version into blocks.
pub fn parse(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut blocks: Vec<Block> = Vec::new();
    let mut section: Vec<(u8, String)> = Vec::new();
    let mut current: Option<(BlockKind, Vec<&str>)> = None;
    let heads =
        |section: &Vec<(u8, String)>| section.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>();
    let flush = |current: &mut Option<(BlockKind, Vec<&str>)>,
                 blocks: &mut Vec<Block>,
                 section: &Vec<(u8, String)>| {
        if let Some((kind, lines)) = current.take() {
            let text = lines.join("\n");
            if !text.trim().is_empty() {
                blocks.push(Block {
                    kind,
                    text,
                    section: heads(section),
                    lead_in: None,
                });
            }
        }
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let next = lines.get(i + 1).copied().unwrap_or("");
        if line.trim().is_empty() {
            flush(&mut current, &mut blocks, &section);
            i += 1;
            continue;
        }
        let setext = if current.is_none() && is_underline(next, '=') {
            Some(1)
        } else if current.is_none() && is_underline(next, '-') && !line.starts_with('|') {
            Some(2)
        } else {
            None
        };
        let atx = {
            let hashes = line.bytes().take_while(|&b| b == b'#').count();
            ((1..=6).contains(&hashes) && line[hashes..].starts_with(' ')).then_some(hashes as u8)
        };
        if let Some(level) = setext.or(atx) {
            flush(&mut current, &mut blocks, &section);
            let title = if setext.is_some() {
                line.trim().to_string()
            } else {
                line[level as usize..].trim().to_string()
            };
            section.retain(|(l, _)| *l < level);
            blocks.push(Block {
                kind: BlockKind::Heading(level),
                text: line.to_string(),
                section: heads(&section),
                lead_in: None,
            });
            section.push((level, title));
            i += if setext.is_some() { 2 } else { 1 };
            continue;
        }
        if line.trim() == "* * *" || line.trim() == "- - -" {
            flush(&mut current, &mut blocks, &section);
            blocks.push(Block {
                kind: BlockKind::Rule,
                text: line.to_string(),
                section: heads(&section),
                lead_in: None,
            });
            i += 1;
            continue;
        }
        if line.starts_with('|') {
            flush(&mut current, &mut blocks, &section);
            let empty_header = line.chars().all(|c| c == '|' || c == ' ');
            if !is_table_separator(line) && !empty_header {
                blocks.push(Block {
                    kind: BlockKind::TableRow,
                    text: line.to_string(),
                    section: heads(&section),
                    lead_in: None,
                });
            }
            i += 1;
            continue;
        }
        if list_marker_len(line).is_some() {
            flush(&mut current, &mut blocks, &section);
            current = Some((BlockKind::ListItem, vec![line]));
            i += 1;
            continue;
        }
        match &mut current {
            Some((_, lines)) => lines.push(line),
            None => current = Some((BlockKind::Paragraph, vec![line])),
        }
        i += 1;
    }
    flush(&mut current, &mut blocks, &section);
    let unmarked_headings = read_unmarked_headings(&mut blocks);
    read_lead_ins(&mut blocks, &unmarked_headings);
    blocks
}

/// The most words of a title line a page shows as a heading without marking it.
const UNMARKED_HEADING_WORDS: usize = 10;
/// The most words of a title line set directly above a list ("Voter suppression").
const LIST_TITLE_WORDS: usize = 6;

/// Whether a paragraph is a title line shown as a heading: one short line, no closing
/// punctuation (a question mark aside), not a link alone, and set above a rule — or a
/// question opening what follows.
fn is_unmarked_heading(block: &Block, next: Option<&Block>) -> bool {
    if block.kind != BlockKind::Paragraph || block.text.contains('\n') {
        return false;
    }
    let text = block.text.trim();
    if text.starts_with(['[', '!', '*', '_', '|', '<']) {
        return false;
    }
    let plain = super::plain_text(text);
    let words = plain.split_whitespace().count();
    let opens_with_capital = plain.chars().next().is_some_and(char::is_uppercase);
    if !opens_with_capital || words == 0 || words > UNMARKED_HEADING_WORDS {
        return false;
    }
    let question = plain.ends_with('?');
    if plain.ends_with(['.', ',', ';', ':', '!']) || plain.contains(". ") {
        return false;
    }
    match next.map(|b| b.kind) {
        Some(BlockKind::Rule) => true,
        Some(BlockKind::ListItem) => question || words <= LIST_TITLE_WORDS,
        Some(BlockKind::Paragraph) => question,
        _ => false,
    }
}

/// Adds unmarked headings to the sections of the blocks that follow them, until the next
/// heading of either kind; says which blocks are unmarked headings.
fn read_unmarked_headings(blocks: &mut [Block]) -> Vec<bool> {
    let unmarked: Vec<bool> = (0..blocks.len())
        .map(|i| is_unmarked_heading(&blocks[i], blocks.get(i + 1)))
        .collect();
    if !unmarked.contains(&true) {
        return unmarked;
    }
    let mut open: Option<String> = None;
    for (block, &is_heading) in blocks.iter_mut().zip(&unmarked) {
        if matches!(block.kind, BlockKind::Heading(_)) {
            open = None;
            continue;
        }
        if is_heading {
            open = Some(super::plain_text(block.text.trim()));
            continue;
        }
        if let Some(title) = &open {
            block.section.push(title.clone());
        }
    }
    unmarked
}

/// Gives each list item the paragraph that introduces its list: the last paragraph before the
/// run of items (title lines of the lists it introduces aside), when it ends with a colon or
/// points at what follows ("…not allowed on YouTube. This isn't a complete list.", "Don't post
/// content if it fits any of the descriptions noted below.").
fn read_lead_ins(blocks: &mut [Block], unmarked_headings: &[bool]) {
    let mut lead_in: Option<String> = None;
    for (block, &is_title) in blocks.iter_mut().zip(unmarked_headings) {
        match block.kind {
            BlockKind::ListItem => block.lead_in = lead_in.clone(),
            BlockKind::Paragraph if is_title => {}
            BlockKind::Paragraph => {
                let plain = super::plain_text(block.text.trim());
                lead_in = introduces_a_list(&plain).then_some(plain);
            }
            _ => lead_in = None,
        }
    }
}

/// Whether a paragraph reads as the lead-in of what follows it.
fn introduces_a_list(plain: &str) -> bool {
    let plain = plain.trim_end();
    if plain.ends_with(':') {
        return true;
    }
    let lower = plain.to_lowercase();
    [
        "following",
        "below",
        "not allowed",
        "isn't a complete list",
        "include:",
    ]
    .iter()
    .any(|cue| lower.contains(cue))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_lists_tables_and_sections() {
        let text = "Privacy Policy\n==============\n\nIntro.\n\nWhat we collect\n---------------\n\n*   Email\n*   Device data\n    more\n\n### Retention\n\n| A | B |\n| --- | --- |\n| 1 | 2 |\n\nLast.";
        let blocks = parse(text);
        let kinds: Vec<BlockKind> = blocks.iter().map(|b| b.kind).collect();
        assert_eq!(
            kinds,
            [
                BlockKind::Heading(1),
                BlockKind::Paragraph,
                BlockKind::Heading(2),
                BlockKind::ListItem,
                BlockKind::ListItem,
                BlockKind::Heading(3),
                BlockKind::TableRow,
                BlockKind::TableRow,
                BlockKind::Paragraph
            ]
        );
        assert_eq!(blocks[4].text, "*   Device data\n    more");
        assert_eq!(blocks[4].content(), "Device data\n    more");
        assert_eq!(blocks[4].section, ["Privacy Policy", "What we collect"]);
        assert_eq!(
            blocks[8].section,
            ["Privacy Policy", "What we collect", "Retention"]
        );
    }

    #[test]
    fn unmarked_titles_open_sections_and_lists_keep_their_lead_in() {
        let text = "Privacy Policy\n--------------\n\nWhat information do we collect?\n\nWe collect what you give us.\n\nDeveloping and improving AI at Meta\n\n* * *\n\nInformation categories we use (see [above](https://example.com)), any of the following:\n\n[Your activity](https://example.com/a):\n\n*   Content you create\n*   Interactions with AI at Meta\n\nDisclaimer\n\nWe may change this.\n\n### Contact\n\nWrite to us.";
        let blocks = parse(text);
        let find = |start: &str| blocks.iter().find(|b| b.text.starts_with(start)).unwrap();
        assert_eq!(
            find("We collect").section,
            ["Privacy Policy", "What information do we collect?"]
        );
        let item = find("*   Interactions");
        assert_eq!(
            item.section,
            ["Privacy Policy", "Developing and improving AI at Meta"]
        );
        assert_eq!(item.lead_in.as_deref(), Some("Your activity:"));
        // A short line not set above a rule, nor a question, is a paragraph.
        assert_eq!(
            find("We may change").section,
            ["Privacy Policy", "Developing and improving AI at Meta"]
        );
        // A marked heading closes the unmarked one's section.
        assert_eq!(find("Write to us").section, ["Privacy Policy", "Contact"]);
        assert_eq!(find("Write to us").lead_in, None);
    }
}
