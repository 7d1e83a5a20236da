//! Accept or Reject of a Follow that a local account sent.

use super::{Inbound, InboxError};
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::Applied;
use crate::federation::wire::field_id;

pub(super) async fn receive(inbound: &Inbound<'_>, accepted: bool) -> Result<Applied, InboxError> {
    let follow_id = field_id(inbound.activity, "object")
        .ok_or_else(|| InboxError::BadRequest("the activity has no object".into()))?;
    let activity = inbound.to_new_activity(Some(follow_id));
    let effect = Effect::AnswerFollow {
        follow_ap_id: follow_id.to_owned(),
        accept: accepted,
    };
    Ok(ledger::record(
        &inbound.fed.store,
        &inbound.fed.urls,
        inbound.actor,
        activity,
        effect,
    )
    .await?)
}
