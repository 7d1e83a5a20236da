//! Delete: a post by its author becomes a tombstone and leaves every inbox
//! it was filed in.

use super::{Inbound, InboxError};
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::Applied;
use crate::federation::wire::field_id;

pub(super) async fn receive(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let id = field_id(inbound.activity, "object")
        .ok_or_else(|| InboxError::BadRequest("the activity has no object".into()))?;
    if id == inbound.actor.actor_url {
        tracing::info!(actor = id, "an actor deleted itself; keeping what we have");
        return Ok(Applied::Ignored);
    }
    let activity = inbound.to_new_activity(Some(id));
    let effect = Effect::DeletePost {
        object_ap_id: id.to_owned(),
    };
    let fed = inbound.fed;
    let applied = ledger::record(&fed.store, &fed.urls, inbound.actor, activity, effect).await?;
    fed.wake.notify_one();
    Ok(applied)
}
