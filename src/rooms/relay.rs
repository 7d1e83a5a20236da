//! The relay (FEP-1b12): a member's activity addressed to a room is
//! announced by the room to all its members, whole and with `audience` =
//! the room, and the room's feed is pushed to its WebSub subscribers.

use chrono::{NaiveDateTime, Utc};
use serde_json::Value;

use crate::delivery::activitypub::Deliver;
use crate::delivery::{BoxFuture, FollowUps, Job, JobHandler, JobOutcome};
use crate::domain::DomainError;
use crate::domain::accounts::{self, Account};
use crate::domain::actions::{self, Action};
use crate::domain::audience::PUBLIC;
use crate::domain::ledger::{self, Effect};
use crate::domain::posts::{self, NewActivity, Post};
use crate::federation::ctx::Federation;
use crate::federation::documents::{
    ActivityDocument, ActivityKind, ActivityObject, stored_document,
};

/// Runs `room_relay` jobs; the Announce's deliveries are run by `deliver`.
pub struct Relay {
    fed: Federation,
    deliver: Deliver,
}

impl Relay {
    pub fn new(fed: Federation, deliver: Deliver) -> Self {
        Relay { fed, deliver }
    }
}

impl JobHandler for Relay {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome> {
        let (fed, deliver) = (self.fed.clone(), self.deliver.clone());
        Box::pin(async move {
            let Ok(Action::RoomRelay { room_id, activity }) = serde_json::from_str(&job.payload)
            else {
                return JobOutcome::Fail {
                    error: "unreadable payload".into(),
                };
            };
            match relay(&fed, &deliver, room_id, &activity, &job.follow_ups).await {
                Ok(outcome) => outcome,
                Err(error) => JobOutcome::Retry {
                    error: error.to_string(),
                    retry_after: None,
                },
            }
        })
    }
}

/// The Announce of `activity` by `room` (FEP-1b12): the whole activity,
/// to the room's followers (and the public, for an open room), with the
/// room as `audience`.
pub fn build_room_announce(
    id: &str,
    room: &Account,
    activity: Value,
    published: NaiveDateTime,
) -> ActivityDocument {
    let cc = (!room.manually_approves_followers).then(|| PUBLIC.to_owned());
    ActivityDocument::builder(
        ActivityKind::Announce,
        id,
        &room.actor_url,
        ActivityObject::embed(activity),
    )
    .to(room.followers_url.clone())
    .cc(cc)
    .audience(&room.actor_url)
    .published(published)
    .build()
}

/// The Announce the relay's transaction recorded: its id, body and sender,
/// and its deliveries (how many were queued, and those leased to this
/// process).
struct Announced {
    id: String,
    body: String,
    room: Account,
    queued: usize,
    leased: Vec<crate::store::jobs::JobRow>,
}

async fn relay(
    fed: &Federation,
    deliver: &Deliver,
    room_id: i64,
    activity_id: &str,
    follow_ups: &FollowUps,
) -> Result<JobOutcome, DomainError> {
    // Push first: the deliveries to the members are written in the same
    // transaction as the Announce (no fan-out job between), as many as this
    // process has free slots for are leased to it, and those start here at
    // once. The room and the activity are read in that transaction too, so
    // the relay waits for no other hand-off to the database.
    let reserved = follow_ups.reserve(usize::MAX);
    let lease = reserved.lease();
    let (urls, activity_id) = (fed.urls.clone(), activity_id.to_owned());
    // Inside, `Err` is nothing to relay and why: it will not change on a
    // retry.
    let relayed: Result<Announced, String> = fed
        .store
        .transaction(move |conn| {
            let Some(room) = accounts::find_by_id_in(conn, room_id)? else {
                return Ok(Err("the room is gone".into()));
            };
            let Some(activity) = posts::find_activity_in(conn, &activity_id)? else {
                return Ok(Err("the activity is gone".into()));
            };
            let document = match stored_document(&activity.ap_id, &activity.document) {
                Ok(document) => document,
                Err(error) => {
                    tracing::error!(%error, room = room.actor_url, "cannot relay");
                    return Ok(Err(error.to_string()));
                }
            };
            let now = Utc::now().naive_utc();
            let id = urls.mint("activities");
            let announce = build_room_announce(&id, &room, document, now);
            let body = announce.to_json();
            let new = NewActivity::minted(
                &room,
                id.clone(),
                "Announce",
                Some(activity.ap_id.clone()),
                announce.addressees(),
                body.clone(),
                now,
            );
            // The ledger routes the Announce: to the members, and the
            // room's feed to its WebSub subscribers.
            let (_, deliveries) =
                ledger::record_delivering_in(conn, &urls, &room, &new, &Effect::None)?;
            let (queued, leased) = actions::enqueue_leased(conn, &deliveries, lease.as_ref())?;
            Ok::<_, DomainError>(Ok(Announced {
                id,
                body,
                room,
                queued,
                leased,
            }))
        })
        .await?;
    let Announced {
        id,
        body,
        room,
        queued,
        leased,
    } = match relayed {
        Ok(announced) => announced,
        Err(error) => return Ok(JobOutcome::Fail { error }),
    };
    if queued > 0 {
        deliver.keep(&id, body.into_bytes(), &room);
    }
    reserved.start(leased);
    // The rest (WebSub pushes, the deliveries without a free slot, or a
    // fan-out job when an addressee has to be resolved first).
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
