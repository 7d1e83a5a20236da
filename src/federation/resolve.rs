//! Finding remote actors: from the database, or by a signed fetch of their
//! document, which is checked and stored.

use serde_json::Value;

use super::ctx::{Federation, SignerError};
use super::fetch::FetchError;
use super::sanitize::sanitize_html;
use super::wire::{self, field_id, text, type_of};
use crate::domain::DomainError;
use crate::domain::accounts::{self, Account, AccountKind, RemoteActor};

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("not a usable actor document: {0}")]
    Invalid(String),
    #[error(transparent)]
    Signer(#[from] SignerError),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl ResolveError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            ResolveError::Fetch(error) => error.is_retryable(),
            ResolveError::Domain(_) => true,
            _ => false,
        }
    }
}

/// Reads an actor document into what we store. `fetched_from` is the URL
/// it was fetched from: the actor must live on the same origin.
pub fn actor_document_to_remote(doc: &Value, fetched_from: &str) -> Result<RemoteActor, String> {
    let id = text(doc, "id").ok_or("no id")?;
    if !wire::same_origin(id, fetched_from) {
        return Err(format!("id {id} is not on the origin it was fetched from"));
    }
    let kind = match type_of(doc).ok_or("no type")? {
        "Person" | "Service" => AccountKind::Person,
        "Group" | "Organization" => AccountKind::Group,
        "Application" => AccountKind::Application,
        other => return Err(format!("{other} is not an actor type")),
    };
    let inbox = text(doc, "inbox").ok_or("no inbox")?;
    if !wire::same_origin(inbox, id) {
        return Err("the inbox is on another origin".into());
    }
    let key = doc.get("publicKey").ok_or("no publicKey")?;
    let key = match key {
        Value::Array(keys) => keys.first().ok_or("empty publicKey")?,
        key => key,
    };
    let key_id = text(key, "id").ok_or("publicKey has no id")?;
    let owner = text(key, "owner").unwrap_or(id);
    if owner != id || !wire::same_origin(key_id, id) {
        return Err("publicKey belongs to someone else".into());
    }
    let pem = text(key, "publicKeyPem").ok_or("publicKey has no publicKeyPem")?;
    let domain = wire::host_of_url(id).ok_or("id has no host")?;
    let shared_inbox = doc
        .get("endpoints")
        .and_then(|e| text(e, "sharedInbox"))
        .filter(|s| wire::same_origin(s, id));
    Ok(RemoteActor {
        kind,
        username: text(doc, "preferredUsername").unwrap_or(id).to_owned(),
        domain,
        actor_url: id.to_owned(),
        inbox_url: inbox.to_owned(),
        shared_inbox_url: shared_inbox.map(str::to_owned),
        outbox_url: text(doc, "outbox").map(str::to_owned),
        followers_url: text(doc, "followers").map(str::to_owned),
        following_url: text(doc, "following").map(str::to_owned),
        profile_url: crate::urls::http_url(field_id(doc, "url")),
        key_id: key_id.to_owned(),
        public_key_pem: pem.to_owned(),
        display_name: text(doc, "name").map(str::to_owned),
        summary: text(doc, "summary").map(sanitize_html),
        avatar_url: crate::urls::http_url(doc.get("icon").and_then(|icon| field_id(icon, "url"))),
        manually_approves_followers: doc
            .get("manuallyApprovesFollowers")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

async fn fetch_document(fed: &Federation, url: &str) -> Result<Value, ResolveError> {
    let parsed = url::Url::parse(url).map_err(|e| ResolveError::Invalid(e.to_string()))?;
    let signer = fed.instance_signer().await?;
    Ok(fed.fetcher.get_json(&parsed, Some(&signer)).await?)
}

async fn store_actor_document(
    fed: &Federation,
    doc: &Value,
    url: &str,
) -> Result<Account, ResolveError> {
    let remote = actor_document_to_remote(doc, url).map_err(ResolveError::Invalid)?;
    if remote.domain == fed.urls.host() {
        return Err(ResolveError::Invalid(
            "a remote actor on our own host".into(),
        ));
    }
    Ok(accounts::upsert_remote(&fed.store, remote).await?)
}

/// The actor at `url`: stored, or fetched and stored.
pub async fn actor(fed: &Federation, url: &str) -> Result<Account, ResolveError> {
    if let Some(found) = accounts::find_by_actor_url(&fed.store, url).await? {
        return Ok(found);
    }
    refresh_actor(fed, url).await
}

/// Fetches the actor at `url` again and stores what it says now.
pub async fn refresh_actor(fed: &Federation, url: &str) -> Result<Account, ResolveError> {
    let doc = fetch_document(fed, url).await?;
    store_actor_document(fed, &doc, url).await
}

/// Fetches the owner of `key_id`: the key id without its fragment names
/// either the actor (Mastodon: `ACTOR#main-key`) or a key document with an
/// `owner` (GoToSocial: `ACTOR/main-key`).
pub async fn fetch_key_owner(fed: &Federation, key_id: &str) -> Result<Account, ResolveError> {
    let url = key_id.split('#').next().unwrap_or(key_id);
    let doc = fetch_document(fed, url).await?;
    if doc.get("inbox").is_some() {
        return store_actor_document(fed, &doc, url).await;
    }
    let owner = text(&doc, "owner")
        .or_else(|| doc.get("publicKey").and_then(|k| text(k, "owner")))
        .ok_or_else(|| ResolveError::Invalid("the key document names no owner".into()))?;
    if !wire::same_origin(owner, url) {
        return Err(ResolveError::Invalid(
            "the key's owner is on another origin".into(),
        ));
    }
    refresh_actor(fed, owner).await
}

/// Splits `acct:name@host`, `@name@host` or `name@host`.
pub fn parse_handle(handle: &str) -> Option<(&str, &str)> {
    let handle = handle.strip_prefix("acct:").unwrap_or(handle);
    let handle = handle.strip_prefix('@').unwrap_or(handle);
    let (name, host) = handle.split_once('@')?;
    let valid = |s: &str| !s.is_empty() && !s.contains(['@', '/', '?', '#', ' ']);
    (valid(name) && valid(host)).then_some((name, host))
}

/// The actor a handle names: local ones from the database, remote ones by
/// WebFinger (https; plain http too when private addresses are allowed,
/// for development and tests).
pub async fn handle(fed: &Federation, handle: &str) -> Result<Account, ResolveError> {
    let (name, host) = parse_handle(handle)
        .ok_or_else(|| ResolveError::Invalid(format!("{handle} is not a handle")))?;
    if host.eq_ignore_ascii_case(&fed.urls.host()) {
        return accounts::find_local(&fed.store, name)
            .await?
            .ok_or_else(|| ResolveError::Invalid(format!("there is no local account {name}")));
    }
    let resource = format!("acct:{name}@{host}");
    let mut schemes = vec!["https"];
    if fed.fetcher.allows_private_addresses() {
        schemes.push("http");
    }
    let mut last_error = None;
    for scheme in schemes {
        let mut url = url::Url::parse(&format!("{scheme}://{host}/.well-known/webfinger"))
            .map_err(|e| ResolveError::Invalid(e.to_string()))?;
        url.query_pairs_mut().append_pair("resource", &resource);
        match fed.fetcher.get_json(&url, None).await {
            Ok(jrd) => {
                let self_link = jrd
                    .get("links")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .find(|link| {
                        text(link, "rel") == Some("self")
                            && text(link, "type").is_some_and(|t| {
                                t.contains("activity+json") || t.contains("ld+json")
                            })
                    })
                    .and_then(|link| text(link, "href"))
                    .ok_or_else(|| {
                        ResolveError::Invalid(format!("{resource} has no ActivityPub actor"))
                    })?;
                return actor(fed, self_link).await;
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error
        .map(ResolveError::Fetch)
        .unwrap_or_else(|| ResolveError::Invalid(resource)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "id": "https://b.example/users/bob",
            "type": "Person",
            "preferredUsername": "bob",
            "name": "Bob",
            "summary": "<p>hi<script>x</script></p>",
            "inbox": "https://b.example/users/bob/inbox",
            "endpoints": {"sharedInbox": "https://b.example/inbox"},
            "followers": "https://b.example/users/bob/followers",
            "publicKey": {
                "id": "https://b.example/users/bob#main-key",
                "owner": "https://b.example/users/bob",
                "publicKeyPem": "-----BEGIN PUBLIC KEY-----"
            }
        })
    }

    #[test]
    fn handles_parse() {
        assert_eq!(
            parse_handle("acct:bob@b.example"),
            Some(("bob", "b.example"))
        );
        assert_eq!(
            parse_handle("@bob@b.example:8080"),
            Some(("bob", "b.example:8080"))
        );
        assert_eq!(parse_handle("bob@b.example"), Some(("bob", "b.example")));
        assert_eq!(parse_handle("bob"), None);
        assert_eq!(parse_handle("@bob@"), None);
        assert_eq!(parse_handle("a@b@c"), None);
    }

    #[test]
    fn an_actor_document_is_read_and_checked() {
        let remote = actor_document_to_remote(&doc(), "https://b.example/users/bob").unwrap();
        assert_eq!(remote.domain, "b.example");
        assert_eq!(remote.key_id, "https://b.example/users/bob#main-key");
        assert_eq!(
            remote.shared_inbox_url.as_deref(),
            Some("https://b.example/inbox")
        );
        assert_eq!(remote.summary.as_deref(), Some("<p>hi</p>"));

        assert!(actor_document_to_remote(&doc(), "https://evil.example/bob").is_err());
        let mut foreign_key = doc();
        foreign_key["publicKey"]["owner"] = json!("https://b.example/users/mallory");
        assert!(actor_document_to_remote(&foreign_key, "https://b.example/users/bob").is_err());
        let mut foreign_inbox = doc();
        foreign_inbox["inbox"] = json!("https://evil.example/inbox");
        assert!(actor_document_to_remote(&foreign_inbox, "https://b.example/users/bob").is_err());
        let mut note = doc();
        note["type"] = json!("Note");
        assert!(actor_document_to_remote(&note, "https://b.example/users/bob").is_err());
    }

    #[test]
    fn an_actor_url_or_icon_that_is_not_http_is_dropped() {
        let mut hostile = doc();
        hostile["url"] = json!("javascript:alert(1)");
        hostile["icon"] = json!({"type": "Image", "url": "javascript:alert(2)"});
        let remote = actor_document_to_remote(&hostile, "https://b.example/users/bob").unwrap();
        assert_eq!(remote.profile_url, None);
        assert_eq!(remote.avatar_url, None);
        hostile["url"] = json!("https://b.example/@bob");
        let remote = actor_document_to_remote(&hostile, "https://b.example/users/bob").unwrap();
        assert_eq!(
            remote.profile_url.as_deref(),
            Some("https://b.example/@bob")
        );
    }
}
