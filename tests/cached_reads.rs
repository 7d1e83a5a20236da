//! Actor documents and WebFinger answers come from the process's memory:
//! a repeated GET runs no SQL statement, a change made in the process is
//! served at once, and one made by another process (the command line)
//! within the refresh bound. Suspended accounts answer 404, deleted ones
//! 410, as they did before they were cached.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::Connection;
use diesel::connection::InstrumentationEvent;
use estuary::domain::DomainError;
use estuary::domain::accounts::SiteProfile;
use estuary::store::{PoolSettings, Store};
use serde_json::Value;

use common::cli::{estuary_at, json_stdout};
use common::{CACHE_BOUND, TestDb, TestServer, within_cache_bound};

const AP: &str = "application/activity+json";
const JRD: &str = "application/jrd+json";

/// What the connection ran: statements, and statements prepared into
/// diesel's cache.
#[derive(Default)]
struct Seen {
    statements: Vec<String>,
    prepared: Vec<String>,
}

/// A store of one connection whose statements are recorded.
async fn watched_store(url: &str) -> (Store, Arc<Mutex<Seen>>) {
    let store = Store::open(
        url,
        PoolSettings {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(10),
        },
    )
    .unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    store
        .run(move |conn| {
            conn.set_instrumentation(move |event: InstrumentationEvent<'_>| match &event {
                InstrumentationEvent::StartQuery { query, .. } => {
                    record.lock().unwrap().statements.push(query.to_string());
                }
                InstrumentationEvent::CacheQuery { sql, .. } => {
                    record.lock().unwrap().prepared.push(sql.to_string());
                }
                _ => {}
            });
            Ok::<_, DomainError>(())
        })
        .await
        .unwrap();
    (store, seen)
}

/// The server's own background work, not a request's: the delivery
/// workers' queue (its claims take the queue's advisory lock on PostgreSQL,
/// in a transaction of their own) and the cache's generation check. A
/// transaction's own BEGIN, COMMIT and savepoints are left out too: a
/// request's transaction would still show its statements.
fn is_background(statement: &str) -> bool {
    let transaction_control = [
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE SAVEPOINT",
    ]
    .iter()
    .any(|control| statement.starts_with(control));
    transaction_control
        || ["jobs", "cache_generation", "pg_advisory_xact_lock"]
            .iter()
            .any(|marker| statement.contains(marker))
}

/// Statements run since the last call, background work left out.
fn requests_statements(seen: &Mutex<Seen>) -> Vec<String> {
    let mut seen = seen.lock().unwrap();
    std::mem::take(&mut seen.statements)
        .into_iter()
        .filter(|s| !is_background(s))
        .collect()
}

async fn json(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200, "{}", response.url());
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_actor_or_webfinger_answer_runs_no_statement() {
    let db = TestDb::new();
    let (store, seen) = watched_store(&db.url).await;
    let server = TestServer::start_on_store(db, store, |_| {}).await;
    server.add_user("alice").await;
    // Creating her moved the generation: let the server see that first.
    tokio::time::sleep(CACHE_BOUND).await;
    let webfinger = format!(
        "/.well-known/webfinger?resource=acct:alice@{}",
        server.host()
    );
    // The first of each reads the database.
    let actor = json(server.get("/users/alice", Some(AP)).await).await;
    let jrd = json(server.get(&webfinger, Some(JRD)).await).await;
    assert_eq!(actor["preferredUsername"], "alice");
    assert_eq!(jrd["links"][0]["href"], actor["id"]);
    common::assert_schema("actor.schema.json", &actor);

    requests_statements(&seen);
    for _ in 0..25 {
        let again = server.get("/users/alice", Some(AP)).await;
        assert_eq!(again.headers()["content-type"], AP);
        assert_eq!(json(again).await, actor);
        let again = server.get(&webfinger, Some(JRD)).await;
        assert_eq!(again.headers()["content-type"], JRD);
        assert_eq!(json(again).await, jrd);
        let ld = server
            .get(
                "/users/alice",
                Some("application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""),
            )
            .await;
        assert!(
            ld.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/ld+json")
        );
        assert_eq!(json(ld).await, actor);
    }
    let ran = requests_statements(&seen);
    assert!(ran.is_empty(), "cache hits ran statements: {ran:#?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queries_that_remain_are_prepared_once() {
    let db = TestDb::new();
    let (store, seen) = watched_store(&db.url).await;
    let server = TestServer::start_on_store(db, store, |_| {}).await;
    server.add_user("alice").await;
    // The h-card page reads counts and latest posts; the followers
    // collection its count. Once warm, none is prepared again.
    let paths = ["/@alice", "/users/alice/followers", "/users/alice/outbox"];
    for path in paths {
        assert_eq!(server.get(path, None).await.status(), 200, "{path}");
    }
    let warmed = std::mem::take(&mut seen.lock().unwrap().prepared);
    assert!(
        warmed.iter().any(|s| s.contains("accounts")),
        "the first reads were prepared and cached: {warmed:#?}"
    );
    requests_statements(&seen);
    for path in paths {
        assert_eq!(server.get(path, None).await.status(), 200, "{path}");
    }
    let ran = requests_statements(&seen);
    assert!(!ran.is_empty(), "these pages still read the database");
    let prepared: Vec<String> = seen
        .lock()
        .unwrap()
        .prepared
        .iter()
        .filter(|s| !is_background(s))
        .cloned()
        .collect();
    assert!(
        prepared.is_empty(),
        "prepared again instead of taken from the statement cache: {prepared:#?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_made_in_the_process_is_served_at_once() {
    // The refresh never comes during the test: only the process's own
    // invalidation can make the change show.
    let server = TestServer::start_with(TestDb::new(), |config| {
        config.cache_refresh = Duration::from_secs(3600);
    })
    .await;
    let site = |name: &str| SiteProfile {
        site_url: "https://site.example/".into(),
        domain: "site.example".into(),
        name: Some(name.into()),
        photo: None,
    };
    estuary::federation::actor_cache::ensure_proxy(server.fed(), site("Before"))
        .await
        .unwrap();
    let webfinger = format!(
        "/.well-known/webfinger?resource=acct:site.example@{}",
        server.host()
    );
    let before = json(server.get("/sites/site.example", Some(AP)).await).await;
    assert_eq!(before["name"], "Before");
    let jrd = json(server.get(&webfinger, Some(JRD)).await).await;
    assert_eq!(jrd["links"][0]["href"], before["id"]);

    estuary::federation::actor_cache::ensure_proxy(server.fed(), site("After"))
        .await
        .unwrap();
    let after = json(server.get("/sites/site.example", Some(AP)).await).await;
    assert_eq!(after["name"], "After", "the site's new h-card, at once");
    assert_eq!(json(server.get(&webfinger, Some(JRD)).await).await, jrd);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_by_the_command_line_reach_a_running_server_within_the_bound() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let webfinger = format!(
        "/.well-known/webfinger?resource=acct:alice@{}",
        server.host()
    );
    let (url, dir) = (server.db.url.clone(), server.db.dir.path().to_owned());
    let cli = |args: &'static [&'static str]| {
        let (url, dir) = (url.clone(), dir.clone());
        async move {
            tokio::task::spawn_blocking(move || json_stdout(&estuary_at(&url, &dir, args)))
                .await
                .unwrap()
        }
    };
    let status = |path: String, accept: &'static str| {
        let request = server
            .client
            .get(server.url(&path))
            .header("Accept", accept);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let name = || async {
        let actor = json(server.get("/users/alice", Some(AP)).await).await;
        actor["name"].as_str().unwrap_or_default().to_owned()
    };
    // Cached before each change.
    assert_eq!(name().await, "alice display");
    assert_eq!(status(webfinger.clone(), JRD).await, 200);

    cli(&["user", "edit", "alice", "--display-name", "Alice Edited"]).await;
    let took = within_cache_bound("the edited name", || async {
        name().await == "Alice Edited"
    })
    .await;
    eprintln!("the edit was served after {took:?} (bound {CACHE_BOUND:?})");

    cli(&["user", "suspend", "alice"]).await;
    within_cache_bound("the suspended actor answers 404", || async {
        status("/users/alice".into(), AP).await == 404
    })
    .await;
    assert_eq!(status(webfinger.clone(), JRD).await, 404);
    assert_eq!(status("/@alice".into(), "text/html").await, 404);
    assert_eq!(status("/users/alice/outbox".into(), AP).await, 404);

    cli(&["user", "unsuspend", "alice"]).await;
    within_cache_bound("the unsuspended actor is back", || async {
        status("/users/alice".into(), AP).await == 200
    })
    .await;
    assert_eq!(status(webfinger.clone(), JRD).await, 200);

    cli(&["user", "delete", "alice"]).await;
    within_cache_bound("the deleted actor answers 410", || async {
        status("/users/alice".into(), AP).await == 410
    })
    .await;
    assert_eq!(status("/@alice".into(), "text/html").await, 410);
    assert_eq!(status(webfinger, JRD).await, 404);
    server.stop().await;
}
