//! A microformats2 parser (h-entry, h-card, h-feed, rels) on html5ever, and
//! the IndieWeb authorship algorithm over its output.
//!
//! [`parse`] follows the microformats2 parsing specification: root classes
//! (`h-*`), properties (`p-`, `u-`, `dt-`, `e-`), the value-class pattern,
//! nested items and their `value`, implied `name`/`photo`/`url`, URLs resolved
//! against the document's `<base href>`, `rels` and `rel-urls`, and item
//! `id`s. Backcompat (microformats 1) classes are not parsed.
//!
//! `e-*` HTML is the element's inner HTML, re-serialised: text keeps its
//! entities escaped (`x&lt;y` stays `x&lt;y`), relative URLs in attributes
//! are made absolute, and nothing is sanitised — that is the caller's job
//! before the HTML is shown anywhere.
//!
//! Modules: `dom` (an arena tree built by html5ever, text and HTML
//! serialisation), `parser` (the algorithm), `datetime` (value-class dates),
//! `authorship` (who wrote an h-entry, a page's representative h-card).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use url::Url;

mod authorship;
mod datetime;
mod dom;
mod parser;

pub use authorship::{AuthorRef, entry_author, representative_hcard};

/// The parsed microformats of one HTML document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// Top-level items, in document order.
    pub items: Vec<Item>,
    /// For each `rel` value, the URLs of the `a`, `area` and `link` elements
    /// carrying it, in document order, without duplicates.
    pub rels: BTreeMap<String, Vec<String>>,
    /// For each URL of a `rel` link: all its rel values and the attributes
    /// of the first element linking to it.
    pub rel_urls: BTreeMap<String, RelUrl>,
}

/// What the document says about one URL it links to with `rel`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelUrl {
    /// Every rel value used with this URL, sorted, without duplicates.
    pub rels: Vec<String>,
    /// The text content of the first link (untrimmed), when not empty.
    pub text: Option<String>,
    pub title: Option<String>,
    pub media: Option<String>,
    pub hreflang: Option<String>,
    /// The `type` attribute.
    pub media_type: Option<String>,
}

/// One microformat (`h-*`) item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    /// Its `h-*` types, sorted.
    pub types: Vec<String>,
    /// Property values by name (without the `p-`/`u-`/`dt-`/`e-` prefix),
    /// each in document order. Shared: an item that is the value of several
    /// properties (`p-author e-x h-card`) is one tree, not one copy per
    /// property.
    pub properties: Arc<BTreeMap<String, Vec<PropertyValue>>>,
    /// Nested items that are not property values (shared as `properties`).
    pub children: Arc<Vec<Item>>,
    /// The element's `id` attribute, when not empty.
    pub id: Option<String>,
    /// When the item is a property value: the property's own value (the
    /// item's `name` for `p-*`, its `url` for `u-*`, the element's text for
    /// `dt-*` and `e-*`).
    pub value: Option<String>,
    /// When `value` is the URL of an `<img>` with an `alt`: that text.
    pub value_alt: Option<String>,
    /// When the item is an `e-*` property value: the element's inner HTML.
    pub html: Option<String>,
    /// Where the item's element is in the parsed document: a number that
    /// grows in document order ([`find_items`] sorts by it); 0 for an item
    /// built by hand.
    pub position: usize,
}

/// One value of a property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyValue {
    /// A `p-*` or `dt-*` value.
    Text(String),
    /// A `u-*` value, absolute; `alt` when it came from an `<img alt>`.
    Url { value: String, alt: Option<String> },
    /// An `e-*` value: the inner HTML (unsanitised) and its text.
    Html { html: String, value: String },
    /// A nested microformat.
    Item(Box<Item>),
}

/// Bounds on the work of parsing one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Items in the result, counting a nested item once per property it is
    /// the value of (that is how many the JSON and every walk see).
    pub max_items: usize,
    /// Time allowed for the mf2 walk after the HTML is parsed.
    pub max_time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_items: crate::config::DEFAULT_MF2_MAX_ITEMS,
            max_time: Duration::from_secs(crate::config::DEFAULT_PARSE_TIMEOUT_SECS),
        }
    }
}

/// Why a document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Mf2Error {
    #[error("the page has more than {0} microformats items")]
    TooManyItems(usize),
    #[error("parsing the page took longer than {0:?}")]
    TooSlow(Duration),
    #[error("the microformats parser failed on the page")]
    Panicked,
}

/// Parses a document fetched from (or served at) `base_url` within the
/// default [`Limits`]. Never panics: any input, however broken, gives a
/// (possibly empty) document; one over the limits gives an empty one.
pub fn parse(html: &str, base_url: &Url) -> Document {
    parse_bounded(html, base_url, Limits::default()).unwrap_or_default()
}

/// Parses a document within `limits`, or says which one it went over.
pub fn parse_bounded(html: &str, base_url: &Url, limits: Limits) -> Result<Document, Mf2Error> {
    std::panic::catch_unwind(|| {
        let dom = dom::Dom::parse(html);
        parser::parse_document(&dom, base_url, limits)
    })
    .unwrap_or(Err(Mf2Error::Panicked))
}

/// [`parse_bounded`] on the blocking pool, so that a slow page holds no
/// async worker, given up after twice the time limit should the walk not
/// notice its own deadline (its thread then finishes on its own).
pub async fn parse_blocking(
    html: String,
    base_url: Url,
    limits: Limits,
) -> Result<Document, Mf2Error> {
    let task = tokio::task::spawn_blocking(move || parse_bounded(&html, &base_url, limits));
    match tokio::time::timeout(limits.max_time.saturating_mul(2), task).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(Mf2Error::Panicked),
        Err(_) => Err(Mf2Error::TooSlow(limits.max_time)),
    }
}

/// All items of a type anywhere in the document (top level, children, and
/// property values), in document order.
pub fn find_items<'a>(doc: &'a Document, kind: &str) -> Vec<&'a Item> {
    let mut found = Vec::new();
    let mut stack: Vec<&Item> = doc.items.iter().rev().collect();
    while let Some(item) = stack.pop() {
        if item.has_type(kind) {
            found.push(item);
        }
        stack.extend(item.children.iter());
        for values in item.properties.values() {
            stack.extend(values.iter().filter_map(|v| match v {
                PropertyValue::Item(i) => Some(&**i),
                _ => None,
            }));
        }
    }
    // The same item under two property names (`p-author u-x h-card`) is
    // one element: keep it once.
    found.sort_by_key(|i| i.position);
    found.dedup_by(|a, b| a.position == b.position && a.position != 0 && a.types == b.types);
    found
}

impl Document {
    /// The canonical microformats2 JSON: `{"items", "rels", "rel-urls"}`.
    pub fn to_json(&self) -> Value {
        let rel_urls: Map<String, Value> = self
            .rel_urls
            .iter()
            .map(|(url, r)| {
                let mut o = Map::new();
                o.insert("rels".into(), json!(r.rels));
                for (key, value) in [
                    ("text", &r.text),
                    ("title", &r.title),
                    ("media", &r.media),
                    ("hreflang", &r.hreflang),
                    ("type", &r.media_type),
                ] {
                    if let Some(v) = value {
                        o.insert(key.into(), json!(v));
                    }
                }
                (url.clone(), Value::Object(o))
            })
            .collect();
        json!({
            "items": self.items.iter().map(Item::to_json).collect::<Vec<_>>(),
            "rels": self.rels,
            "rel-urls": rel_urls,
        })
    }

    /// The URLs of a rel value (`"me"`, `"author"`, …), in document order.
    pub fn rel(&self, rel: &str) -> &[String] {
        self.rels.get(rel).map(Vec::as_slice).unwrap_or_default()
    }
}

impl Item {
    /// The item in mf2 JSON.
    pub fn to_json(&self) -> Value {
        let properties: Map<String, Value> = self
            .properties
            .iter()
            .map(|(name, values)| {
                (
                    name.clone(),
                    values.iter().map(PropertyValue::to_json).collect(),
                )
            })
            .collect();
        let mut o = Map::new();
        o.insert("type".into(), json!(self.types));
        o.insert("properties".into(), Value::Object(properties));
        if !self.children.is_empty() {
            o.insert(
                "children".into(),
                self.children.iter().map(Item::to_json).collect(),
            );
        }
        if let Some(id) = &self.id {
            o.insert("id".into(), json!(id));
        }
        if let Some(html) = &self.html {
            o.insert("html".into(), json!(html));
        }
        if let Some(value) = &self.value {
            let value = match &self.value_alt {
                Some(alt) => json!({"value": value, "alt": alt}),
                None => json!(value),
            };
            o.insert("value".into(), value);
        }
        Value::Object(o)
    }

    pub fn has_type(&self, t: &str) -> bool {
        self.types.iter().any(|x| x == t)
    }

    /// The values of a property (empty when it has none).
    pub fn values(&self, property: &str) -> &[PropertyValue] {
        self.properties
            .get(property)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The first value of a property as text: a `p-`/`dt-` value, a `u-`
    /// URL, an `e-` property's plain text, or a nested item's `value`.
    pub fn first_text(&self, property: &str) -> Option<String> {
        self.values(property)
            .iter()
            .find_map(PropertyValue::text)
            .map(str::to_owned)
    }

    /// The first value of a property that is an absolute URL: a `u-*` value,
    /// or text or a nested item's `value` that parses as one (for pages
    /// that write `p-url`). No check of the scheme: `javascript:` URLs come
    /// through, so a caller that links to one must check it.
    pub fn first_url(&self, property: &str) -> Option<String> {
        self.values(property).iter().find_map(|v| match v {
            PropertyValue::Url { value, .. } => Some(value.clone()),
            PropertyValue::Text(t) => Url::parse(t).is_ok().then(|| t.clone()),
            PropertyValue::Item(i) => i.value.clone().filter(|v| Url::parse(v).is_ok()),
            PropertyValue::Html { .. } => None,
        })
    }

    /// The first `e-*` value of a property: `(html, value)`; a nested item
    /// parsed from an `e-*` property counts.
    pub fn first_html(&self, property: &str) -> Option<(String, String)> {
        self.values(property).iter().find_map(|v| match v {
            PropertyValue::Html { html, value } => Some((html.clone(), value.clone())),
            PropertyValue::Item(i) => Some((i.html.clone()?, i.value.clone().unwrap_or_default())),
            _ => None,
        })
    }

    /// The nested items among a property's values.
    pub fn items(&self, property: &str) -> Vec<&Item> {
        self.values(property)
            .iter()
            .filter_map(|v| match v {
                PropertyValue::Item(i) => Some(&**i),
                _ => None,
            })
            .collect()
    }
}

impl PropertyValue {
    /// The value as mf2 JSON.
    pub fn to_json(&self) -> Value {
        match self {
            PropertyValue::Text(t) => json!(t),
            PropertyValue::Url { value, alt: None } => json!(value),
            PropertyValue::Url {
                value,
                alt: Some(alt),
            } => json!({"value": value, "alt": alt}),
            PropertyValue::Html { html, value } => json!({"html": html, "value": value}),
            PropertyValue::Item(item) => item.to_json(),
        }
    }

    /// The value as text (see [`Item::first_text`]).
    pub fn text(&self) -> Option<&str> {
        match self {
            PropertyValue::Text(t) => Some(t),
            PropertyValue::Url { value, .. } | PropertyValue::Html { value, .. } => Some(value),
            PropertyValue::Item(i) => i.value.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests;
