//! The queue in batches, and follow-ups pushed first (issue 13): claims in
//! one statement keep the per-host cap, also with two worker pools and with
//! the deliveries a fan-out leases to itself; outcomes recorded in one
//! transaction are each done once; a fan-out larger than one INSERT chunk
//! queues every delivery; a room relay writes its deliveries itself (no
//! fan-out job between) and runs them in its worker, with no claim (another
//! claimer never even sees them); and, with the real binary, a `kill -9`
//! while they run leaves them leased in the table, taken over after a
//! restart. An outcome is recorded only by the worker that holds the job's
//! lease.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::sink::{Behaviour, Sink};
use common::{TestDb, test_config, wait_until};
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use estuary::delivery::{QueueSettings, Workers};
use estuary::domain::accounts::{Account, NewLocalAccount, create_room, create_user};
use estuary::domain::audience::PUBLIC;
use estuary::federation::ctx::Federation;
use estuary::federation::outbox::{Draft, publish_note};
use estuary::store::ConnectionManager;
use tokio::sync::{Notify, watch};

const BASE_URL: &str = "http://127.0.0.1:9";

/// The store and federation context of an instance on `db`, without its
/// server: the tests run the workers themselves.
async fn instance(db: &TestDb) -> Federation {
    let config = test_config(&db.url, BASE_URL);
    let store = estuary::server::open_store(&config).unwrap();
    store.migrate().unwrap();
    estuary::server::federation(&config, store).await.unwrap()
}

/// A worker pool with the ActivityPub and room handlers. Its wake is its
/// own: nothing the handlers do wakes it, only its own recorder.
fn pool(fed: &Federation, settings: QueueSettings) -> Workers {
    let mut workers = Workers::new(fed.store.clone(), settings, Arc::new(Notify::new()));
    let deliver = estuary::delivery::activitypub::Deliver::new(fed.clone());
    for (kind, handler) in estuary::delivery::activitypub::handlers(fed, &deliver) {
        workers = workers.handle(kind, handler);
    }
    workers.handle(
        estuary::domain::actions::ROOM_RELAY,
        Arc::new(estuary::rooms::relay::Relay::new(fed.clone(), deliver)),
    )
}

struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn start(workers: Workers) -> Running {
    let (stop, stopped) = watch::channel(false);
    Running {
        stop,
        task: tokio::spawn(workers.run(stopped)),
    }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }
}

async fn user(fed: &Federation, name: &str) -> Account {
    create_user(
        &fed.store,
        &fed.urls,
        NewLocalAccount {
            name: name.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

/// `follower` follows `followee`, accepted.
fn follows(db: &TestDb, follower: i64, followee: i64) {
    db.execute(&format!(
        "INSERT INTO follows (follower_id, followee_id, follow_ap_id, accepted, created_at) \
         VALUES ({follower}, {followee}, 'f-{follower}-{followee}', TRUE, CURRENT_TIMESTAMP)"
    ));
}

/// Sink actors `0..count`, fetched and stored, following `followee`.
async fn sink_followers(fed: &Federation, db: &TestDb, sink: &Sink, count: usize, followee: i64) {
    for n in 0..count {
        let follower = estuary::federation::resolve::actor(fed, &sink.actor_url(n))
            .await
            .unwrap();
        follows(db, follower.id, followee);
    }
}

/// An open room whose members are local alice and `members` sink actors.
async fn room_of(fed: &Federation, db: &TestDb, sink: &Sink, members: usize) -> (Account, Account) {
    let alice = user(fed, "alice").await;
    let room = create_room(
        &fed.store,
        &fed.urls,
        NewLocalAccount {
            name: "garden".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    sink_followers(fed, db, sink, members, room.id).await;
    follows(db, alice.id, room.id);
    (alice, room)
}

async fn publish(fed: &Federation, author: &Account, to: Vec<String>, cc: Vec<String>) -> String {
    publish_note(
        fed,
        author,
        Draft {
            content_html: "<p>hello</p>".into(),
            to,
            cc,
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .activity_id
}

/// The inboxes (paths) of the sink that got an activity of this type.
fn reached(sink: &Sink, kind: &str) -> Vec<String> {
    sink.received()
        .into_iter()
        .filter(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
            body["type"] == kind
        })
        .map(|r| r.path)
        .collect()
}

fn distinct(paths: &[String]) -> BTreeSet<String> {
    paths.iter().cloned().collect()
}

/// `status|crashes|holder` of each job of a kind, in id order.
fn job_states(db: &TestDb, kind: &str) -> Vec<String> {
    db.texts(&format!(
        "SELECT status || '|' || CAST(crashes AS TEXT) || '|' || COALESCE(lease_holder, '-') AS v \
         FROM jobs WHERE kind = '{kind}' ORDER BY id"
    ))
    .into_iter()
    .map(Option::unwrap_or_default)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pools_claiming_in_batches_keep_the_per_host_cap() {
    const CAP: usize = 2;
    const INBOXES: usize = 10;
    let sink = Sink::start(INBOXES).await;
    sink.set(Behaviour {
        status: 202,
        retry_after: None,
        delay: Duration::from_millis(150),
    });
    let db = TestDb::new();
    let fed = instance(&db).await;
    let alice = user(&fed, "alice").await;
    sink_followers(&fed, &db, &sink, INBOXES, alice.id).await;
    let settings = QueueSettings {
        host_cap: CAP as i64,
        poll_interval: Duration::from_millis(20),
        ..Default::default()
    };
    // Two pools, as two processes would be, started before there is work.
    let a = start(pool(&fed, settings));
    let b = start(pool(&fed, settings));
    tokio::time::sleep(Duration::from_millis(100)).await;
    publish(
        &fed,
        &alice,
        vec![PUBLIC.into()],
        vec![alice.followers_url.clone().unwrap()],
    )
    .await;
    wait_until(30, "every inbox to be reached", || async {
        distinct(&reached(&sink, "Create")).len() == INBOXES
    })
    .await;
    assert_eq!(reached(&sink, "Create").len(), INBOXES, "each inbox once");
    assert!(
        sink.most_at_once() <= CAP,
        "at most {CAP} POSTs at once to one host, saw {}",
        sink.most_at_once()
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_recorded_in_one_transaction_are_each_done_once() {
    const INBOXES: usize = 8;
    let sink = Sink::start(INBOXES).await;
    sink.set(Behaviour {
        status: 202,
        retry_after: None,
        delay: Duration::from_millis(800),
    });
    let db = TestDb::new();
    let fed = instance(&db).await;
    let alice = user(&fed, "alice").await;
    sink_followers(&fed, &db, &sink, INBOXES, alice.id).await;
    let running = start(pool(
        &fed,
        QueueSettings {
            host_cap: INBOXES as i64,
            poll_interval: Duration::from_millis(20),
            ..Default::default()
        },
    ));
    publish(
        &fed,
        &alice,
        vec![PUBLIC.into()],
        vec![alice.followers_url.clone().unwrap()],
    )
    .await;
    wait_until(20, "every POST to arrive", || async {
        sink.requests()
            .iter()
            .filter(|r| r.starts_with("POST /shared/"))
            .count()
            == INBOXES
    })
    .await;
    // The database refuses writes (or makes them wait) while the POSTs
    // are answered: their outcomes wait for the recorder, which then
    // writes those waiting together.
    let (url, postgres) = (db.url.clone(), db.is_postgres());
    tokio::task::spawn_blocking(move || {
        let mut other = ConnectionManager::new(&url).open().unwrap();
        if postgres {
            other
                .batch_execute("BEGIN; LOCK TABLE jobs IN EXCLUSIVE MODE")
                .unwrap();
        } else {
            other.batch_execute("BEGIN IMMEDIATE").unwrap();
        }
        std::thread::sleep(Duration::from_millis(2500));
        other.batch_execute("COMMIT").unwrap();
    })
    .await
    .unwrap();
    wait_until(20, "every delivery to be recorded", || async {
        job_states(&db, "deliver") == vec!["done|0|-"; INBOXES]
    })
    .await;
    let posts = reached(&sink, "Create");
    assert_eq!(posts.len(), INBOXES, "each sent once: {posts:?}");
    assert_eq!(distinct(&posts).len(), INBOXES);
    let leased = db.texts(
        "SELECT CAST(locked_until AS TEXT) AS v FROM jobs \
         WHERE kind = 'deliver' AND locked_until IS NOT NULL",
    );
    assert!(leased.is_empty(), "finished jobs hold no lease: {leased:?}");
    // One transaction stamps its outcomes with one time.
    let stamps =
        db.texts("SELECT DISTINCT CAST(updated_at AS TEXT) AS v FROM jobs WHERE kind = 'deliver'");
    assert!(
        stamps.len() < INBOXES,
        "some outcomes were written together: {stamps:?}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_larger_than_one_insert_chunk_queues_every_delivery() {
    let count = estuary::store::jobs::INSERT_CHUNK + 20;
    let sink = Sink::start(0).await;
    let db = TestDb::new();
    let fed = instance(&db).await;
    let alice = user(&fed, "alice").await;
    // Followers stored directly, each with an inbox of its own on the sink.
    let host = sink.host();
    let base = &sink.base;
    let last = count - 1;
    db.execute(&format!(
        "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < {last})
         INSERT INTO accounts (kind, username, domain, actor_url, inbox_url, followers_url,
                               public_key_pem, key_id, fetched_at, created_at, updated_at)
         SELECT 'Person', 'f' || n, '{host}', '{base}/actors/' || n, '{base}/inbox/' || n,
                '{base}/actors/' || n || '/followers', 'unused', '{base}/actors/' || n || '#key',
                CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
         FROM seq;
         INSERT INTO follows (follower_id, followee_id, follow_ap_id, accepted, created_at)
         SELECT id, {}, actor_url || '#follow', TRUE, CURRENT_TIMESTAMP
         FROM accounts WHERE domain = '{host}';",
        alice.id
    ));
    let running = start(pool(
        &fed,
        QueueSettings {
            host_cap: 32,
            poll_interval: Duration::from_millis(20),
            ..Default::default()
        },
    ));
    publish(
        &fed,
        &alice,
        vec![PUBLIC.into()],
        vec![alice.followers_url.clone().unwrap()],
    )
    .await;
    wait_until(60, "every inbox to be reached", || async {
        distinct(&reached(&sink, "Create")).len() == count
    })
    .await;
    assert_eq!(db.count("jobs WHERE kind = 'deliver'"), count as i64);
    assert_eq!(reached(&sink, "Create").len(), count, "each inbox once");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_relays_follow_ups_run_in_its_worker_without_a_claim() {
    const MEMBERS: usize = 6;
    const INSTANCES: usize = 3;
    let sink = Sink::start(INSTANCES).await;
    let db = TestDb::new();
    let fed = instance(&db).await;
    let (alice, room) = room_of(&fed, &db, &sink, MEMBERS).await;
    publish(
        &fed,
        &alice,
        vec![room.actor_url.clone()],
        vec![PUBLIC.into()],
    )
    .await;
    assert_eq!(job_states(&db, "room_relay"), ["pending|0|-"]);
    // (The note's own fan-out, to alice's followers, is queued already.)
    let queued_before = db.texts("SELECT CAST(MAX(id) AS TEXT) AS v FROM jobs")[0]
        .clone()
        .unwrap();

    // Another claimer takes every fan-out and delivery queued from now on
    // that it ever finds waiting, and never runs them.
    let (stolen, stop_thief) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    // Stops the thief however the test ends.
    struct Stop(Arc<AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let _stop_on_exit = Stop(stop_thief.clone());
    let thief = {
        let (url, stolen, stop) = (db.url.clone(), stolen.clone(), stop_thief.clone());
        let queued_before = queued_before.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = ConnectionManager::new(&url).open().unwrap();
            while !stop.load(Ordering::SeqCst) {
                let taken = diesel::sql_query(format!(
                    "UPDATE jobs SET status = 'running', lease_holder = 'thief', \
                     locked_until = '2999-01-01 00:00:00' \
                     WHERE status = 'pending' AND kind IN ('fanout', 'deliver') \
                       AND id > {queued_before}"
                ))
                .execute(&mut conn)
                .unwrap();
                stolen.fetch_add(taken, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    // The pool claims once as it starts (the relay), then would wait an
    // hour: nothing outside wakes it.
    let workers = pool(
        &fed,
        QueueSettings {
            poll_interval: Duration::from_secs(3600),
            ..Default::default()
        },
    );
    let running = start(workers);
    wait_until(20, "the Announce on every instance", || async {
        distinct(&reached(&sink, "Announce")).len() == INSTANCES
    })
    .await;
    stop_thief.store(true, Ordering::SeqCst);
    thief.await.unwrap();
    assert_eq!(
        stolen.load(Ordering::SeqCst),
        0,
        "no follow-up was ever waiting for a claim: {:?}",
        db.texts(
            "SELECT kind || '|' || status || '|' || COALESCE(lease_holder, '-') || '|' || payload              AS v FROM jobs ORDER BY id"
        )
    );
    assert_eq!(reached(&sink, "Announce").len(), INSTANCES, "each once");
    wait_until(10, "the outcomes to be recorded", || async {
        job_states(&db, "deliver") == vec!["done|0|-"; INSTANCES]
    })
    .await;
    // The note's own fan-out only: the relay wrote the Announce's
    // deliveries itself, with no fan-out job between.
    assert_eq!(job_states(&db, "fanout"), ["done|0|-"]);
    assert_eq!(job_states(&db, "room_relay"), ["done|0|-"]);
    running.stop().await;
}

/// Starts `estuary serve` on `db`; its log goes to `log` in the database's
/// directory, and a start that fails shows it.
fn serve(db: &TestDb, lease_secs: &str, log: &str) -> Child {
    let log = db.dir.path().join(log);
    let mut child = Command::new(env!("CARGO_BIN_EXE_estuary"))
        .arg("serve")
        .current_dir(db.dir.path())
        .env("DATABASE_URL", &db.url)
        .env("ESTUARY_BASE_URL", BASE_URL)
        .env("ESTUARY_BIND", "127.0.0.1:0")
        .env("ESTUARY_ALLOW_PRIVATE_ADDRESSES", "true")
        .env("ESTUARY_JOB_LEASE_SECS", lease_secs)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("create the log file"))
        .spawn()
        .expect("start estuary serve");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.contains("listening"),
        "{line}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ups_started_directly_survive_kill_9() {
    const MEMBERS: usize = 6;
    const INSTANCES: usize = 3;
    let sink = Sink::start(INSTANCES).await;
    // The members' instances hold every POST: the deliveries stay running.
    sink.set(Behaviour {
        status: 202,
        retry_after: None,
        delay: Duration::from_secs(60),
    });
    let db = TestDb::new();
    let fed = instance(&db).await;
    let (alice, room) = room_of(&fed, &db, &sink, MEMBERS).await;
    publish(
        &fed,
        &alice,
        vec![room.actor_url.clone()],
        vec![PUBLIC.into()],
    )
    .await;
    drop(fed);

    // On SQLite a restart releases the dead process's leases; on
    // PostgreSQL (other processes may be alive) they run out.
    let lease = if db.is_postgres() { "2" } else { "30" };
    let mut first = serve(&db, lease, "first.log");
    wait_until(20, "the Announce POSTs to arrive", || async {
        sink.requests()
            .iter()
            .filter(|r| r.starts_with("POST /shared/"))
            .count()
            == INSTANCES
    })
    .await;
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    // They were in the table, leased to the process that ran them.
    let deliveries = job_states(&db, "deliver");
    assert_eq!(deliveries.len(), INSTANCES, "{deliveries:?}");
    let holders: BTreeSet<&str> = deliveries
        .iter()
        .map(|state| {
            assert!(state.starts_with("running|0|"), "{state}");
            state.rsplit('|').next().unwrap()
        })
        .collect();
    assert_eq!(holders.len(), 1, "one holder: {holders:?}");
    assert!(!holders.contains("-"));

    sink.set(Behaviour {
        status: 202,
        retry_after: None,
        delay: Duration::ZERO,
    });
    let mut second = serve(&db, lease, "second.log");
    wait_until(30, "the Announce on every instance", || async {
        distinct(&reached(&sink, "Announce")).len() == INSTANCES
    })
    .await;
    wait_until(10, "the deliveries to be recorded", || async {
        job_states(&db, "deliver") == vec!["done|1|-"; INSTANCES]
    })
    .await;
    let _ = Command::new("kill")
        .args(["-TERM", &second.id().to_string()])
        .status();
    assert!(second.wait().unwrap().success());
}

/// An outcome is recorded only for a job still running under the lease of
/// the worker that ran it: when the lease ran out and another worker took
/// the job over, the first worker's done, retry, burial or time-out leaves
/// it to the second.
#[test]
fn an_outcome_is_recorded_only_by_the_lease_holder() {
    use estuary::store::jobs;
    let db = TestDb::new();
    estuary::store::Store::open(
        &db.url,
        estuary::store::PoolSettings {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(10),
        },
    )
    .unwrap()
    .migrate()
    .unwrap();
    let mut conn = ConnectionManager::new(&db.url).open().unwrap();
    estuary::domain::actions::enqueue(&mut conn, &common::deliveries("peer.example", 5)).unwrap();
    let now = chrono::Utc::now().naive_utc();
    let until = now + chrono::Duration::seconds(60);
    let claimed = jobs::claim(&mut conn, "first", now, until, 10, 10).unwrap();
    let mut ids: Vec<i64> = claimed.iter().map(|job| job.id).collect();
    ids.sort_unstable();
    assert_eq!(ids.len(), 5);
    // Every job but the first was taken over by another worker.
    conn.batch_execute(&format!(
        "UPDATE jobs SET lease_holder = 'second' WHERE id <> {}",
        ids[0]
    ))
    .unwrap();

    let later = now + chrono::Duration::seconds(30);
    assert_eq!(
        jobs::complete_all(&mut conn, "first", &ids, now).unwrap(),
        1
    );
    assert_eq!(
        jobs::retry(&mut conn, "first", ids[1], 2, later, "x", now).unwrap(),
        0
    );
    assert_eq!(
        jobs::bury(&mut conn, "first", ids[2], 2, "x", now).unwrap(),
        0
    );
    assert_eq!(
        jobs::time_out(&mut conn, "first", ids[3], 3, later, now).unwrap(),
        0
    );
    assert_eq!(
        job_states(&db, "deliver"),
        [
            "done|0|-",
            "running|0|second",
            "running|0|second",
            "running|0|second",
            "running|0|second"
        ]
    );

    // The holder records them.
    assert_eq!(
        jobs::complete_all(&mut conn, "second", &ids[1..2], now).unwrap(),
        1
    );
    assert_eq!(
        jobs::retry(&mut conn, "second", ids[2], 2, later, "x", now).unwrap(),
        1
    );
    assert_eq!(
        jobs::bury(&mut conn, "second", ids[3], 2, "x", now).unwrap(),
        1
    );
    assert_eq!(
        jobs::time_out(&mut conn, "second", ids[4], 3, later, now).unwrap(),
        1
    );
    assert_eq!(
        job_states(&db, "deliver"),
        [
            "done|0|-",
            "done|0|-",
            "retrying|0|-",
            "dead|0|-",
            "retrying|1|-"
        ]
    );
}
