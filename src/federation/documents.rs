//! Typed ActivityStreams activities as Estuary mints them: one struct for
//! every activity (Create, Update, Delete, Announce, Like, Undo, Accept,
//! Reject, Block, Follow), filled by a builder, serialised by serde. Stored
//! documents read back go through [`stored_document`], which fails loudly
//! instead of yielding `null`.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::Value;

use super::builders::timestamp;
use super::context::ACTIVITYSTREAMS;

/// The activity types Estuary mints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ActivityKind {
    Create,
    Update,
    Delete,
    Announce,
    Like,
    Undo,
    Accept,
    Reject,
    Block,
    Follow,
    Flag,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Create => "Create",
            ActivityKind::Update => "Update",
            ActivityKind::Delete => "Delete",
            ActivityKind::Announce => "Announce",
            ActivityKind::Like => "Like",
            ActivityKind::Undo => "Undo",
            ActivityKind::Accept => "Accept",
            ActivityKind::Reject => "Reject",
            ActivityKind::Block => "Block",
            ActivityKind::Follow => "Follow",
            ActivityKind::Flag => "Flag",
        }
    }
}

/// The object of an activity: an id, several ids (a Flag's account and
/// posts), or the whole document embedded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ActivityObject {
    Id(String),
    Ids(Vec<String>),
    Embedded(Value),
}

impl ActivityObject {
    /// An embedded document without its own `@context` (and signature):
    /// the activity carries the context.
    pub fn embed(mut document: Value) -> Self {
        if let Some(map) = document.as_object_mut() {
            map.remove("@context");
            map.remove("signature");
        }
        ActivityObject::Embedded(document)
    }
}

/// An activity as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityDocument {
    #[serde(rename = "@context")]
    pub context: &'static str,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: ActivityKind,
    pub actor: String,
    pub object: ActivityObject,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

impl ActivityDocument {
    /// Starts an activity `kind` by `actor` about `object`.
    pub fn builder(
        kind: ActivityKind,
        id: &str,
        actor: &str,
        object: ActivityObject,
    ) -> ActivityBuilder {
        ActivityBuilder(ActivityDocument {
            context: ACTIVITYSTREAMS,
            id: id.to_owned(),
            kind,
            actor: actor.to_owned(),
            object,
            to: Vec::new(),
            cc: Vec::new(),
            audience: None,
            summary: None,
            url: None,
            published: None,
        })
    }

    /// Every addressee (`to`, `cc`, `audience`), in order, without repeats.
    pub fn addressees(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for address in self.to.iter().chain(&self.cc).chain(&self.audience) {
            if !all.contains(address) {
                all.push(address.clone());
            }
        }
        all
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("documents serialise")
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("documents serialise")
    }
}

/// Fills an [`ActivityDocument`].
#[derive(Debug, Clone)]
pub struct ActivityBuilder(ActivityDocument);

impl ActivityBuilder {
    pub fn to(mut self, to: impl IntoIterator<Item = String>) -> Self {
        self.0.to = to.into_iter().collect();
        self
    }

    pub fn cc(mut self, cc: impl IntoIterator<Item = String>) -> Self {
        self.0.cc = cc.into_iter().collect();
        self
    }

    pub fn audience(mut self, audience: &str) -> Self {
        self.0.audience = Some(audience.to_owned());
        self
    }

    pub fn summary(mut self, summary: &str) -> Self {
        self.0.summary = Some(summary.to_owned());
        self
    }

    pub fn url(mut self, url: &str) -> Self {
        self.0.url = Some(url.to_owned());
        self
    }

    pub fn published(mut self, at: NaiveDateTime) -> Self {
        self.0.published = Some(timestamp(at));
        self
    }

    pub fn build(self) -> ActivityDocument {
        self.0
    }
}

/// A stored document did not parse: an error to report, never a `null`.
#[derive(Debug, thiserror::Error)]
#[error("the stored document of {id} is not valid JSON: {cause}")]
pub struct CorruptDocument {
    pub id: String,
    pub cause: String,
}

impl From<CorruptDocument> for crate::domain::DomainError {
    fn from(error: CorruptDocument) -> Self {
        crate::domain::DomainError::CorruptDocument(error.to_string())
    }
}

/// Parses a document read back from the store.
pub fn stored_document(id: &str, text: &str) -> Result<Value, CorruptDocument> {
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| CorruptDocument {
            id: id.to_owned(),
            cause: text.chars().take(40).collect(),
        })
}

/// A stored note brought up to date: new content (and name), `updated`.
pub fn build_updated_note(
    stored: &Value,
    content_html: &str,
    name: Option<&str>,
    updated: NaiveDateTime,
) -> Value {
    let mut note = stored.clone();
    if let Some(map) = note.as_object_mut() {
        map.insert("content".into(), Value::String(content_html.to_owned()));
        map.insert("updated".into(), Value::String(timestamp(updated)));
        if let Some(name) = name {
            map.insert("name".into(), Value::String(name.to_owned()));
        }
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_activity_serialises_as_peers_expect() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z")
            .unwrap()
            .naive_utc();
        let like = ActivityDocument::builder(
            ActivityKind::Like,
            "https://a.example/activities/1",
            "https://a.example/users/alice",
            ActivityObject::Id("https://b.example/notes/1".into()),
        )
        .to(["https://b.example/users/bob".to_owned()])
        .published(at)
        .build();
        assert_eq!(
            like.to_value(),
            json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": "https://a.example/activities/1",
                "type": "Like",
                "actor": "https://a.example/users/alice",
                "object": "https://b.example/notes/1",
                "to": ["https://b.example/users/bob"],
                "cc": [],
                "published": "2026-11-29T10:00:00Z",
            })
        );
        assert_eq!(like.addressees(), vec!["https://b.example/users/bob"]);
    }

    #[test]
    fn embedded_objects_lose_their_context_and_signature() {
        let announce = ActivityDocument::builder(
            ActivityKind::Announce,
            "https://a.example/activities/2",
            "https://a.example/rooms/garden",
            ActivityObject::embed(json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": "https://b.example/activities/9",
                "type": "Create",
                "signature": {"type": "RsaSignature2017"},
            })),
        )
        .to(["https://a.example/rooms/garden/followers".to_owned()])
        .audience("https://a.example/rooms/garden")
        .build()
        .to_value();
        assert_eq!(
            announce["object"],
            json!({"id": "https://b.example/activities/9", "type": "Create"})
        );
        assert_eq!(announce["audience"], "https://a.example/rooms/garden");
    }

    #[test]
    fn a_stored_document_that_does_not_parse_is_an_error() {
        assert!(stored_document("x", "{\"id\":1}").is_ok());
        assert!(stored_document("x", "").is_err());
        assert!(stored_document("x", "null").is_err());
        assert!(stored_document("x", "[1]").is_err());
    }

    #[test]
    fn an_updated_note_keeps_its_fields() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z")
            .unwrap()
            .naive_utc();
        let stored = json!({"id": "n", "type": "Note", "content": "old", "to": ["x"]});
        let updated = build_updated_note(&stored, "new", Some("Title"), at);
        assert_eq!(updated["content"], "new");
        assert_eq!(updated["name"], "Title");
        assert_eq!(updated["to"], json!(["x"]));
        assert_eq!(updated["updated"], "2026-11-29T10:00:00Z");
    }
}
