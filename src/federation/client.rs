//! ActivityPub client-to-server (section 6): what a client POSTs to its
//! account's outbox is checked, completed (ids, actor, addressing,
//! mentions) and published with its side effects. Everything is validated
//! before anything is stored.

use chrono::Utc;
use serde_json::{Value, json};

use super::builders::build_follow;
use super::ctx::Federation;
use super::documents::{
    ActivityDocument, ActivityKind, ActivityObject, build_updated_note, stored_document,
};
use super::outbox::{self, Draft, PublishError};
use super::resolve::{self, ResolveError};
use super::sanitize::sanitize_html;
use super::wire::{self, field_id, text, type_of};
use crate::domain::DomainError;
use crate::domain::accounts::Account;
use crate::domain::audience::{PUBLIC, is_public_address};
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::{self, NewActivity, PostChanges};

/// Longest note content accepted, in characters.
pub const MAX_CONTENT_CHARS: usize = 50_000;

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// 400
    #[error("{0}")]
    Invalid(String),
    /// 403
    #[error("{0}")]
    Forbidden(String),
    /// 500
    #[error(transparent)]
    Internal(DomainError),
}

impl From<DomainError> for SubmitError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::NotOwner | DomainError::NotMember(_) => {
                SubmitError::Forbidden(error.to_string())
            }
            DomainError::NoSuchObject(_) | DomainError::Conflict(_) => {
                SubmitError::Invalid(error.to_string())
            }
            other => SubmitError::Internal(other),
        }
    }
}

impl From<super::documents::CorruptDocument> for SubmitError {
    fn from(error: super::documents::CorruptDocument) -> Self {
        SubmitError::Internal(error.into())
    }
}

impl From<PublishError> for SubmitError {
    fn from(error: PublishError) -> Self {
        match error {
            PublishError::Recipient(..) => SubmitError::Invalid(error.to_string()),
            PublishError::Domain(error) => error.into(),
            PublishError::Corrupt(error) => error.into(),
        }
    }
}

fn invalid(message: impl Into<String>) -> SubmitError {
    SubmitError::Invalid(message.into())
}

/// Resolves one addressee: the public collection, the author's followers,
/// a handle (`acct:bob@host`, `@bob@host`) or an actor id.
async fn resolve_addressee(
    fed: &Federation,
    author: &Account,
    address: &str,
) -> Result<String, SubmitError> {
    if is_public_address(address) {
        return Ok(PUBLIC.to_owned());
    }
    if author.followers_url.as_deref() == Some(address) {
        return Ok(address.to_owned());
    }
    let found = if address.starts_with("http://") || address.starts_with("https://") {
        resolve::actor(fed, address).await
    } else {
        resolve::handle(fed, address).await
    };
    found
        .map(|account| account.actor_url)
        .map_err(|e: ResolveError| invalid(format!("cannot resolve the addressee {address}: {e}")))
}

fn listed(document: &Value, field: &str) -> Vec<String> {
    match document.get(field) {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(wire::id_of)
            .map(str::to_owned)
            .collect(),
        Some(value) => wire::id_of(value)
            .map(|s| vec![s.to_owned()])
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

/// `to` and `cc` of the activity and its object together, resolved.
async fn addressing(
    fed: &Federation,
    author: &Account,
    activity: &Value,
) -> Result<(Vec<String>, Vec<String>), SubmitError> {
    let object = activity.get("object").filter(|o| o.is_object());
    let mut resolved = (Vec::new(), Vec::new());
    for (field, target) in [("to", &mut resolved.0), ("cc", &mut resolved.1)] {
        let mut raw = listed(activity, field);
        if let Some(object) = object {
            raw.extend(listed(object, field));
        }
        if field == "cc" {
            raw.extend(listed(activity, "bcc"));
            raw.extend(listed(activity, "bto"));
        }
        for address in raw {
            let address = resolve_addressee(fed, author, &address).await?;
            if !target.contains(&address) {
                target.push(address);
            }
        }
    }
    resolved.1.retain(|a| !resolved.0.contains(a));
    Ok(resolved)
}

/// Checks that `document` does not speak for someone else.
fn check_actor(document: &Value, field: &str, author: &Account) -> Result<(), SubmitError> {
    match field_id(document, field) {
        Some(actor) if actor != author.actor_url => Err(SubmitError::Forbidden(format!(
            "the {field} must be the token's account"
        ))),
        _ => Ok(()),
    }
}

fn content_of(object: &Value) -> Result<String, SubmitError> {
    let content = text(object, "content").ok_or_else(|| invalid("the note has no content"))?;
    if content.trim().is_empty() {
        return Err(invalid("the note has no content"));
    }
    if content.chars().count() > MAX_CONTENT_CHARS {
        return Err(invalid(format!(
            "the content is longer than {MAX_CONTENT_CHARS} characters"
        )));
    }
    Ok(sanitize_html(content))
}

/// Accepts a client's submission to `author`'s outbox and returns the id of
/// the activity it became.
pub async fn submit(
    fed: &Federation,
    author: &Account,
    body: Value,
) -> Result<String, SubmitError> {
    if !body.is_object() {
        return Err(invalid("the body must be a JSON object"));
    }
    let kind = type_of(&body)
        .ok_or_else(|| invalid("the body has no type"))?
        .to_owned();
    // A bare object is wrapped in a Create (section 6.2.1).
    let activity = if matches!(kind.as_str(), "Note" | "Article") {
        json!({ "type": "Create", "object": body, "to": body.get("to"), "cc": body.get("cc") })
    } else {
        body
    };
    check_actor(&activity, "actor", author)?;
    let kind = type_of(&activity).unwrap_or_default().to_owned();
    let id = match kind.as_str() {
        "Create" => create(fed, author, &activity).await?,
        "Follow" => follow(fed, author, &activity).await?,
        "Like" | "Announce" => react(fed, author, &activity, &kind).await?,
        "Undo" => undo(fed, author, &activity).await?,
        "Update" => update(fed, author, &activity).await?,
        "Delete" => {
            let object =
                field_id(&activity, "object").ok_or_else(|| invalid("the Delete has no object"))?;
            outbox::delete_note(fed, author, object).await?
        }
        "Block" => block(fed, author, &activity).await?,
        "Accept" | "Reject" => answer_follow(fed, author, &activity, &kind).await?,
        other => {
            return Err(invalid(format!(
                "{other} is not an activity this outbox accepts"
            )));
        }
    };
    fed.wake.notify_one();
    Ok(id)
}

async fn create(
    fed: &Federation,
    author: &Account,
    activity: &Value,
) -> Result<String, SubmitError> {
    let object = activity
        .get("object")
        .filter(|o| o.is_object())
        .ok_or_else(|| invalid("the Create has no object"))?;
    if !matches!(type_of(object), Some("Note" | "Article")) {
        return Err(invalid("only a Note or an Article can be created"));
    }
    check_actor(object, "attributedTo", author)?;
    let content_html = content_of(object)?;
    let (to, cc) = addressing(fed, author, activity).await?;
    if to.is_empty() && cc.is_empty() {
        return Err(invalid("the note is addressed to nobody"));
    }
    let draft = Draft {
        content_html,
        to,
        cc,
        in_reply_to: match field_id(object, "inReplyTo") {
            Some(url) if !crate::urls::is_http_url(url) => {
                return Err(invalid("inReplyTo must be an http(s) URL"));
            }
            url => url.map(str::to_owned),
        },
        ..Default::default()
    };
    Ok(outbox::publish_note(fed, author, draft).await?.activity_id)
}

async fn follow(
    fed: &Federation,
    author: &Account,
    activity: &Value,
) -> Result<String, SubmitError> {
    let object = field_id(activity, "object").ok_or_else(|| invalid("the Follow has no object"))?;
    let followee = resolve_addressee(fed, author, object).await?;
    if followee == author.actor_url {
        return Err(invalid("one cannot follow oneself"));
    }
    Ok(outbox::follow(fed, author, &followee).await?)
}

/// An activity to mint for the author.
struct Minted {
    kind: ActivityKind,
    object: ActivityObject,
    object_ap_id: Option<String>,
    to: Vec<String>,
    cc: Vec<String>,
    effect: Effect,
}

/// Stores and queues an activity minted for `author` with its effect.
async fn publish_minted(
    fed: &Federation,
    author: &Account,
    minted: Minted,
) -> Result<String, SubmitError> {
    let Minted {
        kind,
        object,
        object_ap_id,
        to,
        cc,
        effect,
    } = minted;
    let id = fed.urls.mint("activities");
    let now = Utc::now().naive_utc();
    let document = ActivityDocument::builder(kind, &id, &author.actor_url, object)
        .to(to)
        .cc(cc)
        .published(now)
        .build();
    let activity = NewActivity::minted(
        author,
        id.clone(),
        kind.as_str(),
        object_ap_id,
        document.addressees(),
        document.to_json(),
        now,
    );
    ledger::record(&fed.store, &fed.urls, author, activity, effect).await?;
    Ok(id)
}

/// The author of an object: stored, or read from the object itself.
async fn author_of(fed: &Federation, object_id: &str) -> Result<String, SubmitError> {
    if let Some(post) = posts::find_post(&fed.store, object_id).await?
        && let Some(author) =
            crate::domain::accounts::find_by_id(&fed.store, post.author_id).await?
    {
        return Ok(author.actor_url);
    }
    let url = url::Url::parse(object_id).map_err(|_| invalid("the object is not a URL"))?;
    let signer = fed
        .instance_signer()
        .await
        .map_err(|e| invalid(e.to_string()))?;
    let document = fed
        .fetcher
        .get_json(&url, Some(&signer))
        .await
        .map_err(|e| invalid(format!("cannot fetch {object_id}: {e}")))?;
    field_id(&document, "attributedTo")
        .or_else(|| field_id(&document, "actor"))
        .map(str::to_owned)
        .ok_or_else(|| invalid(format!("{object_id} names no author")))
}

async fn react(
    fed: &Federation,
    author: &Account,
    activity: &Value,
    kind: &str,
) -> Result<String, SubmitError> {
    let object =
        field_id(activity, "object").ok_or_else(|| invalid(format!("the {kind} has no object")))?;
    let object_author = author_of(fed, object).await?;
    let (to, cc) = if kind == "Announce" {
        (
            vec![PUBLIC.to_owned()],
            [author.followers_url.clone(), Some(object_author)]
                .into_iter()
                .flatten()
                .collect(),
        )
    } else {
        (vec![object_author], Vec::new())
    };
    let kind = if kind == "Announce" {
        ActivityKind::Announce
    } else {
        ActivityKind::Like
    };
    let effect = Effect::React {
        object_ap_id: object.to_owned(),
    };
    publish_minted(
        fed,
        author,
        Minted {
            kind,
            object: ActivityObject::Id(object.to_owned()),
            object_ap_id: Some(object.to_owned()),
            to,
            cc,
            effect,
        },
    )
    .await
}

async fn undo(fed: &Federation, author: &Account, activity: &Value) -> Result<String, SubmitError> {
    let undone_id =
        field_id(activity, "object").ok_or_else(|| invalid("the Undo has no object"))?;
    let undone = posts::own_activity(&fed.store, author, undone_id)
        .await?
        .ok_or_else(|| invalid(format!("{undone_id} is not an activity of this account")))?;
    let effect = match undone.kind.as_str() {
        "Follow" => {
            let followee_url = undone.object_ap_id.clone().unwrap_or_default();
            let followee = crate::domain::accounts::find_by_actor_url(&fed.store, &followee_url)
                .await?
                .ok_or_else(|| invalid("the followed account is unknown"))?;
            Effect::Unfollow {
                followee_id: followee.id,
            }
        }
        "Like" | "Announce" => Effect::Unreact {
            reaction_ap_id: undone.ap_id.clone(),
        },
        "Block" => {
            let blocked_url = undone.object_ap_id.clone().unwrap_or_default();
            let blocked = crate::domain::accounts::find_by_actor_url(&fed.store, &blocked_url)
                .await?
                .ok_or_else(|| invalid("the blocked account is unknown"))?;
            Effect::Unblock {
                blocked_id: blocked.id,
            }
        }
        other => return Err(invalid(format!("an {other} cannot be undone"))),
    };
    let object = ActivityObject::embed(stored_document(&undone.ap_id, &undone.document)?);
    let to = undone.addressees.clone();
    publish_minted(
        fed,
        author,
        Minted {
            kind: ActivityKind::Undo,
            object,
            object_ap_id: Some(undone.ap_id),
            to,
            cc: Vec::new(),
            effect,
        },
    )
    .await
}

async fn update(
    fed: &Federation,
    author: &Account,
    activity: &Value,
) -> Result<String, SubmitError> {
    let object = activity
        .get("object")
        .filter(|o| o.is_object())
        .ok_or_else(|| invalid("the Update has no object"))?;
    let object_id = text(object, "id").ok_or_else(|| invalid("the object has no id"))?;
    let post = posts::find_post(&fed.store, object_id)
        .await?
        .filter(|p| p.local && p.deleted_at.is_none())
        .ok_or_else(|| invalid(format!("{object_id} is not a post here")))?;
    if post.author_id != author.id {
        return Err(SubmitError::Forbidden(
            "only the author may update a post".into(),
        ));
    }
    let content = content_of(object)?;
    let now = Utc::now().naive_utc();
    let stored = stored_document(&post.ap_id, &post.document)?;
    let document = build_updated_note(&stored, &content, None, now);
    let changes = PostChanges {
        content: Some(content),
        summary: post.summary.clone(),
        name: post.name.clone(),
        document: document.to_string(),
        updated: now,
    };
    let effect = Effect::UpdatePost {
        object_ap_id: object_id.to_owned(),
        changes,
    };
    let to = post.addressees.clone();
    publish_minted(
        fed,
        author,
        Minted {
            kind: ActivityKind::Update,
            object: ActivityObject::embed(document.clone()),
            object_ap_id: Some(object_id.to_owned()),
            to,
            cc: Vec::new(),
            effect,
        },
    )
    .await
}

async fn block(
    fed: &Federation,
    author: &Account,
    activity: &Value,
) -> Result<String, SubmitError> {
    let object = field_id(activity, "object").ok_or_else(|| invalid("the Block has no object"))?;
    let blocked_url = resolve_addressee(fed, author, object).await?;
    let blocked = crate::domain::accounts::find_by_actor_url(&fed.store, &blocked_url)
        .await?
        .ok_or_else(|| invalid("the blocked account is unknown"))?;
    let effect = Effect::Block {
        blocked_id: blocked.id,
    };
    publish_minted(
        fed,
        author,
        Minted {
            kind: ActivityKind::Block,
            object: ActivityObject::Id(blocked_url.clone()),
            object_ap_id: Some(blocked_url.clone()),
            to: vec![blocked_url],
            cc: Vec::new(),
            effect,
        },
    )
    .await
}

async fn answer_follow(
    fed: &Federation,
    author: &Account,
    activity: &Value,
    kind: &str,
) -> Result<String, SubmitError> {
    let follow_id =
        field_id(activity, "object").ok_or_else(|| invalid(format!("the {kind} has no object")))?;
    let follower = crate::domain::follows::pending_follow(&fed.store, author, follow_id)
        .await?
        .ok_or_else(|| {
            invalid(format!(
                "{follow_id} is not a pending follow request of this account"
            ))
        })?;
    // The Follow as received, or rebuilt from what the request holds.
    let follow = match posts::find_activity(&fed.store, follow_id).await? {
        Some(stored) => stored_document(&stored.ap_id, &stored.document)?,
        None => build_follow(follow_id, &follower, &author.actor_url),
    };
    let effect = Effect::AnswerFollow {
        follow_ap_id: follow_id.to_owned(),
        accept: kind == "Accept",
    };
    let kind = if kind == "Accept" {
        ActivityKind::Accept
    } else {
        ActivityKind::Reject
    };
    publish_minted(
        fed,
        author,
        Minted {
            kind,
            object: ActivityObject::embed(follow),
            object_ap_id: Some(follow_id.to_owned()),
            to: vec![follower.actor_url],
            cc: Vec::new(),
            effect,
        },
    )
    .await
}
