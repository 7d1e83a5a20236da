//! The pure part of the IndieWeb authorship algorithm
//! (indieweb.org/authorship-spec) and representative h-card parsing
//! (indieweb.org/representative-h-card-parsing). Fetching an author page is
//! the caller's job: [`entry_author`] says which URL to fetch, and
//! [`representative_hcard`] finds the card on the fetched page.

use std::collections::BTreeMap;

use url::Url;

use super::{Document, Item, PropertyValue};

/// Who wrote an h-entry, as far as its own page tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorRef {
    /// An h-card found on the page; for an author given only by name, an
    /// h-card with just that `name`.
    Card(Item),
    /// An author page whose representative h-card is the author: fetch it and
    /// call [`representative_hcard`].
    Url(String),
}

/// The author of `entry`, an h-entry of `doc` (the page at `page_url`):
/// its `author` property (an h-card, else a URL, else a name); else, when
/// the entry is a child of an h-feed, the feed's `author`; else the page's
/// first `rel=author` link. `None` when the page says nothing: the caller
/// then tries the site's home page.
pub fn entry_author(doc: &Document, entry: &Item, page_url: &Url) -> Option<AuthorRef> {
    if let Some(author) = author_property(entry, page_url) {
        return Some(author);
    }
    if let Some(feed) = parent_feed(&doc.items, entry)
        && let Some(author) = author_property(feed, page_url)
    {
        return Some(author);
    }
    doc.rel("author")
        .iter()
        .find_map(|u| http_url(u, page_url))
        .map(AuthorRef::Url)
}

/// The h-card that represents the page at `page_url` (its owner): the first
/// h-card whose `uid` and `url` are both the page URL; else the first whose
/// `url` is one of the page's `rel=me` links; else the only h-card on the
/// page, if its `url` is the page URL.
///
/// Cards are looked for at the top level and among children, not inside
/// other items' properties (those are other people: authors of replies,
/// people mentioned).
pub fn representative_hcard(doc: &Document, page_url: &Url) -> Option<Item> {
    let mut cards = Vec::new();
    let mut stack: Vec<&Item> = doc.items.iter().rev().collect();
    while let Some(item) = stack.pop() {
        if item.has_type("h-card") {
            cards.push(item);
        }
        stack.extend(item.children.iter().rev());
    }
    let is_page = |u: &str| same_url(u, page_url, page_url);
    let urls = |card: &Item, property: &str| -> Vec<String> {
        card.values(property)
            .iter()
            .filter_map(PropertyValue::text)
            .map(str::to_owned)
            .collect()
    };

    if let Some(card) = cards.iter().find(|c| {
        urls(c, "uid").iter().any(|u| is_page(u)) && urls(c, "url").iter().any(|u| is_page(u))
    }) {
        return Some((*card).clone());
    }
    let me: Vec<Url> = doc
        .rel("me")
        .iter()
        .filter_map(|u| page_url.join(u).ok())
        .collect();
    if let Some(card) = cards.iter().find(|c| {
        urls(c, "url")
            .iter()
            .filter_map(|u| page_url.join(u).ok())
            .any(|u| me.contains(&u))
    }) {
        return Some((*card).clone());
    }
    match cards.as_slice() {
        [only] if urls(only, "url").iter().any(|u| is_page(u)) => Some((*only).clone()),
        _ => None,
    }
}

/// The author given by an item's `author` property: its first h-card,
/// else its first value as a URL or a name.
fn author_property(item: &Item, page_url: &Url) -> Option<AuthorRef> {
    let values = item.values("author");
    if let Some(card) = item
        .items("author")
        .into_iter()
        .find(|i| i.has_type("h-card"))
    {
        return Some(AuthorRef::Card(card.clone()));
    }
    let first = values.first()?;
    if let PropertyValue::Url { value, .. } = first {
        return http_url(value, page_url).map(AuthorRef::Url);
    }
    let text = first.text()?.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(url) = Url::parse(text).ok().and_then(|_| http_url(text, page_url)) {
        return Some(AuthorRef::Url(url));
    }
    Some(AuthorRef::Card(name_card(text)))
}

/// An h-card with only a name.
fn name_card(name: &str) -> Item {
    Item {
        types: vec!["h-card".into()],
        properties: std::sync::Arc::new(BTreeMap::from([(
            "name".into(),
            vec![PropertyValue::Text(name.into())],
        )])),
        ..Item::default()
    }
}

/// `raw` resolved against the page, if it is an http(s) URL.
fn http_url(raw: &str, page_url: &Url) -> Option<String> {
    let url = page_url.join(raw.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.into())
}

fn same_url(raw: &str, target: &Url, page_url: &Url) -> bool {
    page_url.join(raw.trim()).is_ok_and(|u| &u == target)
}

/// The h-feed among `items` (at any depth of children) that has `entry` as
/// a child.
fn parent_feed<'a>(items: &'a [Item], entry: &Item) -> Option<&'a Item> {
    let mut stack: Vec<&Item> = items.iter().collect();
    while let Some(item) = stack.pop() {
        if item.has_type("h-feed")
            && item
                .children
                .iter()
                .any(|c| std::ptr::eq(c, entry) || c == entry)
        {
            return Some(item);
        }
        stack.extend(item.children.iter());
    }
    None
}
