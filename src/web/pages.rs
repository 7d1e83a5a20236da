//! HTML pages rendered with askama: microformats2 markup for people and
//! machines alike (h-card for actors, h-entry for posts, h-feed for
//! outboxes), each advertising the Webmention endpoint.

use askama::Template;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use super::error::WebError;
use crate::domain::accounts::{Account, AccountKind};
use crate::domain::instance::{Directory, ProfileFacts};
use crate::domain::posts::Post;
use crate::federation::builders::timestamp;
use crate::urls::{Urls, http_url};

/// The profile of a user or room: an h-card.
#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage {
    webmention: String,
    feed_url: String,
    atom_url: String,
    name: String,
    username: String,
    handle: String,
    host: String,
    kind_label: &'static str,
    profile_url: String,
    actor_url: String,
    /// The avatar, or the default picture (not marked up as the account's
    /// `u-photo`: it is not theirs).
    photo: String,
    has_photo: bool,
    header: Option<String>,
    note_paragraphs: Vec<String>,
    followers: i64,
    following: i64,
    posts: i64,
    latest: Vec<EntryView>,
    /// For a members-only room: how to ask to join.
    join: Option<JoinHelp>,
}

/// How to join a room, from the fediverse or from a web site.
#[derive(Debug, Clone)]
pub struct JoinHelp {
    pub handle: String,
    pub room_url: String,
    pub webmention: String,
    pub hub: String,
    pub topic: String,
    pub members_only: bool,
}

impl JoinHelp {
    pub fn of(room: &Account, urls: &Urls, topic: String) -> Self {
        JoinHelp {
            handle: format!("@{}@{}", room.username, urls.host()),
            room_url: room.actor_url.clone(),
            webmention: urls.webmention(),
            hub: urls.path("/websub"),
            topic,
            members_only: room.manually_approves_followers,
        }
    }
}

impl ProfilePage {
    pub fn of(account: &Account, urls: &Urls, facts: &ProfileFacts) -> Self {
        let host = urls.host();
        ProfilePage {
            photo: http_url(account.avatar_url.as_deref()).unwrap_or_else(|| urls.default_avatar()),
            has_photo: account.avatar_url.is_some(),
            header: account.header_url.clone(),
            followers: facts.followers,
            following: facts.following,
            posts: facts.posts,
            latest: facts
                .latest
                .iter()
                .map(|post| EntryView::of(post, account))
                .collect(),
            join: (account.kind == AccountKind::Group).then(|| {
                JoinHelp::of(
                    account,
                    urls,
                    account.outbox_url.clone().unwrap_or_default(),
                )
            }),
            webmention: urls.webmention(),
            feed_url: account.outbox_url.clone().unwrap_or_default(),
            atom_url: urls.atom_feed(&account.actor_url),
            name: account.shown_name().to_owned(),
            username: account.username.clone(),
            handle: format!("@{}@{host}", account.username),
            host,
            kind_label: match account.kind {
                AccountKind::Group if account.manually_approves_followers => "Members-only room",
                AccountKind::Group => "Room",
                _ => "Person",
            },
            profile_url: http_url(account.profile_url.as_deref())
                .unwrap_or_else(|| account.actor_url.clone()),
            actor_url: account.actor_url.clone(),
            note_paragraphs: account
                .summary
                .as_deref()
                .unwrap_or_default()
                .split("\n\n")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }

    pub fn render_response(&self) -> Result<Response, WebError> {
        html_response(self)
    }
}

/// Renders a page as `text/html`.
pub fn html_response(page: &impl Template) -> Result<Response, WebError> {
    let html = page.render().map_err(WebError::internal)?;
    Ok(([(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// One post as an h-entry.
#[derive(Debug, Clone)]
pub struct EntryView {
    pub url: String,
    pub name: Option<String>,
    pub content_html: String,
    pub summary_text: String,
    /// The text of the post, cut at a word near 240 characters.
    pub excerpt: String,
    pub published: String,
    pub published_text: String,
    pub updated: Option<String>,
    pub in_reply_to: Option<String>,
    /// For a like or a repost: what it likes or reposts.
    pub like_of: Option<String>,
    pub repost_of: Option<String>,
    pub categories: Vec<String>,
    pub author_name: String,
    pub author_url: String,
    pub author_photo: Option<String>,
}

impl EntryView {
    pub fn of(post: &Post, author: &Account) -> Self {
        // A page still shows a post whose stored document is unreadable,
        // without its categories; the fault is logged.
        let document = crate::federation::documents::stored_document(&post.ap_id, &post.document)
            .inspect_err(|error| tracing::error!(%error, "showing a post without its tags"))
            .unwrap_or(serde_json::Value::Null);
        let categories = document
            .get("tag")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter(|t| t.get("type").and_then(serde_json::Value::as_str) == Some("Hashtag"))
            .filter_map(|t| t.get("name").and_then(serde_json::Value::as_str))
            .map(|name| name.trim_start_matches('#').to_owned())
            .collect();
        let content_html = post.content.clone().unwrap_or_default();
        let text = crate::indieweb::atom::strip_tags(&content_html);
        let summary_text: String = text.chars().take(80).collect();
        let excerpt = excerpt(&text, 240);
        EntryView {
            url: http_url(post.url.as_deref())
                .filter(|_| !post.local)
                .unwrap_or_else(|| post.ap_id.clone()),
            name: post.name.clone(),
            content_html,
            summary_text,
            excerpt,
            published: timestamp(post.published),
            published_text: post.published.format("%Y-%m-%d %H:%M UTC").to_string(),
            updated: post.updated.map(timestamp),
            in_reply_to: http_url(post.in_reply_to.as_deref()),
            like_of: None,
            repost_of: None,
            categories,
            author_name: author.shown_name().to_owned(),
            author_url: http_url(author.profile_url.as_deref())
                .unwrap_or_else(|| author.actor_url.clone()),
            author_photo: http_url(author.avatar_url.as_deref()),
        }
    }
}

/// `text` cut at the last word boundary before `max` characters, with an
/// ellipsis when anything was cut.
fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    let at_word = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", at_word.trim_end_matches([',', ';', ':', '.', ' ']))
}

/// A post's own page.
#[derive(Template)]
#[template(path = "note.html")]
pub struct NotePage {
    pub webmention: String,
    pub entry: EntryView,
}

/// An account's public posts as an h-feed, one page of it.
#[derive(Template)]
#[template(path = "feed.html")]
pub struct FeedPage {
    pub webmention: String,
    pub name: String,
    pub handle: String,
    pub profile_url: String,
    pub feed_url: String,
    pub atom_url: String,
    pub entries: Vec<EntryView>,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    /// Rooms: the description, the member count and the WebSub hub.
    pub summary: Option<String>,
    pub member_count: Option<i64>,
    pub hub_url: Option<String>,
    /// The URL this page is served at (its WebSub topic), for `rel=self`.
    pub self_url: String,
    /// Rooms: how to join.
    pub join: Option<JoinHelp>,
}

/// The instance's home page: who it is, who is here, how to take part.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub webmention: String,
    pub name: String,
    pub description: String,
    pub contact: Option<(String, Option<String>)>,
    pub host: String,
    pub people: Vec<DirectoryEntry>,
    pub rooms: Vec<DirectoryEntry>,
    pub hub: String,
}

/// One person or room on the home page.
#[derive(Debug, Clone)]
pub struct DirectoryEntry {
    pub name: String,
    pub handle: String,
    pub url: String,
    pub photo: String,
    pub label: Option<&'static str>,
}

impl HomePage {
    pub fn of(config: &crate::config::Config, urls: &Urls, directory: &Directory) -> Self {
        let entry = |account: &Account| DirectoryEntry {
            name: account.shown_name().to_owned(),
            handle: format!("@{}@{}", account.username, urls.host()),
            url: account
                .profile_url
                .clone()
                .unwrap_or_else(|| account.actor_url.clone()),
            photo: http_url(account.avatar_url.as_deref()).unwrap_or_else(|| urls.default_avatar()),
            label: (account.kind == AccountKind::Group && account.manually_approves_followers)
                .then_some("members only"),
        };
        HomePage {
            webmention: urls.webmention(),
            name: config.instance_name.clone(),
            description: config.instance_description.clone(),
            contact: config
                .contact
                .as_ref()
                .map(|c| (c.clone(), contact_href(c))),
            host: urls.host(),
            people: directory.people.iter().map(entry).collect(),
            rooms: directory.rooms.iter().map(entry).collect(),
            hub: urls.path("/websub"),
        }
    }
}

/// A link for the operator's contact: `mailto:` for an address, the URL
/// itself for an http(s) URL, none otherwise.
fn contact_href(contact: &str) -> Option<String> {
    if contact.starts_with("https://") || contact.starts_with("http://") {
        Some(contact.to_owned())
    } else if contact.contains('@') && !contact.contains(char::is_whitespace) {
        Some(format!("mailto:{}", contact.trim_start_matches("mailto:")))
    } else {
        None
    }
}

/// A short message to a person (errors, expired links).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub webmention: String,
    pub title: &'a str,
    pub message: &'a str,
}

#[cfg(test)]
mod tests {
    use super::contact_href;
    use crate::indieweb::atom::strip_tags;

    #[test]
    fn excerpts_end_at_a_word_with_an_ellipsis() {
        assert_eq!(super::excerpt("short text", 240), "short text");
        assert_eq!(super::excerpt("one two three four", 10), "one two…");
        assert_eq!(super::excerpt("one, two three", 6), "one…");
    }

    #[test]
    fn contacts_become_links_when_they_can() {
        assert_eq!(
            contact_href("admin@river.example").as_deref(),
            Some("mailto:admin@river.example")
        );
        assert_eq!(
            contact_href("https://river.example/about").as_deref(),
            Some("https://river.example/about")
        );
        assert_eq!(contact_href("javascript:alert(1)"), None);
        assert_eq!(contact_href("ask at the desk"), None);
    }

    #[test]
    fn titles_keep_sentences_whole() {
        assert_eq!(
            strip_tags(
                "<p>Rivers <em>meet</em> here, see <a href=\"x\">the map</a>.</p><p>Next</p>"
            ),
            "Rivers meet here, see the map. Next"
        );
        assert_eq!(strip_tags("a<br/>b"), "a b");
    }
}
