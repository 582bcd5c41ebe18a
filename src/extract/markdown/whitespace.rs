//! turndown's whitespace collapsing, and the facts about each node's text that the conversion
//! rules ask for (computed once, bottom-up, after collapsing).

use super::fragment::{Fragment, Kind, MEANINGFUL_WHEN_BLANK, NodeId, is_block_name, is_void_name};
use super::js::is_js_space;

/// Text facts of a node's `textContent`, computed once after whitespace collapsing.
#[derive(Debug, Clone, Default)]
pub(crate) struct TextFacts {
    /// The text is empty or only whitespace.
    pub(crate) all_space: bool,
    /// Leading whitespace (the whole text when `all_space`).
    pub(crate) leading: String,
    /// Trailing whitespace (empty when `all_space`, as turndown's regex gives).
    pub(crate) trailing: String,
    pub(crate) first: Option<char>,
    pub(crate) last: Option<char>,
    pub(crate) has_void: bool,
    pub(crate) has_meaningful_when_blank: bool,
    pub(crate) has_table: bool,
}

/// turndown's whitespace collapsing (after collapse-whitespace by Luc Thevenard):
/// runs of ASCII whitespace become one space, and spaces at block edges go.
pub(crate) fn collapse_whitespace(fragment: &mut Fragment) {
    let root = Fragment::ROOT;
    if fragment.nodes[root].first_child.is_none() {
        return;
    }
    let is_pre = |f: &Fragment, id: NodeId| f.name(id) == "PRE";
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
            Kind::Text(data) => {
                let mut text = collapse_ascii_space(data);
                let previous_ends_with_space = match prev_text {
                    None => true,
                    Some(p) => matches!(&fragment.nodes[p].kind, Kind::Text(t) if t.ends_with(' ')),
                };
                if previous_ends_with_space && !keep_leading_space && text.starts_with(' ') {
                    text.remove(0);
                }
                if text.is_empty() {
                    node = remove(fragment, node);
                    continue;
                }
                fragment.nodes[node].kind = Kind::Text(text);
                prev_text = Some(node);
            }
            Kind::Element(element) => {
                let name = element.node_name.as_str();
                if is_block_name(name) || name == "BR" {
                    if let Some(p) = prev_text {
                        strip_one_trailing_space(fragment, p);
                    }
                    prev_text = None;
                    keep_leading_space = false;
                } else if is_void_name(name) || name == "PRE" {
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

pub(crate) fn collapse_ascii_space(data: &str) -> String {
    // Byte by byte: ASCII whitespace never occurs inside a multi-byte UTF-8 sequence.
    let mut out = Vec::with_capacity(data.len());
    let mut in_space = false;
    for &byte in data.as_bytes() {
        if matches!(byte, b' ' | b'\t' | b'\r' | b'\n') {
            if !in_space {
                out.push(b' ');
            }
            in_space = true;
        } else {
            out.push(byte);
            in_space = false;
        }
    }
    // Only ASCII bytes were replaced, by an ASCII byte: still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

pub(crate) fn strip_one_trailing_space(fragment: &mut Fragment, id: NodeId) {
    if let Kind::Text(t) = &mut fragment.nodes[id].kind
        && t.ends_with(' ')
    {
        t.pop();
    }
}

/// Computes [`TextFacts`] bottom-up (children always have larger ids than parents).
pub(crate) fn text_facts(fragment: &Fragment) -> Vec<TextFacts> {
    let mut facts: Vec<TextFacts> = vec![TextFacts::default(); fragment.nodes.len()];
    for id in (0..fragment.nodes.len()).rev() {
        let fact = match &fragment.nodes[id].kind {
            Kind::Text(t) => {
                let all_space = t.chars().all(is_js_space);
                let leading: String = t.chars().take_while(|&c| is_js_space(c)).collect();
                let trailing = if all_space {
                    String::new()
                } else {
                    let start = t.trim_end_matches(is_js_space).len();
                    t[start..].to_string()
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
                let children: Vec<NodeId> = fragment.children(id).collect();
                let mut fact = TextFacts {
                    all_space: true,
                    ..TextFacts::default()
                };
                for &child in &children {
                    let name = fragment.name(child);
                    let child_fact = &facts[child];
                    fact.has_void |= is_void_name(name) || child_fact.has_void;
                    fact.has_meaningful_when_blank |= MEANINGFUL_WHEN_BLANK.contains(&name)
                        || child_fact.has_meaningful_when_blank;
                    fact.has_table |= name == "TABLE" || child_fact.has_table;
                    if fact.first.is_none() {
                        fact.first = child_fact.first;
                    }
                    if child_fact.last.is_some() {
                        fact.last = child_fact.last;
                    }
                }
                let mut leading_done = false;
                for &child in &children {
                    let child_fact = &facts[child];
                    if leading_done {
                        break;
                    }
                    fact.leading.push_str(&child_fact.leading);
                    if !child_fact.all_space {
                        fact.all_space = false;
                        leading_done = true;
                    }
                }
                if !fact.all_space {
                    let mut parts: Vec<&str> = Vec::new();
                    for &child in children.iter().rev() {
                        let child_fact = &facts[child];
                        if child_fact.all_space {
                            parts.push(&child_fact.leading);
                        } else {
                            parts.push(&child_fact.trailing);
                            break;
                        }
                    }
                    fact.trailing = parts.into_iter().rev().collect();
                }
                fact
            }
        };
        facts[id] = fact;
    }
    facts
}
