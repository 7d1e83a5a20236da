//! The Mastodon client API over real HTTP: discovery and CORS, apps and
//! sign-in (redirect URIs, PKCE for public clients only, scopes, bodies in
//! every form, code reuse, revocation), accounts, statuses, timelines,
//! notifications and conversations between two instances, and every bad
//! input the API refuses. Every entity is checked against `schema/`.

mod common;

use common::masto::{
    OOB, add_user_with_password, assert_entities, authorization_code, get, get_until, post,
    register_app, sign_in,
};
use common::{TestServer, wait_until};
use serde_json::{Value, json};

const ALL: &str = "read write follow push";

#[tokio::test]
async fn discovery_instance_nodeinfo_cors_and_avatar() {
    let server = TestServer::start().await;
    server.add_user("alice").await;
    for path in ["/api/v1/instance", "/api/v2/instance"] {
        let (status, body) = get(&server, None, path).await;
        assert_eq!(status, 200, "{path}");
        let version = body["version"].as_str().unwrap();
        assert!(
            version.starts_with("4.3.0 (compatible; Estuary "),
            "{version}"
        );
        assert_eq!(
            body["configuration"]["statuses"]["max_characters"], 5000,
            "{path}"
        );
        assert!(body.get("streaming_api").is_none());
    }
    let (_, v1) = get(&server, None, "/api/v1/instance").await;
    assert_entities("instance-v1", &v1);
    assert_eq!(v1["uri"], server.host());
    assert_eq!(v1["registrations"], false);
    assert_eq!(v1["stats"]["user_count"], 1);
    assert_eq!(v1["urls"], json!({}), "no streaming URL is advertised");
    // The first local person is the contact.
    assert_eq!(v1["contact_account"]["username"], "alice");
    assert_entities("account", &v1["contact_account"]);
    let (_, v2) = get(&server, None, "/api/v2/instance").await;
    assert_entities("instance-v2", &v2);
    assert_eq!(v2["domain"], server.host());
    assert_eq!(v2["registrations"]["enabled"], false);
    assert_eq!(v2["contact"]["account"]["acct"], "alice");
    let (_, nodeinfo) = get(&server, None, "/nodeinfo/2.1").await;
    assert_eq!(nodeinfo["metadata"]["nodeName"], "Estuary");
    assert_eq!(nodeinfo["metadata"]["mastodonApiVersion"], "4.3.0");

    // A browser client's preflight, on the API and on OAuth.
    for path in ["/api/v1/statuses", "/oauth/token", "/api/v1/apps"] {
        let response = server
            .client
            .request(reqwest::Method::OPTIONS, server.url(path))
            .header("Origin", "https://elk.example")
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type,idempotency-key",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert_eq!(headers["access-control-allow-origin"], "*");
        let allowed = headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            allowed.contains("authorization") && allowed.contains("idempotency-key"),
            "{allowed}"
        );
        assert!(
            headers["access-control-allow-methods"]
                .to_str()
                .unwrap()
                .contains("DELETE")
        );
    }
    let response = server
        .client
        .get(server.url("/api/v1/timelines/public"))
        .header("Origin", "https://elk.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert!(
        response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("link")
    );

    let avatar = server.get("/static/avatar.png", None).await;
    assert_eq!(avatar.status(), 200);
    assert_eq!(avatar.headers()["content-type"], "image/png");
    assert!(avatar.bytes().await.unwrap().starts_with(b"\x89PNG"));
    server.stop().await;
}

#[tokio::test]
async fn apps_register_by_form_json_and_query_with_the_redirects_apps_use() {
    let server = TestServer::start().await;
    let good = [
        OOB,
        "oauth2redirect://com.keylesspalace.tusky/",
        "com.tapbots.Ivory.123:/request_token",
        "https://elk.example/oauth/callback",
        "http://127.0.0.1:4567/callback",
        "http://localhost/cb",
    ];
    for uri in good {
        let form = server
            .client
            .post(server.url("/api/v1/apps"))
            .form(&[("client_name", "App"), ("redirect_uris", uri)])
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), 200, "{uri}");
        let app: Value = form.json().await.unwrap();
        assert_eq!(app["redirect_uri"], uri);
        assert_eq!(app["redirect_uris"], json!([uri]));
        for field in ["id", "client_id", "client_secret", "vapid_key"] {
            assert!(app[field].is_string(), "{field}: {app}");
        }
    }
    let (status, app) = post(
        &server,
        "",
        "/api/v1/apps",
        json!({ "client_name": "Json", "redirect_uris": [OOB, "https://a.example/cb"], "scopes": "read write:statuses" }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app["redirect_uris"], json!([OOB, "https://a.example/cb"]));
    assert_eq!(app["scopes"], json!(["read", "write:statuses"]));
    let query = server
        .client
        .post(server.url("/api/v1/apps"))
        .query(&[("client_name", "Query"), ("redirect_uris", OOB)])
        .send()
        .await
        .unwrap();
    assert_eq!(query.status(), 200);

    // Refused before anything is stored.
    let before = server.db.count("oauth_clients");
    for uri in [
        "javascript:alert(1)",
        "data:text/html,hi",
        "file:///etc/passwd",
        "http://app.example/cb",
        "https://app.example/cb#fragment",
        "not a uri",
    ] {
        let response = server
            .client
            .post(server.url("/api/v1/apps"))
            .form(&[("client_name", "Bad"), ("redirect_uris", uri)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{uri}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].is_string(), "{body}");
    }
    for bad in [
        json!({ "redirect_uris": OOB }),
        json!({ "client_name": "x" }),
        json!({ "client_name": "x", "redirect_uris": OOB, "scopes": "read admin:write" }),
    ] {
        let (status, body) = post(&server, "", "/api/v1/apps", bad.clone()).await;
        assert_eq!(status, 422, "{bad}");
        assert!(body["error"].is_string());
    }
    assert_eq!(server.db.count("oauth_clients"), before);
    server.stop().await;
}

#[tokio::test]
async fn sign_in_out_of_band_token_bodies_scopes_reuse_and_revocation() {
    let server = TestServer::start().await;
    add_user_with_password(&server, "alice").await;
    let (client_id, secret) = register_app(&server, ALL).await;

    // Multipart body, client credentials by HTTP Basic, no PKCE (a
    // confidential client): the token lists every scope granted.
    let code = authorization_code(&server, &client_id, "alice", ALL).await;
    let part = |name: &str, value: &str| {
        format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    };
    let body = format!(
        "{}{}{}--XyZ--\r\n",
        part("grant_type", "authorization_code"),
        part("code", &code),
        part("redirect_uri", OOB)
    );
    let response = server
        .client
        .post(server.url("/oauth/token"))
        .basic_auth(&client_id, Some(&secret))
        .header("Content-Type", "multipart/form-data; boundary=XyZ")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token: Value = response.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["scope"], "follow push read write");
    assert!(token["created_at"].is_i64());
    let access = token["access_token"].as_str().unwrap().to_owned();
    let (status, me) = get(
        &server,
        Some(&access),
        "/api/v1/accounts/verify_credentials",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["acct"], "alice");
    assert_eq!(me["source"]["privacy"], "public");
    assert_entities("account", &me);

    // The same code again: refused, and the token it gave is revoked.
    let again = server
        .client
        .post(server.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", OOB),
            ("client_id", client_id.as_str()),
            ("client_secret", secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    let (status, body) = get(
        &server,
        Some(&access),
        "/api/v1/accounts/verify_credentials",
    )
    .await;
    assert_eq!(status, 401);
    assert!(body["error"].is_string());

    // A wrong secret is refused.
    let code = authorization_code(&server, &client_id, "alice", "read").await;
    let (status, body) = post(
        &server,
        "",
        "/oauth/token",
        json!({ "grant_type": "authorization_code", "code": code, "client_id": client_id,
                "client_secret": "wrong", "redirect_uri": OOB }),
    )
    .await;
    assert_eq!(status, 401, "{body}");

    // A read-only token reads and cannot post (403); granular scopes work.
    let read = sign_in(&server, "alice", "read").await;
    let (status, _) = get(&server, Some(&read), "/api/v1/timelines/home").await;
    assert_eq!(status, 200);
    let (status, body) = post(
        &server,
        &read,
        "/api/v1/statuses",
        json!({ "status": "hi" }),
    )
    .await;
    assert_eq!(status, 403);
    assert!(body["error"].is_string());
    assert_eq!(server.db.count("objects"), 0);
    let granular = sign_in(&server, "alice", "read:accounts write:statuses").await;
    let (status, _) = post(
        &server,
        &granular,
        "/api/v1/statuses",
        json!({ "status": "hi" }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = get(&server, Some(&granular), "/api/v1/timelines/home").await;
    assert_eq!(status, 403, "read:statuses was not granted");
    let (status, _) = get(
        &server,
        Some(&granular),
        "/api/v1/accounts/verify_credentials",
    )
    .await;
    assert_eq!(status, 200);

    // Revocation, in a JSON body.
    let (status, _) = post(
        &server,
        "",
        "/oauth/revoke",
        json!({ "token": read, "client_id": client_id, "client_secret": secret }),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = get(&server, Some(&read), "/api/v1/timelines/home").await;
    assert_eq!(status, 401);

    // Tokens the operator issues work here too.
    let operator = estuary::domain::tokens::issue_token(&server.state.store, "alice")
        .await
        .unwrap();
    let (status, me) = get(
        &server,
        Some(&operator),
        "/api/v1/accounts/verify_credentials",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "alice");

    // No token, or a wrong one: 401.
    let (status, _) = get(&server, None, "/api/v1/timelines/home").await;
    assert_eq!(status, 401);
    let (status, _) = get(&server, Some("est_nope"), "/api/v1/notifications").await;
    assert_eq!(status, 401);
    server.stop().await;
}

#[tokio::test]
async fn a_public_client_still_needs_pkce() {
    let server = TestServer::start().await;
    add_user_with_password(&server, "alice").await;
    let response = server
        .client
        .post(server.url("/oauth/register"))
        .json(&json!({ "client_name": "Public", "redirect_uris": ["https://app.example/cb"] }))
        .send()
        .await
        .unwrap();
    let client: Value = response.json().await.unwrap();
    let response = server
        .client
        .get(server.url("/oauth/authorize/"))
        .query(&[
            ("response_type", "code"),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("redirect_uri", "https://app.example/cb"),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection());
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=invalid_request")
    );
    server.stop().await;
}

/// alice on A; bob and carol on B; each signed in with an app.
struct Two {
    a: TestServer,
    b: TestServer,
    alice: String,
    bob: String,
    carol: String,
}

async fn two_instances() -> Two {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    add_user_with_password(&a, "alice").await;
    add_user_with_password(&b, "bob").await;
    add_user_with_password(&b, "carol").await;
    let alice = sign_in(&a, "alice", ALL).await;
    let bob = sign_in(&b, "bob", ALL).await;
    let carol = sign_in(&b, "carol", ALL).await;
    Two {
        a,
        b,
        alice,
        bob,
        carol,
    }
}

#[tokio::test]
async fn a_direct_message_is_a_conversation_both_ways_and_nowhere_else() {
    let t = two_instances().await;
    let bob_handle = format!("@bob@{}", t.b.host());
    let (status, sent) = post(
        &t.a,
        &t.alice,
        "/api/v1/statuses",
        json!({ "status": format!("{bob_handle} the river is high #floods"), "visibility": "direct" }),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    assert_entities("status", &sent);
    assert_eq!(sent["visibility"], "direct");
    assert_eq!(sent["mentions"][0]["acct"], format!("bob@{}", t.b.host()));
    assert_eq!(sent["tags"][0]["name"], "floods");
    assert!(
        sent["content"]
            .as_str()
            .unwrap()
            .contains("class=\"u-url mention\"")
    );

    // bob sees it as a conversation with alice, unread, and a mention.
    let conversations = get_until(&t.b, &t.bob, "/api/v1/conversations", 15, |c| {
        c.as_array().is_some_and(|c| c.len() == 1)
    })
    .await;
    assert_entities("conversation", &conversations);
    let conversation = &conversations[0];
    assert_eq!(conversation["unread"], true);
    assert_eq!(
        conversation["accounts"][0]["acct"],
        format!("alice@{}", t.a.host())
    );
    let received = &conversation["last_status"];
    assert_eq!(received["uri"], sent["uri"]);
    let (_, notifications) = get(&t.b, Some(&t.bob), "/api/v1/notifications").await;
    assert_entities("notification", &notifications);
    assert_eq!(notifications[0]["type"], "mention");
    assert_eq!(notifications[0]["status"]["uri"], sent["uri"]);
    let (_, home) = get(&t.b, Some(&t.bob), "/api/v1/timelines/home").await;
    assert_eq!(home[0]["uri"], sent["uri"]);

    // carol, on the same instance, sees it nowhere.
    let received_id = received["id"].as_str().unwrap();
    for path in [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/notifications",
        "/api/v1/conversations",
    ] {
        let (status, body) = get(&t.b, Some(&t.carol), path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body, json!([]), "carol's {path}");
    }
    for path in [
        format!("/api/v1/statuses/{received_id}"),
        format!("/api/v1/statuses/{received_id}/context"),
    ] {
        let (status, body) = get(&t.b, Some(&t.carol), &path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(body["error"], "Record not found");
        let (status, _) = get(&t.b, None, &path).await;
        assert_eq!(status, 404, "anonymous {path}");
    }
    // Nor may she reply to it: it does not exist for her.
    let (status, _) = post(
        &t.b,
        &t.carol,
        "/api/v1/statuses",
        json!({ "status": "me too", "in_reply_to_id": received_id, "visibility": "direct" }),
    )
    .await;
    assert_eq!(status, 404);

    // bob reads it, then replies; alice gets the reply in her conversation
    // and in the thread of what she sent.
    let conversation_id = conversation["id"].as_str().unwrap();
    let (status, read) = post(
        &t.b,
        &t.bob,
        &format!("/api/v1/conversations/{conversation_id}/read"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read["unread"], false);
    let (status, reply) = post(
        &t.b,
        &t.bob,
        "/api/v1/statuses",
        json!({ "status": "Then we stay home.", "visibility": "direct", "in_reply_to_id": received_id }),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["in_reply_to_id"], received_id);
    let alice_conversations = get_until(&t.a, &t.alice, "/api/v1/conversations", 15, |c| {
        c[0]["last_status"]["uri"] == reply["uri"]
    })
    .await;
    assert_entities("conversation", &alice_conversations);
    assert_eq!(alice_conversations.as_array().unwrap().len(), 1);
    assert_eq!(alice_conversations[0]["unread"], true);
    let last = &alice_conversations[0]["last_status"];
    assert_eq!(last["in_reply_to_id"], sent["id"]);
    assert_eq!(last["in_reply_to_account_id"], sent["account"]["id"]);
    let sent_id = sent["id"].as_str().unwrap();
    let (status, context) = get(
        &t.a,
        Some(&t.alice),
        &format!("/api/v1/statuses/{sent_id}/context"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(context["ancestors"], json!([]));
    assert_eq!(context["descendants"][0]["uri"], reply["uri"]);
    assert_entities("status", &context["descendants"]);
    let (_, reply_context) = get(
        &t.a,
        Some(&t.alice),
        &format!("/api/v1/statuses/{}/context", last["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(reply_context["ancestors"][0]["uri"], sent["uri"]);

    // Hidden conversations leave the list.
    let id = alice_conversations[0]["id"].as_str().unwrap();
    let response =
        t.a.client
            .delete(t.a.url(&format!("/api/v1/conversations/{id}")))
            .bearer_auth(&t.alice)
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), 200);
    let (_, after) = get(&t.a, Some(&t.alice), "/api/v1/conversations").await;
    assert_eq!(after, json!([]));
    t.a.stop().await;
    t.b.stop().await;
}

#[tokio::test]
async fn follow_by_handle_then_public_posts_reach_the_home_timeline() {
    let t = two_instances().await;
    let handle = format!("@alice@{}", t.a.host());
    let (status, found) = get(
        &t.b,
        Some(&t.bob),
        &format!(
            "/api/v2/search?q={}&resolve=true&type=accounts",
            handle.replace('@', "%40").replace(':', "%3A")
        ),
    )
    .await;
    assert_eq!(status, 200);
    let account = &found["accounts"][0];
    assert_entities("account", account);
    assert_eq!(account["acct"], format!("alice@{}", t.a.host()));
    assert_eq!(account["display_name"], "alice display");
    assert_eq!(account["bot"], false);
    assert_eq!(account["group"], false);
    let id = account["id"].as_str().unwrap();
    let (_, looked_up) = get(
        &t.b,
        Some(&t.bob),
        &format!("/api/v1/accounts/lookup?acct=alice@{}", t.a.host()),
    )
    .await;
    assert_eq!(looked_up["id"], id);
    // Without resolve, an unknown remote account is not looked for.
    let (_, none) = get(
        &t.b,
        Some(&t.carol),
        "/api/v2/search?q=%40nobody%40x.invalid",
    )
    .await;
    assert_eq!(none["accounts"], json!([]));

    let (status, relationship) = post(
        &t.b,
        &t.bob,
        &format!("/api/v1/accounts/{id}/follow"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{relationship}");
    assert_eq!(relationship["id"], id);
    wait_until(15, "the follow to be accepted", || async {
        let (_, list) = get(
            &t.b,
            Some(&t.bob),
            &format!("/api/v1/accounts/relationships?id[]={id}"),
        )
        .await;
        list[0]["following"] == true
    })
    .await;
    let (_, notifications) = get(&t.a, Some(&t.alice), "/api/v1/notifications").await;
    assert_entities("notification", &notifications);
    assert_eq!(notifications[0]["type"], "follow");
    assert_eq!(
        notifications[0]["account"]["acct"],
        format!("bob@{}", t.b.host())
    );

    let (status, public) = post(
        &t.a,
        &t.alice,
        "/api/v1/statuses",
        json!({ "status": "Rivers meet here. #confluence", "visibility": "public",
                "spoiler_text": "water", "language": "en" }),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(public["spoiler_text"], "water");
    assert_eq!(public["sensitive"], true);
    assert_eq!(public["language"], "en");
    let home = get_until(&t.b, &t.bob, "/api/v1/timelines/home", 15, |h| {
        h.as_array().is_some_and(|h| !h.is_empty())
    })
    .await;
    assert_entities("status", &home);
    assert_eq!(home[0]["uri"], public["uri"]);
    assert_eq!(home[0]["visibility"], "public");
    assert_eq!(home[0]["spoiler_text"], "water");
    assert_eq!(home[0]["account"]["id"], id);
    // carol does not follow alice: her home is empty, the public timeline is not.
    let (_, carol_home) = get(&t.b, Some(&t.carol), "/api/v1/timelines/home").await;
    assert_eq!(carol_home, json!([]));
    let (_, public_timeline) = get(&t.b, None, "/api/v1/timelines/public").await;
    assert_eq!(public_timeline[0]["uri"], public["uri"]);
    // The instance counts its own posts and the other servers it knows.
    let (_, a_instance) = get(&t.a, None, "/api/v1/instance").await;
    assert_eq!(a_instance["stats"]["status_count"], 1);
    assert_eq!(a_instance["stats"]["domain_count"], 1);
    let (_, b_instance) = get(&t.b, None, "/api/v1/instance").await;
    assert_eq!(b_instance["stats"]["status_count"], 0);
    assert_eq!(b_instance["stats"]["domain_count"], 1);

    // bob's account page of alice lists the post; unfollowing works.
    let (_, statuses) = get(
        &t.b,
        Some(&t.bob),
        &format!("/api/v1/accounts/{id}/statuses"),
    )
    .await;
    assert_eq!(statuses[0]["uri"], public["uri"]);
    let (status, relationship) = post(
        &t.b,
        &t.bob,
        &format!("/api/v1/accounts/{id}/unfollow"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(relationship["following"], false);
    t.a.stop().await;
    t.b.stop().await;
}

#[tokio::test]
async fn local_reactions_idempotency_paging_and_deletion() {
    let server = TestServer::start().await;
    add_user_with_password(&server, "alice").await;
    add_user_with_password(&server, "bob").await;
    let alice = sign_in(&server, "alice", ALL).await;
    let bob = sign_in(&server, "bob", ALL).await;

    // The same Idempotency-Key twice: one status.
    let mut ids = Vec::new();
    for _ in 0..2 {
        let response = server
            .client
            .post(server.url("/api/v1/statuses"))
            .bearer_auth(&alice)
            .header("Idempotency-Key", "key-1")
            .form(&[("status", "Once only"), ("visibility", "public")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let status: Value = response.json().await.unwrap();
        ids.push(status["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids[0], ids[1]);
    assert_eq!(server.db.count("objects"), 1);
    let id = ids[0].clone();

    for path in ["favourite", "reblog"] {
        let (status, body) = post(
            &server,
            &bob,
            &format!("/api/v1/statuses/{id}/{path}"),
            json!({}),
        )
        .await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (_, seen) = get(&server, Some(&bob), &format!("/api/v1/statuses/{id}")).await;
    assert_entities("status", &seen);
    assert_eq!(seen["favourites_count"], 1);
    assert_eq!(seen["reblogs_count"], 1);
    assert_eq!(seen["favourited"], true);
    assert_eq!(seen["reblogged"], true);
    let (_, notifications) = get(&server, Some(&alice), "/api/v1/notifications").await;
    assert_entities("notification", &notifications);
    let kinds: Vec<&str> = notifications
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"favourite") && kinds.contains(&"reblog"),
        "{kinds:?}"
    );
    let (_, only) = get(
        &server,
        Some(&alice),
        "/api/v1/notifications?types[]=favourite",
    )
    .await;
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["type"], "favourite");
    let (_, excluded) = get(
        &server,
        Some(&alice),
        "/api/v1/notifications?exclude_types[]=favourite",
    )
    .await;
    assert!(
        excluded
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["type"] != "favourite")
    );
    let notification = only[0]["id"].as_str().unwrap();
    let (status, _) = post(
        &server,
        &alice,
        &format!("/api/v1/notifications/{notification}/dismiss"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, only) = get(
        &server,
        Some(&alice),
        "/api/v1/notifications?types[]=favourite",
    )
    .await;
    assert_eq!(only, json!([]));

    for path in ["unfavourite", "unreblog"] {
        let (status, body) = post(
            &server,
            &bob,
            &format!("/api/v1/statuses/{id}/{path}"),
            json!({}),
        )
        .await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (_, seen) = get(&server, Some(&bob), &format!("/api/v1/statuses/{id}")).await;
    assert_eq!(seen["favourites_count"], 0);
    assert_eq!(seen["favourited"], false);
    assert_eq!(seen["reblogged"], false);

    // Paging: three more, pages of two, Link header both ways.
    for n in 0..3 {
        let (status, _) = post(
            &server,
            &alice,
            "/api/v1/statuses",
            json!({ "status": format!("post {n}") }),
        )
        .await;
        assert_eq!(status, 200);
    }
    let response = server
        .client
        .get(server.url("/api/v1/timelines/home?limit=2"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    let first: Value = response.json().await.unwrap();
    assert_eq!(first.as_array().unwrap().len(), 2);
    assert_eq!(first[0]["content"], "<p>post 2</p>");
    let oldest = first[1]["id"].as_str().unwrap();
    assert!(
        link.contains(&format!("max_id={oldest}>; rel=\"next\"")),
        "{link}"
    );
    let (_, second) = get(
        &server,
        Some(&alice),
        &format!("/api/v1/timelines/home?limit=2&max_id={oldest}"),
    )
    .await;
    assert_eq!(second[0]["content"], "<p>post 0</p>");
    assert_eq!(second[1]["id"], id);
    let (_, newer) = get(
        &server,
        Some(&alice),
        &format!("/api/v1/timelines/home?limit=1&min_id={id}"),
    )
    .await;
    assert_eq!(
        newer[0]["content"], "<p>post 0</p>",
        "min_id reads up from there"
    );
    let (_, since) = get(
        &server,
        Some(&alice),
        &format!("/api/v1/timelines/home?limit=1&since_id={id}"),
    )
    .await;
    assert_eq!(
        since[0]["content"], "<p>post 2</p>",
        "since_id gives the newest"
    );

    // Only the author deletes; then it is gone.
    let response = server
        .client
        .delete(server.url(&format!("/api/v1/statuses/{id}")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = server
        .client
        .delete(server.url(&format!("/api/v1/statuses/{id}")))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let deleted: Value = response.json().await.unwrap();
    assert_eq!(deleted["text"], "Once only");
    let (status, _) = get(&server, Some(&alice), &format!("/api/v1/statuses/{id}")).await;
    assert_eq!(status, 404);
    server.stop().await;
}

#[tokio::test]
async fn bad_statuses_are_refused_before_anything_is_stored() {
    let server = TestServer::start().await;
    add_user_with_password(&server, "alice").await;
    add_user_with_password(&server, "bob").await;
    let alice = sign_in(&server, "alice", ALL).await;
    let bob = sign_in(&server, "bob", ALL).await;
    let (_, private) = post(
        &server,
        &alice,
        "/api/v1/statuses",
        json!({ "status": "only for my followers", "visibility": "private" }),
    )
    .await;
    let private_id = private["id"].as_str().unwrap().to_owned();
    let objects = server.db.count("objects");
    let too_long = "x".repeat(5001);
    let bad = [
        (json!({ "status": "" }), 422),
        (json!({ "status": too_long }), 422),
        (json!({ "status": "hi", "visibility": "secret" }), 422),
        (json!({ "status": "hi @nobody" }), 422),
        (json!({ "status": "hi @nobody@127.0.0.1:9" }), 422),
        (json!({ "status": "hi", "language": "not a language" }), 422),
        (json!({ "status": "hi", "media_ids": ["1"] }), 422),
        (json!({ "status": "hi", "in_reply_to_id": private_id }), 404),
        (json!({ "status": "hi", "in_reply_to_id": "999999" }), 404),
        (json!({ "status": "hi", "in_reply_to_id": "abc" }), 404),
    ];
    for (body, expected) in bad {
        let (status, answer) = post(&server, &bob, "/api/v1/statuses", body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    assert_eq!(server.db.count("objects"), objects);
    // bob may not see alice's followers-only post, anywhere.
    let (status, _) = get(
        &server,
        Some(&bob),
        &format!("/api/v1/statuses/{private_id}"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &server,
        &bob,
        &format!("/api/v1/statuses/{private_id}/favourite"),
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    let (_, alice_account) =
        get(&server, Some(&alice), "/api/v1/accounts/verify_credentials").await;
    let (_, listed) = get(
        &server,
        Some(&bob),
        &format!(
            "/api/v1/accounts/{}/statuses",
            alice_account["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(listed, json!([]));
    // Unknown ids are 404s, not 500s.
    for path in [
        "/api/v1/accounts/0",
        "/api/v1/accounts/abc",
        "/api/v1/statuses/-1",
    ] {
        let (status, _) = get(&server, Some(&bob), path).await;
        assert_eq!(status, 404, "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn accounts_relationships_blocks_and_the_stubs_apps_ask_for() {
    let server = TestServer::start().await;
    add_user_with_password(&server, "alice").await;
    add_user_with_password(&server, "bob").await;
    estuary::domain::accounts::create_room(
        &server.state.store,
        &server.state.urls,
        estuary::domain::accounts::NewLocalAccount {
            name: "river".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let alice = sign_in(&server, "alice", ALL).await;
    let (_, room) = get(&server, Some(&alice), "/api/v1/accounts/lookup?acct=river").await;
    assert_entities("account", &room);
    assert_eq!(room["group"], true);
    assert_eq!(room["bot"], false);
    let (_, bob) = get(&server, Some(&alice), "/api/v1/accounts/lookup?acct=bob").await;
    assert_entities("account", &bob);
    assert_eq!(bob["avatar"], server.url("/static/avatar.png"));
    assert_eq!(bob["note"], "<p>About bob</p>");
    let bob_id = bob["id"].as_str().unwrap();
    let (status, _) = get(&server, Some(&alice), "/api/v1/accounts/lookup?acct=nobody").await;
    assert_eq!(status, 404);

    let (_, relationship) = post(
        &server,
        &alice,
        &format!("/api/v1/accounts/{bob_id}/follow"),
        json!({}),
    )
    .await;
    assert_eq!(relationship["following"], true);
    let (_, followers) = get(
        &server,
        None,
        &format!("/api/v1/accounts/{bob_id}/followers"),
    )
    .await;
    assert_eq!(followers[0]["username"], "alice");
    assert_entities("account", &followers);
    let (_, shown) = get(&server, None, &format!("/api/v1/accounts/{bob_id}")).await;
    assert_eq!(shown["followers_count"], 1);

    let (status, relationship) = post(
        &server,
        &alice,
        &format!("/api/v1/accounts/{bob_id}/block"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(relationship["blocking"], true);
    assert_eq!(relationship["following"], false);
    let (_, blocks) = get(&server, Some(&alice), "/api/v1/blocks").await;
    assert_eq!(blocks[0]["id"], bob_id);
    let (status, relationship) = post(
        &server,
        &alice,
        &format!("/api/v1/accounts/{bob_id}/unblock"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(relationship["blocking"], false);
    let (_, blocks) = get(&server, Some(&alice), "/api/v1/blocks").await;
    assert_eq!(blocks, json!([]));

    for path in [
        "/api/v1/lists",
        "/api/v1/filters",
        "/api/v2/filters",
        "/api/v1/announcements",
        "/api/v1/custom_emojis",
        "/api/v1/trends",
        "/api/v1/bookmarks",
        "/api/v1/favourites",
        "/api/v1/mutes",
        "/api/v1/follow_requests",
    ] {
        let (status, body) = get(&server, Some(&alice), path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(body, json!([]), "{path}");
    }
    let (status, markers) = get(&server, Some(&alice), "/api/v1/markers").await;
    assert_eq!((status, markers), (200, json!({})));
    let (_, preferences) = get(&server, Some(&alice), "/api/v1/preferences").await;
    assert_eq!(preferences["posting:default:visibility"], "public");
    let (status, _) = get(&server, Some(&alice), "/api/v1/push/subscription").await;
    assert_eq!(status, 404);
    server.stop().await;
}

/// Users report too: the report joins those the operator reads, naming the
/// account and the posts; bad reports are refused and store nothing.
#[tokio::test]
async fn a_user_reports_an_account_and_its_posts_to_the_moderators() {
    let server = TestServer::start().await;
    add_user_with_password(&server, "alice").await;
    add_user_with_password(&server, "bob").await;
    let alice = sign_in(&server, "alice", ALL).await;
    let bob = sign_in(&server, "bob", ALL).await;
    let (_, bob_account) = get(&server, Some(&alice), "/api/v1/accounts/lookup?acct=bob").await;
    let bob_id = bob_account["id"].as_str().unwrap().to_owned();
    let (_, rude) = post(
        &server,
        &bob,
        "/api/v1/statuses",
        json!({ "status": "something rude", "visibility": "public" }),
    )
    .await;
    let rude_id = rude["id"].as_str().unwrap().to_owned();
    let (_, secret) = post(
        &server,
        &bob,
        "/api/v1/statuses",
        json!({ "status": "for my followers", "visibility": "private" }),
    )
    .await;
    let secret_id = secret["id"].as_str().unwrap().to_owned();

    let (status, report) = post(
        &server,
        &alice,
        "/api/v1/reports",
        json!({ "account_id": bob_id, "status_ids": [rude_id], "comment": "spam" }),
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["comment"], "spam");
    assert_eq!(report["status_ids"], json!([rude_id]));
    assert_eq!(report["target_account"]["id"], bob_id);
    assert_eq!(report["action_taken"], false);
    let reports = estuary::domain::moderation::reports(&server.state.store, false)
        .await
        .unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].id.to_string(), report["id"].as_str().unwrap());
    assert_eq!(reports[0].reporter, server.url("/users/alice"));
    assert_eq!(reports[0].comment.as_deref(), Some("spam"));
    assert!(reports[0].targets.contains(&server.url("/users/bob")));
    assert!(
        reports[0]
            .targets
            .contains(&rude["uri"].as_str().unwrap().to_owned())
    );

    // Refused, and nothing more stored: no account, oneself, a post the
    // reporter may not see, a post of another account, an over-long comment.
    for (body, expected) in [
        (json!({}), 422),
        (json!({ "account_id": "999999" }), 404),
        (
            json!({ "account_id": report["target_account"]["id"], "status_ids": [secret_id] }),
            404,
        ),
        (
            json!({ "account_id": bob_id, "comment": "x".repeat(1001) }),
            422,
        ),
    ] {
        let (status, error) = post(&server, &alice, "/api/v1/reports", body.clone()).await;
        assert_eq!(status, expected, "{body}: {error}");
        assert!(error["error"].is_string());
    }
    let (_, alice_account) = get(&server, Some(&bob), "/api/v1/accounts/lookup?acct=alice").await;
    let (status, _) = post(
        &server,
        &bob,
        "/api/v1/reports",
        json!({ "account_id": alice_account["id"], "status_ids": [rude_id] }),
    )
    .await;
    assert_eq!(status, 404, "a post of another account");
    let (_, me) = get(&server, Some(&alice), "/api/v1/accounts/verify_credentials").await;
    let (status, _) = post(
        &server,
        &alice,
        "/api/v1/reports",
        json!({ "account_id": me["id"] }),
    )
    .await;
    assert_eq!(status, 422, "oneself");
    assert_eq!(
        estuary::domain::moderation::reports(&server.state.store, true)
            .await
            .unwrap()
            .len(),
        1
    );
    server.stop().await;
}

#[tokio::test]
async fn the_api_answers_429_past_its_request_limit() {
    let server = TestServer::start_with(common::TestDb::new(), |config| {
        config.api_rate_limit = 3;
    })
    .await;
    add_user_with_password(&server, "alice").await;
    let token = sign_in(&server, "alice", ALL).await;
    let request = |token: Option<&str>| {
        let mut request = server.client.get(server.url("/api/v1/timelines/home"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    for remaining in (0..3).rev() {
        let response = request(Some(&token)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["x-ratelimit-limit"], "3");
        assert_eq!(
            response.headers()["x-ratelimit-remaining"],
            remaining.to_string().as_str()
        );
    }
    let refused = request(Some(&token)).await.unwrap();
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "{retry}");
    assert!(refused.headers().contains_key("x-ratelimit-reset"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "Too many requests");
    // Requests without a token count against the client's address, apart.
    let anonymous = request(None).await.unwrap();
    assert_eq!(anonymous.status(), 401, "not limited, only unauthorized");
    // Pages outside the API are not limited.
    let page = server.get("/@alice", Some("text/html")).await;
    assert_eq!(page.status(), 200);
}
