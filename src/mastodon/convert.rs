//! Converters from domain views to Mastodon entities, one per direction
//! (`account_to_mastodon`, `post_to_status`, …). Pure.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use chrono::format::{Item, StrftimeItems};

use super::entities::{
    Account, AccountSource, Conversation, Mention, Notification, Relationship, Status, Tag,
};
use crate::domain::accounts::{Account as DomainAccount, AccountKind};
use crate::domain::audience::Visibility;
use crate::domain::timelines::{
    AccountView, ConversationView, NotificationView, PostView, Relationship as DomainRelationship,
    public_in_to,
};
use crate::urls::Urls;

/// The path of the default avatar (and header) image.
pub const DEFAULT_AVATAR_PATH: &str = "/static/avatar.png";

/// Mastodon's timestamp form, parsed once: RFC 3339 in UTC with
/// milliseconds.
static TIMESTAMP_FORM: LazyLock<Vec<Item<'static>>> = LazyLock::new(|| {
    StrftimeItems::new("%Y-%m-%dT%H:%M:%S%.3fZ")
        .parse_to_owned()
        .unwrap_or_default()
});

/// A time as Mastodon writes it.
pub fn timestamp(at: NaiveDateTime) -> String {
    at.format_with_items(TIMESTAMP_FORM.iter()).to_string()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `user` for local accounts, `user@domain` for remote ones.
pub fn acct_of(account: &DomainAccount) -> String {
    match &account.domain {
        Some(domain) => format!("{}@{domain}", account.username),
        None => account.username.clone(),
    }
}

pub fn account_to_mastodon(view: &AccountView, urls: &Urls) -> Account {
    let account = &view.account;
    let avatar = account
        .avatar_url
        .clone()
        .unwrap_or_else(|| urls.path(DEFAULT_AVATAR_PATH));
    let note = match (&account.summary, account.is_local()) {
        (Some(text), true) if !text.is_empty() => format!("<p>{}</p>", escape(text)),
        (Some(html), false) => html.clone(),
        _ => String::new(),
    };
    Account {
        id: account.id.to_string(),
        username: account.username.clone(),
        acct: acct_of(account),
        display_name: account.display_name.clone().unwrap_or_default(),
        locked: account.manually_approves_followers,
        bot: account.kind == AccountKind::Application || account.site_url.is_some(),
        group: account.kind == AccountKind::Group,
        discoverable: true,
        created_at: timestamp(account.created_at),
        note,
        url: account
            .profile_url
            .clone()
            .unwrap_or_else(|| account.actor_url.clone()),
        uri: account.actor_url.clone(),
        avatar_static: avatar.clone(),
        avatar,
        header: urls.path(DEFAULT_AVATAR_PATH),
        header_static: urls.path(DEFAULT_AVATAR_PATH),
        followers_count: view.followers,
        following_count: view.following,
        statuses_count: view.statuses,
        last_status_at: None,
        emojis: Vec::new(),
        fields: Vec::new(),
        source: None,
    }
}

/// The account of `verify_credentials`: with `source`.
pub fn credential_account_to_mastodon(
    view: &AccountView,
    urls: &Urls,
    follow_requests: i64,
) -> Account {
    let mut account = account_to_mastodon(view, urls);
    account.source = Some(AccountSource {
        note: view.account.summary.clone().unwrap_or_default(),
        fields: Vec::new(),
        privacy: "public",
        sensitive: false,
        language: String::new(),
        follow_requests_count: follow_requests,
    });
    account
}

/// Mastodon's visibility of a post.
pub fn visibility_to_mastodon(visibility: Visibility, document: &str) -> &'static str {
    match visibility {
        Visibility::Public if public_in_to(document) => "public",
        Visibility::Public => "unlisted",
        Visibility::Followers => "private",
        Visibility::Direct => "direct",
    }
}

pub fn post_to_status(view: &PostView, urls: &Urls) -> Status {
    let post = &view.post;
    let facts = &view.facts;
    let tags = facts
        .hashtags
        .iter()
        .map(|tag| Tag {
            name: tag.name.clone(),
            url: tag
                .href
                .clone()
                .unwrap_or_else(|| urls.path(&format!("/tags/{}", tag.name.to_lowercase()))),
        })
        .collect();
    let spoiler_text = post.summary.clone().unwrap_or_default();
    let sensitive = facts.sensitive || !spoiler_text.is_empty();
    let visibility = match post.visibility {
        Visibility::Public if facts.listed => "public",
        Visibility::Public => "unlisted",
        Visibility::Followers => "private",
        Visibility::Direct => "direct",
    };
    Status {
        id: view.id.to_string(),
        uri: post.ap_id.clone(),
        url: post.url.clone().unwrap_or_else(|| post.ap_id.clone()),
        account: account_to_mastodon(&view.author, urls),
        content: post.content.clone().unwrap_or_default(),
        text: None,
        created_at: timestamp(post.published),
        edited_at: post.updated.map(timestamp),
        visibility,
        sensitive,
        spoiler_text,
        media_attachments: Vec::new(),
        mentions: view
            .mentions
            .iter()
            .map(|m| Mention {
                id: m.id.to_string(),
                username: m.username.clone(),
                url: m.profile_url.clone().unwrap_or_else(|| m.actor_url.clone()),
                acct: acct_of(m),
            })
            .collect(),
        tags,
        emojis: Vec::new(),
        reblogs_count: view.reblogs,
        favourites_count: view.favourites,
        replies_count: view.replies,
        in_reply_to_id: view.parent.map(|(id, _)| id.to_string()),
        in_reply_to_account_id: view.parent.map(|(_, author)| author.to_string()),
        reblog: None,
        application: None,
        language: facts.language.clone(),
        favourited: view.favourited,
        reblogged: view.reblogged,
        muted: false,
        bookmarked: false,
        pinned: false,
        poll: None,
        card: None,
        filtered: Vec::new(),
    }
}

pub fn notification_to_mastodon(view: &NotificationView, urls: &Urls) -> Notification {
    Notification {
        id: view.id.to_string(),
        kind: view.kind,
        created_at: timestamp(view.created_at),
        account: account_to_mastodon(&view.account, urls),
        status: view.status.as_ref().map(|s| post_to_status(s, urls)),
    }
}

pub fn conversation_to_mastodon(view: &ConversationView, urls: &Urls) -> Conversation {
    Conversation {
        id: view.id.to_string(),
        unread: view.unread,
        accounts: view
            .accounts
            .iter()
            .map(|a| account_to_mastodon(a, urls))
            .collect(),
        last_status: Some(post_to_status(&view.last, urls)),
    }
}

pub fn relationship_to_mastodon(relationship: &DomainRelationship) -> Relationship {
    Relationship {
        id: relationship.id.to_string(),
        following: relationship.following,
        showing_reblogs: relationship.following,
        notifying: false,
        languages: None,
        followed_by: relationship.followed_by,
        blocking: relationship.blocking,
        blocked_by: relationship.blocked_by,
        muting: false,
        muting_notifications: false,
        requested: relationship.requested,
        requested_by: relationship.requested_by,
        domain_blocking: false,
        endorsed: false,
        note: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visibility_follows_the_addressing() {
        let public = r#"{"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":[]}"#;
        let unlisted = r#"{"to":["https://a.example/users/alice/followers"],"cc":["as:Public"]}"#;
        assert_eq!(visibility_to_mastodon(Visibility::Public, public), "public");
        assert_eq!(
            visibility_to_mastodon(Visibility::Public, unlisted),
            "unlisted"
        );
        assert_eq!(
            visibility_to_mastodon(Visibility::Followers, unlisted),
            "private"
        );
        assert_eq!(visibility_to_mastodon(Visibility::Direct, "{}"), "direct");
    }

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_micro_opt(16, 5, 9, 123_456)
            .unwrap();
        assert_eq!(timestamp(at), "2026-11-29T16:05:09.123Z");
    }
}
