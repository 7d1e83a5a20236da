//! A small arena DOM built by html5ever's tree builder, with the traversals
//! the mf2 parser needs: element children, attributes, text content and
//! inner-HTML serialisation.
//!
//! Nodes live in one `Vec` and link to each other by index (parent, first and
//! last child, siblings), so every tree operation html5ever asks for is O(1)
//! and dropping the tree never recurses. Every traversal here is iterative;
//! only the mf2 walk in `parser.rs` recurses, and it caps its own depth.
//!
//! Text and HTML extraction draw on a per-document budget of node visits
//! (`WORK_PER_NODE` per node, plus a floor). Real pages spend a small part
//! of it; a page built to nest thousands of `e-*` properties would otherwise
//! cost time quadratic in its size. Once it is spent, texts and HTML come
//! out truncated (HTML stays well-formed) instead.

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};
use std::io;

use html5ever::serialize::{Serialize, SerializeOpts, Serializer, TraversalScope};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, LocalName, QualName, ns};

pub(super) type NodeId = usize;

/// The document node is always the first one.
pub(super) const DOCUMENT: NodeId = 0;

/// Node visits allowed per node of the document, for text and HTML.
const WORK_PER_NODE: usize = 32;

/// Node visits allowed whatever the document's size.
const WORK_FLOOR: usize = 1_000_000;

pub(super) enum NodeKind {
    Document,
    /// The contents of a `<template>`: kept apart from the element's children,
    /// as in the DOM, so that template contents are not parsed for mf2.
    Fragment,
    Doctype(String),
    Text(String),
    Comment(String),
    ProcessingInstruction {
        target: String,
        data: String,
    },
    Element(Element),
}

pub(super) struct Element {
    pub name: QualName,
    pub attrs: Vec<Attribute>,
    pub template_contents: Option<NodeId>,
}

struct Node {
    parent: Option<NodeId>,
    first_child: Option<NodeId>,
    last_child: Option<NodeId>,
    prev: Option<NodeId>,
    next: Option<NodeId>,
    kind: NodeKind,
}

/// A parsed HTML document.
pub(super) struct Dom {
    nodes: Vec<Node>,
    /// Given as the name of a non-element, which html5ever never asks for.
    placeholder: QualName,
    /// Node visits left for text and HTML extraction.
    budget: Cell<usize>,
}

/// Which parts of an element's text [`Dom::text`] keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TextMode {
    /// Every descendant text node (the DOM's `textContent`).
    Raw,
    /// Without `<script>` and `<style>` contents.
    NoScript,
    /// As `NoScript`, and an `<img>` becomes its `alt` text.
    ImgAlt,
    /// As `NoScript`, and an `<img>` becomes its `alt` text, or else its
    /// resolved `src` with a space either side.
    ImgAltOrSrc,
}

impl Dom {
    /// Parses a whole document. html5ever recovers from any input.
    pub fn parse(html: &str) -> Dom {
        let sink = Sink {
            dom: RefCell::new(Dom {
                nodes: vec![Node::new(NodeKind::Document)],
                placeholder: QualName::new(None, ns!(), LocalName::from("")),
                budget: Cell::new(0),
            }),
        };
        let dom = html5ever::parse_document(sink, Default::default()).one(StrTendril::from(html));
        dom.budget.set(
            dom.nodes
                .len()
                .saturating_mul(WORK_PER_NODE)
                .saturating_add(WORK_FLOOR),
        );
        dom
    }

    /// Takes one node visit from the budget; `false` once it is spent.
    pub fn spend(&self) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(1));
        left > 0
    }

    fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub fn kind(&self, id: NodeId) -> &NodeKind {
        &self.node(id).kind
    }

    pub fn element(&self, id: NodeId) -> Option<&Element> {
        match &self.node(id).kind {
            NodeKind::Element(e) => Some(e),
            _ => None,
        }
    }

    /// The local name of an HTML element (lower case), or `""` for anything
    /// else (SVG and MathML elements included): tag-specific mf2 rules only
    /// apply to HTML elements.
    pub fn tag(&self, id: NodeId) -> &str {
        match self.element(id) {
            Some(e) if e.name.ns == ns!(html) => &e.name.local,
            _ => "",
        }
    }

    /// An attribute without namespace, by its (lower case) name.
    pub fn attr(&self, id: NodeId, name: &str) -> Option<&str> {
        self.element(id)?
            .attrs
            .iter()
            .find(|a| a.name.ns == ns!() && &*a.name.local == name)
            .map(|a| &*a.value)
    }

    pub fn children(&self, id: NodeId) -> Children<'_> {
        Children {
            dom: self,
            next: self.node(id).first_child,
        }
    }

    /// The element children of a node, in order.
    pub fn element_children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id).filter(|&c| self.element(c).is_some())
    }

    /// All elements below `root` in document order, not entering
    /// `<template>` contents.
    pub fn descendant_elements(&self, root: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack = self.children_reversed(root);
        while let Some(n) = stack.pop() {
            if self.element(n).is_some() {
                out.push(n);
                stack.extend(self.children_reversed(n));
            }
        }
        out
    }

    fn children_reversed(&self, id: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut cur = self.node(id).last_child;
        while let Some(c) = cur {
            out.push(c);
            cur = self.node(c).prev;
        }
        out
    }

    /// The text of an element's descendants, per `mode`, untrimmed. `resolve`
    /// turns an `<img src>` into an absolute URL (for `ImgAltOrSrc`).
    pub fn text(&self, root: NodeId, mode: TextMode, resolve: &dyn Fn(&str) -> String) -> String {
        let mut out = String::new();
        let mut stack = self.children_reversed(root);
        while let Some(n) = stack.pop() {
            if !self.spend() {
                break;
            }
            match &self.node(n).kind {
                NodeKind::Text(t) => out.push_str(t),
                NodeKind::Element(_) => {
                    let tag = self.tag(n);
                    if mode != TextMode::Raw && matches!(tag, "script" | "style") {
                        continue;
                    }
                    if tag == "img" && matches!(mode, TextMode::ImgAlt | TextMode::ImgAltOrSrc) {
                        if let Some(alt) = self.attr(n, "alt") {
                            out.push_str(alt);
                        } else if let (TextMode::ImgAltOrSrc, Some(src)) =
                            (mode, self.attr(n, "src"))
                        {
                            out.push(' ');
                            out.push_str(&resolve(src));
                            out.push(' ');
                        }
                        continue;
                    }
                    stack.extend(self.children_reversed(n));
                }
                _ => {}
            }
        }
        out
    }

    /// The inner HTML of an element, serialised by the HTML fragment
    /// serialisation algorithm (text escaped as `&amp;`, `&lt;`, `&gt;`,
    /// `&nbsp;`; attribute values also `&quot;`), with each attribute that
    /// holds a URL passed through `resolve`.
    pub fn inner_html(&self, id: NodeId, resolve: &dyn Fn(&str) -> String) -> String {
        let Some(element) = self.element(id) else {
            return String::new();
        };
        let opts = SerializeOpts {
            scripting_enabled: true,
            traversal_scope: TraversalScope::ChildrenOnly(Some(element.name.clone())),
            create_missing_parent: true,
        };
        let mut out = Vec::new();
        let root = InnerHtml {
            dom: self,
            root: id,
            resolve,
        };
        // Writing to a Vec cannot fail, and the serializer only fails on
        // write errors.
        let _ = html5ever::serialize::serialize(&mut out, &root, opts);
        match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    }

    // Tree mutation, for the sink.

    fn push(&mut self, kind: NodeKind) -> NodeId {
        self.nodes.push(Node::new(kind));
        self.nodes.len() - 1
    }

    fn detach(&mut self, id: NodeId) {
        let (parent, prev, next) = {
            let n = &self.nodes[id];
            (n.parent, n.prev, n.next)
        };
        let Some(parent) = parent else { return };
        match prev {
            Some(p) => self.nodes[p].next = next,
            None => self.nodes[parent].first_child = next,
        }
        match next {
            Some(n) => self.nodes[n].prev = prev,
            None => self.nodes[parent].last_child = prev,
        }
        let n = &mut self.nodes[id];
        n.parent = None;
        n.prev = None;
        n.next = None;
    }

    fn append_child(&mut self, parent: NodeId, child: NodeId) {
        if self.would_cycle(child, parent) {
            return;
        }
        self.detach(child);
        let last = self.nodes[parent].last_child;
        {
            let c = &mut self.nodes[child];
            c.parent = Some(parent);
            c.prev = last;
        }
        match last {
            Some(l) => self.nodes[l].next = Some(child),
            None => self.nodes[parent].first_child = Some(child),
        }
        self.nodes[parent].last_child = Some(child);
    }

    fn insert_before(&mut self, sibling: NodeId, child: NodeId) {
        let Some(parent) = self.nodes[sibling].parent else {
            return;
        };
        if child == sibling || self.would_cycle(child, parent) {
            return;
        }
        self.detach(child);
        let prev = self.nodes[sibling].prev;
        {
            let c = &mut self.nodes[child];
            c.parent = Some(parent);
            c.prev = prev;
            c.next = Some(sibling);
        }
        self.nodes[sibling].prev = Some(child);
        match prev {
            Some(p) => self.nodes[p].next = Some(child),
            None => self.nodes[parent].first_child = Some(child),
        }
    }

    /// Whether making `child` a child of `parent` would make a node its own
    /// ancestor. html5ever never asks for that, but a cycle would hang every
    /// traversal, so it is refused. A node without children (a fresh one, the
    /// common case) is checked in O(1).
    fn would_cycle(&self, child: NodeId, parent: NodeId) -> bool {
        child == parent
            || (self.nodes[child].first_child.is_some() && self.is_ancestor_or_self(child, parent))
    }

    fn is_ancestor_or_self(&self, ancestor: NodeId, mut node: NodeId) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match self.nodes[node].parent {
                Some(p) => node = p,
                None => return false,
            }
        }
    }

    fn append_text(&mut self, parent: NodeId, text: &str) {
        if let Some(last) = self.nodes[parent].last_child
            && let NodeKind::Text(t) = &mut self.nodes[last].kind
        {
            t.push_str(text);
            return;
        }
        let t = self.push(NodeKind::Text(text.to_owned()));
        self.append_child(parent, t);
    }

    fn insert_text_before(&mut self, sibling: NodeId, text: &str) {
        if let Some(prev) = self.nodes[sibling].prev
            && let NodeKind::Text(t) = &mut self.nodes[prev].kind
        {
            t.push_str(text);
            return;
        }
        let t = self.push(NodeKind::Text(text.to_owned()));
        self.insert_before(sibling, t);
    }
}

impl Node {
    fn new(kind: NodeKind) -> Node {
        Node {
            parent: None,
            first_child: None,
            last_child: None,
            prev: None,
            next: None,
            kind,
        }
    }
}

pub(super) struct Children<'a> {
    dom: &'a Dom,
    next: Option<NodeId>,
}

impl Iterator for Children<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        let cur = self.next?;
        self.next = self.dom.node(cur).next;
        Some(cur)
    }
}

/// Attributes whose value is a URL, resolved in `e-*` HTML.
fn is_url_attribute(tag: &str, attr: &str) -> bool {
    match attr {
        "href" | "src" | "cite" | "action" | "formaction" | "longdesc" | "poster" => true,
        "data" => tag == "object",
        _ => false,
    }
}

/// Resolves each URL of a `srcset` ("url [descriptor], url [descriptor]").
fn resolve_srcset(value: &str, resolve: &dyn Fn(&str) -> String) -> String {
    value
        .split(',')
        .map(|candidate| {
            let candidate = candidate.trim_matches(super::parser::is_html_space);
            match candidate.split_once(super::parser::is_html_space) {
                Some((url, descriptor)) => format!(
                    "{} {}",
                    resolve(url),
                    descriptor.trim_matches(super::parser::is_html_space)
                ),
                None if candidate.is_empty() => String::new(),
                None => resolve(candidate),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

struct InnerHtml<'a> {
    dom: &'a Dom,
    root: NodeId,
    resolve: &'a dyn Fn(&str) -> String,
}

enum Step {
    Open(NodeId),
    Close(QualName),
}

impl InnerHtml<'_> {
    /// The children to serialise for a node: a template's contents, or its
    /// own children.
    fn content_children(&self, id: NodeId) -> Vec<NodeId> {
        let source = match self.dom.element(id) {
            Some(Element {
                template_contents: Some(t),
                ..
            }) => *t,
            _ => id,
        };
        self.dom.children_reversed(source)
    }
}

impl Serialize for InnerHtml<'_> {
    fn serialize<S: Serializer>(
        &self,
        serializer: &mut S,
        _scope: TraversalScope,
    ) -> io::Result<()> {
        let mut stack: Vec<Step> = self
            .content_children(self.root)
            .into_iter()
            .map(Step::Open)
            .collect();
        while let Some(step) = stack.pop() {
            let id = match step {
                Step::Close(name) => {
                    serializer.end_elem(name)?;
                    continue;
                }
                Step::Open(id) if self.dom.spend() => id,
                Step::Open(_) => continue,
            };
            match self.dom.kind(id) {
                NodeKind::Element(e) => {
                    let tag = self.dom.tag(id);
                    let attrs: Vec<(&QualName, Cow<'_, str>)> = e
                        .attrs
                        .iter()
                        .map(|a| {
                            let name = &*a.name.local;
                            let value = if a.name.ns != ns!() {
                                Cow::Borrowed(&*a.value)
                            } else if is_url_attribute(tag, name) {
                                Cow::Owned((self.resolve)(&a.value))
                            } else if name == "srcset" {
                                Cow::Owned(resolve_srcset(&a.value, self.resolve))
                            } else {
                                Cow::Borrowed(&*a.value)
                            };
                            (&a.name, value)
                        })
                        .collect();
                    serializer
                        .start_elem(e.name.clone(), attrs.iter().map(|(n, v)| (*n, v.as_ref())))?;
                    stack.push(Step::Close(e.name.clone()));
                    stack.extend(self.content_children(id).into_iter().map(Step::Open));
                }
                NodeKind::Text(t) => serializer.write_text(t)?,
                NodeKind::Comment(t) => serializer.write_comment(t)?,
                NodeKind::Doctype(name) => serializer.write_doctype(name)?,
                NodeKind::ProcessingInstruction { target, data } => {
                    serializer.write_processing_instruction(target, data)?
                }
                NodeKind::Document | NodeKind::Fragment => {}
            }
        }
        Ok(())
    }
}

/// html5ever's tree builder writes through this.
struct Sink {
    dom: RefCell<Dom>,
}

impl TreeSink for Sink {
    type Handle = NodeId;
    type Output = Dom;
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Dom {
        self.dom.into_inner()
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> NodeId {
        DOCUMENT
    }

    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Ref<'a, QualName> {
        Ref::map(self.dom.borrow(), |dom| match &dom.nodes[*target].kind {
            NodeKind::Element(e) => &e.name,
            _ => &dom.placeholder,
        })
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        let mut dom = self.dom.borrow_mut();
        let template_contents = flags.template.then(|| dom.push(NodeKind::Fragment));
        dom.push(NodeKind::Element(Element {
            name,
            attrs,
            template_contents,
        }))
    }

    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.dom
            .borrow_mut()
            .push(NodeKind::Comment(text.to_string()))
    }

    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.dom.borrow_mut().push(NodeKind::ProcessingInstruction {
            target: target.to_string(),
            data: data.to_string(),
        })
    }

    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        let mut dom = self.dom.borrow_mut();
        match child {
            NodeOrText::AppendNode(n) => dom.append_child(*parent, n),
            NodeOrText::AppendText(t) => dom.append_text(*parent, &t),
        }
    }

    fn append_based_on_parent_node(
        &self,
        element: &NodeId,
        prev_element: &NodeId,
        child: NodeOrText<NodeId>,
    ) {
        let has_parent = self.dom.borrow().nodes[*element].parent.is_some();
        if has_parent {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(
        &self,
        name: StrTendril,
        _public_id: StrTendril,
        _system_id: StrTendril,
    ) {
        let mut dom = self.dom.borrow_mut();
        let d = dom.push(NodeKind::Doctype(name.to_string()));
        dom.append_child(DOCUMENT, d);
    }

    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        match &self.dom.borrow().nodes[*target].kind {
            NodeKind::Element(Element {
                template_contents: Some(t),
                ..
            }) => *t,
            _ => *target,
        }
    }

    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        x == y
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        let mut dom = self.dom.borrow_mut();
        match new_node {
            NodeOrText::AppendNode(n) => dom.insert_before(*sibling, n),
            NodeOrText::AppendText(t) => dom.insert_text_before(*sibling, &t),
        }
    }

    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<Attribute>) {
        let mut dom = self.dom.borrow_mut();
        if let NodeKind::Element(e) = &mut dom.nodes[*target].kind {
            for attr in attrs {
                if !e.attrs.iter().any(|a| a.name == attr.name) {
                    e.attrs.push(attr);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &NodeId) {
        self.dom.borrow_mut().detach(*target);
    }

    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        let mut dom = self.dom.borrow_mut();
        while let Some(child) = dom.nodes[*node].first_child {
            dom.detach(child);
            dom.append_child(*new_parent, child);
        }
    }
}
