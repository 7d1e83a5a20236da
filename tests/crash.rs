//! `kill -9` during a fan-out, then a restart: every delivery still
//! happens, at least once. The server runs as a real subprocess.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::sink::{Behaviour, Sink};
use common::{TestDb, test_config, wait_until};
use estuary::domain::accounts::{NewLocalAccount, create_user};
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, publish_note};

const FOLLOWERS: usize = 40;
const BASE_URL: &str = "http://127.0.0.1:9";

fn serve(db: &TestDb) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_estuary"))
        .arg("serve")
        .current_dir(db.dir.path())
        .env("DATABASE_URL", &db.url)
        .env("ESTUARY_BASE_URL", BASE_URL)
        .env("ESTUARY_BIND", "127.0.0.1:0")
        .env("ESTUARY_ALLOW_PRIVATE_ADDRESSES", "true")
        .env("ESTUARY_DELIVERY_CONCURRENCY", "4")
        .env("ESTUARY_JOB_LEASE_SECS", "2")
        .env("RUST_LOG", "warn")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_kill_9() {
    let sink = Sink::start(0).await;
    sink.set(Behaviour {
        status: 202,
        retry_after: None,
        delay: Duration::from_millis(150),
    });
    let db = TestDb::new();

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
