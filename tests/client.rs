//! The client API: bearer tokens, the outbox POST (ActivityPub section 6)
//! and the inbox GET, between two instances over loopback.

mod common;

use common::{TestServer, signed_get, signer_of, wait_until};
use estuary::domain::tokens::issue_token;
use serde_json::{Value, json};

async fn token(server: &TestServer, name: &str) -> String {
    issue_token(&server.state.store, name).await.unwrap()
}

async fn post_outbox(
    server: &TestServer,
    name: &str,
    token: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = server
        .client
        .post(server.url(&format!("/users/{name}/outbox")))
        .header("content-type", "application/activity+json")
        .body(body.to_string());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn read_inbox(server: &TestServer, name: &str, token: &str) -> Value {
    let response = server
        .client
        .get(server.url(&format!("/users/{name}/inbox?page=1")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Row counts that must not move when a submission is refused.
fn counts(server: &TestServer) -> [i64; 3] {
    ["activities", "objects", "jobs"].map(|t| server.db.count(t))
}

#[tokio::test]
async fn clients_exchange_private_notes_through_their_outboxes() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    b.add_user("carol").await;
    let alice_token = token(&a, "alice").await;
    let bob_token = token(&b, "bob").await;

    // alice's client posts a bare Note addressed to bob by handle.
    let note = json!({
        "type": "Note",
        "content": "<p>Hi Bob, this is private.</p>",
        "to": [format!("bob@{}", b.host())],
    });
    let response = post_outbox(&a, "alice", Some(&alice_token), &note).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&a.url("/activities/")));

    // bob's client finds it in bob's inbox on B.
    let bob_inbox = || read_inbox(&b, "bob", &bob_token);
    wait_until(10, "bob's inbox", || async {
        bob_inbox().await["totalItems"] == 1
    })
    .await;
    let page = bob_inbox().await;
    let create = &page["orderedItems"][0];
    assert_eq!(create["id"], location);
    assert_eq!(create["actor"], a.url("/users/alice"));
    let alice_note = create["object"].clone();
    assert_eq!(alice_note["content"], "<p>Hi Bob, this is private.</p>");
    assert_eq!(alice_note["to"], json!([b.url("/users/bob")]));
    assert_eq!(alice_note["tag"][0]["type"], "Mention");
    assert_eq!(alice_note["tag"][0]["href"], b.url("/users/bob"));
    let note_id = alice_note["id"].as_str().unwrap().to_owned();

    // bob's client replies through bob's outbox.
    let reply = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Create",
        "to": [a.url("/users/alice")],
        "object": {
            "type": "Note",
            "content": "<p>Got it, Alice.</p>",
            "inReplyTo": note_id,
        }
    });
    let response = post_outbox(&b, "bob", Some(&bob_token), &reply).await;
    assert_eq!(response.status(), 201);
    let reply_activity = response.headers()["location"].to_str().unwrap().to_owned();

    // alice's client reads the reply in alice's inbox.
    wait_until(10, "alice's inbox", || async {
        read_inbox(&a, "alice", &alice_token).await["totalItems"] == 1
    })
    .await;
    let page = read_inbox(&a, "alice", &alice_token).await;
    let received = &page["orderedItems"][0];
    assert_eq!(received["id"], reply_activity);
    assert_eq!(received["object"]["inReplyTo"], note_id);
    assert_eq!(
        received["object"]["context"], alice_note["context"],
        "the reply joins the conversation"
    );
    let reply_id = received["object"]["id"].as_str().unwrap().to_owned();

    // Anonymous and third-party reads of either note fail.
    for id in [&note_id, &reply_id] {
        assert_eq!(a.client.get(id).send().await.unwrap().status(), 404, "{id}");
        assert_eq!(
            signed_get(id, &signer_of(&b, "carol").await).await.status(),
            404,
            "{id}"
        );
    }
    // The author's and the addressee's reads succeed.
    assert_eq!(
        a.client
            .get(&note_id)
            .header("accept", "application/activity+json")
            .bearer_auth(&alice_token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        b.client
            .get(&reply_id)
            .header("accept", "application/activity+json")
            .bearer_auth(&bob_token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // The note's replies, as alice may see them, and anonymously.
    let replies: Value = a
        .client
        .get(format!("{note_id}/replies?page=1"))
        .bearer_auth(&alice_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replies["totalItems"], 1);
    assert_eq!(replies["orderedItems"][0]["id"], reply_id);
    let anonymous: Value = a
        .client
        .get(format!("{note_id}/replies"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(anonymous["totalItems"], 0);
    // The conversation as a collection.
    let context = alice_note["context"].as_str().unwrap();
    let conversation: Value = a
        .client
        .get(context)
        .bearer_auth(&alice_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(conversation["totalItems"], 2);
}

#[tokio::test]
async fn follow_and_undo_through_the_outbox() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    let bob_token = token(&b, "bob").await;
    let follow = json!({ "type": "Follow", "object": format!("acct:alice@{}", a.host()) });
    let response = post_outbox(&b, "bob", Some(&bob_token), &follow).await;
    assert_eq!(response.status(), 201);
    let follow_id = response.headers()["location"].to_str().unwrap().to_owned();
    let followers = || async {
        a.get("/users/alice/followers", None)
            .await
            .json::<Value>()
            .await
            .unwrap()["totalItems"]
            .as_i64()
            .unwrap()
    };
    wait_until(10, "the follow", || async { followers().await == 1 }).await;
    wait_until(10, "the Accept", || async {
        b.get("/users/bob/following", None)
            .await
            .json::<Value>()
            .await
            .unwrap()["totalItems"]
            == 1
    })
    .await;

    let undo = json!({ "type": "Undo", "object": follow_id });
    assert_eq!(
        post_outbox(&b, "bob", Some(&bob_token), &undo)
            .await
            .status(),
        201
    );
    wait_until(10, "the unfollow", || async { followers().await == 0 }).await;
}

#[tokio::test]
async fn tokens_are_checked() {
    let a = TestServer::start().await;
    a.add_user("alice").await;
    a.add_user("mallory").await;
    let note = json!({ "type": "Note", "content": "<p>x</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"] });
    let before = counts(&a);

    let missing = post_outbox(&a, "alice", None, &note).await;
    assert_eq!(missing.status(), 401);
    assert!(
        missing.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );

    let malformed = post_outbox(&a, "alice", Some("not-a-token"), &note).await;
    assert_eq!(malformed.status(), 401);
    assert!(
        malformed.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    let expired = token(&a, "alice").await;
    a.db.execute("UPDATE tokens SET expires_at = '2000-01-01 00:00:00'");
    let response = post_outbox(&a, "alice", Some(&expired), &note).await;
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("expired"));

    let revoked = token(&a, "alice").await;
    estuary::domain::oauth::revoke(&a.state.store, &revoked)
        .await
        .unwrap();
    let response = post_outbox(&a, "alice", Some(&revoked), &note).await;
    assert_eq!(response.status(), 401);
    assert!(response.text().await.unwrap().contains("revoked"));

    let foreign = token(&a, "mallory").await;
    assert_eq!(
        post_outbox(&a, "alice", Some(&foreign), &note)
            .await
            .status(),
        403
    );
    let inbox = a
        .client
        .get(a.url("/users/alice/inbox"))
        .bearer_auth(&foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.status(), 403);
    let inbox = a
        .client
        .get(a.url("/users/alice/inbox"))
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.status(), 401);

    assert_eq!(counts(&a), before, "nothing was stored");
    let valid = token(&a, "alice").await;
    assert_eq!(
        post_outbox(&a, "alice", Some(&valid), &note).await.status(),
        201
    );
}

#[tokio::test]
async fn invalid_submissions_are_400_and_store_nothing() {
    let a = TestServer::start().await;
    a.add_user("alice").await;
    let alice = token(&a, "alice").await;
    let public = "https://www.w3.org/ns/activitystreams#Public";
    let before = counts(&a);
    for (body, status, needle) in [
        (
            json!({ "type": "Frobnicate", "object": "x" }),
            400,
            "not an activity",
        ),
        (
            json!({ "type": "Create", "to": [public] }),
            400,
            "no object",
        ),
        (
            json!({ "type": "Note", "content": "<p>x</p>", "to": ["nobody@nowhere.invalid"] }),
            400,
            "cannot resolve",
        ),
        (
            json!({ "type": "Note", "content": "<p>x</p>", "to": [a.url("/users/ghost")] }),
            400,
            "cannot resolve",
        ),
        (
            json!({ "type": "Note", "content": "x".repeat(50_001), "to": [public] }),
            400,
            "longer than",
        ),
        (
            json!({ "type": "Note", "content": "", "to": [public] }),
            400,
            "no content",
        ),
        (
            json!({ "type": "Note", "content": "<p>x</p>" }),
            400,
            "addressed to nobody",
        ),
        (
            json!({ "type": "Create", "actor": a.url("/users/bob"), "object": { "type": "Note", "content": "x" }, "to": [public] }),
            403,
            "token's account",
        ),
        (
            json!({ "type": "Note", "attributedTo": "https://elsewhere.example/users/x", "content": "x", "to": [public] }),
            403,
            "token's account",
        ),
        (
            json!({ "type": "Undo", "object": a.url("/activities/nothing") }),
            400,
            "not an activity of this account",
        ),
        (json!(["not", "an", "object"]), 400, "JSON object"),
    ] {
        let response = post_outbox(&a, "alice", Some(&alice), &body).await;
        assert_eq!(response.status(), status, "{body}");
        let error: Value = response.json().await.unwrap();
        assert!(
            error["error"].as_str().unwrap().contains(needle),
            "{body}: {error}"
        );
    }
    let junk = a
        .client
        .post(a.url("/users/alice/outbox"))
        .bearer_auth(&alice)
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(junk.status(), 400);
    assert_eq!(counts(&a), before);
}

#[tokio::test]
async fn the_actor_advertises_the_oauth_endpoints() {
    let a = TestServer::start().await;
    a.add_user("alice").await;
    let actor: Value = a
        .get("/users/alice", Some("application/activity+json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        actor["endpoints"]["oauthAuthorizationEndpoint"],
        a.url("/oauth/authorize")
    );
    assert_eq!(
        actor["endpoints"]["oauthTokenEndpoint"],
        a.url("/oauth/token")
    );
}

#[tokio::test]
async fn update_delete_announce_and_block_through_the_outbox() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    a.add_user("alice").await;
    b.add_user("bob").await;
    let alice_token = token(&a, "alice").await;
    let bob_token = token(&b, "bob").await;
    let public = "https://www.w3.org/ns/activitystreams#Public";

    // alice writes to bob, then edits and deletes the note.
    let note = json!({ "type": "Note", "content": "<p>first draft</p>", "to": [b.url("/users/bob")], "cc": [public] });
    let response = post_outbox(&a, "alice", Some(&alice_token), &note).await;
    assert_eq!(response.status(), 201);
    wait_until(10, "the note at bob's", || async {
        read_inbox(&b, "bob", &bob_token).await["totalItems"] == 1
    })
    .await;
    let page = read_inbox(&b, "bob", &bob_token).await;
    let note_id = page["orderedItems"][0]["object"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let update = json!({ "type": "Update", "object": { "id": note_id, "type": "Note", "content": "<p>second draft</p>" } });
    assert_eq!(
        post_outbox(&a, "alice", Some(&alice_token), &update)
            .await
            .status(),
        201
    );
    wait_until(10, "the update at B", || async {
        estuary::domain::posts::find_post(&b.state.store, &note_id)
            .await
            .unwrap()
            .is_some_and(|p| p.content.as_deref() == Some("<p>second draft</p>"))
    })
    .await;
    // Only the author may update it.
    let bob_update = json!({ "type": "Update", "object": { "id": note_id, "type": "Note", "content": "<p>hijack</p>" } });
    assert_eq!(
        post_outbox(&b, "bob", Some(&bob_token), &bob_update)
            .await
            .status(),
        400,
        "not a post on B"
    );

    // bob boosts it.
    let announce = json!({ "type": "Announce", "object": note_id });
    assert_eq!(
        post_outbox(&b, "bob", Some(&bob_token), &announce)
            .await
            .status(),
        201
    );
    wait_until(10, "the boost at A", || async {
        a.db.count(&format!(
            "reactions WHERE kind = 'Announce' AND object_ap_id = '{note_id}'"
        )) == 1
    })
    .await;

    let delete = json!({ "type": "Delete", "object": note_id });
    assert_eq!(
        post_outbox(&a, "alice", Some(&alice_token), &delete)
            .await
            .status(),
        201
    );
    wait_until(10, "the tombstone at B", || async {
        estuary::domain::posts::find_post(&b.state.store, &note_id)
            .await
            .unwrap()
            .is_some_and(|p| p.deleted_at.is_some())
    })
    .await;
    let gone = a
        .client
        .get(&note_id)
        .header("accept", "application/activity+json")
        .bearer_auth(&alice_token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 410);

    // bob blocks alice: A learns of it.
    let block = json!({ "type": "Block", "object": format!("alice@{}", a.host()) });
    assert_eq!(
        post_outbox(&b, "bob", Some(&bob_token), &block)
            .await
            .status(),
        201
    );
    wait_until(10, "the block at A", || async { a.db.count("blocks") == 1 }).await;
    assert_eq!(b.db.count("blocks"), 1);
}
