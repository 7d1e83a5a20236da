//! Delete: a post by its author becomes a tombstone.

use super::{Inbound, InboxError};
use crate::domain::posts::{self, Applied};
use crate::federation::wire::field_id;

pub(super) async fn receive(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let id = field_id(inbound.activity, "object")
        .ok_or_else(|| InboxError::BadRequest("the activity has no object".into()))?;
    if id == inbound.actor.actor_url {
        tracing::info!(actor = id, "an actor deleted itself; keeping what we have");
        return Ok(Applied::Ignored);
    }
    let activity = inbound.to_new_activity(Some(id));
    Ok(posts::receive_delete(&inbound.fed.store, inbound.actor, activity, id.to_owned()).await?)
}
