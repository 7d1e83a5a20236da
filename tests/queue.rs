//! The job table as a queue shared by several workers: the per-host cap,
//! expired leases, no job claimed twice by concurrent claimers, and jobs
//! that crash or hang their worker made dead after a few runs.

mod common;

use chrono::{Duration, Utc};
use common::TestDb;
use estuary::domain::actions::{Action, enqueue};
use estuary::store::jobs::{bury_crashed, claim};
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

fn deliveries(host: &str, count: usize) -> Vec<Action> {
    (0..count)
        .map(|n| Action::Deliver {
            activity: "https://a.example/activities/1".into(),
            sender_id: 1,
            inbox: format!("https://{host}/inbox/{n}"),
        })
        .collect()
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
    let first = claim(&mut conn, now, lease, 100, 8).unwrap();
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
        claim(&mut conn, now, lease, 100, 8).unwrap().is_empty(),
        "the host is saturated"
    );

    // When the leases run out (a crashed worker), the jobs are claimable.
    let later = now + Duration::seconds(61);
    let again = claim(&mut conn, later, later + Duration::seconds(60), 100, 8).unwrap();
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
                    let batch = claim(&mut conn, now, now + Duration::seconds(60), 7, 8).unwrap();
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
        let claimed = claim(&mut conn, now, now + Duration::seconds(60), 10, 8).unwrap();
        assert_eq!(claimed.len(), 1, "round {round}: claimed again");
        assert_eq!(claimed[0].crashes, round, "round {round}: crashes counted");
        assert_eq!(claimed[0].attempts, round, "round {round}: as attempts too");
        now += Duration::seconds(61);
    }
    // The third lease ran out too: the job is dead, not claimed a fourth time.
    assert_eq!(bury_crashed(&mut conn, now, 3).unwrap(), 1);
    assert!(
        claim(&mut conn, now, now + Duration::seconds(60), 10, 8)
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
