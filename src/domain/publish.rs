//! Publishing as a local account: an activity minted here is stored with
//! its local effect (a new post, a follow answered, a reaction withdrawn…)
//! in one transaction, filed for local addressees and queued for delivery.

use chrono::Utc;

use super::DomainError;
use super::accounts::Account;
use super::actions::{self, Action};
use super::posts::{
    NewActivity, NewPost, PostChanges, insert_activity, insert_post, local_recipients,
};
use crate::store::follows as follow_rows;
use crate::store::objects::{self as object_rows, ObjectChanges};
use crate::store::reactions::{self as reaction_rows, NewReactionRow};
use crate::store::{AnyConnection, Store, blocks, inbox_items};

/// What publishing an activity does here, besides storing it.
#[derive(Debug, Clone)]
pub enum LocalEffect {
    None,
    /// A Create: store the post.
    Post(NewPost),
    /// An Update of the author's own post.
    UpdatePost {
        object_ap_id: String,
        changes: PostChanges,
    },
    /// A Like or Announce of an object.
    React {
        object_ap_id: String,
    },
    /// The Undo of the author's Like or Announce.
    Unreact {
        reaction_ap_id: String,
    },
    /// The Undo of the author's Follow.
    Unfollow {
        followee_id: i64,
    },
    /// A Block: follows both ways end.
    Block {
        blocked_id: i64,
    },
    /// An Accept or Reject of a follow request the author received.
    AnswerFollow {
        follow_ap_id: String,
        accept: bool,
    },
}

fn apply(
    conn: &mut AnyConnection,
    author: &Account,
    activity: &NewActivity,
    effect: &LocalEffect,
) -> Result<(), DomainError> {
    let now = Utc::now().naive_utc();
    match effect {
        LocalEffect::None => {}
        LocalEffect::Post(post) => insert_post(conn, post)?,
        LocalEffect::UpdatePost {
            object_ap_id,
            changes,
        } => {
            let object = object_rows::find_by_ap_id(conn, object_ap_id)?
                .filter(|o| o.local && o.deleted_at.is_none())
                .ok_or_else(|| DomainError::NoSuchObject(object_ap_id.clone()))?;
            if object.author_id != author.id {
                return Err(DomainError::NotOwner);
            }
            object_rows::update(
                conn,
                object.id,
                &ObjectChanges {
                    content: changes.content.as_deref(),
                    summary: changes.summary.as_deref(),
                    name: changes.name.as_deref(),
                    document: &changes.document,
                    updated: changes.updated,
                },
            )?;
        }
        LocalEffect::React { object_ap_id } => {
            reaction_rows::insert(
                conn,
                &NewReactionRow {
                    ap_id: &activity.ap_id,
                    kind: &activity.kind,
                    actor_id: author.id,
                    object_ap_id,
                    created_at: now,
                },
            )?;
        }
        LocalEffect::Unreact { reaction_ap_id } => {
            if reaction_rows::delete(conn, reaction_ap_id, author.id)? == 0 {
                return Err(DomainError::NoSuchObject(reaction_ap_id.clone()));
            }
        }
        LocalEffect::Unfollow { followee_id } => {
            if follow_rows::delete(conn, author.id, *followee_id)? == 0 {
                return Err(DomainError::NoSuchObject(format!(
                    "a follow of account {followee_id}"
                )));
            }
        }
        LocalEffect::Block { blocked_id } => {
            blocks::insert(
                conn,
                &blocks::NewBlockRow {
                    ap_id: &activity.ap_id,
                    blocker_id: author.id,
                    blocked_id: *blocked_id,
                    created_at: now,
                },
            )?;
            follow_rows::delete(conn, author.id, *blocked_id)?;
            follow_rows::delete(conn, *blocked_id, author.id)?;
        }
        LocalEffect::AnswerFollow {
            follow_ap_id,
            accept,
        } => {
            let follow = follow_rows::find_by_ap_id(conn, follow_ap_id)?
                .filter(|f| f.followee_id == author.id && !f.accepted)
                .ok_or_else(|| DomainError::NoSuchObject(follow_ap_id.clone()))?;
            if *accept {
                follow_rows::set_accepted(conn, follow.id)?;
            } else {
                follow_rows::delete(conn, follow.follower_id, follow.followee_id)?;
            }
        }
    }
    Ok(())
}

/// Stores `activity` by `author` with its local effect, files it for local
/// addressees and queues delivery to the others, all in one transaction.
pub async fn publish(
    store: &Store,
    author: &Account,
    activity: NewActivity,
    effect: LocalEffect,
) -> Result<(), DomainError> {
    publish_with(store, author, activity, effect, Vec::new()).await
}

/// [`publish`], queueing `follow_ups` (e.g. Webmentions) in the same
/// transaction.
pub async fn publish_with(
    store: &Store,
    author: &Account,
    activity: NewActivity,
    effect: LocalEffect,
    follow_ups: Vec<Action>,
) -> Result<(), DomainError> {
    let author = author.clone();
    store
        .run(move |conn| {
            crate::store::write_transaction(conn, |conn| {
                let stored = insert_activity(conn, &activity)?
                    .ok_or_else(|| DomainError::Conflict(activity.ap_id.clone()))?;
                let relays = crate::rooms::membership::relays_for(
                    conn,
                    &author,
                    &activity.addressees,
                    &activity.ap_id,
                )?;
                apply(conn, &author, &activity, &effect)?;
                actions::enqueue(conn, &relays)?;
                let recipients = local_recipients(conn, &author, &activity.addressees)?;
                inbox_items::file(conn, &recipients, stored.id, Utc::now().naive_utc())?;
                actions::enqueue(
                    conn,
                    &[Action::FanOut {
                        activity: activity.ap_id.clone(),
                        sender_id: author.id,
                        addressees: activity.addressees.clone(),
                    }],
                )?;
                actions::enqueue(conn, &follow_ups)?;
                Ok(())
            })
        })
        .await
}

/// A follow request `author` received and has not answered.
pub async fn pending_follow(
    store: &Store,
    author: &Account,
    follow_ap_id: &str,
) -> Result<Option<Account>, DomainError> {
    let (author_id, follow_ap_id) = (author.id, follow_ap_id.to_owned());
    store
        .run(move |conn| {
            let Some(follow) = follow_rows::find_by_ap_id(conn, &follow_ap_id)?
                .filter(|f| f.followee_id == author_id && !f.accepted)
            else {
                return Ok(None);
            };
            Ok(crate::store::accounts::find(conn, follow.follower_id)?
                .map(super::accounts::row_to_account))
        })
        .await
}

/// An activity `author` published here.
pub async fn own_activity(
    store: &Store,
    author: &Account,
    ap_id: &str,
) -> Result<Option<super::posts::Activity>, DomainError> {
    let (author_id, ap_id) = (author.id, ap_id.to_owned());
    store
        .run(move |conn| {
            Ok(crate::store::activities::find_by_ap_id(conn, &ap_id)?
                .filter(|a| a.local && a.actor_id == author_id)
                .map(super::posts::row_to_activity))
        })
        .await
}
