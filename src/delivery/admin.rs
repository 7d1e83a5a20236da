//! The operator's view of the queue: list jobs, retry dead ones, purge
//! finished ones (`estuary queue list | retry | purge`).

use chrono::{NaiveDateTime, Utc};
use serde::Serialize;

use crate::store::jobs::{self, JobRow};
use crate::store::{Store, StoreError};

/// The statuses a job can have, as `queue list --status` takes them.
pub const STATUSES: &[&str] = &["pending", "running", "retrying", "dead", "done"];

/// Why a queue command was refused.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("{0:?} is not a job status (one of pending, running, retrying, dead, done)")]
    UnknownStatus(String),
    #[error("only dead or done jobs can be purged, not {0:?}")]
    NotFinished(String),
    #[error("there is no dead or retrying job {0}")]
    NoSuchJob(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for QueueError {
    fn from(error: diesel::result::Error) -> Self {
        QueueError::Store(error.into())
    }
}

/// One job as `queue list` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct JobInfo {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub host: Option<String>,
    pub attempts: i32,
    pub run_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    /// The activity or page the job is about, when it names one.
    pub subject: Option<String>,
}

fn row_to_info(row: JobRow) -> JobInfo {
    let payload: serde_json::Value = serde_json::from_str(&row.payload).unwrap_or_default();
    let subject = ["activity", "source", "topic"]
        .iter()
        .find_map(|key| payload.get(key).and_then(|v| v.as_str()))
        .map(str::to_owned);
    JobInfo {
        id: row.id,
        kind: row.kind,
        status: row.status,
        host: row.host,
        attempts: row.attempts,
        run_at: row.run_at,
        last_error: row.last_error,
        created_at: row.created_at,
        subject,
    }
}

fn check_status(status: &str) -> Result<(), QueueError> {
    if STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(QueueError::UnknownStatus(status.to_owned()))
    }
}

/// Jobs, newest first, optionally of one status.
pub async fn list(
    store: &Store,
    status: Option<String>,
    limit: i64,
) -> Result<Vec<JobInfo>, QueueError> {
    if let Some(status) = &status {
        check_status(status)?;
    }
    store
        .run(move |conn| {
            Ok(jobs::list(conn, status.as_deref(), limit.max(1))?
                .into_iter()
                .map(row_to_info)
                .collect())
        })
        .await
}

/// Makes one dead or retrying job (or, without an id, every dead job) due
/// now with its attempts reset. Returns how many.
pub async fn retry(store: &Store, id: Option<i64>) -> Result<usize, QueueError> {
    store
        .run(move |conn| {
            let changed = jobs::retry_now(conn, id, Utc::now().naive_utc())?;
            match (id, changed) {
                (Some(id), 0) => Err(QueueError::NoSuchJob(id)),
                _ => Ok(changed),
            }
        })
        .await
}

/// Deletes the jobs of a finished status (`dead` or `done`).
pub async fn purge(store: &Store, status: String) -> Result<usize, QueueError> {
    check_status(&status)?;
    if status != "dead" && status != "done" {
        return Err(QueueError::NotFinished(status));
    }
    store.run(move |conn| Ok(jobs::purge(conn, &status)?)).await
}
