//! The IndieWeb side end to end: a site replies to alice's note by
//! Webmention, bob (on another instance, following alice) receives it from
//! the site's proxy actor, bob's reply goes back to the site as a
//! Webmention, and the site's deletion reaches bob as a tombstone.

mod common;

use common::site::Site;
use common::{TestDb, TestServer, wait_until};
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, follow, publish_note};
use serde_json::Value;

async fn send_webmention(server: &TestServer, source: &str, target: &str) -> reqwest::Response {
    server
        .client
        .post(server.url("/webmention"))
        .form(&[("source", source), ("target", target)])
        .send()
        .await
        .unwrap()
}

async fn status_of(server: &TestServer, location: &str) -> Value {
    server
        .client
        .get(location)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn wait_for_status(server: &TestServer, location: &str, wanted: &str) -> Value {
    wait_until(15, &format!("the mention to be {wanted}"), || async {
        status_of(server, location).await["status"] == wanted
    })
    .await;
    status_of(server, location).await
}

async fn alice_public_note(a: &TestServer) -> String {
    let alice = a.account("alice").await;
    publish_note(
        a.fed(),
        &alice,
        Draft {
            content_html: "<p>Rivers meet here.</p>".into(),
            to: vec![PUBLIC.into()],
            cc: vec![alice.followers_url.clone().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .object_id
}

#[tokio::test]
async fn a_site_and_the_fediverse_reply_to_each_other() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    let bob = b.account("bob").await;
    follow(b.fed(), &bob, &a.url("/users/alice")).await.unwrap();
    wait_until(10, "bob to follow alice", || async {
        estuary::domain::follows::following(&b.state.store, bob.id)
            .await
            .unwrap()
            .len()
            == 1
    })
    .await;
    let note = alice_public_note(&a).await;
    // bob's inbox: alice's Accept, then her note.
    wait_until(10, "alice's note at bob's", || async {
        b.inbox("bob").await.len() == 2
    })
    .await;

    // The site replies and sends a Webmention.
    let site = Site::start().await;
    site.set_post(&site.reply_html(
        &note,
        "<p>Nice post, <b>Alice</b>!<script>alert(1)</script></p>",
    ));
    let response = send_webmention(&a, &site.post_url(), &note).await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let verified = wait_for_status(&a, &location, "verified").await;
    let proxy_note = verified["object"].as_str().unwrap().to_owned();

    // The proxy actor stands for the site.
    let proxy: Value = a
        .get(
            &format!("/sites/{}", site.domain()),
            Some("application/activity+json"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(proxy["type"], "Person");
    assert_eq!(proxy["name"], "Sam Site");
    assert_eq!(proxy["url"], format!("{}/", site.base));
    assert_eq!(proxy["icon"]["url"], format!("{}/me.jpg", site.base));
    // Fediverse accounts find it as DOMAIN@HOST.
    let jrd: Value = a
        .client
        .get(a.url("/.well-known/webfinger"))
        .query(&[("resource", format!("acct:{}@{}", site.domain(), a.host()))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jrd["links"][0]["href"], proxy["id"]);

    // bob receives a Create from the proxy carrying the reply.
    wait_until(10, "the site's reply at bob's", || async {
        b.inbox("bob").await.len() == 3
    })
    .await;
    let create = b.inbox("bob").await[0].clone();
    assert_eq!(create["type"], "Create");
    assert_eq!(create["actor"], proxy["id"]);
    let object = &create["object"];
    assert_eq!(object["id"], proxy_note);
    assert_eq!(object["inReplyTo"], note);
    assert_eq!(object["url"], site.post_url());
    let content = object["content"].as_str().unwrap();
    assert!(content.contains("Nice post, <b>Alice</b>!"), "{content}");
    assert!(!content.contains("script"), "sanitised: {content}");

    // bob replies to the site's post, publicly.
    publish_note(
        b.fed(),
        &bob,
        Draft {
            content_html: "<p>Welcome, Sam!</p>".into(),
            to: vec![PUBLIC.into()],
            cc: vec![proxy["id"].as_str().unwrap().to_owned()],
            in_reply_to: Some(proxy_note.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    // The site receives a Webmention from A's mirror of bob's reply.
    wait_until(15, "a Webmention at the site", || async {
        !site.received().is_empty()
    })
    .await;
    let (source, target) = site.received()[0].clone();
    assert_eq!(target, site.post_url());
    let html = reqwest::get(&source).await.unwrap().text().await.unwrap();
    let parsed = estuary::indieweb::mf2::parse(&html, &url::Url::parse(&source).unwrap());
    let entries = estuary::indieweb::mf2::find_items(&parsed, "h-entry");
    let entry = entries.first().expect("the source is an h-entry");
    assert_eq!(
        entry.first_url("in-reply-to").as_deref(),
        Some(site.post_url().as_str())
    );
    let author = &entry.items("author")[0];
    assert_eq!(author.first_text("name").as_deref(), Some("bob display"));
    assert_eq!(
        author.first_url("url").as_deref(),
        Some(b.url("/@bob").as_str())
    );
    assert!(html.contains("Welcome, Sam!"));

    // bob likes the site's post: the site receives a Webmention whose
    // source is a like of its post.
    estuary::federation::client::submit(
        b.fed(),
        &bob,
        serde_json::json!({ "type": "Like", "object": proxy_note }),
    )
    .await
    .unwrap();
    wait_until(15, "a like at the site", || async {
        site.received().len() >= 2
    })
    .await;
    let (like_source, like_target) = site.received()[1].clone();
    assert_eq!(like_target, site.post_url());
    let html = reqwest::get(&like_source)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let parsed = estuary::indieweb::mf2::parse(&html, &url::Url::parse(&like_source).unwrap());
    let like = estuary::indieweb::mf2::find_items(&parsed, "h-entry")[0].clone();
    assert_eq!(
        like.first_url("like-of").as_deref(),
        Some(site.post_url().as_str())
    );
    assert_eq!(
        like.items("author")[0].first_text("name").as_deref(),
        Some("bob display")
    );

    // The site deletes its post and says so again: bob's copy is a tombstone.
    site.delete_post();
    assert_eq!(
        send_webmention(&a, &site.post_url(), &note).await.status(),
        202
    );
    wait_for_status(&a, &location, "deleted").await;
    wait_until(10, "the tombstone at bob's", || async {
        estuary::domain::posts::find_post(&b.state.store, &proxy_note)
            .await
            .unwrap()
            .is_some_and(|p| p.deleted_at.is_some())
    })
    .await;
    let gone = a
        .client
        .get(&proxy_note)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 410);
}

#[tokio::test]
async fn resending_updates_once_and_never_duplicates() {
    let a = TestServer::start().await;
    a.add_user("alice").await;
    let note = alice_public_note(&a).await;
    let site = Site::start().await;
    site.set_post(&site.reply_html(&note, "<p>First words</p>"));
    let location = send_webmention(&a, &site.post_url(), &note).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let first = wait_for_status(&a, &location, "verified").await;
    let objects = a.db.count("objects");

    // The same Webmention again: still one object.
    assert_eq!(
        send_webmention(&a, &site.post_url(), &note).await.status(),
        202
    );
    let again = wait_for_status(&a, &location, "verified").await;
    assert_eq!(again["object"], first["object"]);
    assert_eq!(a.db.count("objects"), objects);

    // Changed content: an Update of the same object.
    site.set_post(&site.reply_html(&note, "<p>Second thoughts</p>"));
    assert_eq!(
        send_webmention(&a, &site.post_url(), &note).await.status(),
        202
    );
    wait_until(15, "the update", || async {
        estuary::domain::posts::find_post(&a.state.store, first["object"].as_str().unwrap())
            .await
            .unwrap()
            .is_some_and(|p| p.content.as_deref() == Some("<p>Second thoughts</p>"))
    })
    .await;
    assert_eq!(a.db.count("objects"), objects);
    assert_eq!(a.db.count("activities WHERE kind = 'Update'"), 1);

    // The page of the converted post is an h-entry with the site's URL.
    let html = a
        .get(
            &first["object"].as_str().unwrap().replace(&a.base_url, ""),
            Some("text/html"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Second thoughts"));
}

#[tokio::test]
async fn bad_webmentions_are_refused_or_rejected() {
    let a = TestServer::start().await;
    a.add_user("alice").await;
    let note = alice_public_note(&a).await;
    let before = a.db.count("webmentions");

    for (source, target, needle) in [
        (note.clone(), note.clone(), "the same"),
        (
            "ftp://site.example/post".to_owned(),
            note.clone(),
            "http(s)",
        ),
        (
            "https://site.example/post".to_owned(),
            "https://elsewhere.example/post".to_owned(),
            "not a page of this instance",
        ),
        (
            "https://site.example/post".to_owned(),
            a.url("/objects/nonexistent"),
            "not a page of this instance",
        ),
    ] {
        let response = send_webmention(&a, &source, &target).await;
        assert_eq!(response.status(), 400, "{source} → {target}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains(needle), "{body}");
    }
    let missing = a
        .client
        .post(a.url("/webmention"))
        .form(&[("source", "https://x.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(a.db.count("webmentions"), before);

    // Accepted, then rejected by verification: an unreachable source, and
    // a source without the link.
    let unreachable = send_webmention(&a, "http://127.0.0.1:9/post", &note).await;
    let location = unreachable.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let status = wait_for_status(&a, &location, "rejected").await;
    assert!(
        status["reason"]
            .as_str()
            .unwrap()
            .contains("cannot be fetched"),
        "{status}"
    );

    let site = Site::start().await;
    site.set_post("<html><body><p class=\"h-entry\"><span class=\"e-content\">no link here</span></p></body></html>");
    let location = send_webmention(&a, &site.post_url(), &note).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let status = wait_for_status(&a, &location, "rejected").await;
    assert!(
        status["reason"].as_str().unwrap().contains("does not link"),
        "{status}"
    );

    // A source larger than the limit is cut off and rejected.
    let huge = format!(
        "{}<a href=\"{note}\">x</a>",
        "<p>padding</p>".repeat(5 * 1024 * 1024 / 14)
    );
    site.set_post(&huge);
    let location = send_webmention(&a, &site.post_url(), &note).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let status = wait_for_status(&a, &location, "rejected").await;
    assert!(
        status["reason"].as_str().unwrap().contains("larger than"),
        "{status}"
    );
    assert_eq!(a.db.count("objects WHERE local AND url IS NOT NULL"), 0);
}

#[tokio::test]
async fn a_source_on_a_private_address_is_not_fetched_with_the_safety_on() {
    let a = TestServer::start_with(TestDb::new(), |config| {
        config.allow_private_addresses = false
    })
    .await;
    a.add_user("alice").await;
    let note = alice_public_note(&a).await;
    let site = Site::start().await;
    site.set_post(&site.reply_html(&note, "<p>hi</p>"));
    let location = send_webmention(&a, &site.post_url(), &note).await.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let status = wait_for_status(&a, &location, "rejected").await;
    assert!(
        status["reason"]
            .as_str()
            .unwrap()
            .contains("private address"),
        "{status}"
    );
}

#[tokio::test]
async fn a_flood_from_one_site_is_rate_limited() {
    let a = TestServer::start_with(TestDb::new(), |config| {
        config.webmention_rate_per_minute = 3
    })
    .await;
    a.add_user("alice").await;
    let note = alice_public_note(&a).await;
    for n in 0..3 {
        let response = send_webmention(&a, &format!("https://flood.example/{n}"), &note).await;
        assert_eq!(response.status(), 202);
    }
    let refused = send_webmention(&a, "https://flood.example/4", &note).await;
    assert_eq!(refused.status(), 429);
    let other = send_webmention(&a, "https://calm.example/1", &note).await;
    assert_eq!(other.status(), 202, "other sites are not affected");
}

#[tokio::test]
async fn pages_are_microformats_and_advertise_the_endpoint() {
    let a = TestServer::start().await;
    a.add_user("alice").await;
    let note = alice_public_note(&a).await;
    let path = note.replace(&a.base_url, "");
    let response = a.get(&path, Some("text/html")).await;
    assert_eq!(response.status(), 200);
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert_eq!(
        link,
        format!("<{}>; rel=\"webmention\"", a.url("/webmention"))
    );
    let html = response.text().await.unwrap();
    assert!(html.contains(&format!(
        r#"<link rel="webmention" href="{}">"#,
        a.url("/webmention")
    )));
    let parsed = estuary::indieweb::mf2::parse(&html, &url::Url::parse(&note).unwrap());
    let entry = estuary::indieweb::mf2::find_items(&parsed, "h-entry")[0].clone();
    assert_eq!(entry.first_url("url").as_deref(), Some(note.as_str()));
    assert_eq!(entry.first_url("uid").as_deref(), Some(note.as_str()));
    assert_eq!(
        entry.first_html("content").unwrap().0,
        "<p>Rivers meet here.</p>"
    );
    assert!(entry.first_text("published").unwrap().starts_with("20"));
    let author = &entry.items("author")[0];
    assert_eq!(author.first_text("name").as_deref(), Some("alice display"));
    assert_eq!(
        author.first_url("url").as_deref(),
        Some(a.url("/@alice").as_str())
    );

    // The outbox as an h-feed, and the Atom feed it links to.
    let feed_html = a
        .get("/users/alice/outbox", Some("text/html"))
        .await
        .text()
        .await
        .unwrap();
    let parsed = estuary::indieweb::mf2::parse(
        &feed_html,
        &url::Url::parse(&a.url("/users/alice/outbox")).unwrap(),
    );
    let feeds = estuary::indieweb::mf2::find_items(&parsed, "h-feed");
    assert_eq!(feeds.len(), 1);
    assert_eq!(feeds[0].children.len(), 1, "one h-entry");
    assert!(
        parsed
            .rel("alternate")
            .contains(&a.url("/users/alice/feed.atom"))
    );
    let atom = a.get("/users/alice/feed.atom", None).await;
    assert!(
        atom.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let atom = atom.text().await.unwrap();
    assert!(atom.contains(&format!("<id>{note}</id>")));
    assert!(atom.contains("&lt;p&gt;Rivers meet here.&lt;/p&gt;"));

    // A private post has no page.
    let alice = a.account("alice").await;
    let private = publish_note(
        a.fed(),
        &alice,
        Draft {
            content_html: "<p>secret</p>".into(),
            to: vec![alice.followers_url.clone().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let response = a
        .get(
            &private.object_id.replace(&a.base_url, ""),
            Some("text/html"),
        )
        .await;
    assert_eq!(response.status(), 404);
    assert!(
        !a.get("/users/alice/feed.atom", None)
            .await
            .text()
            .await
            .unwrap()
            .contains("secret")
    );
}
