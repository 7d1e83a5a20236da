//! The delivery side: workers that claim jobs from the durable queue in
//! batches, run the handler of each job's kind, and record the outcomes
//! (done, retried with backoff, or dead) in batches. A handler may start
//! the follow-up jobs it makes certain at once (`follow_up`). Several
//! processes may share one queue.

pub mod activitypub;
pub mod admin;
pub mod backoff;
pub mod follow_up;
mod recorder;

pub use follow_up::{FollowUps, Reserved};

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};

use crate::store::jobs::{self, JobRow};
use crate::store::{Backend, Store, StoreError};

/// A claimed job, as a handler sees it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// Failed attempts so far.
    pub attempts: i32,
    /// Where the handler starts the follow-ups it makes certain.
    pub follow_ups: FollowUps,
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
    /// The holding process renews it every third of this while the job
    /// runs, so it bounds how long a dead process's jobs wait, not how long
    /// a job may run.
    pub lease: Duration,
    /// How often an idle worker looks for work.
    pub poll_interval: Duration,
    /// Longest one run of a job may take; it is then abandoned and counts
    /// as a crash.
    pub job_timeout: Duration,
    /// Crashes (lost leases and timeouts) after which a job is dead.
    pub max_crashes: i32,
    /// How long finished jobs are kept before they are pruned.
    pub keep_done: Duration,
    /// How often finished jobs are pruned.
    pub prune_interval: Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            concurrency: 32,
            host_cap: 8,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(250),
            job_timeout: Duration::from_secs(60),
            max_crashes: 3,
            keep_done: Duration::from_secs(3600),
            prune_interval: Duration::from_secs(60),
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

/// Finished jobs deleted per statement when pruning.
const PRUNE_BATCH: i64 = 5_000;

/// The worker pool of one process.
pub struct Workers {
    store: Store,
    handlers: HashMap<String, Arc<dyn JobHandler>>,
    settings: QueueSettings,
    wake: Arc<Notify>,
    on_outcome: Option<OutcomeHook>,
    /// Names this process on the leases it holds.
    holder: String,
    /// Jobs claimed by this process whose outcome is not recorded yet:
    /// their leases are renewed.
    in_flight: Mutex<HashSet<i64>>,
    /// One per job running: claims and follow-ups take them.
    slots: Arc<Semaphore>,
    /// Outcomes go here, to be recorded in batches.
    recorder: recorder::Sender,
    recorded: Mutex<Option<recorder::Receiver>>,
}

/// A name for this process's leases, unique among processes.
fn lease_holder() -> String {
    let mut bytes = [0u8; 8];
    let _ = openssl::rand::rand_bytes(&mut bytes);
    format!("{}-{:016x}", std::process::id(), u64::from_le_bytes(bytes))
}

impl Workers {
    pub fn new(store: Store, settings: QueueSettings, wake: Arc<Notify>) -> Self {
        let (recorder, recorded) = recorder::channel();
        Workers {
            slots: Arc::new(Semaphore::new(settings.concurrency)),
            recorder,
            recorded: Mutex::new(Some(recorded)),
            store,
            handlers: HashMap::new(),
            settings,
            wake,
            on_outcome: None,
            holder: lease_holder(),
            in_flight: Mutex::new(HashSet::new()),
        }
    }

    /// The name this process's leases carry.
    pub fn holder(&self) -> &str {
        &self.holder
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
        let slots = self.slots.clone();
        let this = Arc::new(self);
        if this.store.backend() == Backend::Sqlite {
            this.release_dead_leases().await;
        }
        let renewer = tokio::spawn(this.clone().renew_leases());
        let recorded = this
            .recorded
            .lock()
            .expect("recorder lock")
            .take()
            .expect("a pool runs once");
        let recorder = tokio::spawn(recorder::run(this.clone(), recorded));
        let mut pruned_at: Option<Instant> = None;
        loop {
            if *shutdown.borrow() {
                break;
            }
            if pruned_at.is_none_or(|at| at.elapsed() >= this.settings.prune_interval) {
                pruned_at = Some(Instant::now());
                tokio::spawn(this.clone().prune());
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
            this.in_flight
                .lock()
                .expect("in-flight lock")
                .extend(claimed.iter().map(|row| row.id));
            for row in claimed {
                let permit = slots.clone().acquire_owned().await.expect("semaphore open");
                // The recorder looks for more work once the outcome is
                // written (the host's slot is free in the table then).
                tokio::spawn(this.clone().run_one(row, permit));
            }
        }
        // Wait for the jobs in flight, then for their outcomes.
        let _ = slots.acquire_many(this.settings.concurrency as u32).await;
        let _ = this.recorder.send(recorder::Message::Stop);
        let _ = recorder.await;
        renewer.abort();
    }

    /// On SQLite one process owns the database: every lease found at start
    /// belongs to a process that died, so they all end now instead of
    /// holding their hosts' slots until they expire.
    async fn release_dead_leases(&self) {
        let released: Result<usize, StoreError> = self
            .store
            .transaction(|conn| Ok(jobs::expire_all_leases(conn, Utc::now().naive_utc())?))
            .await;
        match released {
            Ok(0) => {}
            Ok(count) => tracing::warn!(jobs = count, "released the leases of a process that died"),
            Err(error) => tracing::warn!(%error, "releasing leases at start failed"),
        }
    }

    /// Renews the leases of this process's jobs in flight every third of a
    /// lease, for as long as the pool runs.
    async fn renew_leases(self: Arc<Self>) {
        let every = (self.settings.lease / 3).max(Duration::from_millis(100));
        let lease = chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
        loop {
            tokio::time::sleep(every).await;
            let ids: Vec<i64> = self
                .in_flight
                .lock()
                .expect("in-flight lock")
                .iter()
                .copied()
                .collect();
            if ids.is_empty() {
                continue;
            }
            let holder = self.holder.clone();
            let renewed: Result<usize, StoreError> = self
                .store
                .transaction(move |conn| {
                    Ok(jobs::renew(
                        conn,
                        &holder,
                        &ids,
                        Utc::now().naive_utc() + lease,
                    )?)
                })
                .await;
            if let Err(error) = renewed {
                tracing::warn!(%error, "renewing job leases failed");
            }
        }
    }

    /// Deletes finished jobs older than `keep_done`, a batch at a time.
    async fn prune(self: Arc<Self>) {
        let keep = chrono::Duration::from_std(self.settings.keep_done).unwrap_or_default();
        loop {
            let pruned: Result<usize, StoreError> = self
                .store
                .transaction(move |conn| {
                    let before = Utc::now().naive_utc() - keep;
                    Ok(jobs::prune_done(conn, before, PRUNE_BATCH)?)
                })
                .await;
            match pruned {
                Ok(count) if count as i64 == PRUNE_BATCH => continue,
                Ok(0) => {}
                Ok(count) => tracing::debug!(jobs = count, "pruned finished jobs"),
                Err(error) => tracing::warn!(%error, "pruning finished jobs failed"),
            }
            break;
        }
    }

    async fn claim(&self, limit: usize) -> Result<Vec<JobRow>, StoreError> {
        let lease = chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
        let host_cap = self.settings.host_cap;
        let max_crashes = self.settings.max_crashes;
        let holder = self.holder.clone();
        self.store
            .transaction(move |conn| {
                let now = Utc::now().naive_utc();
                let buried = jobs::bury_crashed(conn, now, max_crashes)?;
                if buried > 0 {
                    tracing::warn!(
                        jobs = buried,
                        max_crashes,
                        "jobs whose runs keep crashing or hanging are dead"
                    );
                }
                Ok(jobs::claim(
                    conn,
                    &holder,
                    now,
                    now + lease,
                    limit as i64,
                    host_cap,
                )?)
            })
            .await
    }

    /// Runs a claimed (or directly leased) job holding one of the pool's
    /// slots, and hands its outcome to the recorder.
    async fn run_one(self: Arc<Self>, row: JobRow, slot: OwnedSemaphorePermit) {
        let finished = self.clone().run_job(row).await;
        // Handed over before the slot is freed: the pool, stopping, waits
        // for every slot and then for the recorder.
        if self
            .recorder
            .send(recorder::Message::Finished(finished))
            .is_err()
        {
            tracing::error!("the recorder has stopped; the job's lease will expire");
        }
        drop(slot);
    }

    async fn run_job(self: Arc<Self>, row: JobRow) -> recorder::Finished {
        let job = Job {
            id: row.id,
            kind: row.kind.clone(),
            payload: row.payload,
            attempts: row.attempts,
            follow_ups: FollowUps::of(self.clone()),
        };
        let (id, kind, attempts) = (job.id, job.kind.clone(), job.attempts + 1);
        let outcome = match self.handlers.get(&row.kind) {
            Some(handler) => {
                match tokio::time::timeout(self.settings.job_timeout, handler.handle(job)).await {
                    Ok(outcome) => outcome,
                    Err(_) => return self.timed_out(id, &kind, attempts),
                }
            }
            None => JobOutcome::Fail {
                error: format!("no handler for jobs of kind {:?}", row.kind),
            },
        };
        if let Some(hook) = &self.on_outcome {
            hook(&kind, &outcome);
        }
        let outcome = match outcome {
            JobOutcome::Done => recorder::Outcome::Done,
            JobOutcome::Fail { error } => {
                tracing::info!(job = id, %kind, attempts, %error, "job failed");
                recorder::Outcome::Bury { attempts, error }
            }
            JobOutcome::Retry { error, retry_after } => {
                tracing::info!(job = id, %kind, attempts, %error, "job failed");
                match backoff::next_delay(attempts, backoff::random_jitter(), retry_after) {
                    Some(delay) => recorder::Outcome::Retry {
                        attempts,
                        delay,
                        error,
                    },
                    None => recorder::Outcome::Bury { attempts, error },
                }
            }
        };
        recorder::Finished { id, outcome }
    }

    /// A run went over the time limit: retry later, or bury the job once it
    /// has crashed `max_crashes` times.
    fn timed_out(&self, id: i64, kind: &str, attempts: i32) -> recorder::Finished {
        tracing::warn!(job = id, %kind, timeout = ?self.settings.job_timeout, "job went over its time limit");
        if let Some(hook) = &self.on_outcome {
            hook(
                kind,
                &JobOutcome::Retry {
                    error: "timed out".into(),
                    retry_after: None,
                },
            );
        }
        let delay =
            backoff::next_delay(attempts, backoff::random_jitter(), None).unwrap_or_default();
        recorder::Finished {
            id,
            outcome: recorder::Outcome::TimedOut { delay },
        }
    }
}
