//! Who is in a room: members post, the owner approves, removes and bans.

use chrono::Utc;
use serde_json::json;

use crate::domain::DomainError;
use crate::domain::accounts::{Account, AccountKind};
use crate::domain::actions::Action;
use crate::domain::audience::Visibility;
use crate::domain::posts::NewActivity;
use crate::domain::publish::{self, LocalEffect};
use crate::federation::builders::timestamp;
use crate::federation::context::ACTIVITYSTREAMS;
use crate::federation::ctx::Federation;
use crate::store::accounts as account_rows;
use crate::store::{AnyConnection, Store, blocks, follows};

/// The relays a member's activity addressed to rooms calls for; refuses a
/// sender who is not a member (or is banned) of an addressed room.
pub fn relays_for(
    conn: &mut AnyConnection,
    sender: &Account,
    addressees: &[String],
    activity_ap_id: &str,
) -> Result<Vec<Action>, DomainError> {
    let mut relays = Vec::new();
    for address in addressees {
        let Some(room) = account_rows::find_by_actor_url(conn, address)?
            .filter(|a| a.domain.is_none() && a.kind == AccountKind::Group.as_str())
        else {
            continue;
        };
        if room.id == sender.id {
            continue;
        }
        let member = follows::find(conn, sender.id, room.id)?.is_some_and(|f| f.accepted)
            && !blocks::exists(conn, room.id, sender.id)?;
        if !member {
            return Err(DomainError::NotMember(room.username));
        }
        relays.push(Action::RoomRelay {
            room_id: room.id,
            activity: activity_ap_id.to_owned(),
        });
    }
    Ok(relays)
}

/// Members of a room (accepted follows).
pub async fn member_count(store: &Store, room_id: i64) -> Result<i64, DomainError> {
    Ok(crate::domain::follows::followers(store, room_id)
        .await?
        .len() as i64)
}

/// Whether `account` is a member of `room` (and not banned).
pub async fn is_member(store: &Store, room_id: i64, account_id: i64) -> Result<bool, DomainError> {
    store
        .run(move |conn| {
            Ok(
                follows::find(conn, account_id, room_id)?.is_some_and(|f| f.accepted)
                    && !blocks::exists(conn, room_id, account_id)?,
            )
        })
        .await
}

/// A site joins a room through its proxy actor: accepted at once in an open
/// room, held for the owner in a members-only one.
pub async fn join(store: &Store, room: &Account, member: &Account) -> Result<bool, DomainError> {
    let (room_id, member_id, open) = (room.id, member.id, !room.manually_approves_followers);
    let follow_id = format!("{}#join-{}", member.actor_url, room.username);
    store
        .run(move |conn| {
            if blocks::exists(conn, room_id, member_id)? {
                return Err(DomainError::NotMember("banned".into()));
            }
            if let Some(existing) = follows::find(conn, member_id, room_id)? {
                return Ok(existing.accepted);
            }
            follows::upsert(
                conn,
                &follows::NewFollowRow {
                    follower_id: member_id,
                    followee_id: room_id,
                    follow_ap_id: &follow_id,
                    accepted: open,
                    created_at: Utc::now().naive_utc(),
                },
            )?;
            Ok(open)
        })
        .await
}

/// A member leaves (or is removed from) a room.
pub async fn leave(store: &Store, room_id: i64, member_id: i64) -> Result<bool, DomainError> {
    store
        .run(move |conn| Ok(follows::delete(conn, member_id, room_id)? > 0))
        .await
}

fn answer(
    fed: &Federation,
    room: &Account,
    kind: &str,
    object: serde_json::Value,
    member: &Account,
) -> NewActivity {
    let now = Utc::now().naive_utc();
    let id = fed.urls.mint("activities");
    let document = json!({
        "@context": ACTIVITYSTREAMS,
        "id": id,
        "type": kind,
        "actor": room.actor_url,
        "object": object,
        "to": [member.actor_url],
        "published": timestamp(now),
    });
    NewActivity {
        ap_id: id,
        kind: kind.to_owned(),
        actor_id: room.id,
        object_ap_id: None,
        addressees: vec![member.actor_url.clone()],
        visibility: Visibility::Direct,
        document: document.to_string(),
        local: true,
        published: now,
    }
}

/// The owner approves a pending request: the follow is accepted and the
/// Accept delivered.
pub async fn approve(
    fed: &Federation,
    room: &Account,
    member: &Account,
) -> Result<(), DomainError> {
    let pending = {
        let (room_id, member_id) = (room.id, member.id);
        fed.store
            .run(move |conn| Ok::<_, DomainError>(follows::find(conn, member_id, room_id)?))
            .await?
    };
    let Some(follow) = pending.filter(|f| !f.accepted) else {
        return Err(DomainError::NoSuchObject(format!(
            "a pending request from {}",
            member.actor_url
        )));
    };
    let accept = answer(fed, room, "Accept", json!(follow.follow_ap_id), member);
    let effect = LocalEffect::AnswerFollow {
        follow_ap_id: follow.follow_ap_id,
        accept: true,
    };
    publish::publish(&fed.store, room, accept, effect).await?;
    fed.wake.notify_one();
    Ok(())
}

/// The owner bans a member: membership ends, their posts are refused, and
/// they are told with a Block.
pub async fn ban(fed: &Federation, room: &Account, member: &Account) -> Result<(), DomainError> {
    let block = answer(fed, room, "Block", json!(member.actor_url), member);
    publish::publish(
        &fed.store,
        room,
        block,
        LocalEffect::Block {
            blocked_id: member.id,
        },
    )
    .await?;
    fed.wake.notify_one();
    Ok(())
}
