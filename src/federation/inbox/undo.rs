//! Undo of a Follow, Like, Announce or Block the actor made.

use serde_json::Value;

use super::{Inbound, InboxError};
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::Applied;
use crate::domain::{accounts, follows};
use crate::federation::wire::{field_id, text, type_of};

pub(super) async fn receive(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let fed = inbound.fed;
    let (undone_id, effect) = match inbound.activity.get("object") {
        Some(object @ Value::Object(_)) => {
            if field_id(object, "actor").is_some_and(|a| a != inbound.actor.actor_url) {
                return Err(InboxError::Forbidden(
                    "only the actor of an activity may undo it".into(),
                ));
            }
            let undone_id = text(object, "id").unwrap_or_default();
            let effect = match type_of(object) {
                Some("Follow") => {
                    let followee_url = field_id(object, "object").unwrap_or_default();
                    let Some(followee) = accounts::find_by_actor_url(&fed.store, followee_url)
                        .await?
                        .filter(|a| a.is_local())
                    else {
                        return Ok(Applied::Ignored);
                    };
                    Effect::Unfollow {
                        followee_id: followee.id,
                    }
                }
                Some("Block") => {
                    let blocked_url = field_id(object, "object").unwrap_or_default();
                    let Some(blocked) = accounts::find_by_actor_url(&fed.store, blocked_url)
                        .await?
                        .filter(|a| a.is_local())
                    else {
                        return Ok(Applied::Ignored);
                    };
                    Effect::Unblock {
                        blocked_id: blocked.id,
                    }
                }
                Some("Like" | "Announce") => Effect::Unreact {
                    reaction_ap_id: undone_id.to_owned(),
                },
                other => {
                    tracing::info!(kind = ?other, "ignoring an Undo of an unsupported type");
                    return Ok(Applied::Ignored);
                }
            };
            (undone_id, effect)
        }
        // Only an id: the actor's standing Block with that id, else a
        // reaction.
        Some(_) => {
            let id = field_id(inbound.activity, "object").unwrap_or_default();
            let effect = match follows::block_by_id(&fed.store, id).await? {
                Some((blocker_id, blocked_id)) if blocker_id == inbound.actor.id => {
                    Effect::Unblock { blocked_id }
                }
                _ => Effect::Unreact {
                    reaction_ap_id: id.to_owned(),
                },
            };
            (id, effect)
        }
        None => return Err(InboxError::BadRequest("the activity has no object".into())),
    };
    let undo = inbound.to_new_activity(Some(undone_id));
    let applied = ledger::record(&fed.store, &fed.urls, inbound.actor, undo, effect).await?;
    fed.wake.notify_one();
    Ok(applied)
}
