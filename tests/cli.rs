//! The `estuary` binary as a subprocess: JSON on stdout on success, one line
//! on stderr and a non-zero exit on failure, nothing written when refused.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::TestDb;
use common::cli::{assert_refused, estuary, json_stdout};
use serde_json::Value;

#[test]
fn user_add_prints_the_actor_and_handle() {
    let db = TestDb::new();
    let out = json_stdout(&estuary(
        &db,
        &[
            "user",
            "add",
            "Alice",
            "--display-name",
            "Alice A",
            "--summary",
            "Hello",
        ],
    ));
    assert_eq!(out["id"], "https://social.example/users/alice");
    assert_eq!(out["acct"], "alice@social.example");
    let stored = db.texts("SELECT display_name AS v FROM accounts");
    assert_eq!(stored, vec![Some("Alice A".to_owned())]);
}

#[test]
fn duplicate_and_invalid_names_are_refused_and_nothing_is_written() {
    let db = TestDb::new();
    json_stdout(&estuary(&db, &["user", "add", "alice"]));
    assert_eq!(db.count("accounts"), 1);

    assert_refused(&estuary(&db, &["user", "add", "ALICE"]), "already taken");
    // Users and rooms share one namespace.
    assert_refused(&estuary(&db, &["room", "add", "alice"]), "already taken");
    for bad in ["bad-name", "a.b", "", &"x".repeat(31), "ümlaut"] {
        assert_refused(&estuary(&db, &["user", "add", bad]), "not a valid name");
    }
    assert_refused(
        &estuary(&db, &["room", "add", "r", "--owner", "nobody"]),
        "no user named",
    );
    assert_eq!(db.count("accounts"), 1);
}

#[test]
fn token_issue_prints_a_token_and_stores_only_its_hash() {
    let db = TestDb::new();
    json_stdout(&estuary(&db, &["user", "add", "alice"]));
    let out = json_stdout(&estuary(&db, &["token", "issue", "alice"]));
    let token = out["token"].as_str().unwrap();
    assert!(token.len() >= 40, "{token}");
    let stored = db.texts("SELECT token_hash AS v FROM tokens");
    assert_eq!(stored.len(), 1);
    let hash = stored[0].clone().unwrap();
    assert_ne!(hash, token);
    assert!(!hash.contains(token));
    assert_eq!(hash, estuary::domain::tokens::hash_token(token));

    let second = json_stdout(&estuary(&db, &["token", "issue", "alice"]));
    assert_ne!(second["token"], out["token"], "every token is fresh");

    assert_refused(
        &estuary(&db, &["token", "issue", "nobody"]),
        "no user named",
    );
    json_stdout(&estuary(&db, &["room", "add", "garden"]));
    assert_refused(
        &estuary(&db, &["token", "issue", "garden"]),
        "no user named",
    );
    assert_eq!(db.count("tokens"), 2);
}

#[test]
fn room_add_creates_a_group_with_owner_and_membership_policy() {
    let db = TestDb::new();
    json_stdout(&estuary(&db, &["user", "add", "olive"]));
    let out = json_stdout(&estuary(
        &db,
        &[
            "room",
            "add",
            "Garden",
            "--title",
            "The Garden",
            "--owner",
            "olive",
            "--members-only",
        ],
    ));
    assert_eq!(out["id"], "https://social.example/rooms/garden");
    assert_eq!(out["acct"], "garden@social.example");
    let kind = db.texts("SELECT kind AS v FROM accounts WHERE username = 'garden'");
    assert_eq!(kind, vec![Some("Group".to_owned())]);
    let owner = db.texts(
        "SELECT o.username AS v FROM accounts r JOIN accounts o ON o.id = r.owner_id \
         WHERE r.username = 'garden'",
    );
    assert_eq!(owner, vec![Some("olive".to_owned())]);
    let approves = db.count("accounts WHERE username = 'garden' AND manually_approves_followers");
    assert_eq!(approves, 1);
}

#[test]
fn queue_stats_counts_jobs_by_state() {
    let db = TestDb::new();
    json_stdout(&estuary(&db, &["migrate"]));
    let empty = json_stdout(&estuary(&db, &["queue", "stats"]));
    assert_eq!(
        empty,
        serde_json::json!({"pending": 0, "running": 0, "failed": 0, "dead": 0, "done": 0})
    );
    db.execute(
        "INSERT INTO jobs (kind, payload, status, attempts, run_at, created_at, updated_at) VALUES \
         ('deliver', '{}', 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), \
         ('deliver', '{}', 'retrying', 3, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), \
         ('deliver', '{}', 'dead', 15, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    );
    let counted = json_stdout(&estuary(&db, &["queue", "stats"]));
    assert_eq!(
        counted,
        serde_json::json!({"pending": 1, "running": 0, "failed": 1, "dead": 1, "done": 0})
    );
}

#[test]
fn migrate_is_idempotent() {
    let db = TestDb::new();
    let first = json_stdout(&estuary(&db, &["migrate"]));
    assert!(!first["applied"].as_array().unwrap().is_empty());
    let second = json_stdout(&estuary(&db, &["migrate"]));
    assert_eq!(second["applied"], serde_json::json!([]));
}

#[test]
fn invalid_configuration_stops_with_one_line() {
    let db = TestDb::new();
    for (name, value) in [
        ("ESTUARY_BASE_URL", "https://social.example/sub"),
        ("ESTUARY_BASE_URL", "https://social.example/?q=1"),
        ("ESTUARY_BIND", "not-an-address"),
        ("ESTUARY_ALLOW_PRIVATE_ADDRESSES", "perhaps"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_estuary"))
            .args(["user", "add", "alice"])
            .current_dir(db.dir.path())
            .env("DATABASE_URL", &db.url)
            .env(name, value)
            .output()
            .unwrap();
        assert_refused(&output, name);
    }
    let unknown = estuary(&db, &["frobnicate"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&unknown.stderr).lines().count(), 1);
    // Configuration is checked before the database is opened.
    if !db.is_postgres() {
        assert!(!std::path::Path::new(&db.url).exists());
    }
}

#[test]
fn a_database_that_cannot_be_reached_is_reported_in_one_line() {
    let db = TestDb::new();
    let output = Command::new(env!("CARGO_BIN_EXE_estuary"))
        .args(["migrate"])
        .current_dir(db.dir.path())
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert_refused(&output, "cannot open the database");
}

#[test]
fn the_default_database_is_created_under_data() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_estuary"))
        .args(["user", "add", "alice"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("ESTUARY_CONFIG")
        .output()
        .unwrap();
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(out["acct"], "alice@localhost:8080");
    assert!(dir.path().join("data/estuary.sqlite3").is_file());
}

#[test]
fn estuary_toml_is_read_and_the_environment_wins() {
    let db = TestDb::new();
    std::fs::write(
        db.dir.path().join("estuary.toml"),
        "base_url = \"https://from-file.example\"\n",
    )
    .unwrap();
    let run = |env_base: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_estuary"));
        command
            .args(["room", "add", &format!("r{}", env_base.map_or(1, |_| 2))])
            .current_dir(db.dir.path())
            .env("DATABASE_URL", &db.url)
            .env_remove("ESTUARY_BASE_URL")
            .env_remove("ESTUARY_CONFIG");
        if let Some(base) = env_base {
            command.env("ESTUARY_BASE_URL", base);
        }
        json_stdout(&command.output().unwrap())
    };
    assert_eq!(run(None)["acct"], "r1@from-file.example");
    assert_eq!(
        run(Some("https://from-env.example"))["acct"],
        "r2@from-env.example"
    );
}

#[test]
fn serve_announces_its_address_and_stops_gracefully_on_sigterm() {
    let db = TestDb::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_estuary"))
        .arg("serve")
        .current_dir(db.dir.path())
        .env("DATABASE_URL", &db.url)
        .env("ESTUARY_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let announced: Value = serde_json::from_str(&line).expect("first line is JSON");
    let addr = announced["listening"].as_str().unwrap().to_owned();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "graceful exit: {status:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(rest.trim()).unwrap()["stopped"],
        true
    );
}
