//! The database failing under a running server: `/healthz` reports it,
//! requests that need it answer 503 with `Retry-After` instead of 500, and
//! once the fault is fixed the server recovers without a restart (broken
//! connections leave the pool).

mod common;

use std::process::Command;
use std::time::Duration;

use common::{TestDb, TestServer, wait_until};
use serde_json::json;

/// Sets or clears the immutable attribute of `files`; false when this
/// file system or sandbox does not allow it.
fn immutable(files: &[String], on: bool) -> bool {
    Command::new("chattr")
        .arg(if on { "+i" } else { "-i" })
        .args(files)
        .status()
        .is_ok_and(|status| status.success())
}

async fn post_note(server: &TestServer, token: &str) -> reqwest::Response {
    server
        .client
        .post(server.url("/users/alice/outbox"))
        .header("content-type", "application/activity+json")
        .bearer_auth(token)
        .body(
            json!({
                "type": "Note",
                "content": "<p>still here?</p>",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_answers_503_and_recovers_without_a_restart() {
    let db = TestDb::new();
    if db.is_postgres() {
        // The fault is made on the SQLite file.
        return;
    }
    let path = db.url.clone();
    let server = TestServer::start_with(db, |_| {}).await;
    server.add_user("alice").await;
    let token = estuary::domain::tokens::issue_token(&server.fed().store, "alice")
        .await
        .unwrap();
    assert_eq!(server.get("/healthz", None).await.status(), 200);
    assert_eq!(post_note(&server, &token).await.status(), 201);

    // The database and its WAL turn read-only; the shared-memory index
    // stays writable: SQLite maps it, and a write to a mapped page of an
    // immutable file is a SIGBUS (the kernel refuses the page fault), which
    // no process survives. The checkpointer's writes to the index after
    // each commit make that crash likely, not the server's handling of it.
    let files: Vec<String> = ["", "-wal"]
        .iter()
        .map(|suffix| format!("{path}{suffix}"))
        .filter(|file| std::path::Path::new(file).exists())
        .collect();
    if !immutable(&files, true) {
        eprintln!("skipped: chattr +i is not available here");
        return;
    }
    let health = server.get("/healthz", None).await;
    let write = post_note(&server, &token).await;
    // Enough at once that the pool opens connections during the fault
    // (SQLite opens those read-only).
    let mut during = Vec::new();
    for _ in 0..16 {
        let url = server.url("/healthz");
        during.push(tokio::spawn(async move {
            reqwest::get(url).await.unwrap().status().as_u16()
        }));
    }
    for answer in during {
        assert_eq!(answer.await.unwrap(), 503);
    }
    // Undo the fault before asserting, so a failure leaves no immutable file.
    assert!(immutable(&files, false), "chattr -i");
    assert_eq!(health.status(), 503, "/healthz while read-only");
    assert_eq!(health.headers()["retry-after"], "5");
    assert_eq!(write.status(), 503, "a write while read-only");
    assert!(write.headers().contains_key("retry-after"));

    wait_until(10, "/healthz to recover", || async {
        server.get("/healthz", None).await.status() == 200
    })
    .await;
    // Every connection works again, whichever the pool hands out.
    for _ in 0..12 {
        assert_eq!(post_note(&server, &token).await.status(), 201);
    }
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[test]
fn a_connection_that_cannot_write_leaves_the_pool_after_a_failure() {
    use diesel::connection::SimpleConnection;
    use r2d2::ManageConnection;
    let db = TestDb::new();
    if db.is_postgres() {
        return;
    }
    let store = estuary::store::Store::open(
        &db.url,
        estuary::store::PoolSettings {
            max_connections: 2,
            acquire_timeout: Duration::from_secs(5),
        },
    )
    .unwrap();
    store.migrate().unwrap();

    // A connection opened while the file could only be read.
    let read_only = estuary::store::ConnectionManager::new(&format!("file:{}?mode=ro", db.url));
    let mut conn = read_only.connect().unwrap();
    assert!(!read_only.has_broken(&mut conn), "unused, it is kept");
    conn.suspect = true;
    assert!(
        read_only.has_broken(&mut conn),
        "after a failure, it leaves"
    );

    // A writable one stays, even while another writer holds the lock.
    let writable = estuary::store::ConnectionManager::new(&db.url);
    let mut conn = writable.connect().unwrap();
    let mut other = writable.open().unwrap();
    other.batch_execute("BEGIN IMMEDIATE").unwrap();
    conn.suspect = true;
    assert!(
        !writable.has_broken(&mut conn),
        "a busy database is no fault"
    );
    other.batch_execute("ROLLBACK").unwrap();
    conn.conn.batch_execute("SELECT 1").unwrap();
}
