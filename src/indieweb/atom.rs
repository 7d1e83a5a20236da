//! Atom (RFC 4287) feeds: a pure builder, and the feed of a person's public
//! posts (the same for a reader's GET and a WebSub push), with their
//! followers-only posts for a site that follows them (Ticket Auth).

use std::fmt::Write;

use crate::domain::DomainError;
use crate::domain::accounts::Account;
use crate::domain::posts;
use crate::federation::builders::timestamp;
use crate::store::Store;
use crate::urls::Urls;

/// Entries in a person's feed.
pub const PERSON_FEED_ENTRIES: i64 = 20;

/// One entry of a feed.
#[derive(Debug, Clone)]
pub struct AtomEntry {
    pub id: String,
    pub url: String,
    pub title: String,
    pub content_html: String,
    pub published: String,
    pub updated: String,
    pub author_name: String,
    pub author_url: String,
}

/// A feed and its entries, newest first.
#[derive(Debug, Clone)]
pub struct AtomFeed {
    pub id: String,
    pub title: String,
    pub self_url: String,
    pub alternate_url: String,
    /// A WebSub hub, if the feed has one.
    pub hub_url: Option<String>,
    pub updated: String,
    pub entries: Vec<AtomEntry>,
}

/// Whether XML 1.0 allows `c` in a document (its `Char` production:
/// tab, newline, carriage return, U+0020–U+D7FF, U+E000–U+FFFD and
/// U+10000 up; Rust's `char` never is a surrogate).
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes text for XML element content and attribute values, dropping
/// the characters XML 1.0 does not allow (one of them would make the whole
/// feed unreadable, for every subscriber).
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if !is_xml_char(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Text of some HTML, for titles: tags dropped, block boundaries kept as
/// spaces, inline ones not (so "see <a>the map</a>." stays one sentence).
pub fn strip_tags(html: &str) -> String {
    const BLOCKS: &[&str] = &[
        "p",
        "br",
        "div",
        "li",
        "blockquote",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
    ];
    let mut out = String::with_capacity(html.len());
    let mut tag: Option<String> = None;
    for c in html.chars() {
        match (&mut tag, c) {
            (None, '<') => tag = Some(String::new()),
            (Some(name), '>') => {
                let name = name
                    .trim_start_matches('/')
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                if BLOCKS.contains(&name.trim_end_matches('/')) {
                    out.push(' ');
                }
                tag = None;
            }
            (Some(name), c) => name.push(c),
            (None, c) => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn build_atom(feed: &AtomFeed) -> String {
    let e = escape_xml;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n",
    );
    let _ = writeln!(xml, "  <id>{}</id>", e(&feed.id));
    let _ = writeln!(xml, "  <title>{}</title>", e(&feed.title));
    let _ = writeln!(xml, "  <updated>{}</updated>", e(&feed.updated));
    let _ = writeln!(
        xml,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        e(&feed.self_url)
    );
    let _ = writeln!(
        xml,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        e(&feed.alternate_url)
    );
    if let Some(hub) = &feed.hub_url {
        let _ = writeln!(xml, "  <link rel=\"hub\" href=\"{}\"/>", e(hub));
    }
    for entry in &feed.entries {
        xml.push_str("  <entry>\n");
        let _ = writeln!(xml, "    <id>{}</id>", e(&entry.id));
        let _ = writeln!(xml, "    <title>{}</title>", e(&entry.title));
        let _ = writeln!(
            xml,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            e(&entry.url)
        );
        let _ = writeln!(xml, "    <published>{}</published>", e(&entry.published));
        let _ = writeln!(xml, "    <updated>{}</updated>", e(&entry.updated));
        let _ = writeln!(
            xml,
            "    <author><name>{}</name><uri>{}</uri></author>",
            e(&entry.author_name),
            e(&entry.author_url)
        );
        let _ = writeln!(
            xml,
            "    <content type=\"html\">{}</content>",
            e(&entry.content_html)
        );
        xml.push_str("  </entry>\n");
    }
    xml.push_str("</feed>\n");
    xml
}

/// The Atom feed of a local person's latest public posts, naming the hub.
pub async fn person_atom(
    store: &Store,
    urls: &Urls,
    account: &Account,
) -> Result<String, DomainError> {
    person_atom_for(store, urls, account, false).await
}

/// [`person_atom`], with the followers-only posts too when `followers` (for
/// a site that follows the person, by Ticket Auth); never direct posts.
pub async fn person_atom_for(
    store: &Store,
    urls: &Urls,
    account: &Account,
    followers: bool,
) -> Result<String, DomainError> {
    let found = posts::posts_of(store, account.id, followers, 0, PERSON_FEED_ENTRIES).await?;
    let profile = account
        .profile_url
        .clone()
        .unwrap_or_else(|| account.actor_url.clone());
    let entries: Vec<AtomEntry> = found
        .items
        .iter()
        .map(|post| {
            let content_html = post.content.clone().unwrap_or_default();
            let text: String = strip_tags(&content_html).chars().take(80).collect();
            let published = timestamp(post.published);
            AtomEntry {
                id: post.ap_id.clone(),
                url: crate::urls::http_url(post.url.as_deref())
                    .filter(|_| !post.local)
                    .unwrap_or_else(|| post.ap_id.clone()),
                title: if text.is_empty() {
                    "(no text)".into()
                } else {
                    text
                },
                content_html,
                updated: post.updated.map(timestamp).unwrap_or(published.clone()),
                published,
                author_name: account.shown_name().to_owned(),
                author_url: profile.clone(),
            }
        })
        .collect();
    let updated = entries
        .first()
        .map(|e| e.updated.clone())
        .unwrap_or_else(|| timestamp(account.created_at));
    let self_url = urls.atom_feed(&account.actor_url);
    Ok(build_atom(&AtomFeed {
        id: self_url.clone(),
        title: account.shown_name().to_owned(),
        self_url,
        alternate_url: profile,
        hub_url: Some(urls.path("/websub")),
        updated,
        entries,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_escaped_html_content() {
        let feed = AtomFeed {
            id: "https://e.example/users/a/feed.atom".into(),
            title: "A & B".into(),
            self_url: "https://e.example/users/a/feed.atom".into(),
            alternate_url: "https://e.example/@a".into(),
            hub_url: Some("https://e.example/websub".into()),
            updated: "2026-11-21T10:00:00Z".into(),
            entries: vec![AtomEntry {
                id: "https://e.example/objects/1".into(),
                url: "https://e.example/objects/1".into(),
                title: "hi <there>".into(),
                content_html: "<p>x &amp; y</p>".into(),
                published: "2026-11-21T10:00:00Z".into(),
                updated: "2026-11-21T10:00:00Z".into(),
                author_name: "A\u{1}".into(),
                author_url: "https://e.example/@a".into(),
            }],
        };
        let xml = build_atom(&feed);
        assert!(xml.contains("<title>A &amp; B</title>"));
        assert!(xml.contains("<content type=\"html\">&lt;p&gt;x &amp;amp; y&lt;/p&gt;</content>"));
        assert!(xml.contains("<link rel=\"hub\" href=\"https://e.example/websub\"/>"));
        assert!(
            xml.contains("<name>A</name>"),
            "control characters are dropped"
        );
        assert_eq!(xml.matches("<entry>").count(), 1);
    }

    #[test]
    fn characters_xml_forbids_are_dropped() {
        let text = "a\u{FFFF}b\u{FFFE}c\u{0}d\u{1B}e\u{B}f\u{C}g\tn\u{10FFFF}\u{E000}";
        assert_eq!(escape_xml(text), "abcdefg\tn\u{10FFFF}\u{E000}");
        for c in ['\u{FFFF}', '\u{FFFE}', '\u{0}', '\u{1F}'] {
            assert!(!is_xml_char(c), "{:?}", c);
        }
        for c in ['\t', '\n', '\r', ' ', '\u{D7FF}', '\u{FFFD}', '\u{10000}'] {
            assert!(is_xml_char(c), "{:?}", c);
        }
    }
}
