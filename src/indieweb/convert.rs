//! mf2 ⇄ AS2: an h-entry (as canonical mf2 JSON) becomes a post, a Like
//! or an Announce; the AS2 document of what a proxy actor publishes.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use crate::federation::builders::timestamp;
use crate::federation::context::ACTIVITYSTREAMS;
use crate::federation::sanitize::sanitize_html;

/// What an h-entry is, in ActivityStreams terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A post (a reply when `in_reply_to` is set).
    Note,
    /// A post with a title of its own.
    Article,
    /// `like-of`: a Like of this URL.
    Like(String),
    /// `repost-of`: an Announce of this URL.
    Announce(String),
    /// `follow-of`: a Follow of the person at this URL.
    Follow(String),
}

/// An h-entry, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: EntryKind,
    pub name: Option<String>,
    pub summary: Option<String>,
    /// Sanitised HTML.
    pub content_html: Option<String>,
    pub in_reply_to: Vec<String>,
    pub url: Option<String>,
    pub published: Option<NaiveDateTime>,
    pub updated: Option<NaiveDateTime>,
    /// `p-category` words (hashtags); URLs (person tags) are kept apart.
    pub categories: Vec<String>,
    pub person_tags: Vec<String>,
    pub photos: Vec<String>,
}

fn values<'a>(item: &'a Value, property: &str) -> impl Iterator<Item = &'a Value> {
    item.get("properties")
        .and_then(|p| p.get(property))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A property's value as text: a string, or the `value` of an embedded
/// item or html value.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Object(map) => map
            .get("value")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                // An h-cite or h-card without `value`: its url.
                values(value, "url").next().and_then(as_text)
            }),
        _ => None,
    }
}

/// A property's value as a URL: a string, `{value, alt}`, or an embedded
/// item's `url`.
fn as_url(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Object(map) if map.contains_key("type") => {
            values(value, "url").next().and_then(as_url)
        }
        Value::Object(map) => map.get("value").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

fn first_text(item: &Value, property: &str) -> Option<String> {
    values(item, property)
        .find_map(as_text)
        .filter(|t| !t.trim().is_empty())
}

/// The http(s) URLs of a property (others, `javascript:` first among them,
/// are never stored).
fn urls(item: &Value, property: &str) -> Vec<String> {
    values(item, property)
        .filter_map(as_url)
        .filter(|u| crate::urls::is_http_url(u))
        .collect()
}

/// mf2 dates: ISO 8601 with or without a zone, or a date and time with a space.
pub fn parse_mf2_datetime(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    if let Ok(with_zone) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(with_zone.naive_utc());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(naive);
        }
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%d %H:%M%z",
    ] {
        if let Ok(with_zone) = chrono::DateTime::parse_from_str(text, format) {
            return Some(with_zone.naive_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// Reads an h-entry (canonical mf2 JSON of the item).
pub fn hentry_to_entry(item: &Value) -> Entry {
    let content = values(item, "content").next();
    let content_html = content.and_then(|c| match c {
        Value::Object(map) => map
            .get("html")
            .and_then(Value::as_str)
            .map(sanitize_html)
            .or_else(|| map.get("value").and_then(Value::as_str).map(escape_text)),
        Value::String(text) => Some(escape_text(text)),
        _ => None,
    });
    let content_text = content.and_then(as_text).unwrap_or_default();
    let name = first_text(item, "name");
    // A name that only repeats the content's beginning is an implied name.
    let titled = name.as_deref().is_some_and(|n| {
        let n = n.split_whitespace().collect::<Vec<_>>().join(" ");
        let c = content_text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        !n.is_empty() && !c.starts_with(&n)
    });
    let kind = if let Some(liked) = urls(item, "like-of").into_iter().next() {
        EntryKind::Like(liked)
    } else if let Some(reposted) = urls(item, "repost-of").into_iter().next() {
        EntryKind::Announce(reposted)
    } else if let Some(followed) = urls(item, "follow-of").into_iter().next() {
        EntryKind::Follow(followed)
    } else if titled && content.is_some() {
        EntryKind::Article
    } else {
        EntryKind::Note
    };
    let (categories, person_tags) = values(item, "category").fold(
        (Vec::new(), Vec::new()),
        |(mut words, mut people), value| {
            match (value, as_url(value)) {
                (Value::Object(_), Some(url)) => people.push(url),
                (_, Some(text)) if text.starts_with("http://") || text.starts_with("https://") => {
                    people.push(text)
                }
                (_, Some(text)) => words.push(text.trim_start_matches('#').to_owned()),
                _ => {}
            }
            (words, people)
        },
    );
    Entry {
        name: if kind == EntryKind::Article {
            name
        } else {
            None
        },
        kind,
        summary: first_text(item, "summary"),
        content_html,
        in_reply_to: urls(item, "in-reply-to"),
        url: urls(item, "url").into_iter().next(),
        published: first_text(item, "published")
            .as_deref()
            .and_then(parse_mf2_datetime),
        updated: first_text(item, "updated")
            .as_deref()
            .and_then(parse_mf2_datetime),
        categories,
        person_tags,
        photos: urls(item, "photo"),
    }
}

fn escape_text(text: &str) -> String {
    crate::federation::actor::escape_html(text)
}

/// The AS2 object of a post a proxy actor publishes from an h-entry.
pub fn entry_to_note(
    id: &str,
    author_actor: &str,
    entry: &Entry,
    to: &[String],
    cc: &[String],
    published: NaiveDateTime,
) -> Value {
    let kind = if entry.kind == EntryKind::Article {
        "Article"
    } else {
        "Note"
    };
    let mut note = json!({
        "@context": ACTIVITYSTREAMS,
        "id": id,
        "type": kind,
        "attributedTo": author_actor,
        "content": entry.content_html.clone().unwrap_or_default(),
        "to": to,
        "cc": cc,
        "published": timestamp(published),
        "replies": format!("{id}/replies"),
    });
    if let Some(url) = &entry.url {
        note["url"] = json!(url);
    }
    if let Some(name) = &entry.name {
        note["name"] = json!(name);
    }
    if let Some(summary) = &entry.summary {
        note["summary"] = json!(summary);
    }
    if let Some(reply) = entry.in_reply_to.first() {
        note["inReplyTo"] = json!(reply);
    }
    if let Some(updated) = entry.updated {
        note["updated"] = json!(timestamp(updated));
    }
    let mut tags: Vec<Value> = entry
        .categories
        .iter()
        .map(|word| json!({ "type": "Hashtag", "name": format!("#{word}") }))
        .collect();
    tags.extend(
        entry
            .person_tags
            .iter()
            .map(|href| json!({ "type": "Mention", "href": href })),
    );
    if !tags.is_empty() {
        note["tag"] = json!(tags);
    }
    if !entry.photos.is_empty() {
        note["attachment"] = json!(
            entry
                .photos
                .iter()
                .map(|url| json!({ "type": "Image", "url": url }))
                .collect::<Vec<_>>()
        );
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The granary fixture pairs: each h-entry, converted, agrees with its
    /// AS2 rendering on the fields the mapping covers.
    #[test]
    fn granary_fixture_pairs_agree() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/granary");
        let read = |name: &str| -> Value {
            let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap_or_else(|e| {
                panic!("{name}: {e} (the vendored fixtures in tests/fixtures/granary)")
            });
            serde_json::from_str(&text).unwrap()
        };
        let mut checked = 0;
        for name in [
            "note",
            "comment",
            "like",
            "repost",
            "note_with_hashtag",
            "article_with_photo",
            "like_of_object",
        ] {
            let mf2 = read(&format!("{name}.mf2.json"));
            let as2 = read(&format!("{name}.as2.json"));
            let entry = hentry_to_entry(&mf2);
            let as2_type = as2["type"].as_str().unwrap();
            match &entry.kind {
                EntryKind::Like(object) => {
                    assert_eq!(as2_type, "Like", "{name}");
                    let expected = as2["object"]
                        .as_str()
                        .map(str::to_owned)
                        .or_else(|| as2["object"]["url"].as_str().map(str::to_owned));
                    assert_eq!(Some(object.clone()), expected, "{name}");
                }
                EntryKind::Announce(object) => {
                    assert_eq!(as2_type, "Announce", "{name}");
                    assert_eq!(
                        Some(object.as_str()),
                        as2["object"]["url"].as_str().or(as2["object"].as_str()),
                        "{name}"
                    );
                }
                EntryKind::Follow(object) => {
                    assert_eq!(as2_type, "Follow", "{name}");
                    assert_eq!(Some(object.as_str()), as2["object"].as_str(), "{name}");
                }
                EntryKind::Note => assert_eq!(as2_type, "Note", "{name}"),
                EntryKind::Article => assert_eq!(as2_type, "Article", "{name}"),
            }
            if let Some(reply) = as2["inReplyTo"].as_str() {
                assert_eq!(entry.in_reply_to, [reply], "{name}");
            }
            if let Some(url) = as2["url"].as_str() {
                assert_eq!(entry.url.as_deref(), Some(url), "{name}");
            }
            if let Some(published) = as2["published"].as_str() {
                assert_eq!(entry.published, parse_mf2_datetime(published), "{name}");
                assert!(entry.published.is_some(), "{name}");
            }
            if let Some(tags) = as2["tag"].as_array() {
                for tag in tags
                    .iter()
                    .filter(|t| t["type"] == "Tag" || t["type"] == "Hashtag")
                {
                    let word = tag["name"].as_str().unwrap().trim_start_matches('#');
                    assert!(entry.categories.iter().any(|c| c == word), "{name}: {word}");
                }
            }
            checked += 1;
        }
        assert_eq!(checked, 7);
    }

    #[test]
    fn content_html_is_sanitised_and_names_imply_articles_only_when_distinct() {
        let item = json!({
            "type": ["h-entry"],
            "properties": {
                "name": ["Hello world, this is"],
                "content": [{"html": "<p>Hello world, this is <script>x</script><b>me</b></p>", "value": "Hello world, this is me"}],
                "in-reply-to": [{"type": ["h-cite"], "properties": {"url": ["https://e.example/objects/1"]}}],
                "published": ["2026-11-21 10:00:00+01:00"]
            }
        });
        let entry = hentry_to_entry(&item);
        assert_eq!(entry.kind, EntryKind::Note);
        assert_eq!(entry.name, None);
        assert_eq!(
            entry.content_html.as_deref(),
            Some("<p>Hello world, this is <b>me</b></p>")
        );
        assert_eq!(entry.in_reply_to, ["https://e.example/objects/1"]);
        assert_eq!(entry.published.unwrap().to_string(), "2026-11-21 09:00:00");
        let note = entry_to_note(
            "https://e.example/objects/2",
            "https://e.example/sites/s.example",
            &entry,
            &["https://www.w3.org/ns/activitystreams#Public".into()],
            &[],
            entry.published.unwrap(),
        );
        assert_eq!(note["inReplyTo"], "https://e.example/objects/1");
        assert_eq!(note["type"], "Note");
    }

    #[test]
    fn a_follow_post_is_a_follow_of_its_follow_of_url() {
        let item = json!({
            "type": ["h-entry"],
            "properties": {
                "follow-of": [{"type": ["h-card"], "properties": {"url": ["https://e.example/@alice"], "name": ["Alice"]}}],
                "content": [{"html": "Following Alice", "value": "Following Alice"}]
            }
        });
        let entry = hentry_to_entry(&item);
        assert_eq!(
            entry.kind,
            EntryKind::Follow("https://e.example/@alice".into())
        );
        let unsafe_url = json!({
            "type": ["h-entry"],
            "properties": {"follow-of": ["javascript:alert(1)"]}
        });
        assert_eq!(hentry_to_entry(&unsafe_url).kind, EntryKind::Note);
    }
}
