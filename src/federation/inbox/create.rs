//! Create{Note|Article}: the post, recorded by the ledger (which routes it
//! to the local accounts it reaches, rooms and sites).

use chrono::Utc;

use super::{Inbound, InboxError, embedded_object};
use crate::domain::audience::classify;
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::{Applied, NewPost};
use crate::federation::sanitize::sanitize_html;
use crate::federation::wire::{self, field_id, text, type_of};

pub(super) async fn receive(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let object = embedded_object(inbound.activity)?;
    let kind = type_of(object).unwrap_or_default();
    if !matches!(kind, "Note" | "Article") {
        tracing::info!(kind, "ignoring a Create of an unsupported object type");
        return Ok(Applied::Ignored);
    }
    let id =
        text(object, "id").ok_or_else(|| InboxError::BadRequest("the object has no id".into()))?;
    if field_id(object, "attributedTo") != Some(inbound.actor.actor_url.as_str()) {
        return Err(InboxError::Forbidden(
            "the object is attributed to someone other than the actor".into(),
        ));
    }
    if !wire::same_origin(id, &inbound.actor.actor_url) {
        return Err(InboxError::BadRequest(
            "the object id is not on its author's origin".into(),
        ));
    }
    // The object's own addressing wins; the activity's completes it.
    let mut addressees = wire::addressees(object);
    for extra in wire::addressees(inbound.activity) {
        if !addressees.contains(&extra) {
            addressees.push(extra);
        }
    }
    let visibility = classify(&addressees, inbound.actor.followers_url.as_deref());
    let post = NewPost {
        ap_id: id.to_owned(),
        kind: kind.to_owned(),
        author_id: inbound.actor.id,
        content: text(object, "content").map(sanitize_html),
        summary: text(object, "summary").map(sanitize_html),
        name: text(object, "name").map(str::to_owned),
        in_reply_to: crate::urls::http_url(field_id(object, "inReplyTo")),
        context: field_id(object, "context")
            .or_else(|| field_id(object, "conversation"))
            .map(str::to_owned),
        url: crate::urls::http_url(field_id(object, "url")),
        addressees: addressees.clone(),
        visibility,
        document: object.to_string(),
        local: false,
        published: wire::datetime(object, "published").unwrap_or_else(|| Utc::now().naive_utc()),
    };
    let mut activity = inbound.to_new_activity(Some(id));
    activity.addressees = addressees;
    activity.visibility = visibility;
    let fed = inbound.fed;
    let applied = ledger::record(
        &fed.store,
        &fed.urls,
        inbound.actor,
        activity,
        Effect::Post(post),
    )
    .await?;
    fed.wake.notify_one();
    Ok(applied)
}
