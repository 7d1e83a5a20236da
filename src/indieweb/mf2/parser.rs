//! The microformats2 parsing algorithm over the arena DOM: root class
//! detection, `p-`/`u-`/`dt-`/`e-` properties, the value-class pattern,
//! nested items, implied `name`/`photo`/`url`, and `rel` links.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use url::Url;

use super::datetime;
use super::dom::{DOCUMENT, Dom, NodeId, TextMode};
use super::{Document, Item, Limits, Mf2Error, PropertyValue, RelUrl};

/// How deep the mf2 walk goes into the element tree. Deeper elements are
/// ignored, so that no input can exhaust the stack; real pages stay far
/// below this.
const MAX_DEPTH: usize = 256;

/// HTML's ASCII whitespace, which separates class names and is trimmed from
/// values.
pub(super) fn is_html_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0C')
}

fn trim(s: &str) -> &str {
    s.trim_matches(is_html_space)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    P,
    U,
    Dt,
    E,
    /// An implied `name`, `photo` or `url`.
    Implied,
}

/// The mf2 class names of an element.
#[derive(Default)]
struct Classes {
    roots: Vec<String>,
    properties: Vec<(Kind, String)>,
    value: bool,
    value_title: bool,
}

/// `([a-z0-9]+-)?[a-z]+(-[a-z]+)*`: a microformat or property name after its
/// prefix, with an optional vendor prefix.
fn is_valid_name(name: &str) -> bool {
    let segments: Vec<&str> = name.split('-').collect();
    let lower = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    let Some((first, rest)) = segments.split_first() else {
        return false;
    };
    if !rest.iter().all(|s| lower(s)) {
        return false;
    }
    lower(first)
        || (!rest.is_empty()
            && !first.is_empty()
            && first
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

struct Parser<'a> {
    dom: &'a Dom,
    base: Url,
    budget: Budget,
}

/// What the walk may still spend: items (each use of a nested item counts
/// its whole tree again, as the JSON repeats it) and time.
struct Budget {
    limits: Limits,
    items_left: Cell<usize>,
    deadline: Instant,
    exceeded: Cell<Option<Mf2Error>>,
}

impl Budget {
    fn new(limits: Limits) -> Self {
        Budget {
            limits,
            items_left: Cell::new(limits.max_items),
            deadline: Instant::now() + limits.max_time,
            exceeded: Cell::new(None),
        }
    }

    /// `false` once a limit was reached (checking the clock).
    fn alive(&self) -> bool {
        if self.exceeded.get().is_some() {
            return false;
        }
        if Instant::now() > self.deadline {
            self.exceeded
                .set(Some(Mf2Error::TooSlow(self.limits.max_time)));
            return false;
        }
        true
    }

    /// Takes `n` items; `false` (and the walk stops) when there are not
    /// that many left.
    fn take(&self, n: usize) -> bool {
        match self.items_left.get().checked_sub(n) {
            Some(left) if self.exceeded.get().is_none() => {
                self.items_left.set(left);
                true
            }
            _ => {
                if self.exceeded.get().is_none() {
                    self.exceeded
                        .set(Some(Mf2Error::TooManyItems(self.limits.max_items)));
                }
                false
            }
        }
    }
}

/// An item's properties while it is being parsed, in document order, each
/// with the kind of class it came from.
#[derive(Default)]
struct Builder {
    properties: Vec<(String, Kind, PropertyValue)>,
    children: Vec<Item>,
    has_p_or_e: bool,
    has_u: bool,
    has_nested: bool,
    /// The date of the latest `dt-*` property, for later time-only ones.
    last_date: Option<String>,
    /// Items below this one, each use counted (see [`Budget`]).
    weight: usize,
}

impl Builder {
    fn has(&self, name: &str) -> bool {
        self.properties.iter().any(|(n, ..)| n == name)
    }

    /// Records that a property of this kind was found, for the implied
    /// properties' conditions.
    fn note(&mut self, kind: Kind) {
        match kind {
            Kind::P | Kind::E => self.has_p_or_e = true,
            Kind::U => self.has_u = true,
            Kind::Dt | Kind::Implied => {}
        }
    }
}

/// A parsed item and what a parent needs to know for its `value`.
struct Parsed {
    item: Item,
    /// The first `name` that came from a `p-*` class or was implied.
    p_name: Option<String>,
    /// The first `url` that came from a `u-*` class or was implied.
    u_url: Option<(String, Option<String>)>,
    /// The item and everything below it, each use counted.
    weight: usize,
}

pub(super) fn parse_document(
    dom: &Dom,
    page_url: &Url,
    limits: Limits,
) -> Result<Document, Mf2Error> {
    let base = document_base(dom, page_url);
    let parser = Parser {
        dom,
        base,
        budget: Budget::new(limits),
    };
    let mut items = Vec::new();
    parser.find_items(DOCUMENT, 0, &mut items);
    if let Some(error) = parser.budget.exceeded.get() {
        return Err(error);
    }
    let (rels, rel_urls) = parser.rels();
    Ok(Document {
        items,
        rels,
        rel_urls,
    })
}

/// The first `<base href>`, resolved against the page URL.
fn document_base(dom: &Dom, page_url: &Url) -> Url {
    dom.descendant_elements(DOCUMENT)
        .into_iter()
        .find(|&e| dom.tag(e) == "base" && dom.attr(e, "href").is_some())
        .and_then(|e| page_url.join(dom.attr(e, "href")?).ok())
        .unwrap_or_else(|| page_url.clone())
}

impl Parser<'_> {
    /// Resolves a URL against the document base. A URL that is already
    /// absolute is kept as written (only trimmed), as the test suite and the
    /// reference parsers do; one that cannot be resolved is kept as is.
    fn resolve(&self, raw: &str) -> String {
        let raw = trim(raw);
        if Url::parse(raw).is_ok() {
            return raw.to_owned();
        }
        match self.base.join(raw) {
            Ok(u) => u.into(),
            Err(_) => raw.to_owned(),
        }
    }

    fn text(&self, id: NodeId, mode: TextMode) -> String {
        self.dom.text(id, mode, &|s| self.resolve(s))
    }

    fn classes(&self, id: NodeId) -> Classes {
        let mut c = Classes::default();
        let Some(attr) = self.dom.attr(id, "class") else {
            return c;
        };
        for class in attr.split(is_html_space).filter(|s| !s.is_empty()) {
            match class {
                "value" => c.value = true,
                "value-title" => c.value_title = true,
                _ => {}
            }
            let Some((prefix, name)) = class.split_once('-') else {
                continue;
            };
            if !is_valid_name(name) {
                continue;
            }
            let kind = match prefix {
                "h" => {
                    if !c.roots.iter().any(|r| r == class) {
                        c.roots.push(class.to_owned());
                    }
                    continue;
                }
                "p" => Kind::P,
                "u" => Kind::U,
                "dt" => Kind::Dt,
                "e" => Kind::E,
                _ => continue,
            };
            c.properties.push((kind, name.to_owned()));
        }
        c.roots.sort();
        c
    }

    /// Element children that take part in parsing: everything but
    /// `<template>`, whose contents are inert.
    fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.dom
            .element_children(id)
            .filter(|&c| self.dom.tag(c) != "template")
    }

    fn find_items(&self, id: NodeId, depth: usize, out: &mut Vec<Item>) {
        if depth > MAX_DEPTH {
            return;
        }
        for child in self.children(id) {
            if !self.budget.alive() {
                return;
            }
            let classes = self.classes(child);
            if classes.roots.is_empty() {
                self.find_items(child, depth + 1, out);
            } else {
                out.push(self.parse_item(child, classes.roots, depth).item);
            }
        }
    }

    fn parse_item(&self, id: NodeId, types: Vec<String>, depth: usize) -> Parsed {
        let mut b = Builder::default();
        self.budget.take(1);
        self.parse_properties(id, depth + 1, &mut b);

        if !b.has("name") && !b.has_p_or_e && !b.has_nested {
            let name = self.implied_name(id);
            b.properties
                .push(("name".into(), Kind::Implied, PropertyValue::Text(name)));
        }
        if !b.has("photo")
            && !b.has_u
            && !b.has_nested
            && let Some((value, alt)) = self.implied_photo(id)
        {
            b.properties.push((
                "photo".into(),
                Kind::Implied,
                PropertyValue::Url { value, alt },
            ));
        }
        if !b.has("url")
            && !b.has_u
            && !b.has_nested
            && let Some(value) = self.implied_url(id)
        {
            b.properties.push((
                "url".into(),
                Kind::Implied,
                PropertyValue::Url { value, alt: None },
            ));
        }

        let p_name = b
            .properties
            .iter()
            .find_map(|(n, k, v)| match (n.as_str(), k, v) {
                ("name", Kind::P | Kind::Implied, PropertyValue::Text(t)) => Some(t.clone()),
                _ => None,
            });
        let u_url = b
            .properties
            .iter()
            .find_map(|(n, k, v)| match (n.as_str(), k, v) {
                ("url", Kind::U | Kind::Implied, PropertyValue::Url { value, alt }) => {
                    Some((value.clone(), alt.clone()))
                }
                _ => None,
            });

        let mut properties: BTreeMap<String, Vec<PropertyValue>> = BTreeMap::new();
        for (name, _, value) in b.properties {
            properties.entry(name).or_default().push(value);
        }
        let id_attr = self
            .dom
            .attr(id, "id")
            .map(trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        Parsed {
            item: Item {
                types,
                properties: Arc::new(properties),
                children: Arc::new(b.children),
                id: id_attr,
                position: id,
                ..Item::default()
            },
            p_name,
            u_url,
            weight: b.weight + 1,
        }
    }

    fn parse_properties(&self, id: NodeId, depth: usize, b: &mut Builder) {
        if depth > MAX_DEPTH {
            return;
        }
        for child in self.children(id) {
            if !self.budget.alive() {
                return;
            }
            let classes = self.classes(child);
            if !classes.roots.is_empty() {
                let Parsed {
                    item: mut nested,
                    p_name,
                    u_url,
                    weight,
                } = self.parse_item(child, classes.roots, depth);
                b.has_nested = true;
                if classes.properties.is_empty() {
                    b.children.push(nested);
                    b.weight += weight;
                    continue;
                }
                let mut remaining = classes.properties.len();
                for (index, (kind, name)) in classes.properties.into_iter().enumerate() {
                    // The item is the value of each of its properties: the
                    // last one takes it, the others get a shallow copy that
                    // shares its properties and children. Each use after
                    // the first counts its whole tree against the budget.
                    if index > 0 && !self.budget.take(weight) {
                        return;
                    }
                    b.weight += weight;
                    remaining -= 1;
                    let mut item = if remaining == 0 {
                        std::mem::take(&mut nested)
                    } else {
                        nested.clone()
                    };
                    match kind {
                        Kind::P => {
                            item.value =
                                Some(p_name.clone().unwrap_or_else(|| self.p_value(child)));
                        }
                        Kind::U => {
                            let (value, alt) = u_url.clone().unwrap_or_else(|| self.u_value(child));
                            item.value = Some(value);
                            item.value_alt = alt;
                        }
                        Kind::Dt => item.value = Some(self.dt_value(child, &mut None)),
                        Kind::E | Kind::Implied => {
                            let (html, value) = self.e_value(child);
                            item.html = Some(html);
                            item.value = Some(value);
                        }
                    }
                    b.note(kind);
                    b.properties
                        .push((name, kind, PropertyValue::Item(Box::new(item))));
                }
            } else {
                for (kind, name) in classes.properties {
                    let value = match kind {
                        Kind::P => PropertyValue::Text(self.p_value(child)),
                        Kind::U => {
                            let (value, alt) = self.u_value(child);
                            PropertyValue::Url { value, alt }
                        }
                        Kind::Dt => PropertyValue::Text(self.dt_value(child, &mut b.last_date)),
                        Kind::E | Kind::Implied => {
                            let (html, value) = self.e_value(child);
                            PropertyValue::Html { html, value }
                        }
                    };
                    b.note(kind);
                    b.properties.push((name, kind, value));
                }
                self.parse_properties(child, depth + 1, b);
            }
        }
    }

    // Property values.

    fn p_value(&self, id: NodeId) -> String {
        if let Some(v) = self.value_class(id) {
            return v;
        }
        let tag = self.dom.tag(id);
        let attr = match tag {
            "abbr" | "link" => self.dom.attr(id, "title"),
            "data" | "input" => self.dom.attr(id, "value"),
            "img" | "area" => self.dom.attr(id, "alt"),
            _ => None,
        };
        match attr {
            Some(a) => a.to_owned(),
            None => trim(&self.text(id, TextMode::ImgAltOrSrc)).to_owned(),
        }
    }

    fn u_value(&self, id: NodeId) -> (String, Option<String>) {
        let tag = self.dom.tag(id);
        let url_attr = match tag {
            "a" | "area" | "link" => self.dom.attr(id, "href"),
            "img" => {
                if let Some(src) = self.dom.attr(id, "src") {
                    let alt = self.dom.attr(id, "alt").map(str::to_owned);
                    return (self.resolve(src), alt);
                }
                None
            }
            "audio" | "source" | "iframe" => self.dom.attr(id, "src"),
            "video" => self
                .dom
                .attr(id, "src")
                .or_else(|| self.dom.attr(id, "poster")),
            "object" => self.dom.attr(id, "data"),
            _ => None,
        };
        if let Some(u) = url_attr {
            return (self.resolve(u), None);
        }
        if let Some(v) = self.value_class(id) {
            return (self.resolve(&v), None);
        }
        let attr = match tag {
            "abbr" => self.dom.attr(id, "title"),
            "data" | "input" => self.dom.attr(id, "value"),
            _ => None,
        };
        let raw = match attr {
            Some(a) => a.to_owned(),
            None => self.text(id, TextMode::NoScript),
        };
        (self.resolve(&raw), None)
    }

    /// A `dt-*` value; `last_date` carries the item's latest date, to
    /// complete a time-only value and to be updated by a dated one (`None`
    /// for a nested item's `value`).
    fn dt_value(&self, id: NodeId, last_date: &mut Option<String>) -> String {
        let value = self.value_class_datetime(id).unwrap_or_else(|| {
            let tag = self.dom.tag(id);
            let attr = match tag {
                "time" | "ins" | "del" => self.dom.attr(id, "datetime"),
                "abbr" => self.dom.attr(id, "title"),
                "data" | "input" => self.dom.attr(id, "value"),
                _ => None,
            };
            match attr {
                Some(a) => a.to_owned(),
                None => trim(&self.text(id, TextMode::NoScript)).to_owned(),
            }
        });
        if datetime::is_time_only(&value) {
            if let Some(date) = last_date.as_deref() {
                return format!("{date} {}", datetime::normalise_time(&value));
            }
        } else if let Some(date) = datetime::date_prefix(&value) {
            *last_date = Some(date.to_owned());
        }
        value
    }

    fn e_value(&self, id: NodeId) -> (String, String) {
        let html = self.dom.inner_html(id, &|s| self.resolve(s));
        let value = self.text(id, TextMode::ImgAltOrSrc);
        (trim(&html).to_owned(), trim(&value).to_owned())
    }

    // The value-class pattern.

    /// The value elements of a property element: descendants with class
    /// `value` or `value-title`, not looking inside other properties or
    /// microformats, nor inside a value element.
    fn value_elements(&self, id: NodeId) -> Vec<(NodeId, bool)> {
        let mut found = Vec::new();
        let mut stack: Vec<NodeId> = self.children(id).collect();
        stack.reverse();
        while let Some(n) = stack.pop() {
            if !self.dom.spend() {
                break;
            }
            let classes = self.classes(n);
            if classes.value {
                found.push((n, false));
            } else if classes.value_title {
                found.push((n, true));
            } else if classes.roots.is_empty() && classes.properties.is_empty() {
                let mut children: Vec<NodeId> = self.children(n).collect();
                children.reverse();
                stack.extend(children);
            }
        }
        found
    }

    /// The value-class pattern for `p-*` and `u-*`: the values concatenated.
    fn value_class(&self, id: NodeId) -> Option<String> {
        let elements = self.value_elements(id);
        if elements.is_empty() {
            return None;
        }
        let mut out = String::new();
        for (n, title) in elements {
            if title {
                out.push_str(self.dom.attr(n, "title").unwrap_or_default());
                continue;
            }
            let attr = match self.dom.tag(n) {
                "img" | "area" => Some(self.dom.attr(n, "alt").unwrap_or_default()),
                "data" => self.dom.attr(n, "value"),
                "abbr" => self.dom.attr(n, "title"),
                _ => None,
            };
            match attr {
                Some(a) => out.push_str(a),
                None => out.push_str(&self.text(n, TextMode::Raw)),
            }
        }
        Some(out)
    }

    /// The value-class pattern for `dt-*`: date, time and timezone parts.
    fn value_class_datetime(&self, id: NodeId) -> Option<String> {
        let values = self.value_elements(id).into_iter().map(|(n, title)| {
            if title {
                return self.dom.attr(n, "title").unwrap_or_default().to_owned();
            }
            let attr = match self.dom.tag(n) {
                "img" | "area" => Some(self.dom.attr(n, "alt").unwrap_or_default()),
                "data" => self.dom.attr(n, "value"),
                "abbr" => self.dom.attr(n, "title"),
                "time" | "ins" | "del" => self.dom.attr(n, "datetime"),
                _ => None,
            };
            match attr {
                Some(a) => a.to_owned(),
                None => self.text(n, TextMode::Raw),
            }
        });
        datetime::combine(values)
    }

    // Implied properties.

    /// The only element child of `id` with the given tag, if there is
    /// exactly one.
    fn only_of_type(&self, id: NodeId, tag: &str) -> Option<NodeId> {
        let mut of_type = self
            .dom
            .element_children(id)
            .filter(|&c| self.dom.tag(c) == tag);
        let first = of_type.next()?;
        of_type.next().is_none().then_some(first)
    }

    /// The only element child of `id`, if there is exactly one.
    fn only_child(&self, id: NodeId) -> Option<NodeId> {
        let mut children = self.dom.element_children(id);
        let first = children.next()?;
        children.next().is_none().then_some(first)
    }

    fn is_root(&self, id: NodeId) -> bool {
        !self.classes(id).roots.is_empty()
    }

    /// `id` itself, then its only child if that is not a microformat.
    fn self_and_only_child(&self, id: NodeId) -> [Option<NodeId>; 2] {
        [Some(id), self.only_child(id).filter(|&c| !self.is_root(c))]
    }

    fn implied_name(&self, id: NodeId) -> String {
        let attr = match self.dom.tag(id) {
            "img" | "area" => Some(self.dom.attr(id, "alt").unwrap_or_default()),
            "abbr" => self.dom.attr(id, "title"),
            _ => None,
        };
        if let Some(a) = attr {
            return trim(a).to_owned();
        }
        for parent in self.self_and_only_child(id).into_iter().flatten() {
            let Some(child) = self.only_child(parent).filter(|&c| !self.is_root(c)) else {
                continue;
            };
            let attr = match self.dom.tag(child) {
                "img" | "area" => self.dom.attr(child, "alt"),
                "abbr" => self.dom.attr(child, "title"),
                _ => None,
            };
            if let Some(a) = attr.filter(|a| !a.is_empty()) {
                return trim(a).to_owned();
            }
        }
        trim(&self.text(id, TextMode::ImgAlt)).to_owned()
    }

    fn implied_photo(&self, id: NodeId) -> Option<(String, Option<String>)> {
        let image = |n: NodeId| -> Option<(String, Option<String>)> {
            match self.dom.tag(n) {
                "img" => {
                    let src = self.dom.attr(n, "src")?;
                    Some((
                        self.resolve(src),
                        self.dom.attr(n, "alt").map(str::to_owned),
                    ))
                }
                "object" => Some((self.resolve(self.dom.attr(n, "data")?), None)),
                _ => None,
            }
        };
        if let Some(photo) = image(id) {
            return Some(photo);
        }
        for parent in self.self_and_only_child(id).into_iter().flatten() {
            for tag in ["img", "object"] {
                let found = self
                    .only_of_type(parent, tag)
                    .filter(|&c| !self.is_root(c))
                    .and_then(image);
                if found.is_some() {
                    return found;
                }
            }
        }
        None
    }

    fn implied_url(&self, id: NodeId) -> Option<String> {
        let link = |n: NodeId| -> Option<String> {
            match self.dom.tag(n) {
                "a" | "area" => Some(self.resolve(self.dom.attr(n, "href")?)),
                _ => None,
            }
        };
        if let Some(url) = link(id) {
            return Some(url);
        }
        for parent in self.self_and_only_child(id).into_iter().flatten() {
            for tag in ["a", "area"] {
                let found = self
                    .only_of_type(parent, tag)
                    .filter(|&c| !self.is_root(c))
                    .and_then(link);
                if found.is_some() {
                    return found;
                }
            }
        }
        None
    }

    // rel links.

    fn rels(&self) -> (BTreeMap<String, Vec<String>>, BTreeMap<String, RelUrl>) {
        let mut rels: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut rel_urls: BTreeMap<String, RelUrl> = BTreeMap::new();
        for e in self.dom.descendant_elements(DOCUMENT) {
            if !matches!(self.dom.tag(e), "a" | "area" | "link") {
                continue;
            }
            let (Some(rel), Some(href)) = (self.dom.attr(e, "rel"), self.dom.attr(e, "href"))
            else {
                continue;
            };
            let values: Vec<&str> = rel.split(is_html_space).filter(|s| !s.is_empty()).collect();
            if values.is_empty() {
                continue;
            }
            let url = self.resolve(href);
            for value in &values {
                let urls = rels.entry((*value).to_owned()).or_default();
                if !urls.contains(&url) {
                    urls.push(url.clone());
                }
            }
            let entry = rel_urls.entry(url).or_default();
            entry.rels.extend(values.iter().map(|v| (*v).to_owned()));
            entry.rels.sort();
            entry.rels.dedup();
            let attr = |name| self.dom.attr(e, name).map(str::to_owned);
            entry.hreflang = entry.hreflang.take().or_else(|| attr("hreflang"));
            entry.media = entry.media.take().or_else(|| attr("media"));
            entry.title = entry.title.take().or_else(|| attr("title"));
            entry.media_type = entry.media_type.take().or_else(|| attr("type"));
            if entry.text.is_none() {
                let text = self.text(e, TextMode::Raw);
                if !text.is_empty() {
                    entry.text = Some(text);
                }
            }
        }
        (rels, rel_urls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_grammar() {
        for ok in [
            "t",
            "test",
            "test-three",
            "6-test",
            "7t-test",
            "8t8-test",
            "t10-test-test",
        ] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "19",
            "-",
            "TEST",
            "t_t",
            "24-24",
            "test-26",
            "test-",
            "test--test",
            "test!",
            "⛔",
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
