//! Publishing as a local account: minting ids and building the documents;
//! the ledger records them and routes them. The client API (and, until it
//! exists, tests) call these.

use chrono::Utc;

use super::answers::answer_follow;
use super::builders::{
    Mention, NoteDraft, build_create, build_delete, build_follow, build_note, build_tombstone,
};
use super::ctx::Federation;
use super::documents::stored_document;
use super::resolve::{self, ResolveError};
use crate::domain::DomainError;
use crate::domain::accounts::Account;
use crate::domain::audience::classify;
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::{self, NewActivity, NewPost};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("cannot resolve {0}: {1}")]
    Recipient(String, ResolveError),
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error(transparent)]
    Corrupt(#[from] super::documents::CorruptDocument),
}

/// What a local author writes.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// HTML (already safe: written by a local user through a client).
    pub content_html: String,
    /// Actor ids, collection ids or the public collection.
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub in_reply_to: Option<String>,
    /// A content warning (`summary`), with `sensitive` set.
    pub summary: Option<String>,
    pub sensitive: bool,
    /// BCP 47 language tag of the content (`contentMap`).
    pub language: Option<String>,
    /// Hashtags (without `#`) and the URL each links to.
    pub hashtags: Vec<(String, String)>,
}

/// The ids of a published post.
#[derive(Debug, Clone)]
pub struct Published {
    pub object_id: String,
    pub activity_id: String,
}

/// Publishes a Note by `author`: each actor addressed directly gets a
/// Mention tag; the note is stored, filed for local addressees and queued
/// for delivery to remote ones.
pub async fn publish_note(
    fed: &Federation,
    author: &Account,
    draft: Draft,
) -> Result<Published, PublishError> {
    let mut mentions = Vec::new();
    for address in draft.to.iter().chain(&draft.cc) {
        if crate::domain::audience::is_public_address(address)
            || author.followers_url.as_deref() == Some(address.as_str())
        {
            continue;
        }
        let actor = resolve::actor(fed, address)
            .await
            .map_err(|e| PublishError::Recipient(address.clone(), e))?;
        let host = actor.domain.clone().unwrap_or_else(|| fed.urls.host());
        mentions.push(Mention {
            href: actor.actor_url.clone(),
            name: format!("@{}@{host}", actor.username),
        });
    }
    let now = Utc::now().naive_utc();
    let object_id = fed.urls.mint("objects");
    let activity_id = fed.urls.mint("activities");
    // A reply joins its parent's conversation; anything else starts one.
    let parent_context = match &draft.in_reply_to {
        Some(parent) => posts::find_post(&fed.store, parent)
            .await?
            .and_then(|p| p.context),
        None => None,
    };
    let context = parent_context.unwrap_or_else(|| fed.urls.mint("contexts"));
    let note_draft = NoteDraft {
        id: object_id.clone(),
        content_html: draft.content_html.clone(),
        to: draft.to.clone(),
        cc: draft.cc.clone(),
        in_reply_to: draft.in_reply_to.clone(),
        context: Some(context.clone()),
        mentions,
        published: now,
    };
    let mut note = build_note(author, &note_draft);
    if let Some(summary) = &draft.summary {
        note["summary"] = serde_json::json!(summary);
    }
    if draft.sensitive || draft.summary.is_some() {
        note["sensitive"] = serde_json::json!(true);
    }
    if let Some(language) = &draft.language {
        note["contentMap"] = serde_json::json!({ language: draft.content_html });
    }
    if let Some(tags) = note["tag"].as_array_mut() {
        for (name, href) in &draft.hashtags {
            tags.push(
                serde_json::json!({ "type": "Hashtag", "href": href, "name": format!("#{name}") }),
            );
        }
    }
    let create = build_create(&activity_id, author, &note);
    let addressees: Vec<String> = draft.to.iter().chain(&draft.cc).cloned().collect();
    let visibility = classify(&addressees, author.followers_url.as_deref());
    let post = NewPost {
        ap_id: object_id.clone(),
        kind: "Note".into(),
        author_id: author.id,
        content: Some(draft.content_html),
        summary: draft.summary,
        name: None,
        in_reply_to: draft.in_reply_to,
        context: Some(context),
        url: None,
        addressees: addressees.clone(),
        visibility,
        document: note.to_string(),
        local: true,
        published: now,
    };
    let activity = NewActivity {
        ap_id: activity_id.clone(),
        kind: "Create".into(),
        actor_id: author.id,
        object_ap_id: Some(object_id.clone()),
        addressees,
        visibility,
        document: create.to_string(),
        local: true,
        published: now,
    };
    ledger::record(&fed.store, &fed.urls, author, activity, Effect::Post(post)).await?;
    fed.wake.notify_one();
    Ok(Published {
        object_id,
        activity_id,
    })
}

/// `follower` (local) asks to follow the actor at `followee_url`.
pub async fn follow(
    fed: &Federation,
    follower: &Account,
    followee_url: &str,
) -> Result<String, PublishError> {
    let followee = resolve::actor(fed, followee_url)
        .await
        .map_err(|e| PublishError::Recipient(followee_url.to_owned(), e))?;
    let id = fed.urls.mint("activities");
    let document = build_follow(&id, follower, &followee.actor_url);
    let activity = NewActivity::minted(
        follower,
        id.clone(),
        "Follow",
        Some(followee.actor_url.clone()),
        vec![followee.actor_url.clone()],
        document.to_string(),
        Utc::now().naive_utc(),
    );
    // A local followee answers here and now; a remote one by its inbox.
    let answer = if followee.is_local() {
        Some(answer_follow(fed, follower, &followee, &document).await?)
    } else {
        None
    };
    let effect = Effect::Follow {
        followee: Box::new(followee),
        answer,
    };
    ledger::record(&fed.store, &fed.urls, follower, activity, effect).await?;
    fed.wake.notify_one();
    Ok(id)
}

/// Deletes a local post by its author; the Delete goes to everyone the post
/// went to.
pub async fn delete_note(
    fed: &Federation,
    author: &Account,
    object_id: &str,
) -> Result<String, PublishError> {
    let post = posts::find_post(&fed.store, object_id)
        .await?
        .filter(|p| p.local && p.deleted_at.is_none())
        .ok_or_else(|| DomainError::NoSuchObject(object_id.to_owned()))?;
    let now = Utc::now().naive_utc();
    let note = stored_document(&post.ap_id, &post.document)?;
    let field = |name: &str| -> Vec<String> {
        note.get(name)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    };
    let id = fed.urls.mint("activities");
    let tombstone = build_tombstone(object_id, &post.kind, now);
    let document = build_delete(&id, author, &tombstone, &field("to"), &field("cc"));
    let activity = NewActivity {
        ap_id: id.clone(),
        kind: "Delete".into(),
        actor_id: author.id,
        object_ap_id: Some(object_id.to_owned()),
        addressees: post.addressees.clone(),
        visibility: post.visibility,
        document: document.to_string(),
        local: true,
        published: now,
    };
    let effect = Effect::DeletePost {
        object_ap_id: object_id.to_owned(),
    };
    ledger::record(&fed.store, &fed.urls, author, activity, effect).await?;
    fed.wake.notify_one();
    Ok(id)
}
