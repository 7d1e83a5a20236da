//! Follows, reactions and blocks between accounts: requests, answers,
//! undoing them, and the collections they form.

use chrono::Utc;

use super::DomainError;
use super::accounts::{Account, row_to_account};
use super::actions::{self, Action};
use super::posts::{Applied, NewActivity, insert_activity};
use crate::store::follows::{self as rows, NewFollowRow};
use crate::store::reactions::{self as reaction_rows, NewReactionRow};
use crate::store::{Store, blocks};

/// How a local account answers a follow request.
#[derive(Debug, Clone)]
pub enum FollowAnswer {
    /// Accept at once: this Accept activity (from the followee) is stored
    /// and delivered to the follower.
    Accept(NewActivity),
    /// Refuse: this Reject activity is stored and delivered.
    Reject(NewActivity),
    /// Hold the request for the followee to decide.
    Pending,
}

/// Records a received Follow of local `followee` by `follower` and queues
/// the answer.
pub async fn receive_follow(
    store: &Store,
    follower: &Account,
    followee: &Account,
    follow: NewActivity,
    answer: FollowAnswer,
) -> Result<Applied, DomainError> {
    let (follower, followee) = (follower.clone(), followee.clone());
    store
        .run(move |conn| {
            crate::store::write_transaction(conn, |conn| {
                if insert_activity(conn, &follow)?.is_none() {
                    return Ok(Applied::Replay);
                }
                let reply = match &answer {
                    FollowAnswer::Accept(reply) | FollowAnswer::Reject(reply) => Some(reply),
                    FollowAnswer::Pending => None,
                };
                if !matches!(answer, FollowAnswer::Reject(_)) {
                    rows::upsert(
                        conn,
                        &NewFollowRow {
                            follower_id: follower.id,
                            followee_id: followee.id,
                            follow_ap_id: &follow.ap_id,
                            accepted: matches!(answer, FollowAnswer::Accept(_)),
                            created_at: Utc::now().naive_utc(),
                        },
                    )?;
                }
                if let Some(reply) = reply {
                    insert_activity(conn, reply)?;
                    actions::enqueue(
                        conn,
                        &[Action::Deliver {
                            activity: reply.ap_id.clone(),
                            sender_id: followee.id,
                            inbox: follower.inbox_url.clone(),
                        }],
                    )?;
                }
                Ok(Applied::Stored { filed: 0 })
            })
        })
        .await
}

/// A local account asks to follow a remote one: the follow is pending until
/// the Accept arrives.
pub async fn request_follow(
    store: &Store,
    follower: &Account,
    followee: &Account,
    follow: NewActivity,
) -> Result<(), DomainError> {
    let (follower, followee) = (follower.clone(), followee.clone());
    store
        .run(move |conn| {
            crate::store::write_transaction(conn, |conn| {
                insert_activity(conn, &follow)?
                    .ok_or_else(|| DomainError::Conflict(follow.ap_id.clone()))?;
                rows::upsert(
                    conn,
                    &NewFollowRow {
                        follower_id: follower.id,
                        followee_id: followee.id,
                        follow_ap_id: &follow.ap_id,
                        accepted: false,
                        created_at: Utc::now().naive_utc(),
                    },
                )?;
                actions::enqueue(
                    conn,
                    &[Action::Deliver {
                        activity: follow.ap_id.clone(),
                        sender_id: follower.id,
                        inbox: followee.inbox_url.clone(),
                    }],
                )?;
                Ok(())
            })
        })
        .await
}

/// `actor` accepts (or rejects) the follow request `follow_ap_id` that a
/// local account sent it.
pub async fn receive_follow_answer(
    store: &Store,
    actor: &Account,
    activity: NewActivity,
    follow_ap_id: String,
    accepted: bool,
) -> Result<Applied, DomainError> {
    let actor_id = actor.id;
    store
        .run(move |conn| {
            crate::store::write_transaction(conn, |conn| {
                let Some(follow) = rows::find_by_ap_id(conn, &follow_ap_id)? else {
                    return Ok(Applied::Ignored);
                };
                if follow.followee_id != actor_id {
                    return Err(DomainError::NotOwner);
                }
                if insert_activity(conn, &activity)?.is_none() {
                    return Ok(Applied::Replay);
                }
                if accepted {
                    rows::set_accepted(conn, follow.id)?;
                } else {
                    rows::delete(conn, follow.follower_id, follow.followee_id)?;
                }
                Ok(Applied::Stored { filed: 0 })
            })
        })
        .await
}

/// `follower` withdraws its follow of `followee`.
pub async fn receive_unfollow(
    store: &Store,
    follower: &Account,
    followee: &Account,
    undo: NewActivity,
) -> Result<Applied, DomainError> {
    let (follower_id, followee_id) = (follower.id, followee.id);
    store
        .run(move |conn| {
            crate::store::write_transaction(conn, |conn| {
                if insert_activity(conn, &undo)?.is_none() {
                    return Ok(Applied::Replay);
                }
                let removed = rows::delete(conn, follower_id, followee_id)?;
                Ok(if removed > 0 {
                    Applied::Stored { filed: 0 }
                } else {
                    Applied::Ignored
                })
            })
        })
        .await
}

/// Records a Like or Announce of `object_ap_id` by `actor`.
pub async fn receive_reaction(
    store: &Store,
    actor: &Account,
    activity: NewActivity,
    object_ap_id: String,
    follow_ups: Vec<super::actions::Action>,
) -> Result<Applied, DomainError> {
    let actor_id = actor.id;
    let actor = actor.clone();
    store
        .run(move |conn| {
            crate::store::write_transaction(conn, |conn| {
                let Some(stored) = insert_activity(conn, &activity)? else {
                    return Ok(Applied::Replay);
                };
                // A member's Like in a room is relayed; an Announce (a boost,
                // or a room relaying) lands in the inboxes of those it reaches.
                super::actions::enqueue(conn, &follow_ups)?;
                let mut filed = 0;
                if activity.kind == "Like" {
                    let relays = crate::rooms::membership::relays_for(
                        conn,
                        &actor,
                        &activity.addressees,
                        &activity.ap_id,
                    )?;
                    super::actions::enqueue(conn, &relays)?;
                } else {
                    let recipients =
                        super::posts::local_recipients(conn, &actor, &activity.addressees)?;
                    filed = crate::store::inbox_items::file(
                        conn,
                        &recipients,
                        stored.id,
                        Utc::now().naive_utc(),
                    )?;
                }
                reaction_rows::insert(
                    conn,
                    &NewReactionRow {
                        ap_id: &activity.ap_id,
                        kind: &activity.kind,
                        actor_id,
                        object_ap_id: &object_ap_id,
                        created_at: Utc::now().naive_utc(),
                    },
                )?;
                Ok(Applied::Stored { filed })
            })
        })
        .await
}

/// Withdraws the Like or Announce `reaction_ap_id`, which `actor` made.
pub async fn receive_unreact(
    store: &Store,
    actor: &Account,
    undo: NewActivity,
    reaction_ap_id: String,
) -> Result<Applied, DomainError> {
    let actor_id = actor.id;
    store
        .run(move |conn| {
            crate::store::write_transaction(conn, |conn| {
                if insert_activity(conn, &undo)?.is_none() {
                    return Ok(Applied::Replay);
                }
                let removed = reaction_rows::delete(conn, &reaction_ap_id, actor_id)?;
                Ok(if removed > 0 {
                    Applied::Stored { filed: 0 }
                } else {
                    Applied::Ignored
                })
            })
        })
        .await
}

/// `blocker` blocks local `blocked`: follows both ways end, and nothing
/// more is delivered to the blocker.
pub async fn receive_block(
    store: &Store,
    blocker: &Account,
    blocked: &Account,
    activity: NewActivity,
) -> Result<Applied, DomainError> {
    let (blocker_id, blocked_id) = (blocker.id, blocked.id);
    store
        .run(move |conn| {
            crate::store::write_transaction(conn, |conn| {
                if insert_activity(conn, &activity)?.is_none() {
                    return Ok(Applied::Replay);
                }
                blocks::insert(
                    conn,
                    &blocks::NewBlockRow {
                        ap_id: &activity.ap_id,
                        blocker_id,
                        blocked_id,
                        created_at: Utc::now().naive_utc(),
                    },
                )?;
                rows::delete(conn, blocker_id, blocked_id)?;
                rows::delete(conn, blocked_id, blocker_id)?;
                Ok(Applied::Stored { filed: 0 })
            })
        })
        .await
}

/// Whether `blocker` blocks `blocked`.
pub async fn is_blocked(
    store: &Store,
    blocker_id: i64,
    blocked_id: i64,
) -> Result<bool, DomainError> {
    store
        .run(move |conn| Ok(blocks::exists(conn, blocker_id, blocked_id)?))
        .await
}

/// The accounts that block `blocked_id`.
pub async fn blockers_of(store: &Store, blocked_id: i64) -> Result<Vec<i64>, DomainError> {
    store
        .run(move |conn| Ok(blocks::blockers_of(conn, blocked_id)?))
        .await
}

/// Accepted followers of an account.
pub async fn followers(store: &Store, account_id: i64) -> Result<Vec<Account>, DomainError> {
    store
        .run(move |conn| {
            Ok(rows::followers(conn, account_id)?
                .into_iter()
                .map(row_to_account)
                .collect())
        })
        .await
}

/// Accounts an account follows (accepted).
pub async fn following(store: &Store, account_id: i64) -> Result<Vec<Account>, DomainError> {
    store
        .run(move |conn| {
            Ok(rows::following(conn, account_id)?
                .into_iter()
                .map(row_to_account)
                .collect())
        })
        .await
}

/// Whether `follower` follows `followee` (accepted).
pub async fn follows(
    store: &Store,
    follower_id: i64,
    followee_id: i64,
) -> Result<bool, DomainError> {
    store
        .run(
            move |conn| Ok(rows::find(conn, follower_id, followee_id)?.is_some_and(|f| f.accepted)),
        )
        .await
}
