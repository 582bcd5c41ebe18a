//! turndown's whitespace collapsing, and the facts about each node's text that the conversion
//! rules ask for (computed once, bottom-up, after collapsing).

use std::borrow::Cow;

use html5ever::tendril::StrTendril;

use super::fragment::{Element, Fragment, Kind, NodeId};
use super::js::is_js_space;

/// Text facts of a node's `textContent`, computed once after whitespace collapsing.
#[derive(Debug, Clone, Default)]
pub(crate) struct TextFacts {
    /// The text is empty or only whitespace.
    pub(crate) all_space: bool,
    /// Leading whitespace (the whole text when `all_space`).
    pub(crate) leading: Space,
    /// Trailing whitespace (empty when `all_space`, as turndown's regex gives).
    pub(crate) trailing: Space,
    pub(crate) first: Option<char>,
    pub(crate) last: Option<char>,
    pub(crate) has_void: bool,
    pub(crate) has_meaningful_when_blank: bool,
    pub(crate) has_table: bool,
}

/// A run of whitespace at a text's edge. Once collapsed, it is nearly always nothing or one
/// space, which need no allocation; a page has a fact for each of its nodes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Space(Cow<'static, str>);

impl Space {
    fn of(text: &str) -> Space {
        match text {
            "" => Space(Cow::Borrowed("")),
            " " => Space(Cow::Borrowed(" ")),
            _ => Space(Cow::Owned(text.to_string())),
        }
    }

    /// Appends `more`: taken as it is while this is empty (sharing its buffer when it is one
    /// of the common runs).
    fn push(&mut self, more: &Space) {
        if self.0.is_empty() {
            self.0 = more.0.clone();
        } else if !more.0.is_empty() {
            self.0.to_mut().push_str(&more.0);
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// turndown's whitespace collapsing (after collapse-whitespace by Luc Thevenard):
/// runs of ASCII whitespace become one space, and spaces at block edges go.
pub(crate) fn collapse_whitespace(fragment: &mut Fragment) {
    let root = Fragment::ROOT;
    if fragment.nodes[root].first_child.is_none() {
        return;
    }
    let is_pre = |f: &Fragment, id: NodeId| f.has_flag(id, Element::PRE);
    let next = |f: &Fragment, prev: Option<NodeId>, current: NodeId| -> NodeId {
        let node = &f.nodes[current];
        let returning = prev.is_some_and(|p| f.nodes[p].parent == Some(current));
        let candidate = if returning || is_pre(f, current) {
            node.next.or(node.parent)
        } else {
            node.first_child.or(node.next).or(node.parent)
        };
        candidate.unwrap_or(root)
    };
    let remove = |f: &mut Fragment, id: NodeId| -> NodeId {
        let following = f.nodes[id].next.or(f.nodes[id].parent).unwrap_or(root);
        f.detach(id);
        following
    };

    let mut prev_text: Option<NodeId> = None;
    let mut keep_leading_space = false;
    let mut prev: Option<NodeId> = None;
    let mut node = next(fragment, prev, root);
    while node != root {
        match &fragment.nodes[node].kind {
            Kind::Text(_) => {
                let Kind::Text(text) = &mut fragment.nodes[node].kind else {
                    unreachable!("matched as text above")
                };
                let mut text = std::mem::take(text);
                collapse_ascii_space_in_place(&mut text);
                let previous_ends_with_space = match prev_text {
                    None => true,
                    Some(p) => matches!(&fragment.nodes[p].kind, Kind::Text(t) if t.ends_with(' ')),
                };
                if previous_ends_with_space && !keep_leading_space && text.starts_with(' ') {
                    text.pop_front(1);
                }
                if text.is_empty() {
                    node = remove(fragment, node);
                    continue;
                }
                fragment.nodes[node].kind = Kind::Text(text);
                prev_text = Some(node);
            }
            Kind::Element(element) => {
                let flags = element.flags;
                if flags & (Element::BLOCK | Element::BR) != 0 {
                    if let Some(p) = prev_text {
                        strip_one_trailing_space(fragment, p);
                    }
                    prev_text = None;
                    keep_leading_space = false;
                } else if flags & (Element::VOID | Element::PRE) != 0 {
                    prev_text = None;
                    keep_leading_space = true;
                } else if prev_text.is_some() {
                    keep_leading_space = false;
                }
            }
            Kind::Other | Kind::Root => {
                node = remove(fragment, node);
                continue;
            }
        }
        let following = next(fragment, prev, node);
        prev = Some(node);
        node = following;
    }
    if let Some(p) = prev_text {
        strip_one_trailing_space(fragment, p);
        if matches!(&fragment.nodes[p].kind, Kind::Text(t) if t.is_empty()) {
            fragment.detach(p);
        }
    }
}

/// Runs of ASCII whitespace become one space. Most text nodes have nothing to collapse
/// (single spaces between words) and keep their shared buffer.
pub(crate) fn collapse_ascii_space_in_place(text: &mut StrTendril) {
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let bytes = text.as_ref().as_bytes();
    let needs_work = memchr::memchr3(b'\t', b'\r', b'\n', bytes).is_some()
        || memchr::memmem::find(bytes, b"  ").is_some();
    if !needs_work {
        return;
    }
    let mut collapsed = Vec::with_capacity(bytes.len());
    let mut in_space = false;
    for &byte in bytes {
        if is_space(byte) {
            if !in_space {
                collapsed.push(b' ');
            }
            in_space = true;
        } else {
            collapsed.push(byte);
            in_space = false;
        }
    }
    // Byte by byte is safe: ASCII whitespace never occurs inside a multi-byte UTF-8 sequence,
    // and it was replaced by an ASCII byte, so the bytes are still UTF-8.
    let collapsed = String::from_utf8(collapsed)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    *text = StrTendril::from(collapsed);
}

pub(crate) fn strip_one_trailing_space(fragment: &mut Fragment, id: NodeId) {
    if let Kind::Text(t) = &mut fragment.nodes[id].kind
        && t.ends_with(' ')
    {
        t.pop_back(1);
    }
}

/// Computes [`TextFacts`] bottom-up (children always have larger ids than parents).
pub(crate) fn text_facts(fragment: &Fragment) -> Vec<TextFacts> {
    let mut facts: Vec<TextFacts> = vec![TextFacts::default(); fragment.nodes.len()];
    for id in (0..fragment.nodes.len()).rev() {
        let fact = match &fragment.nodes[id].kind {
            Kind::Text(t) => {
                let all_space = t.chars().all(is_js_space);
                let leading = Space::of(&t[..t.len() - t.trim_start_matches(is_js_space).len()]);
                let trailing = if all_space {
                    Space::default()
                } else {
                    Space::of(&t[t.trim_end_matches(is_js_space).len()..])
                };
                TextFacts {
                    all_space,
                    leading,
                    trailing,
                    first: t.chars().next(),
                    last: t.chars().next_back(),
                    ..TextFacts::default()
                }
            }
            Kind::Other => TextFacts {
                all_space: true,
                ..TextFacts::default()
            },
            Kind::Element(_) | Kind::Root => {
                let mut fact = TextFacts {
                    all_space: true,
                    ..TextFacts::default()
                };
                for child in fragment.children(id) {
                    let child_fact = &facts[child];
                    let flags = match &fragment.nodes[child].kind {
                        Kind::Element(e) => e.flags,
                        _ => 0,
                    };
                    fact.has_void |= flags & Element::VOID != 0 || child_fact.has_void;
                    fact.has_meaningful_when_blank |= flags & Element::MEANINGFUL_WHEN_BLANK != 0
                        || child_fact.has_meaningful_when_blank;
                    fact.has_table |= flags & Element::TABLE != 0 || child_fact.has_table;
                    if fact.first.is_none() {
                        fact.first = child_fact.first;
                    }
                    if child_fact.last.is_some() {
                        fact.last = child_fact.last;
                    }
                }
                for child in fragment.children(id) {
                    let child_fact = &facts[child];
                    fact.leading.push(&child_fact.leading);
                    if !child_fact.all_space {
                        fact.all_space = false;
                        break;
                    }
                }
                if !fact.all_space {
                    // The trailing whitespace: that of the last child with text, then the
                    // whitespace of the blank children after it.
                    let mut child = fragment.nodes[id].last_child;
                    let mut blank_after = Vec::new();
                    while let Some(c) = child {
                        let child_fact = &facts[c];
                        if !child_fact.all_space {
                            fact.trailing.push(&child_fact.trailing);
                            break;
                        }
                        blank_after.push(c);
                        child = fragment.nodes[c].prev;
                    }
                    for &c in blank_after.iter().rev() {
                        fact.trailing.push(&facts[c].leading);
                    }
                }
                fact
            }
        };
        facts[id] = fact;
    }
    facts
}
