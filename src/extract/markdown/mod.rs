//! HTML → Markdown, byte-compatible with OTA's engine.
//!
//! OTA converts the selected HTML with turndown (default options) plus the
//! GitHub-flavoured plugin and one rule of its own (link text is trimmed). This
//! module writes the same bytes, so that OTA's versions and policydiff's can be
//! compared and a collection can switch engines without spurious diffs.
//!
//! The input is a [`Fragment`]: a small mutable DOM (an arena with sibling links)
//! holding copies of the selected nodes. [`to_markdown`] then follows turndown's
//! steps: collapse whitespace, convert each node by the first matching rule,
//! join the pieces with at most two newlines, trim the ends. JavaScript string
//! semantics matter for byte equality and are kept: `\s` and `trim()` use
//! ECMAScript's whitespace set, and lengths (heading underlines, table cell
//! padding) count UTF-16 code units.
//!
//! Some rules grow their content: a heading is followed by an underline as long as itself, so
//! headings nested in headings double the text at each level. Pages built that way would need
//! memory beyond any machine; [`to_markdown`] stops at a size limit instead ([`TooLong`]).
//!
//! ```
//! use policydiff::extract::markdown::{to_markdown, Fragment};
//!
//! let mut fragment = Fragment::new();
//! let heading = fragment.append_element(Fragment::ROOT, "h1", true, vec![]);
//! fragment.append_text(heading, "Privacy  policy");
//! assert_eq!(to_markdown(fragment, 1 << 20).unwrap(), "Privacy policy\n==============");
//! ```

use std::collections::HashMap;

mod fragment;
mod js;
mod whitespace;

pub(crate) use fragment::RULE_ATTRIBUTES;
use fragment::{Element, Kind};
pub use fragment::{Fragment, NodeId};
use js::{is_ascii_space, js_number, js_number_to_string, trim_newlines, utf16_len};
pub use js::{is_js_space, js_trim};
use whitespace::{TextFacts, collapse_whitespace, text_facts};

/// Stack left below which the conversion of an element's children runs on a new segment…
const STACK_RED_ZONE: usize = 128 * 1024;
/// …of this size (the conversion recurses once per nesting level).
const STACK_SEGMENT: usize = 4 * 1024 * 1024;

struct Converter<'a> {
    fragment: &'a Fragment,
    facts: &'a [TextFacts],
    table_cache: HashMap<NodeId, TableFacts>,
    /// Longest text any node may convert to, in bytes.
    limit: usize,
    /// Set once a node passed `limit`: the rest is skipped.
    too_long: bool,
}

/// The Markdown would be longer than the limit given to [`to_markdown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong {
    /// The limit, in bytes.
    pub limit: usize,
}

/// How [`Converter::wrapping`] converts an element in place.
#[derive(Clone, Copy)]
enum Wrapping {
    /// Its content between blank lines.
    Block,
    /// Its content as it is.
    Inline,
    /// Nothing but whitespace: a blank line for a block, nothing for an inline element.
    Blank { block: bool },
    /// Its content between two markers (emphasis: `_`, strong: `**`), unless only whitespace.
    Emphasis(&'static str),
    /// A link: its content, trimmed, between brackets, then its destination.
    Link,
}

#[derive(Clone, Copy)]
struct TableFacts {
    skipped: bool,
    column_count: usize,
}

/// Converts a fragment to Markdown, as OTA's engine does, unless some part of it would be
/// longer than `limit` bytes.
pub fn to_markdown(mut fragment: Fragment, limit: usize) -> Result<String, TooLong> {
    collapse_whitespace(&mut fragment);
    let facts = text_facts(&fragment);
    let mut converter = Converter {
        fragment: &fragment,
        facts: &facts,
        table_cache: HashMap::new(),
        limit,
        too_long: false,
    };
    let mut output = converter.process(Fragment::ROOT, false);
    if converter.too_long {
        return Err(TooLong { limit });
    }
    // Trimmed in place. The end first: what the start's trimming removes, the end's would
    // too, so the order changes nothing.
    let end = output
        .trim_end_matches(|c| matches!(c, '\t' | '\r' | '\n') || is_js_space(c))
        .len();
    output.truncate(end);
    let start = output.len() - output.trim_start_matches(['\t', '\r', '\n']).len();
    output.drain(..start);
    Ok(output)
}

/// turndown's `escape`: Markdown characters in text become literal.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    escape_markdown_into(text, &mut out);
    out
}

/// [`escape_markdown`], appending to `out`.
fn escape_markdown_into(text: &str, out: &mut String) {
    // Line-start escapes apply to the start of the text node only (no multiline flag);
    // at most one applies, as each one makes the text start with a backslash.
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let hashes = text.bytes().take_while(|&b| b == b'#').count();
    let mut rest = text;
    if text.starts_with('-')
        || text.starts_with("+ ")
        || text.starts_with('=')
        || ((1..=6).contains(&hashes) && text[hashes..].starts_with(' '))
        || text.starts_with("~~~")
        || text.starts_with('>')
    {
        out.push('\\');
    } else if digits > 0 && text[digits..].starts_with(". ") {
        // Digits need no escaping of their own.
        out.push_str(&text[..digits]);
        out.push('\\');
        rest = &text[digits..];
    }
    // The characters escaped are ASCII: copied between them a run at a time.
    let mut copied = 0;
    for (at, byte) in rest.bytes().enumerate() {
        if matches!(byte, b'\\' | b'*' | b'`' | b'[' | b']' | b'_') {
            out.push_str(&rest[copied..at]);
            out.push('\\');
            copied = at;
        }
    }
    out.push_str(&rest[copied..]);
}

fn clean_attribute(value: Option<&str>) -> String {
    let Some(value) = value else {
        return String::new();
    };
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            while chars.peek().is_some_and(|&c| is_js_space(c)) {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

fn escape_link_destination(destination: &str) -> String {
    let mut escaped = String::with_capacity(destination.len());
    for c in destination.chars() {
        if matches!(c, '<' | '>' | '(' | ')') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    if escaped.contains(' ') {
        format!("<{escaped}>")
    } else {
        escaped
    }
}

fn escape_link_title(title: &str) -> String {
    title.replace('"', "\\\"")
}

/// Appends a replacement as turndown's `join` does: the newlines between two pieces are
/// the larger of the two sides' newlines, at most two.
fn join(output: &mut String, replacement: &str) {
    let body = replacement.trim_start_matches('\n');
    join_newlines(output, replacement.len() - body.len());
    output.push_str(body);
}

/// The newlines `join` puts at the end of `output` before a piece that starts with `leading`
/// newlines (which the piece then leaves out).
fn join_newlines(output: &mut String, leading: usize) {
    let kept = output.trim_end_matches('\n').len();
    let trailing = output.len() - kept;
    output.truncate(kept);
    output.push_str(&"\n\n"[..trailing.max(leading).min(2)]);
}

/// `prefix`, `content` and `suffix` in one string.
fn wrap(prefix: &str, content: &str, suffix: &str) -> String {
    concat(&[prefix, content, suffix])
}

/// The parts in one string, allocated once (`format!` grows its string part by part, which
/// for a page's every list item and table cell was a twentieth of the conversion).
fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// An element's name in lower case, in `buffer` (names longer than it match no rule: "").
fn lower_case_name<'b>(name: &str, buffer: &'b mut [u8; 16]) -> &'b str {
    let Some(target) = buffer.get_mut(..name.len()) else {
        return "";
    };
    target.copy_from_slice(name.as_bytes());
    target.make_ascii_lowercase();
    std::str::from_utf8(target).unwrap_or("")
}

impl<'a> Converter<'a> {
    fn name(&self, id: NodeId) -> &str {
        self.fragment.name(id)
    }

    /// The Markdown of `parent`'s children, joined.
    fn process(&mut self, parent: NodeId, parent_is_code: bool) -> String {
        let mut output = String::new();
        self.process_into(parent, parent_is_code, &mut output);
        if self.too_long {
            return String::new();
        }
        output
    }

    /// Joins the Markdown of `parent`'s children onto `output`. Elements whose rule only wraps
    /// their content (most of a page: `div`, `p`, `span`…) are converted straight into
    /// `output`: converting them apart and joining the result copied each text once per
    /// level of nesting above it, which was a third of the conversion. The bytes are the same:
    /// joining is associative once the newlines between pieces are settled first.
    fn process_into(&mut self, parent: NodeId, parent_is_code: bool, output: &mut String) {
        let f = self.fragment;
        let mut next = f.nodes[parent].first_child;
        while let Some(child) = next {
            next = f.nodes[child].next;
            if self.too_long {
                return;
            }
            match &f.nodes[child].kind {
                // Text never starts with a newline once whitespace is collapsed, except in
                // code: written straight into the output, as `join` would.
                Kind::Text(text) if !text.starts_with('\n') => {
                    join_newlines(output, 0);
                    if parent_is_code {
                        output.push_str(text);
                    } else {
                        escape_markdown_into(text, output);
                    }
                }
                Kind::Text(text) => join(output, text),
                Kind::Element(element) => {
                    let is_code = parent_is_code || element.node_name == "CODE";
                    match self.wrapping(child) {
                        // As `join` of "\n\n" + content + "\n\n": the newlines before, the
                        // content, and the newlines after unless the content was only newlines.
                        Some(Wrapping::Block) => {
                            join_newlines(output, 2);
                            let mark = output.len();
                            self.children_into(child, is_code, output);
                            if output.len() > mark {
                                output.push_str("\n\n");
                            }
                        }
                        Some(Wrapping::Inline) => {
                            join_newlines(output, 0);
                            self.children_into(child, is_code, output);
                        }
                        Some(Wrapping::Blank { block }) => {
                            join_newlines(output, if block { 2 } else { 0 });
                        }
                        // As `join` of marker + content + marker, or of nothing when the
                        // content is only whitespace.
                        Some(Wrapping::Emphasis(marker)) => {
                            join_newlines(output, 0);
                            let start = output.len();
                            output.push_str(marker);
                            self.children_into(child, is_code, output);
                            if js_trim(&output[start + marker.len()..]).is_empty() {
                                output.truncate(start);
                            } else {
                                output.push_str(marker);
                            }
                        }
                        // As `join` of the link: its content trimmed between brackets.
                        Some(Wrapping::Link) => {
                            join_newlines(output, 0);
                            output.push('[');
                            let start = output.len();
                            self.children_into(child, is_code, output);
                            let content = &output[start..];
                            let kept = js_trim(content).len();
                            let before =
                                content.len() - content.trim_start_matches(is_js_space).len();
                            output.truncate(start + before + kept);
                            output.drain(start..start + before);
                            output.push_str("](");
                            self.link_destination(child, output);
                        }
                        None => {
                            let replacement = self.replacement_for_node(child, is_code);
                            join(output, &replacement);
                        }
                    }
                }
                _ => join(output, ""),
            }
            if output.len() > self.limit {
                self.too_long = true;
                return;
            }
        }
    }

    /// [`process_into`](Self::process_into) one level deeper: on a stack grown when little is
    /// left (pages nest thousands deep).
    fn children_into(&mut self, id: NodeId, is_code: bool, output: &mut String) {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
            self.process_into(id, is_code, output);
        });
    }

    /// How an element converts when its rule does nothing but wrap its content (or drop it,
    /// blank), so that it can be converted in place; `None` for every other rule.
    fn wrapping(&self, id: NodeId) -> Option<Wrapping> {
        let f = self.fragment;
        let is_block = f.has_flag(id, Element::BLOCK);
        // Whitespace flanking an inline element is kept outside it: that needs its content.
        let unflanked = || {
            let (leading, trailing) = self.flanking_whitespace(id);
            leading.is_empty() && trailing.is_empty()
        };
        if self.is_blank(id) {
            return (is_block || unflanked()).then_some(Wrapping::Blank { block: is_block });
        }
        if f.name(id) == "A" && f.attr(id, "href").is_some_and(|h| !h.is_empty()) {
            // Flanking whitespace comes outside the link (see `replacement_for_node`).
            return unflanked().then_some(Wrapping::Link);
        }
        let mut buffer = [0; 16];
        let wraps = match lower_case_name(f.name(id), &mut buffer) {
            "em" | "i" => return unflanked().then_some(Wrapping::Emphasis("_")),
            "strong" | "b" => return unflanked().then_some(Wrapping::Emphasis("**")),
            // Its own rule: a block, whatever the element's flags.
            "p" => return Some(Wrapping::Block),
            // Unless it is a highlighted code block (see `apply_rule`).
            "div" => {
                f.name(id) != "DIV"
                    || f.nodes[id]
                        .first_child
                        .is_none_or(|first| f.name(first) != "PRE")
                    || highlight_language(f.attr(id, "class").unwrap_or("")).is_none()
            }
            // Elements no rule names: the default rule, which wraps blocks and keeps inline
            // content as it is.
            "section" | "article" | "main" | "header" | "footer" | "nav" | "aside" | "span"
            | "font" | "center" | "small" | "big" | "u" | "ins" | "sup" | "sub" | "label"
            | "abbr" | "cite" | "q" | "time" | "mark" | "address" | "figure" | "figcaption"
            | "dl" | "dt" | "dd" | "details" | "summary" | "form" | "fieldset" | "legend" => true,
            _ => false,
        };
        if !wraps {
            None
        } else if is_block {
            Some(Wrapping::Block)
        } else {
            unflanked().then_some(Wrapping::Inline)
        }
    }

    fn is_blank(&self, id: NodeId) -> bool {
        let facts = &self.facts[id];
        !self
            .fragment
            .has_flag(id, Element::VOID | Element::MEANINGFUL_WHEN_BLANK)
            && facts.all_space
            && !facts.has_void
            && !facts.has_meaningful_when_blank
    }

    fn flanked_by_space(&self, id: NodeId, left: bool) -> bool {
        let node = &self.fragment.nodes[id];
        let sibling = if left { node.prev } else { node.next };
        let Some(sibling) = sibling else {
            return false;
        };
        let edge = match &self.fragment.nodes[sibling].kind {
            Kind::Text(t) => {
                if left {
                    t.chars().next_back()
                } else {
                    t.chars().next()
                }
            }
            Kind::Element(e) if e.flags & Element::BLOCK == 0 => {
                let facts = &self.facts[sibling];
                if left { facts.last } else { facts.first }
            }
            _ => return false,
        };
        edge == Some(' ')
    }

    fn flanking_whitespace(&self, id: NodeId) -> (&'a str, &'a str) {
        if self.fragment.has_flag(id, Element::BLOCK) {
            return ("", "");
        }
        let facts = &self.facts[id];
        let mut leading = facts.leading.as_str();
        let ascii_lead = leading
            .bytes()
            .take_while(|&b| is_ascii_space(b as char))
            .count();
        if ascii_lead > 0 && self.flanked_by_space(id, true) {
            leading = &leading[ascii_lead..];
        }
        let mut trailing = facts.trailing.as_str();
        let ascii_trail_start = trailing.trim_end_matches(is_ascii_space).len();
        if ascii_trail_start < trailing.len() && self.flanked_by_space(id, false) {
            trailing = &trailing[..ascii_trail_start];
        }
        (leading, trailing)
    }

    fn replacement_for_node(&mut self, id: NodeId, is_code: bool) -> String {
        // One level deeper: on a stack grown when little is left (pages nest thousands deep).
        let content =
            stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || self.process(id, is_code));
        let (leading, trailing) = self.flanking_whitespace(id);
        let content = if !leading.is_empty() || !trailing.is_empty() {
            js_trim(&content).to_string()
        } else {
            content
        };
        if self.too_long {
            return String::new();
        }
        let replacement = self.apply_rule(id, content);
        if replacement.len() > self.limit {
            self.too_long = true;
            return String::new();
        }
        if leading.is_empty() && trailing.is_empty() {
            return replacement;
        }
        let mut out = String::with_capacity(leading.len() + replacement.len() + trailing.len());
        out.push_str(leading);
        out.push_str(&replacement);
        out.push_str(trailing);
        out
    }

    fn apply_rule(&mut self, id: NodeId, content: String) -> String {
        let f = self.fragment;
        let name = f.name(id);
        let is_block = f.has_flag(id, Element::BLOCK);
        if self.is_blank(id) {
            return if is_block {
                "\n\n".into()
            } else {
                String::new()
            };
        }
        let mut buffer = [0; 16];
        let lower = lower_case_name(name, &mut buffer);
        // Rules in turndown's order (plugin and OTA rules first, as `addRule` prepends).
        if name == "A" && f.attr(id, "href").is_some_and(|h| !h.is_empty()) {
            return self.link(id, js_trim(&content));
        }
        if self.is_checkbox(id) && self.name_of_parent(id) == "LI" {
            return if f.attr(id, "checked").is_some() && name == "INPUT" {
                "[x] ".into()
            } else {
                "[ ] ".into()
            };
        }
        match lower {
            "thead" | "tbody" | "tfoot" => return content,
            _ => {}
        }
        if name == "TABLE" {
            return self.table(id, content);
        }
        if lower == "tr" {
            return self.table_row(id, content);
        }
        if lower == "th" || lower == "td" {
            let table = self.parent_table(id);
            if self.table_facts(table).skipped {
                return content;
            }
            return self.cell(&content, Some(id), None);
        }
        if matches!(lower, "del" | "s" | "strike") {
            return wrap("~", &content, "~");
        }
        if name == "DIV"
            && let Some(first) = f.nodes[id].first_child
            && f.name(first) == "PRE"
            && let Some(language) = highlight_language(f.attr(id, "class").unwrap_or(""))
        {
            let mut code = String::new();
            f.text_content(first, &mut code);
            return format!("\n\n```{language}\n{code}\n```\n\n");
        }
        match lower {
            "p" => return wrap("\n\n", &content, "\n\n"),
            "br" => return "  \n".into(),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = usize::from(lower.as_bytes()[1] - b'0');
                return if level < 3 {
                    let underline = if level == 1 { "=" } else { "-" };
                    let underline = underline.repeat(utf16_len(&content));
                    concat(&["\n\n", &content, "\n", &underline, "\n\n"])
                } else {
                    wrap(&format!("\n\n{} ", "#".repeat(level)), &content, "\n\n")
                };
            }
            "blockquote" => return wrap("\n\n", &quote_lines(trim_newlines(&content)), "\n\n"),
            "ul" | "ol" => {
                let parent = f.nodes[id].parent;
                let last_element_of_li = parent.is_some_and(|p| {
                    f.name(p) == "LI"
                        && f.children(p).filter(|&c| f.is_element(c)).last() == Some(id)
                });
                return if last_element_of_li {
                    wrap("\n", &content, "")
                } else {
                    wrap("\n\n", &content, "\n\n")
                };
            }
            "li" => return self.list_item(id, &content),
            _ => {}
        }
        if name == "PRE"
            && let Some(first) = f.nodes[id].first_child
            && f.name(first) == "CODE"
        {
            let mut code = String::new();
            f.text_content(first, &mut code);
            return format!("\n\n    {}\n\n", code.replace('\n', "\n    "));
        }
        match lower {
            "hr" => return "\n\n* * *\n\n".into(),
            "em" | "i" => {
                return if js_trim(&content).is_empty() {
                    String::new()
                } else {
                    wrap("_", &content, "_")
                };
            }
            "strong" | "b" => {
                return if js_trim(&content).is_empty() {
                    String::new()
                } else {
                    wrap("**", &content, "**")
                };
            }
            _ => {}
        }
        if name == "CODE" {
            let node = &f.nodes[id];
            let has_siblings = node.prev.is_some() || node.next.is_some();
            let is_code_block = node.parent.is_some_and(|p| f.name(p) == "PRE") && !has_siblings;
            if !is_code_block {
                return inline_code(&content);
            }
        }
        if lower == "img" {
            let alt = escape_markdown(&clean_attribute(f.attr(id, "alt")));
            let src = escape_link_destination(f.attr(id, "src").unwrap_or(""));
            let title = clean_attribute(f.attr(id, "title"));
            let title_part = if title.is_empty() {
                String::new()
            } else {
                format!(" \"{}\"", escape_link_title(&title))
            };
            return if src.is_empty() {
                String::new()
            } else {
                format!("![{alt}]({src}{title_part})")
            };
        }
        if is_block {
            wrap("\n\n", &content, "\n\n")
        } else {
            content
        }
    }

    fn name_of_parent(&self, id: NodeId) -> &str {
        self.fragment.nodes[id]
            .parent
            .map(|p| self.name(p))
            .unwrap_or("")
    }

    /// The DOM's `node.type === 'checkbox'` for the elements that have a `type` property.
    fn is_checkbox(&self, id: NodeId) -> bool {
        let Some(value) = self.fragment.attr(id, "type") else {
            return false;
        };
        match self.name(id) {
            "INPUT" => value.eq_ignore_ascii_case("checkbox"),
            "A" | "LINK" | "OL" | "UL" | "LI" | "OBJECT" | "EMBED" | "SOURCE" | "SCRIPT"
            | "STYLE" => value == "checkbox",
            _ => false,
        }
    }

    fn link(&self, id: NodeId, content: &str) -> String {
        let mut link = wrap("[", content, "](");
        self.link_destination(id, &mut link);
        link
    }

    /// The end of a link to `id`'s `href`, after its text: `href "title")`.
    fn link_destination(&self, id: NodeId, output: &mut String) {
        let f = self.fragment;
        output.push_str(&escape_link_destination(f.attr(id, "href").unwrap_or("")));
        let title = escape_link_title(&clean_attribute(f.attr(id, "title")));
        if !title.is_empty() {
            output.push_str(" \"");
            output.push_str(&title);
            output.push('"');
        }
        output.push(')');
    }

    fn list_item(&self, id: NodeId, content: &str) -> String {
        let f = self.fragment;
        let mut prefix = "*   ".to_string();
        if let Some(parent) = f.nodes[id].parent
            && f.name(parent) == "OL"
        {
            let index = f
                .children(parent)
                .filter(|&c| f.is_element(c))
                .position(|c| c == id)
                .unwrap_or(0);
            let number = match f.attr(parent, "start") {
                Some(start) if !start.is_empty() => js_number(start) + index as f64,
                _ => (index + 1) as f64,
            };
            prefix = format!("{}.  ", js_number_to_string(number));
        }
        let is_paragraph = content.ends_with('\n');
        let mut body = trim_newlines(content).to_string();
        if is_paragraph {
            body.push('\n');
        }
        if body.contains('\n') {
            body = body.replace('\n', &format!("\n{}", " ".repeat(utf16_len(&prefix))));
        }
        let suffix = if f.nodes[id].next.is_some() { "\n" } else { "" };
        concat(&[&prefix, &body, suffix])
    }

    fn parent_table(&self, id: NodeId) -> Option<NodeId> {
        let mut parent = self.fragment.nodes[id].parent?;
        while self.name(parent) != "TABLE" {
            parent = self.fragment.nodes[parent].parent?;
        }
        Some(parent)
    }

    /// The table's rows, as `HTMLTableElement.rows` lists them: head rows, body rows, foot rows.
    fn rows(&self, table: NodeId) -> Vec<NodeId> {
        let f = self.fragment;
        let mut head = Vec::new();
        let mut body = Vec::new();
        let mut foot = Vec::new();
        for child in f.children(table) {
            match f.name(child) {
                "TR" => body.push(child),
                "THEAD" => head.extend(f.children(child).filter(|&c| f.name(c) == "TR")),
                "TBODY" => body.extend(f.children(child).filter(|&c| f.name(c) == "TR")),
                "TFOOT" => foot.extend(f.children(child).filter(|&c| f.name(c) == "TR")),
                _ => {}
            }
        }
        head.extend(body);
        head.extend(foot);
        head
    }

    fn table_facts(&mut self, table: Option<NodeId>) -> TableFacts {
        let Some(table) = table else {
            return TableFacts {
                skipped: true,
                column_count: 0,
            };
        };
        if let Some(facts) = self.table_cache.get(&table) {
            return *facts;
        }
        let rows = self.rows(table);
        let child_count = |id: NodeId| self.fragment.children(id).count();
        let column_count = rows.iter().map(|&r| child_count(r)).max().unwrap_or(0);
        let skipped = (rows.len() == 1 && child_count(rows[0]) <= 1) || self.facts[table].has_table;
        let facts = TableFacts {
            skipped,
            column_count,
        };
        self.table_cache.insert(table, facts);
        facts
    }

    fn cell(&self, content: &str, node: Option<NodeId>, index: Option<usize>) -> String {
        let f = self.fragment;
        let index = index.unwrap_or_else(|| {
            node.and_then(|n| {
                f.nodes[n]
                    .parent
                    .and_then(|p| f.children(p).position(|c| c == n))
            })
            .unwrap_or(0)
        });
        let prefix = if index == 0 { "| " } else { " " };
        let mut text = js_trim(content).to_string();
        if text.contains('\n') {
            text = text.replace("\n\r", "<br>").replace('\n', "<br>");
        }
        if text.contains('|') {
            text = collapse_pipes(&text);
        }
        while utf16_len(&text) < 3 {
            text.push(' ');
        }
        if let Some(node) = node {
            let colspan = f.attr(node, "colspan").map(js_number).unwrap_or(1.0);
            let mut i = 1.0;
            while i < colspan {
                text.push_str(" |    ");
                i += 1.0;
            }
        }
        concat(&[prefix, &text, " |"])
    }

    fn is_heading_row(&self, row: NodeId) -> bool {
        let f = self.fragment;
        let Some(parent) = f.nodes[row].parent else {
            return false;
        };
        let parent_name = f.name(parent);
        if parent_name == "THEAD" {
            return true;
        }
        let first_tbody = parent_name == "TBODY"
            && match f.nodes[parent].prev {
                None => true,
                Some(prev) => f.name(prev) == "THEAD" && self.facts[prev].all_space,
            };
        f.nodes[parent].first_child == Some(row)
            && (parent_name == "TABLE" || first_tbody)
            && f.children(row).all(|c| f.name(c) == "TH")
    }

    fn table_row(&mut self, id: NodeId, content: String) -> String {
        let table = self.parent_table(id);
        let facts = self.table_facts(table);
        if facts.skipped {
            return content;
        }
        let mut border = String::new();
        if self.is_heading_row(id) {
            for i in 0..facts.column_count {
                border.push_str(&self.cell("---", None, Some(i)));
            }
        }
        if border.is_empty() {
            wrap("\n", &content, "")
        } else {
            concat(&["\n", &content, "\n", &border])
        }
    }

    fn table(&mut self, id: NodeId, content: String) -> String {
        let facts = self.table_facts(Some(id));
        if facts.skipped {
            return content;
        }
        let content = collapse_newlines(&content);
        let trimmed = js_trim(&content);
        let mut lines = trimmed.split('\n');
        let first = lines.next().unwrap_or("");
        let second_line_is_divider = match lines.next() {
            Some(second) => second.starts_with("| ---"),
            None => first == "| ---",
        };
        let mut header = String::new();
        if facts.column_count > 0 && !second_line_is_divider {
            header = format!(
                "|{}\n|{}",
                "     |".repeat(facts.column_count),
                " --- |".repeat(facts.column_count)
            );
        }
        concat(&["\n\n", &header, &content, "\n\n"])
    }
}

fn highlight_language(class: &str) -> Option<&str> {
    for prefix in ["highlight-text-", "highlight-source-"] {
        let mut rest = class;
        while let Some(at) = rest.find(prefix) {
            let after = &rest[at + prefix.len()..];
            let len = after
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                .count();
            if len > 0 {
                return Some(&after[..len]);
            }
            rest = after;
        }
    }
    None
}

fn quote_lines(content: &str) -> String {
    let mut out = String::with_capacity(content.len() + 8);
    out.push_str("> ");
    for c in content.chars() {
        out.push(c);
        if matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
            out.push_str("> ");
        }
    }
    out
}

fn collapse_newlines(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    for c in content.chars() {
        if c == '\n' && out.ends_with('\n') {
            continue;
        }
        out.push(c);
    }
    out
}

fn collapse_pipes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '|' {
            while chars.peek() == Some(&'|') {
                chars.next();
            }
            out.push_str("\\|");
        } else {
            out.push(c);
        }
    }
    out
}

fn inline_code(content: &str) -> String {
    if content.is_empty() {
        return String::new();
    }
    let content = content.replace("\r\n", " ").replace(['\n', '\r'], " ");
    let needs_space = content.starts_with('`') || content.ends_with('`') || {
        // turndown's /^ .*?[^ ].* $/: space-framed, with a non-space inside; `.` stops at U+2028/9.
        let chars: Vec<char> = content.chars().collect();
        chars.len() >= 3 && chars[0] == ' ' && chars[chars.len() - 1] == ' ' && {
            let inner = &chars[1..chars.len() - 1];
            let terminators = inner
                .iter()
                .filter(|&&c| matches!(c, '\u{2028}' | '\u{2029}'))
                .count();
            match terminators {
                0 => inner.iter().any(|&c| c != ' '),
                1 => true,
                _ => false,
            }
        }
    };
    let extra = if needs_space { " " } else { "" };
    let runs: Vec<usize> = content
        .split(|c| c != '`')
        .filter(|run| !run.is_empty())
        .map(str::len)
        .collect();
    let mut delimiter = 1;
    while runs.contains(&delimiter) {
        delimiter += 1;
    }
    let fence = "`".repeat(delimiter);
    format!("{fence}{extra}{content}{extra}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(build: impl FnOnce(&mut Fragment)) -> String {
        let mut f = Fragment::new();
        build(&mut f);
        to_markdown(f, 1 << 20).unwrap()
    }

    #[test]
    fn escapes_markdown_like_turndown() {
        assert_eq!(escape_markdown("- item"), "\\- item");
        assert_eq!(escape_markdown("1. first"), "1\\. first");
        assert_eq!(escape_markdown("## title"), "\\## title");
        assert_eq!(escape_markdown("####### seven"), "####### seven");
        assert_eq!(escape_markdown("a_b*c[d]`e\\"), "a\\_b\\*c\\[d\\]\\`e\\\\");
        assert_eq!(escape_markdown("*- x"), "\\*- x");
        assert_eq!(escape_markdown("+ plus"), "\\+ plus");
        assert_eq!(escape_markdown("> quote"), "\\> quote");
    }

    #[test]
    fn runs_of_ascii_whitespace_collapse_to_one_space() {
        let collapse = |text: &str| {
            let mut text = html5ever::tendril::StrTendril::from_slice(text);
            whitespace::collapse_ascii_space_in_place(&mut text);
            text.to_string()
        };
        assert_eq!(collapse("  Hello \n\t world  "), " Hello world ");
        assert_eq!(collapse("one two three"), "one two three");
        assert_eq!(collapse("é\r\n\u{a0}\n\nè"), "é \u{a0} è");
        assert_eq!(collapse("\n"), " ");
        assert_eq!(collapse("a  "), "a ");
    }

    #[test]
    fn joins_with_at_most_two_newlines() {
        let mut out = String::from("a\n\n\n");
        join(&mut out, "\nb");
        assert_eq!(out, "a\n\nb");
        let mut out = String::from("a");
        join(&mut out, "b\n");
        assert_eq!(out, "ab\n");
    }

    #[test]
    fn collapses_whitespace_and_trims_blocks() {
        let md = frag(|f| {
            let p = f.append_element(Fragment::ROOT, "p", true, vec![]);
            f.append_text(p, "  Hello \n\t world  ");
            let em = f.append_element(p, "em", true, vec![]);
            f.append_text(em, " you ");
        });
        assert_eq!(md, "Hello world _you_");
    }

    #[test]
    fn ordered_list_start_and_quirk() {
        let md = frag(|f| {
            let ol = f.append_element(
                Fragment::ROOT,
                "ol",
                true,
                vec![("start".into(), "9".into())],
            );
            for text in ["nine", "ten"] {
                let li = f.append_element(ol, "li", true, vec![]);
                f.append_text(li, text);
            }
        });
        assert_eq!(md, "9.  nine\n10.  ten");
    }

    #[test]
    fn inline_code_delimiters() {
        assert_eq!(inline_code("a`b"), "``a`b``");
        assert_eq!(inline_code("`x"), "`` `x ``");
        assert_eq!(inline_code(" x "), "`  x  `");
        assert_eq!(inline_code("  "), "`  `");
    }

    #[test]
    fn js_numbers() {
        assert_eq!(js_number(" 3 "), 3.0);
        assert_eq!(js_number("0x10"), 16.0);
        assert!(js_number("abc").is_nan());
        assert_eq!(js_number(""), 0.0);
        assert_eq!(js_number_to_string(f64::NAN), "NaN");
        assert_eq!(js_number_to_string(12.0), "12");
        assert_eq!(js_number_to_string(1.5), "1.5");
    }

    #[test]
    fn setext_underline_counts_utf16_units() {
        let md = frag(|f| {
            let h = f.append_element(Fragment::ROOT, "h2", true, vec![]);
            f.append_text(h, "😀é");
        });
        assert_eq!(md, "😀é\n---");
    }
}
