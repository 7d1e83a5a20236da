//! Delivery through the durable queue to a stand-in remote server: fan-out
//! deduplicated by shared inbox, real signatures, retries with Retry-After,
//! final failures, and no delivery to those who block the sender.

mod common;

use std::time::Duration;

use common::sink::{Behaviour, Sink};
use common::{TestServer, wait_until};
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, publish_note};
use estuary::federation::signatures::{RequestTarget, parse_signature_at, verify_body_digest};

async fn with_followers(sink: &Sink, count: usize) -> TestServer {
    let a = TestServer::start().await;
    a.add_user("alice").await;
    for n in 0..count {
        estuary::federation::resolve::actor(a.fed(), &sink.actor_url(n))
            .await
            .unwrap();
        a.add_follower("alice", &sink.actor_url(n)).await;
    }
    a
}

async fn publish_public(a: &TestServer, text: &str) -> String {
    let alice = a.account("alice").await;
    publish_note(
        a.fed(),
        &alice,
        Draft {
            content_html: format!("<p>{text}</p>"),
            to: vec![PUBLIC.into()],
            cc: vec![alice.followers_url.clone().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .activity_id
}

fn job_statuses(a: &TestServer) -> Vec<String> {
    a.db.texts("SELECT status AS v FROM jobs WHERE kind = 'deliver' ORDER BY id")
        .into_iter()
        .map(Option::unwrap)
        .collect()
}

#[tokio::test]
async fn one_signed_post_per_shared_inbox() {
    let sink = Sink::start(3).await;
    let a = with_followers(&sink, 9).await;
    let activity_id = publish_public(&a, "hello followers").await;
    wait_until(10, "three deliveries", || async {
        sink.received().len() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = sink.received();
    assert_eq!(received.len(), 3, "nine followers share three inboxes");
    let mut paths: Vec<&str> = received.iter().map(|r| r.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/shared/0", "/shared/1", "/shared/2"]);

    let alice = a.account("alice").await;
    let key = openssl::pkey::PKey::public_key_from_pem(alice.public_key_pem.as_bytes()).unwrap();
    for request in &received {
        assert_eq!(request.activity_id(), activity_id);
        assert_eq!(request.headers["content-type"], "application/activity+json");
        verify_body_digest(&request.headers, &request.body).expect("digest matches");
        let signature = parse_signature_at(
            &http::Method::POST,
            &request.path,
            &request.headers,
            &RequestTarget {
                scheme: "http",
                authority: None,
                bound_to: None,
            },
        )
        .expect("signature parses");
        assert_eq!(signature.key_id, format!("{}#main-key", alice.actor_url));
        assert_eq!(
            signature.components,
            ["(request-target)", "host", "date", "digest", "content-type"]
        );
        signature.verify(&key).expect("signature verifies");
    }
    assert_eq!(job_statuses(&a), ["done", "done", "done"]);
    let stats = estuary::delivery::stats(&a.state.store).await.unwrap();
    assert_eq!((stats.pending, stats.failed, stats.dead), (0, 0, 0));
}

#[tokio::test]
async fn a_busy_inbox_is_retried_after_its_retry_after() {
    let sink = Sink::start(0).await;
    sink.set(Behaviour {
        status: 503,
        retry_after: Some("120".into()),
        delay: Duration::ZERO,
    });
    let a = with_followers(&sink, 1).await;
    publish_public(&a, "later please").await;
    wait_until(10, "a failed attempt", || async {
        job_statuses(&a) == ["retrying"]
    })
    .await;
    let attempts =
        a.db.texts("SELECT CAST(attempts AS TEXT) AS v FROM jobs WHERE kind = 'deliver'");
    assert_eq!(attempts, [Some("1".to_owned())]);
    // The next attempt is scheduled no sooner than the peer asked.
    let time = |column: &str| {
        let text = a.db.texts(&format!(
            "SELECT CAST({column} AS TEXT) AS v FROM jobs WHERE kind = 'deliver'"
        ));
        chrono::NaiveDateTime::parse_from_str(text[0].as_deref().unwrap(), "%Y-%m-%d %H:%M:%S%.f")
            .unwrap()
    };
    let wait = time("run_at") - time("updated_at");
    assert!(
        wait >= chrono::Duration::seconds(119),
        "next attempt in {wait}"
    );
    let stats = estuary::delivery::stats(&a.state.store).await.unwrap();
    assert_eq!(stats.failed, 1);
    let metrics = a.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains("estuary_deliveries_total{outcome=\"retry\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn client_errors_and_gone_recipients_are_final() {
    for status in [404u16, 410, 400] {
        let sink = Sink::start(0).await;
        sink.set(Behaviour {
            status,
            retry_after: None,
            delay: Duration::ZERO,
        });
        let a = with_followers(&sink, 1).await;
        publish_public(&a, "nobody home").await;
        wait_until(10, "the job to be given up", || async {
            job_statuses(&a) == ["dead"]
        })
        .await;
        assert_eq!(sink.received().len(), 1, "{status}: tried once, not again");
        let stats = estuary::delivery::stats(&a.state.store).await.unwrap();
        assert_eq!(stats.dead, 1);
    }
}

#[tokio::test]
async fn nothing_is_delivered_to_a_follower_who_blocks_the_author() {
    let sink = Sink::start(0).await;
    let a = with_followers(&sink, 2).await;
    let alice = a.account("alice").await;
    let blocker = estuary::domain::accounts::find_by_actor_url(&a.state.store, &sink.actor_url(1))
        .await
        .unwrap()
        .unwrap();
    a.db.execute(&format!(
        "INSERT INTO blocks (ap_id, blocker_id, blocked_id, created_at) VALUES ('{}#block', {}, {}, CURRENT_TIMESTAMP)",
        blocker.actor_url, blocker.id, alice.id
    ));
    publish_public(&a, "not for blockers").await;
    wait_until(10, "one delivery", || async { sink.received().len() == 1 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received = sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "/inbox/0");
}
