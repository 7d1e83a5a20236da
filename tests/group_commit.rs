//! Group commit: writes handed to the store at once share one transaction,
//! each in its own savepoint (one that fails writes nothing and the others
//! still commit), on either backend; and a signed inbox burst to a server
//! is answered 202 only for what is stored, deduplicated, with refusals
//! refused. A server groups writes by default on SQLite only; on
//! PostgreSQL each write keeps its own transaction and the same outcomes
//! hold.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestDb, TestServer, deliveries, signed_post_headers, signer_of};
use diesel::connection::SimpleConnection;
use estuary::domain::DomainError;
use estuary::domain::actions::enqueue;
use estuary::store::{PoolSettings, Store, StoreError, WriteBatch};

fn jobs_for(db: &TestDb, host: &str) -> usize {
    db.texts(&format!(
        "SELECT payload AS v FROM jobs WHERE payload LIKE '%{host}%'"
    ))
    .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_write_in_a_batch_writes_nothing_and_the_others_commit() {
    let db = TestDb::new();
    let store = Store::open(
        &db.url,
        PoolSettings {
            max_connections: 4,
            acquire_timeout: Duration::from_secs(10),
        },
    )
    .unwrap();
    store.migrate().unwrap();
    // A long wait, so the three writes below are gathered into one batch.
    let store = store.with_group_commit(WriteBatch {
        max_items: 64,
        max_wait: Duration::from_millis(300),
    });

    let first = store.write(|conn| {
        enqueue(conn, &deliveries("first.example", 2))?;
        Ok::<_, DomainError>(())
    });
    let failing = store.write(|conn| {
        enqueue(conn, &deliveries("failing.example", 3))?;
        Err::<(), _>(DomainError::NotOwner)
    });
    let last = store.write(|conn| {
        enqueue(conn, &deliveries("last.example", 1))?;
        Ok::<_, DomainError>(())
    });
    let (first, failing, last) = tokio::join!(first, failing, last);
    assert!(first.is_ok(), "{first:?}");
    assert!(matches!(failing, Err(DomainError::NotOwner)), "{failing:?}");
    assert!(last.is_ok(), "{last:?}");

    assert_eq!(jobs_for(&db, "first.example"), 2);
    assert_eq!(
        jobs_for(&db, "failing.example"),
        0,
        "the failed write left rows"
    );
    assert_eq!(jobs_for(&db, "last.example"), 1);

    use std::sync::atomic::Ordering::Relaxed;
    let stats = store.write_stats().expect("writes are grouped");
    assert_eq!(stats.batches.load(Relaxed), 1, "one transaction");
    assert_eq!(stats.units.load(Relaxed), 3);
    assert_eq!(stats.largest.load(Relaxed), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_burst_is_stored_once_each_in_shared_commits() {
    const DISTINCT: usize = 24;
    let remote = TestServer::start().await;
    remote.add_user("bob").await;
    remote.add_user("carol").await;
    let bob = signer_of(&remote, "bob").await;
    let carol = signer_of(&remote, "carol").await;
    // A wait long enough that concurrent requests share commits.
    let server = TestServer::start_with(TestDb::new(), |config| {
        config.write_batch_wait = Duration::from_millis(20);
    })
    .await;
    server.add_user("alice").await;
    let inbox = server.url("/users/alice/inbox");
    let alice = server.url("/users/alice");

    let create = |n: usize| {
        serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": remote.url(&format!("/activities/group-{n}")),
            "type": "Create",
            "actor": remote.url("/users/bob"),
            "to": [alice],
            "object": {
                "id": remote.url(&format!("/objects/group-{n}")),
                "type": "Note",
                "attributedTo": remote.url("/users/bob"),
                "content": format!("<p>group {n}</p>"),
                "to": [alice],
                "published": "2026-11-29T10:00:00Z"
            }
        })
    };
    // Every Create twice, and Carol's Updates of Bob's notes (not hers).
    let mut requests = Vec::new();
    for n in 0..DISTINCT {
        for _ in 0..2 {
            requests.push((create(n), &bob, 202));
        }
        let forged = serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": remote.url(&format!("/activities/forged-{n}")),
            "type": "Update",
            "actor": remote.url("/users/carol"),
            "to": [alice],
            "object": {
                "id": remote.url(&format!("/objects/group-{n}")),
                "type": "Note",
                "attributedTo": remote.url("/users/carol"),
                "content": "<p>not hers</p>",
                "to": [alice]
            }
        });
        requests.push((forged, &carol, 0));
    }
    let mut answers = Vec::new();
    for (activity, signer, expected) in requests {
        let body = serde_json::to_vec(&activity).unwrap();
        let headers = signed_post_headers(&inbox, &body, signer, chrono::Utc::now());
        let inbox = inbox.clone();
        let kind = activity["type"].as_str().unwrap().to_owned();
        answers.push(tokio::spawn(async move {
            let status = common::post_with(&inbox, headers, body)
                .await
                .status()
                .as_u16();
            (kind, expected, status)
        }));
    }
    for answer in answers {
        let (kind, expected, status) = answer.await.unwrap();
        match kind.as_str() {
            "Create" => assert_eq!(status, expected, "a Create"),
            // Before or after its Create committed: ignored, or refused
            // as not the owner; never stored.
            _ => assert!(matches!(status, 202 | 403), "an Update answered {status}"),
        }
    }

    let db = &server.db;
    let stored =
        db.texts("SELECT ap_id AS v FROM activities WHERE ap_id LIKE '%/activities/group-%'");
    assert_eq!(stored.len(), DISTINCT, "each Create stored once");
    let forged =
        db.texts("SELECT ap_id AS v FROM activities WHERE ap_id LIKE '%/activities/forged-%'");
    assert!(forged.is_empty(), "no forged Update stored: {forged:?}");
    let contents = db.texts("SELECT content AS v FROM objects WHERE content LIKE '%not hers%'");
    assert!(contents.is_empty(), "no post changed by the forged Updates");
    assert_eq!(server.inbox("alice").await.len(), DISTINCT);

    if let Some(stats) = server.fed().store.write_stats() {
        use std::sync::atomic::Ordering::Relaxed;
        let (batches, units) = (stats.batches.load(Relaxed), stats.units.load(Relaxed));
        assert!(
            stats.largest.load(Relaxed) > 1 && batches < units,
            "{units} writes in {batches} commits"
        );
    } else {
        assert!(server.db.is_postgres(), "SQLite writes are grouped");
    }
}

/// On SQLite the writers of one process take turns at the store's write
/// gate instead of in SQLite's busy handler. With the busy timeout at zero
/// on every pooled connection (a lock held elsewhere fails at once with
/// "database is locked"), transactions of their own that hold the write
/// lock for a while, side by side with group-committed writes, all commit.
/// On SQLite whatever the suite's backend: the gate is SQLite's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writers_of_one_process_take_turns_at_the_gate() {
    const POOL: usize = 4;
    const EACH: usize = 24;
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("gate.sqlite3").display().to_string();
    let store = Store::open(
        &url,
        PoolSettings {
            max_connections: POOL as u32,
            acquire_timeout: Duration::from_secs(10),
        },
    )
    .unwrap();
    store.migrate().unwrap();
    let store = store.with_group_commit(WriteBatch {
        max_items: 64,
        max_wait: Duration::ZERO,
    });
    // Each pooled connection, held at once by one of POOL tasks, stops
    // waiting for locks.
    let barrier = Arc::new(std::sync::Barrier::new(POOL));
    let mut zeroing = tokio::task::JoinSet::new();
    for _ in 0..POOL {
        let (store, barrier) = (store.clone(), barrier.clone());
        zeroing.spawn(async move {
            store
                .run(move |conn| {
                    conn.batch_execute("PRAGMA busy_timeout = 0")?;
                    barrier.wait();
                    Ok::<_, StoreError>(())
                })
                .await
        });
    }
    while let Some(zeroed) = zeroing.join_next().await {
        zeroed.unwrap().unwrap();
    }

    let mut writes = tokio::task::JoinSet::new();
    for n in 0..EACH {
        let own = store.clone();
        writes.spawn(async move {
            own.transaction(move |conn| {
                enqueue(conn, &deliveries(&format!("own{n}.example"), 1))?;
                // Holds the write lock while the others queue.
                std::thread::sleep(Duration::from_millis(2));
                Ok::<_, DomainError>(())
            })
            .await
        });
        let grouped = store.clone();
        writes.spawn(async move {
            grouped
                .write(move |conn| {
                    enqueue(conn, &deliveries(&format!("grouped{n}.example"), 1))?;
                    Ok::<_, DomainError>(())
                })
                .await
        });
    }
    let mut failed = Vec::new();
    while let Some(written) = writes.join_next().await {
        if let Err(error) = written.unwrap() {
            failed.push(error.to_string());
        }
    }
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
    let queued = estuary::delivery::stats(&store).await.unwrap();
    assert_eq!(queued.pending, 2 * EACH as i64, "every write is stored");
}

#[derive(diesel::QueryableByName)]
struct AutoCheckpoint {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    wal_autocheckpoint: i32,
}

/// The WAL size at which a pooled connection checkpoints in its commit.
async fn pool_autocheckpoint(store: &Store) -> i32 {
    store
        .run(|conn| {
            use diesel::RunQueryDsl;
            let row: AutoCheckpoint =
                diesel::sql_query("PRAGMA wal_autocheckpoint").get_result(conn)?;
            Ok::<_, StoreError>(row.wal_autocheckpoint)
        })
        .await
        .unwrap()
}

/// The WAL header's checkpoint sequence number: it moves each time a
/// writer starts the WAL over, which it may once everything in it has been
/// copied back into the database file.
fn wal_restarts(wal: &std::path::Path) -> u32 {
    let header = std::fs::read(wal).expect("the WAL exists");
    u32::from_be_bytes(header[12..16].try_into().unwrap())
}

/// A serving SQLite store leaves WAL checkpoints to its checkpointer
/// thread: the pool's connections do not checkpoint in a commit (which
/// made the commit of a room's relay wait 5-8 ms now and then), and what
/// only the pool wrote is still copied back, so the WAL starts over instead
/// of growing. On SQLite whatever the suite's backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serving_sqlite_pool_leaves_wal_checkpoints_to_the_checkpointer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoints.sqlite3");
    let store = Store::open(
        &path.display().to_string(),
        PoolSettings {
            max_connections: 2,
            acquire_timeout: Duration::from_secs(10),
        },
    )
    .unwrap();
    store.migrate().unwrap();
    assert_eq!(
        pool_autocheckpoint(&store).await,
        1000,
        "without a checkpointer, connections checkpoint as SQLite does by default"
    );
    let store = store.with_group_commit(WriteBatch {
        max_items: 64,
        max_wait: Duration::ZERO,
    });
    assert_eq!(
        pool_autocheckpoint(&store).await,
        0,
        "the pool's connections leave checkpoints to the checkpointer"
    );

    let pool_write = |host: &'static str| {
        let store = store.clone();
        async move {
            store
                .transaction(move |conn| {
                    enqueue(conn, &deliveries(host, 50))?;
                    Ok::<_, DomainError>(())
                })
                .await
                .unwrap()
        }
    };
    pool_write("first.example").await;
    let wal = dir.path().join("checkpoints.sqlite3-wal");
    let before = wal_restarts(&wal);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while wal_restarts(&wal) == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the pool's writes were never checkpointed: the WAL never started over"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        pool_write("again.example").await;
    }
}
