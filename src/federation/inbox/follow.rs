//! Follow of a local account: the followee's answer (accept, hold, or
//! reject when it blocks the follower) is recorded with it.

use super::{Inbound, InboxError, InboxTarget};
use crate::domain::accounts::AccountKind;
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::Applied;
use crate::federation::answers::answer_follow;

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
    let answer = answer_follow(fed, inbound.actor, &followee, inbound.activity).await?;
    let follow = inbound.to_new_activity(Some(&followee.actor_url));
    let effect = Effect::Follow {
        followee: Box::new(followee),
        answer: Some(answer),
    };
    let applied = ledger::record(&fed.store, &fed.urls, inbound.actor, follow, effect).await?;
    fed.wake.notify_one();
    Ok(applied)
}
