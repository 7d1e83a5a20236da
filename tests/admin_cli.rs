//! The operator's commands as subprocesses: users (list, show, edit,
//! suspend, unsuspend, delete), tokens (list, revoke), rooms (list,
//! requests), the queue (list, retry, purge), and which commands may create
//! a database. Where a command changes what the server does, a running
//! instance on the same database is checked over HTTP.

mod common;

use std::process::Output;

use common::cli::{assert_refused, estuary, estuary_at, json_stdout};
use common::sink::Sink;
use common::{TestDb, TestServer, wait_until};
use serde_json::Value;

/// The command line against a running server's database, off the runtime.
async fn cli(server: &TestServer, args: &[&str]) -> Output {
    let (url, dir) = (server.db.url.clone(), server.db.dir.path().to_owned());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        estuary_at(&url, &dir, &args)
    })
    .await
    .unwrap()
}

/// The smallest valid PNG (1×1).
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

#[test]
fn reading_commands_never_create_a_database_and_name_the_one_they_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let relative = "./data/estuary.sqlite3";
    let expected = dir.path().join("data/estuary.sqlite3");
    for args in [
        &["user", "list"][..],
        &["user", "show", "alice"],
        &["room", "list"],
        &["room", "requests", "garden"],
        &["token", "list", "alice"],
        &["queue", "stats"],
        &["queue", "list"],
        &["domain", "list"],
        &["reports", "list"],
        &["user", "suspend", "alice"],
        &["token", "issue", "alice"],
    ] {
        let output = estuary_at(relative, dir.path(), args);
        assert_refused(&output, &format!("no database at {}", expected.display()));
        assert!(!expected.exists(), "{args:?} created the database");
        assert!(
            !dir.path().join("data").exists(),
            "{args:?} created its folder"
        );
    }
}

#[test]
fn creating_commands_say_when_they_create_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let expected = dir.path().join("data/estuary.sqlite3");
    let first = estuary_at(
        "./data/estuary.sqlite3",
        dir.path(),
        &["user", "add", "alice"],
    );
    json_stdout(&first);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(
        stderr.trim(),
        format!("estuary: created a new database at {}", expected.display())
    );
    let second = estuary_at(
        "./data/estuary.sqlite3",
        dir.path(),
        &["room", "add", "garden"],
    );
    json_stdout(&second);
    assert!(second.stderr.is_empty(), "nothing new was created");
    let listed = json_stdout(&estuary_at(
        "./data/estuary.sqlite3",
        dir.path(),
        &["user", "list"],
    ));
    assert_eq!(listed["users"][0]["name"], "alice");
}

#[test]
fn users_are_listed_shown_and_edited_with_images_from_files() {
    let db = TestDb::new();
    json_stdout(&estuary(
        &db,
        &["user", "add", "bob", "--display-name", "Bob"],
    ));
    json_stdout(&estuary(
        &db,
        &["user", "add", "alice", "--summary", "Rivers"],
    ));
    json_stdout(&estuary(&db, &["room", "add", "garden"]));
    let listed = json_stdout(&estuary(&db, &["user", "list"]));
    let names: Vec<&str> = listed["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "bob"], "users only, by name");
    assert_eq!(listed["users"][1]["display_name"], "Bob");
    assert_eq!(listed["users"][0]["status"], "active");
    assert_eq!(listed["users"][0]["acct"], "alice@social.example");

    let shown = json_stdout(&estuary(&db, &["user", "show", "Alice"]));
    assert_eq!(shown["id"], "https://social.example/users/alice");
    assert_eq!(shown["description"], "Rivers");
    assert_eq!(shown["followers"], 0);
    assert_eq!(shown["live_tokens"], 0);
    assert_eq!(shown["password_set"], false);
    assert_eq!(shown["avatar"], Value::Null);
    assert_refused(&estuary(&db, &["user", "show", "garden"]), "no user named");
    assert_refused(&estuary(&db, &["user", "show", "nobody"]), "no user named");

    let avatar = db.dir.path().join("avatar.png");
    std::fs::write(&avatar, PNG).unwrap();
    let not_an_image = db.dir.path().join("notes.txt");
    std::fs::write(&not_an_image, "hello").unwrap();
    // A bad image, a missing file, or nothing to change: refused, unchanged.
    let bad = estuary(
        &db,
        &[
            "user",
            "edit",
            "alice",
            "--display-name",
            "Changed",
            "--avatar",
            avatar.to_str().unwrap(),
            "--header",
            not_an_image.to_str().unwrap(),
        ],
    );
    assert_refused(&bad, "header: not a PNG, JPEG, GIF or WebP image");
    assert_refused(
        &estuary(
            &db,
            &["user", "edit", "alice", "--avatar", "/nonexistent/a.png"],
        ),
        "cannot read /nonexistent/a.png",
    );
    assert_refused(
        &estuary(&db, &["user", "edit", "alice"]),
        "nothing to change",
    );
    assert_eq!(db.count("media"), 0);
    assert_eq!(
        db.texts("SELECT display_name AS v FROM accounts WHERE username = 'alice'"),
        [None]
    );

    let edited = json_stdout(&estuary(
        &db,
        &[
            "user",
            "edit",
            "alice",
            "--display-name",
            "Alice A",
            "--summary",
            "",
            "--avatar",
            avatar.to_str().unwrap(),
            "--header",
            avatar.to_str().unwrap(),
        ],
    ));
    assert_eq!(edited["display_name"], "Alice A");
    assert_eq!(edited["description"], Value::Null, "an empty text clears");
    let avatar_url = edited["avatar"].as_str().unwrap();
    assert!(
        avatar_url.starts_with("https://social.example/media/"),
        "{avatar_url}"
    );
    assert_ne!(edited["header"], edited["avatar"]);
    assert_eq!(db.count("media"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_avatar_is_served_and_named_by_the_actor() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let file = server.db.dir.path().join("a.png");
    std::fs::write(&file, PNG).unwrap();
    let out = json_stdout(
        &cli(
            &server,
            &["user", "edit", "alice", "--avatar", file.to_str().unwrap()],
        )
        .await,
    );
    let path = out["avatar"]
        .as_str()
        .unwrap()
        .strip_prefix(common::cli::CLI_BASE_URL)
        .unwrap()
        .to_owned();
    let image = server.get(&path, None).await;
    assert_eq!(image.status(), 200);
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(image.bytes().await.unwrap().as_ref(), PNG);
    let actor: Value = server
        .get("/users/alice", Some("application/activity+json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(actor["icon"]["url"], out["avatar"]);
    common::assert_schema("actor.schema.json", &actor);
    assert_eq!(server.get("/media/unknown", None).await.status(), 404);
    let default = server.get("/static/avatar.svg", None).await;
    assert_eq!(default.status(), 200);
    assert_eq!(default.headers()["content-type"], "image/svg+xml");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn suspension_hides_the_account_and_refuses_its_tokens_and_password() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let token = json_stdout(&cli(&server, &["token", "issue", "alice"]).await)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    estuary::domain::oauth::set_password(&server.state.store, "alice", "correct horse".into())
        .await
        .unwrap();
    let webfinger = format!(
        "/.well-known/webfinger?resource=acct:alice@{}",
        server.host()
    );
    let inbox_get = || {
        server
            .client
            .get(server.url("/users/alice/inbox"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(inbox_get().await.unwrap().status(), 200);
    assert_eq!(server.get("/@alice", Some("text/html")).await.status(), 200);

    let out = json_stdout(&cli(&server, &["user", "suspend", "alice"]).await);
    assert_eq!(out["status"], "suspended");
    // The server caches the account; another process's change reaches it
    // within the cache's refresh bound.
    common::within_cache_bound("the suspension", || async {
        server.get("/@alice", Some("text/html")).await.status() == 404
    })
    .await;
    for (path, accept) in [
        ("/@alice", "text/html"),
        ("/users/alice", "application/activity+json"),
        ("/users/alice/outbox", "application/activity+json"),
        (webfinger.as_str(), "application/jrd+json"),
    ] {
        assert_eq!(server.get(path, Some(accept)).await.status(), 404, "{path}");
    }
    let refused = inbox_get().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.text().await.unwrap().contains("suspended"));
    let guard = estuary::domain::logins::LoginGuard::new(2, 10);
    let signed_in = estuary::domain::logins::log_in(
        &server.state.store,
        &guard,
        "alice",
        "correct horse".into(),
        None,
    )
    .await
    .unwrap();
    assert!(
        !matches!(
            signed_in,
            estuary::domain::logins::LoginOutcome::LoggedIn(_)
        ),
        "a suspended account cannot sign in"
    );
    let shown = json_stdout(&cli(&server, &["user", "list"]).await);
    assert_eq!(shown["users"][0]["status"], "suspended");

    let out = json_stdout(&cli(&server, &["user", "unsuspend", "alice"]).await);
    assert_eq!(out["status"], "active");
    common::within_cache_bound("the end of the suspension", || async {
        server.get("/@alice", Some("text/html")).await.status() == 200
    })
    .await;
    assert_eq!(inbox_get().await.unwrap().status(), 200);
    assert_refused(
        &cli(&server, &["user", "suspend", "nobody"]).await,
        "no user named",
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_user_sends_the_actor_delete_to_followers_and_leaves_a_410() {
    let sink = Sink::start(0).await;
    let server = TestServer::start().await;
    server.add_user("alice").await;
    for n in 0..2 {
        estuary::federation::resolve::actor(server.fed(), &sink.actor_url(n))
            .await
            .unwrap();
        server.add_follower("alice", &sink.actor_url(n)).await;
    }
    json_stdout(&cli(&server, &["token", "issue", "alice"]).await);

    let out = json_stdout(&cli(&server, &["user", "delete", "alice"]).await);
    assert_eq!(out["notified"], 2);
    assert_eq!(out["follows_removed"], 2);
    assert_eq!(out["tokens_revoked"], 1);
    let activity = out["activity"].as_str().unwrap().to_owned();

    wait_until(15, "the Delete reaches both followers", || async {
        sink.received().len() >= 2
    })
    .await;
    let actor = server.url("/users/alice");
    for received in sink.received() {
        let body: Value = serde_json::from_slice(&received.body).unwrap();
        assert_eq!(body["id"], activity.as_str());
        assert_eq!(body["type"], "Delete");
        assert_eq!(body["object"], actor.as_str());
        assert!(received.headers.contains_key("signature"), "signed");
    }
    assert_eq!(
        server
            .get("/users/alice", Some("application/activity+json"))
            .await
            .status(),
        410
    );
    assert_eq!(server.get("/@alice", Some("text/html")).await.status(), 410);
    let shown = json_stdout(&cli(&server, &["user", "show", "alice"]).await);
    assert_eq!(shown["status"], "deleted");
    assert_eq!(shown["live_tokens"], 0);
    assert_refused(
        &cli(&server, &["user", "delete", "alice"]).await,
        "is deleted",
    );
    assert_refused(
        &cli(&server, &["user", "add", "alice"]).await,
        "already taken",
    );
    assert_refused(
        &cli(&server, &["token", "issue", "alice"]).await,
        "no user named",
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_listed_without_their_secret_and_revoked_by_id() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let first = json_stdout(&cli(&server, &["token", "issue", "alice"]).await)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    json_stdout(&cli(&server, &["token", "issue", "alice"]).await);
    let listed = cli(&server, &["token", "list", "alice"]).await;
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(&first));
    let listed = json_stdout(&listed);
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(
        tokens
            .iter()
            .all(|t| t["live"] == true && t["scopes"] == "read write")
    );
    let id = tokens[0]["id"].as_i64().unwrap().to_string();

    let use_first = || {
        server
            .client
            .get(server.url("/users/alice/inbox"))
            .bearer_auth(&first)
            .send()
    };
    assert_eq!(use_first().await.unwrap().status(), 200);
    let revoked = json_stdout(&cli(&server, &["token", "revoke", &id]).await);
    assert_eq!(revoked["live"], false);
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(use_first().await.unwrap().status(), 401);
    assert_refused(
        &cli(&server, &["token", "revoke", &id]).await,
        "revoked already",
    );
    assert_refused(
        &cli(&server, &["token", "revoke", "999999"]).await,
        "no token 999999",
    );
    assert_refused(
        &cli(&server, &["token", "revoke", "x"]).await,
        "invalid value",
    );
    let listed = json_stdout(&cli(&server, &["token", "list", "alice"]).await);
    assert_eq!(
        listed["tokens"][1]["live"], true,
        "the other one still works"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rooms_are_listed_with_their_pending_join_requests() {
    let sink = Sink::start(0).await;
    let server = TestServer::start().await;
    server.add_user("olive").await;
    json_stdout(
        &cli(
            &server,
            &[
                "room",
                "add",
                "garden",
                "--owner",
                "olive",
                "--members-only",
            ],
        )
        .await,
    );
    json_stdout(&cli(&server, &["room", "add", "atrium", "--title", "The Atrium"]).await);
    let listed = json_stdout(&cli(&server, &["room", "list"]).await);
    let rooms: Vec<&str> = listed["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(rooms, ["atrium", "garden"]);
    assert_eq!(listed["rooms"][0]["display_name"], "The Atrium");

    let empty = json_stdout(&cli(&server, &["room", "requests", "garden"]).await);
    assert_eq!(empty["requests"], serde_json::json!([]));
    // A remote account asks to join: a pending follow of the room.
    let asker = estuary::federation::resolve::actor(server.fed(), &sink.actor_url(3))
        .await
        .unwrap();
    let room = server.account("garden").await;
    server.db.execute(&format!(
        "INSERT INTO follows (follower_id, followee_id, follow_ap_id, accepted, created_at) \
         VALUES ({}, {}, '{}#join', FALSE, CURRENT_TIMESTAMP)",
        asker.id, room.id, asker.actor_url
    ));
    let pending = json_stdout(&cli(&server, &["room", "requests", "garden"]).await);
    assert_eq!(pending["requests"][0]["actor"], sink.actor_url(3));
    assert_eq!(pending["requests"].as_array().unwrap().len(), 1);
    json_stdout(&cli(&server, &["room", "approve", "garden", &sink.actor_url(3)]).await);
    let answered = json_stdout(&cli(&server, &["room", "requests", "garden"]).await);
    assert_eq!(answered["requests"], serde_json::json!([]));
    assert_refused(
        &cli(&server, &["room", "requests", "olive"]).await,
        "no room named",
    );
    server.stop().await;
}

#[test]
fn the_queue_is_listed_retried_and_purged() {
    let db = TestDb::new();
    json_stdout(&estuary(&db, &["migrate"]));
    db.execute(
        "INSERT INTO jobs (kind, payload, host, status, attempts, run_at, last_error, created_at, updated_at) VALUES \
         ('deliver', '{\"activity\":\"https://social.example/activities/1\"}', 'a.example', 'dead', 15, CURRENT_TIMESTAMP, 'remote server answered 500', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), \
         ('deliver', '{\"activity\":\"https://social.example/activities/2\"}', 'b.example', 'dead', 15, CURRENT_TIMESTAMP, 'timeout', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), \
         ('deliver', '{}', 'c.example', 'done', 1, CURRENT_TIMESTAMP, NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), \
         ('deliver', '{}', 'd.example', 'pending', 0, CURRENT_TIMESTAMP, NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    );
    let all = json_stdout(&estuary(&db, &["queue", "list"]));
    assert_eq!(all["jobs"].as_array().unwrap().len(), 4);
    let dead = json_stdout(&estuary(&db, &["queue", "list", "--status", "dead"]));
    let dead = dead["jobs"].as_array().unwrap();
    assert_eq!(dead.len(), 2);
    assert_eq!(
        dead[0]["subject"], "https://social.example/activities/2",
        "newest first"
    );
    assert_eq!(dead[0]["last_error"], "timeout");
    assert_eq!(dead[1]["attempts"], 15);
    assert_refused(
        &estuary(&db, &["queue", "list", "--status", "lost"]),
        "not a job status",
    );

    let id = dead[1]["id"].as_i64().unwrap().to_string();
    assert_eq!(
        json_stdout(&estuary(&db, &["queue", "retry", &id]))["retried"],
        1
    );
    let stats = json_stdout(&estuary(&db, &["queue", "stats"]));
    assert_eq!(
        (stats["pending"].as_i64(), stats["dead"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        db.texts(&format!(
            "SELECT CAST(attempts AS TEXT) AS v FROM jobs WHERE id = {id}"
        )),
        [Some("0".to_owned())]
    );
    assert_refused(
        &estuary(&db, &["queue", "retry", &id]),
        "no dead or retrying job",
    );
    assert_refused(&estuary(&db, &["queue", "retry"]), "required");
    assert_eq!(
        json_stdout(&estuary(&db, &["queue", "retry", "--dead"]))["retried"],
        1
    );

    assert_refused(
        &estuary(&db, &["queue", "purge", "--status", "pending"]),
        "only dead or done",
    );
    let purged = json_stdout(&estuary(&db, &["queue", "purge", "--status", "done"]));
    assert_eq!(purged["purged"], 1);
    assert_eq!(db.count("jobs"), 3);
}
