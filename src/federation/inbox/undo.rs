//! Undo of a Follow, Like or Announce the actor made.

use serde_json::Value;

use super::{Inbound, InboxError};
use crate::domain::accounts;
use crate::domain::follows;
use crate::domain::posts::Applied;
use crate::federation::wire::{field_id, text, type_of};

pub(super) async fn receive(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let object = match inbound.activity.get("object") {
        Some(object @ Value::Object(_)) => object,
        Some(_) => {
            // Only an id: nothing tells us what it was; look for a reaction.
            let id = field_id(inbound.activity, "object").unwrap_or_default();
            let undo = inbound.to_new_activity(Some(id));
            return Ok(follows::receive_unreact(
                &inbound.fed.store,
                inbound.actor,
                undo,
                id.to_owned(),
            )
            .await?);
        }
        None => return Err(InboxError::BadRequest("the activity has no object".into())),
    };
    if field_id(object, "actor").is_some_and(|a| a != inbound.actor.actor_url) {
        return Err(InboxError::Forbidden(
            "only the actor of an activity may undo it".into(),
        ));
    }
    let undone_id = text(object, "id").unwrap_or_default();
    let undo = inbound.to_new_activity(Some(undone_id));
    match type_of(object) {
        Some("Follow") => {
            let followee_url = field_id(object, "object").unwrap_or_default();
            let Some(followee) = accounts::find_by_actor_url(&inbound.fed.store, followee_url)
                .await?
                .filter(|a| a.is_local())
            else {
                return Ok(Applied::Ignored);
            };
            Ok(
                follows::receive_unfollow(&inbound.fed.store, inbound.actor, &followee, undo)
                    .await?,
            )
        }
        Some("Like" | "Announce") => Ok(follows::receive_unreact(
            &inbound.fed.store,
            inbound.actor,
            undo,
            undone_id.to_owned(),
        )
        .await?),
        other => {
            tracing::info!(kind = ?other, "ignoring an Undo of an unsupported type");
            Ok(Applied::Ignored)
        }
    }
}
