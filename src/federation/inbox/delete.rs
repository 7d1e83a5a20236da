//! Delete: a post by its author becomes a tombstone.

use super::{Inbound, InboxError};
use crate::domain::audience::Visibility;
use crate::domain::posts::{self, Applied};
use crate::domain::webmentions;
use crate::federation::builders::timestamp;
use crate::federation::wire::field_id;

pub(super) async fn receive(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let id = field_id(inbound.activity, "object")
        .ok_or_else(|| InboxError::BadRequest("the activity has no object".into()))?;
    if id == inbound.actor.actor_url {
        tracing::info!(actor = id, "an actor deleted itself; keeping what we have");
        return Ok(Applied::Ignored);
    }
    let activity = inbound.to_new_activity(Some(id));
    // A mirrored reply that was sent to a site as a Webmention is sent
    // again: the mirror now answers 410.
    let mut follow_ups = Vec::new();
    if let Some(post) = posts::find_post(&inbound.fed.store, id).await?
        && post.visibility == Visibility::Public
        && let Some(parent) = &post.in_reply_to
    {
        let source = inbound.fed.urls.mirror(id);
        let version = format!("deleted {}", timestamp(activity.published));
        follow_ups.extend(
            webmentions::follow_up_for(&inbound.fed.store, &source, parent, false, &version)
                .await?,
        );
    }
    let applied = posts::receive_delete(
        &inbound.fed.store,
        inbound.actor,
        activity,
        id.to_owned(),
        follow_ups,
    )
    .await?;
    inbound.fed.wake.notify_one();
    Ok(applied)
}
