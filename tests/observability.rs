//! What an operator watches: the queue and inbox metrics at `/metrics`
//! (depth, how long due work has waited, attempts; inbox requests accepted
//! and refused by reason), and structured logs with
//! `ESTUARY_LOG_FORMAT=json`.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::sink::Sink;
use common::{TestDb, TestServer, wait_until};
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, publish_note};
use serde_json::Value;

async fn metrics(server: &TestServer) -> String {
    let response = server.get("/metrics", None).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The value of one sample line (`name{labels} value`).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn the_queue_gauges_show_due_work_nobody_takes() {
    let server = TestServer::start().await;
    let text = metrics(&server).await;
    assert_eq!(
        sample(&text, "estuary_queue_oldest_job_age_seconds"),
        Some(0.0)
    );
    assert_eq!(sample(&text, "estuary_queue_max_attempts"), Some(0.0));

    // Eight jobs hold every slot of one host (the per-host cap), so a ninth,
    // due ten minutes ago, waits.
    let (ago, later) = if server.db.is_postgres() {
        (
            "(NOW() AT TIME ZONE 'UTC') - INTERVAL '10 minutes'",
            "(NOW() AT TIME ZONE 'UTC') + INTERVAL '1 hour'",
        )
    } else {
        (
            "datetime('now', '-10 minutes')",
            "datetime('now', '+1 hour')",
        )
    };
    for n in 0..8 {
        server.db.execute(&format!(
            "INSERT INTO jobs (kind, dedup_key, payload, host, status, attempts, run_at, locked_until, created_at, updated_at) \
             VALUES ('deliver', 'busy {n}', '{{}}', 'stuck.example', 'running', 4, {ago}, {later}, {ago}, {ago})"
        ));
    }
    server.db.execute(&format!(
        "INSERT INTO jobs (kind, dedup_key, payload, host, status, attempts, run_at, created_at, updated_at) \
         VALUES ('deliver', 'waiting', '{{}}', 'stuck.example', 'pending', 0, {ago}, {ago}, {ago})"
    ));
    // A retry scheduled for later is not late.
    server.db.execute(&format!(
        "INSERT INTO jobs (kind, dedup_key, payload, host, status, attempts, run_at, created_at, updated_at) \
         VALUES ('deliver', 'later', '{{}}', 'other.example', 'retrying', 2, {later}, {ago}, {ago})"
    ));
    let text = metrics(&server).await;
    let age = sample(&text, "estuary_queue_oldest_job_age_seconds").unwrap();
    assert!(
        (590.0..900.0).contains(&age),
        "ten minutes late: {age}\n{text}"
    );
    assert_eq!(sample(&text, "estuary_queue_max_attempts"), Some(4.0));
    assert_eq!(
        sample(
            &text,
            "estuary_queue_depth{kind=\"deliver\",status=\"running\"}"
        ),
        Some(8.0)
    );
    assert!(text.contains("# TYPE estuary_queue_oldest_job_age_seconds gauge"));
    server.stop().await;
}

#[tokio::test]
async fn attempts_and_inbox_refusals_are_counted_by_outcome() {
    let sink = Sink::start(0).await;
    let server = TestServer::start().await;
    let alice = server.add_user("alice").await;
    estuary::federation::resolve::actor(server.fed(), &sink.actor_url(0))
        .await
        .unwrap();
    server.add_follower("alice", &sink.actor_url(0)).await;
    publish_note(
        server.fed(),
        &alice,
        Draft {
            content_html: "<p>counted</p>".into(),
            to: vec![PUBLIC.into()],
            cc: vec![alice.followers_url.clone().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    wait_until(10, "the delivery", || async { !sink.received().is_empty() }).await;
    wait_until(5, "the attempts to be counted", || async {
        sample(
            &metrics(&server).await,
            "estuary_job_attempts_total{outcome=\"done\"}",
        )
        .is_some_and(|n| n >= 2.0)
    })
    .await;

    let inbox = server.url("/inbox");
    let wrong_type = server
        .client
        .post(&inbox)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);
    let unsigned = server
        .client
        .post(&inbox)
        .header("content-type", "application/activity+json")
        .body(r#"{"type":"Like"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let text = metrics(&server).await;
    assert_eq!(
        sample(
            &text,
            "estuary_inbox_requests_total{outcome=\"unsupported_media_type\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "estuary_inbox_requests_total{outcome=\"unauthorized\"}"
        ),
        Some(1.0)
    );
    server.stop().await;
}

#[test]
fn json_logs_are_one_object_per_line() {
    let db = TestDb::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_estuary"))
        .arg("serve")
        .current_dir(db.dir.path())
        .env("DATABASE_URL", &db.url)
        .env("ESTUARY_BIND", "127.0.0.1:0")
        .env("ESTUARY_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
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
    runtime.block_on(async {
        let status = reqwest::get(format!("http://{addr}/healthz"))
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    });
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let lines: Vec<Value> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() >= 3, "{stderr}");
    for entry in &lines {
        assert!(entry["timestamp"].is_string(), "{entry}");
        assert!(entry["level"].is_string(), "{entry}");
        assert!(entry["target"].is_string(), "{entry}");
    }
    let listening = lines
        .iter()
        .find(|e| e["message"] == "listening")
        .unwrap_or_else(|| panic!("a listening line: {stderr}"));
    assert_eq!(listening["addr"], addr.as_str(), "fields are flattened");
    assert!(
        lines
            .iter()
            .any(|e| e["span"]["name"] == "request" && e["span"]["uri"] == "/healthz"),
        "request lines carry their span: {stderr}"
    );
}
