//! Rooms: a Group shared by fediverse accounts and IndieWeb sites. The
//! story of the issue, then each refusal.

mod common;

use common::site::Site;
use common::{TestServer, wait_until};
use estuary::domain::accounts::{NewLocalAccount, create_room};
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, follow, publish_note};
use serde_json::Value;

async fn room(
    server: &TestServer,
    name: &str,
    members_only: bool,
) -> estuary::domain::accounts::Account {
    server.add_user("owner").await;
    create_room(
        &server.state.store,
        &server.state.urls,
        NewLocalAccount {
            name: name.into(),
            display_name: Some("The Garden".into()),
            summary: Some("Where rivers meet".into()),
            owner: Some("owner".into()),
            members_only,
        },
    )
    .await
    .unwrap()
}

async fn join(b: &TestServer, who: &str, room_url: &str) {
    common::follow_and_wait(b, who, room_url).await;
}

async fn subscribe(
    a: &TestServer,
    topic: &str,
    callback: &str,
    lease: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![
        ("hub.mode", "subscribe".to_owned()),
        ("hub.topic", topic.to_owned()),
        ("hub.callback", callback.to_owned()),
        ("hub.secret", "s3cret".to_owned()),
    ];
    if let Some(lease) = lease {
        form.push(("hub.lease_seconds", lease.to_owned()));
    }
    a.client
        .post(a.url("/websub"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    estuary::rooms::websub::hub_signature(secret, body).unwrap()
}

async fn webmention(a: &TestServer, source: &str, target: &str) -> String {
    let response = a
        .client
        .post(a.url("/webmention"))
        .form(&[("source", source), ("target", target)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    response.headers()["location"].to_str().unwrap().to_owned()
}

fn announces_by(server: &TestServer, actor: &str) -> i64 {
    server.db.count(&format!(
        "activities WHERE kind = 'Announce' AND actor_id = (SELECT id FROM accounts WHERE actor_url = '{actor}')"
    ))
}

#[tokio::test]
async fn fediverse_members_and_a_site_share_a_room() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let r = room(&a, "garden", false).await;
    b.add_user("bob").await;
    b.add_user("carol").await;
    join(&b, "bob", &r.actor_url).await;

    // The site replies to the room and sends a Webmention: it joins.
    let site = Site::start().await;
    site.set_post(&site.room_post_html(&r.actor_url, "<p>Hello garden, from Sam's site.</p>"));
    let location = webmention(&a, &site.post_url(), &r.actor_url).await;
    wait_until(15, "the site's post to be verified", || async {
        let status: Value = a
            .client
            .get(&location)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        status["status"] == "verified"
    })
    .await;
    let status: Value = a
        .client
        .get(&location)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let site_note = status["object"].as_str().unwrap().to_owned();

    // The site subscribes to the room's feed through the hub.
    let topic = format!("{}/feed.atom", r.actor_url);
    assert_eq!(
        subscribe(&a, &topic, &site.callback_url(), Some("86400"))
            .await
            .status(),
        202
    );
    wait_until(10, "the subscription to be verified", || async {
        a.db.count("websub_subscriptions") == 1
    })
    .await;

    // The site's post reaches bob as an Announce from the room.
    wait_until(15, "the room's Announce at bob's", || async {
        b.inbox("bob")
            .await
            .iter()
            .any(|a| a["type"] == "Announce" && a["object"]["object"]["id"] == site_note)
    })
    .await;
    let announce = b
        .inbox("bob")
        .await
        .into_iter()
        .find(|a| a["type"] == "Announce")
        .unwrap();
    assert_eq!(announce["actor"], r.actor_url);
    assert_eq!(announce["audience"], r.actor_url);
    assert_eq!(announce["object"]["type"], "Create");
    assert!(
        announce["object"]["object"]["content"]
            .as_str()
            .unwrap()
            .contains("Hello garden")
    );

    // bob posts to the room: the site's callback receives the feed, signed.
    let bob = b.account("bob").await;
    publish_note(
        b.fed(),
        &bob,
        Draft {
            content_html: "<p>Bob says hi to the garden.</p>".into(),
            to: vec![r.actor_url.clone()],
            cc: vec![PUBLIC.into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    wait_until(15, "a WebSub push with bob's post", || async {
        site.pushes()
            .iter()
            .any(|(_, body)| String::from_utf8_lossy(body).contains("Bob says hi"))
    })
    .await;
    let (signature, body) = site
        .pushes()
        .into_iter()
        .find(|(_, body)| String::from_utf8_lossy(body).contains("Bob says hi"))
        .unwrap();
    assert_eq!(
        signature.as_deref(),
        Some(hmac_hex("s3cret", &body).as_str()),
        "the HMAC verifies"
    );
    assert!(
        String::from_utf8_lossy(&body).contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">")
    );

    // bob replies to the site's post: the site receives a Webmention.
    publish_note(
        b.fed(),
        &bob,
        Draft {
            content_html: "<p>Welcome to the garden, Sam.</p>".into(),
            to: vec![r.actor_url.clone()],
            cc: vec![PUBLIC.into()],
            in_reply_to: Some(site_note.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    wait_until(15, "a Webmention at the site", || async {
        site.received()
            .iter()
            .any(|(_, target)| target == &site.post_url())
    })
    .await;

    // The room's page is an h-feed of the conversation, with its hub.
    let page = a
        .get("/rooms/garden/outbox", Some("text/html"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Hello garden") && page.contains("Bob says hi"));
    assert!(
        page.find("Hello garden") < page.find("Bob says hi"),
        "newest last"
    );
    assert!(page.contains(&format!(r#"<link rel="hub" href="{}">"#, a.url("/websub"))));
    assert!(
        page.contains("2 members") || page.contains("members"),
        "member count shown"
    );

    // A non-member's post is refused and not relayed. First every relay
    // so far is done: the site's post, bob's post and bob's reply.
    wait_until(15, "three relays", || async {
        announces_by(&a, &r.actor_url) == 3
    })
    .await;
    let relayed = announces_by(&a, &r.actor_url);
    let carol = b.account("carol").await;
    publish_note(
        b.fed(),
        &carol,
        Draft {
            content_html: "<p>Carol sneaks in.</p>".into(),
            to: vec![r.actor_url.clone()],
            cc: vec![PUBLIC.into()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    wait_until(15, "carol's delivery to be refused", || async {
        b.db.count("jobs WHERE kind = 'deliver' AND status = 'dead'") >= 1
    })
    .await;
    let last_error =
        b.db.texts("SELECT last_error AS v FROM jobs WHERE kind = 'deliver' AND status = 'dead'");
    assert!(
        last_error[0].as_deref().unwrap().contains("403"),
        "{last_error:?}"
    );
    assert_eq!(announces_by(&a, &r.actor_url), relayed);
    assert_eq!(a.db.count("objects WHERE content LIKE '%Carol sneaks%'"), 0);
    assert!(
        !b.inbox("bob")
            .await
            .iter()
            .any(|a| a.to_string().contains("Carol sneaks"))
    );
}

#[tokio::test]
async fn banned_members_are_refused() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let r = room(&a, "garden", false).await;
    b.add_user("bob").await;
    join(&b, "bob", &r.actor_url).await;
    let bob_here =
        estuary::domain::accounts::find_by_actor_url(&a.state.store, &b.url("/users/bob"))
            .await
            .unwrap()
            .unwrap();
    estuary::rooms::membership::ban(a.fed(), &r, &bob_here)
        .await
        .unwrap();
    let relayed = announces_by(&a, &r.actor_url);
    // B learnt of the ban (a Block from the room) and no longer delivers;
    // a post sent anyway is refused by the room.
    let n = common::random_suffix();
    let activity = serde_json::json!({
        "id": b.url(&format!("/activities/{n}")),
        "type": "Create",
        "actor": b.url("/users/bob"),
        "to": [r.actor_url],
        "object": {
            "id": b.url(&format!("/objects/{n}")),
            "type": "Note",
            "attributedTo": b.url("/users/bob"),
            "content": "<p>Still here?</p>",
            "to": [r.actor_url],
        }
    });
    let body = serde_json::to_vec(&activity).unwrap();
    let inbox = a.url("/rooms/garden/inbox");
    let signer = common::signer_of(&b, "bob").await;
    let headers = common::signed_post_headers(&inbox, &body, &signer, chrono::Utc::now());
    let response = common::post_with(&inbox, headers, body).await;
    assert_eq!(response.status(), 403);
    assert_eq!(announces_by(&a, &r.actor_url), relayed);
    assert_eq!(a.db.count("objects WHERE content LIKE '%Still here%'"), 0);
    wait_until(10, "B to record the room's Block", || async {
        b.db.count("blocks") == 1
    })
    .await;
}

#[tokio::test]
async fn websub_refusals() {
    let a = TestServer::start().await;
    let open = room(&a, "garden", false).await;
    let topic = format!("{}/feed.atom", open.actor_url);
    let site = Site::start().await;

    // Leases of zero or a year.
    for lease in ["0", "31536000", "soon"] {
        let response = subscribe(&a, &topic, &site.callback_url(), Some(lease)).await;
        assert_eq!(response.status(), 400, "lease {lease}");
    }
    // An unknown topic.
    let response = subscribe(
        &a,
        &a.url("/rooms/nowhere/feed.atom"),
        &site.callback_url(),
        None,
    )
    .await;
    assert_eq!(response.status(), 404);

    // A callback that does not echo the challenge is not subscribed.
    site.stop_echoing();
    assert_eq!(
        subscribe(&a, &topic, &site.callback_url(), None)
            .await
            .status(),
        202
    );
    wait_until(10, "the verification to run", || async {
        a.db.count("jobs WHERE kind = 'websub_verify' AND status = 'done'") == 1
    })
    .await;
    assert_eq!(a.db.count("websub_subscriptions"), 0);

    // A members-only room: only member sites may subscribe; its feeds are
    // not public.
    let closed = create_room(
        &a.state.store,
        &a.state.urls,
        NewLocalAccount {
            name: "cellar".into(),
            members_only: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let closed_topic = format!("{}/feed.atom", closed.actor_url);
    let response = subscribe(&a, &closed_topic, &site.callback_url(), None).await;
    assert_eq!(response.status(), 403);
    assert_eq!(a.get("/rooms/cellar/feed.atom", None).await.status(), 404);
    assert_eq!(
        a.get("/rooms/cellar/outbox", Some("text/html"))
            .await
            .status(),
        404
    );
    assert_eq!(a.get("/rooms/garden/feed.atom", None).await.status(), 200);
}

#[tokio::test]
async fn a_members_only_room_holds_requests_for_its_owner() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let r = room(&a, "cellar", true).await;
    b.add_user("bob").await;
    let bob = b.account("bob").await;
    follow(b.fed(), &bob, &r.actor_url).await.unwrap();
    wait_until(10, "the request to arrive", || async {
        a.db.count("follows WHERE accepted = FALSE") == 1
    })
    .await;
    let bob_here =
        estuary::domain::accounts::find_by_actor_url(&a.state.store, &b.url("/users/bob"))
            .await
            .unwrap()
            .unwrap();
    assert!(
        !estuary::rooms::membership::is_member(&a.state.store, r.id, bob_here.id)
            .await
            .unwrap()
    );
    estuary::rooms::membership::approve(a.fed(), &r, &bob_here)
        .await
        .unwrap();
    wait_until(10, "bob to be a member on both sides", || async {
        estuary::domain::follows::following(&b.state.store, bob.id)
            .await
            .unwrap()
            .len()
            == 1
    })
    .await;
    assert!(
        estuary::rooms::membership::is_member(&a.state.store, r.id, bob_here.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn likes_are_relayed_and_a_site_leaves_by_deleting_its_post() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let r = room(&a, "garden", false).await;
    b.add_user("bob").await;
    join(&b, "bob", &r.actor_url).await;

    let site = Site::start().await;
    site.set_post(&site.room_post_html(&r.actor_url, "<p>Joining the garden.</p>"));
    let location = webmention(&a, &site.post_url(), &r.actor_url).await;
    wait_until(15, "the site to join", || async {
        let status: Value = a
            .client
            .get(&location)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        status["status"] == "verified"
    })
    .await;
    let members = || async {
        estuary::rooms::membership::member_count(&a.state.store, r.id)
            .await
            .unwrap()
    };
    assert_eq!(members().await, 2, "bob and the site");
    let status: Value = a
        .client
        .get(&location)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let site_note = status["object"].as_str().unwrap().to_owned();
    wait_until(10, "the site's post relayed", || async {
        announces_by(&a, &r.actor_url) == 1
    })
    .await;

    // bob's Like addressed to the room is relayed too.
    let n = common::random_suffix();
    let like = serde_json::json!({
        "id": b.url(&format!("/activities/{n}")),
        "type": "Like",
        "actor": b.url("/users/bob"),
        "object": site_note,
        "to": [r.actor_url],
        "audience": r.actor_url,
    });
    let body = serde_json::to_vec(&like).unwrap();
    let inbox = a.url("/rooms/garden/inbox");
    let signer = common::signer_of(&b, "bob").await;
    let headers = common::signed_post_headers(&inbox, &body, &signer, chrono::Utc::now());
    assert_eq!(common::post_with(&inbox, headers, body).await.status(), 202);
    wait_until(10, "the Like relayed", || async {
        announces_by(&a, &r.actor_url) == 2
    })
    .await;

    // The site deletes its post and says so: it leaves the room.
    site.delete_post();
    webmention(&a, &site.post_url(), &r.actor_url).await;
    wait_until(15, "the site to leave", || async { members().await == 1 }).await;
}
