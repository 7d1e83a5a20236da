//! The job table as a queue shared by several workers: the per-host cap,
//! expired leases, no job claimed twice by concurrent claimers, and jobs
//! that crash or hang their worker made dead after a few runs; leases
//! renewed by their holder, released at once, finished jobs pruned.

mod common;

use chrono::{Duration, Utc};
use common::{TestDb, deliveries};
use estuary::domain::actions::{Action, enqueue};
use estuary::store::jobs::{
    bury_crashed, claim, complete_all, expire_all_leases, prune_done, renew,
};
use estuary::store::{ConnectionManager, Store};

fn store(db: &TestDb) -> Store {
    let store = Store::open(
        &db.url,
        estuary::store::PoolSettings {
            max_connections: 4,
            acquire_timeout: std::time::Duration::from_secs(10),
        },
    )
    .unwrap();
    store.migrate().unwrap();
    store
}

#[test]
fn claims_respect_the_per_host_cap_and_expired_leases() {
    let db = TestDb::new();
    let _store = store(&db);
    let mut conn = ConnectionManager::new(&db.url).open().unwrap();
    let mut actions = deliveries("busy.example", 20);
    actions.extend(deliveries("quiet.example", 3));
    assert_eq!(enqueue(&mut conn, &actions).unwrap(), 23);
    assert_eq!(
        enqueue(&mut conn, &actions).unwrap(),
        0,
        "duplicates are skipped"
    );

    let now = Utc::now().naive_utc();
    let lease = now + Duration::seconds(60);
    let first = claim(&mut conn, "test", now, lease, 100, 8).unwrap();
    let busy = first
        .iter()
        .filter(|j| j.host.as_deref() == Some("busy.example"))
        .count();
    let quiet = first
        .iter()
        .filter(|j| j.host.as_deref() == Some("quiet.example"))
        .count();
    assert_eq!((busy, quiet), (8, 3));
    assert!(first.iter().all(|j| j.status == "running"));
    assert!(
        claim(&mut conn, "test", now, lease, 100, 8)
            .unwrap()
            .is_empty(),
        "the host is saturated"
    );

    // When the leases run out (a crashed worker), the jobs are claimable.
    let later = now + Duration::seconds(61);
    let again = claim(
        &mut conn,
        "test",
        later,
        later + Duration::seconds(60),
        100,
        8,
    )
    .unwrap();
    assert_eq!(
        again.len(),
        8 + 3,
        "expired claims come back, still capped per host"
    );
}

#[test]
fn concurrent_claimers_never_share_a_job() {
    let db = TestDb::new();
    let _store = store(&db);
    let mut conn = ConnectionManager::new(&db.url).open().unwrap();
    let actions: Vec<Action> = (0..200)
        .flat_map(|n| deliveries(&format!("h{n}.example"), 1))
        .collect();
    enqueue(&mut conn, &actions).unwrap();

    let threads: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            std::thread::spawn(move || {
                let mut conn = ConnectionManager::new(&url).open().unwrap();
                let mut mine = Vec::new();
                loop {
                    let now = Utc::now().naive_utc();
                    let batch =
                        claim(&mut conn, "test", now, now + Duration::seconds(60), 7, 8).unwrap();
                    if batch.is_empty() {
                        break mine;
                    }
                    mine.extend(batch.into_iter().map(|j| j.id));
                }
            })
        })
        .collect();
    let mut all: Vec<i64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let claimed = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), claimed, "no job was claimed twice");
    assert_eq!(claimed, 200, "every job was claimed");
}

/// The status and crash count of every job, in id order.
fn statuses(db: &TestDb) -> Vec<String> {
    db.texts("SELECT status || ' ' || CAST(crashes AS TEXT) AS v FROM jobs ORDER BY id")
        .into_iter()
        .map(Option::unwrap_or_default)
        .collect()
}

#[test]
fn a_job_whose_worker_keeps_crashing_is_dead_after_three_leases() {
    let db = TestDb::new();
    let _store = store(&db);
    let mut conn = ConnectionManager::new(&db.url).open().unwrap();
    enqueue(&mut conn, &deliveries("crashy.example", 1)).unwrap();

    // Each round a worker claims the job and dies without an outcome; the
    // next claimer finds the lease expired.
    let mut now = Utc::now().naive_utc();
    for round in 0..3 {
        assert_eq!(bury_crashed(&mut conn, now, 3).unwrap(), 0, "round {round}");
        let claimed = claim(&mut conn, "test", now, now + Duration::seconds(60), 10, 8).unwrap();
        assert_eq!(claimed.len(), 1, "round {round}: claimed again");
        assert_eq!(claimed[0].crashes, round, "round {round}: crashes counted");
        assert_eq!(claimed[0].attempts, round, "round {round}: as attempts too");
        now += Duration::seconds(61);
    }
    // The third lease ran out too: the job is dead, not claimed a fourth time.
    assert_eq!(bury_crashed(&mut conn, now, 3).unwrap(), 1);
    assert!(
        claim(&mut conn, "test", now, now + Duration::seconds(60), 10, 8)
            .unwrap()
            .is_empty()
    );
    assert_eq!(statuses(&db), ["dead 3"]);
}

/// A handler that never finishes.
struct Hangs;

impl estuary::delivery::JobHandler for Hangs {
    fn handle(
        &self,
        _job: estuary::delivery::Job,
    ) -> estuary::delivery::BoxFuture<estuary::delivery::JobOutcome> {
        Box::pin(std::future::pending())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_hangs_is_abandoned_at_its_time_limit_and_dead_after_three() {
    let db = TestDb::new();
    let store = store(&db);
    let mut conn = ConnectionManager::new(&db.url).open().unwrap();
    enqueue(&mut conn, &deliveries("slow.example", 1)).unwrap();

    let settings = estuary::delivery::QueueSettings {
        job_timeout: std::time::Duration::from_millis(200),
        max_crashes: 3,
        poll_interval: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let workers = estuary::delivery::Workers::new(store, settings, wake).handle(
        estuary::domain::actions::DELIVER,
        std::sync::Arc::new(Hangs),
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(workers.run(stopped));

    let started = std::time::Instant::now();
    let mut seen = Vec::new();
    loop {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the job never died: {seen:?}"
        );
        let status = statuses(&db).remove(0);
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status.starts_with("dead") {
            break;
        }
        if status.starts_with("retrying") {
            // Skip the backoff: the retry is due now.
            db.execute("UPDATE jobs SET run_at = '2000-01-01 00:00:00'");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(seen.last().map(String::as_str), Some("dead 3"), "{seen:?}");
    assert!(seen.iter().any(|s| s == "retrying 1"), "{seen:?}");
    assert!(seen.iter().any(|s| s == "retrying 2"), "{seen:?}");
    let _ = stop.send(true);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), running).await;
}

#[test]
fn leases_are_renewed_by_their_holder_only_and_released_at_once() {
    let db = TestDb::new();
    let _store = store(&db);
    let mut conn = ConnectionManager::new(&db.url).open().unwrap();
    enqueue(&mut conn, &deliveries("a.example", 3)).unwrap();
    let now = Utc::now().naive_utc();
    let soon = now + Duration::seconds(30);
    let mine = claim(&mut conn, "me", now, soon, 1, 8).unwrap();
    let theirs = claim(&mut conn, "them", now, soon, 1, 8).unwrap();
    assert_eq!(mine[0].lease_holder.as_deref(), Some("me"));
    let ids = [mine[0].id, theirs[0].id];
    assert_eq!(
        renew(&mut conn, "me", &ids, now + Duration::seconds(90)).unwrap(),
        1,
        "a process renews its own leases, not another's"
    );

    // A minute on, only the lease nobody renewed has run out.
    let later = now + Duration::seconds(60);
    let again = claim(&mut conn, "new", later, later + Duration::seconds(30), 1, 8).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, theirs[0].id);
    assert_eq!((again[0].crashes, again[0].attempts), (1, 1));
    assert_eq!(again[0].lease_holder.as_deref(), Some("new"));

    // A process starting alone on the database ends every lease at once:
    // both running jobs and the pending one are claimed now, the two
    // interrupted runs counted as crashes.
    assert_eq!(expire_all_leases(&mut conn, later).unwrap(), 2);
    let retaken = claim(
        &mut conn,
        "restart",
        later,
        later + Duration::seconds(30),
        10,
        8,
    )
    .unwrap();
    assert_eq!(retaken.len(), 3);
    let mut crashes: Vec<i32> = retaken.iter().map(|j| j.crashes).collect();
    crashes.sort();
    assert_eq!(crashes, [0, 1, 2]);
}

#[test]
fn a_host_at_its_cap_does_not_hold_up_the_claim_of_other_hosts() {
    let db = TestDb::new();
    let _store = store(&db);
    let mut conn = ConnectionManager::new(&db.url).open().unwrap();
    // Many due jobs of one host, queued before a few of another.
    let earlier = Utc::now().naive_utc() - Duration::seconds(10);
    estuary::domain::actions::enqueue_at(&mut conn, &deliveries("busy.example", 500), earlier)
        .unwrap();
    enqueue(&mut conn, &deliveries("quiet.example", 3)).unwrap();
    let now = Utc::now().naive_utc();
    let lease = now + Duration::seconds(30);
    let first = claim(&mut conn, "p", now, lease, 10, 8).unwrap();
    assert_eq!(first.len(), 8, "the busy host fills its cap");
    let second = claim(&mut conn, "p", now, lease, 10, 8).unwrap();
    assert_eq!(
        second
            .iter()
            .map(|j| j.host.as_deref().unwrap())
            .collect::<Vec<_>>(),
        ["quiet.example"; 3],
        "the next claim passes over the full host"
    );
}

#[test]
fn finished_jobs_are_pruned_once_old() {
    let db = TestDb::new();
    let _store = store(&db);
    let mut conn = ConnectionManager::new(&db.url).open().unwrap();
    enqueue(&mut conn, &deliveries("a.example", 4)).unwrap();
    let now = Utc::now().naive_utc();
    let claimed = claim(&mut conn, "p", now, now + Duration::seconds(30), 3, 8).unwrap();
    let old = now - Duration::hours(2);
    complete_all(&mut conn, "p", &[claimed[0].id, claimed[1].id], old).unwrap();
    complete_all(&mut conn, "p", &[claimed[2].id], now).unwrap();
    let before = now - Duration::hours(1);
    assert_eq!(
        prune_done(&mut conn, before, 1).unwrap(),
        1,
        "a batch at a time"
    );
    assert_eq!(prune_done(&mut conn, before, 100).unwrap(), 1);
    assert_eq!(prune_done(&mut conn, before, 100).unwrap(), 0);
    let mut left = statuses(&db);
    left.sort();
    assert_eq!(left, ["done 0", "pending 0"]);
}

/// A handler that counts its runs and takes `pause` over each.
struct Counts {
    runs: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pause: std::time::Duration,
}

impl estuary::delivery::JobHandler for Counts {
    fn handle(
        &self,
        _job: estuary::delivery::Job,
    ) -> estuary::delivery::BoxFuture<estuary::delivery::JobOutcome> {
        self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let pause = self.pause;
        Box::pin(async move {
            tokio::time::sleep(pause).await;
            estuary::delivery::JobOutcome::Done
        })
    }
}

fn pool_of(
    store: &Store,
    settings: estuary::delivery::QueueSettings,
    handler: std::sync::Arc<Counts>,
) -> (
    tokio::sync::watch::Sender<bool>,
    tokio::task::JoinHandle<()>,
) {
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let workers = estuary::delivery::Workers::new(store.clone(), settings, wake)
        .handle(estuary::domain::actions::DELIVER, handler);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    (stop, tokio::spawn(workers.run(stopped)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_running_longer_than_its_lease_is_renewed_not_run_twice() {
    let db = TestDb::new();
    let store = store(&db);
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handler = std::sync::Arc::new(Counts {
        runs: runs.clone(),
        pause: std::time::Duration::from_millis(1500),
    });
    let settings = estuary::delivery::QueueSettings {
        lease: std::time::Duration::from_millis(300),
        poll_interval: std::time::Duration::from_millis(20),
        ..Default::default()
    };
    // Two pools, as two processes would be, both started before the job
    // exists.
    let (stop_a, a) = pool_of(&store, settings, handler.clone());
    let (stop_b, b) = pool_of(&store, settings, handler);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut conn = ConnectionManager::new(&db.url).open().unwrap();
    enqueue(&mut conn, &deliveries("slow.example", 1)).unwrap();

    common::wait_until(10, "the job to finish", || async {
        statuses(&db) == ["done 0"]
    })
    .await;
    assert_eq!(
        runs.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "five leases long, and nobody else took it over"
    );
    for (stop, pool) in [(stop_a, a), (stop_b, b)] {
        let _ = stop.send(true);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), pool).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_the_database_refuses_at_first_is_recorded_later() {
    let db = TestDb::new();
    if db.is_postgres() {
        // "database is locked" is SQLite's single writer; PostgreSQL waits.
        return;
    }
    let store = store(&db);
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handler = std::sync::Arc::new(Counts {
        runs: runs.clone(),
        pause: std::time::Duration::from_millis(500),
    });
    let settings = estuary::delivery::QueueSettings {
        poll_interval: std::time::Duration::from_millis(20),
        ..Default::default()
    };
    let mut conn = ConnectionManager::new(&db.url).open().unwrap();
    enqueue(&mut conn, &deliveries("a.example", 1)).unwrap();
    let (stop, pool) = pool_of(&store, settings, handler);
    common::wait_until(10, "the job to start", || async {
        runs.load(std::sync::atomic::Ordering::SeqCst) == 1
    })
    .await;

    // Another writer holds the database past the busy timeout (5 s) while
    // the job finishes: the first recording fails with "database is locked".
    let url = db.url.clone();
    let locked = tokio::task::spawn_blocking(move || {
        use diesel::connection::SimpleConnection;
        let mut other = ConnectionManager::new(&url).open().unwrap();
        other.batch_execute("BEGIN IMMEDIATE").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(6500));
        other.batch_execute("COMMIT").unwrap();
    });
    locked.await.unwrap();

    common::wait_until(15, "the outcome to be recorded", || async {
        statuses(&db) == ["done 0"]
    })
    .await;
    let leased = db.texts("SELECT CAST(locked_until AS TEXT) AS v FROM jobs");
    assert_eq!(leased, [None], "a finished job holds no lease");
    assert_eq!(
        runs.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "sent once"
    );
    let _ = stop.send(true);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), pool).await;
}
