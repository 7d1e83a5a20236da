//! Follow of a local account: accept at once, hold for approval, or reject
//! when the followee blocks the follower. The answer is delivered signed.

use chrono::Utc;

use super::{Inbound, InboxError, InboxTarget};
use crate::domain::accounts::AccountKind;
use crate::domain::follows::{self, FollowAnswer};
use crate::domain::posts::{Applied, NewActivity};
use crate::federation::builders::build_follow_answer;

pub(super) async fn receive(inbound: &Inbound<'_>) -> Result<Applied, InboxError> {
    let Some(followee) = inbound.local_object_account().await? else {
        return Ok(Applied::Ignored);
    };
    if followee.kind == AccountKind::Application {
        return Ok(Applied::Ignored);
    }
    if let InboxTarget::Account(owner) = inbound.target
        && owner.id != followee.id
    {
        return Err(InboxError::BadRequest(
            "this Follow is for another inbox".into(),
        ));
    }
    let fed = inbound.fed;
    let blocked = follows::is_blocked(&fed.store, followee.id, inbound.actor.id).await?;
    let reply = |kind: &str| {
        let id = fed.urls.mint("activities");
        let document = build_follow_answer(kind, &id, &followee, inbound.activity);
        NewActivity::minted(
            &followee,
            id,
            kind,
            crate::federation::wire::text(inbound.activity, "id").map(str::to_owned),
            vec![inbound.actor.actor_url.clone()],
            document.to_string(),
            Utc::now().naive_utc(),
        )
    };
    let answer = if blocked {
        FollowAnswer::Reject(reply("Reject"))
    } else if followee.manually_approves_followers {
        FollowAnswer::Pending
    } else {
        FollowAnswer::Accept(reply("Accept"))
    };
    let follow = inbound.to_new_activity(Some(&followee.actor_url));
    let applied =
        follows::receive_follow(&fed.store, inbound.actor, &followee, follow, answer).await?;
    fed.wake.notify_one();
    Ok(applied)
}
