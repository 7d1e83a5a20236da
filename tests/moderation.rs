//! Moderation over real HTTP: domain blocks (nothing in, nothing out,
//! follows ended), silence (follows kept, public pages cleared), suspended
//! remote accounts, and Flags from other servers stored as reports. The
//! rules are set with the command line, as an operator would, against the
//! running instance's database.

mod common;

use std::process::Output;
use std::time::Duration;

use common::cli::{assert_refused, estuary_at, json_stdout};
use common::sink::Sink;
use common::{TestServer, post_with, signed_post_headers, signer_of, wait_until};
use estuary::domain::audience::PUBLIC;
use estuary::domain::moderation::POLICY_TTL;
use estuary::federation::fetch::FetchError;
use estuary::federation::outbox::{Draft, follow, publish_note};
use estuary::metrics::INBOX_REQUESTS;
use serde_json::{Value, json};

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

/// Lets a running server see a rule the command line just wrote.
async fn rules_reach_the_server() {
    tokio::time::sleep(POLICY_TTL + Duration::from_millis(300)).await;
}

fn follow_count(server: &TestServer) -> i64 {
    server.db.count("follows")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_domain_gets_no_delivery_fetch_or_webmention_and_follows_end() {
    let sink = Sink::start(0).await;
    let a = TestServer::start().await;
    let alice = a.add_user("alice").await;
    for n in 0..2 {
        estuary::federation::resolve::actor(a.fed(), &sink.actor_url(n))
            .await
            .unwrap();
    }
    // sink 0 follows alice, alice follows sink 1.
    a.add_follower("alice", &sink.actor_url(0)).await;
    let one = a.fed().store.clone();
    let sink_one = estuary::domain::accounts::find_by_actor_url(&one, &sink.actor_url(1))
        .await
        .unwrap()
        .unwrap();
    a.db.execute(&format!(
        "INSERT INTO follows (follower_id, followee_id, follow_ap_id, accepted, created_at) \
         VALUES ({}, {}, 'x#f', TRUE, CURRENT_TIMESTAMP)",
        alice.id, sink_one.id
    ));
    assert_eq!(follow_count(&a), 2);
    let seen_before = sink.requests().len();

    let out = json_stdout(&cli(&a, &["domain", "block", &sink.host()]).await);
    assert_eq!(out["domain"], sink.host());
    assert_eq!(out["severity"], "block");
    assert_eq!(out["follows_removed"], 2, "follows end both ways");
    assert_eq!(follow_count(&a), 0);
    rules_reach_the_server().await;

    // A post addressed to an account there: the delivery is given up.
    publish_note(
        a.fed(),
        &alice,
        Draft {
            content_html: "<p>to the blocked server</p>".into(),
            to: vec![sink.actor_url(1)],
            cc: vec![PUBLIC.into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    wait_until(15, "the delivery to be given up", || async {
        a.db.count("jobs WHERE kind = 'deliver' AND status = 'dead'") == 1
    })
    .await;
    let error =
        a.db.texts("SELECT last_error AS v FROM jobs WHERE kind = 'deliver'");
    assert!(
        error[0]
            .as_deref()
            .unwrap_or_default()
            .contains("blocked domain"),
        "{error:?}"
    );
    // A fetch, a page (Webmention discovery) and a form POST (sending).
    let fresh = estuary::federation::resolve::actor(a.fed(), &sink.actor_url(7)).await;
    assert!(fresh.is_err(), "no actor fetched from a blocked domain");
    let page = url::Url::parse(&format!("{}/post", sink.base)).unwrap();
    assert!(matches!(
        a.fed().fetcher.get_page(&page, 1024, 3).await,
        Err(FetchError::Blocked(_))
    ));
    assert!(matches!(
        a.fed()
            .fetcher
            .post_form(&page, &[("source", "x"), ("target", "y")])
            .await,
        Err(FetchError::Blocked(_))
    ));
    assert_eq!(
        sink.requests().len(),
        seen_before,
        "no request reached the blocked server: {:?}",
        sink.requests()
    );
    assert!(sink.received().is_empty());

    let listed = json_stdout(&cli(&a, &["domain", "list"]).await);
    assert_eq!(listed["domains"].as_array().unwrap().len(), 1);
    let out = json_stdout(&cli(&a, &["domain", "unblock", &sink.host()]).await);
    assert_eq!(out["unblocked"], sink.host());
    rules_reach_the_server().await;
    estuary::federation::resolve::actor(a.fed(), &sink.actor_url(7))
        .await
        .expect("fetches work again once unblocked");
    assert!(sink.requests().len() > seen_before);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_domain_is_refused_at_the_inbox_with_403_before_any_fetch() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    let alice_url = a.url("/users/alice");
    json_stdout(&cli(&a, &["domain", "block", &b.host()]).await);
    rules_reach_the_server().await;

    let follow_doc = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": b.url("/activities/follow-1"),
        "type": "Follow",
        "actor": b.url("/users/bob"),
        "object": alice_url,
    });
    let body = follow_doc.to_string().into_bytes();
    let inbox = a.url("/users/alice/inbox");
    let signer = signer_of(&b, "bob").await;
    let headers = signed_post_headers(&inbox, &body, &signer, chrono::Utc::now());
    let response = post_with(&inbox, headers, body.clone()).await;
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("your domain"));
    assert_eq!(a.fed().metrics.get(INBOX_REQUESTS, "blocked_domain"), 1);
    // Refused before verification: bob's key was never fetched, nothing stored.
    assert_eq!(
        a.db.count(&format!(
            "accounts WHERE actor_url = '{}'",
            b.url("/users/bob")
        )),
        0
    );
    assert_eq!(a.db.count("activities"), 0);
    // The shared inbox refuses too.
    let shared = a.url("/inbox");
    let headers = signed_post_headers(&shared, &body, &signer, chrono::Utc::now());
    assert_eq!(post_with(&shared, headers, body).await.status(), 403);

    // Once unblocked, the same follow goes through.
    json_stdout(&cli(&a, &["domain", "unblock", &b.host()]).await);
    rules_reach_the_server().await;
    let bob = b.account("bob").await;
    follow(b.fed(), &bob, &alice_url).await.unwrap();
    wait_until(15, "bob to follow alice", || async {
        follow_count(&a) == 1
    })
    .await;
    a.stop().await;
    b.stop().await;
}

/// A room on `a` with bob from `b` as a member who posted to it.
async fn room_with_a_remote_post(a: &TestServer, b: &TestServer, text: &str) -> String {
    a.add_user("owner").await;
    estuary::domain::accounts::create_room(
        &a.state.store,
        &a.state.urls,
        estuary::domain::accounts::NewLocalAccount {
            name: "garden".into(),
            owner: Some("owner".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let room_url = a.url("/rooms/garden");
    b.add_user("bob").await;
    let bob = b.account("bob").await;
    follow(b.fed(), &bob, &room_url).await.unwrap();
    wait_until(15, "bob to join", || async { follow_count(a) == 1 }).await;
    publish_note(
        b.fed(),
        &bob,
        Draft {
            content_html: format!("<p>{text}</p>"),
            to: vec![room_url.clone()],
            cc: vec![PUBLIC.into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    wait_until(15, "the room to relay bob's post", || async {
        room_page(a).await.contains(text)
    })
    .await;
    room_url
}

async fn room_page(a: &TestServer) -> String {
    a.get("/rooms/garden/outbox", Some("text/html"))
        .await
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn silence_keeps_follows_and_delivery_but_clears_public_pages() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    room_with_a_remote_post(&a, &b, "Bob was here").await;

    let out = json_stdout(&cli(&a, &["domain", "block", &b.host(), "--silence"]).await);
    assert_eq!(out["severity"], "silence");
    assert_eq!(out["follows_removed"], 0);
    assert_eq!(follow_count(&a), 1, "silence keeps follows");
    rules_reach_the_server().await;
    assert!(!room_page(&a).await.contains("Bob was here"));

    // bob may still post: accepted, relayed, kept off the public page.
    let bob = b.account("bob").await;
    publish_note(
        b.fed(),
        &bob,
        Draft {
            content_html: "<p>Still talking</p>".into(),
            to: vec![a.url("/rooms/garden")],
            cc: vec![PUBLIC.into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    wait_until(15, "the room to relay the second post", || async {
        a.db.count("activities WHERE kind = 'Announce'") == 2
    })
    .await;
    assert_eq!(a.fed().metrics.get(INBOX_REQUESTS, "blocked_domain"), 0);
    assert!(!room_page(&a).await.contains("Still talking"));

    json_stdout(&cli(&a, &["domain", "unblock", &b.host()]).await);
    rules_reach_the_server().await;
    let page = room_page(&a).await;
    assert!(page.contains("Bob was here") && page.contains("Still talking"));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_suspended_remote_account_is_refused_and_its_posts_hidden() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    room_with_a_remote_post(&a, &b, "Bob was here").await;
    b.add_user("carol").await;

    let handle = format!("bob@{}", b.host());
    let out = json_stdout(&cli(&a, &["account", "suspend", &handle]).await);
    assert_eq!(out["id"], b.url("/users/bob"));
    assert_eq!(out["local"], false);
    assert_eq!(out["status"], "suspended");
    assert!(!room_page(&a).await.contains("Bob was here"));

    let post_as = |who: &'static str, n: u32| {
        let (a_inbox, b_ref) = (a.url("/inbox"), &b);
        async move {
            let doc = json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": b_ref.url(&format!("/activities/like-{who}-{n}")),
                "type": "Like",
                "actor": b_ref.url(&format!("/users/{who}")),
                "object": "https://elsewhere.example/post",
            });
            let body = doc.to_string().into_bytes();
            let signer = signer_of(b_ref, who).await;
            let headers = signed_post_headers(&a_inbox, &body, &signer, chrono::Utc::now());
            post_with(&a_inbox, headers, body).await
        }
    };
    // The server keeps the suspended remote accounts in memory: a change by
    // another process reaches it within the cache's bound.
    tokio::time::sleep(common::CACHE_BOUND).await;
    let refused = post_as("bob", 1).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("this account"));
    assert_eq!(a.fed().metrics.get(INBOX_REQUESTS, "suspended_account"), 1);
    assert_eq!(
        post_as("carol", 1).await.status(),
        202,
        "others on that server are fine"
    );

    assert_refused(
        &cli(&a, &["account", "suspend", "nobody@nowhere.example"]).await,
        "not an account known here",
    );
    json_stdout(&cli(&a, &["account", "unsuspend", &b.url("/users/bob")]).await);
    tokio::time::sleep(common::CACHE_BOUND).await;
    assert_eq!(post_as("bob", 2).await.status(), 202);
    assert!(room_page(&a).await.contains("Bob was here"));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn flags_from_other_servers_become_reports_the_operator_resolves() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    let flag = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": b.url("/activities/flag-1"),
        "type": "Flag",
        "actor": b.url("/actor"),
        "object": [a.url("/users/alice"), a.url("/objects/1")],
        "content": "Spam, again",
    });
    let inbox = a.url("/inbox");
    let signer = b.fed().signer_for(&b.fed().instance_actor).await.unwrap();
    let send = |doc: Value| {
        let (inbox, signer) = (inbox.clone(), signer.clone());
        async move {
            let body = doc.to_string().into_bytes();
            let headers = signed_post_headers(&inbox, &body, &signer, chrono::Utc::now());
            post_with(&inbox, headers, body).await.status()
        }
    };
    assert_eq!(send(flag.clone()).await, 202);
    assert_eq!(send(flag.clone()).await, 202, "a replay is accepted once");
    let mut empty = flag.clone();
    empty["id"] = json!(b.url("/activities/flag-2"));
    empty.as_object_mut().unwrap().remove("object");
    assert_eq!(send(empty).await, 400, "a Flag must say what it reports");

    let listed = json_stdout(&cli(&a, &["reports", "list"]).await);
    let reports = listed["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["reporter"], b.url("/actor"));
    assert_eq!(reports[0]["comment"], "Spam, again");
    assert_eq!(
        reports[0]["targets"],
        json!([a.url("/users/alice"), a.url("/objects/1")])
    );
    let id = reports[0]["id"].as_i64().unwrap().to_string();
    let resolved = json_stdout(&cli(&a, &["reports", "resolve", &id]).await);
    assert!(resolved["resolved_at"].is_string());
    assert_eq!(
        json_stdout(&cli(&a, &["reports", "list"]).await)["reports"],
        json!([])
    );
    let all = json_stdout(&cli(&a, &["reports", "list", "--all"]).await);
    assert_eq!(all["reports"].as_array().unwrap().len(), 1);
    assert_refused(
        &cli(&a, &["reports", "resolve", &id]).await,
        "no open report",
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_media_drops_the_avatars_of_that_domain() {
    let sink = Sink::start(0).await;
    let a = TestServer::start().await;
    estuary::federation::resolve::actor(a.fed(), &sink.actor_url(0))
        .await
        .unwrap();
    a.db.execute(&format!(
        "UPDATE accounts SET avatar_url = '{}/avatar.png' WHERE actor_url = '{}'",
        sink.base,
        sink.actor_url(0)
    ));
    let avatar = || {
        a.db.texts(&format!(
            "SELECT avatar_url AS v FROM accounts WHERE actor_url = '{}'",
            sink.actor_url(0)
        ))
    };
    assert!(avatar()[0].is_some());
    let out = json_stdout(
        &cli(
            &a,
            &[
                "domain",
                "block",
                &sink.host(),
                "--silence",
                "--reject-media",
            ],
        )
        .await,
    );
    assert_eq!(out["reject_media"], true);
    assert_eq!(avatar(), [None]);
    assert_eq!(follow_count(&a), 0);
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_domains_are_refused_and_change_nothing() {
    let a = TestServer::start().await;
    for bad in [
        "",
        "not a domain",
        "alice@bad.example",
        "https://bad.example/path",
        "nodot",
    ] {
        assert_refused(&cli(&a, &["domain", "block", bad]).await, "is not a domain");
    }
    assert_refused(
        &cli(&a, &["domain", "unblock", "never.example"]).await,
        "is not blocked",
    );
    assert_eq!(a.db.count("domain_blocks"), 0);
    let out = json_stdout(
        &cli(
            &a,
            &["domain", "block", "HTTPS://Bad.Example/", "--reject-media"],
        )
        .await,
    );
    assert_eq!(out["domain"], "bad.example");
    assert_eq!(out["reject_media"], true);
    // Blocking again replaces the rule.
    json_stdout(&cli(&a, &["domain", "block", "bad.example", "--silence"]).await);
    let listed = json_stdout(&cli(&a, &["domain", "list"]).await);
    assert_eq!(listed["domains"][0]["severity"], "silence");
    assert_eq!(listed["domains"][0]["reject_media"], false);
    assert_eq!(a.db.count("domain_blocks"), 1);
    a.stop().await;
}
