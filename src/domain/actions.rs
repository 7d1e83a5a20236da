//! Actions: the side effects domain operations ask for, written to the job
//! queue in the same transaction as the change that caused them, and carried
//! out by the delivery workers.

use chrono::{NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::AnyConnection;
use crate::store::jobs::{self, JobRow, LeaseTo, NewJobRow};

/// Job kind of [`Action::FanOut`].
pub const FAN_OUT: &str = "fanout";
/// Job kind of [`Action::Deliver`].
pub const DELIVER: &str = "deliver";
/// Job kind of [`Action::VerifyWebmention`].
pub const VERIFY_WEBMENTION: &str = "webmention_verify";
/// Job kind of [`Action::SendWebmention`].
pub const SEND_WEBMENTION: &str = "webmention_send";
/// Job kind of [`Action::RoomRelay`].
pub const ROOM_RELAY: &str = "room_relay";
/// Job kind of [`Action::WebSubVerify`].
pub const WEBSUB_VERIFY: &str = "websub_verify";
/// Job kind of [`Action::WebSubDeliver`].
pub const WEBSUB_DELIVER: &str = "websub_deliver";
/// Job kind of [`Action::PrivateNoteToSite`].
pub const PRIVATE_NOTE_TO_SITE: &str = "private_note_to_site";
/// Job kind of [`Action::PrivateNoteCheck`].
pub const PRIVATE_NOTE_CHECK: &str = "private_note_check";
/// Job kind of [`Action::SendTicket`].
pub const SEND_TICKET: &str = "ticket_send";

/// A side effect to carry out after a change is committed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Send a stored activity to these addressees (actor ids and
    /// collection ids); the workers resolve them to inboxes.
    FanOut {
        activity: String,
        sender_id: i64,
        addressees: Vec<String>,
    },
    /// Send a stored activity to one inbox.
    Deliver {
        activity: String,
        sender_id: i64,
        inbox: String,
    },
    /// Verify a received Webmention (fetch the source, convert it).
    VerifyWebmention {
        id: i64,
        source: String,
        /// When it was (re)sent: a re-send is new work.
        received_at: String,
    },
    /// A member's activity addressed to a room: the room announces it to
    /// its members (FEP-1b12) and pushes its feed to WebSub subscribers.
    RoomRelay { room_id: i64, activity: String },
    /// Verify the intent of a WebSub (un)subscription to a room's feed.
    WebSubVerify {
        room_id: i64,
        mode: String,
        topic: String,
        callback: String,
        lease_seconds: i64,
        secret: Option<String>,
        requested_at: String,
    },
    /// Push a room's feed to one subscriber.
    WebSubDeliver {
        subscription_id: i64,
        version: String,
    },
    /// A direct note to a site's proxy actor: hand it to the site as a
    /// Private Webmention, else refuse it to its sender.
    PrivateNoteToSite {
        activity: String,
        proxy_id: i64,
        sender_id: i64,
    },
    /// Once a private page's code has expired: if the site never redeemed
    /// it, refuse the note to its sender.
    PrivateNoteCheck { page_id: i64 },
    /// A site admitted to a members-only room, or whose follow of a local
    /// person was accepted: offer it the room's (or person's) private feed
    /// with a ticket (Ticket Auth).
    SendTicket {
        /// The room or person whose feed is offered.
        room_id: i64,
        proxy_id: i64,
        /// The Accept that admitted the site, when there is one: each
        /// admission is sent a ticket of its own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        accept: Option<String>,
    },
    /// Send a Webmention from one of our pages to a site.
    SendWebmention {
        source: String,
        target: String,
        /// Distinguishes re-sends after an update or delete.
        version: String,
    },
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::FanOut { .. } => FAN_OUT,
            Action::Deliver { .. } => DELIVER,
            Action::VerifyWebmention { .. } => VERIFY_WEBMENTION,
            Action::SendWebmention { .. } => SEND_WEBMENTION,
            Action::PrivateNoteToSite { .. } => PRIVATE_NOTE_TO_SITE,
            Action::PrivateNoteCheck { .. } => PRIVATE_NOTE_CHECK,
            Action::SendTicket { .. } => SEND_TICKET,
            Action::RoomRelay { .. } => ROOM_RELAY,
            Action::WebSubVerify { .. } => WEBSUB_VERIFY,
            Action::WebSubDeliver { .. } => WEBSUB_DELIVER,
        }
    }

    /// Two actions with the same key are the same work.
    pub fn dedup_key(&self) -> String {
        match self {
            Action::FanOut { activity, .. } => fan_out_key(activity),
            Action::Deliver {
                activity, inbox, ..
            } => format!("deliver {activity} {inbox}"),
            Action::VerifyWebmention {
                id, received_at, ..
            } => format!("webmention {id} {received_at}"),
            Action::SendWebmention {
                source,
                target,
                version,
            } => format!("send-webmention {source} {target} {version}"),
            Action::PrivateNoteToSite {
                activity, proxy_id, ..
            } => format!("private-note {activity} {proxy_id}"),
            Action::PrivateNoteCheck { page_id } => format!("private-note-check {page_id}"),
            Action::SendTicket {
                room_id,
                proxy_id,
                accept: None,
            } => format!("ticket {room_id} {proxy_id}"),
            Action::SendTicket {
                room_id,
                proxy_id,
                accept: Some(accept),
            } => format!("ticket {room_id} {proxy_id} {accept}"),
            Action::RoomRelay { room_id, activity } => format!("room-relay {room_id} {activity}"),
            Action::WebSubVerify {
                topic,
                callback,
                requested_at,
                ..
            } => format!("websub-verify {topic} {callback} {requested_at}"),
            Action::WebSubDeliver {
                subscription_id,
                version,
            } => format!("websub-deliver {subscription_id} {version}"),
        }
    }

    /// The host a job talks to, for the per-host concurrency cap.
    pub fn host(&self) -> Option<String> {
        let host = |url: &str| {
            url::Url::parse(url)
                .ok()
                .filter(|u| u.host_str().is_some())
                .map(|u| crate::config::host_of(&u))
        };
        match self {
            Action::FanOut { .. } => None,
            Action::Deliver { inbox, .. } => host(inbox),
            Action::VerifyWebmention { source, .. } => host(source),
            Action::SendWebmention { target, .. } => host(target),
            Action::PrivateNoteToSite { .. }
            | Action::PrivateNoteCheck { .. }
            | Action::SendTicket { .. }
            | Action::RoomRelay { .. } => None,
            Action::WebSubVerify { callback, .. } => host(callback),
            Action::WebSubDeliver { .. } => None,
        }
    }
}

/// Writes actions to the job queue; call inside the transaction of the
/// change that caused them. Duplicates of queued work are skipped.
pub fn enqueue(conn: &mut AnyConnection, actions: &[Action]) -> diesel::QueryResult<usize> {
    enqueue_at(conn, actions, Utc::now().naive_utc())
}

pub fn enqueue_at(
    conn: &mut AnyConnection,
    actions: &[Action],
    now: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    enqueue_to_run(conn, actions, now, now)
}

/// Writes actions to the job queue, to run no earlier than `run_at`.
pub fn enqueue_later(
    conn: &mut AnyConnection,
    actions: &[Action],
    run_at: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    enqueue_to_run(conn, actions, Utc::now().naive_utc(), run_at)
}

/// The dedup key of the fan-out of `activity`.
pub fn fan_out_key(activity: &str) -> String {
    format!("fanout {activity}")
}

/// Writes actions to the job queue, due now, and leases up to `lease.max`
/// of the new jobs to `lease.holder` (per-host cap kept) so that it runs
/// them itself at once: call it inside a transaction (see
/// [`jobs::lease_queued`]). Returns how many jobs were queued and the
/// leased ones.
pub fn enqueue_leased(
    conn: &mut AnyConnection,
    actions: &[Action],
    lease: Option<&LeaseTo>,
) -> diesel::QueryResult<(usize, Vec<JobRow>)> {
    let now = Utc::now().naive_utc();
    with_rows(actions, now, now, |rows| {
        let queued = jobs::enqueue_returning(conn, rows)?;
        let leased = match lease {
            Some(lease) => jobs::lease_queued(conn, &queued, lease)?,
            None => Vec::new(),
        };
        Ok((queued.len(), leased))
    })
}

fn enqueue_to_run(
    conn: &mut AnyConnection,
    actions: &[Action],
    now: NaiveDateTime,
    run_at: NaiveDateTime,
) -> diesel::QueryResult<usize> {
    with_rows(actions, now, run_at, |rows| jobs::enqueue(conn, rows))
}

/// Calls `write` with the job rows of `actions`.
fn with_rows<T>(
    actions: &[Action],
    now: NaiveDateTime,
    run_at: NaiveDateTime,
    write: impl FnOnce(&[NewJobRow<'_>]) -> T,
) -> T {
    let prepared: Vec<(String, String, Option<String>, &'static str)> = actions
        .iter()
        .map(|action| {
            (
                action.dedup_key(),
                serde_json::to_string(action).expect("actions serialise"),
                action.host(),
                action.kind(),
            )
        })
        .collect();
    let rows: Vec<NewJobRow<'_>> = prepared
        .iter()
        .map(|(key, payload, host, kind)| NewJobRow {
            kind,
            dedup_key: Some(key),
            payload,
            host: host.as_deref(),
            status: "pending",
            attempts: 0,
            run_at,
            created_at: now,
            updated_at: now,
        })
        .collect();
    write(&rows)
}
