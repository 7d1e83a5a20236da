//! The job table as a queue shared by several workers: the per-host cap,
//! expired leases, and no job claimed twice by concurrent claimers.

mod common;

use chrono::{Duration, Utc};
use common::TestDb;
use estuary::domain::actions::{Action, enqueue};
use estuary::store::jobs::claim;
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
