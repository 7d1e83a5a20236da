//! Push first: a job whose follow-up work is certain (a room relay's
//! fan-out, a fan-out's deliveries) starts it in this process right after
//! committing it, instead of leaving it to the next claim. The follow-up
//! jobs are still written to the queue first, leased to this process in
//! the transaction that writes them (so no other worker claims them, and
//! the per-host cap holds: see `store::jobs::lease_queued`), and run like
//! claimed jobs: their leases are renewed, their outcomes recorded, and a
//! crash leaves them to be taken over as any leased job is.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::OwnedSemaphorePermit;

use super::Workers;
use crate::store::jobs::{JobRow, LeaseTo};

/// Given to each job's handler: the worker pool that runs it, to start
/// follow-ups in. Handlers run outside a pool get [`FollowUps::none`], and
/// their follow-ups wait for a claim.
#[derive(Clone, Default)]
pub struct FollowUps(Option<Arc<Workers>>);

impl std::fmt::Debug for FollowUps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("FollowUps")
            .field(&self.0.as_ref().map(|pool| pool.holder.as_str()))
            .finish()
    }
}

impl FollowUps {
    pub(super) fn of(pool: Arc<Workers>) -> Self {
        FollowUps(Some(pool))
    }

    pub fn none() -> Self {
        FollowUps(None)
    }

    /// Takes up to `wanted` of the pool's free slots for follow-ups (none
    /// when all are busy: the follow-ups then wait for a claim).
    pub fn reserve(&self, wanted: usize) -> Reserved {
        let mut permits = Vec::new();
        if let Some(pool) = &self.0 {
            while permits.len() < wanted {
                match pool.slots.clone().try_acquire_owned() {
                    Ok(permit) => permits.push(permit),
                    Err(_) => break,
                }
            }
        }
        Reserved {
            pool: self.0.clone(),
            permits,
        }
    }
}

/// Slots held for follow-ups; those not used are freed when it is dropped.
pub struct Reserved {
    pool: Option<Arc<Workers>>,
    permits: Vec<OwnedSemaphorePermit>,
}

impl Reserved {
    /// The lease to write follow-ups with (see `actions::enqueue_leased`):
    /// to this process, for as many jobs as slots were reserved; `None`
    /// when there are none.
    pub fn lease(&self) -> Option<LeaseTo> {
        let pool = self.pool.as_ref().filter(|_| !self.permits.is_empty())?;
        let now = Utc::now().naive_utc();
        let lease = chrono::Duration::from_std(pool.settings.lease).unwrap_or_default();
        Some(LeaseTo {
            holder: pool.holder.clone(),
            now,
            until: now + lease,
            host_cap: pool.settings.host_cap,
            max: self.permits.len(),
        })
    }

    /// Runs the follow-ups leased with [`Reserved::lease`], once the
    /// transaction that wrote them is committed.
    pub fn start(mut self, leased: Vec<JobRow>) {
        let Some(pool) = self.pool.take() else {
            return;
        };
        pool.in_flight
            .lock()
            .expect("in-flight lock")
            .extend(leased.iter().map(|row| row.id));
        for row in leased {
            let Some(permit) = self.permits.pop() else {
                // More than were reserved: not from this lease. Its lease
                // runs out and another claim takes it.
                tracing::error!(job = row.id, "a follow-up leased without a slot");
                pool.in_flight
                    .lock()
                    .expect("in-flight lock")
                    .remove(&row.id);
                continue;
            };
            tokio::spawn(pool.clone().run_one(row, permit));
        }
    }
}
