//! Who is in a room: members post, the owner approves, removes and bans.

use chrono::Utc;

use crate::domain::DomainError;
use crate::domain::accounts::Account;
use crate::domain::audience::Visibility;
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::NewActivity;
use crate::domain::route;
use crate::federation::ctx::Federation;
use crate::federation::documents::{ActivityDocument, ActivityKind, ActivityObject};
use crate::store::accounts as account_rows;
use crate::store::{Store, blocks, follows};

/// Members of a room (accepted follows).
pub async fn member_count(store: &Store, room_id: i64) -> Result<i64, DomainError> {
    Ok(crate::domain::follows::followers(store, room_id)
        .await?
        .len() as i64)
}

/// Whether `account` may post in `room`: a member not banned, or its owner.
pub async fn is_member(store: &Store, room_id: i64, account_id: i64) -> Result<bool, DomainError> {
    store
        .run(move |conn| Ok(route::may_post_in_room(conn, room_id, account_id)?))
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

/// A member leaves (or is removed from) a room: its membership and, for a
/// site, every subscription and token it holds to the room's feed end.
pub async fn leave(store: &Store, room_id: i64, member_id: i64) -> Result<bool, DomainError> {
    store
        .transaction(move |conn| {
            let site = account_rows::find(conn, member_id)?.and_then(|a| a.site_url);
            if let Some(site) = site {
                crate::domain::site_grants::end_feed_access(
                    conn,
                    room_id,
                    &site,
                    Utc::now().naive_utc(),
                )?;
            }
            Ok(follows::delete(conn, member_id, room_id)? > 0)
        })
        .await
}

fn answer(
    fed: &Federation,
    room: &Account,
    kind: ActivityKind,
    object: &str,
    member: &Account,
) -> NewActivity {
    let now = Utc::now().naive_utc();
    let id = fed.urls.mint("activities");
    let object = ActivityObject::Id(object.to_owned());
    let document = ActivityDocument::builder(kind, &id, &room.actor_url, object)
        .to([member.actor_url.clone()])
        .published(now)
        .build();
    NewActivity {
        ap_id: id,
        kind: kind.as_str().to_owned(),
        actor_id: room.id,
        object_ap_id: None,
        addressees: vec![member.actor_url.clone()],
        visibility: Visibility::Direct,
        document: document.to_json(),
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
    let accept = answer(
        fed,
        room,
        ActivityKind::Accept,
        &follow.follow_ap_id,
        member,
    );
    let effect = Effect::AnswerFollow {
        follow_ap_id: follow.follow_ap_id,
        accept: true,
    };
    // A site is offered the room's conversation as a private feed.
    let kept: Vec<ledger::Bookkeeping> = member
        .site_url
        .is_some()
        .then_some(ledger::Bookkeeping::TicketToSite {
            room_id: room.id,
            proxy_id: member.id,
        })
        .into_iter()
        .collect();
    ledger::record_with(&fed.store, &fed.urls, room, accept, effect, kept).await?;
    fed.wake.notify_one();
    Ok(())
}

/// The owner bans a member: membership ends, their posts are refused, and
/// they are told with a Block.
pub async fn ban(fed: &Federation, room: &Account, member: &Account) -> Result<(), DomainError> {
    let block = answer(fed, room, ActivityKind::Block, &member.actor_url, member);
    let effect = Effect::Block {
        blocked_id: member.id,
    };
    ledger::record(&fed.store, &fed.urls, room, block, effect).await?;
    fed.wake.notify_one();
    Ok(())
}
