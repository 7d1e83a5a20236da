//! Actor documents (Person, Group, Application) and the converter from a
//! domain account.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::context::actor_context;
use crate::domain::accounts::Account;

/// An actor as served at its id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorDocument {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub preferred_username: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub inbox: String,
    pub outbox: String,
    pub followers: String,
    pub following: String,
    pub endpoints: Endpoints,
    pub url: String,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<Image>,
    /// The header image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    pub public_key: PublicKey,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    pub shared_inbox: String,
    /// The client API's OAuth endpoints (local people only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_authorization_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_token_endpoint: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKey {
    pub id: String,
    pub owner: String,
    pub public_key_pem: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Image {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

/// The id of an actor's main key.
pub fn main_key_id(actor_url: &str) -> String {
    format!("{actor_url}#main-key")
}

/// Escapes plain text for inclusion in HTML.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text (as the operator typed it) to the HTML AS2 expects: one
/// paragraph per blank-line-separated block, line breaks kept.
fn plain_text_to_html(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", escape_html(p).replace('\n', "<br>")))
        .collect()
}

/// Builds the actor document of a local account.
pub fn account_to_actor(account: &Account) -> ActorDocument {
    let actor = account.actor_url.clone();
    let origin = url::Url::parse(&actor)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let oauth = |path: &str| {
        (account.is_local() && account.kind == crate::domain::accounts::AccountKind::Person)
            .then(|| format!("{origin}{path}"))
    };
    let or_actor_path = |url: &Option<String>, suffix: &str| {
        url.clone().unwrap_or_else(|| format!("{actor}/{suffix}"))
    };
    ActorDocument {
        context: actor_context(),
        id: actor.clone(),
        kind: account.kind.as_str().to_owned(),
        preferred_username: account.username.clone(),
        name: account.shown_name().to_owned(),
        summary: account
            .summary
            .as_deref()
            .map(plain_text_to_html)
            .filter(|html| !html.is_empty()),
        inbox: account.inbox_url.clone(),
        outbox: or_actor_path(&account.outbox_url, "outbox"),
        followers: or_actor_path(&account.followers_url, "followers"),
        following: or_actor_path(&account.following_url, "following"),
        endpoints: Endpoints {
            shared_inbox: account
                .shared_inbox_url
                .clone()
                .unwrap_or_else(|| account.inbox_url.clone()),
            oauth_authorization_endpoint: oauth("/oauth/authorize"),
            oauth_token_endpoint: oauth("/oauth/token"),
        },
        url: account.profile_url.clone().unwrap_or_else(|| actor.clone()),
        manually_approves_followers: account.manually_approves_followers,
        discoverable: true,
        published: account
            .created_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        icon: account.avatar_url.as_ref().map(|url| Image {
            kind: "Image".into(),
            url: url.clone(),
        }),
        image: account.header_url.as_ref().map(|url| Image {
            kind: "Image".into(),
            url: url.clone(),
        }),
        public_key: PublicKey {
            id: main_key_id(&actor),
            owner: actor,
            public_key_pem: account.public_key_pem.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::AccountKind;

    fn room() -> Account {
        Account {
            id: 1,
            kind: AccountKind::Group,
            username: "garden".into(),
            domain: None,
            actor_url: "https://e.example/rooms/garden".into(),
            inbox_url: "https://e.example/rooms/garden/inbox".into(),
            shared_inbox_url: Some("https://e.example/inbox".into()),
            outbox_url: Some("https://e.example/rooms/garden/outbox".into()),
            followers_url: Some("https://e.example/rooms/garden/followers".into()),
            following_url: Some("https://e.example/rooms/garden/following".into()),
            profile_url: Some("https://e.example/@garden".into()),
            public_key_pem: "-----BEGIN PUBLIC KEY-----\n...".into(),
            key_id: None,
            display_name: None,
            summary: Some("Seeds & <weeds>\n\nSecond".into()),
            avatar_url: None,
            manually_approves_followers: true,
            site_url: None,
            header_url: None,
            suspended_at: None,
            deleted_at: None,
            created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0)
                .unwrap()
                .naive_utc(),
            updated_at: chrono::DateTime::from_timestamp(1_700_000_000, 0)
                .unwrap()
                .naive_utc(),
        }
    }

    #[test]
    fn a_room_becomes_a_group_actor() {
        let doc = account_to_actor(&room());
        let json = serde_json::to_value(&doc).unwrap();
        assert_eq!(json["type"], "Group");
        assert_eq!(json["name"], "garden", "falls back to the username");
        assert_eq!(
            json["summary"],
            "<p>Seeds &amp; &lt;weeds&gt;</p><p>Second</p>"
        );
        assert_eq!(json["manuallyApprovesFollowers"], true);
        assert_eq!(
            json["publicKey"]["id"],
            "https://e.example/rooms/garden#main-key"
        );
        assert_eq!(json["publicKey"]["owner"], "https://e.example/rooms/garden");
        assert_eq!(json["endpoints"]["sharedInbox"], "https://e.example/inbox");
        assert_eq!(json["published"], "2023-11-14T22:13:20Z");
        assert!(json.get("icon").is_none());
        assert!(!json.to_string().contains("PRIVATE"));
    }
}
