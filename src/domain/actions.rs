//! Actions: the side effects domain operations ask for, written to the job
//! queue in the same transaction as the change that caused them, and carried
//! out by the delivery workers.

use chrono::{NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::AnyConnection;
use crate::store::jobs::{self, NewJobRow};

/// Job kind of [`Action::FanOut`].
pub const FAN_OUT: &str = "fanout";
/// Job kind of [`Action::Deliver`].
pub const DELIVER: &str = "deliver";

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
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::FanOut { .. } => FAN_OUT,
            Action::Deliver { .. } => DELIVER,
        }
    }

    /// Two actions with the same key are the same work.
    pub fn dedup_key(&self) -> String {
        match self {
            Action::FanOut { activity, .. } => format!("fanout {activity}"),
            Action::Deliver {
                activity, inbox, ..
            } => format!("deliver {activity} {inbox}"),
        }
    }

    /// The host a job talks to, for the per-host concurrency cap.
    pub fn host(&self) -> Option<String> {
        match self {
            Action::FanOut { .. } => None,
            Action::Deliver { inbox, .. } => url::Url::parse(inbox)
                .ok()
                .filter(|u| u.host_str().is_some())
                .map(|u| crate::config::host_of(&u)),
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
            run_at: now,
            created_at: now,
            updated_at: now,
        })
        .collect();
    jobs::enqueue(conn, &rows)
}
