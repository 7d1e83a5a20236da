//! The pages a person lands on: the home page, activity URLs in a browser,
//! a room's page (its actor's `url`) with its hub, itself and how to join,
//! and profiles with an avatar, counts and latest posts.

mod common;

use common::{TestServer, wait_until};
use estuary::domain::accounts::{NewLocalAccount, create_room};
use estuary::domain::audience::PUBLIC;
use estuary::federation::outbox::{Draft, publish_note};
use estuary::indieweb::mf2;
use serde_json::Value;
use url::Url;

async fn html(server: &TestServer, path: &str) -> String {
    let response = server.get(path, Some("text/html")).await;
    assert_eq!(response.status(), 200, "GET {path}");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    response.text().await.unwrap()
}

async fn post(server: &TestServer, name: &str, text: &str) -> (String, String) {
    let author = server.account(name).await;
    let published = publish_note(
        server.fed(),
        &author,
        Draft {
            content_html: format!("<p>{text}</p>"),
            to: vec![PUBLIC.into()],
            cc: vec![author.followers_url.clone().unwrap()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (published.activity_id, published.object_id)
}

async fn room(server: &TestServer, name: &str, members_only: bool) {
    create_room(
        &server.state.store,
        &server.state.urls,
        NewLocalAccount {
            name: name.into(),
            display_name: Some(format!("The {name}")),
            summary: Some("Where rivers meet".into()),
            members_only,
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn the_home_page_names_the_instance_its_people_and_rooms_and_how_to_take_part() {
    let server = TestServer::start_with(common::TestDb::new(), |config| {
        config.instance_name = "River Commons".into();
        config.instance_description = "Where the rivers of the web meet.".into();
        config.contact = Some("admin@river.example".into());
    })
    .await;
    server.add_user("alice").await;
    server.add_user("mallory").await;
    room(&server, "garden", false).await;
    room(&server, "cellar", true).await;
    let mallory = server.account("mallory").await;
    estuary::domain::admin::set_suspended(&server.state.store, &mallory, true)
        .await
        .unwrap();

    let page = html(&server, "/").await;
    assert!(page.contains("<title>River Commons</title>"), "{page}");
    assert!(page.contains("Where the rivers of the web meet."));
    assert!(page.contains("href=\"mailto:admin@river.example\""));
    let host = server.host();
    assert!(page.contains(&format!("@alice@{host}")));
    assert!(page.contains("alice display"));
    assert!(
        !page.contains("mallory"),
        "suspended accounts are not listed"
    );
    assert!(page.contains(&format!("@garden@{host}")));
    assert!(page.contains(&format!("@cellar@{host} · members only")));
    assert!(page.contains("From Mastodon or another fediverse app"));
    assert!(page.contains(&format!(
        "send a Webmention to <code>{}</code>",
        server.url("/webmention")
    )));
    assert!(page.contains(&server.url("/static/avatar.svg")));
    // Any Accept gets the page; a JSON client is not sent an error.
    assert_eq!(server.get("/", None).await.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn a_browser_asking_for_an_activity_is_sent_to_its_object() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let (activity_id, object_id) = post(&server, "alice", "Rivers meet here").await;
    let path = activity_id.strip_prefix(&server.base_url).unwrap();
    let browser = server
        .get(path, Some("text/html,application/xhtml+xml"))
        .await;
    assert_eq!(browser.status(), 303);
    assert_eq!(browser.headers()["location"], object_id.as_str());
    let object_path = object_id.strip_prefix(&server.base_url).unwrap();
    assert!(
        html(&server, object_path)
            .await
            .contains("Rivers meet here")
    );
    // A client asking for ActivityStreams still gets the activity.
    let json: Value = server
        .get(path, Some("application/activity+json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["type"], "Create");
    // An activity nobody may see is not found, for browsers too.
    let missing = server.get("/activities/unknown", Some("text/html")).await;
    assert_eq!(missing.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn a_rooms_url_is_its_conversation_with_hub_self_and_how_to_join() {
    let server = TestServer::start().await;
    room(&server, "garden", false).await;
    let actor: Value = server
        .get("/rooms/garden", Some("application/activity+json"))
        .await
        .json()
        .await
        .unwrap();
    let page_url = actor["url"].as_str().unwrap().to_owned();
    assert_eq!(page_url, server.url("/@garden"));
    let path = page_url.strip_prefix(&server.base_url).unwrap();
    let page = html(&server, path).await;

    let parsed = mf2::parse(&page, &Url::parse(&page_url).unwrap());
    assert_eq!(mf2::find_items(&parsed, "h-feed").len(), 1, "an h-feed");
    assert_eq!(parsed.rels["hub"], [server.url("/websub")]);
    assert_eq!(parsed.rels["self"], std::slice::from_ref(&page_url));
    assert_eq!(parsed.rels["webmention"], [server.url("/webmention")]);
    assert!(page.contains("Join this room"));
    assert!(page.contains(&format!("@garden@{}", server.host())));
    assert!(
        page.contains(&format!(
            "&lt;a class=&quot;u-in-reply-to&quot; href=&quot;{}&quot;&gt;",
            actor["id"].as_str().unwrap()
        )) || page.contains(&format!("href=\"{}\"&gt;", actor["id"].as_str().unwrap())),
        "the reply markup to copy: {page}"
    );
    assert!(page.contains("Send a Webmention"));
    // The same page answers at the actor's id for a browser.
    assert!(
        html(&server, "/rooms/garden")
            .await
            .contains("Join this room")
    );

    // A site that has only the room's address subscribes to rel=self.
    let response = server
        .client
        .post(server.url("/websub"))
        .form(&[
            ("hub.mode", "subscribe"),
            ("hub.topic", page_url.as_str()),
            ("hub.callback", "http://127.0.0.1:9/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_ne!(response.status(), 404);
    let text = response.text().await.unwrap();
    assert!(!text.contains("not a feed of this hub"), "{text}");

    // A members-only room shows its card and how to ask to join.
    room(&server, "cellar", true).await;
    let cellar = html(&server, "/@cellar").await;
    assert!(cellar.contains("Join this room"));
    assert!(cellar.contains("approves each request"));
    server.stop().await;
}

#[tokio::test]
async fn profiles_show_an_avatar_counts_and_the_latest_posts() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    for n in 1..=6 {
        post(&server, "alice", &format!("River note {n}")).await;
    }
    let page = html(&server, "/@alice").await;
    let parsed = mf2::parse(&page, &Url::parse(&server.url("/@alice")).unwrap());
    assert_eq!(parsed.items.len(), 1, "one h-card and nothing else: {page}");
    let card = &parsed.items[0];
    assert_eq!(card.types, ["h-card"]);
    // The default picture is shown, but not claimed as alice's photo.
    assert!(!card.properties.contains_key("photo"), "{card:?}");
    assert!(page.contains(&format!(
        "<img class=\"avatar\" src=\"{}\"",
        server.url("/static/avatar.svg")
    )));
    assert!(page.contains("<strong>6</strong> posts"));
    assert!(page.contains("<strong>0</strong> followers"));
    assert!(page.contains("River note 6") && page.contains("River note 2"));
    assert!(!page.contains("River note 1<"), "five latest only");
    wait_until(5, "the default avatar", || async {
        server.get("/static/avatar.svg", None).await.status() == 200
    })
    .await;
    server.stop().await;
}
