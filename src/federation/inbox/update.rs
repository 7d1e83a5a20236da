//! Update: of a post by its author, or of the actor's own profile.

use chrono::Utc;

use super::{Inbound, InboxError, embedded_object};
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::{Applied, PostChanges};
use crate::federation::resolve;
use crate::federation::sanitize::sanitize_html;
use crate::federation::wire::{self, text, type_of};

pub(super) async fn receive(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let object = embedded_object(inbound.activity)?;
    let id =
        text(object, "id").ok_or_else(|| InboxError::BadRequest("the object has no id".into()))?;
    if id == inbound.actor.actor_url {
        // A profile update: read it from the source rather than the body.
        return match resolve::refresh_actor(inbound.fed, id).await {
            Ok(_) => Ok(Applied::Stored { filed: 0 }),
            Err(error) => {
                tracing::info!(%error, "refreshing an updated actor failed");
                Ok(Applied::Ignored)
            }
        };
    }
    if !matches!(type_of(object), Some("Note" | "Article")) {
        return Ok(Applied::Ignored);
    }
    let changes = PostChanges {
        content: text(object, "content").map(sanitize_html),
        summary: text(object, "summary").map(sanitize_html),
        name: text(object, "name").map(str::to_owned),
        document: object.to_string(),
        updated: wire::datetime(object, "updated").unwrap_or_else(|| Utc::now().naive_utc()),
    };
    let activity = inbound.to_new_activity(Some(id));
    let effect = Effect::UpdatePost {
        object_ap_id: id.to_owned(),
        changes,
    };
    let fed = inbound.fed;
    let applied = ledger::record(&fed.store, &fed.urls, inbound.actor, activity, effect).await?;
    fed.wake.notify_one();
    Ok(applied)
}
