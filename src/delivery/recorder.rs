//! Outcomes of finished jobs, recorded in batches: workers hand them to one
//! task that writes all those waiting (up to `BATCH`) in one transaction,
//! tries again while the database refuses, and only then lets the jobs'
//! leases go. A finished job is neither run again nor left leased unless
//! every try fails (then its lease expires and it runs again: at least
//! once).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;

use super::Workers;
use crate::store::jobs;
use crate::store::{AnyConnection, StoreError};

/// Most outcomes written in one transaction.
const BATCH: usize = 256;
/// Tries at writing a batch before its jobs are left to their leases.
const RECORD_TRIES: u32 = 12;

/// What to write for a finished run.
#[derive(Debug, Clone)]
pub(super) enum Outcome {
    Done,
    /// Another attempt after `delay`; `attempts` counts this run.
    Retry {
        attempts: i32,
        delay: Duration,
        error: String,
    },
    /// Dead: the failure is final or the retries are spent.
    Bury {
        attempts: i32,
        error: String,
    },
    /// The run went over its time limit: a crash, retried after `delay`.
    TimedOut {
        delay: Duration,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Finished {
    pub id: i64,
    pub outcome: Outcome,
}

pub(super) enum Message {
    Finished(Finished),
    /// Write what came before, then end.
    Stop,
}

pub(super) type Sender = mpsc::UnboundedSender<Message>;
pub(super) type Receiver = mpsc::UnboundedReceiver<Message>;

pub(super) fn channel() -> (Sender, Receiver) {
    mpsc::unbounded_channel()
}

/// Writes the outcomes `workers` hand over until told to stop.
pub(super) async fn run(workers: Arc<Workers>, mut messages: Receiver) {
    let mut stopping = false;
    while !stopping {
        let mut batch = Vec::new();
        match messages.recv().await {
            Some(Message::Finished(finished)) => batch.push(finished),
            Some(Message::Stop) | None => break,
        }
        // Whatever finished meanwhile goes in the same transaction.
        while batch.len() < BATCH {
            match messages.try_recv() {
                Ok(Message::Finished(finished)) => batch.push(finished),
                Ok(Message::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        write(&workers, batch).await;
    }
}

async fn write(workers: &Workers, batch: Vec<Finished>) {
    let ids: Vec<i64> = batch.iter().map(|f| f.id).collect();
    let batch = Arc::new(batch);
    let max_crashes = workers.settings.max_crashes;
    let holder = workers.holder.clone();
    let mut pause = Duration::from_millis(50);
    for attempt in 1..=RECORD_TRIES {
        let (work, holder) = (batch.clone(), holder.clone());
        let written: Result<(), StoreError> = workers
            .store
            .transaction(move |conn| record_all(conn, &holder, &work, max_crashes))
            .await;
        match written {
            Ok(()) => break,
            Err(error) if attempt < RECORD_TRIES => {
                tracing::warn!(jobs = ids.len(), attempt, %error, "recording job outcomes failed; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(error) => {
                // The leases expire and other attempts happen: at least once.
                tracing::error!(jobs = ?ids, %error, "recording job outcomes failed; the jobs' leases will expire");
            }
        }
    }
    {
        let mut in_flight = workers.in_flight.lock().expect("in-flight lock");
        for id in &ids {
            in_flight.remove(id);
        }
    }
    // Their hosts have room again: look for more work now.
    workers.wake.notify_one();
}

fn record_all(
    conn: &mut AnyConnection,
    holder: &str,
    batch: &[Finished],
    max_crashes: i32,
) -> Result<(), StoreError> {
    let now = Utc::now().naive_utc();
    let later = |delay: Duration| now + chrono::Duration::from_std(delay).unwrap_or_default();
    let done: Vec<i64> = batch
        .iter()
        .filter(|f| matches!(f.outcome, Outcome::Done))
        .map(|f| f.id)
        .collect();
    let mut recorded = jobs::complete_all(conn, holder, &done, now)?;
    for finished in batch {
        let id = finished.id;
        recorded += match &finished.outcome {
            Outcome::Done => 0,
            Outcome::Retry {
                attempts,
                delay,
                error,
            } => jobs::retry(conn, holder, id, *attempts, later(*delay), error, now)?,
            Outcome::Bury { attempts, error } => {
                jobs::bury(conn, holder, id, *attempts, error, now)?
            }
            Outcome::TimedOut { delay } => {
                jobs::time_out(conn, holder, id, max_crashes, later(*delay), now)?
            }
        }
    }
    if recorded < batch.len() {
        // Their leases ran out (this process stalled, or could not renew
        // them) and other workers took them over: theirs to record.
        tracing::warn!(
            jobs = batch.len() - recorded,
            "outcomes of jobs taken over by another worker were not recorded"
        );
    }
    Ok(())
}
