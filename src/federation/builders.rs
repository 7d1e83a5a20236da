//! Pure builders of the ActivityStreams documents Estuary mints. Queueing
//! and storing them is somebody else's job.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::context::ACTIVITYSTREAMS;
use crate::domain::accounts::Account;

/// xsd:dateTime as peers expect it (UTC, seconds, `Z`).
pub fn timestamp(at: NaiveDateTime) -> String {
    DateTime::<Utc>::from_naive_utc_and_offset(at, Utc).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A recipient named with a Mention tag.
#[derive(Debug, Clone)]
pub struct Mention {
    pub href: String,
    /// `@name@host`.
    pub name: String,
}

/// What a new note says and whom it is for.
#[derive(Debug, Clone)]
pub struct NoteDraft {
    pub id: String,
    pub content_html: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub in_reply_to: Option<String>,
    pub context: Option<String>,
    pub mentions: Vec<Mention>,
    pub published: NaiveDateTime,
}

pub fn build_note(author: &Account, draft: &NoteDraft) -> Value {
    let mut note = json!({
        "@context": ACTIVITYSTREAMS,
        "id": draft.id,
        "type": "Note",
        "attributedTo": author.actor_url,
        "content": draft.content_html,
        "to": draft.to,
        "cc": draft.cc,
        "published": timestamp(draft.published),
        "replies": format!("{}/replies", draft.id),
        "tag": draft.mentions.iter().map(|m| json!({
            "type": "Mention", "href": m.href, "name": m.name
        })).collect::<Vec<_>>(),
    });
    if let Some(reply) = &draft.in_reply_to {
        note["inReplyTo"] = json!(reply);
    }
    if let Some(context) = &draft.context {
        note["context"] = json!(context);
    }
    note
}

/// Wraps an object in a Create by its author, with the same addressing.
pub fn build_create(id: &str, author: &Account, object: &Value) -> Value {
    let mut inner = object.clone();
    if let Some(map) = inner.as_object_mut() {
        map.remove("@context");
    }
    json!({
        "@context": ACTIVITYSTREAMS,
        "id": id,
        "type": "Create",
        "actor": author.actor_url,
        "object": inner,
        "to": object.get("to").cloned().unwrap_or_else(|| json!([])),
        "cc": object.get("cc").cloned().unwrap_or_else(|| json!([])),
        "published": object.get("published").cloned().unwrap_or(Value::Null),
    })
}

/// The answer of `followee` to a Follow (`kind` is Accept or Reject); the
/// Follow is embedded so the follower need not fetch it.
pub fn build_follow_answer(kind: &str, id: &str, followee: &Account, follow: &Value) -> Value {
    let mut follow = follow.clone();
    if let Some(map) = follow.as_object_mut() {
        map.remove("@context");
        map.remove("signature");
    }
    let follower = super::wire::field_id(&follow, "actor")
        .unwrap_or_default()
        .to_owned();
    json!({
        "@context": ACTIVITYSTREAMS,
        "id": id,
        "type": kind,
        "actor": followee.actor_url,
        "object": follow,
        "to": [follower],
    })
}

pub fn build_follow(id: &str, follower: &Account, followee_url: &str) -> Value {
    json!({
        "@context": ACTIVITYSTREAMS,
        "id": id,
        "type": "Follow",
        "actor": follower.actor_url,
        "object": followee_url,
        "to": [followee_url],
    })
}

/// A Tombstone standing where a deleted object was.
pub fn build_tombstone(id: &str, former_type: &str, deleted: NaiveDateTime) -> Value {
    json!({
        "@context": ACTIVITYSTREAMS,
        "id": id,
        "type": "Tombstone",
        "formerType": former_type,
        "deleted": timestamp(deleted),
    })
}

/// A Delete of `object` (now a tombstone) by its author, addressed like
/// the object was.
pub fn build_delete(
    id: &str,
    author: &Account,
    tombstone: &Value,
    to: &[String],
    cc: &[String],
) -> Value {
    let mut object = tombstone.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("@context");
    }
    json!({
        "@context": ACTIVITYSTREAMS,
        "id": id,
        "type": "Delete",
        "actor": author.actor_url,
        "object": object,
        "to": to,
        "cc": cc,
    })
}

/// The Delete of an actor by itself (its account is gone), public and to
/// its followers, as Mastodon sends it.
pub fn build_actor_delete(id: &str, actor: &Account) -> Value {
    let mut cc = Vec::new();
    if let Some(followers) = &actor.followers_url {
        cc.push(followers.clone());
    }
    json!({
        "@context": ACTIVITYSTREAMS,
        "id": id,
        "type": "Delete",
        "actor": actor.actor_url,
        "object": actor.actor_url,
        "to": [crate::domain::audience::PUBLIC],
        "cc": cc,
    })
}

/// An OrderedCollection that pages through `first`.
pub fn build_ordered_collection(id: &str, total: i64, first: &str) -> Value {
    json!({
        "@context": ACTIVITYSTREAMS,
        "id": id,
        "type": "OrderedCollection",
        "totalItems": total,
        "first": first,
    })
}

/// One page of an OrderedCollection.
pub fn build_collection_page(
    id: &str,
    part_of: &str,
    items: Vec<Value>,
    next: Option<String>,
    prev: Option<String>,
) -> Value {
    let mut page = json!({
        "@context": ACTIVITYSTREAMS,
        "id": id,
        "type": "OrderedCollectionPage",
        "partOf": part_of,
        "orderedItems": items,
    });
    if let Some(next) = next {
        page["next"] = json!(next);
    }
    if let Some(prev) = prev {
        page["prev"] = json!(prev);
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::AccountKind;

    fn alice() -> Account {
        let at = DateTime::from_timestamp(1_700_000_000, 0)
            .unwrap()
            .naive_utc();
        Account {
            id: 1,
            kind: AccountKind::Person,
            username: "alice".into(),
            domain: None,
            actor_url: "https://a.example/users/alice".into(),
            inbox_url: "https://a.example/users/alice/inbox".into(),
            shared_inbox_url: None,
            outbox_url: None,
            followers_url: Some("https://a.example/users/alice/followers".into()),
            following_url: None,
            profile_url: None,
            public_key_pem: String::new(),
            key_id: None,
            display_name: None,
            summary: None,
            avatar_url: None,
            manually_approves_followers: false,
            site_url: None,
            header_url: None,
            suspended_at: None,
            deleted_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn an_actor_delete_names_the_actor_as_its_object() {
        let delete = build_actor_delete("https://a.example/activities/1", &alice());
        assert_eq!(delete["type"], "Delete");
        assert_eq!(delete["actor"], "https://a.example/users/alice");
        assert_eq!(delete["object"], "https://a.example/users/alice");
        assert_eq!(delete["cc"][0], "https://a.example/users/alice/followers");
    }

    #[test]
    fn a_direct_note_in_a_create_keeps_its_addressing_and_mention() {
        let draft = NoteDraft {
            id: "https://a.example/objects/1".into(),
            content_html: "<p>hi</p>".into(),
            to: vec!["https://b.example/users/bob".into()],
            cc: vec![],
            in_reply_to: None,
            context: None,
            mentions: vec![Mention {
                href: "https://b.example/users/bob".into(),
                name: "@bob@b.example".into(),
            }],
            published: DateTime::from_timestamp(1_700_000_000, 0)
                .unwrap()
                .naive_utc(),
        };
        let note = build_note(&alice(), &draft);
        let create = build_create("https://a.example/activities/1", &alice(), &note);
        assert_eq!(create["type"], "Create");
        assert_eq!(create["actor"], "https://a.example/users/alice");
        assert_eq!(create["to"], json!(["https://b.example/users/bob"]));
        assert_eq!(
            create["object"]["attributedTo"],
            "https://a.example/users/alice"
        );
        assert_eq!(create["object"]["tag"][0]["type"], "Mention");
        assert_eq!(create["object"]["published"], "2023-11-14T22:13:20Z");
        assert!(create["object"].get("@context").is_none());
        assert!(create["object"].get("inReplyTo").is_none());
    }

    #[test]
    fn an_accept_embeds_the_follow_and_addresses_the_follower() {
        let follow = json!({
            "@context": ACTIVITYSTREAMS,
            "id": "https://b.example/follows/1",
            "type": "Follow",
            "actor": "https://b.example/users/bob",
            "object": "https://a.example/users/alice",
        });
        let accept = build_follow_answer(
            "Accept",
            "https://a.example/activities/2",
            &alice(),
            &follow,
        );
        assert_eq!(accept["type"], "Accept");
        assert_eq!(accept["object"]["id"], "https://b.example/follows/1");
        assert_eq!(accept["to"], json!(["https://b.example/users/bob"]));
        assert!(accept["object"].get("@context").is_none());
    }

    #[test]
    fn collections_and_pages() {
        let c = build_ordered_collection("https://a.example/o", 41, "https://a.example/o?page=1");
        assert_eq!(c["totalItems"], 41);
        let p = build_collection_page(
            "https://a.example/o?page=2",
            "https://a.example/o",
            vec![],
            Some("n".into()),
            None,
        );
        assert_eq!(p["next"], "n");
        assert!(p.get("prev").is_none());
        let t = build_tombstone("https://a.example/objects/1", "Note", alice().created_at);
        assert_eq!(t["type"], "Tombstone");
        assert_eq!(t["formerType"], "Note");
    }
}
