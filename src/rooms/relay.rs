//! The relay (FEP-1b12): a member's activity addressed to a room is
//! announced by the room to all its members, whole and with `audience` =
//! the room, and the room's feed is pushed to its WebSub subscribers.

use chrono::Utc;
use serde_json::{Value, json};

use crate::delivery::{BoxFuture, Job, JobHandler, JobOutcome};
use crate::domain::DomainError;
use crate::domain::accounts::{self, Account};
use crate::domain::actions::Action;
use crate::domain::audience::PUBLIC;
use crate::domain::posts::{self, NewActivity, Post};
use crate::domain::publish::{self, LocalEffect};
use crate::federation::builders::timestamp;
use crate::federation::context::ACTIVITYSTREAMS;
use crate::federation::ctx::Federation;
use crate::store::websub as subscriptions;

/// Runs `room_relay` jobs.
pub struct Relay(pub Federation);

impl JobHandler for Relay {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome> {
        let fed = self.0.clone();
        Box::pin(async move {
            let Ok(Action::RoomRelay { room_id, activity }) = serde_json::from_str(&job.payload)
            else {
                return JobOutcome::Fail {
                    error: "unreadable payload".into(),
                };
            };
            match relay(&fed, room_id, &activity).await {
                Ok(outcome) => outcome,
                Err(error) => JobOutcome::Retry {
                    error: error.to_string(),
                    retry_after: None,
                },
            }
        })
    }
}

/// The Announce of `activity` by `room`.
pub fn build_room_announce(id: &str, room: &Account, activity: &Value, published: &str) -> Value {
    let mut object = activity.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("@context");
        map.remove("signature");
    }
    let followers = room.followers_url.clone().unwrap_or_default();
    let cc: Vec<&str> = if room.manually_approves_followers {
        vec![]
    } else {
        vec![PUBLIC]
    };
    json!({
        "@context": ACTIVITYSTREAMS,
        "id": id,
        "type": "Announce",
        "actor": room.actor_url,
        "object": object,
        "to": [followers],
        "cc": cc,
        "audience": room.actor_url,
        "published": published,
    })
}

async fn relay(
    fed: &Federation,
    room_id: i64,
    activity_id: &str,
) -> Result<JobOutcome, DomainError> {
    let Some(room) = accounts::find_by_id(&fed.store, room_id).await? else {
        return Ok(JobOutcome::Fail {
            error: "the room is gone".into(),
        });
    };
    let Some(activity) = posts::find_activity(&fed.store, activity_id).await? else {
        return Ok(JobOutcome::Fail {
            error: "the activity is gone".into(),
        });
    };
    let document: Value = serde_json::from_str(&activity.document).unwrap_or_default();
    let now = Utc::now().naive_utc();
    let id = fed.urls.mint("activities");
    let announce = build_room_announce(&id, &room, &document, &timestamp(now));
    let addressees: Vec<String> = crate::federation::wire::addressees(&announce);
    let subscribers = {
        fed.store
            .run(move |conn| {
                Ok::<_, DomainError>(subscriptions::active_for_room(conn, room_id, now)?)
            })
            .await?
    };
    let pushes: Vec<Action> = subscribers
        .iter()
        .map(|s| Action::WebSubDeliver {
            subscription_id: s.id,
            version: id.clone(),
        })
        .collect();
    let new = NewActivity::minted(
        &room,
        id.clone(),
        "Announce",
        Some(activity.ap_id.clone()),
        addressees,
        announce.to_string(),
        now,
    );
    publish::publish_with(&fed.store, &room, new, LocalEffect::None, pushes).await?;
    fed.wake.notify_one();
    Ok(JobOutcome::Done)
}

/// The posts of a room's conversation, oldest first: what it relayed.
pub async fn room_posts(
    fed: &Federation,
    room: &Account,
) -> Result<Vec<(Post, Account)>, DomainError> {
    let announced =
        posts::outbox_for(&fed.store, room, Some(room.actor_url.clone()), 0, 10_000).await?;
    let mut found = Vec::new();
    // The conversation is a public page: silenced and suspended authors are
    // left out (the members still receive their posts).
    let moderated = crate::domain::moderation::PublicFilter::read(&fed.store).await?;
    for announce in announced.items.iter().rev() {
        let Some(inner_id) = &announce.object_ap_id else {
            continue;
        };
        let Some(inner) = posts::find_activity(&fed.store, inner_id).await? else {
            continue;
        };
        if inner.kind != "Create" {
            continue;
        }
        let Some(object) = &inner.object_ap_id else {
            continue;
        };
        let Some(post) = posts::find_post(&fed.store, object)
            .await?
            .filter(|p| p.deleted_at.is_none())
        else {
            continue;
        };
        if let Some(author) = accounts::find_by_id(&fed.store, post.author_id).await?
            && !moderated.hides(&author, true)
        {
            found.push((post, author));
        }
    }
    Ok(found)
}
