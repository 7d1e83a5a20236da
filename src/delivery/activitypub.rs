//! The ActivityPub deliverer: fan-out of a stored activity to the inboxes of
//! its addressees (one job per inbox, shared inboxes deduplicated), and the
//! signed POST of one activity to one inbox.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{BoxFuture, Job, JobHandler, JobOutcome};
use crate::domain::accounts::{self, Account};
use crate::domain::actions::{self, Action};
use crate::domain::follows;
use crate::federation::ctx::Federation;
use crate::federation::fetch::FetchError;
use crate::federation::resolve;
use crate::metrics::DELIVERIES;
use crate::store::activities;

/// Runs `fanout` jobs; warms the cache of the [`Deliver`] that runs their
/// deliveries.
pub struct FanOut {
    fed: Federation,
    deliver: Deliver,
}

impl FanOut {
    pub fn new(fed: Federation, deliver: Deliver) -> Self {
        FanOut { fed, deliver }
    }
}

/// Runs `deliver` jobs. A fan-out makes many jobs of one activity by one
/// sender: both are kept for a while instead of read for every inbox.
#[derive(Clone)]
pub struct Deliver(Arc<DeliverState>);

struct DeliverState {
    fed: Federation,
    bodies: Mutex<HashMap<String, Arc<Vec<u8>>>>,
    senders: Mutex<HashMap<i64, Account>>,
}

/// Entries kept by each of [`Deliver`]'s caches before they are emptied.
const DELIVERY_CACHE_SIZE: usize = 256;

impl Deliver {
    pub fn new(fed: Federation) -> Self {
        Deliver(Arc::new(DeliverState {
            fed,
            bodies: Mutex::default(),
            senders: Mutex::default(),
        }))
    }

    /// Keeps what the deliveries of `activity_id` by `sender` need when
    /// the caller has it at hand (the body as stored, and the sender), so
    /// that they start without reading it.
    pub fn keep(&self, activity_id: &str, body: Vec<u8>, sender: &Account) {
        remember(&self.0.senders, sender.id, sender.clone());
        remember(&self.0.bodies, activity_id.to_owned(), Arc::new(body));
    }
}

fn remember<K: std::hash::Hash + Eq, V>(cache: &Mutex<HashMap<K, V>>, key: K, value: V) {
    let mut cache = cache.lock().expect("delivery cache");
    if cache.len() >= DELIVERY_CACHE_SIZE {
        cache.clear();
    }
    cache.insert(key, value);
}

impl JobHandler for FanOut {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome> {
        let (fed, deliver) = (self.fed.clone(), self.deliver.0.clone());
        Box::pin(async move { fan_out(&fed, &deliver, &job).await })
    }
}

impl JobHandler for Deliver {
    fn handle(&self, job: Job) -> BoxFuture<JobOutcome> {
        let state = self.0.clone();
        Box::pin(async move { deliver(&state, &job).await })
    }
}

fn parse(job: &Job) -> Result<Action, JobOutcome> {
    serde_json::from_str(&job.payload).map_err(|e| JobOutcome::Fail {
        error: format!("unreadable payload: {e}"),
    })
}

fn retry(error: impl std::fmt::Display) -> JobOutcome {
    JobOutcome::Retry {
        error: error.to_string(),
        retry_after: None,
    }
}

/// The inbox to deliver to: the shared inbox when the peer has one.
fn inbox_of(account: &Account) -> String {
    account
        .shared_inbox_url
        .clone()
        .unwrap_or_else(|| account.inbox_url.clone())
}

/// Reads once what each delivery of `activity_id` by `sender` needs (the
/// body, the sender, its signing key) before they start together. A
/// failure here is left to the deliveries.
async fn warm(state: &DeliverState, activity_id: &str, sender: &Account) {
    remember(&state.senders, sender.id, sender.clone());
    let _ = state.fed.signer_for(sender).await;
    let cached = state
        .bodies
        .lock()
        .expect("delivery cache")
        .contains_key(activity_id);
    if cached {
        return;
    }
    let lookup = activity_id.to_owned();
    let found = state
        .fed
        .store
        .run(move |conn| {
            Ok::<_, crate::store::StoreError>(activities::find_by_ap_id(conn, &lookup)?)
        })
        .await;
    if let Ok(Some(row)) = found {
        remember(
            &state.bodies,
            activity_id.to_owned(),
            Arc::new(row.document.into_bytes()),
        );
    }
}

async fn fan_out(fed: &Federation, deliver: &DeliverState, job: &Job) -> JobOutcome {
    let (activity, sender_id, addressees) = match parse(job) {
        Ok(Action::FanOut {
            activity,
            sender_id,
            addressees,
        }) => (activity, sender_id, addressees),
        Ok(other) => {
            return JobOutcome::Fail {
                error: format!("not a fan-out: {other:?}"),
            };
        }
        Err(outcome) => return outcome,
    };
    let mut audience = match follows::fan_out_audience(&fed.store, sender_id, addressees).await {
        Ok(audience) => audience,
        Err(error) => return retry(error),
    };
    let Some(sender) = audience.sender.take() else {
        return JobOutcome::Fail {
            error: "the sender is gone".into(),
        };
    };
    // The remote recipients: the followers of the addressed local
    // collections (the sender's own, or a thread's audience a reply is
    // forwarded to), and the actors addressed. Those who block the sender
    // get nothing.
    let others = std::mem::take(&mut audience.others);
    let mut resolved = Vec::new();
    let mut unresolved = Vec::new();
    for address in &others {
        match resolve::actor(fed, address).await {
            Ok(account) if !account.is_local() => {
                resolved.push((account.id, inbox_of(&account)));
            }
            Ok(_) => {}
            Err(error) if error.is_retryable() => unresolved.push(format!("{address}: {error}")),
            Err(error) => tracing::info!(%address, %error, "an addressee cannot be resolved"),
        }
    }
    let inboxes = audience.inboxes(resolved);
    if !inboxes.is_empty() {
        warm(deliver, &activity, &sender).await;
    }
    let deliveries: Vec<Action> = inboxes
        .into_iter()
        .map(|inbox| Action::Deliver {
            activity: activity.clone(),
            sender_id,
            inbox,
        })
        .collect();
    // Written in one transaction, multi-row INSERTs; as many as this
    // process has free slots for (and the hosts' caps allow) are leased to
    // it and start now, the others wait for a claim.
    let reserved = job.follow_ups.reserve(deliveries.len());
    let lease = reserved.lease();
    let queued = fed
        .store
        .transaction(move |conn| {
            Ok::<_, crate::store::StoreError>(actions::enqueue_leased(
                conn,
                &deliveries,
                lease.as_ref(),
            )?)
        })
        .await;
    let (queued, leased) = match queued {
        Ok(queued) => queued,
        Err(error) => return retry(error),
    };
    let waiting = queued > leased.len();
    reserved.start(leased);
    if waiting {
        fed.wake.notify_one();
    }
    if unresolved.is_empty() {
        JobOutcome::Done
    } else {
        // Queued deliveries are deduplicated when this runs again.
        retry(unresolved.join("; "))
    }
}

async fn deliver(state: &DeliverState, job: &Job) -> JobOutcome {
    let fed = &state.fed;
    let outcome = deliver_inner(state, job).await;
    let label = match &outcome {
        JobOutcome::Done => "delivered",
        JobOutcome::Retry { .. } => "retry",
        JobOutcome::Fail { .. } => "failed",
    };
    fed.metrics.increment(DELIVERIES, label);
    outcome
}

async fn deliver_inner(state: &DeliverState, job: &Job) -> JobOutcome {
    let fed = &state.fed;
    let (activity_id, sender_id, inbox) = match parse(job) {
        Ok(Action::Deliver {
            activity,
            sender_id,
            inbox,
        }) => (activity, sender_id, inbox),
        Ok(other) => {
            return JobOutcome::Fail {
                error: format!("not a delivery: {other:?}"),
            };
        }
        Err(outcome) => return outcome,
    };
    let cached = state
        .bodies
        .lock()
        .expect("delivery cache")
        .get(&activity_id)
        .cloned();
    let body = match cached {
        Some(body) => body,
        None => {
            let lookup = activity_id.clone();
            let found = fed
                .store
                .run(move |conn| {
                    Ok::<_, crate::store::StoreError>(activities::find_by_ap_id(conn, &lookup)?)
                })
                .await;
            match found {
                Ok(Some(row)) => {
                    let body = Arc::new(row.document.into_bytes());
                    remember(&state.bodies, activity_id.clone(), body.clone());
                    body
                }
                Ok(None) => {
                    return JobOutcome::Fail {
                        error: "the activity is gone".into(),
                    };
                }
                Err(error) => return retry(error),
            }
        }
    };
    let cached = state
        .senders
        .lock()
        .expect("delivery cache")
        .get(&sender_id)
        .cloned();
    let sender = match cached {
        Some(sender) => sender,
        None => match accounts::find_by_id(&fed.store, sender_id).await {
            Ok(Some(sender)) => {
                remember(&state.senders, sender_id, sender.clone());
                sender
            }
            Ok(None) => {
                return JobOutcome::Fail {
                    error: "the sender is gone".into(),
                };
            }
            Err(error) => return retry(error),
        },
    };
    let signer = match fed.signer_for(&sender).await {
        Ok(signer) => signer,
        Err(error) => {
            return JobOutcome::Fail {
                error: error.to_string(),
            };
        }
    };
    let url = match url::Url::parse(&inbox) {
        Ok(url) => url,
        Err(error) => {
            return JobOutcome::Fail {
                error: format!("bad inbox URL: {error}"),
            };
        }
    };
    match fed
        .fetcher
        .post_activity(&url, Vec::clone(&body), &signer)
        .await
    {
        Ok(outcome) if outcome.status.is_success() => JobOutcome::Done,
        Ok(outcome) if outcome.status == http::StatusCode::GONE => JobOutcome::Fail {
            error: "the recipient is gone (410)".into(),
        },
        Ok(outcome)
            if outcome.status.is_server_error()
                || outcome.status == http::StatusCode::REQUEST_TIMEOUT
                || outcome.status == http::StatusCode::TOO_MANY_REQUESTS =>
        {
            JobOutcome::Retry {
                error: format!("the inbox answered {}", outcome.status),
                retry_after: outcome.retry_after,
            }
        }
        Ok(outcome) => JobOutcome::Fail {
            error: format!("the inbox refused it: {}", outcome.status),
        },
        Err(error @ FetchError::ForbiddenAddress(_)) => JobOutcome::Fail {
            error: error.to_string(),
        },
        Err(error) if error.is_retryable() => retry(error),
        Err(error) => JobOutcome::Fail {
            error: error.to_string(),
        },
    }
}

/// The handlers of the ActivityPub deliverer, by job kind, its deliveries
/// run by `deliver`.
pub fn handlers(fed: &Federation, deliver: &Deliver) -> Vec<(&'static str, Arc<dyn JobHandler>)> {
    vec![
        (
            actions::FAN_OUT,
            Arc::new(FanOut::new(fed.clone(), deliver.clone())) as Arc<dyn JobHandler>,
        ),
        (
            actions::DELIVER,
            Arc::new(deliver.clone()) as Arc<dyn JobHandler>,
        ),
    ]
}
