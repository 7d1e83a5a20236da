//! Actor documents and profile pages by content negotiation.

mod common;

use common::{TestServer, assert_schema};
use estuary::domain::accounts::{NewLocalAccount, create_room};
use serde_json::Value;

const AS_PROFILE: &str = r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#;

#[tokio::test]
async fn a_user_is_a_person_for_both_activitypub_media_types() {
    let server = TestServer::start().await;
    let alice = server.add_user("alice").await;

    for (accept, content_type) in [
        ("application/activity+json", "application/activity+json"),
        (AS_PROFILE, AS_PROFILE),
    ] {
        let response = server.get("/users/alice", Some(accept)).await;
        assert_eq!(response.status(), 200, "{accept}");
        assert_eq!(response.headers()["content-type"], content_type);
        assert_eq!(response.headers()["vary"], "Accept");
        let actor: Value = response.json().await.unwrap();
        assert_schema("actor.schema.json", &actor);
        assert_eq!(actor["id"], alice.actor_url);
        assert_eq!(actor["type"], "Person");
        assert_eq!(actor["preferredUsername"], "alice");
        assert_eq!(actor["name"], "alice display");
        assert_eq!(actor["summary"], "<p>About alice</p>");
        assert_eq!(actor["inbox"], server.url("/users/alice/inbox"));
        assert_eq!(actor["outbox"], server.url("/users/alice/outbox"));
        assert_eq!(actor["followers"], server.url("/users/alice/followers"));
        assert_eq!(actor["following"], server.url("/users/alice/following"));
        assert_eq!(actor["endpoints"]["sharedInbox"], server.url("/inbox"));
        assert_eq!(actor["url"], server.url("/@alice"));
        assert_eq!(actor["manuallyApprovesFollowers"], false);
        assert_eq!(actor["discoverable"], true);
        assert_eq!(
            actor["publicKey"]["id"],
            format!("{}#main-key", alice.actor_url)
        );
        assert_eq!(actor["publicKey"]["owner"], alice.actor_url);
        assert_eq!(actor["publicKey"]["publicKeyPem"], alice.public_key_pem);
    }
}

#[tokio::test]
async fn the_private_key_is_stored_and_never_served() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let stored = server
        .db
        .texts("SELECT private_key_pem AS v FROM accounts WHERE username = 'alice'");
    let private_pem = stored[0].clone().expect("private key stored");
    let key = openssl::pkey::PKey::private_key_from_pem(private_pem.as_bytes()).unwrap();
    assert_eq!(key.bits(), 2048);

    let mut bodies = String::new();
    for (path, accept) in [
        ("/users/alice", "application/activity+json"),
        ("/users/alice", "text/html"),
        ("/@alice", "text/html"),
    ] {
        bodies += &server.get(path, Some(accept)).await.text().await.unwrap();
    }
    assert!(!bodies.contains("PRIVATE KEY"));
    let private_body: String = private_pem.lines().nth(1).unwrap().to_owned();
    assert!(!bodies.contains(&private_body));
}

#[tokio::test]
async fn a_room_is_a_group() {
    let server = TestServer::start().await;
    server.add_user("owner").await;
    let room = create_room(
        &server.state.store,
        &server.state.urls,
        NewLocalAccount {
            name: "Garden".into(),
            display_name: Some("The Garden".into()),
            owner: Some("owner".into()),
            members_only: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(room.username, "garden");
    let actor: Value = server
        .get("/rooms/garden", Some("application/activity+json"))
        .await
        .json()
        .await
        .unwrap();
    assert_schema("actor.schema.json", &actor);
    assert_eq!(actor["type"], "Group");
    assert_eq!(actor["name"], "The Garden");
    assert_eq!(actor["manuallyApprovesFollowers"], true);
    assert_eq!(actor["inbox"], server.url("/rooms/garden/inbox"));

    // A room is not a user and a user is not a room.
    assert_eq!(
        server
            .get("/users/garden", Some("application/activity+json"))
            .await
            .status(),
        404
    );
    assert_eq!(
        server
            .get("/rooms/owner", Some("application/activity+json"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_browser_gets_an_h_card_profile() {
    let server = TestServer::start().await;
    let alice = server.add_user("alice").await;
    for path in ["/users/alice", "/@alice"] {
        let response = server
            .get(path, Some("text/html,application/xhtml+xml,*/*;q=0.8"))
            .await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let html = response.text().await.unwrap();
        assert!(html.contains(r#"class="h-card"#), "{html}");
        assert!(html.contains(&format!(
            r#"<a class="u-url u-uid p-name" href="{}">alice display</a>"#,
            server.url("/@alice")
        )));
        assert!(html.contains(r#"<div class="p-note note">"#));
        assert!(html.contains("<p>About alice</p>"));
        assert!(html.contains(&format!(
            r#"<link rel="alternate" type="application/activity+json" href="{}">"#,
            alice.actor_url
        )));
        assert!(!html.contains("u-photo"), "no photo is set");
    }
    // No Accept at all (curl) gets the page as well.
    let response = server.get("/@alice", None).await;
    assert!(response.text().await.unwrap().contains("h-card"));
}

#[tokio::test]
async fn html_in_names_and_summaries_is_escaped_on_the_page() {
    let server = TestServer::start().await;
    estuary::domain::accounts::create_user(
        &server.state.store,
        &server.state.urls,
        NewLocalAccount {
            name: "mallory".into(),
            display_name: Some("<script>alert(1)</script>".into()),
            summary: Some("<img src=x onerror=alert(1)>".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let html = server.get("/@mallory", None).await.text().await.unwrap();
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<img src=x"));
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{html}"
    );
}

#[tokio::test]
async fn unknown_accounts_are_404_in_both_representations() {
    let server = TestServer::start().await;
    for path in [
        "/users/ghost",
        "/rooms/ghost",
        "/@ghost",
        "/ghost",
        "/users/bad-name!",
    ] {
        for accept in ["application/activity+json", "text/html"] {
            let response = server.get(path, Some(accept)).await;
            assert_eq!(response.status(), 404, "{path} {accept}");
        }
    }
}

#[tokio::test]
async fn an_unsupported_accept_is_406() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let response = server.get("/users/alice", Some("image/png")).await;
    assert_eq!(response.status(), 406);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("application/activity+json")
    );
}
