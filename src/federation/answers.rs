//! How a local account answers a Follow, whoever sent it (a remote inbox
//! POST or a local account): refused when the followee blocks the
//! follower, accepted again when the follow stands already, held when the
//! followee approves followers by hand, else accepted.

use chrono::Utc;
use serde_json::Value;

use super::builders::build_follow_answer;
use super::ctx::Federation;
use crate::domain::DomainError;
use crate::domain::accounts::Account;
use crate::domain::follows;
use crate::domain::ledger::FollowAnswer;
use crate::domain::posts::NewActivity;

/// The answer of local `followee` to `follow` (the Follow document) from
/// `follower`.
pub async fn answer_follow(
    fed: &Federation,
    follower: &Account,
    followee: &Account,
    follow: &Value,
) -> Result<FollowAnswer, DomainError> {
    let reply = |kind: &str| {
        let id = fed.urls.mint("activities");
        let document = build_follow_answer(kind, &id, followee, follow);
        NewActivity::minted(
            followee,
            id,
            kind,
            super::wire::text(follow, "id").map(str::to_owned),
            vec![follower.actor_url.clone()],
            document.to_string(),
            Utc::now().naive_utc(),
        )
    };
    if follows::is_blocked(&fed.store, followee.id, follower.id).await? {
        return Ok(FollowAnswer::Reject(reply("Reject")));
    }
    let standing = follows::follow_state(&fed.store, follower.id, followee.id).await? == Some(true);
    Ok(if !standing && followee.manually_approves_followers {
        FollowAnswer::Pending
    } else {
        FollowAnswer::Accept(reply("Accept"))
    })
}
