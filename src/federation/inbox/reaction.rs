//! Like, Announce and Block.

use super::{Inbound, InboxError};
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::Applied;
use crate::federation::wire::field_id;

/// Like or Announce of an object.
pub(super) async fn receive(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let object = field_id(inbound.activity, "object")
        .ok_or_else(|| InboxError::BadRequest("the activity has no object".into()))?;
    let activity = inbound.to_new_activity(Some(object));
    let effect = Effect::React {
        object_ap_id: object.to_owned(),
    };
    let fed = inbound.fed;
    let applied = ledger::record(&fed.store, &fed.urls, inbound.actor, activity, effect).await?;
    fed.wake.notify_one();
    Ok(applied)
}

/// Block of a local account: follows both ways end and nothing more is
/// delivered to the blocker.
pub(super) async fn receive_block(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let Some(blocked) = inbound.local_object_account().await? else {
        return Ok(Applied::Ignored);
    };
    let activity = inbound.to_new_activity(Some(&blocked.actor_url));
    let effect = Effect::Block {
        blocked_id: blocked.id,
    };
    let fed = inbound.fed;
    Ok(ledger::record(&fed.store, &fed.urls, inbound.actor, activity, effect).await?)
}
