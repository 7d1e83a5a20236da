//! The delivery side: workers that claim jobs from the durable queue, run
//! the handler of each job's kind, and record the outcome (done, retried
//! with backoff, or dead). Several processes may share one queue.

pub mod activitypub;
pub mod admin;
pub mod backoff;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use tokio::sync::{Notify, Semaphore, watch};

use crate::store::jobs::{self, JobRow};
use crate::store::{Store, StoreError};

/// A claimed job, as a handler sees it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// Failed attempts so far.
    pub attempts: i32,
}

/// What came of running a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// Try again later (not before `retry_after`, if the peer said so).
    Retry {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Give up now: the failure is final.
    Fail {
        error: String,
    },
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Runs the jobs of one kind.
pub trait JobHandler: Send + Sync + 'static {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome>;
}

/// How the workers of one process behave.
#[derive(Debug, Clone, Copy)]
pub struct QueueSettings {
    /// Jobs run at once by this process.
    pub concurrency: usize,
    /// Jobs running at once against one host, across all processes.
    pub host_cap: i64,
    /// How long a claim lasts before another process may take the job over.
    pub lease: Duration,
    /// How often an idle worker looks for work.
    pub poll_interval: Duration,
    /// Longest one run of a job may take; it is then abandoned and counts
    /// as a crash. Shorter than `lease`, so no other process takes the job
    /// over while it still runs here.
    pub job_timeout: Duration,
    /// Crashes (lost leases and timeouts) after which a job is dead.
    pub max_crashes: i32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            concurrency: 32,
            host_cap: 8,
            lease: Duration::from_secs(120),
            poll_interval: Duration::from_millis(250),
            job_timeout: Duration::from_secs(60),
            max_crashes: 3,
        }
    }
}

/// Counts for operators (`estuary queue stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct QueueStats {
    /// Waiting for a first attempt.
    pub pending: i64,
    /// Being worked on now.
    pub running: i64,
    /// Failed at least once, waiting for another attempt.
    pub failed: i64,
    /// Given up.
    pub dead: i64,
    pub done: i64,
}

pub async fn stats(store: &Store) -> Result<QueueStats, StoreError> {
    store
        .run(|conn| {
            let mut stats = QueueStats::default();
            for (status, count) in jobs::count_by_status(conn)? {
                match status.as_str() {
                    "pending" => stats.pending = count,
                    "running" => stats.running = count,
                    "retrying" => stats.failed = count,
                    "dead" => stats.dead = count,
                    "done" => stats.done = count,
                    _ => {}
                }
            }
            Ok(stats)
        })
        .await
}

/// Called after each finished delivery attempt (metrics).
pub type OutcomeHook = Arc<dyn Fn(&str, &JobOutcome) + Send + Sync>;

/// The worker pool of one process.
pub struct Workers {
    store: Store,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    settings: QueueSettings,
    wake: Arc<Notify>,
    on_outcome: Option<OutcomeHook>,
}

impl Workers {
    pub fn new(store: Store, settings: QueueSettings, wake: Arc<Notify>) -> Self {
        Workers {
            store,
            handlers: HashMap::new(),
            settings,
            wake,
            on_outcome: None,
        }
    }

    pub fn handle(mut self, kind: &str, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(kind.to_owned(), handler);
        self
    }

    pub fn on_outcome(mut self, hook: OutcomeHook) -> Self {
        self.on_outcome = Some(hook);
        self
    }

    /// Claims and runs jobs until `shutdown` turns true, then waits for the
    /// jobs in flight. Unclaimed work stays queued.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency));
        let this = Arc::new(self);
        loop {
            if *shutdown.borrow() {
                break;
            }
            let free = slots.available_permits();
            let claimed = if free == 0 {
                Vec::new()
            } else {
                match this.claim(free).await {
                    Ok(jobs) => jobs,
                    Err(error) => {
                        tracing::warn!(%error, "claiming jobs failed");
                        Vec::new()
                    }
                }
            };
            if claimed.is_empty() {
                tokio::select! {
                    changed = shutdown.changed() => {
                        if changed.is_err() {
                            break;
                        }
                    }
                    _ = this.wake.notified() => {}
                    _ = tokio::time::sleep(this.settings.poll_interval) => {}
                }
                continue;
            }
            for row in claimed {
                let permit = slots.clone().acquire_owned().await.expect("semaphore open");
                let this = this.clone();
                tokio::spawn(async move {
                    this.run_one(row).await;
                    drop(permit);
                    // A free slot: look for more work now, not at the next poll.
                    this.wake.notify_one();
                });
            }
        }
        // Wait for the jobs in flight.
        let _ = slots.acquire_many(this.settings.concurrency as u32).await;
    }

    async fn claim(&self, limit: usize) -> Result<Vec<JobRow>, StoreError> {
        let lease = chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
        let host_cap = self.settings.host_cap;
        let max_crashes = self.settings.max_crashes;
        self.store
            .run(move |conn| {
                let now = Utc::now().naive_utc();
                let buried = jobs::bury_crashed(conn, now, max_crashes)?;
                if buried > 0 {
                    tracing::warn!(
                        jobs = buried,
                        max_crashes,
                        "jobs whose runs keep crashing or hanging are dead"
                    );
                }
                Ok(jobs::claim(conn, now, now + lease, limit as i64, host_cap)?)
            })
            .await
    }

    async fn run_one(&self, row: JobRow) {
        let job = Job {
            id: row.id,
            kind: row.kind.clone(),
            payload: row.payload,
            attempts: row.attempts,
        };
        let outcome = match self.handlers.get(&row.kind) {
            Some(handler) => {
                match tokio::time::timeout(self.settings.job_timeout, handler.handle(job.clone()))
                    .await
                {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        self.record_timeout(&job).await;
                        return;
                    }
                }
            }
            None => JobOutcome::Fail {
                error: format!("no handler for jobs of kind {:?}", row.kind),
            },
        };
        if let Some(hook) = &self.on_outcome {
            hook(&row.kind, &outcome);
        }
        if let Err(error) = self.record(&job, &outcome).await {
            // The lease expires and another attempt happens: at least once.
            tracing::error!(job = job.id, %error, "recording a job outcome failed");
        }
    }

    /// A run went over the time limit: retry later, or bury the job once it
    /// has crashed `max_crashes` times.
    async fn record_timeout(&self, job: &Job) {
        let (id, attempts, max_crashes) = (job.id, job.attempts + 1, self.settings.max_crashes);
        tracing::warn!(job = id, kind = %job.kind, timeout = ?self.settings.job_timeout, "job went over its time limit");
        if let Some(hook) = &self.on_outcome {
            hook(
                &job.kind,
                &JobOutcome::Retry {
                    error: "timed out".into(),
                    retry_after: None,
                },
            );
        }
        let recorded: Result<usize, StoreError> = self
            .store
            .run(move |conn| {
                let now = Utc::now().naive_utc();
                let delay = backoff::next_delay(attempts, backoff::random_jitter(), None)
                    .unwrap_or_default();
                let run_at = now + chrono::Duration::from_std(delay).unwrap_or_default();
                Ok(jobs::time_out(conn, id, max_crashes, run_at, now)?)
            })
            .await;
        if let Err(error) = recorded {
            tracing::error!(job = id, %error, "recording a job timeout failed");
        }
    }

    async fn record(&self, job: &Job, outcome: &JobOutcome) -> Result<(), StoreError> {
        let (id, attempts, outcome) = (job.id, job.attempts + 1, outcome.clone());
        match &outcome {
            JobOutcome::Done => {}
            JobOutcome::Retry { error, .. } | JobOutcome::Fail { error } => {
                tracing::info!(job = id, kind = %job.kind, attempts, %error, "job failed");
            }
        }
        self.store
            .run(move |conn| {
                let now = Utc::now().naive_utc();
                match outcome {
                    JobOutcome::Done => jobs::complete(conn, id, now)?,
                    JobOutcome::Fail { error } => jobs::bury(conn, id, attempts, &error, now)?,
                    JobOutcome::Retry { error, retry_after } => {
                        match backoff::next_delay(attempts, backoff::random_jitter(), retry_after) {
                            Some(delay) => {
                                let run_at =
                                    now + chrono::Duration::from_std(delay).unwrap_or_default();
                                jobs::retry(conn, id, attempts, run_at, &error, now)?
                            }
                            None => jobs::bury(conn, id, attempts, &error, now)?,
                        }
                    }
                };
                Ok(())
            })
            .await
    }
}
