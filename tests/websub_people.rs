//! Sites follow people (issue 12): a person's h-feed page and Atom feed
//! name the WebSub hub and themselves, a site subscribes to the feed through
//! the hub, and each new public post is pushed to it; followers-only and
//! direct posts never are.

mod common;

use common::site::Site;
use common::{TestServer, wait_until};
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, publish_note};

async fn subscribe(server: &TestServer, topic: &str, callback: &str) -> reqwest::Response {
    server
        .client
        .post(server.url("/websub"))
        .form(&[
            ("hub.mode", "subscribe"),
            ("hub.topic", topic),
            ("hub.callback", callback),
        ])
        .send()
        .await
        .unwrap()
}

async fn post(server: &TestServer, text: &str, to: Vec<String>) {
    let alice = server.account("alice").await;
    publish_note(
        server.fed(),
        &alice,
        Draft {
            content_html: format!("<p>{text}</p>"),
            to,
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

fn pushed(site: &Site) -> Vec<String> {
    site.pushes()
        .into_iter()
        .map(|(_, body)| String::from_utf8(body).unwrap())
        .collect()
}

#[tokio::test]
async fn a_site_subscribes_to_a_person_and_gets_only_public_posts_pushed() {
    let a = TestServer::start().await;
    a.add_user("alice").await;
    a.add_user("bob").await;
    let hub = a.url("/websub");
    let topic = a.url("/users/alice/feed.atom");

    // The h-feed page and the Atom feed name the hub and themselves.
    let page = a.get("/users/alice/outbox", Some("text/html")).await;
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!(r#"<link rel="hub" href="{hub}">"#)),
        "{html}"
    );
    assert!(html.contains(&format!(
        r#"<link rel="self" href="{}">"#,
        a.url("/users/alice/outbox")
    )));
    let atom = a
        .get("/users/alice/feed.atom", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        atom.contains(&format!(r#"href="{hub}""#)) && atom.contains(r#"rel="hub""#),
        "{atom}"
    );
    assert!(atom.contains(&format!(r#"href="{topic}""#)), "{atom}");

    // Unknown people have no feed here.
    let site = Site::start().await;
    assert_eq!(
        subscribe(&a, &a.url("/users/nobody/feed.atom"), &site.callback_url())
            .await
            .status(),
        404
    );
    assert_eq!(
        subscribe(&a, &topic, &site.callback_url()).await.status(),
        202
    );
    wait_until(10, "the subscription to be verified", || async {
        a.db.count("websub_subscriptions") == 1
    })
    .await;

    let alice = a.account("alice").await;
    post(
        &a,
        "Only my followers.",
        vec![alice.followers_url.clone().unwrap()],
    )
    .await;
    post(&a, "Only Bob.", vec![a.url("/users/bob")]).await;
    post(&a, "The river is high today.", vec![PUBLIC.into()]).await;
    wait_until(15, "the push", || async {
        pushed(&site)
            .iter()
            .any(|b| b.contains("The river is high today."))
    })
    .await;
    a.fed().wake.notify_one();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let bodies = pushed(&site);
    assert_eq!(bodies.len(), 1, "one push, for the public post");
    assert!(!bodies[0].contains("Only my followers") && !bodies[0].contains("Only Bob"));
    assert!(bodies[0].contains("<feed"));
}
