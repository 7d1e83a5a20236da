//! Real Mastodon clients from the package registries against two Estuary
//! instances: Mastodon.py, the `toot` CLI and masto.js each sign in by
//! walking Estuary's login and consent pages, send a direct message from A
//! to B and read it back as a conversation; a third account sees nothing.
//!
//! Ignored unless asked for (`cargo test --test interop_mastodon -- --ignored`):
//! they need `python3` with `Mastodon.py` 2.x and `toot` 0.x, and Node 20
//! with `npm ci --prefix tests/interop` done. `.ci/run` installs them and
//! runs these on SQLite and PostgreSQL.

mod common;

use std::process::Command;

use common::TestServer;
use common::masto::add_user_with_password;
use serde_json::Value;

/// alice on A; bob and carol on B, each with the password "NAME pass".
async fn two_instances() -> (TestServer, TestServer) {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    add_user_with_password(&a, "alice").await;
    add_user_with_password(&b, "bob").await;
    add_user_with_password(&b, "carol").await;
    (a, b)
}

/// Runs a client script with A's and B's URLs; its JSON summary.
async fn run(program: &str, script: &str, a: &TestServer, b: &TestServer) -> Value {
    let path = format!("{}/tests/interop/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut command = Command::new(program);
    command
        .arg(&path)
        .arg(&a.base_url)
        .arg(&b.base_url)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop"));
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("cannot run {program} {path}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("{script} printed no JSON ({e}):\n{stdout}\n{stderr}"))
}

fn assert_dm_round_trip(summary: &Value, a: &TestServer, b: &TestServer) {
    let sent = summary["sent"].as_str().expect("sent");
    let reply = summary["reply"].as_str().expect("reply");
    assert!(sent.starts_with(&a.base_url), "{summary}");
    assert!(reply.starts_with(&b.base_url), "{summary}");
    assert_eq!(summary["received_by_bob"], sent);
    assert_eq!(summary["alice_conversation_last"], reply);
    assert_eq!(summary["context_descendants"][0], reply);
    assert_eq!(summary["carol_saw"], 0);
}

#[tokio::test]
#[ignore = "interop: needs python3 with Mastodon.py 2.x (see .ci/run)"]
async fn mastodon_py_sends_and_answers_a_direct_message_across_instances() {
    let (a, b) = two_instances().await;
    let summary = run("python3", "mastodon_py_dm.py", &a, &b).await;
    assert_dm_round_trip(&summary, &a, &b);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
#[ignore = "interop: needs the toot CLI 0.x (see .ci/run)"]
async fn toot_posts_a_direct_message_that_reaches_the_other_instance() {
    let (a, b) = two_instances().await;
    let summary = run("python3", "toot_dm.py", &a, &b).await;
    assert_dm_round_trip(&summary, &a, &b);
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
#[ignore = "interop: needs Node 20 and `npm ci --prefix tests/interop` (masto 6.x; see .ci/run)"]
async fn masto_js_sends_and_answers_a_direct_message_across_instances() {
    let (a, b) = two_instances().await;
    let summary = run("node", "masto_dm.mjs", &a, &b).await;
    assert_dm_round_trip(&summary, &a, &b);
    a.stop().await;
    b.stop().await;
}
