//! Create{Note|Article}: store the post and file it for the local accounts
//! it reaches.

use chrono::Utc;

use super::{Inbound, InboxError, embedded_object};
use crate::domain::audience::classify;
use crate::domain::posts::{self, Applied, NewPost};
use crate::domain::webmentions;
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
    let addressees_for_sites = addressees.clone();
    let activity_id = activity.ap_id.clone();
    activity.addressees = addressees;
    activity.visibility = visibility;
    // A public reply to a post that came from a site goes back to the site
    // as a Webmention from our mirror of it.
    let mut follow_ups = Vec::new();
    if let (Some(parent), crate::domain::audience::Visibility::Public) =
        (&post.in_reply_to, visibility)
    {
        let source = inbound.fed.urls.mirror(id);
        let version = crate::federation::builders::timestamp(post.published);
        follow_ups.extend(
            webmentions::follow_up_for(&inbound.fed.store, &source, parent, false, &version)
                .await?,
        );
    }
    // A direct note to a site's proxy is handed to the site, or refused.
    if visibility == crate::domain::audience::Visibility::Direct {
        for address in &addressees_for_sites {
            if let Some(proxy) =
                crate::domain::accounts::find_by_actor_url(&inbound.fed.store, address)
                    .await?
                    .filter(|a| a.is_local() && a.site_url.is_some())
            {
                follow_ups.push(crate::domain::actions::Action::PrivateNoteToSite {
                    activity: activity_id.clone(),
                    proxy_id: proxy.id,
                    sender_id: inbound.actor.id,
                });
            }
        }
    }
    let applied = posts::receive_create(
        &inbound.fed.store,
        inbound.actor,
        activity,
        post,
        follow_ups,
    )
    .await?;
    inbound.fed.wake.notify_one();
    Ok(applied)
}
