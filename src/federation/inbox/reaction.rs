//! Like, Announce and Block.

use super::{Inbound, InboxError};
use crate::domain::follows;
use crate::domain::posts::Applied;
use crate::domain::webmentions;
use crate::federation::wire::field_id;

/// Like or Announce of an object.
pub(super) async fn receive(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let object = field_id(inbound.activity, "object")
        .ok_or_else(|| InboxError::BadRequest("the activity has no object".into()))?;
    let activity = inbound.to_new_activity(Some(object));
    // A like or repost of a post from a site is sent to the site as a
    // Webmention from our mirror of it.
    let source = inbound.fed.urls.mirror(&activity.ap_id);
    let follow_ups = webmentions::follow_up_for(&inbound.fed.store, &source, object, false, "1")
        .await?
        .into_iter()
        .collect();
    let applied = follows::receive_reaction(
        &inbound.fed.store,
        inbound.actor,
        activity,
        object.to_owned(),
        follow_ups,
    )
    .await?;
    inbound.fed.wake.notify_one();
    Ok(applied)
}

/// Block of a local account: follows both ways end and nothing more is
/// delivered to the blocker.
pub(super) async fn receive_block(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let Some(blocked) = inbound.local_object_account().await? else {
        return Ok(Applied::Ignored);
    };
    let activity = inbound.to_new_activity(Some(&blocked.actor_url));
    Ok(follows::receive_block(&inbound.fed.store, inbound.actor, &blocked, activity).await?)
}
