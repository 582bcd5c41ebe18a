//! The page as a DOM, and OTA's steps over it before conversion.
//!
//! [`Page::parse`] parses HTML the way a browser with scripting disabled does
//! (html5ever; `<noscript>` content is kept as elements). The methods then run
//! OTA's extraction steps in its order: built-in filters, absolute links, no
//! `script`/`style`, Cloudflare e-mail protection, `remove`, and finally
//! [`Page::select`], which copies the selected nodes (CSS matches in document
//! order, ranges as DOM ranges) into a [`Fragment`] for the Markdown writer.
//!
//! Range selectors need a DOM Range, which scraper lacks: a range is kept as two
//! gaps in the sequence of open/close tokens of a document-order walk, from
//! which "contained" and "partially contained" follow as the DOM standard
//! defines them.

use std::collections::HashMap;

use ego_tree::{NodeId, NodeRef};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::{QualName, ns};
use scraper::node::Text;
use scraper::{Html, HtmlTreeSink, Node};
use url::Url;

use super::markdown::{self, Fragment};
use crate::declaration::{
    BuiltinFilter, RangeEnd, RangeSelector, Selector, Side, describe_selectors,
};
use crate::{Error, Result};

/// Tracking parameters dropped by `removeTrackingParams`.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "__hssc",
    "__hstc",
    "__hsfp",
    "hsCtaTracking",
    "igshid",
    "yclid",
    "_ga",
    "_gl",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "ref_src",
];

/// A parsed page, modified in place by the extraction steps.
pub struct Page {
    html: Html,
    location: Url,
    base: Url,
}

fn compile(css: &str) -> Result<scraper::Selector> {
    scraper::Selector::parse(css).map_err(|e| Error::InvalidSelector {
        selector: css.to_string(),
        reason: e.to_string(),
    })
}

impl Page {
    /// Parses a page fetched from `location` (scripting disabled, as OTA's jsdom).
    pub fn parse(text: &str, location: &str) -> Result<Page> {
        let location = Url::parse(location).map_err(|e| Error::InvalidDeclaration {
            problems: vec![format!("the page location {location:?} is not a URL: {e}")],
        })?;
        let opts = html5ever::ParseOpts {
            tree_builder: html5ever::tree_builder::TreeBuilderOpts {
                scripting_enabled: false,
                ..Default::default()
            },
            ..Default::default()
        };
        let html = html5ever::parse_document(
            JsdomCompatibleSink(HtmlTreeSink::new(Html::new_document())),
            opts,
        )
        .one(text);
        let mut page = Page {
            base: location.clone(),
            html,
            location,
        };
        page.base = page.document_base();
        Ok(page)
    }

    /// The document's base URL: the first `<base href>`, else the location.
    fn document_base(&self) -> Url {
        // Most pages have no `<base>`: a look through the parser's storage (every node, in no
        // particular order) settles that for a fraction of a selector's walk in document order.
        let any_base = self.html.tree.values().any(|node| {
            node.as_element()
                .is_some_and(|element| element.name() == "base" && element.attr("href").is_some())
        });
        if !any_base {
            return self.location.clone();
        }
        let selector = compile("base[href]").expect("static selector");
        self.matching(&selector)
            .next()
            .and_then(|id| self.attr(id, "href").map(str::to_string))
            .and_then(|href: String| self.location.join(&href).ok())
            .unwrap_or_else(|| self.location.clone())
    }

    /// Elements matching a selector, in document order (not inside `<template>` contents).
    fn matches(&self, selector: &scraper::Selector) -> Vec<NodeId> {
        self.matching(selector).collect()
    }

    /// [`matches`](Self::matches), one at a time.
    fn matching<'s>(
        &'s self,
        selector: &'s scraper::Selector,
    ) -> impl Iterator<Item = NodeId> + 's {
        // A walk from the root: only attached nodes, in document order (the tree's
        // storage order differs once the parser or a filter has moved nodes).
        // scraper's `select` keeps its matching caches across the elements it visits; asking
        // `Selector::matches` of each element set up fresh ones every time (a tenth of an
        // extraction). Scoped at the document's element, where `:scope` is `:root`, as in
        // `document.querySelectorAll`.
        self.html
            .tree
            .root()
            .children()
            .filter_map(scraper::ElementRef::wrap)
            .flat_map(|element| element.select(selector))
            .filter(|element| {
                !element
                    .ancestors()
                    .any(|ancestor| matches!(ancestor.value(), Node::Fragment))
            })
            .map(|element| element.id())
    }

    fn select_css(&self, css: &str) -> Result<Vec<NodeId>> {
        Ok(self.matches(&compile(css)?))
    }

    fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        self.html.tree.get(id)?.value().as_element()?.attr(name)
    }

    fn set_attr(&mut self, id: NodeId, name: &str, value: &str) {
        let Some(mut node) = self.html.tree.get_mut(id) else {
            return;
        };
        if let Node::Element(element) = node.value() {
            let qualified = QualName::new(None, ns!(), name.into());
            match element.attrs.iter_mut().find(|(n, _)| *n == qualified) {
                Some((_, v)) => *v = StrTendril::from(value),
                None => element.attrs.push((qualified, StrTendril::from(value))),
            }
        }
    }

    fn detach(&mut self, id: NodeId) {
        if let Some(mut node) = self.html.tree.get_mut(id) {
            node.detach();
        }
    }

    fn text_node_ids(&self) -> Vec<NodeId> {
        self.html
            .tree
            .root()
            .descendants()
            .filter(|n| n.value().is_text())
            .map(|n| n.id())
            .collect()
    }

    fn map_text(&mut self, mut change: impl FnMut(&str) -> Option<String>) {
        for id in self.text_node_ids() {
            if let Some(mut node) = self.html.tree.get_mut(id)
                && let Node::Text(text) = node.value()
                && let Some(changed) = change(&text.text)
            {
                text.text = StrTendril::from(changed);
            }
        }
    }

    /// Applies one built-in filter.
    pub fn apply_filter(&mut self, filter: &BuiltinFilter) -> Result<()> {
        match filter {
            BuiltinFilter::RemoveQueryParams(names) => {
                self.rewrite_query(|key| names.iter().any(|n| n == key));
            }
            BuiltinFilter::RemoveTrackingParams => {
                self.rewrite_query(|key| key.starts_with("utm_") || TRACKING_PARAMS.contains(&key));
            }
            BuiltinFilter::RemoveEmptyLinks => {
                let links = self.select_css("a")?;
                let rich =
                    compile("img, svg, picture, video, audio, iframe, object, embed, input")?;
                for id in links {
                    let Some(element) = self.html.tree.get(id).and_then(scraper::ElementRef::wrap)
                    else {
                        continue;
                    };
                    let empty = element.text().all(|t| t.chars().all(markdown::is_js_space))
                        && element.select(&rich).next().is_none();
                    if empty {
                        self.detach(id);
                    }
                }
            }
            BuiltinFilter::RemoveElements(selectors) => {
                for css in selectors {
                    for id in self.select_css(css)? {
                        self.detach(id);
                    }
                }
            }
            BuiltinFilter::UnwrapElements(selectors) => {
                for css in selectors {
                    for id in self.select_css(css)? {
                        let children: Vec<NodeId> = match self.html.tree.get(id) {
                            Some(node) if node.parent().is_some() => {
                                node.children().map(|c| c.id()).collect()
                            }
                            _ => continue,
                        };
                        if let Some(mut node) = self.html.tree.get_mut(id) {
                            for child in children {
                                node.insert_id_before(child);
                            }
                            node.detach();
                        }
                    }
                }
            }
            BuiltinFilter::ReplaceText {
                pattern,
                replacement,
            } => self.map_text(
                |text| match pattern.replace_all(text, replacement.as_str()) {
                    std::borrow::Cow::Borrowed(_) => None,
                    std::borrow::Cow::Owned(changed) => Some(changed),
                },
            ),
            BuiltinFilter::ReplaceNonBreakingSpaces => self.map_text(|text| {
                text.contains(['\u{A0}', '\u{202F}', '\u{2007}'])
                    .then(|| text.replace(['\u{A0}', '\u{202F}', '\u{2007}'], " "))
            }),
            BuiltinFilter::RemoveZeroWidthCharacters => {
                const ZERO_WIDTH: [char; 5] =
                    ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];
                self.map_text(|text| {
                    text.contains(ZERO_WIDTH)
                        .then(|| text.replace(ZERO_WIDTH, ""))
                });
            }
        }
        Ok(())
    }

    /// OTA's `removeQueryParams`: links and images lose the query parameters whose name matches.
    fn rewrite_query(&mut self, drop: impl Fn(&str) -> bool) {
        let targets = self.select_css("a[href], img[src]").unwrap_or_default();
        for id in targets {
            let Some(element) = self
                .html
                .tree
                .get(id)
                .and_then(|n| n.value().as_element().cloned())
            else {
                continue;
            };
            let attribute = if element.name() == "a" { "href" } else { "src" };
            let raw = element.attr(attribute).unwrap_or("");
            let Ok(mut url) = self.base.join(raw) else {
                continue;
            };
            let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            if !pairs.iter().any(|(key, _)| drop(key)) {
                continue;
            }
            let kept: Vec<&(String, String)> = pairs.iter().filter(|(key, _)| !drop(key)).collect();
            if kept.is_empty() {
                url.set_query(None);
            } else {
                url.query_pairs_mut().clear().extend_pairs(kept);
            }
            self.set_attr(id, attribute, url.as_str());
        }
    }

    /// OTA's fixed steps before `remove`, in its order, in one walk of the page instead of a
    /// selector's walk for each (three walks were a twentieth of an extraction): links made
    /// absolute (not `#…`, not empty; invalid URLs stay as written); `script` and `style`
    /// elements dropped; Cloudflare's e-mail obfuscation links written `[email protected]`, as
    /// OTA writes them (recognised once absolute, as OTA's engine does).
    pub fn clean_up(&mut self) {
        let mut links = Vec::new();
        let mut dropped = Vec::new();
        // Elements as `select_css` finds them: not those in a template's content.
        let mut in_template = 0usize;
        for edge in self.html.tree.root().traverse() {
            match edge {
                ego_tree::iter::Edge::Open(node) => match node.value() {
                    Node::Fragment => in_template += 1,
                    Node::Element(element) if in_template == 0 => match element.name() {
                        "a" if element.attr("href").is_some() => links.push(node.id()),
                        "script" | "style" => dropped.push(node.id()),
                        _ => {}
                    },
                    _ => {}
                },
                ego_tree::iter::Edge::Close(node) => {
                    if matches!(node.value(), Node::Fragment) {
                        in_template -= 1;
                    }
                }
            }
        }
        for id in links {
            let Some(raw) = self.attr(id, "href") else {
                continue;
            };
            if !raw.is_empty() && !raw.starts_with('#') {
                let resolved = self.base.join(raw).or_else(|_| self.location.join(raw));
                if let Ok(url) = resolved {
                    self.set_attr(id, "href", url.as_str());
                }
            }
            if self
                .attr(id, "href")
                .is_some_and(|href| href.contains("/email-protection"))
            {
                self.undo_email_protection(id);
            }
        }
        for id in dropped {
            self.detach(id);
        }
    }

    /// A Cloudflare e-mail obfuscation link: its fragment (the encoded address) and its content
    /// replaced by `[email protected]`.
    fn undo_email_protection(&mut self, id: NodeId) {
        let href = self.attr(id, "href").unwrap_or("");
        let href = href.split('#').next().unwrap_or("").to_string();
        self.set_attr(id, "href", &href);
        let Some(mut node) = self.html.tree.get_mut(id) else {
            return;
        };
        while let Some(mut child) = node.first_child() {
            child.detach();
        }
        node.append(Node::Text(Text {
            text: StrTendril::from("[email\u{A0}protected]"),
        }));
    }

    /// Removes insignificant content as OTA's engine does: every selector and range is resolved
    /// against the page as it stands, before anything is removed (a range may start after an
    /// element that another selector removes); then the ranges' contents are deleted, then the
    /// matched elements.
    pub fn remove(&mut self, selectors: &[Selector]) -> Result<()> {
        let mut nodes = Vec::new();
        let mut ranges = Vec::new();
        for selector in selectors {
            match selector {
                Selector::Css(css) => nodes.extend(self.select_css(css)?),
                Selector::Range(range) => {
                    let anchors = self.range_anchors(range)?;
                    ranges.push(self.range_bounds(range, anchors));
                }
            }
        }
        // Bounds are positions in the unmodified page: a range deleted first leaves the others'
        // positions as they were, as live DOM ranges adjust to the deletion.
        for bounds in ranges {
            self.delete_range(bounds);
        }
        for id in nodes {
            self.detach(id);
        }
        Ok(())
    }

    /// Copies the selected content into a fragment; fails when nothing is selected.
    pub fn select(&self, selectors: &[Selector]) -> Result<Fragment> {
        let mut fragment = Fragment::new();
        for selector in selectors {
            match selector {
                Selector::Css(css) => {
                    for id in self.select_css(css)? {
                        if let Some(node) = self.html.tree.get(id) {
                            copy_subtree(node, &mut fragment, Fragment::ROOT);
                        }
                    }
                }
                Selector::Range(range) => {
                    let anchors = self.range_anchors(range)?;
                    let bounds = self.range_bounds(range, anchors);
                    self.clone_range(bounds, &mut fragment);
                }
            }
        }
        if !fragment.has_element_children() {
            return Err(Error::NoMatch {
                selector: describe_selectors(selectors),
                url: self.location.to_string(),
            });
        }
        Ok(fragment)
    }

    /// The first matches of a range's start and end selectors.
    fn range_anchors(&self, range: &RangeSelector) -> Result<(NodeId, NodeId)> {
        let first = |end: &RangeEnd, which: &'static str| -> Result<NodeId> {
            self.select_css(&end.css)?
                .first()
                .copied()
                .ok_or_else(|| Error::RangeNoMatch {
                    end: which,
                    selector: end.css.clone(),
                    range: range.to_string(),
                    url: self.location.to_string(),
                })
        };
        Ok((first(&range.start, "start")?, first(&range.end, "end")?))
    }

    /// Numbers the open/close tokens of a document-order walk.
    fn token_positions(&self) -> HashMap<NodeId, (usize, usize)> {
        let mut positions = HashMap::new();
        for (counter, edge) in self.html.tree.root().traverse().enumerate() {
            match edge {
                ego_tree::iter::Edge::Open(node) => {
                    positions.insert(node.id(), (counter, 0));
                }
                ego_tree::iter::Edge::Close(node) => {
                    if let Some(entry) = positions.get_mut(&node.id()) {
                        entry.1 = counter;
                    }
                }
            }
        }
        positions
    }

    fn range_bounds(&self, range: &RangeSelector, (start, end): (NodeId, NodeId)) -> RangeBounds {
        let positions = self.token_positions();
        let gap = |id: NodeId, side: Side| {
            let (open, close) = positions.get(&id).copied().unwrap_or_default();
            match side {
                Side::Before => open,
                Side::After => close + 1,
            }
        };
        RangeBounds {
            start: gap(start, range.start.side),
            end: gap(end, range.end.side),
            positions,
        }
    }

    /// The deepest node whose inside holds both ends of the range.
    fn common_ancestor(&self, bounds: &RangeBounds) -> NodeId {
        let mut current = self.html.tree.root();
        'descend: loop {
            for child in current.children() {
                if bounds.holds(child.id(), bounds.start) && bounds.holds(child.id(), bounds.end) {
                    current = child;
                    continue 'descend;
                }
            }
            return current.id();
        }
    }

    fn clone_range(&self, bounds: RangeBounds, fragment: &mut Fragment) {
        if bounds.start >= bounds.end {
            return;
        }
        let ancestor = self.common_ancestor(&bounds);
        let mut stack: Vec<(NodeId, usize)> = vec![(ancestor, Fragment::ROOT)];
        while let Some((id, into)) = stack.pop() {
            let Some(node) = self.html.tree.get(id) else {
                continue;
            };
            let mut pending = Vec::new();
            for child in node.children() {
                if bounds.contains(child.id()) {
                    copy_subtree(child, fragment, into);
                } else if bounds.partially_contains(child.id()) {
                    let copy = copy_node(child, fragment, into);
                    pending.push((child.id(), copy));
                }
            }
            // Partially contained children are at most two (the start side and the end side);
            // the start side comes first in document order, and its copy is already placed.
            stack.extend(pending.into_iter().rev());
        }
    }

    fn delete_range(&mut self, bounds: RangeBounds) {
        if bounds.start >= bounds.end {
            return;
        }
        let ancestor = self.common_ancestor(&bounds);
        let mut doomed = Vec::new();
        let mut stack = vec![ancestor];
        while let Some(id) = stack.pop() {
            let Some(node) = self.html.tree.get(id) else {
                continue;
            };
            for child in node.children() {
                if bounds.contains(child.id()) {
                    doomed.push(child.id());
                } else if bounds.partially_contains(child.id()) {
                    stack.push(child.id());
                }
            }
        }
        for id in doomed {
            self.detach(id);
        }
    }
}

/// A range as two gaps of the token sequence (gap `g` lies just before token `g`).
struct RangeBounds {
    start: usize,
    end: usize,
    positions: HashMap<NodeId, (usize, usize)>,
}

impl RangeBounds {
    /// Whether gap `g` is inside node `id` (the node is an inclusive ancestor of that boundary's container).
    fn holds(&self, id: NodeId, gap: usize) -> bool {
        self.positions
            .get(&id)
            .is_some_and(|&(open, close)| open < gap && gap <= close)
    }

    fn contains(&self, id: NodeId) -> bool {
        self.positions
            .get(&id)
            .is_some_and(|&(open, close)| self.start <= open && close < self.end)
    }

    fn partially_contains(&self, id: NodeId) -> bool {
        self.holds(id, self.start) != self.holds(id, self.end)
    }
}

/// The attributes of an element that the conversion to Markdown reads (the others are not copied).
fn attributes(element: &scraper::node::Element) -> Vec<(String, String)> {
    element
        .attrs
        .iter()
        .filter(|(name, _)| {
            name.prefix.is_none()
                && crate::extract::markdown::RULE_ATTRIBUTES.contains(&name.local.as_ref())
        })
        .map(|(name, value)| {
            let name = match &name.prefix {
                Some(prefix) => format!("{prefix}:{}", name.local),
                None => name.local.to_string(),
            };
            (name, value.to_string())
        })
        .collect()
}

/// Copies one node (without children) under `parent`; returns the copy's id.
fn copy_node(node: NodeRef<'_, Node>, fragment: &mut Fragment, parent: usize) -> usize {
    match node.value() {
        Node::Element(element) => fragment.append_element(
            parent,
            &element.name.local,
            element.name.ns == ns!(html),
            attributes(element),
        ),
        Node::Text(text) => fragment.append_shared_text(parent, &text.text),
        _ => fragment.append_other(parent),
    }
}

/// Copies a node and its descendants (a template's contents are not its children, as in the DOM).
fn copy_subtree(node: NodeRef<'_, Node>, fragment: &mut Fragment, parent: usize) {
    let mut stack = vec![(node, parent)];
    while let Some((node, parent)) = stack.pop() {
        if matches!(node.value(), Node::Fragment) {
            continue;
        }
        let copy = copy_node(node, fragment, parent);
        stack.extend(node.children().rev().map(|child| (child, copy)));
    }
}

/// scraper's tree sink, with one difference that OTA's parser (jsdom) has: text
/// foster-parented out of a table is appended at the end of the table's parent
/// (after the table) unless it can join a text node just before the table.
/// Matching it keeps malformed tables byte-compatible with OTA's versions.
struct JsdomCompatibleSink(HtmlTreeSink);

impl html5ever::tree_builder::TreeSink for JsdomCompatibleSink {
    type Output = Html;
    type Handle = NodeId;
    type ElemName<'a> = std::cell::Ref<'a, QualName>;

    fn finish(self) -> Html {
        self.0.finish()
    }
    fn parse_error(&self, msg: std::borrow::Cow<'static, str>) {
        self.0.parse_error(msg);
    }
    fn set_quirks_mode(&self, mode: html5ever::tree_builder::QuirksMode) {
        self.0.set_quirks_mode(mode);
    }
    fn get_document(&self) -> NodeId {
        self.0.get_document()
    }
    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        self.0.same_node(x, y)
    }
    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Self::ElemName<'a> {
        self.0.elem_name(target)
    }
    fn create_element(
        &self,
        name: QualName,
        attrs: Vec<html5ever::Attribute>,
        flags: html5ever::tree_builder::ElementFlags,
    ) -> NodeId {
        self.0.create_element(name, attrs, flags)
    }
    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.0.create_comment(text)
    }
    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.0.create_pi(target, data)
    }
    fn append_doctype_to_document(
        &self,
        name: StrTendril,
        public_id: StrTendril,
        system_id: StrTendril,
    ) {
        self.0
            .append_doctype_to_document(name, public_id, system_id);
    }
    fn append(&self, parent: &NodeId, child: html5ever::tree_builder::NodeOrText<NodeId>) {
        self.0.append(parent, child);
    }
    fn append_before_sibling(
        &self,
        sibling: &NodeId,
        new_node: html5ever::tree_builder::NodeOrText<NodeId>,
    ) {
        use html5ever::tree_builder::NodeOrText;
        if let NodeOrText::AppendText(text) = &new_node {
            let mut html = self.0.0.borrow_mut();
            let Some(mut sibling_node) = html.tree.get_mut(*sibling) else {
                return;
            };
            let follows_text = sibling_node
                .prev_sibling()
                .is_some_and(|mut prev| matches!(prev.value(), Node::Text(_)));
            if !follows_text {
                let parent = sibling_node.parent().map(|p| p.id());
                if let Some(parent) = parent
                    && let Some(mut parent) = html.tree.get_mut(parent)
                {
                    parent.append(Node::Text(Text {
                        text: StrTendril::from(text.as_ref()),
                    }));
                }
                return;
            }
        }
        self.0.append_before_sibling(sibling, new_node);
    }
    fn append_based_on_parent_node(
        &self,
        element: &NodeId,
        prev_element: &NodeId,
        child: html5ever::tree_builder::NodeOrText<NodeId>,
    ) {
        let has_parent = self
            .0
            .0
            .borrow()
            .tree
            .get(*element)
            .is_some_and(|node| node.parent().is_some());
        if has_parent {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }
    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        self.0.get_template_contents(target)
    }
    fn remove_from_parent(&self, target: &NodeId) {
        self.0.remove_from_parent(target);
    }
    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        self.0.reparent_children(node, new_parent);
    }
    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<html5ever::Attribute>) {
        self.0.add_attrs_if_missing(target, attrs);
    }
}
