//! `kill -9` during a fan-out, then a restart: every delivery still
//! happens, at least once, and the restart does not wait out the dead
//! process's leases; `kill -9` right after a burst of signed inbox POSTs:
//! every one answered 202 is stored. The server runs as a real subprocess.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::sink::{Behaviour, Sink};
use common::{TestDb, TestServer, signed_post_headers, signer_of, test_config, wait_until};
use estuary::domain::accounts::{NewLocalAccount, create_user};
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, Published, publish_note};

const FOLLOWERS: usize = 40;
const BASE_URL: &str = "http://127.0.0.1:9";

fn serve(db: &TestDb) -> Child {
    serve_at(
        db,
        BASE_URL,
        "127.0.0.1:0",
        &[
            ("ESTUARY_DELIVERY_CONCURRENCY", "4"),
            ("ESTUARY_JOB_LEASE_SECS", "2"),
        ],
    )
}

fn serve_at(db: &TestDb, base_url: &str, bind: &str, env: &[(&str, &str)]) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_estuary"))
        .arg("serve")
        .current_dir(db.dir.path())
        .env("DATABASE_URL", &db.url)
        .env("ESTUARY_BASE_URL", base_url)
        .env("ESTUARY_BIND", bind)
        .env("ESTUARY_ALLOW_PRIVATE_ADDRESSES", "true")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start estuary serve");
    // Wait for the server to announce itself.
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "{line}");
    child
}

fn delivered_inboxes(sink: &Sink, activity_id: &str) -> BTreeSet<String> {
    sink.received()
        .into_iter()
        .filter(|r| r.activity_id() == activity_id)
        .map(|r| r.path)
        .collect()
}

/// alice on `db` with FOLLOWERS followers at `sink`, and her note to them
/// published: its fan-out job waits in the queue.
async fn prepare_fanout(db: &TestDb, sink: &Sink) -> (estuary::store::Store, Published) {
    // Prepare the fan-out through the library, on the server's database.
    let config = test_config(&db.url, BASE_URL);
    let store = estuary::server::open_store(&config).unwrap();
    store.migrate().unwrap();
    let fed = estuary::server::federation(&config, store.clone())
        .await
        .unwrap();
    let alice = create_user(
        &store,
        &fed.urls,
        NewLocalAccount {
            name: "alice".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for n in 0..FOLLOWERS {
        let follower = estuary::federation::resolve::actor(&fed, &sink.actor_url(n))
            .await
            .unwrap();
        db.execute(&format!(
            "INSERT INTO follows (follower_id, followee_id, follow_ap_id, accepted, created_at) \
             VALUES ({}, {}, 'f{n}', TRUE, CURRENT_TIMESTAMP)",
            follower.id, alice.id
        ));
    }
    let published = publish_note(
        &fed,
        &alice,
        Draft {
            content_html: "<p>to all forty</p>".into(),
            to: vec![PUBLIC.into()],
            cc: vec![alice.followers_url.clone().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (store, published)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_kill_9() {
    let sink = Sink::start(0).await;
    sink.set(Behaviour {
        status: 202,
        retry_after: None,
        delay: Duration::from_millis(150),
    });
    let db = TestDb::new();
    let (store, published) = prepare_fanout(&db, &sink).await;

    let mut first = serve(&db);
    wait_until(20, "the fan-out to start", || async {
        delivered_inboxes(&sink, &published.activity_id).len() >= 6
    })
    .await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let at_kill = delivered_inboxes(&sink, &published.activity_id).len();
    assert!(
        at_kill < FOLLOWERS,
        "the kill must land mid fan-out ({at_kill} done)"
    );

    sink.set(Behaviour {
        status: 202,
        retry_after: None,
        delay: Duration::ZERO,
    });
    let mut second = serve(&db);
    wait_until(30, "every inbox to be reached", || async {
        delivered_inboxes(&sink, &published.activity_id).len() == FOLLOWERS
    })
    .await;
    let expected: BTreeSet<String> = (0..FOLLOWERS).map(|n| format!("/inbox/{n}")).collect();
    assert_eq!(delivered_inboxes(&sink, &published.activity_id), expected);
    wait_until(10, "the queue to drain", || async {
        let stats = estuary::delivery::stats(&store).await.unwrap();
        stats.pending + stats.running + stats.failed + stats.dead == 0
    })
    .await;

    let _ = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status();
    assert!(second.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_does_not_wait_out_the_leases_of_a_process_that_died() {
    let sink = Sink::start(0).await;
    let db = TestDb::new();
    let (store, published) = prepare_fanout(&db, &sink).await;
    // The fan-out job is held by a process that died: on SQLite with a
    // lease of two minutes (the process starting alone releases it); on
    // PostgreSQL, where other processes may be alive, with the short lease
    // a live holder would have renewed.
    let (lease_secs, until) = if db.is_postgres() {
        (
            "3",
            chrono::Utc::now().naive_utc() + chrono::Duration::seconds(3),
        )
    } else {
        (
            "30",
            chrono::Utc::now().naive_utc() + chrono::Duration::seconds(120),
        )
    };
    db.execute(&format!(
        "UPDATE jobs SET status = 'running', lease_holder = 'dead', locked_until = '{}'",
        until.format("%Y-%m-%d %H:%M:%S")
    ));

    let started = std::time::Instant::now();
    let mut server = serve_at(
        &db,
        BASE_URL,
        "127.0.0.1:0",
        &[("ESTUARY_JOB_LEASE_SECS", lease_secs)],
    );
    wait_until(20, "every inbox to be reached", || async {
        delivered_inboxes(&sink, &published.activity_id).len() == FOLLOWERS
    })
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    // The interrupted run counted as a crash (and an attempt).
    let fanout = db.texts(
        "SELECT status || ' ' || CAST(crashes AS TEXT) || ' ' || CAST(attempts AS TEXT) AS v \
         FROM jobs WHERE kind = 'fanout'",
    );
    assert_eq!(fanout, [Some("done 1 1".to_owned())]);
    drop(store);
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    assert!(server.wait().unwrap().success());
}

/// A port free now, for a server whose base URL must be known before it
/// starts (signatures name the host).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_202_of_a_burst_is_stored_after_kill_9() {
    const BURST: usize = 64;
    let remote = TestServer::start().await;
    remote.add_user("bob").await;
    let bob = signer_of(&remote, "bob").await;

    let db = TestDb::new();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = test_config(&db.url, &base);
    let store = estuary::server::open_store(&config).unwrap();
    store.migrate().unwrap();
    let urls = estuary::urls::Urls::new(config.base_url.clone());
    create_user(
        &store,
        &urls,
        NewLocalAccount {
            name: "alice".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    drop(store);
    let mut server = serve_at(&db, &base, &format!("127.0.0.1:{port}"), &[]);

    let inbox = format!("{base}/users/alice/inbox");
    let alice = format!("{base}/users/alice");
    let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(16));
    for n in 0..BURST {
        let id = remote.url(&format!("/activities/burst-{n}"));
        let activity = serde_json::json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": id,
            "type": "Create",
            "actor": remote.url("/users/bob"),
            "to": [alice],
            "object": {
                "id": remote.url(&format!("/objects/burst-{n}")),
                "type": "Note",
                "attributedTo": remote.url("/users/bob"),
                "content": format!("<p>burst {n}</p>"),
                "to": [alice],
                "tag": [{"type": "Mention", "href": alice}],
                "published": "2026-11-29T10:00:00Z"
            }
        });
        let body = serde_json::to_vec(&activity).unwrap();
        let headers = signed_post_headers(&inbox, &body, &bob, chrono::Utc::now());
        let (inbox, answers, slots) = (inbox.clone(), answers.clone(), slots.clone());
        tokio::spawn(async move {
            let _slot = slots.acquire().await.unwrap();
            let status = tokio::time::timeout(
                Duration::from_secs(30),
                reqwest::Client::new()
                    .post(&inbox)
                    .headers(headers)
                    .body(body)
                    .send(),
            )
            .await
            .ok()
            .and_then(Result::ok)
            .map(|response| response.status().as_u16());
            let _ = answers.send((id, status));
        });
    }
    drop(answers);

    // Kill the server as soon as half the burst is accepted, while the
    // rest is in flight.
    let mut accepted = Vec::new();
    let mut killed = false;
    while let Some((id, status)) = answered.recv().await {
        if status == Some(202) {
            accepted.push(id);
        }
        if !killed && accepted.len() >= BURST / 2 {
            server.kill().unwrap(); // SIGKILL
            killed = true;
        }
    }
    let _ = server.kill();
    server.wait().unwrap();
    assert!(killed, "half the burst was accepted: {}", accepted.len());
    assert!(
        accepted.len() < BURST,
        "the kill must land mid-burst ({} accepted)",
        accepted.len()
    );
    let list = accepted
        .iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let stored = db.texts(&format!(
        "SELECT ap_id AS v FROM activities WHERE ap_id IN ({list})"
    ));
    assert_eq!(
        stored.len(),
        accepted.len(),
        "every activity answered 202 was stored"
    );
}
