//! WebFinger, host-meta and NodeInfo over real HTTP, validated against the
//! JSON Schemas in `schema/`.

mod common;

use common::{TestServer, assert_schema};
use serde_json::Value;

async fn webfinger(server: &TestServer, resource: &str) -> reqwest::Response {
    server
        .client
        .get(server.url("/.well-known/webfinger"))
        .query(&[("resource", resource)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn webfinger_finds_a_user_by_handle_and_by_actor_url() {
    let server = TestServer::start().await;
    let alice = server.add_user("alice").await;

    let response = webfinger(&server, &format!("acct:alice@{}", server.host())).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/jrd+json");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let jrd: Value = response.json().await.unwrap();
    assert_schema("webfinger.schema.json", &jrd);
    assert_eq!(jrd["subject"], format!("acct:alice@{}", server.host()));
    assert_eq!(
        jrd["aliases"],
        serde_json::json!([alice.actor_url, server.url("/@alice")])
    );
    let links = jrd["links"].as_array().unwrap();
    let self_link = links.iter().find(|l| l["rel"] == "self").unwrap();
    assert_eq!(self_link["type"], "application/activity+json");
    assert_eq!(self_link["href"], alice.actor_url);
    let profile = links
        .iter()
        .find(|l| l["rel"] == "http://webfinger.net/rel/profile-page")
        .unwrap();
    assert_eq!(profile["type"], "text/html");
    assert_eq!(profile["href"], server.url("/@alice"));

    // The actor URL, the profile URL and a differently-cased handle work too.
    for resource in [
        alice.actor_url.clone(),
        server.url("/@alice"),
        format!("acct:ALICE@{}", server.host()),
    ] {
        let response = webfinger(&server, &resource).await;
        assert_eq!(response.status(), 200, "{resource}");
        let jrd: Value = response.json().await.unwrap();
        assert_eq!(jrd["subject"], format!("acct:alice@{}", server.host()));
    }
}

#[tokio::test]
async fn webfinger_finds_rooms() {
    let server = TestServer::start().await;
    let room = estuary::domain::accounts::create_room(
        &server.state.store,
        &server.state.urls,
        estuary::domain::accounts::NewLocalAccount {
            name: "garden".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let jrd: Value = webfinger(&server, &format!("acct:garden@{}", server.host()))
        .await
        .json()
        .await
        .unwrap();
    assert_schema("webfinger.schema.json", &jrd);
    assert_eq!(jrd["links"][0]["href"], room.actor_url);
    assert!(room.actor_url.ends_with("/rooms/garden"));
}

#[tokio::test]
async fn webfinger_refuses_unknown_malformed_and_foreign_resources() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    let host = server.host();

    for (resource, status) in [
        (format!("acct:nobody@{host}"), 404),
        (server.url("/users/nobody"), 404),
        // A Person is not found under the rooms prefix.
        (server.url("/rooms/alice"), 404),
        ("acct:alice@elsewhere.example".to_owned(), 400),
        ("https://elsewhere.example/users/alice".to_owned(), 400),
        ("acct:alice".to_owned(), 400),
        ("mailto:alice".to_owned(), 400),
        ("acct:@".to_owned(), 400),
        ("".to_owned(), 400),
    ] {
        let response = webfinger(&server, &resource).await;
        assert_eq!(response.status(), status, "{resource:?}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string(), "{resource:?}: {body}");
    }

    let missing = server.get("/.well-known/webfinger", None).await;
    assert_eq!(missing.status(), 400);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"], "the resource parameter is missing");
}

#[tokio::test]
async fn host_meta_points_at_webfinger() {
    let server = TestServer::start().await;
    let response = server.get("/.well-known/host-meta", None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xrd+xml")
    );
    let body = response.text().await.unwrap();
    assert!(body.contains(r#"xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0""#));
    let expected = format!(
        r#"<Link rel="lrdd" type="application/jrd+json" template="{}/.well-known/webfinger?resource={{uri}}"/>"#,
        server.base_url
    );
    assert!(body.contains(&expected), "{body}");
}

#[tokio::test]
async fn nodeinfo_describes_the_instance_with_live_counts() {
    let server = TestServer::start().await;
    let discovery: Value = server
        .get("/.well-known/nodeinfo", None)
        .await
        .json()
        .await
        .unwrap();
    assert_schema("nodeinfo-discovery.schema.json", &discovery);
    let href = discovery["links"][0]["href"].as_str().unwrap();
    assert_eq!(href, server.url("/nodeinfo/2.1"));
    assert_eq!(
        discovery["links"][0]["rel"],
        "http://nodeinfo.diaspora.software/ns/schema/2.1"
    );

    let fetch = || async {
        let response = server.client.get(href).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .contains("nodeinfo.diaspora.software/ns/schema/2.1")
        );
        response.json::<Value>().await.unwrap()
    };
    let before = fetch().await;
    assert_schema("nodeinfo-2.1.schema.json", &before);
    assert_eq!(before["software"]["name"], "estuary");
    assert_eq!(before["software"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(before["protocols"], serde_json::json!(["activitypub"]));
    assert_eq!(before["openRegistrations"], false);
    assert_eq!(before["usage"]["users"]["total"], 0);

    server.add_user("alice").await;
    server.add_user("bob").await;
    let after = fetch().await;
    assert_eq!(after["usage"]["users"]["total"], 2);
}
