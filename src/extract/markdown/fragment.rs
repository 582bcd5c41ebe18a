//! The [`Fragment`]: a small mutable DOM (an arena of nodes with sibling links) holding copies
//! of the selected nodes, which the conversion rules read and whitespace collapsing edits.

use std::borrow::Cow;

use html5ever::tendril::StrTendril;

/// Index of a node in a [`Fragment`].
pub type NodeId = usize;

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Root,
    Element(Element),
    /// A text node's data: shared with the parsed page's text rather than copied (a tendril is
    /// reference-counted; the few texts that whitespace collapsing changes get a buffer of
    /// their own).
    Text(StrTendril),
    /// Comments and anything else that is neither text nor element.
    Other,
}

#[derive(Debug, Clone)]
pub(crate) struct Element {
    /// As the DOM's `nodeName`: upper case for HTML elements, as written otherwise (SVG, MathML).
    pub(crate) node_name: Cow<'static, str>,
    pub(crate) attrs: Vec<(String, String)>,
    /// What turndown asks of the name, worked out once ([`Element::BLOCK`] …): the rules ask
    /// it of every node, often several times.
    pub(crate) flags: u8,
}

impl Element {
    /// turndown's block elements.
    pub(crate) const BLOCK: u8 = 1;
    /// turndown's void elements.
    pub(crate) const VOID: u8 = 2;
    /// Elements that count even when blank.
    pub(crate) const MEANINGFUL_WHEN_BLANK: u8 = 4;
    /// `<pre>`.
    pub(crate) const PRE: u8 = 8;
    /// `<br>`.
    pub(crate) const BR: u8 = 16;
    /// `<table>`.
    pub(crate) const TABLE: u8 = 32;

    fn flags_of(node_name: &str) -> u8 {
        let mut flags = 0;
        if matches!(
            node_name,
            "ADDRESS"
                | "ARTICLE"
                | "ASIDE"
                | "AUDIO"
                | "BLOCKQUOTE"
                | "BODY"
                | "CANVAS"
                | "CENTER"
                | "DD"
                | "DIR"
                | "DIV"
                | "DL"
                | "DT"
                | "FIELDSET"
                | "FIGCAPTION"
                | "FIGURE"
                | "FOOTER"
                | "FORM"
                | "FRAMESET"
                | "H1"
                | "H2"
                | "H3"
                | "H4"
                | "H5"
                | "H6"
                | "HEADER"
                | "HGROUP"
                | "HR"
                | "HTML"
                | "ISINDEX"
                | "LI"
                | "MAIN"
                | "MENU"
                | "NAV"
                | "NOFRAMES"
                | "NOSCRIPT"
                | "OL"
                | "OUTPUT"
                | "P"
                | "PRE"
                | "SECTION"
                | "TABLE"
                | "TBODY"
                | "TD"
                | "TFOOT"
                | "TH"
                | "THEAD"
                | "TR"
                | "UL"
        ) {
            flags |= Self::BLOCK;
        }
        if matches!(
            node_name,
            "AREA"
                | "BASE"
                | "BR"
                | "COL"
                | "COMMAND"
                | "EMBED"
                | "HR"
                | "IMG"
                | "INPUT"
                | "KEYGEN"
                | "LINK"
                | "META"
                | "PARAM"
                | "SOURCE"
                | "TRACK"
                | "WBR"
        ) {
            flags |= Self::VOID;
        }
        if matches!(
            node_name,
            "A" | "TABLE"
                | "THEAD"
                | "TBODY"
                | "TFOOT"
                | "TH"
                | "TD"
                | "IFRAME"
                | "SCRIPT"
                | "AUDIO"
                | "VIDEO"
        ) {
            flags |= Self::MEANINGFUL_WHEN_BLANK;
        }
        match node_name {
            "PRE" => flags |= Self::PRE,
            "BR" => flags |= Self::BR,
            "TABLE" => flags |= Self::TABLE,
            _ => {}
        }
        flags
    }
}

/// An HTML element's `nodeName`: its name in upper case, without allocating for the common ones
/// (a page has thousands of elements, nearly all of a few dozen names).
fn upper_case_name(local_name: &str) -> Cow<'static, str> {
    Cow::Borrowed(match local_name {
        "a" => "A",
        "abbr" => "ABBR",
        "article" => "ARTICLE",
        "aside" => "ASIDE",
        "b" => "B",
        "blockquote" => "BLOCKQUOTE",
        "body" => "BODY",
        "br" => "BR",
        "button" => "BUTTON",
        "caption" => "CAPTION",
        "code" => "CODE",
        "dd" => "DD",
        "div" => "DIV",
        "dl" => "DL",
        "dt" => "DT",
        "em" => "EM",
        "figure" => "FIGURE",
        "footer" => "FOOTER",
        "h1" => "H1",
        "h2" => "H2",
        "h3" => "H3",
        "h4" => "H4",
        "h5" => "H5",
        "h6" => "H6",
        "header" => "HEADER",
        "hr" => "HR",
        "i" => "I",
        "img" => "IMG",
        "input" => "INPUT",
        "label" => "LABEL",
        "li" => "LI",
        "main" => "MAIN",
        "nav" => "NAV",
        "ol" => "OL",
        "p" => "P",
        "pre" => "PRE",
        "section" => "SECTION",
        "small" => "SMALL",
        "span" => "SPAN",
        "strong" => "STRONG",
        "sub" => "SUB",
        "sup" => "SUP",
        "svg" => "SVG",
        "table" => "TABLE",
        "tbody" => "TBODY",
        "td" => "TD",
        "th" => "TH",
        "thead" => "THEAD",
        "tr" => "TR",
        "u" => "U",
        "ul" => "UL",
        _ => return Cow::Owned(local_name.to_ascii_uppercase()),
    })
}

/// The attributes turndown's rules (and OTA's) read: the only ones a fragment copied from a
/// page needs to hold.
pub(crate) const RULE_ATTRIBUTES: &[&str] = &[
    "href", "title", "type", "checked", "class", "alt", "src", "start", "colspan",
];

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    pub(crate) parent: Option<NodeId>,
    pub(crate) first_child: Option<NodeId>,
    pub(crate) last_child: Option<NodeId>,
    pub(crate) prev: Option<NodeId>,
    pub(crate) next: Option<NodeId>,
}

/// A document fragment to convert: the root and copies of the selected nodes.
#[derive(Debug, Clone)]
pub struct Fragment {
    pub(crate) nodes: Vec<Node>,
}

impl Default for Fragment {
    fn default() -> Self {
        Self::new()
    }
}

impl Fragment {
    /// The root node, to which selected nodes are appended.
    pub const ROOT: NodeId = 0;

    /// An empty fragment.
    pub fn new() -> Self {
        Fragment {
            nodes: vec![Node {
                kind: Kind::Root,
                parent: None,
                first_child: None,
                last_child: None,
                prev: None,
                next: None,
            }],
        }
    }

    pub(crate) fn append(&mut self, parent: NodeId, kind: Kind) -> NodeId {
        let id = self.nodes.len();
        let prev = self.nodes[parent].last_child;
        self.nodes.push(Node {
            kind,
            parent: Some(parent),
            first_child: None,
            last_child: None,
            prev,
            next: None,
        });
        match prev {
            Some(prev) => self.nodes[prev].next = Some(id),
            None => self.nodes[parent].first_child = Some(id),
        }
        self.nodes[parent].last_child = Some(id);
        id
    }

    /// Appends an element. `html` says whether it is in the HTML namespace (its
    /// `nodeName` is then upper case).
    pub fn append_element(
        &mut self,
        parent: NodeId,
        local_name: &str,
        html: bool,
        attrs: Vec<(String, String)>,
    ) -> NodeId {
        let node_name = if html {
            upper_case_name(local_name)
        } else {
            Cow::Owned(local_name.to_string())
        };
        let flags = Element::flags_of(&node_name);
        self.append(
            parent,
            Kind::Element(Element {
                node_name,
                attrs,
                flags,
            }),
        )
    }

    /// Appends a text node.
    pub fn append_text(&mut self, parent: NodeId, text: &str) -> NodeId {
        self.append(parent, Kind::Text(StrTendril::from_slice(text)))
    }

    /// Appends a text node that shares `text`'s buffer (a page's text, selected).
    pub(crate) fn append_shared_text(&mut self, parent: NodeId, text: &StrTendril) -> NodeId {
        self.append(parent, Kind::Text(text.clone()))
    }

    /// Appends a comment (or any node that is neither element nor text).
    pub fn append_other(&mut self, parent: NodeId) -> NodeId {
        self.append(parent, Kind::Other)
    }

    /// Whether the root has element children (OTA's "has a match" test).
    pub fn has_element_children(&self) -> bool {
        self.children(Self::ROOT)
            .any(|c| matches!(self.nodes[c].kind, Kind::Element(_)))
    }

    /// Whether the root has any child.
    pub fn is_empty(&self) -> bool {
        self.nodes[Self::ROOT].first_child.is_none()
    }

    pub(crate) fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        std::iter::successors(self.nodes[id].first_child, move |&c| self.nodes[c].next)
    }

    pub(crate) fn detach(&mut self, id: NodeId) {
        let Node {
            parent, prev, next, ..
        } = self.nodes[id];
        let Some(parent) = parent else { return };
        match prev {
            Some(prev) => self.nodes[prev].next = next,
            None => self.nodes[parent].first_child = next,
        }
        match next {
            Some(next) => self.nodes[next].prev = prev,
            None => self.nodes[parent].last_child = prev,
        }
        let node = &mut self.nodes[id];
        node.parent = None;
        node.prev = None;
        node.next = None;
    }

    pub(crate) fn name(&self, id: NodeId) -> &str {
        match &self.nodes[id].kind {
            Kind::Element(e) => &e.node_name,
            Kind::Text(_) => "#text",
            Kind::Root => "#document-fragment",
            Kind::Other => "#comment",
        }
    }

    pub(crate) fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        debug_assert!(
            RULE_ATTRIBUTES.contains(&name),
            "{name} is read by a rule: add it to RULE_ATTRIBUTES"
        );
        match &self.nodes[id].kind {
            Kind::Element(e) => e
                .attrs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }

    /// Whether the node is an element with any of these [`Element`] flags.
    pub(crate) fn has_flag(&self, id: NodeId, flag: u8) -> bool {
        matches!(&self.nodes[id].kind, Kind::Element(e) if e.flags & flag != 0)
    }

    pub(crate) fn is_element(&self, id: NodeId) -> bool {
        matches!(self.nodes[id].kind, Kind::Element(_))
    }

    pub(crate) fn text_content(&self, id: NodeId, out: &mut String) {
        match &self.nodes[id].kind {
            Kind::Text(t) => out.push_str(t),
            Kind::Element(_) | Kind::Root => {
                for child in self.children(id) {
                    self.text_content(child, out);
                }
            }
            Kind::Other => {}
        }
    }
}
